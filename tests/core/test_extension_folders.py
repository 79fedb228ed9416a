"""The extensions listing reads folder names, extension.toml versions and git HEADs from files only."""
from __future__ import annotations

from modules.core.extension_folders import git_head, list_extensions

SHA = "0123456789abcdef0123456789abcdef01234567"


def test_listing(tmp_path):
    root = tmp_path / "extensions"
    (root / "styles-plus" / ".git" / "refs" / "heads").mkdir(parents=True)
    (root / "styles-plus" / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / "styles-plus" / ".git" / "refs" / "heads" / "main").write_text(SHA + "\n")
    (root / "packed" / ".git").mkdir(parents=True)
    (root / "packed" / ".git" / "HEAD").write_text("ref: refs/heads/dev\n")
    (root / "packed" / ".git" / "packed-refs").write_text(f"# pack-refs\n{SHA} refs/heads/dev\n")
    (root / "plain").mkdir()
    (root / "plain" / "extension.toml").write_text('name = "plain"\nversion = "1.2"\napi = 1\n')
    (root / ".hidden").mkdir()
    (root / "file.txt").write_text("not an extension")
    found = list_extensions(root, frozenset({"packed"}))
    assert [(e.name, e.version, e.commit_hash, e.enabled) for e in found] == [
        ("packed", SHA[:8], SHA, False), ("plain", "1.2", "", True), ("styles-plus", SHA[:8], SHA, True)]
    assert all(not e.enabled for e in list_extensions(root, all_disabled=True))
    assert list_extensions(tmp_path / "missing") == [] and git_head(root / "plain") == ""
