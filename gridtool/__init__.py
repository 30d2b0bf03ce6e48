"""gridtool: the engine of the Zhonglou "zero-waste city" grid-supervision GIS.

Qt-free: schemas, IO, CRS, analyses (coverage, network, siting, patrol, hotspots),
the findings store, export and the command line. The desktop application (``ui``)
and the layer models (``layers``) build on it; nothing here imports them.
"""
from __future__ import annotations

__version__ = "0.1.0"

from gridtool.kinds import WORK_EPSG  # noqa: E402

__all__ = ["__version__", "WORK_EPSG"]
