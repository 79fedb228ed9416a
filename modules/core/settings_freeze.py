"""Which settings are read-only because of ``--freeze-settings``, ``--freeze-settings-in-sections``,
``--freeze-specific-settings`` or ``--hide-ui-dir-config``."""
from __future__ import annotations

from dataclasses import dataclass

from .settings_sections import is_path_setting, section_for

RECORDED_KEYS = frozenset({"sd_model_checkpoint", "sd_checkpoint_hash"})
"""Keys the model manager writes after every load (what is loaded, not a user's edit): the store never refuses
them; a frozen ``sd_model_checkpoint`` is enforced where a user picks a checkpoint (model bar, ``/options``)."""
EXPOSED_KEYS = frozenset({"enabled_extensions", "disabled_extensions"})
"""Besides path settings, what a server reachable from the network without a login may not change: which
extensions (code) load at the next start."""
EXPOSED_REASON = ("the server is reachable from the network without a login (add --gradio-auth or --api-auth, or "
                  "listen on 127.0.0.1 only)")


def _names(text: str | None) -> frozenset[str]:
    return frozenset(part.strip() for part in (text or "").split(",") if part.strip())


@dataclass(frozen=True)
class FreezeRules:
    """The launch flags that freeze settings; ``reason`` says why a key is read-only (None: it is not)."""

    everything: bool = False
    sections: frozenset[str] = frozenset()
    keys: frozenset[str] = frozenset()
    paths: bool = False
    exposed: bool = False

    @classmethod
    def from_flags(cls, *, freeze_settings: bool = False, in_sections: str | None = None,
                   specific: str | None = None, hide_ui_dir_config: bool = False,
                   exposed: bool = False) -> FreezeRules:
        """Rules from the flag values; section and key lists are comma-separated, blanks ignored; `exposed`: the
        server listens beyond loopback without any login (path and extension settings become read-only)."""
        return cls(everything=freeze_settings, sections=frozenset(s.lower() for s in _names(in_sections)),
                   keys=_names(specific), paths=hide_ui_dir_config, exposed=exposed)

    def reason(self, key: str, section_label: str | None) -> str | None:
        """Why `key` (shown in the section `section_label`) may not be changed, or None.

        >>> FreezeRules.from_flags(in_sections="sd").reason("CLIP_stop_at_last_layers", "Stable Diffusion")
        "settings in section 'Stable Diffusion' (sd) are frozen with --freeze-settings-in-sections"
        """
        if self.everything:
            return "changing settings is disabled with --freeze-settings"
        if key in self.keys:
            return "this setting is frozen with --freeze-specific-settings"
        if self.exposed and (is_path_setting(key) or key in EXPOSED_KEYS):
            return EXPOSED_REASON
        if self.paths and is_path_setting(key):
            return "output folders and file name patterns are locked with --hide-ui-dir-config"
        if section_label is not None and self.sections:
            section = section_for(section_label)
            if section.id.lower() in self.sections or section.label.lower() in self.sections:
                return (f"settings in section '{section.label}' ({section.id}) are frozen with "
                        "--freeze-settings-in-sections")
        return None

    def __bool__(self) -> bool:
        return self.everything or bool(self.sections) or bool(self.keys) or self.paths or self.exposed
