"""Road distances: gridtool.network vs networkx, graph building included on both sides.

A 224 x 224 road grid (50,176 nodes, 99,904 edges, jittered so edges are 100–180 m),
1,000 facilities on random nodes (tech-notes §6). Target (issue): >= 25x networkx
``multi_source_dijkstra_path_length`` including graph building.

Cases
-----
1. edges -> graph -> distance of every node to its nearest facility:
   ``RoadNetwork.from_edges`` + ``node_distances`` (facilities snapped onto edges through
   the segment index, built inside the timing) vs ``nx.Graph.add_weighted_edges_from`` +
   ``multi_source_dijkstra_path_length``.
   Also timed interleaved (ours, networkx, ours, ...) with the median of the paired
   ratios, which is fairer when other jobs load the machine. Facilities lying exactly on
   nodes are found by coordinate lookup and become Dijkstra sources directly.
2. the same with a 500 m cutoff on both sides; and with the facilities moved up to 5 m
   off the nodes (the general case: snapped through the segment index, virtual sources).
3. a road GeoDataFrame of 99,904 lines -> graph -> nearest facility of 50,176 demand
   points: ``build_network`` + ``nearest_facility`` vs networkx built from the same
   line coordinates (node ids by coordinate dict).

Run: ``.venv/bin/python bench/bench_network.py`` (or ``bench/run.py --only network``).
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import geopandas as gpd  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402

from _common import compare, interleaved, quick, timed  # noqa: E402
from gridtool.network import RoadNetwork, build_network, nearest_facility, node_distances  # noqa: E402




def grid(side: int, rng):
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    xy = np.column_stack([ii.ravel() * 140.0, jj.ravel() * 140.0]) + rng.uniform(-20, 20, (side * side, 2))
    ids = np.arange(side * side).reshape(side, side)
    u = np.concatenate([ids[:-1, :].ravel(), ids[:, :-1].ravel()])
    v = np.concatenate([ids[1:, :].ravel(), ids[:, 1:].ravel()])
    return xy + (480_000, 3_500_000), u, v


def main() -> None:
    side = 100 if quick() else 224
    rng = np.random.default_rng(7)
    xy, u, v = grid(side, rng)
    w = np.hypot(*(xy[u] - xy[v]).T)
    src = rng.choice(xy.shape[0], 1000, replace=False)
    fxy = xy[src]
    print(f"grid {side}x{side}: {xy.shape[0]:,} nodes, {u.size:,} edges ({w.min():.0f}-{w.max():.0f} m), 1,000 facilities")
    out = {}

    def ours(cutoff=None):
        net = RoadNetwork.from_edges(xy, u, v, w)
        out["ours"] = node_distances(net, fxy, cutoff_m=cutoff)[0]

    def peer(cutoff=None):
        g = nx.Graph()
        g.add_weighted_edges_from(zip(u.tolist(), v.tolist(), w.tolist()))
        out["nx"] = nx.multi_source_dijkstra_path_length(g, src.tolist(), cutoff=cutoff)

    ours(), peer()  # warm-up (first-call imports, allocator), untimed, for both sides
    a = compare("edges -> graph -> node distances to nearest of 1,000 facilities", ours, peer, repeat=5,
                peer_repeat=3, peer_name="networkx")
    d_nx = np.full(xy.shape[0], np.inf)
    d_nx[list(out["nx"])] = list(out["nx"].values())
    print(f"  max |ours - networkx| = {np.max(np.abs(out['ours'] - d_nx)):.2e} m")
    a2 = interleaved("same", ours, peer, rounds=7, peer_name="networkx")
    b = compare("same, cutoff 500 m", lambda: ours(500.0), lambda: peer(500.0), repeat=5, peer_repeat=3,
                peer_name="networkx")

    # the general case: facilities 5 m off the road (snapped onto edges through the segment
    # index, virtual source nodes); networkx still starts from the nodes, so this favours it
    off = fxy + rng.uniform(-5, 5, fxy.shape)

    def ours_off():
        net = RoadNetwork.from_edges(xy, u, v, w)
        out["ours_off"] = node_distances(net, off)[0]

    d = compare("same, facilities off the nodes (ours snaps them)", ours_off, peer, repeat=5, peer_repeat=3,
                peer_name="networkx")

    lines = gpd.GeoDataFrame(geometry=shapely.linestrings(np.stack([xy[u], xy[v]], axis=1)), crs=4549)
    facilities = gpd.GeoSeries(gpd.points_from_xy(fxy[:, 0], fxy[:, 1]), crs=4549)

    def ours_gdf():
        net = build_network(lines)
        out["ours_gdf"] = nearest_facility(net, xy, facilities)

    def peer_gdf():
        coords = shapely.get_coordinates(lines.geometry.values).reshape(-1, 2, 2)
        ids: dict[tuple[float, float], int] = {}
        g = nx.Graph()
        for (x0, y0), (x1, y1) in coords.tolist():
            a_ = ids.setdefault((x0, y0), len(ids))
            b_ = ids.setdefault((x1, y1), len(ids))
            g.add_edge(a_, b_, weight=((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5)
        sources = [ids[(x, y)] for x, y in fxy.tolist()]
        out["nx_gdf"] = nx.multi_source_dijkstra_path_length(g, sources)

    c = compare("road GeoDataFrame -> graph -> nearest facility of every node (50k demand)", ours_gdf, peer_gdf,
                repeat=3, peer_repeat=3, peer_name="networkx")
    print(f"targets: networkx/ours incl. graph building {a['ratio']:.1f}x, interleaved {a2:.1f}x (>= 25), "
          f"with cutoff {b['ratio']:.1f}x, facilities off the nodes {d['ratio']:.1f}x, from a road layer {c['ratio']:.1f}x")


if __name__ == "__main__":
    main()
