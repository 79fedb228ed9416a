"""Our denoising loop: diffusers schedulers where they match A1111, our own k-diffusion style samplers elsewhere."""
