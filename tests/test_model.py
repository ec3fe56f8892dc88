"""Tests of the flow model."""

from __future__ import annotations

import pickle

import networkx as nx
import pytest

from harpflow.errors import HarpflowError, ModelError, ParseError
from harpflow.model import NODE_TYPES, Flow, SourceRef


def small_flow() -> Flow:
    flow = Flow("転入届", area="01", procedure="tennyu", legal_basis="住基法22条")
    flow.add_node("s", type="startEvent", label="開始", lane="住民")
    flow.add_node("t1", type="userTask", label="受付", lane="窓口", forms=["転入届書"])
    flow.add_node("g", type="exclusiveGateway", label="不備?", lane="窓口")
    flow.add_node("t2", label="補正依頼", lane="窓口")
    flow.add_node("e", type="endEvent", label="終了", lane="窓口")
    flow.add_edge("s", "t1")
    flow.add_edge("t1", "g")
    flow.add_edge("g", "t2", label="不備あり")
    flow.add_edge("t2", "t1")
    flow.add_edge("g", "e", label="不備なし", default=True)
    return flow


def test_graph_holds_the_attributes() -> None:
    flow = small_flow()
    assert isinstance(flow.graph, nx.DiGraph)
    assert flow.graph.nodes["t1"]["lane"] == "窓口"
    assert flow.graph.edges["g", "t2"]["label"] == "不備あり"
    assert flow.meta == {"legal_basis": "住基法22条"}
    assert (flow.name, flow.area, flow.procedure, flow.town) == (
        "転入届",
        "01",
        "tennyu",
        None,
    )


def test_node_and_edge_views() -> None:
    flow = small_flow()
    node = flow.nodes["t1"]
    assert (node.type, node.label, node.lane, node.forms) == (
        "userTask",
        "受付",
        "窓口",
        ("転入届書",),
    )
    assert node.is_activity and not node.is_gateway and not node.is_event
    edge = flow.edge(flow.graph.edges["g", "e"]["id"])
    assert edge.default and edge.label == "不備なし" and edge.kind == "sequence"
    assert [n.id for n in flow.steps()] == ["t1", "t2"]
    assert flow.successors("g") == ["t2", "e"]
    assert flow.predecessors("t1") == ["s", "t2"]


def test_lanes_are_created_once_in_order() -> None:
    flow = small_flow()
    assert [lane.name for lane in flow.lanes] == ["住民", "窓口"]
    assert flow.lane_names() == ["住民", "窓口"]


def test_nested_lanes_and_pools() -> None:
    flow = Flow()
    pool = flow.add_pool("P", "A市", process="proc")
    flow.add_lane("L1", "市民課", pool=pool.id)
    flow.add_lane("L2", "窓口", pool=pool.id, parent="L1")
    node = flow.add_node("t", lane_id="L2", pool_id="P")
    assert (node.lane, node.lane_id, node.pool) == ("窓口", "L2", "A市")
    assert flow.lane_names() == ["窓口"]
    with pytest.raises(ModelError, match="unknown parent lane"):
        flow.add_lane("L3", "x", parent="nope")


def test_stats_counts_everything() -> None:
    flow = small_flow()
    flow.add_pool("J", "J-LIS")
    flow.add_node("j", type="receiveTask", label="受信", pool="J-LIS")
    flow.add_edge("t1", "j", kind="message")
    flow.add_pool_message("m2", "t2", "J")
    flow.add_data_object("d", "住民票", kind="dataStoreReference", outputs=["t1"])
    stats = flow.stats()
    assert stats == {
        "nodes": 6,
        "by_type": {
            "endEvent": 1,
            "exclusiveGateway": 1,
            "receiveTask": 1,
            "startEvent": 1,
            "task": 1,
            "userTask": 1,
        },
        "sequence_flows": 5,
        "message_flows": 2,
        "lanes": 2,
        "pools": 1,
        "data_objects": 1,
    }
    assert flow.nodes["t1"].forms == ("転入届書", "住民票")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda f: f.add_node("t1"), "two nodes"),
        (lambda f: f.add_node("x", type="activity"), "unknown type"),
        (lambda f: f.add_node("x", medium="telepathy"), "unknown medium"),
        (lambda f: f.add_edge("t1", "nope"), "missing node"),
        (lambda f: f.add_edge("t2", "e", id=f.graph.edges["s", "t1"]["id"]), "two"),
        (lambda f: f.node("nope"), "no node"),
        (lambda f: f.add_edge("t1", "e", kind="data"), "unknown edge kind"),
    ],
)
def test_invalid_changes_raise_model_errors(call: object, message: str) -> None:
    flow = small_flow()
    with pytest.raises(ModelError, match=message) as info:
        call(flow)  # type: ignore[operator]
    assert isinstance(info.value, HarpflowError)


def test_duplicate_parallel_flows_are_counted() -> None:
    flow = small_flow()
    flow.add_edge("s", "t1", id="again")
    assert flow.stats()["sequence_flows"] == 6
    flow.remove_edge("s", "t1")
    assert flow.stats()["sequence_flows"] == 4


def test_copy_is_deep_and_frame_lists_nodes() -> None:
    flow = small_flow()
    other = flow.copy()
    other.update_node("t1", label="受理", lane="担当")
    assert flow.nodes["t1"].label == "受付"
    assert other.nodes["t1"].lane == "担当"
    frame = flow.to_frame()
    assert list(frame["id"]) == ["s", "t1", "g", "t2", "e"]
    assert frame.loc[1, "forms"] == ["転入届書"]


def test_remove_node_removes_its_edges() -> None:
    flow = small_flow()
    flow.remove_node("g")
    assert "g" not in flow
    assert flow.stats()["sequence_flows"] == 2


def test_node_types_are_bpmn_names() -> None:
    assert {"task", "userTask", "subProcess", "boundaryEvent", "complexGateway"} <= (
        NODE_TYPES
    )


def test_parse_error_names_its_place_and_survives_pickling() -> None:
    err = ParseError("bad", source="x.bpmn", line=3, element="task id='t'")
    assert str(err) == "x.bpmn:3: task id='t': bad"
    again = pickle.loads(pickle.dumps(err))
    assert (again.source, again.line, again.element) == ("x.bpmn", 3, "task id='t'")
    assert str(ParseError("empty file", source="a.csv")) == "a.csv: empty file"
    assert str(SourceRef("f", 2, "task")) == "f:2: task"
