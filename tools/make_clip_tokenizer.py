"""Build the CLIP BPE tokenizer files (HF `vocab.json` + `merges.txt`) without the Hugging Face hub.

The byte-pair vocabulary of OpenAI CLIP (MIT licence) is shipped on PyPI inside the
`open_clip_torch` wheel as `open_clip/bpe_simple_vocab_16e6.txt.gz`.  This script rebuilds the
token table the way CLIP's own SimpleTokenizer does:

  ids 0..255       the 256 byte-level unicode stand-ins (printable bytes first, then the rest)
  ids 256..511     the same 256 symbols with the end-of-word marker `</w>`
  ids 512..49405   one token per merge (the first 48894 merges of the file, pairs concatenated)
  49406, 49407     `<|startoftext|>`, `<|endoftext|>`

and writes `merges.txt` as the `#version: 0.2` header plus those 48894 merges.

Usage:
  python tools/make_clip_tokenizer.py [--source WHEEL_OR_TXT_GZ] [--out configs/tokenizers]

Without --source, `pip download --no-deps open_clip_torch==3.3.0` (a registry download) fetches the wheel.
The output folders are `clip-l` (pad `<|endoftext|>`, as SD1.x and SDXL `tokenizer`) and `openclip`
(pad `!`, as SD2.x and SDXL `tokenizer_2`); both are loadable with `CLIPTokenizer.from_pretrained`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

BPE_MEMBER = "open_clip/bpe_simple_vocab_16e6.txt.gz"
PINNED_WHEEL = "open_clip_torch==3.3.0"
NUM_MERGES = 49152 - 256 - 2  # CLIP keeps this many merges: 48894
BOS, EOS = "<|startoftext|>", "<|endoftext|>"
REPO = Path(__file__).resolve().parents[1]


def byte_symbols() -> list[str]:
    """Return the 256 unicode stand-ins for bytes, in CLIP's table order."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table = {b: chr(b) for b in printable}
    spare = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + spare)
            spare += 1
    return list(table.values())


def read_merges(bpe_text: str) -> list[tuple[str, str]]:
    """Return the merges CLIP uses from the text of bpe_simple_vocab_16e6.txt."""
    lines = bpe_text.split("\n")[1 : NUM_MERGES + 1]
    merges = [tuple(line.split()) for line in lines]
    if len(merges) != NUM_MERGES or any(len(m) != 2 for m in merges):
        raise ValueError("unexpected BPE file layout")
    return merges  # type: ignore[return-value]


def build_vocab(merges: list[tuple[str, str]]) -> dict[str, int]:
    """Return the token -> id table built exactly as CLIP's SimpleTokenizer does."""
    symbols = byte_symbols()
    tokens = symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in merges] + [BOS, EOS]
    vocab = {tok: i for i, tok in enumerate(tokens)}
    if len(vocab) != len(tokens) or len(vocab) != 49408:
        raise ValueError(f"vocabulary has {len(vocab)} distinct entries, expected 49408")
    return vocab


def load_bpe_text(source: Path | None) -> str:
    """Return the BPE merge text from a wheel, a .txt.gz, or a fresh `pip download`."""
    if source is None:
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", PINNED_WHEEL, "-d", tmp]
            subprocess.run(cmd, check=True)
            return load_bpe_text(next(Path(tmp).glob("*.whl")))
    if source.suffix == ".whl":
        with zipfile.ZipFile(source) as whl:
            raw = whl.read(BPE_MEMBER)
        return gzip.decompress(raw).decode("utf-8")
    with gzip.open(source, "rb") as fh:
        return fh.read().decode("utf-8")


def _added(content: str) -> dict:
    return {"content": content, "lstrip": False, "normalized": True, "rstrip": False, "single_word": False}


def tokenizer_json_files(pad_token: str) -> dict[str, dict]:
    """Return tokenizer_config.json and special_tokens_map.json contents for a given pad token."""
    special = {"bos_token": _added(BOS), "eos_token": _added(EOS), "pad_token": pad_token, "unk_token": _added(EOS)}
    config = {
        "add_prefix_space": False,
        "do_lower_case": True,
        "errors": "replace",
        "model_max_length": 77,
        "tokenizer_class": "CLIPTokenizer",
        **{k: ({"__type": "AddedToken", **v} if isinstance(v, dict) else v) for k, v in special.items()},
    }
    return {"tokenizer_config.json": config, "special_tokens_map.json": special}


def write_tokenizer(dest: Path, vocab: dict[str, int], merges: list[tuple[str, str]], pad_token: str) -> None:
    """Write one loadable CLIPTokenizer folder."""
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    merges_text = "#version: 0.2\n" + "\n".join(f"{a} {b}" for a, b in merges) + "\n"
    (dest / "merges.txt").write_text(merges_text, encoding="utf-8")
    for name, content in tokenizer_json_files(pad_token).items():
        (dest / name).write_text(json.dumps(content, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Build configs/tokenizers/{clip-l,openclip} from the open_clip wheel."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help="open_clip_torch wheel or bpe_simple_vocab_16e6.txt.gz")
    parser.add_argument("--out", type=Path, default=REPO / "configs" / "tokenizers")
    args = parser.parse_args(argv)
    merges = read_merges(load_bpe_text(args.source))
    vocab = build_vocab(merges)
    write_tokenizer(args.out / "clip-l", vocab, merges, pad_token=EOS)
    write_tokenizer(args.out / "openclip", vocab, merges, pad_token="!")
    print(f"wrote {len(vocab)} tokens, {len(merges)} merges to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
