"""A1111's extra-network tags in prompts (`<lora:name:0.8>`): extract them and turn LoRA tags into selections."""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

TAG_PATTERN = re.compile(r"<(\w+):([^>]+)>")
"""A1111's `re_extra_net`: a word-character kind, `:`, then everything up to the next `>`."""

LORA_KINDS = ("lora", "lyco")


@dataclass(frozen=True)
class ExtraNetworkTag:
    """One `<kind:arg1:arg2…>` tag: positional args in order, `key=value` args by key."""

    kind: str
    positional: tuple[str, ...]
    named: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "positional", tuple(self.positional))
        object.__setattr__(self, "named", MappingProxyType(dict(self.named)))

    def __str__(self) -> str:
        """Return the tag as prompt text (positional args first, then the named ones).

        >>> str(ExtraNetworkTag("lora", ("detail", "0.5"), {"unet": "1"}))
        '<lora:detail:0.5:unet=1>'
        """
        args = [*self.positional, *(f"{key}={value}" for key, value in self.named.items())]
        return f"<{self.kind}:{':'.join(args)}>"


def parse_args(kind: str, args: str) -> ExtraNetworkTag:
    """Split the text after `<kind:` on `:`; an item with exactly one `=` is named (as A1111).

    >>> parse_args("lora", "name:0.5:unet=0.2")
    ExtraNetworkTag(kind='lora', positional=('name', '0.5'), named=mappingproxy({'unet': '0.2'}))
    >>> parse_args("lora", "a=b=c").positional
    ('a=b=c',)
    """
    positional: list[str] = []
    named: dict[str, str] = {}
    for item in args.split(":"):
        parts = item.split("=", 2)
        if len(parts) == 2:
            named[parts[0]] = parts[1]
        else:
            positional.append(item)
    return ExtraNetworkTag(kind, tuple(positional), named)


def extract_tags(prompt: str) -> tuple[str, list[ExtraNetworkTag]]:
    """Return the prompt with each tag replaced by nothing (as A1111), and the tags in prompt order.

    >>> text, tags = extract_tags("a cat, <lora:detail:0.6>, <hypernet:old>")
    >>> text
    'a cat, , '
    >>> [str(tag) for tag in tags]
    ['<lora:detail:0.6>', '<hypernet:old>']
    >>> extract_tags("<lora:> and <not a tag> stay")
    ('<lora:> and <not a tag> stay', [])
    """
    tags: list[ExtraNetworkTag] = []

    def found(match: re.Match[str]) -> str:
        tags.append(parse_args(match.group(1), match.group(2)))
        return ""

    return TAG_PATTERN.sub(found, prompt), tags


@dataclass(frozen=True)
class LoraSelection:
    """A LoRA asked for by a prompt: its name (file stem or alias) and text-encoder/UNet multipliers."""

    name: str
    te_weight: float
    unet_weight: float


class _BadNumber(ValueError):
    """An argument that should be a number but is not."""


def _number(text: str) -> float:
    """Parse a finite multiplier as Python's float() does, else raise _BadNumber."""
    try:
        value = float(text)
    except ValueError:
        raise _BadNumber(text) from None
    if not math.isfinite(value):
        raise _BadNumber(text)
    return value


def lora_selection(tag: ExtraNetworkTag, default_multiplier: float = 1.0) -> LoraSelection:
    """Read `<lora:name:te:unet:dyn>` (named `te=`, `unet=`, `dyn=`; dyn is ignored) into a LoraSelection.

    >>> lora_selection(parse_args("lora", "detail"))
    LoraSelection(name='detail', te_weight=1.0, unet_weight=1.0)
    >>> lora_selection(parse_args("lora", "detail:0.5"))
    LoraSelection(name='detail', te_weight=0.5, unet_weight=0.5)
    >>> lora_selection(parse_args("lora", "detail:0.5:0.2:8"))
    LoraSelection(name='detail', te_weight=0.5, unet_weight=0.2)
    >>> lora_selection(parse_args("lora", "detail:0.8:te=0.3"))
    LoraSelection(name='detail', te_weight=0.3, unet_weight=0.3)
    """
    if not tag.positional or not tag.positional[0]:
        raise ValueError("no LoRA name")
    te = _number(tag.positional[1]) if len(tag.positional) > 1 else default_multiplier
    te = _number(tag.named["te"]) if "te" in tag.named else te
    unet = _number(tag.positional[2]) if len(tag.positional) > 2 else te
    unet = _number(tag.named["unet"]) if "unet" in tag.named else unet
    return LoraSelection(tag.positional[0], te, unet)


def lora_selections(tags: list[ExtraNetworkTag], *,
                    default_multiplier: float = 1.0) -> tuple[list[LoraSelection], list[str]]:
    """Return the LoRAs of `lora`/`lyco` tags (a name given twice: the last tag wins) and why others were skipped.

    >>> _, tags = extract_tags("<lora:a:0.5> <lyco:b> <lora:a:0.7:unet=0> <hypernet:h:1> <lora:c:x>")
    >>> selected, warnings = lora_selections(tags)
    >>> [(s.name, s.te_weight, s.unet_weight) for s in selected]
    [('b', 1.0, 1.0), ('a', 0.7, 0.0)]
    >>> warnings
    ['Hypernetworks are not supported: <hypernet:h:1> skipped', "<lora:c:x> skipped: 'x' is not a number"]
    """
    chosen: dict[str, LoraSelection] = {}
    warnings: list[str] = []
    for tag in tags:
        if tag.kind == "hypernet":
            warnings.append(f"Hypernetworks are not supported: {tag} skipped")
            continue
        if tag.kind not in LORA_KINDS:
            warnings.append(f"Unknown extra network type {tag.kind!r}: {tag} skipped")
            continue
        try:
            selection = lora_selection(tag, default_multiplier)
        except _BadNumber as exc:
            warnings.append(f"{tag} skipped: {exc.args[0]!r} is not a number")
            continue
        except ValueError as exc:
            warnings.append(f"{tag} skipped: {exc}")
            continue
        chosen.pop(selection.name, None)
        chosen[selection.name] = selection
    return list(chosen.values()), warnings
