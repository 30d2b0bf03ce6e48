"""gridtool.network: hand-built road grids with distances known by hand, and networkx on random ones."""
from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from gridtool.errors import Cancelled, CRSError, InputError
from gridtool.feedback import Feedback
from gridtool.network import (
    BEYOND_CUTOFF,
    NO_ROAD,
    OTHER_COMPONENT,
    REACHABLE,
    RoadNetwork,
    build_network,
    distance_matrix,
    nearest_facility,
    node_distances,
    service_area_lines,
    service_area_polygons,
    snap_points,
)


def road_grid(n: int = 4, step: float = 100.0, *, noded: bool = True) -> gpd.GeoDataFrame:
    """Lines x = 0..(n-1)*step and y = 0..(n-1)*step; noded = one line per block side."""
    lines = []
    top = (n - 1) * step
    for i in range(n):
        c = i * step
        if noded:
            for j in range(n - 1):
                lines.append(shapely.LineString([(j * step, c), ((j + 1) * step, c)]))
                lines.append(shapely.LineString([(c, j * step), (c, (j + 1) * step)]))
        else:
            lines.append(shapely.LineString([(0, c), (top, c)]))
            lines.append(shapely.LineString([(c, 0), (c, top)]))
    return gpd.GeoDataFrame({"name": [f"r{k}" for k in range(len(lines))]}, geometry=lines, crs=4549)


def test_grid_network_shape_and_one_component():
    net = build_network(road_grid(4))
    assert (net.n_nodes, net.n_edges, net.n_components) == (16, 24, 1)
    assert np.allclose(net.edge_length_m, 100.0)
    assert (net.adjacency != net.adjacency.T).nnz == 0


def test_unnoded_crossings_stay_apart_unless_split():
    # lines crossing without a shared vertex are no junction (a bridge); lines ending on
    # the border roads are T-junctions and do join them
    net = build_network(road_grid(4, noded=False))
    assert net.n_components == 1
    assert not np.any(np.all(net.node_xy == [100.0, 100.0], axis=1))
    a, b = np.array([[100.0, 50.0]]), np.array([[50.0, 100.0]])
    assert distance_matrix(net, a, b)[0, 0] == pytest.approx(50 + 100 + 100 + 50)
    split = build_network(road_grid(4, noded=False), split_at_crossings=True)
    assert (split.n_nodes, split.n_edges, split.n_components) == (16, 24, 1)
    assert distance_matrix(split, a, b)[0, 0] == pytest.approx(100.0)
    # the noded parts remember their road row
    assert set(np.unique(split.edge_road)) == set(range(8))
    # without T-junction joining, the lines only meet at the four corners
    bare = build_network(road_grid(4, noded=False), join_t_junctions=False)
    assert bare.n_components == 5


def test_t_junction_joins_the_road_it_ends_on():
    roads = gpd.GeoSeries([shapely.LineString([(0, 0), (1000, 0)]), shapely.LineString([(500, 0.4), (500, 400)])], crs=4549)
    net = build_network(roads)
    assert net.n_components == 1 and net.n_edges == 3
    d = distance_matrix(net, np.array([[0.0, 0.0]]), np.array([[500.0, 400.0]]))[0, 0]
    assert d == pytest.approx(900.0, abs=0.5)


def test_snap_tolerance_joins_small_gaps():
    roads = gpd.GeoSeries([shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(100.4, 0.3), (200, 0)])], crs=4549)
    assert build_network(roads, snap_tolerance_m=1.0).n_components == 1
    assert build_network(roads, snap_tolerance_m=0.0).n_components == 2


def test_parallel_edges_keep_the_shortest():
    net = RoadNetwork.from_edges(np.array([[0, 0], [100, 0.0]]), [0, 0, 1], [1, 1, 0], [150.0, 100.0, 120.0])
    d, f = node_distances(net, np.array([[0.0, 0.0]]))
    assert d.tolist() == [0.0, 100.0]
    assert f.tolist() == [0, 0]


def test_hand_computed_grid_distances():
    net = build_network(road_grid(4))
    fac = np.array([[0.0, 0.0]])
    # on the top road at x=250: 300 up + 250 along; 10 m off the road adds 10 access
    dem = np.array([[250.0, 300.0], [250.0, 310.0], [40.0, 0.0], [100.0, 100.0]])
    idx, dist, reason = nearest_facility(net, dem, fac)
    assert dist.tolist() == [550.0, 560.0, 40.0, 200.0]
    assert idx.tolist() == [0, 0, 0, 0]
    assert (reason == REACHABLE).all()


def test_points_on_the_same_edge_go_straight_along_it():
    net = build_network(road_grid(4))
    fac = np.array([[20.0, 0.0], [90.0, 0.0]])
    dem = np.array([[80.0, 0.0], [50.0, 5.0]])
    idx, dist, _ = nearest_facility(net, dem, fac)
    assert idx.tolist() == [1, 0]
    assert dist.tolist() == pytest.approx([10.0, 35.0])
    m = distance_matrix(net, fac, dem)
    assert m == pytest.approx(np.array([[60.0, 35.0], [10.0, 45.0]]))


def test_access_distance_of_facility_counts():
    net = build_network(road_grid(4))
    idx, dist, _ = nearest_facility(net, np.array([[100.0, 50.0]]), np.array([[0.0, 30.0]]))
    # facility on the road x=0 at y=30, demand on the road x=100 at y=50: down 30, across 100, up 50
    assert dist[0] == pytest.approx(30.0 + 100.0 + 50.0)


def test_radius_boundary_is_inclusive():
    net = build_network(road_grid(6))  # roads up to 500 m
    fac = np.array([[0.0, 0.0]])
    dem = np.array([[500.0, 0.0], [300.0, 200.0]])  # both exactly 500 m by road
    idx, dist, reason = nearest_facility(net, dem, fac, cutoff_m=500.0)
    assert dist.tolist() == [500.0, 500.0]
    assert (reason == REACHABLE).all()
    idx, dist, reason = nearest_facility(net, dem, fac, cutoff_m=499.999)
    assert np.isnan(dist).all()
    assert (reason == BEYOND_CUTOFF).all()
    assert (idx == -1).all()


def test_unreachable_reasons_never_zero_or_inf():
    roads = road_grid(3)
    island = gpd.GeoDataFrame({"name": ["island"]}, geometry=[shapely.LineString([(1000, 0), (1100, 0)])], crs=4549)
    net = build_network(pd_concat(roads, island))
    assert net.n_components == 2
    fac = np.array([[0.0, 0.0]])
    dem = np.array([[1050.0, 0.0], [5000.0, 5000.0], [200.0, 200.0], [100.0, 0.0]])
    idx, dist, reason = nearest_facility(net, dem, fac, cutoff_m=300.0, max_snap_m=100.0)
    assert reason.tolist() == [OTHER_COMPONENT, NO_ROAD, BEYOND_CUTOFF, REACHABLE]
    assert idx.tolist() == [-1, -1, -1, 0]
    assert np.isnan(dist[:3]).all() and dist[3] == 100.0
    m = distance_matrix(net, fac, dem, max_snap_m=100.0)
    assert m[0].tolist() == [np.inf, np.inf, 400.0, 100.0]
    assert np.isinf(distance_matrix(net, fac, dem, cutoff_m=300.0, max_snap_m=100.0)[0, 2])


def pd_concat(*frames):
    import pandas as pd

    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)


def test_snap_to_long_segment_not_only_nodes():
    roads = gpd.GeoSeries([shapely.LineString([(0, 0), (10_000, 0)]), shapely.LineString([(0, 50), (0, 60)])], crs=4549)
    net = build_network(roads)
    s = snap_points(net, np.array([[5000.0, 20.0]]))
    assert s.access_m[0] == pytest.approx(20.0)
    assert s.to_u_m[0] + s.to_v_m[0] == pytest.approx(10_000.0)
    assert s.snapped_xy[0] == pytest.approx([5000.0, 0.0])


def test_snapping_matches_brute_force():
    rng = np.random.default_rng(3)
    segs = [shapely.LineString(rng.uniform(0, 2000, (2, 2))) for _ in range(200)]
    segs.append(shapely.LineString([(-3000, 1000), (5000, 1100)]))  # one very long segment
    net = build_network(gpd.GeoSeries(segs, crs=4549))
    pts = np.vstack([rng.uniform(-1000, 3000, (2000, 2)), net.node_xy[:20]])
    s = snap_points(net, pts, max_snap_m=40.0)
    brute = shapely.distance(shapely.points(pts)[:, None], net.edge_lines()[None, :]).min(axis=1)
    assert np.array_equal(s.edge >= 0, brute <= 40.0)
    assert s.access_m[s.edge >= 0] == pytest.approx(brute[brute <= 40.0], abs=1e-9)


def _networkx_reference(net: RoadNetwork, fac_xy: np.ndarray, dem_xy: np.ndarray) -> np.ndarray:
    """Distances by an independent route: split edges at the snapped points (found by brute
    force with shapely), add access edges, and run networkx Dijkstra from every facility."""
    lines = net.edge_lines()
    g = nx.Graph()
    for e, (a, b, w) in enumerate(zip(net.edge_u.tolist(), net.edge_v.tolist(), net.edge_length_m.tolist())):
        if not g.has_edge(a, b) or g[a][b]["weight"] > w:
            g.add_edge(a, b, weight=w)
    splits: dict[int, list[tuple[float, object]]] = {}
    labels = []
    for kind, pts in (("f", fac_xy), ("d", dem_xy)):
        for i, (x, y) in enumerate(pts):
            p = shapely.Point(x, y)
            dists = shapely.distance(p, lines)
            e = int(np.argmin(dists))
            pos = lines[e].project(p)
            node = (kind, i)
            g.add_node(node)
            splits.setdefault(e, []).append((pos, ("s", kind, i)))
            g.add_edge(node, ("s", kind, i), weight=float(dists[e]))
            labels.append(node)
    for e, items in splits.items():
        a, b, L = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_length_m[e])
        chain = [(0.0, a)] + sorted(items, key=lambda t: t[0]) + [(L, b)]
        for (p0, n0), (p1, n1) in zip(chain[:-1], chain[1:]):
            w = p1 - p0
            if not g.has_edge(n0, n1) or g[n0][n1]["weight"] > w:
                g.add_edge(n0, n1, weight=w)
    out = np.full((len(fac_xy), len(dem_xy)), np.inf)
    for i in range(len(fac_xy)):
        d = nx.single_source_dijkstra_path_length(g, ("f", i))
        for j in range(len(dem_xy)):
            out[i, j] = d.get(("d", j), np.inf)
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_instances_match_networkx(seed):
    rng = np.random.default_rng(seed)
    side = 8
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    xy = np.column_stack([ii.ravel() * 100.0, jj.ravel() * 100.0]) + rng.uniform(-25, 25, (side * side, 2))
    ids = np.arange(side * side).reshape(side, side)
    u = np.concatenate([ids[:-1, :].ravel(), ids[:, :-1].ravel()])
    v = np.concatenate([ids[1:, :].ravel(), ids[:, 1:].ravel()])
    keep = rng.random(u.size) > 0.25  # gaps and dangling pieces
    roads = gpd.GeoSeries(shapely.linestrings(np.stack([xy[u[keep]], xy[v[keep]]], axis=1)), crs=4549)
    net = build_network(roads)
    fac = rng.uniform(-50, 750, (6, 2))
    dem = rng.uniform(-50, 750, (40, 2))
    ref = _networkx_reference(net, fac, dem)
    got = distance_matrix(net, fac, dem)
    assert np.array_equal(np.isinf(got), np.isinf(ref))
    fin = np.isfinite(ref)
    assert got[fin] == pytest.approx(ref[fin], abs=1e-6)
    idx, dist, reason = nearest_facility(net, dem, fac, cutoff_m=400.0)
    best = ref.min(axis=0)
    within = best <= 400.0
    assert np.array_equal(reason == REACHABLE, within)
    assert dist[within] == pytest.approx(best[within], abs=1e-6)
    assert ref[idx[within], np.flatnonzero(within)] == pytest.approx(best[within], abs=1e-6)
    assert set(reason[~within].tolist()) <= {OTHER_COMPONENT, BEYOND_CUTOFF}


def test_service_area_lines_cut_at_the_reach():
    net = build_network(road_grid(4))
    lines = service_area_lines(net, np.array([[0.0, 0.0], [150.0, 300.0]]), 150.0)
    # corner: 100 + 50 along both roads, and 50 on each of the two roads crossing at 100 m
    assert lines[0].length == pytest.approx(400.0, abs=1e-6)
    # mid-edge on the top road: 150 both ways along it, 100 down each road crossing 50 m away
    assert shapely.union_all(shapely.get_parts(lines[1])).length == pytest.approx(300.0 + 100.0 + 100.0, abs=1e-6)
    polys = service_area_polygons(net, np.array([[0.0, 0.0]]), 150.0, width_m=10.0)
    assert polys[0].contains(shapely.Point(140, 5)) and not polys[0].contains(shapely.Point(160, 5))


def test_service_area_of_unsnapped_facility_is_empty():
    net = build_network(road_grid(3))
    lines = service_area_lines(net, np.array([[5000.0, 0.0]]), 100.0, max_snap_m=50.0)
    assert lines[0].is_empty


def test_cancel_stops_distance_matrix():
    net = build_network(road_grid(5))
    fb = Feedback()
    fb.cancel()
    with pytest.raises(Cancelled):
        distance_matrix(net, np.array([[0.0, 0.0]]), np.array([[100.0, 0.0]]), feedback=fb)


def test_bad_inputs_are_explained():
    with pytest.raises(CRSError, match="geographic"):
        build_network(gpd.GeoSeries([shapely.LineString([(120, 31), (120.1, 31)])], crs=4326))
    with pytest.raises(InputError, match="LineString"):
        build_network(gpd.GeoSeries([shapely.Point(0, 0)], crs=4549))
    net = build_network(road_grid(3))
    with pytest.raises(InputError, match="cutoff_m"):
        nearest_facility(net, np.zeros((1, 2)), np.zeros((1, 2)), cutoff_m=-1.0)
    with pytest.raises(InputError, match=r"\(n, 2\)"):
        snap_points(net, np.zeros(3))


def test_points_exactly_on_nodes_snap_like_the_kd_tree_path():
    import gridtool.network as gn

    rng = np.random.default_rng(3)
    net = build_network(road_grid(6, 100.0))
    on = net.node_xy[rng.choice(net.n_nodes, 12, replace=False)]
    off = rng.uniform(-20, 520, (30, 2))
    pts = np.vstack([on, off, on[:3]])  # some repeated points too
    assert (gn._exact_nodes(net, pts)[:12] >= 0).all() and (gn._exact_nodes(net, off) == -1).all()
    fast = gn._nearest_edge(net, pts, None)
    slow = gn._nearest_edge(net, pts, None, at_nodes=False)
    assert np.array_equal(fast, slow)
    a, b = snap_points(net, pts), snap_points(net, pts[::-1])
    assert np.array_equal(a.edge, b.edge[::-1]) and np.array_equal(a.access_m[:12], np.zeros(12))


def test_duplicate_nodes_and_isolated_nodes_are_left_to_the_kd_tree():
    import gridtool.network as gn

    # nodes 0 and 3 share a position but belong to two separate edges; node 5 has no edge
    xy = np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 100.0], [0.0, 0.0], [-100.0, 0.0], [50.0, 50.0]])
    net = RoadNetwork.from_edges(xy, [0, 3], [1, 4])
    assert gn._exact_nodes(net, np.array([[0.0, 0.0], [50.0, 50.0], [100.0, 0.0]])).tolist() == [-1, -1, 1]
    e = gn._nearest_edge(net, np.array([[0.0, 0.0], [50.0, 50.0]]), None)
    assert np.array_equal(e, gn._nearest_edge(net, np.array([[0.0, 0.0], [50.0, 50.0]]), None, at_nodes=False))


def test_components_are_computed_on_first_use_or_taken_as_given():
    xy = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0], [6.0, 0.0], [7.0, 0.0]])
    net = RoadNetwork.from_edges(xy, [0, 2, 3], [1, 3, 4])
    assert net.component.tolist() == [1, 1, 0, 0, 0] and net.n_components == 2
    given = RoadNetwork(net.node_xy, net.edge_u, net.edge_v, net.edge_length_m, net.edge_road, net.adjacency,
                        np.array([4, 4, 4, 4, 4]))
    assert given.component.tolist() == [4] * 5
    with pytest.raises(AttributeError):
        net.component = np.zeros(5)  # still frozen


@pytest.mark.parametrize("cutoff", [None, 250.0])
def test_facilities_on_nodes_start_from_the_nodes_and_match_networkx(cutoff):
    rng = np.random.default_rng(4)
    side = 12
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    xy = np.column_stack([ii.ravel() * 100.0, jj.ravel() * 100.0]) + rng.uniform(-20, 20, (side * side, 2))
    ids = np.arange(side * side).reshape(side, side)
    u = np.concatenate([ids[:-1, :].ravel(), ids[:, :-1].ravel()])
    v = np.concatenate([ids[1:, :].ravel(), ids[:, 1:].ravel()])
    w = np.hypot(*(xy[u] - xy[v]).T)
    net = RoadNetwork.from_edges(xy, u, v, w)
    # random nodes, the far corner (only ever an edge's v end) and one node twice
    src = np.concatenate([rng.choice(side * side - 1, 7, replace=False), [side * side - 1]])
    src = np.concatenate([src, src[:1]])
    dist, near = node_distances(net, xy[src], cutoff_m=cutoff)
    g = nx.Graph()
    g.add_weighted_edges_from(zip(u.tolist(), v.tolist(), w.tolist()))
    ref = nx.multi_source_dijkstra_path_length(g, src.tolist(), cutoff=cutoff)
    expect = np.full(side * side, np.inf)
    expect[list(ref)] = list(ref.values())
    lim = np.inf if cutoff is None else cutoff
    assert np.array_equal(np.where(dist <= lim, dist, np.inf), expect)
    reached = np.isfinite(expect)
    assert (near[reached] >= 0).all() and (near[reached] < src.size - 1).all()  # the first of a shared node
    # the facility named is a nearest one: its own distance to the node equals the node's distance
    own = np.array([nx.dijkstra_path_length(g, int(src[f]), int(k)) for k, f in zip(np.flatnonzero(reached), near[reached])])
    assert own == pytest.approx(expect[reached], abs=1e-9)
    # the general path (virtual source nodes, forced by a negligible access distance) agrees
    import dataclasses

    snapped = snap_points(net, xy[src])
    forced = dataclasses.replace(snapped, access_m=snapped.access_m + 1e-300)
    v_dist, v_near = node_distances(net, forced, cutoff_m=cutoff)
    assert np.allclose(v_dist, dist, rtol=0, atol=1e-12) and np.array_equal(np.isinf(v_dist), np.isinf(dist))
    assert np.array_equal(src[v_near[reached]], src[near[reached]])  # same nodes (ties between twins aside)
