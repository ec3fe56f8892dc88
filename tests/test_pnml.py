"""Reading Petri nets (PNML) as ProM, pm4py and WoPeD write them."""

from __future__ import annotations

import warnings

import pytest
from click.testing import CliRunner
from conftest import DATA

from harpflow.cli import main
from harpflow.errors import HarpflowError, HarpflowWarning, ParseError
from harpflow.io import read

PNML = DATA / "pnml"


def _read(name: str):
    with warnings.catch_warnings():
        warnings.simplefilter("error", HarpflowWarning)
        return read(PNML / name)


def _nodes(flow):
    return {n.id: (n.type, n.label, n.lane) for n in flow.nodes.values()}


def _edges(flow):
    return sorted((e.source, e.target) for e in flow.edges)


def test_prom_net_with_silent_transitions_and_final_marking():
    flow = _read("prom_jumin_hyo.pnml")
    assert flow.name == "住民票の写しの交付"
    assert flow.stats()["by_type"] == {
        "endEvent": 1,
        "exclusiveGateway": 2,
        "parallelGateway": 2,
        "startEvent": 1,
        "task": 5,
    }
    nodes = _nodes(flow)
    assert nodes["t1"] == ("task", "申請受付", None)
    assert nodes["t1_split"][0] == "parallelGateway"
    assert nodes["t4"][0] == "parallelGateway"  # silent join of two places
    assert nodes["n6"][0] == "exclusiveGateway"  # choice
    assert nodes["n7"][0] == "exclusiveGateway"  # merge
    assert nodes["n1"][0] == "startEvent"
    assert nodes["n8"][0] == "endEvent"
    assert "t7" not in flow  # silent one-in-one-out transition dropped
    assert _edges(flow) == sorted(
        [
            ("n1", "t1"),
            ("t1", "t1_split"),
            ("t1_split", "t2"),
            ("t1_split", "t3"),
            ("t2", "t4"),
            ("t3", "t4"),
            ("t4", "n6"),
            ("n6", "t5"),
            ("n6", "t6"),
            ("t5", "n7"),
            ("t6", "n7"),
            ("n7", "n8"),
        ]
    )
    assert flow.lanes == []  # ProM nets carry no resources
    assert flow.nodes["t1"].bounds == (57.5, 41.25, 40.0, 25.0)
    assert flow.nodes["t1"].source.line is not None


def test_pm4py_net_skip_transition_becomes_a_bypass():
    flow = _read("pm4py_tennyu.pnml")
    assert flow.stats()["nodes"] == 8
    assert [n.label for n in flow.steps()] == [
        "転入届受付",
        "住民記録更新",
        "国民健康保険加入手続",
        "転入通知送付",
    ]
    assert ("p_4", "p_5") in _edges(flow)  # the skip
    assert "skip_1" not in flow
    assert flow.nodes["source"].type == "startEvent"
    assert flow.nodes["sink"].type == "endEvent"
    assert flow.stats()["sequence_flows"] == 8


def test_woped_operators_and_resources():
    flow = _read("woped_koseki.pnml")
    nodes = _nodes(flow)
    assert nodes == {
        "p1": ("startEvent", "申請書提出", "窓口担当"),
        "p7": ("endEvent", "交付完了", "窓口担当"),
        "t1": ("task", "申請受付", "窓口担当"),
        "t2": ("task", "審査", "審査担当"),
        "t2_split": ("exclusiveGateway", "", "審査担当"),
        "t3": ("task", "証明書作成", "審査担当"),
        "t4": ("task", "不交付通知作成", "窓口担当"),
        "t5_join": ("exclusiveGateway", "", "窓口担当"),
        "t5": ("task", "交付・通知", "窓口担当"),
    }
    assert [lane.name for lane in flow.lanes] == ["窓口担当", "審査担当"]
    assert [pool.name for pool in flow.pools] == ["市民課"]
    assert ("t2_split", "t3") in _edges(flow)
    assert ("t4", "t5_join") in _edges(flow)
    assert flow.stats()["sequence_flows"] == 9


def test_namespaced_net_with_nested_pages_and_reference_places():
    flow = _read("woped_nested_pages.pnml")
    assert flow.stats()["by_type"] == {
        "endEvent": 1,
        "parallelGateway": 2,
        "startEvent": 1,
        "task": 5,
    }
    assert flow.nodes["t_and_split"].type == "parallelGateway"
    assert flow.nodes["t_send_join"].type == "parallelGateway"
    assert ("t_card", "t_send_join") in _edges(flow)  # through ref_q4
    assert ("t_tax", "t_send_join") in _edges(flow)
    assert flow.lane_names() == ["窓口", "資格担当", "賦課担当"]
    assert flow.nodes["t_card"].lane == "資格担当"


def _net(body: str, extra: str = "") -> str:
    return (
        '<?xml version="1.0"?>\n<pnml>\n<net id="n">\n'
        + body
        + "\n</net>\n"
        + extra
        + "</pnml>\n"
    )


_BASE = """<place id="p"><initialMarking><text>1</text></initialMarking></place>
<transition id="t"><name><text>受付</text></name></transition>
<place id="q"/>"""


def test_truncated_xml():
    text = _net(_BASE + '<arc id="a" source="p" target="t"/>')[:-30]
    with pytest.raises(ParseError, match="malformed XML") as info:
        read(text, format="pnml")
    assert info.value.line is not None


def test_unknown_arc_endpoint_names_line_and_element():
    text = _net(_BASE + '\n<arc id="a9" source="p" target="nowhere"/>')
    with pytest.raises(ParseError, match="unknown node 'nowhere'") as info:
        read(text, format="pnml")
    assert info.value.line == 7
    assert info.value.element == "arc id='a9'"
    assert info.value.source == "<string>"


@pytest.mark.parametrize(
    ("arc", "message"),
    [
        (
            '<arc id="a" source="p" target="t"><inscription><text>2</text>'
            "</inscription></arc>",
            "arc weight '2'",
        ),
        (
            '<arc id="a" source="p" target="t"><arctype><text>inhibitor</text>'
            "</arctype></arc>",
            "inhibitor arcs",
        ),
        ('<arc id="a" source="p" target="t" type="reset"/>', "reset arcs"),
        ('<arc id="a" source="p" target="q"/>', "joins two places"),
    ],
)
def test_arcs_that_change_the_meaning_are_refused(arc, message):
    with pytest.raises(ParseError, match=message):
        read(_net(_BASE + arc), format="pnml")


def test_non_free_choice_is_warned():
    body = """<place id="i1"/><place id="i2"/>
<transition id="a"><name><text>A</text></name></transition>
<transition id="b"><name><text>B</text></name></transition>
<arc id="1" source="i1" target="a"/><arc id="2" source="i1" target="b"/>
<arc id="3" source="i2" target="b"/>"""
    with pytest.warns(HarpflowWarning, match="not free-choice"):
        flow = read(_net(body), format="pnml")
    assert flow.nodes["b_join"].type == "parallelGateway"


def test_several_nets_need_a_choice():
    text = (
        "<pnml><net id='a'><transition id='x'><name><text>X</text></name>"
        "</transition></net><net id='b'><transition id='y'><name><text>Y</text>"
        "</name></transition></net></pnml>"
    )
    with pytest.raises(ParseError, match="2 nets"):
        read(text, format="pnml")
    assert list(read(text, format="pnml", net="b").nodes) == ["y"]
    assert list(read(text, format="pnml", net=0).nodes) == ["x"]


def test_not_pnml():
    with pytest.raises(HarpflowError, match="not <pnml>"):
        read("<epml/>", format="pnml")


def test_cli_reports_bad_net_in_one_line(tmp_path):
    bad = tmp_path / "bad.pnml"
    bad.write_text(_net(_BASE + '<arc id="a" source="p" target="zz"/>'))
    result = CliRunner().invoke(main, ["stats", str(bad)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("harpflow: error: ") and "bad.pnml:" in lines[0]


def test_cli_stats_reads_a_fixture():
    result = CliRunner().invoke(main, ["stats", str(PNML / "woped_koseki.pnml")])
    assert result.exit_code == 0, result.output
    assert "9 nodes" in result.output and "2 lanes" in result.output


def test_woped_subprocess_transition():
    body = (
        _BASE.replace(
            "<name><text>受付</text></name></transition>",
            "<name><text>審査</text></name><toolspecific tool='WoPeD' version='1.0'>"
            "<subprocess>true</subprocess></toolspecific></transition>",
        )
        + '<arc id="a" source="p" target="t"/><arc id="b" source="t" target="q"/>'
    )
    flow = read(_net(body), format="pnml")
    assert (flow.nodes["t"].type, flow.nodes["t"].label) == ("subProcess", "審査")
