"""Check a ``.safetensors`` file's header before any library maps it: bounded header length, a JSON object, known
dtypes, shapes of non-negative integers, data offsets inside the file that match each tensor's size and never
overlap. The safetensors library checks much of this too; checking it here first gives one clear message naming the
file and the tensor for every kind of damage, and keeps a hostile header (a huge length, absurd shapes) from reaching
code whose failure modes we do not control."""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import BinaryIO

from .errors import InvalidModelFile

MAX_HEADER_BYTES = 100 << 20
DTYPE_BYTES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "F8_E8M0": 1, "I16": 2, "U16": 2, "F16": 2,
               "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8, "C64": 8}


def read_raw_header(path: Path, *, max_header: int = MAX_HEADER_BYTES) -> dict:
    """The JSON header of a safetensors file as written (``__metadata__`` included), with its length bounded by
    the file and `max_header`; raise InvalidModelFile naming the file."""
    return _read(path, max_header)[0]


def read_header(path: Path) -> dict[str, dict]:
    """The validated tensor entries of `path` (name -> {dtype, shape, data_offsets}); raise InvalidModelFile."""
    header, data_size = _read(path, MAX_HEADER_BYTES)
    return _checked_entries(path, header, data_size)


def header_length(handle: BinaryIO, path: Path, size: int, max_header: int = MAX_HEADER_BYTES) -> int:
    """Read the 8-byte header length at the start of `handle` (a file of `size` bytes) and bound it."""
    if size < 8:
        _fail(path, "the file is too short to be a safetensors file")
    length = int.from_bytes(handle.read(8), "little")
    if length > size - 8:
        _fail(path, f"the header claims {length} bytes, which exceeds the file size ({size} bytes)")
    if length > max_header:
        _fail(path, f"the header claims {length} bytes, larger than allowed ({max_header} bytes)")
    return length


def _read(path: Path, max_header: int) -> tuple[dict, int]:
    """The header object and the size of the data area after it."""
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            length = header_length(handle, path, size, max_header)
            raw = handle.read(length)
    except OSError as exc:
        raise InvalidModelFile(f"invalid model file: {path.name}: cannot read it ({exc.strerror or exc})") from exc
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        _fail(path, "the safetensors header is not valid JSON")
    if not isinstance(header, dict):
        _fail(path, "the header is not a JSON object")
    return header, size - 8 - length


def _checked_entries(path: Path, header: dict, data_size: int) -> dict[str, dict]:
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        _fail(path, "__metadata__ must map names to strings")
    ranges = []
    for name, entry in header.items():
        if not isinstance(entry, dict):
            _fail(path, f"tensor {name!r} has no description")
        dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
        if dtype not in DTYPE_BYTES:
            _fail(path, f"tensor {name!r} has an unknown dtype {dtype!r}")
        if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                                  for d in shape):
            _fail(path, f"tensor {name!r} has an invalid shape {shape!r}")
        if (not isinstance(offsets, list) or len(offsets) != 2
                or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)):
            _fail(path, f"tensor {name!r} has invalid data offsets {offsets!r}")
        begin, end = offsets
        if not 0 <= begin <= end:
            _fail(path, f"tensor {name!r} has invalid data offsets {offsets!r}")
        if end > data_size:
            _fail(path, f"tensor {name!r} ends past the end of the file (truncated download?)")
        if end - begin != math.prod(shape) * DTYPE_BYTES[dtype]:
            _fail(path, f"tensor {name!r}: {dtype} {shape} needs {math.prod(shape) * DTYPE_BYTES[dtype]} bytes, "
                        f"the file gives it {end - begin}")
        if end > begin:
            ranges.append((begin, end, name))
    ranges.sort()
    for (_, end, first), (begin, _, second) in zip(ranges, ranges[1:]):
        if begin < end:
            _fail(path, f"tensors {first!r} and {second!r} overlap")
    return header


def _fail(path: Path, what: str):
    raise InvalidModelFile(f"invalid model file: {path.name}: {what}")
