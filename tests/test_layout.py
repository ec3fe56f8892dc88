"""Tests of harpflow.layout: no overlaps, lanes as bands, determinism."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import pytest
from conftest import CORPORA, corpus

from harpflow.errors import HarpflowWarning
from harpflow.io.bpmn import read_bpmn
from harpflow.layout import Layout, existing_layout, layout, route
from harpflow.model import Bounds, Flow


def overlap(a: Bounds, b: Bounds) -> bool:
    """True when two rectangles share interior area."""
    return (
        a[0] < b[0] + b[2]
        and b[0] < a[0] + a[2]
        and a[1] < b[1] + b[3]
        and b[1] < a[1] + a[3]
    )


def inside(a: Bounds, b: Bounds) -> bool:
    """True when rectangle a lies within rectangle b."""
    return (
        a[0] >= b[0]
        and a[1] >= b[1]
        and a[0] + a[2] <= b[0] + b[2]
        and a[1] + a[3] <= b[1] + b[3]
    )


def ancestors(flow: Flow, node: str) -> set[str]:
    """Enclosing sub-processes and, for a boundary event, its activity."""
    out: set[str] = set()
    data = flow.graph.nodes[node]
    if data.get("attached_to"):
        out.add(data["attached_to"])
    parent = data.get("parent")
    while parent:
        out.add(parent)
        parent = flow.graph.nodes[parent].get("parent")
    return out


def check_layout(flow: Flow, lay: Layout) -> None:
    """The properties every generated layout must have."""
    assert set(lay.nodes) == set(flow.graph)
    shapes = lay.shapes()
    expanded = {d.get("parent") for _, d in flow.graph.nodes(data=True)}
    for a, b in itertools.combinations(sorted(shapes), 2):
        # A data object or annotation of a sub-process's child is drawn inside it.
        if (a in expanded and b not in flow.graph and inside(shapes[b], shapes[a])) or (
            b in expanded and a not in flow.graph and inside(shapes[a], shapes[b])
        ):
            continue
        if (
            a in flow.graph
            and b in flow.graph
            and (b in ancestors(flow, a) or a in ancestors(flow, b))
        ):
            continue
        assert not overlap(shapes[a], shapes[b]), (a, shapes[a], b, shapes[b])
    for node, data in flow.graph.nodes(data=True):
        if data.get("parent"):
            if data.get("type") != "boundaryEvent":
                assert inside(lay.nodes[node], lay.nodes[data["parent"]])
        elif data.get("lane_id") and data.get("type") != "boundaryEvent":
            assert inside(lay.nodes[node], lay.lanes[data["lane_id"]]), node
    for lane in flow.lanes:
        assert lane.id in lay.lanes
        if lane.parent:
            assert inside(lay.lanes[lane.id], lay.lanes[lane.parent])
        if lane.pool:
            assert inside(lay.lanes[lane.id], lay.pools[lane.pool])
    leaf = [ln.id for ln in flow.lanes if ln.id not in {x.parent for x in flow.lanes}]
    for a, b in itertools.combinations(leaf, 2):
        assert not overlap(lay.lanes[a], lay.lanes[b])
    for a, b in itertools.combinations([p.id for p in flow.pools], 2):
        assert not overlap(lay.pools[a], lay.pools[b])
    for edge in flow.edges:
        assert len(lay.edges[edge.id]) >= 2


def sample() -> Flow:
    flow = Flow("転入届")
    flow.add_pool("P", "市役所")
    flow.add_pool("Q", "住民")
    flow.add_lane("L1", "窓口", pool="P")
    flow.add_lane("L2", "住民記録係", pool="P")
    flow.add_lane("L2a", "審査", pool="P", parent="L2")
    flow.add_lane("L2b", "入力", pool="P", parent="L2")
    add = flow.add_node
    add("s", type="startEvent", lane_id="L1", pool_id="P")
    add("t1", label="受付", lane_id="L1", pool_id="P")
    add("g", type="exclusiveGateway", label="不備?", lane_id="L1", pool_id="P")
    add("t2", label="補正依頼", lane_id="L1", pool_id="P")
    add("t3", type="userTask", label="審査", lane_id="L2a", pool_id="P")
    add("sp", type="subProcess", label="入力", lane_id="L2b", pool_id="P")
    add("sp.s", type="startEvent", parent="sp", lane_id="L2b", pool_id="P")
    add("sp.t", label="記録", parent="sp", lane_id="L2b", pool_id="P")
    add("sp.e", type="endEvent", parent="sp", lane_id="L2b", pool_id="P")
    add("b1", type="boundaryEvent", attached_to="sp", trigger="error")
    add("b2", type="boundaryEvent", attached_to="t3", trigger="timer")
    add("e", type="endEvent", lane_id="L2b", pool_id="P")
    add("x", type="endEvent", label="取下げ", lane_id="L1", pool_id="P")
    add("c", type="task", label="届出", pool_id="Q")
    for i, (u, v) in enumerate(
        [
            ("s", "t1"),
            ("t1", "g"),
            ("g", "t2"),
            ("t2", "t1"),
            ("g", "t3"),
            ("t3", "sp"),
            ("sp.s", "sp.t"),
            ("sp.t", "sp.e"),
            ("sp", "e"),
            ("b1", "x"),
            ("b2", "x"),
        ]
    ):
        flow.add_edge(u, v, id=f"f{i}")
    flow.add_edge("c", "s", id="m1", kind="message")
    flow.add_pool_message("m2", "t2", "Q")
    flow.add_data_object("d1", "転入届書", inputs=["t1"], outputs=["t2"])
    flow.add_data_object("d2", "住民票", kind="dataStoreReference", outputs=["sp.t"])
    flow.add_data_object("d3", "孤立")
    flow.add_annotation("a1", "本人確認書類を確認", targets=["t1"])
    return flow


def test_sample_layout_has_no_overlaps_and_respects_lanes() -> None:
    flow = sample()
    lay = layout(flow)
    check_layout(flow, lay)
    # Sub-process children sit inside the expanded sub-process.
    for child in ("sp.s", "sp.t", "sp.e"):
        x, y, w, h = lay.nodes[child]
        sx, sy, sw, sh = lay.nodes["sp"]
        assert sx < x and x + w < sx + sw and sy < y and y + h < sy + sh
    # Left to right: a successor lies right of its predecessor (forward edges).
    assert lay.nodes["t1"][0] > lay.nodes["s"][0]
    assert lay.nodes["t3"][0] > lay.nodes["g"][0]
    # The back edge t2 -> t1 does not push t1 to the right of t2.
    assert lay.nodes["t1"][0] < lay.nodes["t2"][0]
    # Pools stack top to bottom in the flow's order.
    assert lay.pools["P"][1] + lay.pools["P"][3] <= lay.pools["Q"][1]
    # Boundary events sit on the lower edge of their activity.
    bx, by, bw, bh = lay.nodes["b1"]
    sx, sy, sw, sh = lay.nodes["sp"]
    assert by + bh / 2 == pytest.approx(sy + sh)
    assert sx <= bx and bx + bw <= sx + sw
    assert ("d1", "t1") in lay.associations and ("a1", "t1") in lay.associations
    assert "m2" in lay.pool_messages


def test_layout_is_deterministic() -> None:
    assert layout(sample()) == layout(sample())


def test_layout_of_flow_without_lanes_or_edges() -> None:
    flow = Flow()
    for i in range(5):
        flow.add_node(f"n{i}")
    lay = layout(flow)
    check_layout(flow, lay)
    assert len({b[1] for b in lay.nodes.values()}) == 5  # stacked in one column


def test_cycle_only_graph_is_layered() -> None:
    flow = Flow()
    for n in "abc":
        flow.add_node(n)
    flow.add_edge("a", "b")
    flow.add_edge("b", "c")
    flow.add_edge("c", "a")
    lay = layout(flow)
    check_layout(flow, lay)
    assert lay.nodes["a"][0] < lay.nodes["b"][0] < lay.nodes["c"][0]


def test_barycenter_keeps_parallel_branches_uncrossed() -> None:
    flow = Flow()
    flow.add_node("s", type="parallelGateway")
    flow.add_node("j", type="parallelGateway")
    for n in ("a1", "b1", "a2", "b2"):
        flow.add_node(n)
    flow.add_edge("s", "a1")
    flow.add_edge("s", "b1")
    flow.add_edge("b1", "b2")  # added first: naive order would cross
    flow.add_edge("a1", "a2")
    flow.add_edge("a2", "j")
    flow.add_edge("b2", "j")
    lay = layout(flow)
    ya = lay.nodes["a1"][1] < lay.nodes["b1"][1]
    assert ya == (lay.nodes["a2"][1] < lay.nodes["b2"][1])


def test_route_is_orthogonal() -> None:
    pts = route((0, 0, 100, 80), (200, 200, 100, 80))
    for (x1, y1), (x2, y2) in itertools.pairwise(pts):
        assert x1 == x2 or y1 == y2
    back = route((200, 0, 100, 80), (0, 0, 100, 80))
    assert back[1][1] > 80


def test_existing_layout_keeps_bounds_and_fills_the_rest() -> None:
    flow = Flow()
    flow.add_lane("L", "窓口")
    flow.add_node("a", type="startEvent", lane_id="L", bounds=(0, 0, 36, 36))
    flow.add_node("b", lane_id="L", bounds=(100, -22, 100, 80))
    flow.add_edge("a", "b", id="f", waypoints=((36, 18), (100, 18)))
    flow.add_data_object("d", "届書", inputs=["b"])
    lay = existing_layout(flow)
    assert lay.nodes["b"] == (100, -22, 100, 80)
    assert lay.edges["f"] == ((36, 18), (100, 18))
    assert inside(lay.nodes["a"], lay.lanes["L"])
    assert not overlap(lay.data_objects["d"], lay.nodes["b"])
    flow.add_node("c")
    with pytest.raises(ValueError, match="no bounds"):
        existing_layout(flow)


def corpus_flows() -> list[Path]:
    files = sorted(CORPORA.glob("miwg/Reference/*.bpmn"))
    files += sorted(CORPORA.glob("hdbpmn/**/*.bpmn"))[::10]
    return files or [CORPORA / "absent.bpmn"]


@pytest.mark.parametrize(
    "path", corpus_flows(), ids=lambda p: str(p.relative_to(CORPORA))
)
def test_layout_of_real_flows(path: Path) -> None:
    """Corpus flows, their coordinates ignored, lay out without overlaps."""
    corpus(*path.relative_to(CORPORA).parts[:1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HarpflowWarning)
        flow = read_bpmn(path)
    lay = layout(flow)
    check_layout(flow, lay)
    assert layout(flow) == lay


def test_existing_layout_puts_a_black_box_pool_below_the_rest() -> None:
    flow = Flow()
    flow.add_pool("P", "市役所")
    flow.add_pool("Q", "住民")  # no process, no nodes, no coordinates
    flow.add_node("a", type="startEvent", pool_id="P", bounds=(100, 0, 36, 36))
    flow.add_node("b", pool_id="P", bounds=(200, -22, 100, 80))
    flow.add_pool_message("m", "Q", "a")
    lay = existing_layout(flow)
    assert not overlap(lay.pools["P"], lay.pools["Q"])
    assert lay.pools["Q"][1] > lay.nodes["b"][1] + lay.nodes["b"][3]
    assert len(lay.pool_messages["m"]) >= 2
