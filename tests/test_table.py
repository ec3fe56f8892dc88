"""Step tables: columns, 種別, encodings, errors, and round trips between formats."""

from __future__ import annotations

import io
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, STATS_KEYS

from harpflow.errors import FormatError, HarpflowWarning, LimitError, ParseError
from harpflow.io import read, write
from harpflow.io.table import (
    read_csv,
    read_xlsx,
    read_yaml,
    write_csv,
    write_xlsx,
    write_yaml,
)
from harpflow.io.table_rows import TYPE_JA, join_entries, split_entries
from harpflow.model import NODE_TYPES, Flow

TABLE = DATA / "table"
BROKEN = TABLE / "broken"


def signature(flow: Flow) -> dict[str, Any]:
    """Everything a step table keeps, in a form that compares exactly."""
    nodes = []
    for nid, node in flow.nodes.items():
        a = node.attrs
        nodes.append(
            (
                nid,
                node.type,
                node.label,
                node.lane_id,
                node.lane,
                node.pool_id,
                node.pool,
                node.parent,
                node.medium,
                node.location,
                node.forms,
                node.function_ids,
                node.documentation,
                a.get("system"),
                node.trigger,
                a.get("attached_to"),
                node.loop,
            )
        )
    # sequence flows in order, then message flows in order (a table lists a
    # step's 次 before its 連携)
    edges = [
        (e.source, e.target, e.kind, e.label, e.default)
        for kind in ("sequence", "message")
        for e in flow.edges
        if e.kind == kind
    ]
    return {
        "meta": (flow.name, flow.area, flow.procedure, flow.town, dict(flow.meta)),
        "nodes": nodes,
        "edges": edges,
        "lanes": [(ln.id, ln.name, ln.pool, ln.parent) for ln in flow.lanes],
        "pools": [(p.id, p.name, p.process) for p in flow.pools],
        "pool_messages": [(m.source, m.target, m.label) for m in flow.pool_messages],
    }


def _reread(flow: Flow, fmt: str, **options: Any) -> Flow:
    data = write(flow, format=fmt, **options)
    assert isinstance(data, bytes)
    return read(data, format=fmt)


# -- the fixtures: one flow written four ways --------------------------------


@pytest.fixture(scope="module")
def tennyu() -> Flow:
    return read_yaml(TABLE / "tennyu.yaml")


@pytest.mark.parametrize(
    "name", ["tennyu_ja_cp932.csv", "tennyu_ja_utf8bom.csv", "tennyu_en.csv"]
)
def test_csv_fixtures_equal_the_yaml(tennyu: Flow, name: str) -> None:
    flow = read(TABLE / name)
    assert signature(flow)["nodes"] == signature(tennyu)["nodes"]
    assert signature(flow)["edges"] == signature(tennyu)["edges"]
    assert signature(flow)["lanes"] == signature(tennyu)["lanes"]
    assert signature(flow)["meta"] == signature(tennyu)["meta"]


def test_csv_lines_count_cells_that_span_lines() -> None:
    flow = read(TABLE / "tennyu_ja_cp932.csv")
    lines = {nid: n.source.line for nid, n in flow.nodes.items() if n.source}
    assert (lines["S"], lines["G4"], lines["6"], lines["G6"]) == (7, 10, 12, 14)


@pytest.mark.parametrize("delimiter", ["\t", ";"])
def test_tab_and_semicolon_delimiters(delimiter: str) -> None:
    text = delimiter.join(["番号", "作業", "次"]) + "\n"
    text += (
        delimiter.join(["1", "受付", "2:可"]) + "\n" + delimiter.join(["2", "審査", ""])
    )
    flow = read_csv(text.encode())
    assert [(e.source, e.target, e.label) for e in flow.edges] == [("1", "2", "可")]


def test_cp932_csv_with_japanese_headers_reads() -> None:
    data = (TABLE / "tennyu_ja_cp932.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    flow = read_csv(data)
    assert flow.name == "転入届" and flow.area == "01"
    assert flow.nodes["1"].label == "転入届書を記入し提出"
    assert flow.nodes["1"].forms == ("転入届書", "転出証明書")
    assert flow.meta == {"legal_basis": "住民基本台帳法第22条"}


def test_tennyu_semantics(tennyu: Flow) -> None:
    f = tennyu
    assert [n.type for n in f.nodes.values()][:4] == [
        "startEvent",
        "task",
        "manualTask",
        "exclusiveGateway",
    ]
    # implicit order: S -> 1 -> 2 -> G4
    assert f.successors("S") == ["1"] and f.successors("1") == ["2"]
    # conditions become edge labels; '*' marks the default flow
    g4 = {e.target: e.label for e in f.edges if e.source == "G4"}
    assert g4 == {"5": "特例転入", "6": "通常の転入"}
    g6 = {e.target: (e.label, e.default) for e in f.edges if e.source == "G6"}
    assert g6 == {"6a": ("不備あり", False), "7": ("不備なし", True)}
    # no implicit successor after an end event, '-' means none
    assert f.successors("E") == [] and f.successors("J1") == []
    assert f.successors("T") == ["E"]
    # message flows, across pools
    msgs = {(e.source, e.target): e.label for e in f.message_edges()}
    assert msgs == {
        ("5", "J1"): "転出証明書情報の請求",
        ("7", "J2"): "本人確認情報",
        ("J1", "5"): "転出証明書情報",
    }
    # 組織 -> pool; the lane of an outside body lies in its pool
    assert [p.name for p in f.pools] == ["J-LIS"]
    assert f.nodes["J1"].pool == "J-LIS" and f.nodes["1"].pool is None
    assert [ln.name for ln in f.lanes] == ["住民", "窓口", "担当", "システム", "J-LIS"]
    assert f.lanes[-1].pool == "J-LIS"
    # attributes
    n2, n6 = f.nodes["2"], f.nodes["6"]
    assert n2.attrs["system"] == "住民記録システム" and n2.function_ids == ("0010001",)
    assert n6.function_ids == ("0010002", "0010003") and n6.medium == "screen"
    assert f.nodes["1"].medium == "paper" and f.nodes["1"].location == "本庁"
    assert f.nodes["6a"].documentation == "届出人が訂正して再提出"
    assert f.nodes["T"].trigger == "timer"
    assert f.nodes["T"].type == "intermediateCatchEvent"
    src = f.nodes["G4"].source
    assert src is not None and src.line == 11 and src.element == "row 4"
    assert f.stats()["message_flows"] == 3 and f.stats()["pools"] == 1


@pytest.mark.parametrize("kind", sorted(TYPE_JA))
def test_each_japanese_kind(kind: str) -> None:
    label = "" if TYPE_JA[kind][0] not in ("task",) else "x"
    text = f"番号,作業,種別\nA,{label or 'x'},{kind}\n"
    flow = read_csv(text.encode())
    node = flow.nodes["A"]
    assert node.type == TYPE_JA[kind][0]
    assert node.trigger == TYPE_JA[kind][1]


@pytest.mark.parametrize("bpmn", sorted(NODE_TYPES))
def test_each_bpmn_name_and_case(bpmn: str) -> None:
    for written in (bpmn, bpmn.upper()):
        flow = read_csv(f"id,label,type\nA,x,{written}\n".encode())
        assert flow.nodes["A"].type == bpmn


def test_empty_kind_is_task_and_headers_any_order_and_case() -> None:
    flow = read_csv(" Type ,NEXT,Label,ID,Lane\n,,x,1,窓口\n".encode())
    assert flow.nodes["1"].type == "task" and flow.nodes["1"].lane == "窓口"


def test_full_width_colon_and_header() -> None:
    flow = read_csv("番号,作業,種別,ｎｅｘｔ\n1,x,判断,2：いいえ\n2,y,,\n".encode())
    assert [(e.target, e.label) for e in flow.edges] == [("2", "いいえ")]


def test_implicit_next_skips_rows_of_a_sub_process() -> None:
    text = (
        "番号,作業,種別,次,親\n"
        "S,,開始,,\n"
        "P,審査する,サブプロセス,,\n"
        "P1,書類確認,,,P\n"
        "P2,照合,,,P\n"
        "E,,終了,,\n"
    )
    flow = read_csv(text.encode())
    assert flow.successors("P") == ["E"]
    assert flow.successors("P1") == ["P2"] and flow.successors("P2") == []
    assert flow.nodes["P1"].parent == "P"


def test_message_to_a_whole_pool() -> None:
    text = "番号,作業,連携,組織\n1,送付,国保連:資格情報,\n2,受付,,国保連\n"
    flow = read_csv(text.encode())
    assert [(m.source, m.target, m.label) for m in flow.pool_messages] == [
        ("1", "国保連", "資格情報")
    ]
    again = _reread(flow, "csv")
    assert signature(again) == signature(flow)


def test_message_edge_within_one_pool_is_still_a_message() -> None:
    flow = read_csv("番号,作業,次,連携\n1,a,-,2:書類\n2,b,,\n".encode())
    assert [(e.source, e.target, e.kind, e.label) for e in flow.edges] == [
        ("1", "2", "message", "書類")
    ]


def test_message_beside_a_sequence_flow_warns() -> None:
    with pytest.warns(HarpflowWarning, match="one edge per pair"):
        flow = read_csv("番号,作業,連携\n1,a,2\n2,b,\n".encode())
    assert [e.kind for e in flow.edges] == ["sequence"]


def test_brackets_inside_an_entry_are_plain_text() -> None:
    assert split_entries("a「b, c、d") == ["a「b", "c", "d"]
    assert split_entries("住民票「写し」、転出証明書") == [
        "住民票「写し」",
        "転出証明書",
    ]
    flow = read_csv("番号,作業,帳票\n1,受付,「転入届」、a「b\n".encode())
    assert flow.nodes["1"].forms == ("転入届", "a「b")


def test_list_cells_split_and_join() -> None:
    cell = "5:不備あり、6:不備なし; 7\n8:「a、b」"
    assert split_entries(cell) == ["5:不備あり", "6:不備なし", "7", "8:「a、b」"]
    entries = ["5:a、b", "6", "7:「x」"]
    joined = join_entries(entries, links=True)
    assert joined == "5:「a、b」、6、7:「「x」」"
    flow = read_csv(
        f'番号,作業,種別,次\n1,x,判断,"{joined}"\n5,a,,-\n6,b,,-\n7,c,,-\n'.encode()
    )
    assert [e.label for e in flow.edges] == ["a、b", "", "「x」"]


# -- encodings ----------------------------------------------------------------

TEXT = "番号,担当,作業,次\n1,窓口,受付,\n2,担当,審査,\n"


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "utf-16", "cp932", "euc_jp"]
)
def test_encodings_detected(encoding: str) -> None:
    flow = read_csv(TEXT.encode(encoding))
    assert [n.label for n in flow.nodes.values()] == ["受付", "審査"]


def test_utf16_big_endian_with_bom() -> None:
    flow = read_csv(b"\xfe\xff" + TEXT.encode("utf-16-be"))
    assert len(flow.nodes) == 2


def test_bytes_in_no_accepted_encoding() -> None:
    with pytest.raises(ParseError, match="decode as none of UTF-8") as err:
        read(BROKEN / "bad_encoding.csv")
    assert err.value.line == 3


# -- errors name the row and the column ---------------------------------------

ERRORS = [
    ("unknown_type.csv", 4, "row 2, column 種別", "unknown 種別 '相談'"),
    ("unknown_successor.csv", 3, "row 2, column 次", "successor '9'"),
    ("duplicate_id.csv", 4, "row 3, column 番号", "repeats row 1"),
    ("missing_label.csv", 3, "row 2, column 作業", "has no 作業"),
    ("unknown_medium.csv", 3, "row 2, column 媒体", "unknown 媒体 '伝書鳩'"),
    ("empty.csv", None, None, "empty file"),
    ("binary_junk.csv", None, None, None),
    ("wrong_header.csv", 1, "header", "wrong header: no 番号"),
    ("unclosed_quote.csv", 3, None, None),
    ("unknown_successor.yaml", 3, "row 2, column 次", "successor '7'"),
    ("alias_bomb.yaml", 2, "alias *a", "aliases are not accepted"),
    ("python_tag.yaml", 2, None, "python/object"),
    ("truncated.yaml", None, None, "YAML"),
]


@pytest.mark.parametrize(("name", "line", "element", "message"), ERRORS)
def test_errors_name_file_row_and_column(
    name: str, line: int | None, element: str | None, message: str | None
) -> None:
    path = BROKEN / name
    with pytest.raises(ParseError) as err:
        read(path)
    exc = err.value
    assert exc.source == str(path)
    if line is not None:
        assert exc.line == line
    if element is not None:
        assert exc.element == element
    if message is not None:
        assert message in exc.message
    assert str(path) in str(exc)


def test_binary_junk_is_refused_as_not_text() -> None:
    with pytest.raises(ParseError, match=r"binary data|decode as none"):
        read(BROKEN / "binary_junk.csv")


def test_errors_in_english_columns_use_english_names() -> None:
    with pytest.raises(ParseError) as err:
        read_csv(b"id,label,next\n1,a,zz\n")
    assert err.value.element == "row 1, column next" and err.value.line == 2


def test_yaml_errors_name_row_and_line() -> None:
    text = "steps:\n  - {番号: 1, 作業: a}\n\n  - 番号: 2\n    作業: b\n    種別: 謎\n"
    with pytest.raises(ParseError) as err:
        read_yaml(text)
    assert err.value.line == 4 and err.value.element == "row 2, column 種別"


def test_unknown_columns_warn() -> None:
    with pytest.warns(HarpflowWarning, match="色"):
        flow = read_csv("番号,作業,色\n1,a,赤\n".encode())
    assert len(flow.nodes) == 1


def test_duplicate_header_is_a_wrong_header() -> None:
    with pytest.raises(ParseError, match="same column"):
        read_csv("番号,作業,label\n1,a,b\n".encode())


def test_dash_with_ids_and_unknown_options() -> None:
    with pytest.raises(ParseError, match="cannot stand with ids"):
        read_csv('番号,作業,次\n1,a,"-,2"\n2,b,\n'.encode())
    with pytest.raises(FormatError):
        read_csv(b"id,label\n1,a\n", colour="red")


# -- XLSX ---------------------------------------------------------------------


def test_xlsx_written_twice_is_byte_identical(tennyu: Flow) -> None:
    first = write_xlsx(tennyu)
    time.sleep(2.1)  # zip entry times have a resolution of two seconds
    second = write_xlsx(tennyu)
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as zf:
        core = zf.read("docProps/core.xml").decode()
        assert "2000-01-01T00:00:00Z" in core
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_xlsx_reads_back_with_sheet_and_meta(tennyu: Flow) -> None:
    import openpyxl

    data = write_xlsx(tennyu)
    assert isinstance(data, bytes)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["業務フロー", "meta"]
    ws = wb["業務フロー"]
    assert [c.value for c in ws[1]][:5] == ["番号", "担当", "作業", "種別", "次"]
    assert ws["E5"].value == "5:特例転入\n6:通常の転入"
    assert signature(read_xlsx(data)) == signature(tennyu)


def test_xlsx_made_by_hand_with_title_rows_and_numbers(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "表紙"
    ws = wb.create_sheet("steps")
    ws.append(["転入届 業務要件定義表"])
    ws.append([])
    ws.append(["No", "lane", "label", "type", "next", "medium"])
    ws.append([1, "窓口", "受付", None, None, "紙"])
    ws.append([2.0, "担当", "入力", "判断", "1:戻す, 3:進む", None])
    ws.append([3, "担当", "完了", "終了"])
    meta = wb.create_sheet("meta")
    meta.append(["key", "value"])
    meta.append(["area", 1])
    meta.append(["name", "転入届"])
    wb.save(tmp_path / "hand.xlsx")
    flow = read(tmp_path / "hand.xlsx")
    assert flow.area == "01" and flow.name == "転入届"
    assert list(flow.nodes) == ["1", "2", "3"]
    assert flow.nodes["2"].label == "入力" and flow.nodes["1"].medium == "paper"
    assert [(e.source, e.target, e.label) for e in flow.edges] == [
        ("1", "2", ""),
        ("2", "1", "戻す"),
        ("2", "3", "進む"),
    ]
    src = flow.nodes["2"].source
    assert src is not None and src.line == 5
    ws.cell(row=6, column=5, value="9")
    wb.save(tmp_path / "bad.xlsx")
    with pytest.raises(ParseError) as err:
        read(tmp_path / "bad.xlsx")
    assert err.value.line == 6 and err.value.element == "row 3, column next"


def test_xlsx_cells_are_text_not_formulas() -> None:
    flow = read_csv("番号,作業\n1,=SUM(A1:A3)\n2,'001\n".encode())
    back = read_xlsx(write_xlsx(flow))
    assert [n.label for n in back.nodes.values()] == ["=SUM(A1:A3)", "'001"]


def test_xlsx_zip_bomb_is_refused_before_opening() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * 101_000_000)
    data = out.getvalue()
    assert len(data) < 200_000
    with pytest.raises(LimitError, match="100,000,000") as err:
        read_xlsx(data)
    assert err.value.element == "zip member xl/worksheets/sheet1.xml"
    with pytest.raises(LimitError) as err:
        read(data, format="xlsx")
    assert "xl/worksheets/sheet1.xml" in str(err.value)


def test_xlsx_limit_is_a_parameter(tennyu: Flow) -> None:
    data = write_xlsx(tennyu)
    with pytest.raises(LimitError):
        read_xlsx(data, max_unzipped=1000)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a zip at all", "no zip signature"),
        (b"PK\x03\x04garbage", "not an XLSX workbook"),
    ],
)
def test_xlsx_broken(data: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        read_xlsx(data)


def test_xlsx_zip_without_workbook() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(ParseError, match="not a readable XLSX workbook"):
        read_xlsx(out.getvalue())


# -- writers ------------------------------------------------------------------


def test_writers_are_deterministic(tennyu: Flow) -> None:
    for writer in (write_yaml, write_csv, write_xlsx):
        assert writer(tennyu) == writer(tennyu.copy())


def test_english_headers(tennyu: Flow) -> None:
    text = write_csv(tennyu, headers="en", encoding="utf-8")
    assert isinstance(text, bytes)
    lines = text.decode().splitlines()
    header = next(ln for ln in lines if not ln.startswith("#"))
    assert header.startswith("id,lane,label,type,next,messages,pool")
    assert "S,住民,転入,startEvent" in text.decode()
    yaml_text = write_yaml(tennyu, headers="en")
    assert isinstance(yaml_text, bytes)
    assert "{id: S, lane: 住民, label: 転入, type: startEvent}" in yaml_text.decode()
    assert signature(read_csv(text)) == signature(tennyu)


def test_csv_encodings_on_write(tennyu: Flow) -> None:
    data = write_csv(tennyu, encoding="cp932")
    assert isinstance(data, bytes)
    assert signature(read_csv(data)) == signature(tennyu)
    flow = tennyu.copy()
    flow.update_node("1", label="𠮷野家で受付")
    with pytest.raises(FormatError, match="cp932"):
        write_csv(flow, encoding="cp932")


def test_write_to_path_and_file(tmp_path: Path, tennyu: Flow) -> None:
    assert write(tennyu, tmp_path / "t.yaml") is None
    buf = io.BytesIO()
    write_csv(tennyu, buf)
    assert buf.getvalue() == write_csv(tennyu)
    assert signature(read(tmp_path / "t.yaml"))["nodes"] == signature(tennyu)["nodes"]


# -- round trips --------------------------------------------------------------


def test_round_trip_yaml_csv_xlsx(tennyu: Flow) -> None:
    want = signature(tennyu)
    flow = tennyu
    for fmt in ("csv", "xlsx", "yaml", "xlsx", "csv", "yaml"):
        flow = _reread(flow, fmt)
        got = signature(flow)
        assert got["nodes"] == want["nodes"], fmt
        assert got == {**want, "meta": got["meta"]}, fmt
        assert got["meta"][:4] == want["meta"][:4]
        assert got["meta"][4] == want["meta"][4]


def bpmn_like_flow() -> Flow:
    """A flow shaped like one read from BPMN: every feature a table must keep."""
    f = Flow("物品購入", area="23", procedure="buppin-shishutsu", version=3)
    f.add_pool("P_city", "A市", process="Process_1")
    f.add_pool("P_bank", "指定金融機関")
    f.add_pool("P_vendor", "")
    f.add_lane("L_all", "会計", pool="P_city")
    f.add_lane("L_tanto", "担当課", pool="P_city", parent="L_all")
    f.add_lane("L_kessai", "決裁", pool="P_city", parent="L_all")
    f.add_lane("L_blank", "", pool="P_city")
    f.add_lane("L_bank", "窓口", pool="P_bank")
    f.add_lane("L_city_madoguchi", "窓口", pool="P_city")
    f.add_node("start", type="startEvent", label="", lane_id="L_tanto")
    f.add_node("t1", type="userTask", label="予算執行伺", lane_id="L_tanto",
               forms=["伺書", "見積書、仕様書"], function_ids=["0230265"],
               medium="screen", system="財務会計システム")  # fmt: skip
    f.add_node("gw", type="exclusiveGateway", label="金額は？", lane_id="L_kessai")
    f.add_node(
        "sp", type="subProcess", label="契約", lane_id="L_tanto", loop="standard"
    )
    f.add_node("sp_s", type="startEvent", parent="sp", lane_id="L_tanto")
    f.add_node("sp_t", type="task", label="", parent="sp", lane_id="L_tanto")
    f.add_node("sp_e", type="endEvent", parent="sp", lane_id="L_tanto")
    f.add_node("timer", type="boundaryEvent", label="期限", attached_to="sp",
               trigger="timer", lane_id="L_tanto")  # fmt: skip
    f.add_node("t2", type="task", label="随意契約: 見積, 比較", lane_id="L_blank",
               documentation="一行目\n二行目", location="本庁")  # fmt: skip
    f.add_node("t3", type="sendTask", label="支払依頼", lane_id="L_city_madoguchi")
    f.add_node("b1", type="receiveTask", label="支払", lane_id="L_bank")
    f.add_node("b_end", type="endEvent", label="完了", lane_id="L_bank")
    f.add_node("msg_start", type="startEvent", trigger="message", pool_id="P_vendor")
    f.add_node("end", type="endEvent", label="終了", lane_id="L_tanto")
    f.add_edge("start", "t1")
    f.add_edge("t1", "gw")
    f.add_edge("gw", "sp", label="100万円以上", default=True)
    f.add_edge("gw", "t2", label="", condition="${amount < 1000000}")
    f.add_edge("sp_s", "sp_t")
    f.add_edge("sp_t", "sp_e")
    f.add_edge("sp", "t3")
    f.add_edge("timer", "end", label="期限切れ")
    f.add_edge("t2", "t3", label="「例外」: a、b; c")
    f.add_edge("t3", "end")
    f.add_edge("b1", "b_end")
    f.add_edge("t3", "b1", kind="message", label="支払依頼書")
    f.add_edge("msg_start", "t1", kind="message")
    f.add_pool_message("m1", "b1", "P_city", label="支払通知")
    f.add_pool_message("m2", "P_vendor", "t1", label="請求書")
    return f


def _bpmn_like_expected(flow: Flow) -> dict[str, Any]:
    want = signature(flow)
    # a formal condition without a label is written as the label
    want["edges"] = [
        (s, t, k, "${amount < 1000000}" if (s, t) == ("gw", "t2") else lbl, d)
        for s, t, k, lbl, d in want["edges"]
    ]
    return want


@pytest.mark.parametrize("headers", ["ja", "en"])
@pytest.mark.parametrize("fmt", ["yaml", "csv", "xlsx"])
def test_flow_from_bpmn_keeps_nodes_lanes_pools_order(fmt: str, headers: str) -> None:
    flow = bpmn_like_flow()
    want = _bpmn_like_expected(flow)
    got = signature(_reread(flow, fmt, headers=headers))
    for key in ("nodes", "edges", "lanes", "pools"):
        assert got[key] == want[key], key
    # pool message ids come back (from meta) or are made anew (from 連携)
    assert got["pool_messages"] == want["pool_messages"]
    assert got["meta"] == want["meta"]
    again = signature(_reread(_reread(flow, fmt, headers=headers), fmt))
    assert again == got


def test_bpmn_like_flow_table_text() -> None:
    data = write_yaml(bpmn_like_flow())
    assert isinstance(data, bytes)
    text = data.decode()
    assert "- {id: L_tanto, name: 担当課, pool: P_city, parent: L_all}" in text
    assert "親: sp" in text and "付属: sp" in text and "繰返し: standard" in text
    assert (
        "pool_messages:\n- {id: m2, source: P_vendor, target: t1, label: 請求書}"
        in text
    )


# -- BPMN (read and written by harpflow.io.bpmn) ---------------------------------


def _bpmn_available() -> bool:
    try:
        import harpflow.io.bpmn  # noqa: F401
    except ImportError:
        return False
    return True


needs_bpmn = pytest.mark.skipif(
    not _bpmn_available(), reason="harpflow.io.bpmn is not there yet"
)


def _core(flow: Flow) -> dict[str, Any]:
    """Steps, lanes, order and conditions: what a BPMN round trip must keep."""
    return {
        "nodes": [
            (nid, n.type, n.label, n.lane, n.pool, n.parent)
            for nid, n in flow.nodes.items()
        ],
        "edges": sorted(
            (e.source, e.target, e.kind, e.label, e.default) for e in flow.edges
        ),
        "lanes": [ln.name for ln in flow.lanes],
    }


def _lanes_by_pool(flow: Flow) -> dict[str | None, list[str]]:
    out: dict[str | None, list[str]] = {}
    for ln in flow.lanes:
        out.setdefault(ln.pool, []).append(ln.name)
    return out


@needs_bpmn
@pytest.mark.parametrize("name", ["tennyu.yaml", "tennyu_ja_cp932.csv"])
def test_round_trip_through_bpmn(name: str) -> None:
    flow = read(TABLE / name)
    via = read(write(flow, format="bpmn"), format="bpmn")
    for fmt in ("yaml", "csv", "xlsx"):
        back = _reread(via, fmt)
        assert _core(back)["nodes"] == _core(via)["nodes"], fmt
        assert _core(back) == _core(via), fmt
    # the table's steps, lanes, order (sequence flows) and conditions survive
    # the trip through BPMN; BPMN lists nodes process by process
    # (lane order is kept within each pool; BPMN writes pool by pool)
    got, want = _core(via), _core(flow)
    assert sorted(got["nodes"]) == sorted(want["nodes"])
    assert got["edges"] == want["edges"]
    assert _lanes_by_pool(via) == _lanes_by_pool(flow)


@needs_bpmn
def test_bpmn_like_flow_through_bpmn_and_tables() -> None:
    flow = read(write(bpmn_like_flow(), format="bpmn"), format="bpmn")
    want = _core(flow)
    # a formal condition without a label is written as the label
    want["edges"] = sorted(
        (s, t, k, "${amount < 1000000}" if (s, t) == ("gw", "t2") else lbl, d)
        for s, t, k, lbl, d in want["edges"]
    )
    for fmt in ("yaml", "csv", "xlsx"):
        back = _reread(flow, fmt)
        assert _core(back) == want, fmt
        assert signature(back)["pools"] == signature(flow)["pools"]
        assert signature(back)["lanes"] == signature(flow)["lanes"]
        assert signature(back)["pool_messages"] == signature(flow)["pool_messages"]


def _table_view(flow: Flow) -> dict[str, Any]:
    """What a table keeps of a flow read from BPMN (a bare condition becomes
    the label; metadata apart)."""
    sig = signature(flow)
    sig["edges"] = [
        (e.source, e.target, e.kind, e.label or e.condition or "", e.default)
        for kind in ("sequence", "message")
        for e in flow.edges
        if e.kind == kind
    ]
    del sig["meta"]
    return sig


def _corpus_files(*parts: str) -> list[Path]:
    from conftest import corpus

    return sorted(corpus(*parts).rglob("*.bpmn"))


@needs_bpmn
@pytest.mark.parametrize("fmt", ["yaml", "csv", "xlsx"])
def test_miwg_reference_models_through_tables(fmt: str) -> None:
    files = _corpus_files("miwg", "Reference")
    assert len(files) == 21
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HarpflowWarning)
        for path in files:
            flow = read(path)
            back = _reread(flow, fmt)
            assert _table_view(back) == _table_view(flow), path.name


@needs_bpmn
def test_every_corpus_bpmn_file_through_csv() -> None:
    files = _corpus_files("miwg") + _corpus_files("hdbpmn")
    assert len(files) == 574
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HarpflowWarning)
        for path in files:
            flow = read(path)
            assert _table_view(_reread(flow, "csv")) == _table_view(flow), path


# -- misc ---------------------------------------------------------------------


def test_yaml_scalars_are_taken_as_written() -> None:
    flow = read_yaml(
        "area: 5\nsteps:\n  - {番号: 01, 作業: yes, 次: [null]}\n"
        "  - {番号: 1.0, 作業: ~x}\n"
    )
    assert flow.area == "05"
    assert list(flow.nodes) == ["01", "1.0"]
    assert flow.nodes["01"].label == "yes"


def test_any_metadata_key_goes_to_meta() -> None:
    flow = read_yaml("source: 台帳\n1: 一\nname: x\nsteps:\n  - {番号: 1, 作業: a}\n")
    assert flow.meta == {"source": "台帳", "1": "一"}
    assert flow.source == "<string>"
    with pytest.raises(ParseError, match="expected a list"):
        read_yaml("pool_messages: 3\nsteps: []\n")
    with pytest.raises(ParseError, match="key repeats"):
        read_yaml("name: a\nname: b\nsteps: []\n")


def test_yaml_top_level_list_and_empty_steps() -> None:
    assert len(read_yaml("- {番号: 1, 作業: a}\n- {番号: 2, 作業: b}\n").nodes) == 2
    assert len(read_yaml("name: x\nsteps:\n").nodes) == 0
    with pytest.raises(ParseError, match="no steps"):
        read_yaml("name: x\n")
    with pytest.raises(ParseError, match="empty file"):
        read_yaml(b"   \n")


def test_processes_step_tables_all_read_and_round_trip() -> None:
    from conftest import PROCESSES

    files = [
        p
        for p in sorted(PROCESSES.rglob("*"))
        if p.suffix in (".yaml", ".csv", ".xlsx")
        and "gold" not in p.parts
        and p.name != "towns.csv"
    ]
    assert files
    with warnings.catch_warnings():
        warnings.simplefilter("error", HarpflowWarning)
        for path in files:
            flow = read(path)
            assert len(flow.nodes) > 0, path
            want = signature(flow)
            formats = ("yaml", "csv", "xlsx") if "standard" in path.parts else ("csv",)
            for fmt in formats:
                assert signature(_reread(flow, fmt)) == want, (path, fmt)


# -- property: random step tables round-trip YAML <-> CSV <-> XLSX --------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from harpflow.model import EVENT_TYPES, MEDIA  # noqa: E402

_TEXT_CHARS = "ab 受付審査、,;:：「」-*\n=窓口'\"#"
_texts = st.text(alphabet=_TEXT_CHARS, max_size=8)
# list entries (帳票, conditions, message labels): 「 and 」 pair up
_plain_texts = st.text(alphabet=_TEXT_CHARS.replace("「」", ""), max_size=6)
_list_texts = st.one_of(
    _plain_texts,
    st.builds(lambda t: f"「{t}」", _plain_texts),
    st.builds(
        lambda a, b, c: f"{a}「{b}」{c}", _plain_texts, _plain_texts, _plain_texts
    ),
)
_ids = st.text(alphabet="ABab12受付_.", min_size=1, max_size=3)
_names = st.text(alphabet="ab 窓口住民,:-", max_size=4)


def _clean(text: str) -> str:
    """A cell text a table keeps exactly: empty, or not only white space."""
    return text if text.strip() else ""


@st.composite
def step_tables(draw: st.DrawFn) -> Flow:
    flow = Flow(_clean(draw(_texts)) or None, area=draw(st.sampled_from([None, "01"])))
    pools = []
    for k in range(draw(st.integers(0, 2))):
        pools.append(flow.add_pool(f"P{k}", draw(_names)).id)
    lanes = []
    for k in range(draw(st.integers(0, 3))):
        pool = draw(st.sampled_from([None, *pools]))
        lanes.append(flow.add_lane(f"L{k}", draw(_names), pool=pool).id)
    ids = draw(st.lists(_ids, min_size=1, max_size=7, unique=True))
    ids = [i for i in ids if i not in pools]
    for nid in ids:
        ntype = draw(st.sampled_from(sorted(NODE_TYPES)))
        label = _clean(draw(_texts))
        if label.strip() in ("-", "－", "−", "ー"):
            label = ""
        extra: dict[str, Any] = {}
        if ntype in EVENT_TYPES and draw(st.booleans()):
            extra["trigger"] = draw(st.sampled_from(["timer", "message", "signal"]))
        if draw(st.booleans()):
            extra["system"] = draw(_texts).strip() or "住基"
        flow.add_node(
            nid,
            type=ntype,
            label=label,
            lane_id=draw(st.sampled_from([None, *lanes])),
            pool_id=draw(st.sampled_from([None, *pools])),
            medium=draw(st.sampled_from([None, *MEDIA])),
            location=draw(_texts).strip() or None,
            forms=[f for f in draw(st.lists(_list_texts, max_size=3)) if f],
            function_ids=[f for f in draw(st.lists(_ids, max_size=2)) if f],
            documentation=_clean(draw(_texts)),
            loop=draw(st.sampled_from([None, "standard"])),
            **extra,
        )
    for k, nid in enumerate(ids):
        others = [i for i in ids if i != nid]
        if k and draw(st.integers(0, 4)) == 0:  # parents come first: no loops
            flow.update_node(nid, parent=draw(st.sampled_from(ids[:k])))
        if others and flow.nodes[nid].type == "boundaryEvent":
            flow.update_node(nid, attached_to=draw(st.sampled_from(others)))
    pairs = draw(
        st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids)), unique=True)
    )
    for u, v in pairs:
        kind = draw(st.sampled_from(["sequence", "message"]))
        flow.add_edge(
            u,
            v,
            kind=kind,
            label=draw(_list_texts),
            default=kind == "sequence" and draw(st.booleans()),
        )
    for k, (node, pool, out) in enumerate(
        draw(
            st.lists(
                st.tuples(st.sampled_from(ids), st.sampled_from(pools), st.booleans()),
                max_size=3,
            )
            if pools
            else st.just([])
        )
    ):
        src, dst = (node, pool) if out else (pool, node)
        flow.add_pool_message(f"m{k}", src, dst, label=draw(_list_texts))
    return flow


def _kept(flow: Flow) -> dict[str, Any]:
    sig = signature(flow)
    sig["meta"] = sig["meta"][:2]
    return sig


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(step_tables())
def test_random_step_tables_round_trip(flow: Flow) -> None:
    want = _kept(flow)
    for fmt in ("yaml", "csv", "xlsx"):
        got = _kept(_reread(flow, fmt))
        for key in want:
            if key == "nodes":
                for a, b in zip(got[key], want[key], strict=True):
                    assert a == b, fmt
            assert got[key] == want[key], (fmt, key)
    chained = flow
    for fmt in ("yaml", "csv", "xlsx", "yaml"):
        chained = _reread(chained, fmt)
    assert _kept(chained) == want


# -- the command line -----------------------------------------------------------


def test_cli_stats_on_a_cp932_table() -> None:
    import json

    from click.testing import CliRunner

    from harpflow.cli import main

    path = TABLE / "tennyu_ja_cp932.csv"
    result = CliRunner().invoke(main, ["stats", "--json", str(path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert list(data) == STATS_KEYS
    assert data["format"] == "csv" and data["nodes"] == 14
    assert data["by_type"]["exclusiveGateway"] == 2
    assert (data["sequence_flows"], data["message_flows"]) == (13, 3)
    assert (data["lanes"], data["pools"], data["data_objects"]) == (5, 1, 0)
    yaml_result = CliRunner().invoke(
        main, ["stats", "--json", str(TABLE / "tennyu.yaml")]
    )
    assert json.loads(yaml_result.output) == {**data, "format": "yaml"}


@pytest.mark.parametrize("name", ["unknown_successor.csv", "binary_junk.csv"])
def test_cli_stats_on_a_broken_table(name: str) -> None:
    from click.testing import CliRunner

    from harpflow.cli import main

    path = BROKEN / name
    result = CliRunner().invoke(main, ["stats", str(path)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"harpflow: error: {path}:")
    assert "Traceback" not in result.output


def test_cli_convert_table_to_table(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from harpflow.cli import main

    out = tmp_path / "t.xlsx"
    result = CliRunner().invoke(main, ["convert", str(TABLE / "tennyu.yaml"), str(out)])
    assert result.exit_code == 0, result.output
    assert signature(read(out)) == signature(read(TABLE / "tennyu.yaml"))


def _xlsx_with_sheet_prefix(dtd: str, entity: str) -> bytes:
    """A written workbook whose step sheet declares ``dtd`` and uses ``entity``."""
    import re

    flow = read_yaml(TABLE / "tennyu.yaml")
    raw = write_xlsx(flow)
    assert isinstance(raw, bytes)
    src = zipfile.ZipFile(io.BytesIO(raw))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = re.sub(
                    r'(<c r="C2"[^>]*><is><t>)[^<]*(</t>)',
                    lambda m: m.group(1) + entity + m.group(2),
                    content.decode(),
                    count=1,
                )
                content = (dtd + text).encode()
            dst.writestr(info.filename, content)
    return out.getvalue()


def test_xlsx_entity_bomb_and_external_entity_are_refused() -> None:
    lol = "".join(
        f'<!ENTITY lol{i + 1} "{("&lol" + (str(i) if i else "") + ";") * 10}">'
        for i in range(9)
    )
    bomb = _xlsx_with_sheet_prefix(
        f'<!DOCTYPE worksheet [<!ENTITY lol "lol">{lol}]>', "&lol9;"
    )
    start = time.perf_counter()
    with pytest.raises(ParseError, match=r"amplification|entit"):
        read_xlsx(bomb)
    assert time.perf_counter() - start < 10
    secret = Path("/etc/hostname")
    xxe = _xlsx_with_sheet_prefix(
        f'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file://{secret}">]>', "&xxe;"
    )
    with pytest.raises(ParseError) as err:
        read_xlsx(xxe)
    if secret.exists() and secret.read_text().strip():
        assert secret.read_text().strip() not in str(err.value)
