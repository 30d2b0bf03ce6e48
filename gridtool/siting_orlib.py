"""Reader of Beasley's OR-Library p-median files (``pmed1.txt`` … ``pmed40.txt``).

Format: first line ``n_vertices n_edges p``, then one ``i j cost`` line an undirected
edge (1-based vertices). The distance matrix is all-pairs shortest paths; when an edge
is listed twice the last one counts (Beasley's convention, which the published optima
assume). Every vertex is both a client (weight 1) and a candidate.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from gridtool.errors import ReadError

__all__ = ["read_pmed", "read_pmed_optima"]


def read_pmed(path: str | Path) -> tuple[np.ndarray, int]:
    """Return ``(cost, p)``: the dense shortest-path matrix and the number of medians."""
    try:
        toks = Path(path).read_text().split()
        n, e, p = int(toks[0]), int(toks[1]), int(toks[2])
        edges = np.asarray(toks[3:3 + 3 * e], dtype=np.int64).reshape(e, 3)
    except (OSError, ValueError, IndexError) as exc:
        raise ReadError(f"{str(path)!r} is not an OR-Library p-median file ({exc})") from None
    i, j = edges[:, 0] - 1, edges[:, 1] - 1
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    key = lo * n + hi
    # last occurrence of each undirected edge wins
    _, last_rev = np.unique(key[::-1], return_index=True)
    last = e - 1 - last_rev
    g = sp.coo_matrix((edges[last, 2].astype(float), (lo[last], hi[last])), shape=(n, n)).tocsr()
    return shortest_path(g, method="D", directed=False), p


def read_pmed_optima(path: str | Path) -> dict[str, int]:
    """``{"pmed1": 5819, …}`` from OR-Library's ``pmedopt`` table."""
    out: dict[str, int] = {}
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].startswith("pmed") and parts[1].isdigit():
            out[parts[0]] = int(parts[1])
    return out
