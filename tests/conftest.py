"""Shared fixtures: Qt offscreen, the sample district GeoPackage read once per session."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SAMPLE_GPKG = REPO / "sample_geodata" / "zhonglou.gpkg"


@pytest.fixture(scope="session")
def sample_gpkg() -> Path:
    """Path of ``sample_geodata/zhonglou.gpkg`` (fails clearly if it is missing)."""
    if not SAMPLE_GPKG.is_file():
        pytest.fail(f"the sample district {SAMPLE_GPKG} is missing; build it (sample_geodata/) first")
    return SAMPLE_GPKG


@pytest.fixture(scope="session")
def _sample_cache() -> dict:
    return {}


@pytest.fixture
def sample_layer(sample_gpkg, _sample_cache):
    """Factory: ``sample_layer("roads")`` returns a fresh copy of that sample layer (read once per session)."""
    import pyogrio

    def get(name: str):
        if name not in _sample_cache:
            _sample_cache[name] = pyogrio.read_dataframe(sample_gpkg, layer=name, use_arrow=True)
        return _sample_cache[name].copy()

    return get
