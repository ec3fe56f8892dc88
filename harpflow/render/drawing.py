"""Swimlane drawings of flows with graphviz, in two styles.

A flow is first turned into a :class:`Sketch` -- the lanes, shapes and links
to draw, each with its colours and CSS classes -- and the sketch is then
written as a graphviz graph in one of two styles:

``bpmn``
    lanes as horizontal bands, time from left to right; rounded tasks with
    a small type marker (画面, 手作業, 自動, ▶ 送信, ▷ 受信, ...), events as
    circles (an end event with a thick border), gateways as diamonds marked
    ×, ＋, ○.
``wfa``
    the Japanese 業務流れ図: lanes as columns (one per organisation or
    section), time from top to bottom; system work as a box with a double
    border, manual work as a plain box, and each paper form (帳票) as a
    document shape beside the step that uses it.

Every lane is a graphviz cluster, in the order of
:meth:`harpflow.model.Flow.lane_names`; invisible anchors at both ends of
each lane stretch every lane over the whole drawing so that the lanes form
bands (or columns) that never overlap. Labels use the Noto Sans CJK JP font
and are wrapped to a readable width, East Asian wide characters counting as
two columns (:func:`wrap`). The same flow always gives the same bytes.

Examples
--------
>>> from harpflow.model import Flow
>>> flow = Flow("転入届")
>>> _ = flow.add_node("s", type="startEvent", label="開始", lane="住民")
>>> _ = flow.add_node("t", type="userTask", label="異動入力", lane="窓口")
>>> _ = flow.add_edge("s", "t")
>>> svg = draw(flow).decode("utf-8")
>>> svg.count('class="cluster hf_lane"'), "異動入力" in svg
(2, True)

Notes
-----
Pools are not drawn as boxes of their own: their lanes are drawn like any
other lane. Nested lanes are drawn by their innermost lane. Nodes inside
sub-processes are drawn in their lane beside the sub-process, without an
enclosing box; data objects and annotations are not drawn (the ``wfa``
style shows each step's forms instead). Graphviz chooses the order of steps
within a rank: long back edges (rework loops) may run through other lanes,
an edge from another lane may pass behind a form's shape, and a label
outside its shape (events, gateways) may sit on an edge, on a white ground.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from harpflow.errors import HarpflowError, MissingDependencyError
from harpflow.model import EVENT_TYPES, GATEWAY_TYPES, Flow

if TYPE_CHECKING:
    import graphviz

__all__ = [
    "FONT",
    "STYLES",
    "LegendRow",
    "Link",
    "Shape",
    "Sketch",
    "draw",
    "pipe",
    "sketch",
    "text_width",
    "to_dot",
    "wrap",
]

#: The font of every label (package ``fonts-noto-cjk``).
FONT = "Noto Sans CJK JP"
#: Drawing styles.
STYLES = ("bpmn", "wfa")
#: Output formats of :func:`pipe`.
FORMATS = ("svg", "png")

_INK = "#333333"
_MUTED = "#666666"
_LANE_FILL = ("#f7f7f7", "#ffffff")
_WIDTH = {"bpmn": 18, "wfa": 20}

_MARKERS = {
    "userTask": "画面",
    "manualTask": "手作業",
    "serviceTask": "自動",
    "scriptTask": "スクリプト",
    "businessRuleTask": "▦ 規則",
    "sendTask": "▶ 送信",
    "receiveTask": "▷ 受信",
    "subProcess": "⊠ サブプロセス",
    "transaction": "⊠ トランザクション",
    "adHocSubProcess": "⊠ アドホック",
    "callActivity": "呼出し",
}
_GATEWAY_MARKS = {
    "exclusiveGateway": "×",
    "parallelGateway": "＋",
    "inclusiveGateway": "○",
    "eventBasedGateway": "◎",
    "complexGateway": "＊",
}
_SYSTEM_TYPES = frozenset({"serviceTask", "scriptTask", "businessRuleTask", "userTask"})
_SYSTEM_MEDIA = frozenset({"system", "screen", "file", "online"})


@dataclass
class Shape:
    """One shape to draw: a node of the flow or a ghost added by an overlay.

    ``colour`` is the border (and tag) colour, ``fill`` the background;
    ``classes`` become the SVG element's classes; ``tags`` are small lines
    under the label (deviation codes, support shares).
    """

    id: str
    type: str
    label: str
    lane: str | None = None
    medium: str | None = None
    forms: tuple[str, ...] = ()
    colour: str | None = None
    fill: str | None = None
    font_colour: str | None = None
    dashed: bool = False
    classes: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass
class Link:
    """One edge to draw (a sequence flow, a message flow or a ghost link)."""

    source: str
    target: str
    kind: str = "sequence"
    label: str = ""
    colour: str | None = None
    dashed: bool = False
    width: float | None = None
    classes: tuple[str, ...] = ()


@dataclass(frozen=True)
class LegendRow:
    """One row of a legend: a swatch (border and fill colour) and its text."""

    colour: str
    fill: str
    text: str
    dashed: bool = False


@dataclass
class Sketch:
    """What to draw: a title, lanes in order, shapes, links and a legend.

    ``ghost_lanes`` are lanes that exist only through ghost shapes (drawn
    dashed).
    """

    title: str
    lanes: list[str]
    shapes: dict[str, Shape]
    links: list[Link]
    legend: list[LegendRow] = field(default_factory=list)
    legend_title: str = ""
    ghost_lanes: set[str] = field(default_factory=set)


def text_width(text: str) -> int:
    """Display width in columns: East Asian wide and full-width count two.

    Examples
    --------
    >>> text_width("受付"), text_width("CS"), text_width("ＣＳ")
    (4, 2, 4)
    """
    return sum(
        2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text
    )


# Characters that may not start a line (closing brackets and punctuation)
# and that may not end one (opening brackets): 禁則処理, the simple part.
_NO_START = set("、。，．,.)）」』】〕〉》・ー～!?！？:：;；%％")
_NO_END = set("(（「『【〔〈《")
_UNIT = re.compile(r"[A-Za-z0-9_\-+.,/#&'@]+|\s+|.", re.DOTALL)


def wrap(text: str, width: int = 18) -> list[str]:
    """Wrap a label to lines of at most ``width`` columns.

    Latin words stay whole (unless longer than a line), Japanese breaks
    between any two characters except before closing punctuation and after
    opening brackets. Existing line breaks are kept; runs of spaces become
    one.

    Parameters
    ----------
    text : str
    width : int
        Columns per line; a wide character counts two (:func:`text_width`).

    Returns
    -------
    list of str
        At least one line.

    Examples
    --------
    >>> wrap("住民票に記載し異動履歴を作成する", 12)
    ['住民票に記載', 'し異動履歴を', '作成する']
    >>> wrap("本人確認（届出人・代理人）を行う", 10)
    ['本人確認', '（届出人・', '代理人）を', '行う']
    >>> wrap("Check the application form", 12)
    ['Check the', 'application', 'form']
    """
    lines: list[str] = []
    for para in text.splitlines() or [""]:
        lines.extend(_wrap_line(" ".join(para.split()), max(width, 4)))
    return lines or [""]


def _wrap_line(text: str, width: int) -> list[str]:
    units = []
    for unit in _UNIT.findall(text):
        while text_width(unit) > width and not unit.isspace():
            units.append(unit[:width])
            unit = unit[width:]
        units.append(unit)
    lines: list[str] = []
    line = ""
    for unit in units:
        if unit.isspace():
            if line and text_width(line) + 1 <= width:
                line += " "
            elif line:
                lines.append(line)
                line = ""
            continue
        fits = text_width(line) + text_width(unit) <= width
        if fits or not line or (unit[0] in _NO_START and len(unit) == 1):
            line += unit
            continue
        carry = ""
        while line and line[-1] in _NO_END:
            carry = line[-1] + carry
            line = line[:-1]
        if line.strip():
            lines.append(line.rstrip())
        line = carry + unit
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def sketch(flow: Flow, *, title: str | None = None) -> Sketch:
    """The plain sketch of a flow: every node and edge, in neutral colours.

    Parameters
    ----------
    flow : Flow
    title : str, optional
        Defaults to the flow's name and town.

    Examples
    --------
    >>> from harpflow.model import Flow
    >>> flow = Flow("印鑑登録", town="A市")
    >>> _ = flow.add_node("t", label="受付", lane="窓口")
    >>> sk = sketch(flow)
    >>> sk.title, sk.lanes, list(sk.shapes)
    ('印鑑登録 — A市', ['窓口'], ['t'])
    """
    if title is None:
        title = " — ".join(str(p) for p in (flow.name, flow.town) if p)
    shapes: dict[str, Shape] = {}
    for node in flow.nodes.values():
        shapes[node.id] = Shape(
            id=node.id,
            type=node.type,
            label=node.label,
            lane=node.lane,
            medium=node.medium,
            forms=node.forms,
            classes=("hf_node", f"hf_{node.type}"),
        )
    links = [
        Link(
            e.source,
            e.target,
            kind=e.kind,
            label=e.label,
            classes=(f"hf_{e.kind}",),
        )
        for e in flow.edges
    ]
    lanes = flow.lane_names()
    for shape in shapes.values():
        if shape.lane and shape.lane not in lanes:
            lanes.append(shape.lane)
    return Sketch(title=title, lanes=lanes, shapes=shapes, links=links)


def _dot_id(index: int) -> str:
    return f"n{index}"


def _svg_id(raw: str, taken: set[str]) -> str:
    base = "hf_" + re.sub(r"[^\w-]", "_", raw)
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}_{n}"
    taken.add(candidate)
    return candidate


def _html_lines(lines: Iterable[str]) -> str:
    return "<BR/>".join(html.escape(line) for line in lines)


def _font(text: str, size: int, colour: str) -> str:
    return f'<FONT POINT-SIZE="{size}" COLOR="{colour}">{text}</FONT>'


def _label(shape: Shape, style: str, *, inside: bool) -> str:
    """An HTML-like label: marker line, wrapped text, tag lines.

    Each line is a table row of its own, so that lines of different font
    sizes never overlap.
    """
    rows: list[str] = []
    marker = _MARKERS.get(shape.type) if style == "bpmn" else None
    if style == "wfa" and _is_system(shape):
        marker = "システム"
    if marker and inside:
        rows.append(_font(html.escape(marker), 9, shape.font_colour or _MUTED))
    width = _WIDTH[style] if inside else 14
    if shape.label:
        rows.extend(html.escape(line) for line in wrap(shape.label, width))
    tag_colour = (inside and shape.font_colour) or shape.colour or _MUTED
    for tag in shape.tags:
        rows.append(_font(html.escape(tag), 9, tag_colour))
    if not rows:
        return ""
    cells = "".join(f"<TR><TD>{row}</TD></TR>" for row in rows)
    # A label outside its shape is drawn over any edge it meets, on white.
    back = "" if inside else ' BGCOLOR="white"'
    return f'<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="0"{back}>{cells}</TABLE>>'


def _is_system(shape: Shape) -> bool:
    return shape.type in _SYSTEM_TYPES or (shape.medium or "") in _SYSTEM_MEDIA


def _shape_attrs(shape: Shape, style: str) -> dict[str, str]:
    """Graphviz attributes of one shape in one style."""
    colour = shape.colour or _INK
    styles = ["filled"]
    if shape.dashed:
        styles.append("dashed")
    attrs = {
        "color": colour,
        "fillcolor": shape.fill or "white",
        "fontcolor": shape.font_colour or _INK,
        "class": " ".join(shape.classes),
    }
    if shape.type in GATEWAY_TYPES or (shape.type in EVENT_TYPES and style == "bpmn"):
        attrs["fontcolor"] = _INK
    if shape.type in EVENT_TYPES:
        end = shape.type == "endEvent"
        attrs.update(
            shape="doublecircle" if "intermediate" in shape.type else "circle",
            width="0.35",
            height="0.35",
            fixedsize="true",
            penwidth="3.5" if end else "1.3",
            label="",
            xlabel=_label(shape, style, inside=False),
        )
        if style == "wfa":
            attrs.update(
                shape="box",
                fixedsize="false",
                width="1.2",
                height="0.4",
                label=_label(shape, style, inside=True),
                xlabel="",
            )
            styles.append("rounded")
    elif shape.type in GATEWAY_TYPES:
        mark = _GATEWAY_MARKS.get(shape.type, "")
        attrs.update(
            shape="diamond",
            width="0.55",
            height="0.55",
            fixedsize="true",
            label=f"<{_font(mark, 16, shape.font_colour or _INK)}>" if mark else "",
            xlabel=_label(shape, style, inside=False),
        )
    else:
        attrs.update(shape="box", label=_label(shape, style, inside=True))
        attrs["margin"] = "0.12,0.06"
        if style == "bpmn":
            styles.append("rounded")
            if shape.type == "callActivity":
                attrs["penwidth"] = "3"
        elif _is_system(shape):
            attrs["peripheries"] = "2"
    attrs["style"] = ",".join(styles)
    return attrs


def _link_attrs(link: Link, style: str) -> dict[str, str]:
    attrs = {"color": link.colour or _INK, "class": " ".join(link.classes)}
    if link.label:
        attrs["label"] = "<" + _html_lines(wrap(link.label, 14)) + ">"
        attrs["fontsize"] = "9"
        attrs["fontcolor"] = link.colour or _MUTED
    if link.kind == "message":
        attrs.update(style="dashed", arrowhead="empty", arrowtail="odot", dir="both")
    elif link.dashed:
        attrs["style"] = "dashed"
    if link.width is not None:
        attrs["penwidth"] = f"{link.width:.2f}"
    return attrs


def to_dot(sk: Sketch, *, style: str = "bpmn") -> graphviz.Digraph:
    """The graphviz graph of a sketch in one style.

    Raises
    ------
    HarpflowError
        For an unknown style.
    MissingDependencyError
        When the ``graphviz`` Python package is not installed.
    """
    if style not in STYLES:
        raise HarpflowError(f"unknown drawing style {style!r} (use bpmn or wfa)")
    try:
        import graphviz
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise MissingDependencyError(
            "drawing flows needs the graphviz package"
        ) from exc

    bpmn = style == "bpmn"
    dot = graphviz.Digraph("harpflow")
    dot.attr(
        rankdir="LR" if bpmn else "TB",
        newrank="true",
        compound="true",
        fontname=FONT,
        fontsize="12",
        nodesep="0.4" if bpmn else "0.35",
        ranksep="0.45" if bpmn else "0.3",
        forcelabels="true",
        outputorder="edgesfirst",
        label=_title(sk),
        labelloc="t",
        labeljust="l",
        bgcolor="white",
        pad="0.2",
    )
    dot.attr("node", fontname=FONT, fontsize="11")
    dot.attr("edge", fontname=FONT, fontsize="9", arrowsize="0.7")

    names: dict[str, str] = {}
    svg_ids: set[str] = set()
    for i, sid in enumerate(sk.shapes):
        names[sid] = _dot_id(i)
    by_lane: dict[str | None, list[str]] = {}
    for sid, shape in sk.shapes.items():
        by_lane.setdefault(shape.lane if shape.lane in sk.lanes else None, []).append(
            sid
        )

    # Lanes: a cluster each, with invisible anchors at both ends.
    has_next = {lk.source for lk in sk.links if lk.kind == "sequence"}
    has_prev = {lk.target for lk in sk.links if lk.kind == "sequence"}
    heads, tails = [], []
    for li, lane in enumerate(sk.lanes):
        ghost = lane in sk.ghost_lanes
        with dot.subgraph(name=f"cluster_lane{li}") as sub:
            sub.attr(
                label="<" + _html_lines(wrap(lane, 16)) + ">",
                labeljust="l" if bpmn else "c",
                labelloc="t",
                style="filled,dashed" if ghost else "filled",
                fillcolor=_LANE_FILL[li % 2],
                color="#d62728" if ghost else "#999999",
                fontsize="12",
                id=f"lane{li}",
                **{"class": "hf_lane hf_lane_ghost" if ghost else "hf_lane"},
            )
            head, tail = f"head{li}", f"tail{li}"
            for anchor in (head, tail):
                sub.node(anchor, label="", style="invis", width="0", height="0")
            heads.append(head)
            tails.append(tail)
            for sid in by_lane.get(lane, []):
                _add_shape(sub, names[sid], sk.shapes[sid], style, svg_ids)
                if sid not in has_prev:
                    sub.edge(head, names[sid], style="invis", weight="0")
                if sid not in has_next:
                    sub.edge(names[sid], tail, style="invis", weight="0")
            if style == "wfa":
                _add_forms(sub, sk, lane, names, by_lane.get(lane, []))
    for sid in by_lane.get(None, []):
        _add_shape(dot, names[sid], sk.shapes[sid], style, svg_ids)
    if heads:
        # A root before the heads and a sink after the tails keep every
        # lane as long as the drawing; the root's ordered out-edges keep the
        # lanes in their order.
        dot.node("root", label="", style="invis", width="0", height="0", ordering="out")
        dot.node("sink", label="", style="invis", width="0", height="0", ordering="in")
        for h in heads:
            dot.edge("root", h, style="invis", weight="100")
        for t in tails:
            dot.edge(t, "sink", style="invis", weight="100")

    for link in sk.links:
        if link.source in names and link.target in names:
            dot.edge(names[link.source], names[link.target], **_link_attrs(link, style))
    return dot


def _add_shape(
    graph: graphviz.Digraph, name: str, shape: Shape, style: str, ids: set[str]
) -> None:
    attrs = _shape_attrs(shape, style)
    attrs["id"] = _svg_id(shape.id, ids)
    graph.node(name, **attrs)


def _add_forms(
    sub: graphviz.Digraph,
    sk: Sketch,
    lane: str,
    names: Mapping[str, str],
    members: list[str],
) -> None:
    """Paper forms of the lane's steps as document shapes beside them."""
    for sid in members:
        shape = sk.shapes[sid]
        if not shape.forms or shape.type in EVENT_TYPES | GATEWAY_TYPES:
            continue
        with sub.subgraph() as row:
            row.attr(rank="same")
            row.node(names[sid])
            for fi, form in enumerate(shape.forms):
                fname = f"{names[sid]}f{fi}"
                row.node(
                    fname,
                    label="<" + _html_lines(wrap(form, 12)) + ">",
                    shape="note",
                    style="filled",
                    fillcolor="#fffbe6",
                    color="#8a6d3b",
                    fontsize="9",
                    margin="0.06,0.03",
                    **{"class": "hf_form"},
                )
                sub.edge(
                    names[sid],
                    fname,
                    style="dotted",
                    arrowhead="none",
                    color="#8a6d3b",
                    **{"class": "hf_form_link"},
                )


def _title(sk: Sketch) -> str:
    rows = []
    if sk.title:
        rows.append(
            f'<TR><TD COLSPAN="2" ALIGN="LEFT"><B>{html.escape(sk.title)}</B></TD></TR>'
        )
    if sk.legend:
        if sk.legend_title:
            rows.append(
                '<TR><TD COLSPAN="2" ALIGN="LEFT">'
                + _font(html.escape(sk.legend_title), 10, _MUTED)
                + "</TD></TR>"
            )
        for row in sk.legend:
            style = ' STYLE="dashed"' if row.dashed else ""
            rows.append(
                f'<TR><TD WIDTH="22" HEIGHT="12" BGCOLOR="{row.fill}" '
                f'COLOR="{row.colour}" BORDER="2"{style}></TD>'
                f'<TD ALIGN="LEFT">{_font(html.escape(row.text), 10, _INK)}</TD></TR>'
            )
    if not rows:
        return ""
    return (
        '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="2">'
        + "".join(rows)
        + "</TABLE>>"
    )


def pipe(dot: graphviz.Digraph, format: str = "svg") -> bytes:
    """Lay out and render a graph as SVG or PNG bytes.

    SVG output is stripped of the XML prolog and the generator comments, so
    that it embeds in HTML and stays the same across graphviz builds of one
    version.

    Raises
    ------
    HarpflowError
        For an unknown format.
    MissingDependencyError
        When the ``dot`` program of graphviz is not installed.
    """
    if format not in FORMATS:
        raise HarpflowError(f"unknown picture format {format!r} (use svg or png)")
    import graphviz

    try:
        if format == "png":
            return dot.pipe(format="png", renderer="cairo", quiet=True)
        data = dot.pipe(format="svg", quiet=True)
    except graphviz.ExecutableNotFound as exc:
        raise MissingDependencyError(
            "drawing flows needs the graphviz program dot (OS package graphviz)"
        ) from exc
    text = data.decode("utf-8")
    text = re.sub(
        r"<\?xml[^>]*>\s*|<!DOCTYPE[^>]*>\s*|<!--.*?-->\s*", "", text, flags=re.S
    )
    return text.encode("utf-8")


def draw(flow: Flow, *, style: str = "bpmn", format: str = "svg") -> bytes:
    """Draw a flow with its lanes as swimlanes.

    Parameters
    ----------
    flow : Flow
    style : {"bpmn", "wfa"}
        BPMN (lanes as rows, left to right) or 業務流れ図 (lanes as
        columns, top to bottom).
    format : {"svg", "png"}

    Returns
    -------
    bytes

    Examples
    --------
    >>> from harpflow.model import Flow
    >>> flow = Flow("x")
    >>> _ = flow.add_node("t", type="manualTask", label="受付", lane="窓口")
    >>> draw(flow, format="png")[:4]
    b'\\x89PNG'
    """
    return pipe(to_dot(sketch(flow), style=style), format)
