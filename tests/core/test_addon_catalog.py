"""Tests for modules.core.addon_catalog: listing, names, aliases, metadata and hashes of VAEs, LoRAs, embeddings."""
from __future__ import annotations

import doctest
import hashlib
import json
import os
import struct
import threading
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from modules.core import addon_catalog, hashes
from modules.core.addon_catalog import AddonCatalog, AddonKind, AddonRecord
from modules.core.errors import ModelNotFound
from modules.core.hashes import HashCache
from modules.core.paths import Paths


def _safetensors(path: Path, metadata: dict | None = None, data: bytes = b"\x01\x02\x03\x04" * 4) -> Path:
    """Write a small valid safetensors file with the stdlib."""
    header: dict = {"w": {"dtype": "F32", "shape": [len(data) // 4], "data_offsets": [0, len(data)]}}
    if metadata is not None:
        header["__metadata__"] = metadata
    raw = json.dumps(header).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


def _blob(path: Path, data: bytes = b"pickle-ish bytes") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _independent_addnet(path: Path) -> str:
    """The addnet hash as sd-scripts / A1111 compute it: sha256 of everything after the header."""
    blob = path.read_bytes()
    length = int.from_bytes(blob[:8], "little")
    return hashlib.sha256(blob[8 + length:]).hexdigest()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def paths(tmp_path) -> Paths:
    return Paths.from_root(tmp_path / "data", install_dir=tmp_path / "install", vae_dir=tmp_path / "extra-vae",
                           lora_dir=tmp_path / "extra-lora")


@pytest.fixture
def catalog(paths) -> AddonCatalog:
    return AddonCatalog(paths, HashCache(paths.cache_dir / "hashes.json"))


def _names(records: list[AddonRecord]) -> list[str]:
    return [r.name for r in records]


def test_doctests():
    assert doctest.testmod(addon_catalog).failed == 0


def test_vaes_from_vae_folders_and_vae_files_in_checkpoint_folders(paths, catalog, tmp_path):
    vae, ckpt = paths.vae_dirs[0], paths.ckpt_dirs[0]
    for name in ("b.safetensors", "A.pt", "sub/c.ckpt", ".hidden.pt", ".dot/x.pt", "notes.txt", "d.bin"):
        _blob(vae / name)
    _blob(tmp_path / "extra-vae" / "e.safetensors")
    for name in ("model.safetensors", "model.vae.pt", "deep/m2.VAE.safetensors", "m3.vae.bin"):
        _blob(ckpt / name)
    assert _names(catalog.vaes()) == []  # scanned at construction, before the files existed
    catalog.refresh(AddonKind.VAE)
    vaes = catalog.vaes()
    assert _names(vaes) == ["A.pt", "b.safetensors", "deep/m2.VAE.safetensors", "e.safetensors", "model.vae.pt",
                            "sub/c.ckpt"]
    first = vaes[0]
    assert first.kind is AddonKind.VAE and first.path == vae / "A.pt" and first.filename == "A.pt"
    assert first.stem == "A" and first.size == len(b"pickle-ish bytes")
    assert first.mtime_ns == os.stat(vae / "A.pt").st_mtime_ns
    assert catalog.loras() == [] and catalog.embeddings() == []


def test_find_vae_by_relative_name_file_name_or_stem(paths, catalog):
    _blob(paths.vae_dirs[0] / "sub" / "kl-f8.safetensors")
    _blob(paths.ckpt_dirs[0] / "model.vae.pt")
    catalog.refresh()
    assert catalog.find_vae("sub/kl-f8.safetensors").name == "sub/kl-f8.safetensors"
    assert catalog.find_vae("kl-f8.safetensors").name == "sub/kl-f8.safetensors"
    assert catalog.find_vae("kl-f8").name == "sub/kl-f8.safetensors"
    assert catalog.find_vae("model.vae.pt").path == paths.ckpt_dirs[0] / "model.vae.pt"
    with pytest.raises(ModelNotFound, match="VAE not found: nothing"):
        catalog.find_vae("nothing")


def test_loras_from_every_lora_folder_missing_ones_skipped(paths, catalog, tmp_path):
    lora = paths.lora_dirs[0]
    _safetensors(lora / "style" / "Ink.safetensors")
    _blob(lora / "old.pt")
    _blob(lora / "older.ckpt")
    _blob(lora / "readme.md")
    _safetensors(tmp_path / "extra-lora" / "extra.safetensors")
    assert not paths.lora_dirs[1].exists()  # models/LyCORIS
    catalog.refresh(AddonKind.LORA)
    assert _names(catalog.loras()) == ["extra.safetensors", "old.pt", "older.ckpt", "style/Ink.safetensors"]
    _safetensors(paths.lora_dirs[1] / "lyco.safetensors")
    catalog.refresh()
    assert "lyco.safetensors" in _names(catalog.loras())


def test_lora_alias_from_ss_output_name(paths, catalog):
    lora = paths.lora_dirs[0]
    _safetensors(lora / "file_v2.safetensors", {"ss_output_name": "pretty", "ss_network_dim": "8"})
    _safetensors(lora / "plain.safetensors", {"ss_network_dim": "4"})
    _blob(lora / "legacy.pt")
    catalog.refresh()
    aliases = {r.stem: r.alias for r in catalog.loras()}
    assert aliases == {"file_v2": "pretty", "plain": "plain", "legacy": "legacy"}
    assert catalog.find_lora("pretty").stem == "file_v2"
    assert catalog.find_lora("file_v2").stem == "file_v2"
    assert catalog.find_lora("legacy").path == lora / "legacy.pt"
    with pytest.raises(ModelNotFound, match="LoRA not found: missing"):
        catalog.find_lora("missing")


def test_ambiguous_alias_is_refused_and_the_file_name_wins(paths, catalog):
    lora = paths.lora_dirs[0]
    _safetensors(lora / "a.safetensors", {"ss_output_name": "shared"})
    _safetensors(lora / "b.safetensors", {"ss_output_name": "shared"})
    _safetensors(lora / "x.safetensors", {"ss_output_name": "y"})
    _safetensors(lora / "y.safetensors", {"ss_output_name": "z"})
    catalog.refresh()
    with pytest.raises(ModelNotFound, match="ambiguous"):
        catalog.find_lora("shared")
    assert catalog.find_lora("y").path == lora / "y.safetensors"  # stem beats the other file's alias
    assert catalog.find_lora("z").path == lora / "y.safetensors"
    _safetensors(lora / "sub" / "shared.safetensors", {"ss_output_name": "other"})
    catalog.refresh(AddonKind.LORA)
    assert catalog.find_lora("shared").name == "sub/shared.safetensors"


def test_embeddings_recursive_skip_empty_preview_hidden_follow_symlinks(paths, catalog, tmp_path):
    emb = paths.embeddings_dir
    _safetensors(emb / "good.safetensors")
    _blob(emb / "sub" / "old.pt")
    _blob(emb / "diffusers.bin")
    _blob(emb / "empty.pt", b"")
    _blob(emb / "good.preview.png")
    _blob(emb / "thing.preview.safetensors")
    _blob(emb / "notes.txt")
    _blob(emb / ".hidden.pt")
    _blob(tmp_path / "elsewhere" / "linked.pt")
    os.symlink(tmp_path / "elsewhere", emb / "link")
    os.symlink(emb, emb / "sub" / "loop")  # a cycle must not hang the scan
    catalog.refresh(AddonKind.EMBEDDING)
    assert _names(catalog.embeddings()) == ["diffusers.bin", "good.safetensors", "link/linked.pt", "sub/old.pt"]
    assert catalog.find_embedding("linked").path == emb / "link" / "linked.pt"
    with pytest.raises(ModelNotFound, match="Embedding not found: empty"):
        catalog.find_embedding("empty")


def test_metadata_decodes_json_objects_and_is_cached_by_size_and_mtime(paths, catalog):
    path = _safetensors(paths.lora_dirs[0] / "m.safetensors", {
        "ss_tag_frequency": json.dumps({"set": {"cat": 3}}), "ss_network_dim": "16", "weird": "{not json"})
    _blob(paths.lora_dirs[0] / "p.pt")
    catalog.refresh()
    record = catalog.find_lora("m")
    meta = catalog.metadata(record)
    assert meta == {"ss_tag_frequency": {"set": {"cat": 3}}, "ss_network_dim": "16", "weird": "{not json"}
    meta["ss_tag_frequency"]["set"]["cat"] = 99  # callers get their own copy
    assert catalog.metadata(record)["ss_tag_frequency"] == {"set": {"cat": 3}}
    assert catalog.metadata(catalog.find_lora("p")) == {}
    _safetensors(path, {"ss_network_dim": "32", "padding": "x" * 50})
    assert catalog.metadata(record) == {"ss_network_dim": "32", "padding": "x" * 50}


def test_metadata_of_safetensors_made_by_the_safetensors_package(paths, catalog):
    path = paths.lora_dirs[0] / "real.safetensors"
    path.parent.mkdir(parents=True)
    save_file({"lora_up.weight": np.ones((4, 2), dtype=np.float32)}, str(path),
              metadata={"ss_output_name": "RealName", "ss_datasets": json.dumps({"n": 1})})
    catalog.refresh()
    record = catalog.find_lora("RealName")
    assert catalog.metadata(record) == {"ss_output_name": "RealName", "ss_datasets": {"n": 1}}
    assert catalog.short_hash(record) == _independent_addnet(path)[:12]


def test_corrupt_safetensors_has_empty_metadata_and_stem_alias(paths, catalog):
    _blob(paths.lora_dirs[0] / "broken.safetensors", b"\xff" * 20)
    catalog.refresh()
    record = catalog.loras()[0]
    assert record.alias == "broken" and catalog.metadata(record) == {}


def test_short_hashes_per_kind(paths, catalog):
    vae = _blob(paths.vae_dirs[0] / "v.safetensors", b"vae bytes")
    emb = _blob(paths.embeddings_dir / "e.pt", b"embedding bytes")
    addnet = _safetensors(paths.lora_dirs[0] / "addnet.safetensors", {"ss_output_name": "an"}, b"\x07" * 64)
    pickle = _blob(paths.lora_dirs[0] / "pick.pt", b"lora pickle")
    _safetensors(paths.lora_dirs[0] / "sshs.safetensors", {"sshs_model_hash": "ABCDEF0123456789" * 4})
    catalog.refresh()
    assert catalog.short_hash(catalog.find_vae("v")) == _sha(vae)[:10]
    assert catalog.short_hash(catalog.find_embedding("e")) == _sha(emb)[:12]
    assert catalog.short_hash(catalog.find_lora("an")) == _independent_addnet(addnet)[:12]
    assert _independent_addnet(addnet) != _sha(addnet)
    assert catalog.short_hash(catalog.find_lora("pick")) == _sha(pickle)[:12]
    assert catalog.short_hash(catalog.find_lora("sshs")) == "ABCDEF012345"


def test_hashes_are_cached_on_disk_and_reused(paths, catalog, monkeypatch):
    addnet = _safetensors(paths.lora_dirs[0] / "l.safetensors", data=b"\x09" * 32)
    vae = _blob(paths.vae_dirs[0] / "v.pt", b"vae")
    catalog.refresh()
    catalog.short_hash(catalog.find_lora("l"))
    catalog.short_hash(catalog.find_vae("v"))
    addnet_file = json.loads((paths.cache_dir / "hashes-addnet.json").read_text())
    assert [e["sha256"] for e in addnet_file["entries"].values()] == [_independent_addnet(addnet)]
    sha_file = json.loads((paths.cache_dir / "hashes.json").read_text())
    assert [e["sha256"] for e in sha_file["entries"].values()] == [_sha(vae)]

    def boom(*_args, **_kwargs):
        raise AssertionError("hash recomputed")
    monkeypatch.setattr(addon_catalog, "addnet_hash", boom)
    monkeypatch.setattr(hashes, "sha256_file", boom)
    fresh = AddonCatalog(paths, HashCache(paths.cache_dir / "hashes.json"))
    assert fresh.short_hash(fresh.find_lora("l")) == _independent_addnet(addnet)[:12]
    assert fresh.short_hash(fresh.find_vae("v")) == _sha(vae)[:10]


def test_short_hash_of_a_deleted_file_is_model_not_found(paths, catalog):
    path = _blob(paths.vae_dirs[0] / "gone.pt")
    catalog.refresh()
    record = catalog.find_vae("gone")
    path.unlink()
    with pytest.raises(ModelNotFound, match="gone"):
        catalog.short_hash(record)


def test_listing_hashes_nothing(paths, monkeypatch):
    def boom(*_args, **_kwargs):
        raise AssertionError("listing must not hash")
    monkeypatch.setattr(addon_catalog, "addnet_hash", boom)
    monkeypatch.setattr(hashes, "sha256_file", boom)
    _safetensors(paths.lora_dirs[0] / "l.safetensors", {"ss_output_name": "alias"})
    _blob(paths.lora_dirs[0] / "p.pt")
    _blob(paths.vae_dirs[0] / "v.safetensors")
    _blob(paths.ckpt_dirs[0] / "m.vae.pt")
    _blob(paths.embeddings_dir / "e.pt")
    sha_cache, addnet_cache = HashCache(paths.cache_dir / "hashes.json"), HashCache(paths.cache_dir / "addnet.json")
    catalog = AddonCatalog(paths, sha_cache, addnet_cache=addnet_cache)
    catalog.refresh()
    for record in (*catalog.vaes(), *catalog.loras(), *catalog.embeddings()):
        catalog.metadata(record)
    catalog.find_lora("alias"), catalog.find_vae("m.vae.pt"), catalog.find_embedding("e")
    assert len(catalog.vaes()) == 2 and len(catalog.loras()) == 2 and len(catalog.embeddings()) == 1
    assert not paths.cache_dir.exists()
    assert all(c.get(r.path) is None for c in (sha_cache, addnet_cache) for r in catalog.loras())


def test_background_hashing_fills_the_caches(paths, catalog):
    lora = _safetensors(paths.lora_dirs[0] / "l.safetensors", data=b"\x05" * 16)
    vae = _blob(paths.vae_dirs[0] / "v.pt", b"vae")
    emb = _blob(paths.embeddings_dir / "e.pt", b"emb")
    _blob(paths.vae_dirs[0] / "also.pt", b"more")
    catalog.refresh()
    before = set(threading.enumerate())
    worker = catalog.start_background_hashing(kinds=(AddonKind.LORA, AddonKind.EMBEDDING))
    assert worker.daemon and worker not in before
    worker.join(10)
    assert not worker.is_alive()
    sha_cache = HashCache(paths.cache_dir / "hashes.json")
    assert sha_cache.get(emb) == _sha(emb) and sha_cache.get(vae) is None  # VAEs were not asked for
    assert HashCache(paths.cache_dir / "hashes-addnet.json").get(lora) == _independent_addnet(lora)
    catalog.stop()


def test_background_hashing_stops(paths, catalog, monkeypatch):
    for i in range(5):
        _blob(paths.vae_dirs[0] / f"v{i}.pt", b"x" * (i + 1))
    catalog.refresh()
    gate, hashed = threading.Event(), []
    real = hashes.sha256_file

    def slow(path, *args, **kwargs):
        hashed.append(Path(path).name)
        gate.wait(10)
        return real(path, *args, **kwargs)
    monkeypatch.setattr(hashes, "sha256_file", slow)
    catalog.stop()  # stopping with nothing running is fine
    worker = catalog.start_background_hashing()
    assert catalog.start_background_hashing() is worker  # one worker at a time
    while not hashed:
        threading.Event().wait(0.01)
    catalog.stop(timeout=0.05)  # the worker is inside its first file: asked to stop, not waited for
    gate.set()
    worker.join(10)
    assert not worker.is_alive() and len(hashed) == 1
    restarted = catalog.start_background_hashing(kinds=[AddonKind.VAE])
    restarted.join(10)
    assert len(hashed) == 5
