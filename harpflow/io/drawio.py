"""diagrams.net (draw.io) files: ``.drawio``, and ``.xml`` holding an ``mxfile``.

A diagrams.net file is an ``mxfile`` with one ``diagram`` per page. A page
holds its drawing either as a plain ``mxGraphModel`` element or as
compressed text: base64 of raw deflate of the URL-encoded XML. Both are
read. The drawing is a flat list of cells; each cell names its ``parent``
and vertices carry geometry relative to that parent.

How cells become a :class:`~harpflow.model.Flow`:

- **BPMN shapes** (``shape=mxgraph.bpmn.*``): ``taskMarker`` gives the task
  type (``user`` → ``userTask``...), ``bpmnShapeType``/``isLoopSub`` mark
  sub-processes, call activities and transactions; an event's ``outline``
  gives start, intermediate catch or throw, boundary or end event and its
  ``symbol`` the trigger; ``gwType`` gives the gateway kind. Task-type icons
  that older versions drew inside a task set that task's type.
- **Generic flowchart shapes**: a (rounded) rectangle or process shape is a
  task, a rhombus or decision an exclusive gateway, an ellipse or
  terminator a start event when nothing flows into it and an end event when
  nothing flows out of it (an intermediate throw event when both), a
  predefined process a call activity, a manual operation a manual task; a
  document shape is a data object and a cylinder a data store; notes, text
  and annotation shapes are text annotations. The full tables are in
  :mod:`harpflow.io.drawio_shapes`.
- **Pools and lanes** are ``swimlane`` cells, horizontal or vertical and
  nested. A swimlane outside any other is a pool when it holds swimlanes or
  is marked as one (``childLayout=stackLayout``, the diagrams.net BPMN
  pool, or ``pool=1``, which harpflow writes); otherwise it is a lane of no
  pool. A node's lane is the innermost swimlane that contains it: first by
  its ``parent`` chain, then by geometry (its centre inside a lane nested
  below that one, or inside a top-level swimlane when the node is not the
  child of any).
- **Coordinates** are made absolute along the ``parent`` chain; node, lane
  and pool ``bounds`` and edge waypoints are absolute.
- **Labels** with ``html=1`` lose their tags; ``<br>`` and block ends become
  line breaks and entities are decoded. An edge's label (its own value, or
  the label cells that are its children) is the edge's label, which on a
  decision's branch is its condition in words.
- **UserObject/object wrappers**: their custom properties become node
  attributes: ``機能ID``/``function_ids``, ``帳票``/``forms`` (lists split
  at ``,`` ``、`` ``;`` and line breaks), ``媒体``/``medium`` (Japanese
  names such as 紙, 画面, 電話 are mapped), ``場所``/``location``,
  ``備考``/``documentation``, ``担当``/``lane`` (only when the node lies in
  no swimlane) and ``種別``/``type`` (a BPMN element name that overrides the
  shape). Every custom property is also kept in the node's
  ``properties`` dictionary. ``placeholders=1`` labels have their
  ``%name%`` placeholders filled in.
- **Edges** are sequence flows; a dashed edge that starts with a circle (the
  BPMN message-flow style) or joins two pools is a message flow; an edge
  that touches a data object is a data association, one that touches an
  annotation an association. ``startArrow=dash`` marks a default flow.

Notes
-----
Limits:

- A page chosen with ``page=`` (name or 0-based index) is read alone; a
  file with several pages that hold flows and no ``page=`` is an error
  listing the pages. Pages where nothing flows (legends, covers: no edge
  between two nodes) are passed over when choosing.
- A compressed page is inflated in chunks and refused with a
  :class:`~harpflow.errors.LimitError` when it would exceed
  ``max_inflated`` bytes (default 20 MB), so a decompression bomb costs no
  more memory than the limit. Cells nested more than 200 levels deep
  (containers in containers) are refused the same way.
- Shapes of no known kind become tasks when an edge touches them (with a
  warning naming the shapes) and are ignored otherwise; images, lines and
  groups are ignored. Edges with a loose end, or to a cell that is not a
  node, are skipped with a warning; an edge to a missing cell is an error.
- A boundary event is attached to the smallest activity whose outline it
  sits on (its centre within half its size of the activity), or else to
  the activity that is its ``parent``.
- What a written file does not keep is listed in
  :mod:`harpflow.io.drawio_write`.
- Lanes drawn as plain rectangles (not swimlanes) are not lanes. In the
  table-shaped pools of diagrams.net (``shape=table`` holding swimlane
  rows) the rows are read as lanes and the table is not read as a pool.
- Containment decides lanes, so a node inside a sub-process, a boundary
  event and a data object take the lane they are drawn in; BPMN may leave
  these without a lane (its lanes list only top-level flow nodes), and a
  BPMN file converted to diagrams.net and back gains those lanes.
- A dashed sub-process is an event sub-process (``triggered_by_event``).
  The properties ``calledElement``, ``gatewayDirection`` and ``linkName``
  restore what the harpflow writer keeps of call activities, gateways and
  link events.
"""

from __future__ import annotations

import base64
import binascii
import re
import warnings
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from harpflow.errors import FormatError, HarpflowWarning, LimitError, ParseError
from harpflow.io.drawio_build import build_flow
from harpflow.io.drawio_cells import line_of
from harpflow.io.source import DEFAULT_MAX_BYTES, Input, Source, open_input
from harpflow.io.xml import local_name, parse_xml

if TYPE_CHECKING:
    from lxml import etree

    from harpflow.model import Flow

__all__ = [
    "DEFAULT_MAX_INFLATED",
    "drawio_pages",
    "read_drawio",
    "write_drawio",
]

#: Default limit on the inflated size of one compressed page: 20 MB.
DEFAULT_MAX_INFLATED = 20_000_000
_CHUNK = 1 << 16


@dataclass
class _Page:
    index: int
    name: str
    model: etree._Element | None
    label: str


def _inflate(text: str, where: str, limit: int) -> bytes:
    """base64, then raw inflate in bounded chunks, refusing more than ``limit``."""
    try:
        raw = base64.b64decode(re.sub(r"\s+", "", text), validate=True)
    except (binascii.Error, ValueError):
        raise ParseError(
            "page is neither XML nor base64-compressed text", source=where
        ) from None
    inflater = zlib.decompressobj(-15)
    out = bytearray()
    data = raw
    try:
        while True:
            chunk = inflater.decompress(data, _CHUNK)
            out += chunk
            if len(out) > limit:
                raise LimitError(
                    f"compressed page inflates to more than the limit of "
                    f"{limit:,} bytes (raise max_inflated, or max_decompressed of "
                    "harpflow.io.Limits, to read it)",
                    source=where,
                )
            data = inflater.unconsumed_tail
            if inflater.eof or (not chunk and not data):
                break
    except zlib.error as exc:
        raise ParseError(f"page cannot be inflated: {exc}", source=where) from None
    if not inflater.eof:
        raise ParseError("compressed page is truncated", source=where)
    return bytes(out)


def _decode_page(
    diagram: etree._Element, where: str, max_inflated: int
) -> etree._Element | None:
    for child in diagram:
        if local_name(child.tag) == "mxGraphModel":
            return child
    text = (diagram.text or "").strip()
    if not text:
        return None
    if not text.startswith("<"):
        inflated = _inflate(text, where, max_inflated)
        try:
            decoded = inflated.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("inflated page is not UTF-8", source=where) from None
        text = decoded if decoded.lstrip().startswith("<") else unquote(decoded)
    data = text.encode("utf-8")
    if len(data) > max_inflated:
        raise LimitError(
            f"page is larger than the limit of {max_inflated:,} bytes", source=where
        )
    root = parse_xml(data, max_bytes=max_inflated, name=where).getroot()
    if local_name(root.tag) != "mxGraphModel":
        raise ParseError(
            f"page holds <{local_name(root.tag)}>, not <mxGraphModel>",
            source=where,
            line=line_of(root),
        )
    return root


def _pages(inp: Input, max_bytes: int, max_inflated: int) -> list[_Page]:
    root = parse_xml(inp, max_bytes=max_bytes).getroot()
    tag = local_name(root.tag)
    if tag == "mxGraphModel":
        return [_Page(0, "Page-1", root, inp.name)]
    if tag != "mxfile":
        raise ParseError(
            f"not a diagrams.net file: the root element is <{tag}>",
            source=inp.name,
            line=line_of(root),
            element=tag,
        )
    pages: list[_Page] = []
    for diagram in root:
        if local_name(diagram.tag) != "diagram":
            continue
        index = len(pages)
        name = diagram.get("name") or f"Page-{index + 1}"
        where = f"{inp.name} [page {name!r}]"
        pages.append(
            _Page(index, name, _decode_page(diagram, where, max_inflated), where)
        )
    if not pages:
        raise ParseError("the file holds no diagram page", source=inp.name, line=1)
    return pages


def drawio_pages(
    source: Source | Input,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[str]:
    """The names of the pages of a diagrams.net file, in order.

    Examples
    --------
    >>> drawio_pages('<mxfile><diagram name="受付"/><diagram name="審査"/></mxfile>')
    ['受付', '審査']
    """
    inp = (
        source if isinstance(source, Input) else open_input(source, max_bytes=max_bytes)
    )
    root = parse_xml(inp, max_bytes=max_bytes).getroot()
    if local_name(root.tag) == "mxGraphModel":
        return ["Page-1"]
    names = [d.get("name") or "" for d in root if local_name(d.tag) == "diagram"]
    return [name or f"Page-{i + 1}" for i, name in enumerate(names)]


def _listing(pages: list[_Page]) -> str:
    return ", ".join(f"{p.index} {p.name!r}" for p in pages)


def _select(pages: list[_Page], page: int | str, name: str) -> _Page:
    if isinstance(page, str):
        for p in pages:
            if p.name == page:
                return p
        if page.strip().isdigit():
            page = int(page)
    if isinstance(page, int) and 0 <= page < len(pages):
        return pages[page]
    raise FormatError(f"{name}: no page {page!r}; the pages are {_listing(pages)}")


def read_drawio(
    source: Source | Input,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    page: int | str | None = None,
    max_inflated: int = DEFAULT_MAX_INFLATED,
    **options: Any,
) -> Flow:
    """Read one page of a diagrams.net file as a flow.

    Parameters
    ----------
    source : path, file, bytes, str or Input
        The ``.drawio`` file or its content.
    max_bytes : int
        Largest accepted file (default 50 MB).
    page : int or str, optional
        The page to read: its name, or its 0-based index. Needed when more
        than one page holds a flow.
    max_inflated : int
        Largest accepted size of one compressed page once inflated
        (default 20 MB).
    **options
        Accepted for symmetry with the other readers; none is used.

    Returns
    -------
    Flow
        Named after the page (or the file, for a default page name), with
        ``meta["page"]`` holding the page name.

    Raises
    ------
    ParseError
        Malformed XML, a broken compressed page, a loop in the cell
        ``parent`` chain, or an edge to a missing cell.
    LimitError
        A file over ``max_bytes`` or a page inflating past ``max_inflated``.
    FormatError
        Several pages hold flows and ``page`` is not given, or there is no
        such page.

    Examples
    --------
    >>> xml = '''<mxfile><diagram name="転入届"><mxGraphModel><root>
    ... <mxCell id="0"/><mxCell id="1" parent="0"/>
    ... <mxCell id="s" value="開始" style="ellipse;" vertex="1" parent="1">
    ...   <mxGeometry x="0" y="0" width="40" height="40" as="geometry"/></mxCell>
    ... <mxCell id="t" value="受付" style="rounded=1;" vertex="1" parent="1">
    ...   <mxGeometry x="80" y="0" width="120" height="60" as="geometry"/></mxCell>
    ... <mxCell id="f" edge="1" source="s" target="t" parent="1">
    ...   <mxGeometry relative="1" as="geometry"/></mxCell>
    ... </root></mxGraphModel></diagram></mxfile>'''
    >>> flow = read_drawio(xml)
    >>> [(n.id, n.type, n.label) for n in flow.nodes.values()]
    [('s', 'startEvent', '開始'), ('t', 'task', '受付')]
    """
    inp = (
        source if isinstance(source, Input) else open_input(source, max_bytes=max_bytes)
    )
    pages = _pages(inp, max_bytes, max_inflated)
    if page is not None:
        chosen = _select(pages, page, inp.name)
        return _flow_of(chosen, inp)
    if len(pages) == 1:
        return _flow_of(pages[0], inp)
    flows = [(p, _flow_of(p, inp)) for p in pages]
    # A page holds a flow when something flows on it; a legend or cover
    # page has shapes but no edges between them.
    holding = [(p, f) for p, f in flows if f.graph.number_of_edges() > 0]
    if not holding:
        holding = [(p, f) for p, f in flows if len(f) > 0]
    if len(holding) > 1:
        raise FormatError(
            f"{inp.name}: {len(holding)} pages hold flows; choose one with "
            f"page=NAME or page=INDEX: {_listing([p for p, _ in holding])}"
        )
    return holding[0][1] if holding else flows[0][1]


def _flow_of(page: _Page, inp: Input) -> Flow:
    name = page.name
    if re.fullmatch(r"(?:Page|ページ)[-\s]?\d+", name) and inp.path is not None:
        name = inp.path.name.split(".")[0]
    flow = build_flow(page.model, name=name, source=inp.name, where=page.label)
    flow.meta["page"] = page.name
    if page.model is None:
        warnings.warn(f"{page.label}: the page is empty", HarpflowWarning, stacklevel=3)
    return flow


def write_drawio(flow: Flow, dest: Any = None, **options: Any) -> bytes | None:
    """Write a flow as a plain diagrams.net file (see :mod:`.drawio_write`)."""
    from harpflow.io.drawio_write import write_drawio as _write

    return _write(flow, dest, **options)
