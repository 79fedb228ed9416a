"""Settings sections as A1111 names them: an id (used by ``--freeze-settings-in-sections``), the page label and the
category the Settings tab groups the pages under."""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class SettingsSection:
    """One page of the Settings tab."""

    id: str
    label: str
    category: str


CATEGORIES: tuple[tuple[str, str], ...] = (
    ("saving", "Saving images"), ("sd", "Stable Diffusion"), ("ui", "User Interface"),
    ("postprocessing", "Postprocessing"), ("system", "System"), ("extensions", "Extensions"),
)
"""Category id and heading, in A1111's order."""

SECTIONS: tuple[SettingsSection, ...] = (
    SettingsSection("saving-images", "Saving images/grids", "saving"),
    SettingsSection("saving-paths", "Paths for saving", "saving"),
    SettingsSection("saving-to-dirs", "Saving to a directory", "saving"),
    SettingsSection("upscaling", "Upscaling", "postprocessing"),
    SettingsSection("sd", "Stable Diffusion", "sd"),
    SettingsSection("img2img", "img2img", "sd"),
    SettingsSection("sampler-params", "Sampler parameters", "sd"),
    SettingsSection("generation-defaults", "Generation defaults", "sd"),
    SettingsSection("ui_prompt_editing", "Prompt editing", "ui"),
    SettingsSection("ui", "User interface", "ui"),
    SettingsSection("infotext", "Infotext", "ui"),
    SettingsSection("ui", "Live previews", "ui"),
)


def section_for(label: str) -> SettingsSection:
    """The section with this label; an unknown label (an extension's) gets a slug id and the Extensions category.

    >>> section_for("Stable Diffusion").id
    'sd'
    >>> section_for("My Extension: Options")
    SettingsSection(id='my-extension-options', label='My Extension: Options', category='extensions')
    """
    for section in SECTIONS:
        if section.label == label:
            return section
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    return SettingsSection(slug, label, "extensions")


def is_path_setting(key: str) -> bool:
    """Whether `key` is an output folder or file-name pattern (locked by ``--hide-ui-dir-config`` and the API).

    >>> [is_path_setting(k) for k in ("outdir_samples", "samples_filename_pattern", "temp_dir", "eta_ddim")]
    [True, True, True, False]
    """
    return key.startswith("outdir_") or key.endswith("_filename_pattern") or key == "temp_dir"
