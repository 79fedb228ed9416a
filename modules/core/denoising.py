"""How many sampling steps an img2img pass runs for a denoising strength (A1111's rules)."""
from __future__ import annotations

from dataclasses import dataclass

from modules.core.errors import InvalidRequest

_MAX_STRENGTH = 0.999  # A1111 caps the strength so even 1.0 keeps one schedule step of the init image


@dataclass(frozen=True)
class Img2ImgSteps:
    """`run` steps are sampled: the last `run` steps of a `schedule`-step schedule (starting at `start`)."""

    run: int
    schedule: int

    @property
    def start(self) -> int:
        """Index in the schedule of the first step that runs."""
        return self.schedule - self.run

    @property
    def diffusers_strength(self) -> float:
        """The `strength` that makes a diffusers img2img pipeline given `schedule` steps run exactly `run`.

        diffusers runs ``min(int(schedule * strength), schedule)`` steps; a tiny bias keeps float rounding
        from dropping one.
        """
        return 0.0 if self.schedule == 0 else min(1.0, (self.run + 1e-6) / self.schedule)


def img2img_steps(steps: int, strength: float, fix_steps: bool = False) -> Img2ImgSteps:
    """Return the steps of an img2img pass: ``t_enc = int(min(strength, 0.999) * steps)``, ``t_enc + 1`` run.

    With `fix_steps` (setting `img2img_fix_steps`) the schedule is stretched to ``int(steps / strength)`` so
    exactly `steps` run; strength 0 then builds no schedule at all.

    >>> img2img_steps(20, 0.75)
    Img2ImgSteps(run=16, schedule=20)
    >>> img2img_steps(20, 1.0), img2img_steps(20, 0.0)
    (Img2ImgSteps(run=20, schedule=20), Img2ImgSteps(run=1, schedule=20))
    >>> img2img_steps(20, 0.5, fix_steps=True), img2img_steps(20, 0.0, fix_steps=True)
    (Img2ImgSteps(run=20, schedule=40), Img2ImgSteps(run=0, schedule=0))
    >>> img2img_steps(20, 0.75).start, round(img2img_steps(20, 0.75).diffusers_strength, 3)
    (4, 0.8)
    """
    if steps < 1:
        raise InvalidRequest(f"steps must be at least 1, got {steps}")
    if not 0 <= strength <= 1:
        raise InvalidRequest(f"denoising_strength must be between 0 and 1, got {strength}")
    capped = min(strength, _MAX_STRENGTH)
    if fix_steps:
        if strength == 0:
            return Img2ImgSteps(run=0, schedule=0)
        return Img2ImgSteps(run=steps, schedule=int(steps / capped))
    return Img2ImgSteps(run=int(capped * steps) + 1, schedule=steps)
