"""The Settings tab, built from the one setting schema (the one ``/options`` serves): a page per section with a
page list and "Show all pages", a search box, "Apply settings" (changed keys only, all or nothing) and "Reload UI"."""
from __future__ import annotations

import re
from dataclasses import dataclass

import gradio as gr

from modules.core.context import AppContext
from modules.core.errors import InvalidRequest, WebUIError
from modules.core.settings import SettingSpec, validate_value
from modules.core.settings_sections import CATEGORIES, section_for

from .model_bar import vae_choices
from .quick_settings import quick_keys
from .setting_components import setting_component, setting_value
from .settings_search import ALL_PAGES, shown_keys, shown_pages

HIDDEN = {"sd_model_checkpoint", "sd_checkpoint_hash", "disabled_extensions", "enabled_extensions"}  # set elsewhere


@dataclass(frozen=True)
class SettingsTab:
    """The setting components and the values this page last showed (what "changed" is measured against)."""

    components: dict[str, object]
    shown: gr.State

    def load_outputs(self) -> list:
        """Components that the page-load handler refreshes, in ``load_values`` order."""
        return [*self.components.values(), self.shown]

    def load_values(self, ctx: AppContext) -> list:
        """Current settings for every component, plus the snapshot of what is shown."""
        current = {key: ctx.settings.current().get(key) for key in self.components}
        return [*current.values(), current]


def tab_specs(ctx: AppContext) -> list[SettingSpec]:
    """The settings the tab shows: all but hidden ones and those the top bar shows (quick settings)."""
    current = ctx.settings.current()
    skip = HIDDEN | set(quick_keys(current))
    return [s for s in current.specs.values() if not s.hidden and s.key not in skip]


def page_labels(specs: list[SettingSpec]) -> list[str]:
    """Section labels in A1111's category order, then in schema order."""
    labels = list(dict.fromkeys(s.section for s in specs))
    order = [c for c, _ in CATEGORIES]
    return sorted(labels, key=lambda label: order.index(section_for(label).category))


def change_problems(ctx: AppContext, specs: dict[str, SettingSpec], changes: dict) -> list[str]:
    """One line per changed key that cannot be saved (invalid value or frozen), naming its label and key."""
    problems = []
    for key, value in changes.items():
        spec = specs[key]
        try:
            validate_value(spec, value)
            reason = ctx.settings.frozen_reason(key)
            if reason:
                raise InvalidRequest(f"{key}: {reason}")
        except InvalidRequest as exc:
            problems.append(f"- **{spec.label}** (`{key}`): {str(exc).removeprefix(key + ': ')}")
    return problems


def _layout(ctx: AppContext, specs: list[SettingSpec]) -> dict:
    current, pages, c = ctx.settings.current(), page_labels(specs), {"components": {}, "groups": {}}
    with gr.Row():
        c["search"] = gr.Textbox(placeholder="Search settings by name or key", show_label=False, scale=4,
                                 elem_id="settings_search")
        c["apply"] = gr.Button("Apply settings", variant="primary", elem_id="settings_submit", scale=1)
        c["reload"] = gr.Button("Reload UI", elem_id="settings_reload_ui", scale=1)
    c["result"] = gr.Markdown("", elem_id="settings_result")
    with gr.Row():
        with gr.Column(scale=1, min_width=180):
            c["page"] = gr.Radio([*pages, ALL_PAGES], value=ALL_PAGES, label="Pages", elem_id="settings_pages")
        with gr.Column(scale=4):
            for label in pages:
                slug = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
                with gr.Group(elem_id=f"settings_page_{slug}") as c["groups"][label]:
                    gr.Markdown(f"### {label}")
                    for spec in (s for s in specs if s.section == label):
                        c["components"][spec.key] = setting_component(
                            spec, current.get(spec.key), elem_id=f"setting_{spec.key}",
                            locked_reason=ctx.settings.frozen_reason(spec.key), keys=list(current.specs),
                            listed=vae_choices(ctx)[0] if spec.key == "sd_vae" else ())
    return c


def apply_changes(ctx: AppContext, specs: dict[str, SettingSpec], submitted: dict,
                  seen: dict) -> tuple[str, dict | None]:
    """Save the submitted values that differ from what the page showed (`seen`), all or nothing; return the result
    text and the values now shown (None when nothing was saved)."""
    # only what the user edited here: settings changed elsewhere since the page loaded are left alone
    changes = {k: setting_value(specs[k], v) for k, v in submitted.items()}
    changes = {k: v for k, v in changes.items() if seen.get(k) != v}
    problems = change_problems(ctx, specs, changes)
    if problems:
        return "Nothing was changed. Fix these settings:\n\n" + "\n".join(problems), None
    try:
        now = ctx.settings.update(changes)
    except WebUIError as exc:
        return f"Nothing was changed: {exc}", None
    names = ", ".join(f"`{k}`" for k in changes)
    message = f"{len(changes)} settings changed: {names}." if changes else "No settings changed."
    return message, {key: now.get(key) for key in submitted}


def build_settings_tab(ctx: AppContext) -> SettingsTab:
    """Lay out the tab and wire page choice, search, Apply and Reload UI."""
    specs = tab_specs(ctx)
    c = _layout(ctx, specs)
    components, groups = c["components"], c["groups"]
    shown = gr.State({key: ctx.settings.current().get(key) for key in components})
    keys = {id(comp): key for key, comp in components.items()}

    def apply_settings(values: dict):
        seen = values.pop(shown)
        message, now = apply_changes(ctx, {s.key: s for s in specs},
                                     {keys[id(comp)]: v for comp, v in values.items()}, seen)
        return message, gr.skip() if now is None else now

    def filter_settings(page: str | None, query: str | None) -> list:
        wanted = shown_keys(specs, page, query or "")
        pages = shown_pages(specs, wanted)
        return [*(gr.update(visible=label in pages) for label in groups),
                *(gr.update(visible=key in wanted) for key in components)]

    def reload_settings() -> None:
        ctx.settings.reload()

    # raw values (preprocess=False): out-of-range numbers reach change_problems, which names the setting
    c["apply"].click(apply_settings, inputs={*components.values(), shown}, outputs=[c["result"], shown],
                     preprocess=False)
    gr.on([c["search"].change, c["page"].change], filter_settings, inputs=[c["page"], c["search"]],
          outputs=[*groups.values(), *components.values()], queue=False, trigger_mode="always_last",
          show_progress="hidden")
    # "Reload UI": read config.json again, then reload the page (its load handler shows the values read)
    c["reload"].click(reload_settings, queue=False).then(None, js="() => { window.location.reload(); }")
    return SettingsTab(components=components, shown=shown)
