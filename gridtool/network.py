"""Road graph, snapping of points onto roads and shortest road distances.

A :class:`RoadNetwork` is built from a road layer by :func:`build_network`: every
straight segment of every road line becomes an (undirected) edge, whose weight is its
length in metres, between two nodes; vertices closer than ``snap_tolerance_m`` are
merged into one node, so roads drawn with shared vertices at their crossings (or with
small gaps at their ends) are joined, and a road ending on another one (a T-junction)
splits it there. Lines that cross without a shared vertex are *not* joined (an
overpass is not a junction) unless ``split_at_crossings=True``. Every
connected piece of the network is kept and labelled (:attr:`RoadNetwork.component`).

Points (demand, facilities) are snapped to the nearest point *on* an edge
(:func:`snap_points`): the access distance (point → road) and the two partial lengths
of the edge are kept, so a distance along the network is exact::

    total = access(demand) + road distance between the snapped points + access(facility)

Shortest paths use :func:`scipy.sparse.csgraph.dijkstra`. Each snapped facility becomes a
virtual node joined to the two ends of its edge by the partial lengths (plus its access
distance); two points on the same edge are also compared directly along that edge.

Unreachable results are never 0: arrays hold ``np.inf`` (matrices) or NaN with a reason
code (nearest-facility queries, see :data:`REASONS`).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from gridtool.errors import CRSError, InputError
from gridtool.feedback import Feedback, ensure_feedback

__all__ = [
    "RoadNetwork",
    "SnappedPoints",
    "NearestResult",
    "REASONS",
    "REACHABLE",
    "NO_ROAD",
    "OTHER_COMPONENT",
    "BEYOND_CUTOFF",
    "build_network",
    "snap_points",
    "node_distances",
    "nearest_facility",
    "distance_matrix",
    "service_area_lines",
    "service_area_polygons",
]

# reason codes of nearest_facility (int8 arrays) and their texts
REACHABLE = 0
NO_ROAD = 1
OTHER_COMPONENT = 2
BEYOND_CUTOFF = 3
REASONS: dict[int, str | None] = {
    REACHABLE: None,
    NO_ROAD: "no road within snap distance",
    OTHER_COMPONENT: "different network component",
    BEYOND_CUTOFF: "beyond cutoff",
}


class _LazyComponent:
    """Data descriptor of :attr:`RoadNetwork.component`: the labels given to the
    constructor, or (given None) computed by :func:`_components` on first read, so that
    queries that never look at components (e.g. :func:`node_distances`) skip the work."""

    def __set_name__(self, owner, name: str) -> None:
        self._key = "_" + name

    def __get__(self, obj, objtype=None):
        if obj is None:
            return None  # the dataclass default
        labels = obj.__dict__.get(self._key)
        if labels is None:
            labels = _components(obj.adjacency)
            obj.__dict__[self._key] = labels
        return labels

    def __set__(self, obj, value) -> None:
        obj.__dict__[self._key] = None if value is None else np.asarray(value)


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """An undirected road graph in a metric CRS.

    Attributes
    ----------
    node_xy
        ``(n, 2)`` node coordinates in metres.
    edge_u, edge_v
        ``(m,)`` end nodes of every edge (one straight segment each); ``edge_u != edge_v``.
    edge_length_m
        ``(m,)`` segment lengths in metres.
    edge_road
        ``(m,)`` position (``iloc``) of the road row the segment came from (-1 if built from
        bare edges).
    adjacency
        ``(n, n)`` symmetric CSR matrix holding the shortest edge between two nodes (so
        ``csgraph`` routines can run with ``directed=True``, which is faster).
    component
        ``(n,)`` connected-component label of each node (0 = the largest piece); pass
        None (the default) to have it computed on first use.
    crs
        The CRS of the road layer (or None).
    """

    node_xy: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length_m: np.ndarray
    edge_road: np.ndarray
    adjacency: sp.csr_matrix
    component: np.ndarray = _LazyComponent()  # type: ignore[assignment]
    crs: object = None

    @property
    def n_nodes(self) -> int:
        return int(self.node_xy.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.edge_u.shape[0])

    @property
    def n_components(self) -> int:
        return int(self.component.max()) + 1 if self.component.size else 0

    @cached_property
    def _node_edge(self) -> np.ndarray:
        """One edge of every node (-1 for a node without edges)."""
        node_edge = np.full(self.n_nodes, -1, dtype=np.int64)
        node_edge[self.edge_v] = np.arange(self.n_edges)
        node_edge[self.edge_u] = np.arange(self.n_edges)
        return node_edge

    @cached_property
    def _node_index(self) -> tuple:
        """KD-tree of the nodes that have an edge, their node ids, and one edge per node."""
        node_edge = self._node_edge
        used = np.flatnonzero(node_edge >= 0)
        tree = cKDTree(self.node_xy[used], balanced_tree=False, compact_nodes=False)
        return tree, used, node_edge

    @cached_property
    def _piece_index(self) -> tuple:
        """KD-tree of edge-piece midpoints for exact nearest-edge search (built on first use).

        Every edge is cut into pieces no longer than ``2 * h`` so that each point of an
        edge lies within ``h`` of a piece midpoint. Returns the tree, the piece → edge map
        and ``h``.
        """
        L = self.edge_length_m
        h = max(1.0, float(np.quantile(L, 0.9)) / 2.0) if L.size else 1.0
        pieces = np.maximum(1, np.ceil(L / (2.0 * h))).astype(np.int64)
        piece_edge = np.repeat(np.arange(self.n_edges), pieces)
        start = np.cumsum(pieces) - pieces
        j = np.arange(piece_edge.size) - np.repeat(start, pieces)
        t = (j + 0.5) / pieces[piece_edge]
        a = self.node_xy[self.edge_u[piece_edge]]
        b = self.node_xy[self.edge_v[piece_edge]]
        mids = a + t[:, None] * (b - a)
        return cKDTree(mids, balanced_tree=False, compact_nodes=False), piece_edge, h

    def edge_lines(self) -> np.ndarray:
        """The edges as an array of shapely ``LineString`` (one straight segment each)."""
        import shapely

        coords = np.empty((self.n_edges, 2, 2), dtype=float)
        coords[:, 0] = self.node_xy[self.edge_u]
        coords[:, 1] = self.node_xy[self.edge_v]
        return shapely.linestrings(coords)

    def edges_frame(self):
        """The edges as a GeoDataFrame (``u``, ``v``, ``length_m``, ``road``, ``component``)."""
        import geopandas as gpd

        return gpd.GeoDataFrame(
            {
                "u": self.edge_u,
                "v": self.edge_v,
                "length_m": self.edge_length_m,
                "road": self.edge_road,
                "component": self.component[self.edge_u],
            },
            geometry=self.edge_lines(),
            crs=self.crs,
        )

    @classmethod
    def from_edges(
        cls,
        node_xy: np.ndarray,
        edge_u: np.ndarray,
        edge_v: np.ndarray,
        edge_length_m: np.ndarray | None = None,
        *,
        edge_road: np.ndarray | None = None,
        crs: object = None,
    ) -> "RoadNetwork":
        """Build a network from node coordinates and straight edges between them.

        ``edge_length_m`` defaults to the straight distance between the end nodes; edges
        must be straight segments for snapping to be exact. Self-loops are dropped.
        """
        node_xy = np.ascontiguousarray(node_xy, dtype=float).reshape(-1, 2)
        u = np.asarray(edge_u, dtype=np.int64).ravel()
        v = np.asarray(edge_v, dtype=np.int64).ravel()
        if u.shape != v.shape:
            raise InputError(f"`edge_u` and `edge_v` must have equal length; got {u.size} and {v.size}")
        n = node_xy.shape[0]
        if u.size and (min(u.min(), v.min()) < 0 or max(u.max(), v.max()) >= n):
            raise InputError(f"edge node ids must lie in 0..{n - 1}; got {min(u.min(), v.min())}..{max(u.max(), v.max())}")
        if edge_length_m is None:
            length = np.hypot(*(node_xy[u] - node_xy[v]).T) if u.size else np.zeros(0)
        else:
            length = np.asarray(edge_length_m, dtype=float).ravel()
            if length.shape != u.shape:
                raise InputError(f"`edge_length_m` must have one value per edge ({u.size}); got {length.size}")
            if np.any(~np.isfinite(length)) or np.any(length < 0):
                raise InputError("`edge_length_m` must be finite and >= 0")
        road = np.full(u.shape, -1, dtype=np.int64) if edge_road is None else np.asarray(edge_road, dtype=np.int64).ravel()
        keep = u != v  # (the compress also copies, so the network never shares the caller's arrays)
        u, v, length, road = u[keep], v[keep], length[keep], road[keep]
        adjacency = _adjacency(n, u, v, length)
        return cls(node_xy, u, v, length, road, adjacency, None, crs)  # components on first use


def _adjacency(n: int, u: np.ndarray, v: np.ndarray, length: np.ndarray) -> sp.csr_matrix:
    """Symmetric CSR holding the shortest of parallel edges (a plain CSR would sum them)."""
    # explicit zeros stay edges in scipy's csgraph (the matrix is built without eliminate_zeros)
    w = np.asarray(length, dtype=float)
    # int32 node ids (what csgraph works in) halve the index arrays to sort
    idx = np.int32 if n < np.iinfo(np.int32).max else np.int64
    rows = np.concatenate([u, v], dtype=idx, casting="unsafe")
    cols = np.concatenate([v, u], dtype=idx, casting="unsafe")
    data = np.concatenate([w, w])
    m = sp.csr_matrix((data, (rows, cols)), shape=(n, n))  # sums duplicates
    if m.nnz != rows.size:  # parallel edges: keep the shortest
        order = np.lexsort((data, cols, rows))
        rows, cols, data = rows[order], cols[order], data[order]
        first = np.ones(rows.size, dtype=bool)
        first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        m = sp.csr_matrix((data[first], (rows[first], cols[first])), shape=(n, n))
    return m


def _components(adjacency: sp.csr_matrix) -> np.ndarray:
    """Component labels, relabelled so that 0 is the largest piece, 1 the next, ..."""
    if adjacency.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    _, labels = csgraph.connected_components(adjacency, directed=True, connection="weak")
    sizes = np.bincount(labels)
    rank = np.empty_like(sizes)
    rank[np.argsort(-sizes, kind="stable")] = np.arange(sizes.size)
    return rank[labels].astype(np.int64)


def build_network(
    roads,
    *,
    snap_tolerance_m: float = 1.0,
    split_at_crossings: bool = False,
    join_t_junctions: bool = True,
    feedback: Feedback | None = None,
) -> RoadNetwork:
    """Build a :class:`RoadNetwork` from a road layer.

    Parameters
    ----------
    roads
        A GeoDataFrame (or GeoSeries) of LineString / MultiLineString roads in a projected
        CRS in metres (EPSG:4549 in gridtool).
    snap_tolerance_m
        Vertices closer than this are merged into one node (a KD-tree merge; chains of
        close vertices merge transitively). 0 merges only identical coordinates.
    split_at_crossings
        Also make a node where two lines cross without a shared vertex
        (:func:`shapely.node`). Off by default: a bridge over a road is no junction.
    join_t_junctions
        Split a segment where the end of another line lies on it (within
        ``snap_tolerance_m``): a road that ends on another road joins it there.
    feedback
        Progress and cancel.

    Returns
    -------
    RoadNetwork
        Every segment is an edge; all pieces are kept and labelled in ``component``.
    """
    import shapely

    fb = ensure_feedback(feedback)
    geoms = _road_geometries(roads)
    fb.set_progress(5, "reading road lines")
    if split_at_crossings and len(geoms):
        noded = shapely.node(shapely.multilinestrings(geoms[~shapely.is_empty(geoms)]))
        parts = shapely.get_parts(noded)
        # the road row of every noded part: the road it lies on
        tree = shapely.STRtree(geoms)
        probe = shapely.line_interpolate_point(parts, 0.5, normalized=True)
        idx = tree.query_nearest(probe, all_matches=False)
        part_road = np.full(parts.size, -1, dtype=np.int64)
        part_road[idx[0]] = idx[1]
        geoms, road_of_geom = parts, part_road
    else:
        road_of_geom = np.arange(len(geoms), dtype=np.int64)
    if np.any(shapely.get_type_id(geoms) == 5):  # MultiLineString
        lines, line_idx = shapely.get_parts(geoms, return_index=True)
    else:
        lines, line_idx = geoms, np.arange(len(geoms))
    line_road = road_of_geom[line_idx]
    coords, coord_line = shapely.get_coordinates(lines, return_index=True)
    fb.check()
    if coords.shape[0] < 2:
        return RoadNetwork.from_edges(np.zeros((0, 2)), np.zeros(0), np.zeros(0), crs=_crs_of(roads))
    # consecutive vertices of the same line make a segment
    same = coord_line[1:] == coord_line[:-1]
    seg_a = np.flatnonzero(same)
    A, B = coords[seg_a], coords[seg_a + 1]
    road = line_road[coord_line[seg_a]]
    both = np.concatenate([A, B])
    uniq, inverse, counts = _unique_xy(both)
    if join_t_junctions:
        # a vertex used once is a dangling line end, the only place a T-junction can be
        # (an end shared with another line is a junction already)
        n_before = A.shape[0]
        A, B, road = _split_at_points(A, B, road, uniq[counts == 1], float(snap_tolerance_m))
        if A.shape[0] != n_before:
            both = np.concatenate([A, B])
            uniq, inverse, counts = _unique_xy(both)
    fb.check()
    # merge vertices: exact duplicates (above), then within tolerance
    m = A.shape[0]
    fb.set_progress(30, "merging road vertices")
    if snap_tolerance_m > 0 and uniq.shape[0] > 1:
        pairs = cKDTree(uniq, balanced_tree=False, compact_nodes=False).query_pairs(r=float(snap_tolerance_m), output_type="ndarray")
        if pairs.size:
            g = sp.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(uniq.shape[0],) * 2)
            _, cluster = csgraph.connected_components(g, directed=False)
            counts = np.bincount(cluster)
            node_xy = np.column_stack([
                np.bincount(cluster, weights=uniq[:, 0]) / counts,
                np.bincount(cluster, weights=uniq[:, 1]) / counts,
            ])
            vertex_node = cluster[inverse]
        else:
            node_xy, vertex_node = uniq, inverse
    else:
        node_xy, vertex_node = uniq, inverse
    fb.set_progress(70, "building the road graph")
    net = RoadNetwork.from_edges(node_xy, vertex_node[:m], vertex_node[m:], edge_road=road, crs=_crs_of(roads))
    fb.set_progress(100, "road graph ready")
    return net


def _unique_xy(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(xy, axis=0)`` with inverse and counts, through a fast 1-D complex sort."""
    z = np.ascontiguousarray(xy, dtype=float).view(np.complex128).ravel()
    uz, inverse, counts = np.unique(z, return_inverse=True, return_counts=True)
    return np.column_stack([uz.real, uz.imag]), inverse.ravel(), counts


def _split_at_points(A: np.ndarray, B: np.ndarray, road: np.ndarray, pts: np.ndarray, tol: float):
    """Split segments ``A→B`` where a line end ``pts`` lies on their inside (T-junctions)."""
    import shapely

    if A.shape[0] == 0 or pts.shape[0] == 0:
        return A, B, road
    tree = shapely.STRtree(shapely.linestrings(np.stack([A, B], axis=1)))
    pi, si = tree.query(shapely.points(pts), predicate="dwithin", distance=max(tol, 1e-9))
    if pi.size == 0:
        return A, B, road
    ab = B[si] - A[si]
    L2 = np.einsum("ij,ij->i", ab, ab)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(L2 > 0, np.einsum("ij,ij->i", pts[pi] - A[si], ab) / L2, 0.0)
    L = np.sqrt(L2)
    inner = (t * L > max(tol, 1e-9)) & ((1 - t) * L > max(tol, 1e-9))
    if not inner.any():
        return A, B, road
    si, t = si[inner], t[inner]
    cut = np.unique(si)
    segs = np.concatenate([si, cut, cut])
    ts = np.concatenate([t, np.zeros(cut.size), np.ones(cut.size)])
    order = np.lexsort((ts, segs))
    segs, ts = segs[order], ts[order]
    keep = np.ones(segs.size, dtype=bool)
    keep[1:] = (segs[1:] != segs[:-1]) | (ts[1:] != ts[:-1])
    segs, ts = segs[keep], ts[keep]
    pair = segs[1:] == segs[:-1]
    s0, t0, t1 = segs[:-1][pair], ts[:-1][pair], ts[1:][pair]
    newA = A[s0] + t0[:, None] * (B[s0] - A[s0])
    newB = A[s0] + t1[:, None] * (B[s0] - A[s0])
    # exact end coordinates where t is 0 or 1, so the original vertices are kept bit for bit
    newA[t0 == 0] = A[s0[t0 == 0]]
    newB[t1 == 1] = B[s0[t1 == 1]]
    rest = np.ones(A.shape[0], dtype=bool)
    rest[cut] = False
    return (np.concatenate([A[rest], newA]), np.concatenate([B[rest], newB]),
            np.concatenate([road[rest], road[s0]]))


def _crs_of(obj):
    return getattr(obj, "crs", None)


def _road_geometries(roads) -> np.ndarray:
    import shapely

    geom = getattr(roads, "geometry", roads)
    crs = getattr(roads, "crs", None)
    if crs is not None and getattr(crs, "is_geographic", False):
        raise CRSError(
            f"`roads` CRS {crs.to_string()} is geographic; road lengths need metres. "
            "Reproject with to_crs(4549)."
        )
    arr = np.asarray(getattr(geom, "values", geom), dtype=object)
    arr = arr[~(shapely.is_missing(arr) | shapely.is_empty(arr))] if arr.size else arr
    if arr.size:
        types = shapely.get_type_id(arr)
        bad = ~np.isin(types, (1, 2, 5))  # LineString, LinearRing, MultiLineString
        if bad.any():
            kinds = sorted({shapely.get_type_id(g) for g in arr[bad]})
            names = {0: "Point", 3: "Polygon", 4: "MultiPoint", 6: "MultiPolygon", 7: "GeometryCollection"}
            raise InputError(
                f"`roads` must hold LineString or MultiLineString geometries; found "
                f"{', '.join(names.get(k, str(k)) for k in kinds)} in {int(bad.sum())} rows. "
                "Load a road (line) layer."
            )
    return arr


# ----------------------------------------------------------------------------------------
# snapping
@dataclass(frozen=True)
class SnappedPoints:
    """Points snapped onto the nearest edge of a :class:`RoadNetwork`.

    Attributes
    ----------
    edge
        Edge id of each point, ``-1`` where no road lies within the snap distance.
    t
        Position along the edge from ``edge_u`` (0) to ``edge_v`` (1).
    access_m
        Straight distance from the point to its snapped position (NaN when unsnapped).
    to_u_m, to_v_m
        Lengths along the edge from the snapped position to ``edge_u`` / ``edge_v``.
    snapped_xy
        ``(n, 2)`` snapped positions (NaN when unsnapped).
    """

    edge: np.ndarray
    t: np.ndarray
    access_m: np.ndarray
    to_u_m: np.ndarray
    to_v_m: np.ndarray
    snapped_xy: np.ndarray

    @property
    def ok(self) -> np.ndarray:
        return self.edge >= 0

    def __len__(self) -> int:
        return int(self.edge.shape[0])


def _as_xy(points, name: str) -> np.ndarray:
    if isinstance(points, SnappedPoints):
        raise TypeError("pass coordinates here, not SnappedPoints")
    geom = getattr(points, "geometry", None)
    if geom is not None or (hasattr(points, "dtype") and points.dtype == object):
        import shapely

        arr = np.asarray(getattr(geom if geom is not None else points, "values", geom if geom is not None else points))
        if arr.size and np.any(shapely.get_type_id(arr) != 0):
            raise InputError(f"`{name}` must hold Point geometries; use centroids for polygons (e.g. .representative_point())")
        return shapely.get_coordinates(arr).reshape(-1, 2)
    xy = np.asarray(points, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise InputError(f"`{name}` must be an (n, 2) array of x, y in metres; got shape {xy.shape}")
    return xy


def snap_points(network: RoadNetwork, points, *, max_snap_m: float | None = None) -> SnappedPoints:
    """Snap points to the nearest point on an edge of ``network``.

    Parameters
    ----------
    network
        The road graph.
    points
        ``(n, 2)`` coordinates in metres, or a GeoSeries / GeoDataFrame of points.
    max_snap_m
        Points farther than this from every road stay unsnapped (``edge == -1``); None
        snaps every point however far.

    Returns
    -------
    SnappedPoints
        The edge, the position on it and the access distance of every point.
    """

    xy = _as_xy(points, "points")
    n = xy.shape[0]
    edge = np.full(n, -1, dtype=np.int64)
    if n and network.n_edges:
        edge = _nearest_edge(network, xy, max_snap_m)
    ok = edge >= 0
    e = edge[ok]
    a = network.node_xy[network.edge_u[e]]
    b = network.node_xy[network.edge_v[e]]
    p = xy[ok]
    ab = b - a
    seg2 = np.einsum("ij,ij->i", ab, ab)
    with np.errstate(invalid="ignore", divide="ignore"):
        t_ok = np.where(seg2 > 0, np.einsum("ij,ij->i", p - a, ab) / seg2, 0.0)
    t_ok = np.clip(t_ok, 0.0, 1.0)
    proj = a + t_ok[:, None] * ab
    length = network.edge_length_m[e]
    t = np.full(n, np.nan)
    access = np.full(n, np.nan)
    to_u = np.full(n, np.nan)
    to_v = np.full(n, np.nan)
    sxy = np.full((n, 2), np.nan)
    t[ok] = t_ok
    access[ok] = np.hypot(*(p - proj).T) if p.size else np.zeros(0)
    to_u[ok] = t_ok * length
    to_v[ok] = (1.0 - t_ok) * length
    sxy[ok] = proj
    return SnappedPoints(edge, t, access, to_u, to_v, sxy)


def _point_segment_d2(network: RoadNetwork, xy: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Squared distance from each ``xy[i]`` to each edge in row ``edges[i, :]``."""
    a = network.node_xy[network.edge_u[edges]]
    b = network.node_xy[network.edge_v[edges]]
    ab = b - a
    ap = xy[:, None, :] - a
    seg2 = np.einsum("...j,...j->...", ab, ab)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(seg2 > 0, np.einsum("...j,...j->...", ap, ab) / seg2, 0.0)
    t = np.clip(t, 0.0, 1.0)
    d = ap - t[..., None] * ab
    return np.einsum("...j,...j->...", d, d)


def _exact_nodes(network: RoadNetwork, xy: np.ndarray) -> np.ndarray:
    """The node with an edge lying exactly at each point (-1 if none, or if two such nodes do).

    The points are sorted as complex numbers (x, then y) and every node is looked up
    among them by binary search: no KD-tree is built.
    """
    node_edge = network._node_edge
    pz = np.ascontiguousarray(xy, dtype=float).view(np.complex128).ravel()
    uz, inv = np.unique(pz, return_inverse=True)
    nz = np.ascontiguousarray(network.node_xy, dtype=float).view(np.complex128).ravel()
    j = np.minimum(np.searchsorted(uz, nz), uz.size - 1)
    hit = np.flatnonzero((uz[j] == nz) & (node_edge >= 0))
    node_of = np.full(uz.size, -1, dtype=np.int64)
    if hit.size:
        node_of[j[hit]] = hit
        node_of[np.bincount(j[hit], minlength=uz.size) > 1] = -1  # duplicate nodes: the KD-tree decides
    return node_of[inv.ravel()]


def _nearest_edge(
    network: RoadNetwork, xy: np.ndarray, max_snap_m: float | None, chunk: int = 1 << 16, *, at_nodes: bool = True
) -> np.ndarray:
    """Exact nearest edge of each point (-1 beyond ``max_snap_m``), with KD-trees only.

    The nearest node with an edge gives an upper bound ``d0`` of the distance to the
    nearest edge; that edge then has a piece midpoint within ``d0 + h``. The ``k``
    nearest piece midpoints are searched, doubling ``k`` for the points whose ``k``-th
    midpoint is still within that bound, so no candidate is missed.
    """
    n = xy.shape[0]
    out = np.full(n, -1, dtype=np.int64)
    if at_nodes and 0 < n <= network.n_nodes:
        # points lying exactly on a node (facilities placed at junctions) need no search;
        # the edge is the one the KD-tree path below would give (node_edge of that node)
        at = _exact_nodes(network, xy)
        found = at >= 0
        if found.any():
            out[found] = network._node_edge[at[found]]
            rest = np.flatnonzero(~found)
            if rest.size:
                out[rest] = _nearest_edge(network, xy[rest], max_snap_m, chunk, at_nodes=False)
            return out
    node_tree, used, node_edge = network._node_index
    cap = np.inf if max_snap_m is None else float(max_snap_m)
    for s0 in range(0, n, chunk):
        pts = xy[s0:s0 + chunk]
        d0, inode = node_tree.query(pts, k=1, workers=-1)
        # a point on a node is at distance 0 from every edge of that node: done
        on_node = d0 == 0.0
        out[s0:s0 + chunk][on_node] = node_edge[used[inode[on_node]]]
        if on_node.all():
            continue
        piece_tree, piece_edge, h = network._piece_index
        n_pieces = piece_edge.size
        bound = np.minimum(d0, cap) + h
        todo = np.flatnonzero(~on_node)
        best = np.full(pts.shape[0], -1, dtype=np.int64)
        best_d2 = np.full(pts.shape[0], np.inf)
        best[on_node] = node_edge[used[inode[on_node]]]
        best_d2[on_node] = 0.0
        k = min(8, n_pieces)
        while todo.size:
            dd, ii = piece_tree.query(pts[todo], k=k, workers=-1)
            dd = dd.reshape(todo.size, k)
            ii = ii.reshape(todo.size, k)
            cand = piece_edge[ii]
            d2 = _point_segment_d2(network, pts[todo], cand)
            j = np.argmin(d2, axis=1)
            rows = np.arange(todo.size)
            best[todo] = cand[rows, j]
            best_d2[todo] = d2[rows, j]
            if k >= n_pieces:
                break
            more = dd[:, -1] <= bound[todo]
            todo = todo[more]
            k = min(k * 2, n_pieces)
        if max_snap_m is not None:
            best[best_d2 > cap * cap] = -1
        out[s0:s0 + chunk] = best
    return out


def _snap(network: RoadNetwork, points, max_snap_m: float | None) -> SnappedPoints:
    return points if isinstance(points, SnappedPoints) else snap_points(network, points, max_snap_m=max_snap_m)


# ----------------------------------------------------------------------------------------
# shortest paths
def _with_sources(network: RoadNetwork, src: SnappedPoints, src_ids: np.ndarray) -> sp.csr_matrix:
    """The adjacency plus one virtual source node per snapped source (rows n..n+k-1).

    A virtual node has two out-edges, to the ends of its edge, weighted access +
    partial length; no edge leads into it, so paths never pass through it. Use with
    ``directed=True``.
    """
    n = network.n_nodes
    k = src_ids.size
    e = src.edge[src_ids]
    acc = src.access_m[src_ids]
    cols = np.column_stack([network.edge_u[e], network.edge_v[e]]).ravel()
    w = np.column_stack([acc + src.to_u_m[src_ids], acc + src.to_v_m[src_ids]]).ravel()
    adj = network.adjacency
    indptr = np.concatenate([adj.indptr, adj.indptr[-1] + 2 * np.arange(1, k + 1)])
    return sp.csr_matrix(
        (np.concatenate([adj.data, w]), np.concatenate([adj.indices, cols]), indptr), shape=(n + k, n + k)
    )


def _limit(cutoff_m: float | None) -> float:
    if cutoff_m is None:
        return np.inf
    if not np.isfinite(cutoff_m) or cutoff_m < 0:
        raise InputError(f"`cutoff_m` must be a finite distance >= 0 in metres; got {cutoff_m!r}")
    # a little slack so that paths of exactly cutoff_m survive float rounding; results are
    # filtered with an inclusive <= cutoff_m afterwards
    return float(cutoff_m) * (1 + 1e-9) + 1e-6


def node_distances(
    network: RoadNetwork,
    facilities,
    *,
    cutoff_m: float | None = None,
    max_snap_m: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Distance from every node to its nearest facility, by one multi-source Dijkstra.

    Returns
    -------
    dist, facility
        ``(n_nodes,)`` distance in metres (``np.inf`` where unreachable within
        ``cutoff_m``, not filtered to ``<= cutoff_m`` exactly) and the position of the
        nearest facility (-1 where unreachable). Facility access distances are included.
    """
    fac = _snap(network, facilities, max_snap_m)
    ids = np.flatnonzero(fac.ok)
    n = network.n_nodes
    if ids.size == 0:
        return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    e = fac.edge[ids]
    on_node = fac.access_m[ids] == 0.0
    at_u = on_node & (fac.to_u_m[ids] == 0.0)
    at_v = on_node & (fac.to_v_m[ids] == 0.0)
    if np.all(at_u | at_v):
        # every facility sits exactly on a node: start from those nodes, no virtual nodes
        # (the same sums as through a virtual node joined by 0 and the edge length)
        node = np.where(at_u, network.edge_u[e], network.edge_v[e])
        start, first = np.unique(node, return_index=True)
        dist, _pred, src = csgraph.dijkstra(
            network.adjacency, directed=True, indices=start, return_predecessors=True,
            limit=_limit(cutoff_m), min_only=True,
        )
        fac_of_node = np.full(n, -1, dtype=np.int64)
        fac_of_node[start] = ids[first]  # the first facility of a shared node
        near = np.where(src >= 0, fac_of_node[np.clip(src, 0, n - 1)], -1)
        return dist, near
    graph = _with_sources(network, fac, ids)
    dist, _pred, src = csgraph.dijkstra(
        graph, directed=True, indices=n + np.arange(ids.size), return_predecessors=True,
        limit=_limit(cutoff_m), min_only=True,
    )
    src = src[:n]
    near = np.where(src >= n, ids[np.clip(src - n, 0, ids.size - 1)], -1)
    return dist[:n], near


class NearestResult(NamedTuple):
    """Result of :func:`nearest_facility`: unpack as ``idx, dist, reason = ...``.

    ``facility`` is the position of the nearest facility (-1 if none), ``distance_m`` is
    NaN when unreachable and ``reason`` holds the codes of :data:`REASONS`.
    """

    facility: np.ndarray
    distance_m: np.ndarray
    reason: np.ndarray


def nearest_facility(
    network: RoadNetwork,
    demand,
    facilities,
    *,
    cutoff_m: float | None = None,
    max_snap_m: float | None = None,
    feedback: Feedback | None = None,
) -> NearestResult:
    """Nearest facility along the roads for every demand point (one multi-source Dijkstra).

    Parameters
    ----------
    network
        The road graph.
    demand, facilities
        ``(n, 2)`` coordinates, point GeoSeries/GeoDataFrames, or :class:`SnappedPoints`.
    cutoff_m
        Only facilities within this total distance (inclusive) count; None = no limit.
    max_snap_m
        Points farther than this from a road are unreachable ("no road within snap
        distance"). Ignored for inputs that are already :class:`SnappedPoints`.

    Returns
    -------
    NearestResult
        Total distance = access(demand) + road + access(facility). Unreachable points have
        facility -1, NaN distance and a reason: no road within snap distance, different
        network component (no facility on the demand's piece of network), or beyond cutoff.
    """
    fb = ensure_feedback(feedback)
    fac = _snap(network, facilities, max_snap_m)
    fb.set_progress(10, "snapping demand to roads")
    dem = _snap(network, demand, max_snap_m)
    fb.set_progress(30, "shortest paths")
    node_d, node_f = node_distances(network, fac, cutoff_m=cutoff_m)
    fb.set_progress(80, "nearest facilities")
    n = len(dem)
    best_d = np.full(n, np.inf)
    best_f = np.full(n, -1, dtype=np.int64)
    ok = np.flatnonzero(dem.ok)
    e = dem.edge[ok]
    u = network.edge_u[e]
    v = network.edge_v[e]
    du = node_d[u] + dem.to_u_m[ok]
    dv = node_d[v] + dem.to_v_m[ok]
    via_v = dv < du
    best_d[ok] = np.where(via_v, dv, du)
    best_f[ok] = np.where(via_v, node_f[v], node_f[u])
    # two points on the same edge: straight along the edge, without touching a node
    fac_ok = np.flatnonzero(fac.ok)
    if fac_ok.size and ok.size:
        fe = fac.edge[fac_ok]
        order = np.argsort(fe, kind="stable")
        fe_sorted = fe[order]
        lo = np.searchsorted(fe_sorted, e, side="left")
        hi = np.searchsorted(fe_sorted, e, side="right")
        cnt = hi - lo
        has = np.flatnonzero(cnt > 0)
        if has.size:
            rep = np.repeat(has, cnt[has])
            offs = np.arange(rep.size) - np.repeat(np.cumsum(cnt[has]) - cnt[has], cnt[has])
            fpos = fac_ok[order[lo[rep] + offs]]
            dpos = ok[rep]
            along = np.abs(dem.to_u_m[dpos] - fac.to_u_m[fpos]) + fac.access_m[fpos]
            # several facilities on one edge: keep the closest per demand point
            srt = np.lexsort((along, dpos))
            first = np.ones(srt.size, dtype=bool)
            first[1:] = dpos[srt][1:] != dpos[srt][:-1]
            srt = srt[first]
            better = along[srt] < best_d[dpos[srt]]
            srt = srt[better]
            best_d[dpos[srt]] = along[srt]
            best_f[dpos[srt]] = fpos[srt]
    total = best_d + np.where(dem.ok, dem.access_m, np.inf)
    limit = np.inf if cutoff_m is None else float(cutoff_m)
    reach = np.isfinite(total) & (total <= limit)
    reason = np.full(n, REACHABLE, dtype=np.int8)
    reason[~dem.ok] = NO_ROAD
    fac_comps = np.unique(network.component[network.edge_u[fac.edge[fac_ok]]]) if fac_ok.size else np.zeros(0, np.int64)
    dem_comp = np.full(n, -1, dtype=np.int64)
    dem_comp[ok] = network.component[u]
    other = dem.ok & ~np.isin(dem_comp, fac_comps)
    reason[other] = OTHER_COMPONENT
    reason[dem.ok & ~other & ~reach] = BEYOND_CUTOFF
    reach &= reason == REACHABLE
    dist = np.where(reach, total, np.nan)
    fidx = np.where(reach, best_f, -1)
    fb.set_progress(100, "done")
    return NearestResult(fidx, dist, reason)


def distance_matrix(
    network: RoadNetwork,
    origins,
    destinations,
    *,
    cutoff_m: float | None = None,
    max_snap_m: float | None = None,
    feedback: Feedback | None = None,
    chunk_cells: int = 5_000_000,
) -> np.ndarray:
    """Road distances between every origin and every destination.

    Returns
    -------
    numpy.ndarray
        Dense ``(n_origins, n_destinations)`` metres including both access distances;
        ``np.inf`` where unreachable (other component, unsnapped point, or farther than
        ``cutoff_m``). Origins are run in chunks of about ``chunk_cells`` graph cells so
        memory stays bounded, with a cancel check between chunks.
    """
    fb = ensure_feedback(feedback)
    org = _snap(network, origins, max_snap_m)
    dst = _snap(network, destinations, max_snap_m)
    n = network.n_nodes
    out = np.full((len(org), len(dst)), np.inf)
    oids = np.flatnonzero(org.ok)
    dok = np.flatnonzero(dst.ok)
    if oids.size == 0 or dok.size == 0:
        return out
    de = dst.edge[dok]
    du = network.edge_u[de]
    dv = network.edge_v[de]
    limit = _limit(cutoff_m)
    graph = _with_sources(network, org, oids)
    step = max(1, int(chunk_cells // max(n, 1)))
    for start in range(0, oids.size, step):
        fb.step(start, oids.size, "road distances")
        chunk = np.arange(start, min(start + step, oids.size))
        d = csgraph.dijkstra(graph, directed=True, indices=n + chunk, limit=limit)
        best = np.minimum(d[:, du] + dst.to_u_m[dok], d[:, dv] + dst.to_v_m[dok])
        # same edge: straight along it
        oe = org.edge[oids[chunk]]
        same = oe[:, None] == de[None, :]
        if same.any():
            r, c = np.nonzero(same)
            along = np.abs(org.to_u_m[oids[chunk][r]] - dst.to_u_m[dok[c]]) + org.access_m[oids[chunk][r]]
            best[r, c] = np.minimum(best[r, c], along)
        best = best + dst.access_m[dok][None, :]
        if cutoff_m is not None:
            best[best > float(cutoff_m)] = np.inf
        out[np.ix_(oids[chunk], dok)] = best
    fb.set_progress(100, "road distances done")
    return out


# ----------------------------------------------------------------------------------------
# service areas
def service_area_lines(
    network: RoadNetwork,
    facilities,
    radius_m: float,
    *,
    max_snap_m: float | None = None,
    feedback: Feedback | None = None,
    chunk_cells: int = 5_000_000,
) -> np.ndarray:
    """The road parts within ``radius_m`` (along the roads, incl. access) of each facility.

    Returns
    -------
    numpy.ndarray
        One shapely ``MultiLineString`` per facility (empty when it has no road within
        ``max_snap_m``). Partly reached edges are cut at the exact reach.
    """
    import shapely

    fb = ensure_feedback(feedback)
    fac = _snap(network, facilities, max_snap_m)
    n = network.n_nodes
    out = np.array([shapely.MultiLineString()] * len(fac), dtype=object)
    ids = np.flatnonzero(fac.ok)
    if ids.size == 0:
        return out
    r = float(radius_m)
    graph = _with_sources(network, fac, ids)
    step = max(1, int(chunk_cells // max(n, 1)))
    eu, ev, el = network.edge_u, network.edge_v, network.edge_length_m
    xy_u, xy_v = network.node_xy[eu], network.node_xy[ev]
    for start in range(0, ids.size, step):
        fb.step(start, ids.size, "service areas")
        chunk = np.arange(start, min(start + step, ids.size))
        d = csgraph.dijkstra(graph, directed=True, indices=n + chunk, limit=_limit(r))
        for row, j in enumerate(chunk):
            f = ids[j]
            du, dv = d[row, eu], d[row, ev]
            reach_u = np.clip(r - du, 0, None)  # how far the reach enters from u
            reach_v = np.clip(r - dv, 0, None)
            touched = (du <= r) | (dv <= r)
            own = fac.edge[f]
            touched[own] = False  # the facility's own edge is cut below
            full = touched & (reach_u + reach_v >= el)
            part = touched & ~full
            segs = [np.stack([xy_u[full], xy_v[full]], axis=1)]
            fu = part & (du <= r)
            if fu.any():
                tt = (reach_u[fu] / np.maximum(el[fu], 1e-12))[:, None]
                segs.append(np.stack([xy_u[fu], xy_u[fu] + tt * (xy_v[fu] - xy_u[fu])], axis=1))
            fv = part & (dv <= r)
            if fv.any():
                tt = (reach_v[fv] / np.maximum(el[fv], 1e-12))[:, None]
                segs.append(np.stack([xy_v[fv], xy_v[fv] + tt * (xy_u[fv] - xy_v[fv])], axis=1))
            # the facility's own edge: from its snapped position both ways, and from either
            # end if the reach comes round; the union of these intervals along the edge
            L = float(el[own])
            rest = r - fac.access_m[f]
            spans = []
            if rest >= 0:
                spans.append((max(0.0, fac.to_u_m[f] - rest), min(L, fac.to_u_m[f] + rest)))
            if reach_u[own] > 0:
                spans.append((0.0, min(L, float(reach_u[own]))))
            if reach_v[own] > 0:
                spans.append((max(0.0, L - float(reach_v[own])), L))
            merged: list[list[float]] = []
            for a0, b0 in sorted(spans):
                if merged and a0 <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], b0)
                else:
                    merged.append([a0, b0])
            pa, pb = network.node_xy[eu[own]], network.node_xy[ev[own]]
            for a0, b0 in merged:
                if b0 > a0:
                    ta, tb = a0 / max(L, 1e-12), b0 / max(L, 1e-12)
                    segs.append(np.array([[pa + ta * (pb - pa), pa + tb * (pb - pa)]]))
            allseg = np.concatenate(segs, axis=0)
            if allseg.shape[0]:
                out[f] = shapely.multilinestrings(shapely.linestrings(allseg))
    fb.set_progress(100, "service areas done")
    return out


def service_area_polygons(
    network: RoadNetwork,
    facilities,
    radius_m: float,
    *,
    width_m: float = 30.0,
    max_snap_m: float | None = None,
    feedback: Feedback | None = None,
) -> np.ndarray:
    """Network service areas as polygons: the reached road parts buffered by ``width_m``.

    The polygon is the union of the road parts reachable within ``radius_m`` (see
    :func:`service_area_lines`), each widened by ``width_m`` on both sides (about the
    depth of the buildings that front a street). This follows the roads rather than
    drawing a circle; it is meant for maps, counts come from :func:`nearest_facility`.
    """
    import shapely

    lines = service_area_lines(network, facilities, radius_m, max_snap_m=max_snap_m, feedback=feedback)
    return shapely.buffer(lines, float(width_m), quad_segs=4)
