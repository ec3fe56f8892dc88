"""Tests of the BPMN 2.0 reader and writer on small hand-made files."""

from __future__ import annotations

import warnings
from functools import cache
from pathlib import Path

import pytest
from conftest import DATA, PROCESSES
from lxml import etree
from test_layout import check_layout

import harpflow
from harpflow.errors import HarpflowWarning, ParseError
from harpflow.io.bpmn import read_bpmn, write_bpmn
from harpflow.layout import existing_layout
from harpflow.model import Flow

ALL = DATA / "bpmn" / "all_nodes.bpmn"
M = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


@cache
def schema() -> etree.XMLSchema:
    spiff = pytest.importorskip("SpiffWorkflow")
    folder = Path(spiff.__file__).parent / "bpmn" / "parser" / "schema"
    return etree.XMLSchema(etree.parse(str(folder / "BPMN20.xsd")))


def read_quietly(source: object) -> Flow:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HarpflowWarning)
        return read_bpmn(source)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def flow() -> Flow:
    return read_quietly(ALL)


def test_counts(flow: Flow) -> None:
    stats = flow.stats()
    assert stats["nodes"] == 30
    assert stats["sequence_flows"] == 15  # f7b duplicates f7
    assert stats["message_flows"] == 3
    assert (stats["lanes"], stats["pools"], stats["data_objects"]) == (4, 2, 2)
    assert stats["by_type"]["startEvent"] == 4
    assert stats["by_type"]["subProcess"] == 3


def test_every_node_type_is_kept(flow: Flow) -> None:
    types = {n.type for n in flow.nodes.values()}
    assert {
        "userTask",
        "sendTask",
        "receiveTask",
        "serviceTask",
        "scriptTask",
        "manualTask",
        "businessRuleTask",
        "task",
        "transaction",
        "adHocSubProcess",
        "callActivity",
        "parallelGateway",
        "inclusiveGateway",
        "eventBasedGateway",
        "complexGateway",
        "implicitThrowEvent",
    } <= types


def test_names_labels_and_sources(flow: Flow) -> None:
    assert flow.name == "転入届の受付"  # the collaboration's name
    check = flow.nodes["check"]
    assert check.label == "本人確認"
    assert check.documentation == "運転免許証などで確認する"
    assert check.source is not None
    assert check.source.file == str(ALL) and check.source.line == 55
    assert check.source.element == "userTask id='check'"


def test_events_and_markers(flow: Flow) -> None:
    n = flow.nodes
    assert n["start"].trigger == "message"
    assert n["timeout"].trigger == "timer"  # via eventDefinitionRef
    assert n["timeout"].attached_to == "review"
    assert n["timeout"].attrs["cancel_activity"] is False
    assert n["failure"].attrs["cancel_activity"] is True
    assert n["sub_end"].trigger == "terminate"
    assert n["catch"].trigger == "multiple"
    assert n["throw"].trigger == "escalation"
    assert n["check"].loop == "standard"
    assert n["review"].loop == "sequential"
    assert n["event_sub"].attrs["triggered_by_event"] is True
    assert n["call"].attrs["called_element"] == "juki"


def test_flows(flow: Flow) -> None:
    ng = flow.edge("f_ng")
    assert (ng.label, ng.condition, ng.default) == ("不備あり", "${incomplete}", False)
    assert flow.edge("f_ok").default is True
    assert flow.edge("f7").attrs["duplicates"] == ["f7b"]
    assert flow.edge("mf_nodes").kind == "message"
    msgs = {m.id: (m.source, m.target, m.label) for m in flow.pool_messages}
    assert msgs == {
        "mf_in": ("pool_resident", "start", "届出"),
        "mf_out": ("send", "pool_resident", ""),
    }


def test_pools_lanes_and_nesting(flow: Flow) -> None:
    n = flow.nodes
    assert n["check"].pool == "市役所" and n["check"].pool_id == "pool_city"
    assert n["other_start"].pool is None  # its process has no participant
    assert n["review"].lane == "審査"  # the innermost lane wins
    assert n["end"].lane == "入力" and n["end"].lane_id == "lane_entry"
    lanes = {ln.id: (ln.pool, ln.parent) for ln in flow.lanes}
    assert lanes["lane_review"] == ("pool_city", "lane_office")
    assert lanes["lane_window"] == ("pool_city", None)
    assert n["sub_write"].parent == "sub"
    assert n["inner_task"].parent == "sub_inner"
    assert n["sub_inner"].parent == "sub"
    pools = {p.id: p.process for p in flow.pools}
    assert pools == {"pool_city": "proc_main", "pool_resident": None}


def test_data_and_annotations(flow: Flow) -> None:
    objs = {d.id: d for d in flow.data_objects}
    assert objs["form"].label == "転入届書"  # from the dataObject it refers to
    assert objs["form"].inputs == ("check",)
    assert objs["store_ref"].label == "住民記録システム"
    assert objs["store_ref"].outputs == ("review",)
    assert flow.nodes["check"].forms == ("転入届書",)
    assert flow.nodes["review"].forms == ("住民記録システム",)
    anns = {a.id: a for a in flow.annotations}
    assert anns["ann"].targets == ("check",)
    assert anns["ann_collab"].targets == ("mf_in",)
    assert flow.meta["associations"] == [("as_comp", "failure", "plain")]


def test_coordinates_come_from_the_first_diagram_showing_them(flow: Flow) -> None:
    assert flow.nodes["check"].bounds == (160.0, 60.0, 100.0, 80.0)
    assert flow.nodes["sub_write"].bounds == (300.0, 300.0, 100.0, 80.0)
    assert flow.edge("f1").waypoints == ((116.0, 100.0), (160.0, 100.0))
    assert flow.nodes["xor"].bounds is None
    pools = {p.id: p.bounds for p in flow.pools}
    assert pools["pool_city"] == (0.0, 0.0, 1200.0, 500.0)
    lanes = {ln.id: ln.bounds for ln in flow.lanes}
    assert lanes["lane_office"] == (30.0, 200.0, 1170.0, 300.0)


def test_unknown_elements_warn_by_name() -> None:
    with pytest.warns(HarpflowWarning) as caught:
        read_bpmn(ALL)
    messages = sorted(str(w.message) for w in caught)
    assert messages == [
        f"{ALL}:131: group: element not represented, ignored",
        f"{ALL}:132: note: element not represented, ignored",
    ]


def test_ids_repeated_inside_vendor_extensions_are_not_an_error() -> None:
    # all_nodes.bpmn repeats the id "start" inside extensionElements.
    assert "start" in read_quietly(ALL).nodes


PROCESS = """
  <{p}process id="p" name="受付">
    <{p}startEvent id="s"/>
    <{p}task id="t" name="受付"/>
    <{p}sequenceFlow id="f" sourceRef="s" targetRef="t"/>
  </{p}process>"""


@pytest.mark.parametrize("prefix", ["", "bpmn2", "semantic", "model"])
def test_dispatch_is_by_namespace_never_by_prefix(prefix: str) -> None:
    decl = f"xmlns:{prefix}" if prefix else "xmlns"
    p = f"{prefix}:" if prefix else ""
    doc = (
        f'<{p}definitions {decl}="http://www.omg.org/spec/BPMN/20100524/MODEL">'
        f"{PROCESS.format(p=p)}</{p}definitions>"
    )
    flow = read_bpmn(doc)
    assert flow.stats()["by_type"] == {"startEvent": 1, "task": 1}
    assert flow.stats()["sequence_flows"] == 1


def test_a_bpmn_prefix_on_another_namespace_is_not_bpmn() -> None:
    doc = (
        '<bpmn:definitions xmlns:bpmn="http://example.com/not-bpmn">'
        f"{PROCESS.format(p='bpmn:')}</bpmn:definitions>"
    )
    with pytest.raises(ParseError, match=r"not a BPMN 2\.0 file"):
        read_bpmn(doc)


def test_flow_name_falls_back_to_the_file_stem(tmp_path: Path) -> None:
    path = tmp_path / "tennyu.bpmn"
    path.write_text(
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">'
        '<process id="p"><task id="t"/></process></definitions>'
    )
    assert harpflow.read(path).name == "tennyu"


# -- writing --------------------------------------------------------------


def test_written_file_validates_and_round_trips(flow: Flow) -> None:
    data = write_bpmn(flow)
    assert data is not None
    schema().assertValid(etree.fromstring(data))
    back = read_quietly(data)
    assert back.stats() == flow.stats()
    for node in flow.nodes.values():
        other = back.nodes[node.id]
        for key in ("type", "label", "lane", "pool", "parent", "trigger", "loop"):
            assert getattr(other, key) == getattr(node, key), (node.id, key)
        assert other.attached_to == node.attached_to
        assert other.forms == node.forms
        assert other.documentation == node.documentation
    for edge in flow.edges:
        other = back.edge(edge.id)
        assert (other.source, other.target, other.kind) == (
            edge.source,
            edge.target,
            edge.kind,
        )
        assert (other.label, other.condition, other.default) == (
            edge.label,
            edge.condition,
            edge.default,
        )
    assert back.meta["associations"] == flow.meta["associations"]
    anns = {a.id: a.targets for a in back.annotations}
    assert anns == {a.id: a.targets for a in flow.annotations}
    assert write_bpmn(flow) == data  # deterministic


def step_table_flow() -> Flow:
    """A flow as the step-table reader builds it: ids that are not XML ids."""
    flow = Flow("転入届", area="01", procedure="tennyu")
    add = flow.add_node
    add("S", type="startEvent", label="開始", lane="住民")
    add(
        "1",
        label="転入届を受け付ける",
        lane="窓口",
        medium="paper",
        location="支所",
        forms=["転入届書", "本人確認書類"],
        function_ids=["0010001", "0010002"],
        system="住民記録システム",
    )
    add("5c", type="exclusiveGateway", label="不備あり?", lane="窓口")
    add("受付２", type="userTask", label="入力", lane="住民記録 係")
    add("E", type="endEvent", label="終了", lane="住民記録 係")
    flow.add_edge("S", "1")
    flow.add_edge("1", "5c")
    flow.add_edge("5c", "1", label="不備あり")
    flow.add_edge("5c", "受付２", label="不備なし", default=True)
    flow.add_edge("受付２", "E")
    flow.add_data_object("帳票1", "住民票", outputs=["受付２"])
    return flow


def test_step_table_flow_keeps_ids_and_attributes() -> None:
    flow = step_table_flow()
    data = write_bpmn(flow)
    assert data is not None
    schema().assertValid(etree.fromstring(data))
    root = etree.fromstring(data)
    xml_ids = [el.get("id") for el in root.iter() if el.get("id")]
    assert "1" not in xml_ids and "5c" not in xml_ids
    back = read_bpmn(data)
    assert list(back.nodes) == list(flow.nodes)
    assert back.name == "転入届" and (back.area, back.procedure) == ("01", "tennyu")
    one = back.nodes["1"]
    assert (one.medium, one.location) == ("paper", "支所")
    assert one.forms == ("転入届書", "本人確認書類")
    assert one.function_ids == ("0010001", "0010002")
    assert one.attrs["system"] == "住民記録システム"
    assert back.nodes["受付２"].forms == ("住民票",)
    assert back.nodes["受付２"].lane == "住民記録 係"
    assert [ln.id for ln in back.lanes] == [ln.id for ln in flow.lanes]
    assert {e.id for e in back.edges} == {e.id for e in flow.edges}
    assert back.edge("5c__受付２").default is True
    assert [d.id for d in back.data_objects] == ["帳票1"]


def test_flow_without_coordinates_gets_a_layout() -> None:
    flow = step_table_flow()
    data = write_bpmn(flow)
    back = read_bpmn(data)
    assert all(n.bounds for n in back.nodes.values())
    lay = existing_layout(back)
    check_layout(back, lay)


def test_coordinates_of_the_flow_are_kept_when_complete() -> None:
    flow = Flow()
    flow.add_node("a", type="startEvent", bounds=(10, 20, 36, 36))
    flow.add_node("b", bounds=(100, 0, 100, 80))
    flow.add_edge("a", "b", id="f", waypoints=((46, 38), (70, 38), (70, 40), (100, 40)))
    back = read_bpmn(write_bpmn(flow))
    assert back.nodes["a"].bounds == (10, 20, 36, 36)
    assert back.edge("f").waypoints == ((46, 38), (70, 38), (70, 40), (100, 40))


def test_message_flows_without_pools_make_a_collaboration() -> None:
    flow = Flow()
    flow.add_node("a", type="sendTask")
    flow.add_node("b", type="receiveTask")
    flow.add_edge("a", "b", id="m", kind="message")
    data = write_bpmn(flow)
    assert data is not None
    schema().assertValid(etree.fromstring(data))
    root = etree.fromstring(data)
    assert root.find(f"{M}collaboration/{M}messageFlow") is not None
    assert read_bpmn(data).edge("m").kind == "message"


def test_write_to_a_path_is_read_by_suffix(tmp_path: Path, flow: Flow) -> None:
    out = tmp_path / "out.bpmn"
    assert harpflow.write(flow, out) is None
    assert read_quietly(out).stats() == flow.stats()


def test_unknown_options_are_refused(flow: Flow) -> None:
    with pytest.raises(TypeError):
        write_bpmn(flow, None, colour="red")
    with pytest.raises(TypeError):
        read_bpmn(ALL, strict=True)


def flow_view(flow: Flow) -> dict[str, object]:
    """Everything a step table says, for comparing flows."""
    nodes = {
        n.id: {k: v for k, v in n.attrs.items() if k not in ("source", "bounds")}
        for n in flow.nodes.values()
    }
    return {
        "meta": (flow.name, flow.area, flow.procedure, flow.town, flow.meta),
        "order": list(flow.nodes),
        "nodes": nodes,
        "edges": sorted(
            (e.id, e.source, e.target, e.kind, e.label, e.condition or "", e.default)
            for e in flow.edges
        ),
        "lanes": [(ln.id, ln.name, ln.pool, ln.parent) for ln in flow.lanes],
        "pools": [(p.id, p.name) for p in flow.pools],
        "data": [
            (d.id, d.label, d.kind, d.inputs, d.outputs) for d in flow.data_objects
        ],
        "messages": flow.pool_messages,
    }


STANDARDS = sorted(PROCESSES.glob("standard/*/*.yaml"))


@pytest.mark.skipif(not STANDARDS, reason="no standard flows under processes/")
@pytest.mark.parametrize("path", STANDARDS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_standard_step_tables_round_trip_through_bpmn(path: Path) -> None:
    table = harpflow.read(path)
    data = write_bpmn(table)
    assert data is not None
    schema().assertValid(etree.fromstring(data))
    back = read_bpmn(data)
    assert flow_view(back) == flow_view(table)
    assert write_bpmn(back) == data


def test_awkward_flows_still_validate() -> None:
    """Ids that clash with generated ones, a parent that is not a
    sub-process, an empty flow: the output stays valid and lossless."""
    flow = Flow()
    flow.add_node("BPMNPlane_1", type="startEvent")
    flow.add_node("Definitions_1", label="受付")
    flow.add_node("child", label="中身", parent="Definitions_1")
    flow.add_edge("BPMNPlane_1", "Definitions_1", id="BPMNDiagram_1")
    data = write_bpmn(flow)
    assert data is not None
    schema().assertValid(etree.fromstring(data))
    back = read_bpmn(data)
    assert back.nodes["child"].parent == "Definitions_1"
    assert back.edge("BPMNDiagram_1").target == "Definitions_1"
    empty = write_bpmn(Flow())
    assert empty is not None
    schema().assertValid(etree.fromstring(empty))
    assert len(read_bpmn(empty)) == 0
