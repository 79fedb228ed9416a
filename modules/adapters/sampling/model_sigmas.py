"""The model's discrete noise levels (from alphas_cumprod) and the sigma <-> timestep maps between them."""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ModelSigmas:
    """Training sigmas, ascending (index = diffusers timestep), with log-sigma interpolation both ways."""

    sigmas: torch.Tensor  # float32, shape (num_train_timesteps,)

    @classmethod
    def from_alphas_cumprod(cls, alphas_cumprod: torch.Tensor) -> "ModelSigmas":
        """Sigmas of a VP model: sqrt((1 - a) / a) per training timestep."""
        alphas = alphas_cumprod.double()
        return cls((((1 - alphas) / alphas) ** 0.5).float())

    @property
    def log_sigmas(self) -> torch.Tensor:
        """Natural log of the sigma table."""
        return self.sigmas.log()

    @property
    def sigma_min(self) -> float:
        """The smallest training sigma (timestep 0)."""
        return float(self.sigmas[0])

    @property
    def sigma_max(self) -> float:
        """The largest training sigma (last timestep)."""
        return float(self.sigmas[-1])

    def sigma_to_t(self, sigma: torch.Tensor | float) -> torch.Tensor:
        """Continuous timestep of ``sigma``: linear interpolation of the timestep index in log-sigma."""
        log_sigma = torch.as_tensor(sigma, dtype=torch.float32).log().reshape(-1)
        table = self.log_sigmas
        low = torch.searchsorted(table, log_sigma).clamp(1, len(table) - 1) - 1
        frac = ((log_sigma - table[low]) / (table[low + 1] - table[low])).clamp(0, 1)
        return low.float() + frac

    def t_to_sigma(self, t: torch.Tensor | float) -> torch.Tensor:
        """Sigma at a continuous timestep: interpolation of log-sigma between the neighbouring indices."""
        t = torch.as_tensor(t, dtype=torch.float32).reshape(-1).clamp(0, len(self.sigmas) - 1)
        low = t.floor().long().clamp(max=len(self.sigmas) - 2)
        frac = t - low.float()
        table = self.log_sigmas
        return (table[low] * (1 - frac) + table[low + 1] * frac).exp()
