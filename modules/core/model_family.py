"""Model families and their fixed conventions, known from state-dict keys alone."""
from __future__ import annotations

import enum


class ModelFamily(str, enum.Enum):
    """The architectures we load; the value names the shipped config folder under ``configs/``."""

    SD1 = "sd15"
    SD1_INPAINT = "sd15-inpaint"
    SD2 = "sd2"
    SD2_V = "sd2-v"
    SD2_INPAINT = "sd2-inpaint"
    SDXL = "sdxl"
    SDXL_INPAINT = "sdxl-inpaint"
    SDXL_REFINER = "sdxl-refiner"

    @property
    def is_sdxl(self) -> bool:
        """Whether the family uses the SDXL pipeline (two text encoders, size conditioning)."""
        return self in (ModelFamily.SDXL, ModelFamily.SDXL_INPAINT, ModelFamily.SDXL_REFINER)

    @property
    def is_inpainting(self) -> bool:
        """Whether the UNet takes the 9-channel masked-image input."""
        return self in (ModelFamily.SD1_INPAINT, ModelFamily.SD2_INPAINT, ModelFamily.SDXL_INPAINT)

    @property
    def native_resolution(self) -> int:
        """The side length the family was trained at."""
        if self.is_sdxl:
            return 1024
        if self in (ModelFamily.SD2_V,):
            return 768
        return 512
