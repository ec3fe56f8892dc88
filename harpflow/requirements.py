"""Outputs of a recommended flow: requirements table, XLSX, coloured BPMN.

The requirements table follows the shape of the 機能要件定義表 of the
standard specifications (標準仕様書 別紙 機能・帳票要件): one row per step
with its function ids and a class --

``必須``
    in the recommended flow (performed by at least the threshold share of
    towns, or required by law);
``標準オプション``
    left out, but a base step some town performs, or a practice that two
    towns or more follow;
``対象外``
    a base step no town performs, or one town's own practice (the
    customisation the standard specifications rule out).

The BPMN output colours every shape and flow by its support with the two
colour extensions modellers read: bpmn.io's ``bioc:stroke``/``bioc:fill``
(``http://bpmn.io/schema/bpmn/biocolor/1.0``) and the OMG BPMN-in-Color
``color:background-color``/``color:border-color``
(``http://www.omg.org/spec/BPMN/non-normative/color/1.0``), both allowed on
diagram elements by the BPMN DI schema; the support and the supporting
towns go into each element's ``documentation``.

Examples
--------
>>> import harpflow
>>> from harpflow.unify import unify
>>> std = harpflow.read('''
... steps:
...   - {番号: S, 作業: 開始, 種別: 開始}
...   - {番号: 1, 担当: 窓口, 作業: 申請の受付, 機能ID: ["0010001"]}
...   - {番号: 2, 担当: 担当, 作業: 審査}
...   - {番号: E, 作業: 終了, 種別: 終了}
... ''', format="yaml")
>>> rec = unify([std.copy(), std.copy()], standard=std)
>>> rec.requirements()[["step", "function_ids", "class", "support"]].values.tolist()
[['1', '0010001', '必須', 1.0], ['2', '', '必須', 1.0]]
>>> b"bioc:fill" in rec.to_bpmn()
True
"""

from __future__ import annotations

import datetime as _dt
import io
import zipfile
from typing import TYPE_CHECKING, Any

from lxml import etree

from harpflow.errors import ModelError

if TYPE_CHECKING:
    import pandas as pd

    from harpflow.unify import Recommendation

__all__ = [
    "BIOC_NS",
    "CLASSES",
    "COLOR_NS",
    "colour_of",
    "requirements_frame",
    "write_requirements_xlsx",
    "write_support_bpmn",
]

#: bpmn.io colour extension.
BIOC_NS = "http://bpmn.io/schema/bpmn/biocolor/1.0"
#: OMG BPMN-in-Color extension.
COLOR_NS = "http://www.omg.org/spec/BPMN/non-normative/color/1.0"
#: Requirement classes, in table order.
CLASSES = ("必須", "標準オプション", "対象外")

_COLUMNS = [
    "step", "label", "lane", "function_ids", "class", "support", "towns",
    "origin", "note",
]  # fmt: skip
_HEADERS = {
    "step": "番号",
    "label": "作業",
    "lane": "担当",
    "function_ids": "機能ID",
    "class": "区分",
    "support": "支持率",
    "towns": "実施団体",
    "origin": "出典",
    "note": "備考",
}
_ORIGIN = {
    "standard": "標準",
    "medoid": "代表団体",
    "practice": "団体の実務",
    "step": "標準",
    "handoff": "標準 (連携)",
}
_FIXED = _dt.datetime(2000, 1, 1, 0, 0, 0)


def colour_of(support: float, min_support: float) -> tuple[str, str]:
    """(fill, stroke) for a support share: green when most towns support
    it, yellow from the threshold, red below it (kept as required)."""
    if support >= max(0.8, min_support):
        return "#C8E6C9", "#1B5E20"
    if support >= min_support:
        return "#FFF9C4", "#8D6E00"
    return "#FFCDD2", "#B71C1C"


def requirements_frame(rec: Recommendation) -> pd.DataFrame:
    """The requirements table of a recommendation (see the module doc)."""
    import pandas as pd

    from harpflow.unify_build import is_step

    n = max(1, len(rec.towns))
    rows: list[dict[str, Any]] = []
    flow = rec.flow
    for nid in flow.graph:
        if not is_step(flow, nid):
            continue
        node = flow.nodes[nid]
        towns = rec.supporters(nid)
        origin = "practice" if flow.graph.nodes[nid].get("practice") else rec.base_kind
        note = ""
        if nid in rec.required and len(towns) / n < rec.min_support:
            note = "法定・必須として採用 / kept as required"
        elif nid in rec.kept:
            note = (
                "支持は基準未満だが、外しても団体は平均で近づかない / kept: "
                "leaving it out brings the towns no closer on average"
            )
        rows.append(
            {
                "step": nid,
                "label": node.label,
                "lane": node.lane or "",
                "function_ids": ", ".join(node.function_ids),
                "class": "必須",
                "support": len(towns) / n,
                "towns": ", ".join(towns),
                "origin": _ORIGIN[origin],
                "note": note,
            }
        )
    for opt in rec.options:
        optional = len(opt.towns) >= (1 if opt.kind != "practice" else 2)
        rows.append(
            {
                "step": opt.id,
                "label": opt.label,
                "lane": opt.lane,
                "function_ids": ", ".join(opt.function_ids),
                "class": "標準オプション" if optional else "対象外",
                "support": opt.support,
                "towns": ", ".join(opt.towns),
                "origin": _ORIGIN[opt.kind if opt.kind != "step" else "step"],
                "note": opt.reason,
            }
        )
    return pd.DataFrame(rows, columns=_COLUMNS)


def write_requirements_xlsx(rec: Recommendation, dest: Any = None) -> bytes | None:
    """Write the requirements table as one XLSX sheet ``機能要件``.

    Headers are Japanese with the English column name below; workbook and
    zip timestamps are fixed, so the same table gives the same bytes.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    from harpflow.io.source import emit

    frame = requirements_frame(rec)
    wb = Workbook()
    ws = wb.active
    ws.title = "機能要件"
    ws.append([_HEADERS[c] for c in _COLUMNS])
    ws.append(list(_COLUMNS))
    for cell in (*ws[1], *ws[2]):
        cell.font = Font(bold=True)
    for record in frame.itertuples(index=False):
        values = list(record)
        ws.append(values)
        fill, _ = colour_of(float(values[_COLUMNS.index("support")]), rec.min_support)
        ws.cell(ws.max_row, _COLUMNS.index("support") + 1).fill = PatternFill(
            "solid", fgColor=fill.lstrip("#")
        )
        ws.cell(ws.max_row, _COLUMNS.index("support") + 1).number_format = "0%"
    for col, width in zip("ABCDEFGHI", (8, 40, 12, 14, 14, 8, 30, 12, 30), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A3"
    wb.properties.created = _FIXED
    wb.properties.modified = _FIXED
    buf = io.BytesIO()
    wb.save(buf)
    return emit(_fix_zip(buf.getvalue()), dest)


def _fix_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed member times and the fixed modified stamp."""
    import re

    stamp = _FIXED.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    modified = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = modified.sub(rb"\g<1>" + stamp + rb"\g<2>", content)
            dst.writestr(fixed, content)
    return out.getvalue()


def _support_note(rec: Recommendation, towns: tuple[str, ...]) -> str:
    n = max(1, len(rec.towns))
    pct = round(100 * len(towns) / n)
    names = "、".join(towns) if towns else "なし"
    return (
        f"支持 {len(towns)}/{n} 団体 ({pct}%): {names}\n"
        f"support {len(towns)} of {n} towns ({pct}%)"
    )


def write_support_bpmn(rec: Recommendation, dest: Any = None) -> bytes | None:
    """Write the recommended flow as BPMN coloured by support.

    The flow is written by :func:`harpflow.io.write`; the colour attributes
    are then set on the ``BPMNShape`` and ``BPMNEdge`` of every node and
    flow, and a ``documentation`` element with the support is put first in
    every sequence and message flow (nodes carry it as their own
    documentation).
    """
    from harpflow.io import write
    from harpflow.io.bpmn import BPMN_NS, BPMNDI_NS, HF_NS
    from harpflow.io.source import emit
    from harpflow.io.xml import parse_xml

    flow = rec.flow.copy()
    for nid in list(flow.graph):
        d = flow.graph.nodes[nid]
        note = _support_note(rec, rec.supporters(nid))
        doc = str(d.get("documentation") or "")
        flow.update_node(nid, documentation=f"{doc}\n\n{note}" if doc else note)
        d.pop("towns", None)
    data = write(flow, None, format="bpmn")
    assert data is not None
    root = parse_xml(data, name="recommended flow").getroot()
    hf_id = "{" + HF_NS + "}id"
    support = rec.support
    colours: dict[str, tuple[str, str]] = {}
    for el in root.iter("{" + BPMN_NS + "}*"):
        xml_id = el.get("id")
        model = el.get(hf_id, xml_id)
        if xml_id is None or model is None:
            continue
        local = etree.QName(el).localname
        if local in ("sequenceFlow", "messageFlow"):
            try:
                edge = flow.edge(model)
            except ModelError:  # a flow the writer made itself
                continue
            if local == "messageFlow" and edge.kind != "message":
                continue
            towns = rec.supporters(edge.id) if edge.id in support else ()
            doc_el = etree.Element("{" + BPMN_NS + "}documentation")
            doc_el.text = _support_note(rec, towns)
            el.insert(0, doc_el)
            colours[xml_id] = colour_of(support.get(edge.id, 0.0), rec.min_support)
        elif model in flow.graph and local == flow.graph.nodes[model]["type"]:
            colours[xml_id] = colour_of(support.get(model, 0.0), rec.min_support)
    bioc, color = "{" + BIOC_NS + "}", "{" + COLOR_NS + "}"
    for di in root.iter("{" + BPMNDI_NS + "}BPMNShape", "{" + BPMNDI_NS + "}BPMNEdge"):
        ref = di.get("bpmnElement")
        if ref not in colours:
            continue
        fill, stroke = colours[ref]
        if etree.QName(di).localname == "BPMNShape":
            di.set(bioc + "fill", fill)
            di.set(color + "background-color", fill)
        di.set(bioc + "stroke", stroke)
        di.set(color + "border-color", stroke)
    etree.cleanup_namespaces(root, top_nsmap={"bioc": BIOC_NS, "color": COLOR_NS})
    etree.indent(root, space="  ")
    out = etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"
    return emit(out, dest)
