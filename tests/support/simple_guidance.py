"""A reference model function for sampler tests: plain classifier-free guidance over the pipeline's own
``encode_prompt`` (the app uses ``adapters.job_conditioning``)."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from modules.adapters.sampling.types import DenoiserOutput


@dataclass(frozen=True)
class Conditioning:
    """Text conditioning for a batch: hidden states, and for SDXL pooled embeds and size/crop time ids."""

    cond: torch.Tensor
    uncond: torch.Tensor
    pooled: torch.Tensor | None = None
    uncond_pooled: torch.Tensor | None = None
    time_ids: torch.Tensor | None = None


@dataclass(frozen=True)
class SimpleGuidance:
    """A ModelFn: the UNet on [uncond, cond] and ``uncond + cfg_scale * (cond - uncond)``."""

    unet: torch.nn.Module
    conditioning: Conditioning
    cfg_scale: float

    def __call__(self, x_in: torch.Tensor, t: torch.Tensor, step: int) -> DenoiserOutput:
        """Evaluate the guided model output (eps or v) for the batch ``x_in`` at timesteps ``t``."""
        c, dtype = self.conditioning, self.unet.dtype
        if self.cfg_scale == 1.0:  # guidance has no effect: one pass, as diffusers does
            out = self._unet(x_in, t, c.cond, c.pooled, c.time_ids)
            return DenoiserOutput(guided=out, uncond=None)
        pooled = None if c.pooled is None else torch.cat([c.uncond_pooled, c.pooled])
        time_ids = None if c.time_ids is None else torch.cat([c.time_ids, c.time_ids])
        both = self._unet(torch.cat([x_in, x_in]).to(dtype), torch.cat([t, t]), torch.cat([c.uncond, c.cond]),
                          pooled, time_ids)
        uncond, cond = both.chunk(2)
        return DenoiserOutput(guided=uncond + self.cfg_scale * (cond - uncond), uncond=uncond)

    def _unet(self, x, t, hidden, pooled, time_ids) -> torch.Tensor:
        added = None if pooled is None else {"text_embeds": pooled, "time_ids": time_ids}
        out = self.unet(x.to(self.unet.dtype), t, encoder_hidden_states=hidden, added_cond_kwargs=added,
                        return_dict=False)[0]
        return out.float()


def encode_conditioning(pipe, prompt: str, negative: str, *, batch: int, size: tuple[int, int]) -> Conditioning:
    """Encode prompt and negative prompt with the pipeline's ``encode_prompt`` (SDXL adds pooled embeds)."""
    device = pipe.unet.device
    encoded = pipe.encode_prompt(prompt=[prompt] * batch, device=device, num_images_per_prompt=1,
                                 do_classifier_free_guidance=True, negative_prompt=[negative] * batch)
    if len(encoded) == 2:
        return Conditioning(cond=encoded[0], uncond=encoded[1])
    cond, uncond, pooled, uncond_pooled = encoded
    width, height = size
    # SDXL micro-conditioning: original size, crop top-left (0, 0), target size.
    time_ids = torch.tensor([[height, width, 0, 0, height, width]], dtype=cond.dtype, device=device)
    return Conditioning(cond=cond, uncond=uncond, pooled=pooled, uncond_pooled=uncond_pooled,
                        time_ids=time_ids.repeat(batch, 1))
