"""Atomic writes: the target is either the old file or the complete new one."""
from __future__ import annotations

import pytest

from gridtool.atomic import atomic_path, atomic_write_bytes, atomic_write_text


def test_write_replaces_and_leaves_no_temp(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old", encoding="utf-8")
    atomic_write_text(target, "新内容")
    assert target.read_text(encoding="utf-8") == "新内容"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_failure_keeps_the_old_file(tmp_path):
    target = tmp_path / "b.bin"
    atomic_write_bytes(target, b"v1")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("writer died")
    assert target.read_bytes() == b"v1"
    assert [p.name for p in tmp_path.iterdir()] == ["b.bin"]


def test_create_false_yields_a_missing_path(tmp_path):
    target = tmp_path / "c.gpkg"
    with atomic_path(target, create=False) as tmp:
        assert not tmp.exists() and tmp.parent == tmp_path
        tmp.write_bytes(b"x")
    assert target.read_bytes() == b"x"
