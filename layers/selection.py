"""Combining selections: replace, add, remove, toggle (row positions, no Qt)."""
from __future__ import annotations

from enum import Enum
from typing import Iterable

import numpy as np

__all__ = ["SelectionMode", "combine", "as_rows"]


class SelectionMode(str, Enum):
    """How a new set of rows changes the current selection (Shift adds, Ctrl toggles)."""

    REPLACE = "replace"
    ADD = "add"
    REMOVE = "remove"
    TOGGLE = "toggle"


def as_rows(rows: Iterable[int] | np.ndarray, n: int) -> np.ndarray:
    """Sorted unique int64 row positions, checked against a layer of ``n`` rows.

    Raises
    ------
    IndexError
        When a position is negative or not below ``n``.
    """
    arr = np.unique(np.asarray(list(rows) if not isinstance(rows, np.ndarray) else rows, dtype=np.int64))
    if len(arr) and (arr[0] < 0 or arr[-1] >= n):
        bad = arr[(arr < 0) | (arr >= n)][:5].tolist()
        raise IndexError(f"selection rows {bad} are outside the layer's {n} rows (0..{n - 1})")
    return arr


def combine(current: np.ndarray, new: np.ndarray, mode: SelectionMode | str) -> np.ndarray:
    """The selection after applying ``new`` to ``current`` with ``mode``."""
    mode = SelectionMode(mode)
    if mode is SelectionMode.REPLACE:
        return new
    if mode is SelectionMode.ADD:
        return np.union1d(current, new)
    if mode is SelectionMode.REMOVE:
        return np.setdiff1d(current, new)
    return np.setxor1d(current, new)
