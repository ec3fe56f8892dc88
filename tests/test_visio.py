"""Reading Visio drawings (.vsdx): hand-made packages, MIWG drawings, hostile zips.

The hand-made drawings are built here with :mod:`zipfile`, part by part, the
way Visio lays a package out: ``visio/pages/pages.xml`` names the pages,
``visio/masters/masters.xml`` the masters, and each page lists its shapes
(cells in inches, y up) and the ``Connect`` records that glue connector ends.
"""

from __future__ import annotations

import collections
import io
import sys
import tracemalloc
import warnings
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from click.testing import CliRunner
from conftest import corpus
from lxml import etree

from harpflow.cli import main
from harpflow.errors import (
    HarpflowError,
    HarpflowWarning,
    LimitError,
    MissingDependencyError,
    ParseError,
)
from harpflow.io import read

NS = "http://schemas.microsoft.com/office/visio/2012/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


# -- building packages ---------------------------------------------------------


def _props(props: dict[str, str]) -> str:
    if not props:
        return ""
    rows = "".join(
        f"<Row N='{k}'><Cell N='Value' V='{escape(v)}' U='STR'/></Row>"
        for k, v in props.items()
    )
    return f"<Section N='Property'>{rows}</Section>"


def shape(sid, master, text, x, y, w=1.0, h=0.6, props=None, name=None, inner=""):
    """A 2-D shape centred on (x, y)."""
    attrs = f"ID='{sid}' Type='{'Group' if inner else 'Shape'}'"
    if master is not None:
        attrs += f" Master='{master}'"
    if name:
        attrs += f" NameU='{escape(name)}' Name='{escape(name)}'"
    cells = (
        f"<Cell N='PinX' V='{x}'/><Cell N='PinY' V='{y}'/>"
        f"<Cell N='Width' V='{w}'/><Cell N='Height' V='{h}'/>"
        f"<Cell N='LocPinX' V='{w / 2}'/><Cell N='LocPinY' V='{h / 2}'/>"
    )
    body = f"<Text>{escape(text)}</Text>" if text else ""
    shapes = f"<Shapes>{inner}</Shapes>" if inner else ""
    return f"<Shape {attrs}>{cells}{_props(props or {})}{body}{shapes}</Shape>"


def connector(sid, master, begin, end, pos, text="", formula=True):
    """A 1-D connector from ``pos[begin]`` to ``pos[end]``."""
    (bx, by), (ex, ey) = pos.get(begin, (0, 0)), pos.get(end, (9, 9))
    fb = f" F='PAR(PNT(Sheet.{begin}!Connections.X1,Sheet.{begin}!Connections.Y1))'"
    fe = f" F='PAR(PNT(Sheet.{end}!Connections.X1,Sheet.{end}!Connections.Y1))'"
    cells = (
        f"<Cell N='BeginX' V='{bx}'{fb if formula and begin else ''}/>"
        f"<Cell N='BeginY' V='{by}'/>"
        f"<Cell N='EndX' V='{ex}'{fe if formula and end else ''}/>"
        f"<Cell N='EndY' V='{ey}'/>"
    )
    body = f"<Text>{escape(text)}</Text>" if text else ""
    return f"<Shape ID='{sid}' Type='Shape' Master='{master}'>{cells}{body}</Shape>"


def connects(pairs):
    """``Connect`` records gluing connector ends: ``[(conn, begin, end), ...]``."""
    rows = []
    for conn, begin, end in pairs:
        if begin:
            rows.append(
                f"<Connect FromSheet='{conn}' FromCell='BeginX' ToSheet='{begin}'/>"
            )
        if end:
            rows.append(
                f"<Connect FromSheet='{conn}' FromCell='EndX' ToSheet='{end}'/>"
            )
    return f"<Connects>{''.join(rows)}</Connects>"


def package(pages, masters):
    """A .vsdx package: ``pages`` is ``[(name, shapes_xml, connects_xml)]``,
    ``masters`` maps an id to ``(NameU, Name, props)``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            "<?xml version='1.0' encoding='utf-8'?><Types xmlns="
            "'http://schemas.openxmlformats.org/package/2006/content-types'>"
            "<Default Extension='xml' ContentType='application/xml'/></Types>",
        )
        z.writestr(
            "_rels/.rels",
            f"<Relationships xmlns='{PKG}'><Relationship Id='rId1' Type='"
            "http://schemas.microsoft.com/visio/2010/relationships/document' "
            "Target='visio/document.xml'/></Relationships>",
        )
        z.writestr("visio/document.xml", f"<VisioDocument xmlns='{NS}'/>")
        z.writestr("visio/_rels/document.xml.rels", f"<Relationships xmlns='{PKG}'/>")
        entries, rels = [], []
        for i, (name, shapes, glue) in enumerate(pages, 1):
            entries.append(
                f"<Page ID='{i - 1}' NameU='{escape(name)}' Name='{escape(name)}'>"
                "<PageSheet><Cell N='PageWidth' V='11'/><Cell N='PageHeight' V='8'/>"
                f"</PageSheet><Rel r:id='rId{i}'/></Page>"
            )
            rels.append(
                f"<Relationship Id='rId{i}' Type='http://schemas.microsoft.com/"
                f"visio/2010/relationships/page' Target='page{i}.xml'/>"
            )
            z.writestr(
                f"visio/pages/page{i}.xml",
                f"<?xml version='1.0' encoding='utf-8'?><PageContents xmlns='{NS}' "
                f"xmlns:r='{R}'><Shapes>{shapes}</Shapes>{glue}</PageContents>",
            )
        z.writestr(
            "visio/pages/pages.xml",
            f"<Pages xmlns='{NS}' xmlns:r='{R}'>{''.join(entries)}</Pages>",
        )
        z.writestr(
            "visio/pages/_rels/pages.xml.rels",
            f"<Relationships xmlns='{PKG}'>{''.join(rels)}</Relationships>",
        )
        mentries, mrels = [], []
        for mid, (name_u, name, props) in masters.items():
            mentries.append(
                f"<Master ID='{mid}' NameU='{escape(name_u)}' Name='{escape(name)}'>"
                f"<PageSheet/><Rel r:id='rM{mid}'/></Master>"
            )
            mrels.append(
                f"<Relationship Id='rM{mid}' Type='http://schemas.microsoft.com/"
                f"visio/2010/relationships/master' Target='master{mid}.xml'/>"
            )
            z.writestr(
                f"visio/masters/master{mid}.xml",
                f"<MasterContents xmlns='{NS}'><Shapes><Shape ID='5' Type='Shape'>"
                f"{_props(props)}</Shape></Shapes></MasterContents>",
            )
        z.writestr(
            "visio/masters/masters.xml",
            f"<Masters xmlns='{NS}' xmlns:r='{R}'>{''.join(mentries)}</Masters>",
        )
        z.writestr(
            "visio/masters/_rels/masters.xml.rels",
            f"<Relationships xmlns='{PKG}'>{''.join(mrels)}</Relationships>",
        )
    return buf.getvalue()


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _read(path, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("error", HarpflowWarning)
        return read(path, **options)


# -- drawing 1: Microsoft's BPMN stencil, pool with two lanes ----------------------

BPMN_MASTERS = {
    "1": ("Task", "Task", {"BpmnTaskType": "None"}),
    "2": ("Start Event", "Start Event", {"BpmnEventType": "Start"}),
    "3": ("End Event", "End Event", {"BpmnEventType": "End"}),
    "4": ("Gateway", "Gateway", {"BpmnGatewayType": "Exclusive"}),
    "5": ("Sequence Flow", "Sequence Flow", {}),
    "6": ("Pool / Lane", "Pool / Lane", {}),
    "7": ("CFF Container", "CFF Container", {}),
    "8": ("Intermediate Event", "Intermediate Event", {}),
    "9": ("Data Object", "Data Object", {}),
    "10": ("Data Association", "Data Association", {}),
    "11": ("Text Annotation", "Text Annotation", {}),
    "12": ("Association", "Association", {}),
}
BPMN_POS = {
    "10": (1, 3),
    "11": (2.5, 3),
    "12": (4, 3),
    "13": (5.5, 1),
    "14": (5.5, 3),
    "15": (8, 1),
    "16": (8, 3),
    "17": (5.5, 0.7),
    "30": (2.5, 3.8),
    "32": (1, 3.8),
}
BPMN_FLOWS = [
    ("20", "10", "11", ""),
    ("21", "11", "12", ""),
    ("22", "12", "13", "はい"),
    ("23", "12", "14", "いいえ"),
    ("24", "13", "15", ""),
    ("25", "14", "16", ""),
    ("26", "17", "16", ""),
]


def bpmn_page():
    p = BPMN_POS
    shapes = [
        shape("1", "7", "市民課", 5, 2, w=10, h=4),
        shape("2", "6", "窓口", 5, 3, w=10, h=2),
        shape("3", "6", "住民記録係", 5, 1, w=10, h=2),
        shape("10", "2", "届出", *p["10"], w=0.3, h=0.3),
        shape("11", "1", "転入届受付", *p["11"], props={"BpmnTaskType": "User"}),
        shape("12", "4", "本人確認OK?", *p["12"], w=0.5, h=0.5),
        shape("13", "1", "住民票記載", *p["13"], props={"BpmnTaskType": "Service"}),
        shape("14", "1", "補正依頼", *p["14"], props={"BpmnTaskType": "Manual"}),
        shape("15", "3", "完了", *p["15"], w=0.3, h=0.3),
        shape("16", "3", "返戻", *p["16"], w=0.3, h=0.3),
        shape(
            "17",
            "8",
            "期限切れ",
            *p["17"],
            w=0.3,
            h=0.3,
            props={"BpmnEventType": "Intermediate", "BpmnTriggerOrResult": "Timer"},
        ),
        shape("30", "9", "転入届書", *p["30"], w=0.4, h=0.5),
        shape("32", "11", "14日以内", *p["32"], w=0.8, h=0.3),
    ]
    shapes += [
        connector(c, "5", b, e, p, t, formula=False) for c, b, e, t in BPMN_FLOWS
    ]
    shapes += [
        connector("31", "10", "30", "11", p),
        connector("33", "12", "32", "11", p),
    ]
    glue = connects([(c, b, e) for c, b, e, _ in BPMN_FLOWS])
    return ("転入届", "".join(shapes), glue)


def test_bpmn_stencil_drawing(tmp_path):
    path = _write(tmp_path, "tennyu.vsdx", package([bpmn_page()], BPMN_MASTERS))
    flow = _read(path)
    assert flow.name == "転入届"
    nodes = {n.id: (n.type, n.label, n.lane) for n in flow.nodes.values()}
    assert nodes == {
        "10": ("startEvent", "届出", "窓口"),
        "11": ("userTask", "転入届受付", "窓口"),
        "12": ("exclusiveGateway", "本人確認OK?", "窓口"),
        "13": ("serviceTask", "住民票記載", "住民記録係"),
        "14": ("manualTask", "補正依頼", "窓口"),
        "15": ("endEvent", "完了", "住民記録係"),
        "16": ("endEvent", "返戻", "窓口"),
        "17": ("boundaryEvent", "期限切れ", "住民記録係"),
    }
    assert flow.nodes["17"].attached_to == "13"
    assert flow.nodes["17"].trigger == "timer"
    edges = sorted((e.id, e.source, e.target, e.label) for e in flow.edges)
    assert edges == sorted(BPMN_FLOWS)
    assert [(lane.name, lane.pool) for lane in flow.lanes] == [
        ("窓口", "1"),
        ("住民記録係", "1"),
    ]
    assert [pool.name for pool in flow.pools] == ["市民課"]
    assert flow.nodes["11"].pool == "市民課"
    assert flow.nodes["11"].forms == ("転入届書",)
    assert flow.annotations[0].text == "14日以内"
    assert flow.annotations[0].targets == ("11",)
    # 2.0 in from the left, 3.3 in high on an 8 in page: pixels, y down.
    assert flow.nodes["11"].bounds == (192.0, 451.2, 96.0, 57.6)


# -- drawing 2: flowchart and cross-functional stencils, Japanese Visio ------------

FLOWCHART_MASTERS = {
    "1": ("Process", "プロセス", {}),
    "2": ("Decision", "判断", {}),
    "3": ("Start/End", "開始/終了", {}),
    "4": ("Document", "書類", {}),
    "5": ("Dynamic connector", "動的コネクタ", {}),
    "6": ("Swimlane", "スイムレーン", {}),
    "7": ("CFF Container", "CFF コンテナー", {}),
}
FC_POS = {
    "10": (1, 5),
    "11": (2.5, 5),
    "12": (4, 5),
    "13": (5.5, 3),
    "14": (7, 3),
    "15": (7, 1),
    "16": (8.5, 3),
    "17": (9.5, 1),
}
FC_FLOWS = [
    ("20", "10", "11", ""),
    ("21", "11", "12", ""),
    ("22", "12", "13", ""),
    ("23", "13", "14", ""),
    ("24", "14", "15", "はい"),
    ("25", "14", "16", "いいえ"),
    ("26", "15", "17", ""),
    ("27", "16", "17", ""),
]


def flowchart_page():
    p = FC_POS
    shapes = [
        shape("1", "7", "戸籍住民課", 5, 3, w=10, h=6),
        shape("2", "6", "申請者", 5, 5, w=10, h=2),
        shape("3", "6", "窓口", 5, 3, w=10, h=2),
        shape("4", "6", "審査担当", 5, 1, w=10, h=2),
        shape("10", "3", "開始", *p["10"], h=0.4),
        shape("11", "1", "請求書記入", *p["11"]),
        shape("12", "4", "交付請求書", *p["12"]),
        shape("13", "1", "受付", *p["13"]),
        shape("14", "2", "本人確認", *p["14"]),
        shape("15", "1", "審査", *p["15"]),
        shape("16", "1", "謝絶", *p["16"]),
        shape("17", "3", "終了", *p["17"], h=0.4),
    ]
    shapes += [connector(c, "5", b, e, p, t, formula=False) for c, b, e, t in FC_FLOWS]
    shapes.append(connector("28", "5", "15", None, p, formula=False))
    glue = connects([(c, b, e) for c, b, e, _ in FC_FLOWS] + [("28", "15", None)])
    return ("戸籍謄本", "".join(shapes), glue)


def test_flowchart_drawing_with_inline_document(tmp_path):
    path = _write(
        tmp_path, "koseki.vsdx", package([flowchart_page()], FLOWCHART_MASTERS)
    )
    with pytest.warns(
        HarpflowWarning,
        match=r"ignored 1 connectors with an unglued end \(shape ids 28\)",
    ):
        flow = read(path)
    nodes = {n.id: (n.type, n.label, n.lane) for n in flow.nodes.values()}
    assert nodes == {
        "10": ("startEvent", "開始", "申請者"),
        "11": ("task", "請求書記入", "申請者"),
        "13": ("task", "受付", "窓口"),
        "14": ("exclusiveGateway", "本人確認", "窓口"),
        "15": ("task", "審査", "審査担当"),
        "16": ("task", "謝絶", "窓口"),
        "17": ("endEvent", "終了", "審査担当"),
    }
    edges = sorted((e.source, e.target, e.label) for e in flow.edges)
    assert edges == sorted(
        [
            ("10", "11", ""),
            ("11", "13", ""),  # across the document drawn in the flow
            ("13", "14", ""),
            ("14", "15", "はい"),
            ("14", "16", "いいえ"),
            ("15", "17", ""),
            ("16", "17", ""),
        ]
    )
    doc = flow.data_objects[0]
    assert (doc.label, doc.outputs, doc.inputs) == ("交付請求書", ("11",), ("13",))
    assert flow.lane_names() == ["申請者", "窓口", "審査担当"]
    assert {lane.pool for lane in flow.lanes} == {"1"}


# -- drawing 3: a Japanese custom stencil, vertical lanes, a group, formula glue ----

JA_MASTERS = {
    "1": ("タスク", "タスク", {}),
    "2": ("開始イベント", "開始イベント", {}),
    "3": ("終了イベント", "終了イベント", {}),
    "4": ("ゲートウェイ", "ゲートウェイ", {}),
    "5": ("レーン", "レーン", {}),
    "6": ("コネクタ", "コネクタ", {}),
}
JA_POS = {
    "50": (1, 5),
    "41": (1, 3),
    "51": (1, 1.8),
    "52": (4.5, 1.8),
    "53": (1, 0.6),
    "54": (4.5, 0.6),
}
JA_FLOWS = [
    ("60", "50", "41", ""),
    ("61", "41", "51", ""),
    ("62", "51", "52", "要"),
    ("63", "51", "53", "不要"),
    ("64", "52", "53", ""),
    ("65", "53", "54", ""),
]


def japanese_page(m=0):
    """The page; ``m`` shifts the master ids when masters are shared."""
    p = JA_POS

    def master(mid):
        return str(int(mid) + m)

    # The group's origin is its lower-left corner (0, 2); its child sits at
    # (1, 1) inside it, (1, 3) on the page.
    grouped = shape("41", master("1"), "申請受付", 1, 1)
    shapes = [
        shape("1", master("5"), "福祉課", 1.5, 3, w=3, h=6),
        shape("2", master("5"), "税務課", 4.5, 3, w=3, h=6),
        shape("40", None, "", 1.5, 3, w=3, h=2, inner=grouped),
        shape("50", master("2"), "申請", *p["50"], w=0.3, h=0.3),
        shape("51", master("4"), "課税状況の確認要否", *p["51"], w=0.5, h=0.5),
        shape("52", master("1"), "課税証明照会", *p["52"]),
        shape("53", master("1"), "認定", *p["53"]),
        shape("54", master("3"), "認定済", *p["54"], w=0.3, h=0.3),
    ]
    shapes += [connector(c, master("6"), b, e, p, t) for c, b, e, t in JA_FLOWS]
    return ("就学援助", "".join(shapes), "")


def test_japanese_stencil_group_and_formula_glue(tmp_path):
    path = _write(tmp_path, "shugaku.vsdx", package([japanese_page()], JA_MASTERS))
    flow = _read(path)
    nodes = {n.id: (n.type, n.label, n.lane) for n in flow.nodes.values()}
    assert nodes == {
        "41": ("task", "申請受付", "福祉課"),
        "50": ("startEvent", "申請", "福祉課"),
        "51": ("exclusiveGateway", "課税状況の確認要否", "福祉課"),
        "52": ("task", "課税証明照会", "税務課"),
        "53": ("task", "認定", "福祉課"),
        "54": ("endEvent", "認定済", "税務課"),
    }
    assert sorted((e.id, e.source, e.target, e.label) for e in flow.edges) == sorted(
        JA_FLOWS
    )
    assert flow.lane_names() == ["福祉課", "税務課"]
    assert flow.pools == []


def test_several_pages_need_a_choice(tmp_path):
    data = package(
        [bpmn_page(), japanese_page(m=20)],
        {**BPMN_MASTERS, **{str(int(k) + 20): v for k, v in JA_MASTERS.items()}},
    )
    path = _write(tmp_path, "two.vsdx", data)
    with pytest.raises(
        ParseError, match=r"2 pages hold flows \('転入届', '就学援助'\)"
    ):
        read(path)
    assert _read(path, page="転入届").stats()["nodes"] == 8
    assert _read(path, page=1).stats()["by_type"] == {
        "endEvent": 1,
        "exclusiveGateway": 1,
        "startEvent": 1,
        "task": 3,
    }
    with pytest.raises(ParseError, match="no page named"):
        read(path, page="なし")


# -- the MIWG drawings against the reference models ---------------------------------

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
FLOW_NODES = [
    *("task", "userTask", "serviceTask", "manualTask", "sendTask", "receiveTask"),
    *("scriptTask", "businessRuleTask", "subProcess", "transaction"),
    *("adHocSubProcess", "callActivity", "startEvent", "endEvent"),
    *("intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"),
    *("exclusiveGateway", "parallelGateway", "inclusiveGateway"),
    *("eventBasedGateway", "complexGateway"),
]


def reference_counts(path: Path) -> dict[str, object]:
    tree = etree.parse(str(path))
    ns = {"b": BPMN_NS}
    by_type = collections.Counter()
    for kind in FLOW_NODES:
        found = tree.xpath(f"//b:{kind}", namespaces=ns)
        if found:
            by_type[kind] = len(found)

    def count(tag: str) -> int:
        return len(tree.xpath(f"//b:{tag}", namespaces=ns))

    loops = collections.Counter()
    standard = tree.xpath("//b:standardLoopCharacteristics", namespaces=ns)
    loops["standard"] = len(standard)
    for element in tree.xpath("//b:multiInstanceLoopCharacteristics", namespaces=ns):
        loops[
            "sequential" if element.get("isSequential") == "true" else "parallel"
        ] += 1
    return {
        "by_type": dict(sorted(by_type.items())),
        "loops": dict(sorted(loops.items())),
        "sequence_flows": count("sequenceFlow"),
        "message_flows": count("messageFlow"),
        "lanes": count("lane"),
        "pools": count("participant"),
    }


def drawing_counts(path: Path) -> dict[str, object]:
    """Counts over every page: the called processes are drawn on page 2."""
    from harpflow.io.source import open_input
    from harpflow.io.visio import read_vsdx

    inp = open_input(path)
    pages = 2 if "B." in path.name else 1
    by_type = collections.Counter()
    totals = collections.Counter()
    loops = collections.Counter()
    for page in range(pages):
        with warnings.catch_warnings():
            warnings.simplefilter("error", HarpflowWarning)
            flow = read_vsdx(inp, page=page)
        stats = flow.stats()
        loops.update(n.loop for n in flow.nodes.values() if n.loop)
        by_type.update(stats["by_type"])
        for key in ("sequence_flows", "message_flows", "lanes", "pools"):
            totals[key] += stats[key]
    return {
        "by_type": dict(sorted(by_type.items())),
        "loops": dict(sorted(loops.items())),
        **totals,
    }


#: Differences the drawings themselves cause, as (model, node type) -> change
#: of the count from reference to drawing. itp-commerce's Process Modeler draws
#: every gateway with one "Gateway" master and shows its kind only as an
#: embedded metafile (the GatewayMarker sub-shape); nothing in the shape's data
#: names the kind, so every gateway reads as exclusive.
EXPECTED_DIFFERENCES = {
    "B.1.0": {
        # "Parallel Gateway Divergence": drawn as a Gateway with a picture.
        "parallelGateway": -1,
        "exclusiveGateway": +1,
    },
    "B.2.0": {
        # Three parallel, two inclusive and one event-based gateway, each a
        # Gateway master whose kind is only in its marker picture.
        "parallelGateway": -3,
        "inclusiveGateway": -2,
        "eventBasedGateway": -1,
        "exclusiveGateway": +6,
    },
    "C.1.0": {
        # The event-based gateway after "Send Invoice" is a Gateway master
        # with a picture of the pentagon marker.
        "eventBasedGateway": -1,
        "exclusiveGateway": +1,
    },
}


#: Loop markers the drawings lack, as (model, loop kind) -> change of the count.
EXPECTED_LOOP_DIFFERENCES = {
    "B.1.0": {},
    "B.2.0": {
        # "Service Task 22" is multi-instance (parallel) in the model, but the
        # drawing shows it without the three-bar marker (no MIMarker shape).
        "parallel": -1,
    },
    "C.1.0": {},
}


@pytest.mark.parametrize("model", ["B.1.0", "B.2.0", "C.1.0"])
def test_miwg_drawings_match_the_reference_models(model):
    drawing = corpus("miwg-vsdx") / f"itp-commerce_{model}.vsdx"
    reference = corpus("miwg", "Reference") / f"{model}.bpmn"
    got, want = drawing_counts(drawing), reference_counts(reference)
    for key in ("sequence_flows", "message_flows", "lanes", "pools"):
        assert got[key] == want[key], key
    expected = dict(want["by_type"])
    for kind, change in EXPECTED_DIFFERENCES[model].items():
        expected[kind] = expected.get(kind, 0) + change
    expected = {k: v for k, v in sorted(expected.items()) if v}
    assert got["by_type"] == expected
    assert sum(got["by_type"].values()) == sum(want["by_type"].values())
    loops = dict(want["loops"])
    for kind, change in EXPECTED_LOOP_DIFFERENCES[model].items():
        loops[kind] = loops.get(kind, 0) + change
    assert got["loops"] == {k: v for k, v in loops.items() if v}


def test_miwg_corpus_keeps_its_licence():
    folder = corpus("miwg-vsdx")
    assert "Creative Commons Attribution 3.0" in (folder / "LICENSE.txt").read_text()
    assert "bpmn-miwg-test-suite" in (folder / "SOURCE.txt").read_text()


def test_miwg_b20_markers_boundaries_and_nesting():
    flow = _read(corpus("miwg-vsdx") / "itp-commerce_B.2.0.vsdx", page=0)
    loops = {n.label.replace("\n", " "): n.loop for n in flow.nodes.values() if n.loop}
    assert loops == {
        "User Task 7 Standard Loop": "standard",
        "Collapsed Sub-Process 1 Multi-Instances": "parallel",
        "User Task 12 Multi-Inst. Seq.": "sequential",
    }
    boundary = [n for n in flow.nodes.values() if n.type == "boundaryEvent"]
    assert len(boundary) == 11
    assert all(flow.nodes[n.attached_to].is_activity for n in boundary)
    assert flow.nodes["41"].parent == "37"  # a task inside an expanded sub-process


def test_miwg_c10_lanes_and_message_flows():
    path = corpus("miwg-vsdx") / "itp-commerce_C.1.0.vsdx"
    flow = _read(path)
    assert flow.lane_names() == ["Team Assistant", "Approver", "Accountant"]
    assert flow.lanes[0].name == ""  # the unnamed lane
    assert {p.name for p in flow.pools} == {
        "Team-Assistant",
        "BPMN MIWG Test Case C.1.0",
    }
    assert len(flow.message_edges()) + len(flow.pool_messages) == 5


# -- hostile and broken packages -----------------------------------------------------


def test_not_a_zip(tmp_path):
    path = _write(tmp_path, "fake.vsdx", b"<?xml version='1.0'?><x/>")
    with pytest.raises(ParseError, match="not a zip archive") as info:
        read(path)
    assert info.value.source == str(path)


def _bomb(size: int) -> bytes:
    buf = io.BytesIO()
    with (
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z,
        z.open("visio/pages/page1.xml", "w") as member,
    ):
        chunk = b"\0" * (1 << 20)
        for _ in range(size >> 20):
            member.write(chunk)
    return buf.getvalue()


def test_zip_bomb_stops_before_expanding():
    data = _bomb(64 << 20)  # 64 MB of zeros in about 64 KB
    assert len(data) < 200_000
    tracemalloc.start()
    try:
        with pytest.raises(LimitError, match="member expands to") as info:
            read(data, format="vsdx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.element == "visio/pages/page1.xml"
    assert peak < 8_000_000


def test_compression_ratio_limit(tmp_path):
    path = _write(tmp_path, "ratio.vsdx", _bomb(4 << 20))
    with pytest.raises(LimitError, match=r"compressed [\d,]+ to 1"):
        read(path)


def test_member_count_and_escaping_names(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../outside.xml", "<a/>")
    with pytest.raises(ParseError, match="escapes the package") as info:
        read(_write(tmp_path, "escape.vsdx", buf.getvalue()))
    assert info.value.element == "../outside.xml"


def test_doctype_in_a_part_is_refused(tmp_path):
    title, shapes, glue = japanese_page()
    data = package([(title, shapes, glue)], JA_MASTERS)
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "visio/document.xml":
                body = b'<!DOCTYPE x [<!ENTITY a "b">]>' + body
            dst.writestr(info, body)
    with pytest.raises(ParseError, match="document type") as info:
        read(_write(tmp_path, "dtd.vsdx", buf.getvalue()))
    assert "visio/document.xml" in info.value.source


def test_missing_vsdx_names_the_extra(tmp_path, monkeypatch):
    path = _write(tmp_path, "a.vsdx", package([japanese_page()], JA_MASTERS))
    monkeypatch.setitem(sys.modules, "vsdx", None)
    with pytest.raises(MissingDependencyError, match=r"harpflow\[visio\]"):
        read(path)


@pytest.mark.parametrize(
    ("name", "data"),
    [("bomb.vsdx", None), ("fake.vsdx", b"PK\x03\x04 not really")],
)
def test_cli_reports_hostile_drawings_in_one_line(tmp_path, name, data):
    path = _write(tmp_path, name, data if data is not None else _bomb(64 << 20))
    result = CliRunner().invoke(main, ["stats", str(path)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"harpflow: error: {path}")


def test_errors_are_harpflow_errors(tmp_path):
    path = _write(tmp_path, "x.vsdx", b"")
    with pytest.raises(HarpflowError):
        read(path)


def test_member_count_limit(monkeypatch):
    import harpflow.io.visio as visio

    monkeypatch.setattr(visio, "MAX_MEMBERS", 5)
    data = package([japanese_page()], JA_MASTERS)  # 15 members
    with pytest.raises(LimitError, match="15 members; the limit is 5"):
        read(data, format="vsdx")


def test_total_expanded_size_limit():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(5):
            z.writestr(f"visio/media/image{i}.bin", b"\0" * 900_000)
    with pytest.raises(LimitError, match="members expand to more than 4,000,000"):
        read(buf.getvalue(), format="vsdx", max_bytes=1_000_000)
