"""Where gridtool's own files are, and safe joining of outside file names onto a folder."""
from __future__ import annotations

import os
from pathlib import Path

from gridtool.errors import InputError

__all__ = ["repo_root", "sample_gpkg_path", "safe_join"]


def repo_root() -> Path:
    """The folder that holds the ``gridtool`` package (the repository in a development install)."""
    return Path(__file__).resolve().parent.parent


def sample_gpkg_path() -> Path:
    """Return the sample district GeoPackage ``sample_geodata/zhonglou.gpkg``.

    Raises
    ------
    InputError
        If the file is not there (e.g. a wheel install without the sample data).
    """
    path = repo_root() / "sample_geodata" / "zhonglou.gpkg"
    if not path.is_file():
        raise InputError(
            f"the sample district {path} is missing; it ships with the gridtool repository "
            "(sample_geodata/zhonglou.gpkg): run from a git checkout or pass your own GeoPackage"
        )
    return path


def safe_join(folder: str | os.PathLike, name: str) -> Path:
    """Join an outside file ``name`` onto ``folder``, refusing names that escape it.

    Absolute names, ``..`` parts, drive letters and symlinks pointing outside ``folder``
    are refused, so a name taken from a file, a form or a URL cannot reach other files.

    Parameters
    ----------
    folder
        The folder the result must stay inside.
    name
        A relative file name, possibly with sub-folders (``photos/a.jpg``).

    Returns
    -------
    Path
        ``folder / name``, resolved, guaranteed inside the resolved ``folder``.

    Raises
    ------
    InputError
        If ``name`` is empty, absolute, contains ``..`` or NUL, or resolves outside ``folder``.
    """
    if not isinstance(name, str) or not name.strip() or "\x00" in name:
        raise InputError(f"file name {name!r} is empty or invalid; expected a plain relative name like 'photo.jpg'")
    norm = name.replace("\\", "/")
    parts = [p for p in norm.split("/") if p not in ("", ".")]
    if (
        norm.startswith("/")
        or os.path.isabs(name)
        or (len(norm) >= 2 and norm[1] == ":")
        or any(p == ".." for p in parts)
        or not parts
    ):
        raise InputError(
            f"file name {name!r} escapes the folder {os.fspath(folder)}; expected a relative name without '..'"
        )
    base = Path(folder).resolve()
    target = base.joinpath(*parts).resolve()
    if target != base and base not in target.parents:
        raise InputError(
            f"file name {name!r} resolves to {target}, outside the folder {base} (a symlink?); refused"
        )
    if target == base:
        raise InputError(f"file name {name!r} names the folder {base} itself; expected a file inside it")
    return target
