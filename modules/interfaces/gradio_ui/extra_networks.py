"""The Extra networks panel under the prompt: checkpoint, LoRA and embedding cards that edit the prompt like A1111's."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import gradio as gr

from modules.core.addon_catalog import AddonRecord
from modules.core.context import AppContext
from modules.core.errors import ModelNotFound

from .errors import shown_to_user
from .model_bar import ModelBar, refreshed_bar, select_checkpoint

SEPARATOR = " "  # A1111's extra_networks_add_text_separator
CARDS_PER_PAGE = 60


@dataclass(frozen=True)
class ExtraNetworks:
    """The panel's lists and search box; the page-load handler refreshes the lists."""

    search: gr.Textbox
    checkpoints: gr.Dataset
    loras: gr.Dataset
    embeddings: gr.Dataset
    hints: tuple[gr.Markdown, gr.Markdown, gr.Markdown]

    @property
    def lists(self) -> list:
        """The components ``list_updates`` returns values for, in its order."""
        return [self.checkpoints, self.loras, self.embeddings, *self.hints]


def multiplier_text(value: float) -> str:
    """Print a multiplier as A1111's JavaScript does (``1``, not ``1.0``).

    >>> multiplier_text(1.0), multiplier_text(0.5), multiplier_text(-2.0), multiplier_text(1.25)
    ('1', '0.5', '-2', '1.25')
    """
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def lora_pattern(names: Iterable[str]) -> re.Pattern:
    """Match a ``<lora:NAME…>`` tag for any of ``names``, whatever its multipliers."""
    alternatives = "|".join(re.escape(name) for name in sorted(set(names), key=len, reverse=True))
    return re.compile(rf"<lora:(?:{alternatives})(?::[^>]*)?>")


def word_pattern(word: str) -> re.Pattern:
    """Match ``word`` standing alone between spaces, commas or the ends of the prompt."""
    return re.compile(rf"(?<![^\s,]){re.escape(word)}(?![^\s,])")


def without_matches(prompt: str, pattern: re.Pattern) -> str:
    """Remove every match of ``pattern`` with the separator before it (or after it, at the start).

    >>> without_matches("a cat <lora:x:1>, night", lora_pattern(["x"]))
    'a cat, night'
    >>> without_matches("<lora:x:0.5> a cat", lora_pattern(["x"]))
    'a cat'
    """
    kept, last = [], 0
    for match in pattern.finditer(prompt):
        start, end = match.span()
        if start > last and prompt[start - 1] == SEPARATOR:
            start -= 1
        elif start == 0 and prompt[end:end + 1] == SEPARATOR:
            end += 1
        kept.append(prompt[last:start])
        last = end
    kept.append(prompt[last:])
    return "".join(kept)


def toggled(prompt: str, text: str, pattern: re.Pattern) -> str:
    """Remove ``pattern`` from the prompt if present (as A1111's cards do), else append ``text``.

    >>> toggled("a cat", "<lora:detail:1>", lora_pattern(["detail"]))
    'a cat <lora:detail:1>'
    >>> toggled("a cat <lora:detail:0.4>", "<lora:detail:1>", lora_pattern(["detail"]))
    'a cat'
    >>> toggled("", "shiny", word_pattern("shiny")), toggled("shiny cat", "shiny", word_pattern("shiny"))
    ('shiny', 'cat')
    >>> toggled("shinystar", "shiny", word_pattern("shiny"))
    'shinystar shiny'
    """
    if pattern.search(prompt):
        return without_matches(prompt, pattern)
    separator = "" if not prompt or prompt[-1].isspace() else SEPARATOR
    return f"{prompt}{separator}{text}"


def lora_prompt_name(ctx: AppContext, record: AddonRecord) -> str:
    """A1111's card name: the alias when it resolves to this very file, else the file stem."""
    try:
        return record.alias if ctx.addons.find_lora(record.alias).path == record.path else record.stem
    except ModelNotFound:
        return record.stem


def _record(records: list[AddonRecord], name: str, kind: str) -> AddonRecord:
    found = next((r for r in records if r.name == name), None)
    if found is None:
        raise ModelNotFound(f"{kind} not found: {name}; press 🔄 to rescan")
    return found


def _matches(query: str, *names: str) -> bool:
    return not query or any(query in name.lower() for name in names)


def listed_names(ctx: AppContext, query: str | None) -> tuple[list[str], list[str], list[str]]:
    """Names of the checkpoints, LoRAs and embeddings whose name (or LoRA alias) contains ``query``."""
    wanted = (query or "").strip().lower()
    return ([r.name for r in ctx.catalog.checkpoints() if _matches(wanted, r.name)],
            [r.name for r in ctx.addons.loras() if _matches(wanted, r.name, r.alias)],
            [r.name for r in ctx.addons.embeddings() if _matches(wanted, r.name)])


def _card_label(name: str) -> str:
    return name.rsplit(".", 1)[0]


def _cards(names: list[str]) -> dict:
    return {"samples": [[name] for name in names], "sample_labels": [_card_label(name) for name in names]}


def list_updates(ctx: AppContext, query: str | None) -> tuple:
    """Updates for the three lists filtered by ``query``, then for their "nothing listed" hints."""
    lists = listed_names(ctx, query)
    return (*(gr.Dataset(**_cards(names)) for names in lists), *(gr.Markdown(visible=not names) for names in lists))


def _cards_list(names: list[str], elem_id: str) -> gr.Dataset:
    return gr.Dataset(components=["textbox"], show_label=False, container=False, layout="gallery",
                      samples_per_page=CARDS_PER_PAGE, elem_id=elem_id, **_cards(names))


def _tab(label: str, names: list[str], elem_id: str, folders: Iterable[Path]) -> tuple[gr.Dataset, gr.Markdown]:
    with gr.Tab(label, id=f"{elem_id}_tab"):
        cards = _cards_list(names, elem_id)
        where = ", ".join(f"`{folder}`" for folder in folders)
        hint = gr.Markdown(f"Nothing listed. Files are read from {where}; press 🔄 after adding some.",
                           visible=not names, elem_id=f"{elem_id}_hint")
    return cards, hint


def _layout(ctx: AppContext) -> tuple[ExtraNetworks, gr.Button]:
    checkpoints, loras, embeddings = listed_names(ctx, "")
    with gr.Accordion("Extra networks", open=False, elem_id="extra_networks"):
        with gr.Row(equal_height=True):
            search = gr.Textbox(placeholder="Search by name or alias", show_label=False, container=False,
                                elem_id="extra_networks_search", scale=4)
            refresh = gr.Button("🔄", elem_id="extra_networks_refresh", scale=0, min_width=40)
        with gr.Tabs(elem_id="extra_networks_tabs"):
            checkpoint_list, checkpoint_hint = _tab("Checkpoints", checkpoints, "extra_networks_checkpoints",
                                                    ctx.catalog.folders)
            lora_list, lora_hint = _tab("Lora", loras, "extra_networks_lora", ctx.paths.lora_dirs)
            embedding_list, embedding_hint = _tab("Textual Inversion", embeddings, "extra_networks_ti",
                                                  [ctx.paths.embeddings_dir])
    panel = ExtraNetworks(search=search, checkpoints=checkpoint_list, loras=lora_list, embeddings=embedding_list,
                          hints=(checkpoint_hint, lora_hint, embedding_hint))
    return panel, refresh


def build_extra_networks(ctx: AppContext, bar: ModelBar, prompt: gr.Textbox) -> ExtraNetworks:
    """Lay out the panel and wire search, rescan and the cards (LoRA tag, embedding name, checkpoint choice)."""
    panel, refresh = _layout(ctx)

    def on_lora(sample: list | None, text: str | None) -> str:
        if not sample:
            return text or ""
        record = shown_to_user(lambda: _record(ctx.addons.loras(), sample[0], "LoRA"))
        name = lora_prompt_name(ctx, record)
        multiplier = multiplier_text(ctx.settings.current().get("extra_networks_default_multiplier"))
        return toggled(text or "", f"<lora:{name}:{multiplier}>", lora_pattern({name, record.stem, record.alias}))

    def on_embedding(sample: list | None, text: str | None) -> str:
        if not sample:
            return text or ""
        record = shown_to_user(lambda: _record(ctx.addons.embeddings(), sample[0], "Embedding"))
        return toggled(text or "", record.stem, word_pattern(record.stem))

    def on_refresh(query: str | None):
        ctx.addons.refresh()
        ctx.catalog.refresh()
        return (*list_updates(ctx, query), *refreshed_bar(ctx))

    panel.search.change(lambda query: list_updates(ctx, query), inputs=panel.search, outputs=panel.lists, queue=False,
                        show_progress="hidden")
    refresh.click(on_refresh, inputs=panel.search, outputs=[*panel.lists, bar.checkpoint, bar.vae, bar.notice])
    panel.loras.click(on_lora, inputs=[panel.loras, prompt], outputs=prompt, queue=False, show_progress="hidden")
    panel.embeddings.click(on_embedding, inputs=[panel.embeddings, prompt], outputs=prompt, queue=False,
                           show_progress="hidden")
    panel.checkpoints.click(lambda sample: select_checkpoint(ctx, sample[0] if sample else None), inputs=panel.checkpoints,
                            outputs=[bar.checkpoint, bar.status], concurrency_limit=1, concurrency_id="checkpoint")
    return panel
