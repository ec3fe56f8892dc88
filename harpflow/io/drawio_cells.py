"""From the cells of one diagrams.net page to a :class:`Flow`.

The reading rules are described in :mod:`harpflow.io.drawio`. This module
holds the first half of the work on one ``mxGraphModel``: collect the
cells (unwrapping ``UserObject``/``object`` wrappers, filling label
placeholders, stripping HTML), make geometry absolute along the ``parent``
chains, and map custom properties onto node attributes.
:mod:`harpflow.io.drawio_build` classifies the cells and builds the flow.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harpflow.errors import HarpflowWarning, LimitError, ParseError
from harpflow.io.drawio_shapes import Style, html_to_text, parse_style
from harpflow.io.xml import local_name
from harpflow.model import MEDIA, NODE_TYPES, SourceRef

if TYPE_CHECKING:
    from lxml import etree

__all__ = [
    "MAX_DEPTH",
    "Cell",
    "Page",
    "area",
    "collect_cells",
    "contains",
    "inside",
    "line_of",
    "node_properties",
]

Rect = tuple[float, float, float, float]
#: Deepest nesting of cells (containers in containers) that is read.
MAX_DEPTH = 200

_LIST_SPLIT = re.compile(r"[,、，;；\n]+")
_MEDIUM_NAMES = {
    "紙": "paper",
    "書面": "paper",
    "画面": "screen",
    "システム": "system",
    "ファイル": "file",
    "電話": "phone",
    "fax": "fax",
    "ファクス": "fax",
    "ファックス": "fax",
    "郵送": "mail",
    "メール": "mail",
    "電子メール": "mail",
    "オンライン": "online",
    "電子申請": "online",
}
_PROPERTY_KEYS = {
    "機能id": "function_ids",
    "function_ids": "function_ids",
    "functionid": "function_ids",
    "帳票": "forms",
    "forms": "forms",
    "媒体": "medium",
    "medium": "medium",
    "場所": "location",
    "location": "location",
    "備考": "documentation",
    "documentation": "documentation",
    "note": "documentation",
    "tooltip": "tooltip",
    "calledelement": "called_element",
    "gatewaydirection": "direction",
    "linkname": "link",
    "担当": "lane",
    "lane": "lane",
    "種別": "type",
    "type": "type",
}
_NOT_PROPERTIES = frozenset({"id", "label", "placeholders", "link"})


@dataclass
class Cell:
    id: str
    parent: str | None
    style: Style
    label: str
    vertex: bool
    edge: bool
    source: str | None
    target: str | None
    element: etree._Element
    props: dict[str, str] = field(default_factory=dict)
    geometry: etree._Element | None = None


def line_of(element: etree._Element) -> int | None:
    """The 1-based source line of an element, when lxml knows it."""
    line = element.sourceline
    return line if isinstance(line, int) else None


def _number(value: str | None, cell: Cell, where: str) -> float:
    if value is None or value == "":
        return 0.0
    try:
        return float(value)
    except ValueError:
        raise ParseError(
            f"geometry value {value!r} is not a number",
            source=where,
            line=line_of(cell.element),
            element=f"mxCell id={cell.id!r}",
        ) from None


def _label(raw: str, style: Style, props: dict[str, str], placeholders: bool) -> str:
    if placeholders:
        raw = re.sub(r"%([^%\s]+)%", lambda m: props.get(m.group(1), m.group(0)), raw)
    return html_to_text(raw) if style.flag("html") else raw


def collect_cells(model: etree._Element, where: str) -> list[Cell]:
    root = next((c for c in model if local_name(c.tag) == "root"), None)
    if root is None:
        raise ParseError(
            "mxGraphModel has no <root>",
            source=where,
            line=line_of(model),
            element="mxGraphModel",
        )
    cells: list[Cell] = []
    seen: set[str] = set()
    for element in root:
        tag = local_name(element.tag)
        if tag in ("UserObject", "object"):
            inner = next((c for c in element if local_name(c.tag) == "mxCell"), None)
            if inner is None:
                raise ParseError(
                    f"<{tag}> without an mxCell",
                    source=where,
                    line=line_of(element),
                    element=f"{tag} id={element.get('id')!r}",
                )
            props = {
                str(k): str(v)
                for k, v in element.attrib.items()
                if str(k) not in _NOT_PROPERTIES
            }
            raw = element.get("label", "")
            attrs = inner
            placeholders = element.get("placeholders") == "1"
            cell_id = element.get("id")
        elif tag == "mxCell":
            props, raw, attrs, placeholders = (
                {},
                element.get("value", ""),
                element,
                False,
            )
            cell_id = element.get("id")
        else:
            continue
        if not cell_id:
            raise ParseError(
                "cell without an id", source=where, line=line_of(element), element=tag
            )
        if cell_id in seen:
            raise ParseError(
                "two cells with this id",
                source=where,
                line=line_of(element),
                element=f"{tag} id={cell_id!r}",
            )
        seen.add(cell_id)
        style = parse_style(attrs.get("style"))
        geometry = next((g for g in attrs if local_name(g.tag) == "mxGeometry"), None)
        cells.append(
            Cell(
                id=cell_id,
                parent=attrs.get("parent"),
                style=style,
                label=_label(raw, style, props, placeholders),
                vertex=attrs.get("vertex") == "1",
                edge=attrs.get("edge") == "1",
                source=attrs.get("source"),
                target=attrs.get("target"),
                element=element,
                props=props,
                geometry=geometry,
            )
        )
    return cells


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in _LIST_SPLIT.split(value) if part.strip())


def node_properties(props: dict[str, str], where: str) -> dict[str, Any]:
    """Map custom properties (``機能ID``, ``帳票``, ``媒体``...) onto node attributes.

    Examples
    --------
    >>> attrs = node_properties({"機能ID": "0010001、0010002", "媒体": "紙"}, "x")
    >>> attrs["function_ids"], attrs["medium"]
    (('0010001', '0010002'), 'paper')
    """
    attrs: dict[str, Any] = {}
    for key, value in props.items():
        target = _PROPERTY_KEYS.get(key.strip().lower().replace(" ", ""))
        value = value.strip()
        if target is None or not value:
            continue
        if target in ("function_ids", "forms"):
            attrs[target] = _split_list(value)
        elif target == "medium":
            medium = value.lower() if value.lower() in MEDIA else None
            medium = medium or _MEDIUM_NAMES.get(value.lower())
            if medium is None:
                warnings.warn(
                    f"{where}: unknown medium {value!r} kept only in properties",
                    HarpflowWarning,
                    stacklevel=4,
                )
            else:
                attrs["medium"] = medium
        elif target == "type":
            if value in NODE_TYPES:
                attrs["type"] = value
        else:
            attrs[target] = value
    tooltip = attrs.pop("tooltip", None)
    if tooltip and "documentation" not in attrs:
        attrs["documentation"] = tooltip
    if props:
        attrs["properties"] = dict(sorted(props.items()))
    return attrs


class Page:
    """The cells of one page with their absolute rectangles."""

    def __init__(self, cells: list[Cell], where: str, source: str) -> None:
        self.where = where
        self.source = source
        self.cells = {c.id: c for c in cells}
        self.order = [c.id for c in cells]
        self._origin: dict[str, tuple[float, float]] = {}
        self.rects: dict[str, Rect] = {}
        for cell in cells:
            if cell.parent is not None and cell.parent not in self.cells:
                raise self.error(cell, f"parent {cell.parent!r} is not a cell")
        for cell in cells:
            if cell.vertex and cell.geometry is not None:
                self.rects[cell.id] = self._rect(cell)

    def error(self, cell: Cell, message: str) -> ParseError:
        return ParseError(
            message,
            source=self.where,
            line=line_of(cell.element),
            element=f"{local_name(cell.element.tag)} id={cell.id!r}",
        )

    def ref(self, cell: Cell) -> SourceRef:
        return SourceRef(
            self.where,
            line_of(cell.element),
            f"{local_name(cell.element.tag)} id={cell.id!r}",
        )

    def ancestors(self, cell: Cell) -> list[Cell]:
        """Parents from the nearest outwards, stopping at layers."""
        chain: list[Cell] = []
        seen = {cell.id}
        current = cell
        while current.parent is not None:
            parent = self.cells[current.parent]
            if parent.id in seen:
                raise self.error(cell, "the cell's parent chain loops")
            seen.add(parent.id)
            if not (parent.vertex or parent.edge):
                break
            chain.append(parent)
            if len(chain) > MAX_DEPTH:
                raise LimitError(
                    f"cells are nested more than {MAX_DEPTH} levels deep",
                    source=self.where,
                    line=line_of(cell.element),
                    element=f"{local_name(cell.element.tag)} id={cell.id!r}",
                )
            current = parent
        return chain

    def origin(self, cell: Cell) -> tuple[float, float]:
        """Absolute position of the point (0, 0) of a cell's children."""
        if cell.id in self._origin:
            return self._origin[cell.id]
        x = y = 0.0
        for parent in reversed(self.ancestors(cell)):
            if parent.edge or parent.geometry is None:
                continue
            x += _number(parent.geometry.get("x"), parent, self.where)
            y += _number(parent.geometry.get("y"), parent, self.where)
        if cell.vertex and cell.geometry is not None:
            x += _number(cell.geometry.get("x"), cell, self.where)
            y += _number(cell.geometry.get("y"), cell, self.where)
        self._origin[cell.id] = (x, y)
        return x, y

    def _rect(self, cell: Cell) -> Rect:
        assert cell.geometry is not None
        x, y = self.origin(cell)
        w = _number(cell.geometry.get("width"), cell, self.where)
        h = _number(cell.geometry.get("height"), cell, self.where)
        return (x, y, w, h)

    def center(self, cell_id: str) -> tuple[float, float] | None:
        rect = self.rects.get(cell_id)
        if rect is None:
            return None
        return (rect[0] + rect[2] / 2, rect[1] + rect[3] / 2)

    def waypoints(self, cell: Cell) -> tuple[tuple[float, float], ...]:
        if cell.geometry is None:
            return ()
        ox, oy = self.origin(self.cells[cell.parent]) if cell.parent else (0.0, 0.0)
        if cell.parent and not self.cells[cell.parent].vertex:
            ox, oy = 0.0, 0.0

        def at(point: etree._Element) -> tuple[float, float]:
            return (
                ox + _number(point.get("x"), cell, self.where),
                oy + _number(point.get("y"), cell, self.where),
            )

        ends: dict[str, tuple[float, float]] = {}
        points: list[tuple[float, float]] = []
        for child in cell.geometry:
            role, tag = child.get("as"), local_name(child.tag)
            if tag == "mxPoint" and role in ("sourcePoint", "targetPoint"):
                ends[str(role)] = at(child)
            elif tag == "Array" and role == "points":
                points += [at(p) for p in child if local_name(p.tag) == "mxPoint"]
        if len(ends) == 2:
            return (ends["sourcePoint"], *points, ends["targetPoint"])
        return tuple(points)


def contains(outer: Rect, point: tuple[float, float], margin: float = 0.0) -> bool:
    x, y, w, h = outer
    return (
        x - margin <= point[0] <= x + w + margin
        and y - margin <= point[1] <= y + h + margin
    )


def inside(inner: Rect, outer: Rect) -> bool:
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and inner[0] + inner[2] <= outer[0] + outer[2]
        and inner[1] + inner[3] <= outer[1] + outer[3]
    )


def area(rect: Rect | None) -> float:
    return rect[2] * rect[3] if rect else float("inf")
