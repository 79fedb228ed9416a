"""Save generated images as A1111 does: numbered names, a `parameters` chunk, atomic writes under the outputs root."""
from __future__ import annotations

import datetime
import os
import threading
import uuid
from pathlib import Path
from typing import Callable, Mapping

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from modules.core.errors import InvalidRequest

_INVALID_FILENAME_CHARS = frozenset('#<>:"/\\|?*\n\r\t')
_MAX_PART_BYTES = 200  # keeps "<number>-<part>.<ext>" under the usual 255-byte file-name limit


def next_image_number(folder: Path) -> int:
    """Return 1 + the largest leading integer among the folder's file names (0 if none or no folder).

    The leading integer is the part of the name before the first "-" and the extension, as in A1111.
    """
    try:
        names = os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return 0
    largest = -1
    for name in names:
        head = os.path.splitext(name)[0].split("-")[0]
        if head.isascii() and head.isdigit():
            largest = max(largest, int(head))
    return largest + 1


def next_grid_number(folder: Path, basename: str = "grid") -> int:
    """Return 1 + the largest number N among ``<basename>-N…`` files in the folder (0 if none), as A1111 numbers
    grids (``grid-0000.png``, ``xyz_grid-0003.png``)."""
    try:
        names = os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return 0
    prefix, largest = f"{basename}-", -1
    for name in names:
        if name.startswith(prefix):
            head = os.path.splitext(name[len(prefix):])[0].split("-")[0]
            if head.isascii() and head.isdigit():
                largest = max(largest, int(head))
    return largest + 1


def sanitize_filename_part(text: str, max_len: int = 128, *, replace_spaces: bool = True) -> str:
    """Make text safe as part of a file name: A1111's character rules, length limits, no leading/trailing junk.

    >>> sanitize_filename_part('a cat: "fluffy"/<2>?')
    'a_cat___fluffy___2__'
    >>> sanitize_filename_part("  dots... ", replace_spaces=False)
    'dots'
    """
    if replace_spaces:
        text = text.replace(" ", "_")
    text = "".join("_" if c in _INVALID_FILENAME_CHARS or ord(c) < 32 or c == "\x7f" else c for c in text)
    text = text.lstrip(" ")[:max_len]
    while len(text.encode("utf-8")) > _MAX_PART_BYTES:
        text = text[:-1]
    return text.rstrip(" .")


def dated_folder(base: Path, today: datetime.date) -> Path:
    """Return the dated subfolder A1111 uses with `save_to_dirs` and the default `[date]` pattern.

    >>> dated_folder(Path("outputs/txt2img-images"), datetime.date(2024, 7, 27)).as_posix()
    'outputs/txt2img-images/2024-07-27'
    """
    return Path(base) / today.isoformat()


class OutputWriter:
    """Writes images under one outputs root; a lock keeps concurrent saves from taking the same number."""

    def __init__(self, root: Path):
        self._root = Path(root)
        self._lock = threading.Lock()

    def save_image(self, image: Image.Image, folder: Path, *, seed: int, infotext: str | None,
                 fmt: str = "png") -> Path:
        """Save `image` as `<folder>/<NNNNN>-<seed>.<fmt>` with the infotext (a ``parameters`` chunk in PNG, EXIF
        UserComment in JPEG/WebP); return the path. A relative folder is taken relative to the root; a folder
        outside the root is refused."""
        target = self._folder(folder)
        ext = _extension(fmt)
        temp = _write_temp_image(image, target, ext, infotext)

        def name() -> Path:
            number = next_image_number(target)
            while (path := target / f"{number:05}-{int(seed)}.{ext}").exists():
                number += 1
            return path
        return self._place(temp, target, name)

    def save_named_png(self, image: Image.Image, folder: Path, *, texts: Mapping[str, str],
                       name: str | None = None) -> Path:
        """Save as A1111's extras do: ``<folder>/<NNNNN>.png``, or ``<folder>/<name>.png`` (replaced) when named.

        ``texts`` become PNG text chunks in order; ``name`` is sanitised, so it cannot leave the folder.
        """
        target = self._folder(folder)
        pnginfo = PngInfo() if texts else None
        for key, value in texts.items():
            pnginfo.add_text(key, value)
        stem = sanitize_filename_part(name, replace_spaces=False) if name else ""
        temp = _write_temp_png(image, target, pnginfo)

        def choose() -> Path:
            if stem:
                return target / f"{stem}.png"
            number = next_image_number(target)
            while (path := target / f"{number:05}.png").exists():
                number += 1
            return path
        return self._place(temp, target, choose)

    def save_grid(self, image: Image.Image, folder: Path, *, infotext: str | None, fmt: str = "png",
                  basename: str = "grid", decoration: str = "") -> Path:
        """Save a grid as ``<folder>/<basename>-<NNNN>[-<decoration>].<fmt>`` (4 digits) with its infotext: a
        ``parameters`` chunk in PNG, EXIF UserComment in JPEG/WebP. ``decoration`` is sanitised."""
        tail = sanitize_filename_part(decoration, replace_spaces=False) if decoration else ""
        tail = f"-{tail}" if tail else ""
        target = self._folder(folder)
        ext = _extension(fmt)
        temp = _write_temp_image(image, target, ext, infotext)

        def name() -> Path:
            number = next_grid_number(target, basename)
            while (path := target / f"{basename}-{number:04}{tail}.{ext}").exists():
                number += 1
            return path
        return self._place(temp, target, name)

    def _folder(self, folder: Path) -> Path:
        target = self.confine(folder)
        target.mkdir(parents=True, exist_ok=True)
        return target

    def _place(self, temp: Path, target: Path, choose: Callable[[], Path]) -> Path:
        """Rename the fully written `temp` to the name `choose` picks (under the lock, so two saves never pick the
        same number); on any failure the temp file goes and no partial file is left."""
        try:
            with self._lock:
                path = choose()
                os.replace(temp, path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        _fsync_dir(target)
        return path

    def confine(self, folder: Path) -> Path:
        """Return `folder` as an absolute path inside the root, or raise InvalidRequest.

        The check is lexical (`..` and absolute paths), so folders the user symlinked elsewhere keep working.
        """
        root = Path(os.path.abspath(self._root))
        target = Path(os.path.abspath(root / folder))
        if not target.is_relative_to(root):
            raise InvalidRequest(f"Output folder {folder} is outside the outputs folder {root}")
        return target


def _extension(fmt: str) -> str:
    """A file extension from a format setting: ``png``, ``jpg``, ``jpeg``, ``webp`` (anything else: png)."""
    ext = str(fmt).lower().lstrip(".")
    return ext if ext in ("png", "jpg", "jpeg", "webp") else "png"


def _write_temp_png(image: Image.Image, folder: Path, pnginfo: PngInfo | None) -> Path:
    temp = folder / f".tmp-{uuid.uuid4().hex}.png"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as stream:
            image.save(stream, format="PNG", pnginfo=pnginfo)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def _write_temp_image(image: Image.Image, folder: Path, ext: str, infotext: str | None) -> Path:
    """Write a temporary file in any of the grid formats (infotext in a PNG chunk or EXIF UserComment)."""
    if ext == "png":
        pnginfo = None
        if infotext is not None:
            pnginfo = PngInfo()
            pnginfo.add_text("parameters", infotext)
        return _write_temp_png(image, folder, pnginfo)
    options: dict = {"format": "JPEG" if ext in ("jpg", "jpeg") else ext.upper(), "quality": 90}
    if infotext is not None:
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9286] = b"UNICODE\0" + infotext.encode("utf-16-be")
        options["exif"] = exif
    temp = folder / f".tmp-{uuid.uuid4().hex}.{ext}"
    try:
        with open(temp, "xb") as stream:
            image.convert("RGB").save(stream, **options)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
