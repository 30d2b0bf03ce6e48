"""Atomic file writes: a reader or a crash never sees a half-written file.

Every exporter and store writes through here: the data goes to a temporary file in the
target's own folder (same file system, so the rename is atomic), which is flushed to disk,
renamed over the target with ``os.replace``, and the folder entry is synced. If anything
fails, or the process is killed, the previous file is untouched and the temporary file is
removed (or, after a kill, left as a hidden ``.NAME.*.tmp`` beside it).
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "fsync_file", "fsync_dir"]


def fsync_file(path: str | os.PathLike[str]) -> None:
    """Flush a file's data to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: str | os.PathLike[str]) -> None:
    """Flush a folder's entries (a rename) to disk; a no-op where folders cannot be opened (Windows)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], *, create: bool = True, durable: bool = True) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``target`` atomically.

    Parameters
    ----------
    target
        The file to (re)place. Its folder must exist.
    create
        With False the temporary path does not exist yet when yielded (for writers such
        as GDAL that refuse to open an existing empty file).
    durable
        fsync the data and the folder entry, so the new file survives a power cut too.
    """
    target = Path(target)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    if not create:
        tmp.unlink()
    try:
        yield tmp
        if durable:
            fsync_file(tmp)
        os.replace(tmp, target)
        if durable:
            fsync_dir(target.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes, *, durable: bool = True) -> Path:
    """Write ``data`` to ``target`` atomically; returns the target path."""
    with atomic_path(target, durable=durable) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def atomic_write_text(target: str | os.PathLike[str], text: str, *, encoding: str = "utf-8", durable: bool = True) -> Path:
    """Write ``text`` to ``target`` atomically; returns the target path."""
    with atomic_path(target, durable=durable) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(target)
