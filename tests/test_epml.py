"""Reading event-driven process chains (EPML)."""

from __future__ import annotations

import warnings

import pytest
from click.testing import CliRunner
from conftest import DATA

from harpflow.cli import main
from harpflow.errors import HarpflowError, HarpflowWarning, ParseError
from harpflow.io import read

EPML = DATA / "epml"


def _read(name: str, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("error", HarpflowWarning)
        return read(EPML / name, **options)


def _nodes(flow):
    return {n.id: (n.type, n.label, n.lane) for n in flow.nodes.values()}


def _edges(flow):
    return sorted((e.source, e.target, e.label) for e in flow.edges)


def test_aris_style_epc_with_roles_objects_and_systems():
    flow = _read("aris_tennyu.epml")
    assert flow.name == "転入届"
    assert _nodes(flow) == {
        "e1": ("startEvent", "転入届が\n提出された", "窓口担当"),
        "f1": ("task", "転入届を受け付ける", "窓口担当"),
        "f2": ("task", "本人確認を行う", "窓口担当"),
        "x1": ("exclusiveGateway", "", "窓口担当"),
        "f3": ("task", "住民票を作成する", "記録担当"),
        "f4": ("task", "補正を依頼する", "窓口担当"),
        "e5": ("endEvent", "補正依頼済", "窓口担当"),
        "a1": ("parallelGateway", "", None),
        "f5": ("task", "転入通知を送付する", "記録担当"),
        "f6": ("task", "国保資格を確認する", "保険担当"),
        "a2": ("parallelGateway", "", None),
        "e7": ("endEvent", "転入処理完了", None),
    }
    assert _edges(flow) == sorted(
        [
            ("e1", "f1", ""),
            ("f1", "f2", ""),  # event e2 dropped between functions
            ("f2", "x1", ""),
            ("x1", "f3", "確認できた"),  # event after an XOR split: condition
            ("x1", "f4", "確認できない"),
            ("f3", "a1", ""),
            ("f4", "e5", ""),
            ("a1", "f5", ""),
            ("a1", "f6", ""),
            ("f5", "a2", ""),
            ("f6", "a2", ""),
            ("a2", "e7", ""),
        ]
    )
    assert [lane.name for lane in flow.lanes] == ["窓口担当", "記録担当", "保険担当"]
    assert flow.nodes["f1"].forms == ("転入届書",)
    assert flow.data_objects[0].inputs == ("f1",)
    assert flow.nodes["f3"].medium == "system"
    assert flow.nodes["f3"].attrs["systems"] == ("住民基本台帳システム",)
    assert flow.nodes["f1"].bounds == (100.0, 90.0, 120.0, 50.0)


def test_passed_through_flow_keeps_the_first_arc_id():
    flow = _read("aris_tennyu.epml")
    assert flow.edge("c2").target == "f2"
    assert flow.edge("c1").source == "e1"


def test_epc_tools_or_connectors_participants_and_process_interface():
    with pytest.raises(ParseError, match="2 EPCs"):
        read(EPML / "epctools_kokuho.epml")
    flow = _read("epctools_kokuho.epml", epc="1")
    assert flow.stats()["by_type"] == {
        "callActivity": 1,
        "inclusiveGateway": 2,
        "startEvent": 1,
        "task": 3,
    }
    assert _edges(flow) == sorted(
        [
            ("101", "102", ""),
            ("102", "104", ""),
            ("104", "107", "保険証返還あり"),  # OR split: condition too
            ("104", "108", "還付あり"),
            ("107", "109", ""),
            ("108", "109", ""),
            ("109", "111", ""),
        ]
    )
    assert flow.nodes["111"].attrs["calls"] == "2"
    assert flow.nodes["111"].label == "資格喪失処理（後続）"
    assert flow.lane_names() == ["窓口", "収納担当"]
    assert flow.nodes["108"].lane == "収納担当"


def test_nested_directory_epc_by_name_and_index():
    by_name = _read("epctools_kokuho.epml", epc="資格喪失処理（後続）")
    by_index = _read("epctools_kokuho.epml", epc=1)
    for flow in (by_name, by_index):
        assert _nodes(flow) == {
            "301": ("startEvent", "処理開始", "資格担当"),
            "302": ("task", "資格記録を更新する", "資格担当"),
            "303": ("endEvent", "更新済", "資格担当"),
        }


def test_prom_epc_with_rework_loop():
    flow = _read("prom_jidoteate.epml")
    assert _edges(flow) == sorted(
        [
            ("1", "2", ""),
            ("2", "3", ""),
            ("3", "4", ""),
            ("4", "7", "要件を満たす"),
            ("4", "8", "書類不備"),
            ("7", "9", ""),
            ("8", "2", ""),  # back to the XOR join: rework
        ]
    )
    assert [n.label for n in flow.steps()] == [
        "請求書を審査する",
        "認定通知書を作成する",
        "補正を求める",
    ]
    assert flow.lane_names() == ["審査担当", "窓口担当"]
    assert flow.data_objects[0].outputs == ("7",)
    assert flow.nodes["7"].forms == ("認定通知書",)


def test_keep_events():
    flow = _read("prom_jidoteate.epml", keep_events=True)
    kept = [n.id for n in flow.nodes.values() if n.type == "intermediateCatchEvent"]
    assert kept == ["5", "6", "10"]
    assert flow.stats()["sequence_flows"] == 10
    assert ("4", "5", "要件を満たす") in _edges(flow)
    assert ("5", "7", "") in _edges(flow)


def _epc(body: str) -> str:
    return (
        '<?xml version="1.0"?>\n<epml:epml xmlns:epml="http://www.epml.de">\n'
        '<epc epcId="1" name="x">\n' + body + "\n</epc>\n</epml:epml>\n"
    )


_BASE = """<event id="e"><name>開始</name></event>
<function id="f"><name>受付</name></function>
<role id="r"><name>窓口</name></role>"""


def test_truncated_xml():
    with pytest.raises(ParseError, match="malformed XML") as info:
        read(_epc(_BASE)[:-20], format="epml")
    assert info.value.line is not None


def test_unknown_arc_endpoint():
    text = _epc(_BASE + '\n<arc id="9"><flow source="e" target="zz"/></arc>')
    with pytest.raises(ParseError, match="unknown element 'zz'") as info:
        read(text, format="epml")
    assert (info.value.line, info.value.element) == (7, "arc id='9'")
    assert info.value.source == "<string>"


def test_control_flow_to_a_role_is_refused():
    text = _epc(_BASE + '<arc id="9"><flow source="f" target="r"/></arc>')
    with pytest.raises(ParseError, match="control flow touches the role"):
        read(text, format="epml")


def test_relation_between_functions_is_refused():
    text = _epc(_BASE + '<arc id="9"><relation source="f" target="e"/></arc>')
    with pytest.raises(ParseError, match="relation between"):
        read(text, format="epml")


def test_ignored_extensions_are_warned():
    text = _epc(
        _BASE + '<dataField id="d"/><arc id="1"><flow source="e" target="f"/></arc>'
    )
    with pytest.warns(HarpflowWarning, match="ignored 1 <dataField>"):
        flow = read(text, format="epml")
    assert len(flow) == 2


def test_not_epml():
    with pytest.raises(HarpflowError, match="not <epml>"):
        read("<pnml/>", format="epml")


def test_cli_reports_bad_epc_in_one_line(tmp_path):
    bad = tmp_path / "bad.epml"
    bad.write_text(_epc(_BASE + '<arc id="9"><flow source="e" target="zz"/></arc>'))
    result = CliRunner().invoke(main, ["stats", str(bad)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("harpflow: error: ") and "bad.epml:" in lines[0]


def test_arcs_before_elements_and_aris_typed_objects():
    text = _epc(
        '<arc id="1"><flow source="e" target="f"/></arc>'
        '<arc id="2"><relation source="u" target="f"/></arc>'
        '<arc id="3"><relation source="s" target="f"/></arc>'
        + _BASE
        + '<object id="u" type="organizational unit"><name>市民課</name></object>'
        '<object id="s" type="application system"><name>住記システム</name></object>'
    )
    flow = read(text, format="epml")
    assert flow.nodes["f"].lane == "市民課"
    assert flow.nodes["f"].medium == "system"
    assert flow.data_objects == []
