"""Tests for modules.core.hashes."""
from __future__ import annotations

import doctest
import hashlib
import json
import os
import struct
import threading
from pathlib import Path

import pytest

from modules.core import hashes
from modules.core.errors import UnsupportedModel
from modules.core.hashes import (
    HashCache,
    addnet_hash,
    old_model_hash,
    safetensors_shapes,
    sha256_file,
    short_hash,
)
from modules.core.safetensors_header import read_raw_header as read_safetensors_header


def _safetensors(path: Path, header: dict, data: bytes) -> Path:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


def test_doctests():
    assert doctest.testmod(hashes).failed == 0


def test_sha256_file_and_short_hash(tmp_path):
    f = tmp_path / "a.bin"
    f.write_bytes(b"x" * 3000)
    expected = hashlib.sha256(b"x" * 3000).hexdigest()
    assert sha256_file(f, chunk=7) == expected
    assert sha256_file(f) == expected
    assert short_hash(expected) == expected[:10]


def test_old_model_hash(tmp_path):
    data = os.urandom(0x100000 + 0x10000 + 100)
    f = tmp_path / "m.ckpt"
    f.write_bytes(data)
    assert old_model_hash(f) == hashlib.sha256(data[0x100000:0x110000]).hexdigest()[:8]
    small = tmp_path / "small.ckpt"
    small.write_bytes(b"abc")
    assert old_model_hash(small) == hashlib.sha256(b"").hexdigest()[:8]
    assert old_model_hash(tmp_path / "missing.ckpt") == "NOFILE"


def test_read_header_and_shapes(tmp_path):
    header = {"__metadata__": {"ss_output_name": "x"},
              "a.weight": {"dtype": "F32", "shape": [4, 2], "data_offsets": [0, 32]},
              "b": {"dtype": "F32", "shape": [], "data_offsets": [32, 36]}}
    f = _safetensors(tmp_path / "m.safetensors", header, b"\0" * 36)
    read = read_safetensors_header(f)
    assert read == header
    assert safetensors_shapes(read) == {"a.weight": (4, 2), "b": ()}


def test_shapes_reject_malformed_entry():
    with pytest.raises(UnsupportedModel, match="'t'"):
        safetensors_shapes({"t": {"shape": ["x"]}})
    with pytest.raises(UnsupportedModel):
        safetensors_shapes({"t": [1, 2]})


def test_addnet_hash(tmp_path):
    data = os.urandom(5000)
    f = _safetensors(tmp_path / "lora.safetensors", {"w": {"dtype": "U8", "shape": [5000],
                                                            "data_offsets": [0, 5000]}}, data)
    assert addnet_hash(f) == hashlib.sha256(data).hexdigest()
    assert len(addnet_hash(f)) == 64


@pytest.mark.parametrize("content, message", [
    (b"1234567", "too short"),
    (struct.pack("<Q", 1000) + b"{}", "exceeds the file size"),
    (struct.pack("<Q", 3) + b"{x}", "not valid JSON"),
    (struct.pack("<Q", 2) + b"\xff\xfe", "not valid JSON"),
    (struct.pack("<Q", 2) + b"[]", "not a JSON object"),
])
def test_header_bounds(tmp_path, content, message):
    f = tmp_path / "bad.safetensors"
    f.write_bytes(content)
    with pytest.raises(UnsupportedModel, match=f"bad.safetensors: .*{message}"):
        read_safetensors_header(f)


def test_header_max_size(tmp_path):
    f = _safetensors(tmp_path / "big.safetensors", {"k": "v" * 200}, b"")
    with pytest.raises(UnsupportedModel, match="larger than allowed"):
        read_safetensors_header(f, max_header=100)


def test_header_missing_file(tmp_path):
    with pytest.raises(UnsupportedModel, match="nope.safetensors"):
        read_safetensors_header(tmp_path / "nope.safetensors")


def test_addnet_hash_rejects_non_safetensors(tmp_path):
    f = tmp_path / "x.safetensors"
    f.write_bytes(b"\xff" * 64)
    with pytest.raises(UnsupportedModel):
        addnet_hash(f)


def test_hash_cache_roundtrip(tmp_path):
    f = tmp_path / "model.safetensors"
    f.write_bytes(b"hello")
    cache_file = tmp_path / "cache" / "hashes.json"
    cache = HashCache(cache_file)
    assert cache.get(f) is None
    value = cache.sha256(f)
    assert value == hashlib.sha256(b"hello").hexdigest()
    assert cache_file.exists()
    assert HashCache(cache_file).get(f) == value
    assert [p.name for p in cache_file.parent.iterdir()] == ["hashes.json"]


def test_hash_cache_invalidated_by_change(tmp_path):
    f = tmp_path / "m.bin"
    f.write_bytes(b"one")
    cache = HashCache(tmp_path / "c.json")
    cache.sha256(f)
    f.write_bytes(b"two!")
    assert cache.get(f) is None
    assert cache.sha256(f) == hashlib.sha256(b"two!").hexdigest()
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    assert cache.get(f) is None


def test_hash_cache_put_uses_resolved_path(tmp_path, monkeypatch):
    f = tmp_path / "m.bin"
    f.write_bytes(b"abc")
    cache = HashCache(tmp_path / "c.json")
    cache.put(f, "a" * 64)
    monkeypatch.chdir(tmp_path)
    assert cache.get(Path("m.bin")) == "a" * 64
    cache.put(tmp_path / "missing.bin", "b" * 64)
    assert cache.get(tmp_path / "missing.bin") is None


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"entries": 5}', ""])
def test_hash_cache_corrupt_file_ignored_and_rewritten(tmp_path, content):
    cache_file = tmp_path / "c.json"
    cache_file.write_text(content)
    f = tmp_path / "m.bin"
    f.write_bytes(b"abc")
    cache = HashCache(cache_file)
    assert cache.get(f) is None
    cache.sha256(f)
    assert json.loads(cache_file.read_text())["entries"]


def test_hash_cache_threads(tmp_path):
    files = []
    for i in range(8):
        f = tmp_path / f"f{i}.bin"
        f.write_bytes(bytes([i]) * 100)
        files.append(f)
    cache = HashCache(tmp_path / "c.json")
    threads = [threading.Thread(target=cache.sha256, args=(f,)) for f in files for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    fresh = HashCache(tmp_path / "c.json")
    assert all(fresh.get(f) == hashlib.sha256(f.read_bytes()).hexdigest() for f in files)
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".tmp") == []
