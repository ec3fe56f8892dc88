"""One Visio page onto a flow: shapes, glued connectors and containers.

This is the page half of :mod:`harpflow.io.visio`, which checks the package,
opens it with :mod:`vsdx` and documents the mapping. Here a page's shapes are
classified, placed in absolute page coordinates (inches, y up), their
connectors resolved through glue, and the flow filled in.

Examples
--------
>>> _contains((0, 0, 10, 10), (5, 5)), _contains((0, 0, 10, 10), (11, 5))
(True, False)
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from harpflow.errors import HarpflowWarning
from harpflow.model import ACTIVITY_TYPES, Flow, SourceRef

__all__ = ["PageReader"]

Box = tuple[float, float, float, float]  # left, bottom, right, top (inches)
_VISIO = "{http://schemas.microsoft.com/office/visio/2012/main}"
_PX = 96.0
_SHEET = re.compile(r"Sheet\.(\d+)!")

_TASK_TYPES = (
    ("business", "businessRuleTask"),
    ("user", "userTask"),
    ("service", "serviceTask"),
    ("send", "sendTask"),
    ("receive", "receiveTask"),
    ("script", "scriptTask"),
    ("manual", "manualTask"),
)
_GATEWAY_TYPES = (
    ("event", "eventBasedGateway"),
    ("parallel", "parallelGateway"),
    ("inclusive", "inclusiveGateway"),
    ("complex", "complexGateway"),
    ("exclusive", "exclusiveGateway"),
)
_CONTAINERS = ("subProcess", "transaction", "callActivity")


@dataclass
class _Shape:
    id: str
    kind: str
    label: str
    box: Box
    line: int | None
    props: dict[str, str]
    markers: list[str] = field(default_factory=list)
    ends: dict[str, str | None] = field(default_factory=dict)

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2)

    @property
    def area(self) -> float:
        return abs(self.box[2] - self.box[0]) * abs(self.box[3] - self.box[1])


def _contains(box: Box, point: tuple[float, float], margin: float = 0.0) -> bool:
    left, right = sorted((box[0], box[2]))
    bottom, top = sorted((box[1], box[3]))
    x, y = point
    return left - margin <= x <= right + margin and bottom - margin <= y <= top + margin


def _float(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _text(shape: Any) -> str:
    raw = str(shape.text or "")
    return "\n".join(ln.strip() for ln in raw.strip().splitlines())


def _rows(xml: Any, section: str) -> Iterator[tuple[str, str]]:
    for sec in xml.findall(f"{_VISIO}Section"):
        if sec.get("N") != section:
            continue
        for row in sec.findall(f"{_VISIO}Row"):
            for cell in row.findall(f"{_VISIO}Cell"):
                if cell.get("N") == "Value" and row.get("N"):
                    yield row.get("N"), cell.get("V", "")


def _loop(node: _Shape) -> str | None:
    """Loop marker from BPMN shape data or itp-commerce's marker shapes."""
    kind = node.props.get("BpmnLoopType", "").lower()
    if "sequential" in kind or "MISequentialMarker" in node.markers:
        return "sequential"
    if "parallel" in kind or "MIMarker" in node.markers:
        return "parallel"
    if "standard" in kind or "LoopMarker" in node.markers:
        return "standard"
    return None


class PageReader:
    """Read the shapes of one :mod:`vsdx` page and fill a :class:`Flow`.

    Parameters
    ----------
    page : vsdx.Page
        The page.
    name : str
        The file name, for messages.
    classify : callable
        Maps a master or shape name to a kind (see
        :func:`harpflow.io.visio.classify`).
    """

    def __init__(
        self, page: Any, name: str, classify: Callable[[str | None], str | None]
    ) -> None:
        self.page = page
        self.name = name
        self.classify = classify
        self.shapes: dict[str, _Shape] = {}
        self.owner: dict[str, str] = {}  # any shape id -> classified shape id
        self.unknown: list[str] = []
        self.raw: dict[str, Any] = {}  # classified shape id -> vsdx shape
        self._masters: dict[str, tuple[str | None, Any]] = {}
        self.notes: dict[str, list[str]] = {}
        try:
            self.height = float(page.height)
        except (AttributeError, TypeError, ValueError):
            self.height = 0.0
        for shape in page.child_shapes:
            self._visit(shape, 0.0, 0.0)
        self._glue()

    @property
    def holds_flow(self) -> bool:
        """True when the page has at least one classified flow node."""
        return any(s.kind[0] not in "~#@" for s in self.shapes.values())

    def _master(self, master_id: str | None) -> tuple[str | None, Any]:
        """The master's name and top shape, read once per master."""
        if master_id is None:
            return None, None
        if master_id not in self._masters:
            master = self.page.vis.get_master_page_by_id(master_id)
            top = master.child_shapes[0] if master and master.child_shapes else None
            self._masters[master_id] = (getattr(master, "name", None), top)
        return self._masters[master_id]

    def _cell(self, shape: Any, name: str) -> Any:
        """A cell's value, from the shape or else from its master's shape."""
        own = shape.cells.get(name)
        if own is not None:
            return own.value
        if shape.xml.get("MasterShape") is not None:
            return shape.cell_value(name)  # a sub-shape of a master instance
        _, top = self._master(shape.xml.get("Master"))
        if top is None:
            return None
        inherited = top.cells.get(name)
        return inherited.value if inherited is not None else None

    def _kind(self, shape: Any) -> str | None:
        master_name, _ = self._master(shape.xml.get("Master"))
        return (
            self.classify(master_name)
            or self.classify(shape.xml.get("NameU"))
            or self.classify(shape.xml.get("Name"))
        )

    def _props(self, shape: Any) -> dict[str, str]:
        props: dict[str, str] = {}
        _, top = self._master(shape.xml.get("Master"))
        if top is not None:
            props.update(_rows(top.xml, "Property"))
        props.update(_rows(shape.xml, "Property"))
        return props

    def _visit(self, shape: Any, ox: float, oy: float) -> None:
        def cell(name: str) -> Any:
            return self._cell(shape, name)

        one_d = cell("BeginX") is not None
        if one_d:
            xs = (_float(cell("BeginX")), _float(cell("EndX")))
            ys = (_float(cell("BeginY")), _float(cell("EndY")))
            box = (ox + min(xs), oy + min(ys), ox + max(xs), oy + max(ys))
        else:
            left = ox + _float(cell("PinX")) - _float(cell("LocPinX"))
            bottom = oy + _float(cell("PinY")) - _float(cell("LocPinY"))
            box = (
                left,
                bottom,
                left + _float(cell("Width")),
                bottom + _float(cell("Height")),
            )
        kind = self._kind(shape)
        sid = str(shape.ID)
        if kind is None:
            if shape.shape_type == "Group":
                for child in shape.child_shapes:
                    self._visit(child, box[0], box[1])
            elif _text(shape):
                self.unknown.append(sid)
            return
        line = getattr(shape.xml, "sourceline", None)
        record = _Shape(sid, kind, _text(shape), box, line, self._props(shape))
        self.raw[sid] = shape
        self.shapes[sid] = record
        self.owner[sid] = sid
        for inner in shape.xml.iter(f"{_VISIO}Shape"):
            inner_id = inner.get("ID")
            if inner_id and inner_id != sid:
                self.owner[inner_id] = sid
                record.markers.append(inner.get("NameU") or inner.get("Name") or "")
                record.markers.extend(v for _, v in _rows(inner, "Property"))

    # -- connectors ---------------------------------------------------------

    def _glue(self) -> None:
        glued: dict[str, dict[str, str]] = {}
        for connect in self.page.connects:
            end = {"BeginX": "begin", "EndX": "end"}.get(connect.from_rel or "")
            if end and connect.from_id and connect.to_id:
                glued.setdefault(str(connect.from_id), {})[end] = str(connect.to_id)
        for record in self.shapes.values():
            if record.kind[0] != "~":
                continue
            ends = glued.get(record.id, {})
            for end, cell in (("begin", "BeginX"), ("end", "EndX")):
                target = ends.get(end) or self._formula_sheet(record.id, cell)
                record.ends[end] = self.owner.get(target) if target else None

    def _formula_sheet(self, shape_id: str, cell: str) -> str | None:
        shape = self.raw.get(shape_id)
        if shape is None:
            return None
        match = _SHEET.search(shape.cell_formula(cell) or "")
        return match.group(1) if match else None

    # -- the flow -----------------------------------------------------------

    def _note(self, what: str, shape_id: str) -> None:
        self.notes.setdefault(what, []).append(shape_id)

    def _bounds(self, box: Box) -> tuple[float, float, float, float]:
        left, right = sorted((box[0], box[2]))
        bottom, top = sorted((box[1], box[3]))
        y = (self.height - top) if self.height else -top
        return (
            round(left * _PX, 2),
            round(y * _PX, 2),
            round((right - left) * _PX, 2),
            round((top - bottom) * _PX, 2),
        )

    def _of_kind(self, *kinds: str) -> list[_Shape]:
        return [s for s in self.shapes.values() if s.kind in kinds]

    def _innermost(self, options: list[_Shape], shape: _Shape) -> _Shape | None:
        inside = [
            o
            for o in options
            if o.id != shape.id
            and _contains(o.box, shape.centre)
            and o.area > shape.area
        ]
        return min(inside, key=lambda o: o.area) if inside else None

    def fill(self, flow: Flow) -> None:
        """Add the page's pools, lanes, nodes, flows and artifacts to ``flow``."""
        pools = self._of_kind("#pool")
        lanes = self._of_kind("#lane")
        for pool in sorted(pools, key=lambda s: (-s.box[3], s.box[0])):
            flow.add_pool(pool.id, pool.label, bounds=self._bounds(pool.box))
        lane_pool: dict[str, str | None] = {}

        def depth(lane: _Shape) -> int:
            return sum(
                1
                for o in lanes
                if o is not lane
                and o.area > lane.area
                and _contains(o.box, lane.centre)
            )

        for lane in sorted(lanes, key=lambda s: (depth(s), -s.box[3], s.box[0])):
            home = self._innermost(pools, lane)
            parent = self._innermost(lanes, lane)
            lane_pool[lane.id] = home.id if home else None
            flow.add_lane(
                lane.id,
                lane.label,
                pool=lane_pool[lane.id],
                parent=parent.id if parent else None,
                bounds=self._bounds(lane.box),
            )
        connectors = [s for s in self.shapes.values() if s.kind[0] == "~"]
        nodes = [s for s in self.shapes.values() if s.kind[0] not in "~#@"]
        degree = self._degrees(connectors)
        for node in nodes:
            self._add_node(flow, node, nodes, lanes, pools, lane_pool, degree)
        self._add_connectors(flow, connectors)
        self._warn()

    def _degrees(self, connectors: list[_Shape]) -> dict[str, list[int]]:
        degree: dict[str, list[int]] = {}
        for c in connectors:
            if c.kind == "~sequence" and c.ends.get("begin") and c.ends.get("end"):
                degree.setdefault(str(c.ends["begin"]), [0, 0])[1] += 1
                degree.setdefault(str(c.ends["end"]), [0, 0])[0] += 1
        return degree

    def _node_type(self, node: _Shape, degree: dict[str, list[int]]) -> str:
        kind = node.kind
        props = {k.lower(): v.lower() for k, v in node.props.items() if v}
        activity = props.get("bpmnactivitytype", "")
        if "sub-process" in activity or "subprocess" in activity:
            kind = "subProcess"
        elif "call" in activity:
            kind = "callActivity"
        if kind == "task":
            icons = [
                m.lower().replace("\\", "/").rsplit("/", 1)[-1] for m in node.markers
            ]
            hints = [props.get("bpmntasktype", "")]
            hints += [i for i in icons if i.startswith("task_")]
            kind = next(
                (n for w, n in _TASK_TYPES if any(w in h for h in hints if h)), kind
            )
        event = props.get("bpmneventtype", "")
        if event.startswith("start"):
            kind = "startEvent"
        elif event.startswith("end"):
            kind = "endEvent"
        elif event.startswith("intermediate"):
            throw = "throw" in event
            kind = "intermediateThrowEvent" if throw else "intermediateCatchEvent"
        if kind == "intermediateCatchEvent" and "TriggerThrowingMarker" in node.markers:
            kind = "intermediateThrowEvent"
        gateway = props.get("bpmngatewaytype", "")
        if kind.endswith("Gateway") and gateway:
            kind = next((n for w, n in _GATEWAY_TYPES if w in gateway), kind)
        if kind == "?terminal":
            n_in, n_out = degree.get(node.id, [0, 0])
            kind = "startEvent" if n_in == 0 else "endEvent"
            if n_in and n_out:
                kind = "intermediateThrowEvent"
                self._note("start/end shapes with flows in and out", node.id)
        return kind

    def _add_node(
        self,
        flow: Flow,
        node: _Shape,
        nodes: list[_Shape],
        lanes: list[_Shape],
        pools: list[_Shape],
        lane_pool: dict[str, str | None],
        degree: dict[str, list[int]],
    ) -> None:
        kind = self._node_type(node, degree)
        attrs: dict[str, Any] = {}
        lane = self._innermost(lanes, node)
        pool = self._innermost(pools, node)
        pool_id = pool.id if pool else (lane_pool.get(lane.id) if lane else None)
        activities = [n for n in nodes if n.kind in _CONTAINERS or n.kind == "task"]
        if kind.startswith("intermediate"):
            host = self._host(node, activities)
            if host is not None:
                kind, attrs["attached_to"] = "boundaryEvent", host.id
        parent = self._innermost([n for n in nodes if n.kind in _CONTAINERS], node)
        loop = _loop(node)
        if loop and kind in ACTIVITY_TYPES:
            attrs["loop"] = loop
        trigger = node.props.get("BpmnTriggerOrResult", "").strip().lower()
        if trigger and trigger != "none" and kind.endswith("Event"):
            attrs["trigger"] = trigger
        flow.add_node(
            node.id,
            type=kind,
            label=node.label,
            lane_id=lane.id if lane else None,
            pool_id=pool_id,
            parent=parent.id if parent and "attached_to" not in attrs else None,
            bounds=self._bounds(node.box),
            source=SourceRef(self.name, None, f"shape id={node.id!r}"),
            **attrs,
        )

    def _host(self, event: _Shape, activities: list[_Shape]) -> _Shape | None:
        """The activity on whose border the event sits, if any."""
        radius = max(event.box[2] - event.box[0], event.box[3] - event.box[1]) / 2
        for act in sorted(activities, key=lambda a: a.area):
            if act.id == event.id or act.area <= event.area:
                continue
            left, bottom, right, top = act.box
            x, y = event.centre
            if not _contains(act.box, (x, y), radius * 0.9):
                continue
            to_border = min(
                abs(x - left), abs(x - right), abs(y - bottom), abs(y - top)
            )
            if to_border <= radius * 0.9:
                return act
        return None

    def _add_connectors(self, flow: Flow, connectors: list[_Shape]) -> None:
        data: dict[str, tuple[list[str], list[str]]] = {}
        notes: dict[str, list[str]] = {}
        inline: dict[str, tuple[list[str], list[str]]] = {}
        for c in connectors:
            begin, end = c.ends.get("begin"), c.ends.get("end")
            if begin is None or end is None:
                self._note("connectors with an unglued end", c.id)
                continue
            a, b = self.shapes[begin], self.shapes[end]
            if a.kind[0] == "@" or b.kind[0] == "@":
                artifact, other = (a, b) if a.kind[0] == "@" else (b, a)
                if artifact.kind == "@annotation":
                    notes.setdefault(artifact.id, []).append(other.id)
                    continue
                reads, writes = data.setdefault(artifact.id, ([], []))
                (reads if artifact is a else writes).append(other.id)
                if c.kind == "~sequence":
                    preds, succs = inline.setdefault(artifact.id, ([], []))
                    (succs if artifact is a else preds).append(other.id)
                continue
            if c.kind == "~association":
                continue
            if c.kind == "~message" and (a.kind == "#pool" or b.kind == "#pool"):
                flow.add_pool_message(c.id, a.id, b.id, label=c.label)
                continue
            if a.kind[0] == "#" or b.kind[0] == "#":
                self._note("flows that end on a lane or pool", c.id)
                continue
            kind = "message" if c.kind == "~message" else "sequence"
            flow.add_edge(a.id, b.id, id=c.id, kind=kind, label=c.label)
        for obj in self._of_kind("@dataObjectReference", "@dataStoreReference"):
            reads, writes = data.get(obj.id, ([], []))
            flow.add_data_object(
                obj.id,
                obj.label,
                kind=obj.kind[1:],
                inputs=[n for n in reads if n in flow],
                outputs=[n for n in writes if n in flow],
                bounds=self._bounds(obj.box),
            )
            preds, succs = inline.get(obj.id, ([], []))
            for p in preds:
                for s in succs:
                    if p in flow and s in flow:
                        flow.add_edge(p, s, label="")
        for ann in self._of_kind("@annotation"):
            targets = [t for t in notes.get(ann.id, []) if t in flow]
            flow.add_annotation(
                ann.id, ann.label, targets=targets, bounds=self._bounds(ann.box)
            )

    def _warn(self) -> None:
        if self.unknown:
            self.notes["shapes of no known kind"] = self.unknown
        for what, ids in sorted(self.notes.items()):
            warnings.warn(
                f"{self.name}: page {self.page.name!r}: ignored {len(ids)} "
                f"{what} (shape ids {', '.join(ids)})",
                HarpflowWarning,
                stacklevel=4,
            )
