"""Write a :class:`Flow` as a plain diagrams.net file.

The file is one uncompressed page (``mxfile`` / ``diagram`` /
``mxGraphModel`` / ``root`` with the root cell ``0`` and the layer ``1``)
that diagrams.net opens and edits as it is. Pools and lanes are
``swimlane`` containers (lanes nested in their pool or parent lane), nodes
are the diagrams.net BPMN shapes (``mxgraph.bpmn.task`` with its
``taskMarker``, ``mxgraph.bpmn.event`` with ``outline`` and ``symbol``,
``mxgraph.bpmn.gateway2`` with ``gwType``), children of a sub-process are
children of its cell, and every cell's geometry is relative to its parent,
as diagrams.net expects.

Geometry comes from the flow's own coordinates when every node has bounds,
children lie inside their sub-process, and no node lies inside a lane it
does not belong to (diagrams.net places by containment, so such a drawing
would move it); otherwise from :func:`harpflow.layout.layout`.

Notes
-----
What the file keeps, so that :func:`~harpflow.io.drawio.read_drawio`
restores it: ids (unless two elements share one, or one is ``0`` or ``1``,
the ids of the root cell and the layer; such an id gets a suffix), types,
triggers, loop markers, ``cancel_activity`` of boundary events,
``triggered_by_event`` (a dashed sub-process), labels (written as plain
text, not HTML), lanes and pools, sequence and message flows with labels,
default flows and condition expressions, data objects and stores with
their associations, text annotations, and ``function_ids``, ``forms``,
``medium``, ``location`` and ``documentation`` as ``UserObject``
properties (``機能ID``, ``帳票``, ``媒体``, ``場所``, ``備考``; list items
one per line), and the called element of a call activity, a gateway's
direction and a link event's name (``calledElement``,
``gatewayDirection``, ``linkName``).

Marks of harpflow's own: a pool carries ``pool=1`` in its style (so that a
pool without lanes is not read as a lane), and an association between two
flow nodes (compensation) carries ``association=1``; diagrams.net keeps
unknown style keys.

Not kept: the flow's area, procedure and town, and ids that collide (see
above).
"""

from __future__ import annotations

import os
import warnings
from typing import IO, Any

from lxml import etree

from harpflow.errors import HarpflowWarning
from harpflow.io.source import emit
from harpflow.layout import Layout, existing_layout, layout
from harpflow.model import ACTIVITY_TYPES, EVENT_TYPES, GATEWAY_TYPES, Flow

__all__ = ["write_drawio"]

Rect = tuple[float, float, float, float]

_TASK_MARKER = {
    "task": "abstract",
    "userTask": "user",
    "manualTask": "manual",
    "sendTask": "send",
    "receiveTask": "receive",
    "serviceTask": "service",
    "scriptTask": "script",
    "businessRuleTask": "businessRule",
}
_OUTLINE = {
    "startEvent": "standard",
    "intermediateCatchEvent": "catching",
    "intermediateThrowEvent": "throwing",
    "implicitThrowEvent": "throwing",
    "endEvent": "end",
}
_SYMBOL = {"compensation": "compensation", None: "general"}
_GW_TYPE = {
    "exclusiveGateway": "exclusive",
    "parallelGateway": "parallel",
    "inclusiveGateway": "inclusive",
    "complexGateway": "complex",
    "eventBasedGateway": "eventBased",
}
_LOOP = {
    "standard": "isLoopStandard=1;",
    "parallel": "isLoopMultiParallel=1;",
    "sequential": "isLoopMultiSeq=1;",
}
_TASK = (
    "shape=mxgraph.bpmn.task;whiteSpace=wrap;rectStyle=rounded;size=10;html=0;"
    "container=1;expand=0;collapsible=0;"
)
_EVENT = (
    "shape=mxgraph.bpmn.event;html=0;verticalLabelPosition=bottom;"
    "labelBackgroundColor=#ffffff;verticalAlign=top;align=center;"
    "perimeter=ellipsePerimeter;outlineConnect=0;aspect=fixed;"
)
_GATEWAY = (
    "shape=mxgraph.bpmn.gateway2;html=0;verticalLabelPosition=bottom;"
    "labelBackgroundColor=#ffffff;verticalAlign=top;align=center;"
    "perimeter=rhombusPerimeter;outlineConnect=0;outline=none;symbol=none;"
)
_SWIMLANE = "swimlane;html=0;horizontal=0;startSize=30;whiteSpace=wrap;collapsible=0;"
_DATA = {
    "dataObjectReference": (
        "shape=mxgraph.bpmn.data;labelPosition=center;verticalLabelPosition=bottom;"
        "align=center;verticalAlign=top;size=15;html=0;"
    ),
    "dataStoreReference": (
        "shape=datastore;html=0;labelPosition=center;verticalLabelPosition=bottom;"
        "align=center;verticalAlign=top;"
    ),
}
_ANNOTATION = (
    "shape=mxgraph.flowchart.annotation_1;html=0;align=left;pointerEvents=1;"
    "whiteSpace=wrap;spacingLeft=4;"
)
_FLOW = "edgeStyle=orthogonalEdgeStyle;rounded=0;html=0;endArrow=block;endFill=1;"
_MESSAGE = (
    "edgeStyle=orthogonalEdgeStyle;rounded=0;html=0;dashed=1;dashPattern=8 4;"
    "endArrow=blockThin;endFill=0;startArrow=oval;startFill=0;"
)
_ASSOCIATION = "edgeStyle=none;html=0;dashed=1;dashPattern=1 4;endArrow=none;"
_DATA_ASSOCIATION = (
    "edgeStyle=none;html=0;dashed=1;dashPattern=1 4;endArrow=openThin;endFill=0;"
)
#: Property names (UserObject attributes) for node attributes.
_PROPERTIES = (
    ("function_ids", "機能ID"),
    ("forms", "帳票"),
    ("medium", "媒体"),
    ("location", "場所"),
    ("documentation", "備考"),
    ("called_element", "calledElement"),
    ("direction", "gatewayDirection"),
    ("link", "linkName"),
)
_SAME_AS = {
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
    "tooltip": "documentation",
    "calledelement": "called_element",
    "gatewaydirection": "direction",
    "linkname": "link",
}


def _num(value: float) -> str:
    rounded = round(float(value), 2)
    if rounded == int(rounded):
        return str(int(rounded))
    return repr(rounded)


def _node_style(data: dict[str, Any]) -> str:
    kind = data["type"]
    loop = _LOOP.get(data.get("loop") or "", "")
    if kind in _TASK_MARKER:
        return f"{_TASK}taskMarker={_TASK_MARKER[kind]};{loop}"
    if kind in ACTIVITY_TYPES:
        shape = {
            "callActivity": "bpmnShapeType=call;",
            "transaction": "bpmnShapeType=transaction;",
            "adHocSubProcess": "bpmnShapeType=subprocess;isAdHoc=1;",
        }.get(kind, "bpmnShapeType=subprocess;")
        dashed = "dashed=1;dashPattern=1 2;" if data.get("triggered_by_event") else ""
        return f"{_TASK}taskMarker=abstract;{shape}{loop}{dashed}verticalAlign=top;"
    if kind in EVENT_TYPES:
        if kind == "boundaryEvent":
            cancel = data.get("cancel_activity", True)
            outline = "boundInt" if cancel is not False else "boundNonint"
        else:
            outline = _OUTLINE[kind]
        trigger = data.get("trigger")
        symbol = _SYMBOL.get(trigger, trigger)
        return f"{_EVENT}outline={outline};symbol={symbol};"
    if kind in GATEWAY_TYPES:
        return f"{_GATEWAY}gwType={_GW_TYPE[kind]};"
    return f"{_TASK}taskMarker=abstract;"


class _Ids:
    """Cell ids: the model's ids where they are free, else with a suffix."""

    def __init__(self) -> None:
        self.taken = {"0", "1"}
        self.by_key: dict[tuple[str, str], str] = {}

    def assign(self, kind: str, model_id: str) -> str:
        candidate, n = model_id or kind, 1
        while candidate in self.taken:
            n += 1
            candidate = f"{model_id or kind}_{n}"
        self.taken.add(candidate)
        self.by_key[(kind, model_id)] = candidate
        return candidate

    def __call__(self, kind: str, model_id: str) -> str:
        return self.by_key[(kind, model_id)]


def _inside(inner: Rect, outer: Rect) -> bool:
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return ox <= x and oy <= y and x + w <= ox + ow and y + h <= oy + oh


def _centre_in(rect: Rect, outer: Rect) -> bool:
    cx, cy = rect[0] + rect[2] / 2, rect[1] + rect[3] / 2
    return (
        outer[0] <= cx <= outer[0] + outer[2] and outer[1] <= cy <= outer[1] + outer[3]
    )


def _placed_as_read(flow: Flow, lay: Layout) -> bool:
    """True when reading the drawing back gives every node its own lane.

    The reader descends from a node's container into the nested lanes that
    contain the node's centre; drawn coordinates that put a node inside a
    lane it does not belong to would move it there.
    """
    children: dict[str | None, list[str]] = {}
    for lane in flow.lanes:
        children.setdefault(lane.parent or lane.pool, []).append(lane.id)
    for pool in flow.pools:
        children.setdefault(None, []).append(pool.id)
    for lane in flow.lanes:
        if lane.parent is None and lane.pool is None:
            children.setdefault(None, []).append(lane.id)
    boxes = {**lay.lanes, **lay.pools}
    for _n, data in flow.graph.nodes(data=True):
        if data.get("parent") in flow.graph or data["type"] == "boundaryEvent":
            continue
        rect = lay.nodes.get(_n)
        if rect is None:
            return False
        start = data.get("lane_id") or data.get("pool_id")
        inner = [
            k
            for k in children.get(start, [])
            if k in boxes and _centre_in(rect, boxes[k])
        ]
        if inner:
            return False
    return True


def _choose_layout(flow: Flow) -> Layout:
    graph = flow.graph
    if not len(graph) or not all(d.get("bounds") for _, d in graph.nodes(data=True)):
        return layout(flow)
    for _n, data in graph.nodes(data=True):
        parent = data.get("parent")
        if (
            parent in graph
            and data.get("type") != "boundaryEvent"
            and not _inside(data["bounds"], graph.nodes[parent]["bounds"])
        ):
            return layout(flow)
    lay = existing_layout(flow)
    return lay if _placed_as_read(flow, lay) else layout(flow)


class _Writer:
    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.lay = _choose_layout(flow)
        self.ids = _Ids()
        self.abs: dict[str, Rect] = {}
        self.root = etree.Element("root")
        etree.SubElement(self.root, "mxCell", id="0")
        etree.SubElement(self.root, "mxCell", id="1", parent="0")
        for pool in flow.pools:
            self.ids.assign("pool", pool.id)
        for lane in flow.lanes:
            self.ids.assign("lane", lane.id)
        for n in flow.graph:
            self.ids.assign("node", n)
        for obj in flow.data_objects:
            self.ids.assign("data", obj.id)
        for ann in flow.annotations:
            self.ids.assign("annotation", ann.id)

    # -- cells -----------------------------------------------------------

    def cell(
        self,
        cell_id: str,
        parent: str,
        style: str,
        label: str,
        rect: Rect | None,
        props: dict[str, str] | None = None,
    ) -> None:
        if props:
            holder = etree.SubElement(self.root, "UserObject", label=label)
            for key, value in props.items():
                try:
                    holder.set(key, value)
                except ValueError:
                    warnings.warn(
                        f"property {key!r} is not a valid XML name and was not written",
                        HarpflowWarning,
                        stacklevel=4,
                    )
            holder.set("id", cell_id)
            el = etree.SubElement(holder, "mxCell", style=style)
        else:
            el = etree.SubElement(self.root, "mxCell", id=cell_id, value=label)
            el.set("style", style)
        el.set("vertex", "1")
        el.set("parent", parent)
        rect = rect or (0.0, 0.0, 0.0, 0.0)
        self.abs[cell_id] = rect
        ox, oy = self.abs[parent][:2] if parent in self.abs else (0.0, 0.0)
        geometry = etree.SubElement(el, "mxGeometry")
        geometry.set("x", _num(rect[0] - ox))
        geometry.set("y", _num(rect[1] - oy))
        geometry.set("width", _num(rect[2]))
        geometry.set("height", _num(rect[3]))
        geometry.set("as", "geometry")

    def edge(
        self,
        cell_id: str,
        source: str,
        target: str,
        style: str,
        label: str = "",
        points: tuple[tuple[float, float], ...] = (),
        props: dict[str, str] | None = None,
    ) -> None:
        if props:
            holder = etree.SubElement(self.root, "UserObject", label=label)
            for key, value in props.items():
                holder.set(key, value)
            holder.set("id", cell_id)
            el = etree.SubElement(holder, "mxCell", style=style)
        else:
            el = etree.SubElement(self.root, "mxCell", id=cell_id, value=label)
            el.set("style", style)
        el.set("edge", "1")
        el.set("parent", "1")
        el.set("source", source)
        el.set("target", target)
        geometry = etree.SubElement(el, "mxGeometry", relative="1")
        geometry.set("as", "geometry")
        if len(points) >= 2:
            for (x, y), role in (
                (points[0], "sourcePoint"),
                (points[-1], "targetPoint"),
            ):
                point = etree.SubElement(geometry, "mxPoint", x=_num(x), y=_num(y))
                point.set("as", role)
        if len(points) > 2:
            array = etree.SubElement(geometry, "Array")
            array.set("as", "points")
            for x, y in points[1:-1]:
                etree.SubElement(array, "mxPoint", x=_num(x), y=_num(y))

    # -- the flow --------------------------------------------------------

    def container(self, lane_id: str | None, pool_id: str | None) -> str:
        if lane_id is not None and ("lane", lane_id) in self.ids.by_key:
            return self.ids("lane", lane_id)
        if pool_id is not None and ("pool", pool_id) in self.ids.by_key:
            return self.ids("pool", pool_id)
        return "1"

    def node_parent(self, n: str, data: dict[str, Any]) -> str:
        graph = self.flow.graph
        host = data.get("attached_to") if data["type"] == "boundaryEvent" else None
        if host is not None and host in graph:
            return self.node_parent(host, graph.nodes[host])
        parent = data.get("parent")
        if (
            parent is not None
            and parent in graph
            and graph.nodes[parent]["type"] in ACTIVITY_TYPES
        ):
            return self.ids("node", parent)
        return self.container(data.get("lane_id"), data.get("pool_id"))

    def properties(self, data: dict[str, Any], data_forms: set[str]) -> dict[str, str]:
        props: dict[str, str] = {}
        for key, value in (data.get("properties") or {}).items():
            if _SAME_AS.get(str(key).strip().lower()) is None:
                props[str(key)] = str(value)
        for attr, name in _PROPERTIES:
            value = data.get(attr)
            if attr == "forms":
                value = [f for f in value or () if f not in data_forms]
            if isinstance(value, (list, tuple)):
                value = "\n".join(str(v) for v in value)
            if value:
                props[name] = str(value)
        return props

    def write(self) -> bytes:
        flow, lay, ids = self.flow, self.lay, self.ids
        for pool in flow.pools:
            style = _SWIMLANE + "pool=1;"
            self.cell(
                ids("pool", pool.id), "1", style, pool.name, lay.pools.get(pool.id)
            )
        for lane in flow.lanes:
            if lane.parent is not None:
                parent = ids("lane", lane.parent)
            else:
                parent = self.container(None, lane.pool)
            self.cell(
                ids("lane", lane.id),
                parent,
                _SWIMLANE,
                lane.name,
                lay.lanes.get(lane.id),
            )
        data_forms = {obj.label for obj in flow.data_objects}
        pending = list(flow.graph.nodes(data=True))
        while pending:  # parents before children
            rest = []
            for n, data in pending:
                parent = self.node_parent(n, data)
                if parent != "1" and parent not in self.abs:
                    rest.append((n, data))
                    continue
                self.cell(
                    ids("node", n),
                    parent,
                    _node_style(data),
                    data.get("label") or "",
                    lay.nodes.get(n),
                    self.properties(data, data_forms),
                )
            if len(rest) == len(pending):
                raise AssertionError("sub-process nesting loops")
            pending = rest
        for obj in flow.data_objects:
            if obj.parent is not None and obj.parent in flow.graph:
                parent = ids("node", obj.parent)
            else:
                parent = self.container(obj.lane, None)
            self.cell(
                ids("data", obj.id),
                parent,
                _DATA[obj.kind],
                obj.label,
                lay.data_objects.get(obj.id),
            )
        for ann in flow.annotations:
            self.cell(
                ids("annotation", ann.id),
                "1",
                _ANNOTATION,
                ann.text,
                lay.annotations.get(ann.id),
            )
        self.flows()
        return self.serialise()

    def flows(self) -> None:
        flow, lay, ids = self.flow, self.lay, self.ids
        for u, v, data in flow.graph.edges(data=True):
            message = data.get("kind") == "message"
            style = _MESSAGE if message else _FLOW
            if data.get("default"):
                style += "startArrow=dash;startFill=0;"
            props = {"condition": data["condition"]} if data.get("condition") else None
            for edge_id in (data["id"], *data.get("duplicates", ())):
                self.edge(
                    ids.assign("edge", edge_id),
                    ids("node", u),
                    ids("node", v),
                    style,
                    data.get("label") or "",
                    lay.edges.get(edge_id, ()),
                    props,
                )
        for msg in flow.pool_messages:
            ends = [
                ids("node", e) if e in flow.graph else ids("pool", e)
                for e in (msg.source, msg.target)
            ]
            self.edge(
                ids.assign("edge", msg.id),
                ends[0],
                ends[1],
                _MESSAGE,
                msg.label,
                lay.pool_messages.get(msg.id, ()),
            )
        for obj in flow.data_objects:
            for n in obj.inputs:
                self.edge(
                    ids.assign("edge", f"{obj.id}__{n}"),
                    ids("data", obj.id),
                    ids("node", n),
                    _DATA_ASSOCIATION,
                    points=lay.associations.get((obj.id, n), ()),
                )
            for n in obj.outputs:
                self.edge(
                    ids.assign("edge", f"{n}__{obj.id}"),
                    ids("node", n),
                    ids("data", obj.id),
                    _DATA_ASSOCIATION,
                    points=lay.associations.get((obj.id, n), ()),
                )
        for ann in flow.annotations:
            for target in ann.targets:
                kind = "node" if target in flow.graph else "data"
                if (kind, target) not in ids.by_key:
                    continue
                self.edge(
                    ids.assign("edge", f"{ann.id}__{target}"),
                    ids("annotation", ann.id),
                    ids(kind, target),
                    _ASSOCIATION,
                    points=lay.associations.get((ann.id, target), ()),
                )
        for assoc_id, source, target in flow.meta.get("associations", ()):
            if source in flow.graph and target in flow.graph:
                self.edge(
                    ids.assign("edge", assoc_id),
                    ids("node", source),
                    ids("node", target),
                    _ASSOCIATION + "association=1;",
                )

    def serialise(self) -> bytes:
        right = max((x + w for x, _y, w, _h in self.abs.values()), default=0.0)
        bottom = max((y + h for _x, y, _w, h in self.abs.values()), default=0.0)
        mxfile = etree.Element("mxfile", host="harpflow", type="device")
        diagram = etree.SubElement(
            mxfile, "diagram", id="harpflow-page-1", name=self.flow.name or "Page-1"
        )
        model = etree.SubElement(diagram, "mxGraphModel")
        for key, value in (
            ("dx", "1426"),
            ("dy", "794"),
            ("grid", "1"),
            ("gridSize", "10"),
            ("guides", "1"),
            ("tooltips", "1"),
            ("connect", "1"),
            ("arrows", "1"),
            ("fold", "1"),
            ("page", "1"),
            ("pageScale", "1"),
            ("pageWidth", _num(max(1169.0, right + 40))),
            ("pageHeight", _num(max(827.0, bottom + 40))),
            ("math", "0"),
            ("shadow", "0"),
        ):
            model.set(key, value)
        model.append(self.root)
        text = etree.tostring(mxfile, encoding="unicode", pretty_print=True)
        return text.encode("utf-8")


def write_drawio(
    flow: Flow,
    dest: str | os.PathLike[str] | IO[bytes] | None = None,
    **options: Any,
) -> bytes | None:
    """Write a flow as a plain (uncompressed) diagrams.net file.

    Parameters
    ----------
    flow : Flow
        The flow to write.
    dest : path or binary file, optional
        Where to write; the bytes are returned when omitted.
    **options
        Accepted for symmetry with the other writers; none is used.

    Returns
    -------
    bytes or None
        The file's bytes when ``dest`` is None.

    Examples
    --------
    >>> from harpflow.model import Flow
    >>> from harpflow.io.drawio import read_drawio
    >>> flow = Flow("転入届")
    >>> _ = flow.add_node("s", type="startEvent", label="開始", lane="住民")
    >>> _ = flow.add_node("t", type="userTask", label="受付", lane="窓口")
    >>> _ = flow.add_edge("s", "t")
    >>> data = write_drawio(flow)
    >>> data.startswith(b'<mxfile host="harpflow"')
    True
    >>> back = read_drawio(data)
    >>> [(n.id, n.type, n.lane) for n in back.nodes.values()]
    [('s', 'startEvent', '住民'), ('t', 'userTask', '窓口')]
    """
    return emit(_Writer(flow).write(), dest)
