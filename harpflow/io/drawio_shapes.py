"""diagrams.net styles and shapes, and what they mean in a :class:`Flow`.

A diagrams.net cell carries its look in a style string such as
``rounded=1;whiteSpace=wrap;html=1;`` or
``shape=mxgraph.bpmn.event;outline=end;symbol=terminate;``. This module
parses those strings and classifies a vertex as a flow node (with its BPMN
element name), a data object or store, a text annotation, a swimlane, a
task marker icon, or decoration. The tables here are the single place where
diagrams.net shape names meet the BPMN vocabulary; the reader and the
writer both use them.

Examples
--------
>>> style = parse_style("shape=mxgraph.bpmn.task;taskMarker=user;html=1;")
>>> classify(style).type
'userTask'
>>> classify(parse_style("rhombus;whiteSpace=wrap;html=1;")).type
'exclusiveGateway'
>>> html_to_text("申請書<br>受付&amp;確認")
'申請書\\n受付&確認'
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

__all__ = [
    "EVENT_SYMBOLS",
    "GATEWAY_STYLES",
    "TASK_MARKERS",
    "Shape",
    "Style",
    "classify",
    "html_to_text",
    "parse_style",
]


@dataclass(frozen=True)
class Style:
    """A parsed style: the leading shape name (if any) and the key/values."""

    base: str
    values: dict[str, str]

    def get(self, key: str, default: str = "") -> str:
        """The value of ``key``, or ``default``."""
        return self.values.get(key, default)

    def flag(self, key: str) -> bool:
        """True when ``key`` is set to ``1`` (or ``true``)."""
        return self.values.get(key, "0").strip().lower() in ("1", "true")

    @property
    def shape(self) -> str:
        """The shape: ``shape=`` when given, else the leading name."""
        return self.values.get("shape", self.base)


def parse_style(text: str | None) -> Style:
    """Parse a diagrams.net style string.

    The first entry without ``=`` names a stylesheet style (``ellipse``,
    ``rhombus``, ``swimlane``, ``text``, ``edgeLabel``, ``group``...); the
    other entries are ``key=value`` pairs.

    Examples
    --------
    >>> s = parse_style("ellipse;whiteSpace=wrap;html=1;")
    >>> s.base, s.shape, s.flag("html")
    ('ellipse', 'ellipse', True)
    """
    base = ""
    values: dict[str, str] = {}
    for part in (text or "").split(";"):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if sep:
            values[key.strip()] = value.strip()
        elif not base:
            base = key
    return Style(base, values)


_BREAK = re.compile(r"<br\s*/?>|</(?:div|p|li|h[1-6])\s*>", re.I)
_BLOCK_START = re.compile(r"<(?:div|p|li|h[1-6])(?:\s[^>]*)?>", re.I)
_TAG = re.compile(r"<[^>]*>")


def html_to_text(value: str) -> str:
    """Turn an HTML label into text: tags stripped, breaks kept, entities decoded.

    ``<br>`` and the ends of block elements become line breaks; non-breaking
    spaces become spaces; each line is trimmed and empty lines are dropped.
    """
    text = _BREAK.sub("\n", value)
    text = _BLOCK_START.sub("\n", text)
    text = _TAG.sub("", text)
    text = html.unescape(text).replace("\xa0", " ")
    # Runs of white space inside a line are kept as written; empty lines,
    # which HTML would not show, are dropped.
    lines = (line.strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


#: ``taskMarker`` values of ``shape=mxgraph.bpmn.task`` and the BPMN task type.
TASK_MARKERS: dict[str, str] = {
    "abstract": "task",
    "user": "userTask",
    "manual": "manualTask",
    "send": "sendTask",
    "receive": "receiveTask",
    "service": "serviceTask",
    "script": "scriptTask",
    "businessRule": "businessRuleTask",
}

#: Icon shapes that older diagrams.net versions placed inside a task.
_MARKER_ICONS: dict[str, str] = {
    "mxgraph.bpmn.user_task": "userTask",
    "mxgraph.bpmn.manual_task": "manualTask",
    "mxgraph.bpmn.service_task": "serviceTask",
    "mxgraph.bpmn.script_task": "scriptTask",
    "mxgraph.bpmn.business_rule_task": "businessRuleTask",
    "mxgraph.bpmn.send_task": "sendTask",
    "mxgraph.bpmn.receive_task": "receiveTask",
    "mxgraph.bpmn.loop": "@loop",
    "mxgraph.bpmn.ad_hoc": "@adhoc",
    "plus": "@subprocess",
    "mxgraph.bpmn.plus": "@subprocess",
}

#: ``symbol`` of a BPMN event shape and the event trigger (None: no trigger).
EVENT_SYMBOLS: dict[str, str | None] = {
    "general": None,
    "": None,
    "none": None,
    "message": "message",
    "timer": "timer",
    "escalation": "escalation",
    "conditional": "conditional",
    "link": "link",
    "error": "error",
    "cancel": "cancel",
    "compensation": "compensation",
    "signal": "signal",
    "multiple": "multiple",
    "parallelMultiple": "parallelMultiple",
    "terminate": "terminate",
}

#: ``outline`` of a BPMN event shape and the event type.
_EVENT_OUTLINES: dict[str, str] = {
    "standard": "startEvent",
    "eventInt": "startEvent",
    "eventNonint": "startEvent",
    "catching": "intermediateCatchEvent",
    "throwing": "intermediateThrowEvent",
    "boundInt": "boundaryEvent",
    "boundNonint": "boundaryEvent",
    "end": "endEvent",
}

#: ``gwType`` of ``shape=mxgraph.bpmn.gateway2`` and the gateway type.
GATEWAY_STYLES: dict[str, str] = {
    "exclusive": "exclusiveGateway",
    "parallel": "parallelGateway",
    "inclusive": "inclusiveGateway",
    "complex": "complexGateway",
    "eventBased": "eventBasedGateway",
    "eventBasedParallel": "eventBasedGateway",
}

#: ``symbol`` of the older ``shape=mxgraph.bpmn.shape`` gateways.
_GATEWAY_SYMBOLS: dict[str, str] = {
    "exclusiveGw": "exclusiveGateway",
    "parallelGw": "parallelGateway",
    "inclusiveGw": "inclusiveGateway",
    "complexGw": "complexGateway",
    "eventGw": "eventBasedGateway",
}

_DATA_OBJECTS = frozenset(
    {
        "mxgraph.bpmn.data",
        "mxgraph.bpmn.data2",
        "document",
        "mxgraph.flowchart.document",
        "mxgraph.flowchart.multi-document",
        "mxgraph.basic.document",
    }
)
_DATA_STORES = frozenset(
    {
        "datastore",
        "cylinder",
        "cylinder2",
        "cylinder3",
        "mxgraph.flowchart.database",
        "mxgraph.flowchart.stored_data",
        "mxgraph.flowchart.direct_data",
    }
)
_ANNOTATIONS = frozenset(
    {
        "mxgraph.flowchart.annotation_1",
        "mxgraph.flowchart.annotation_2",
        "note",
        "note2",
        "callout",
        "text",
    }
)
#: Shapes read as a start or end event, decided by the edges.
_TERMINALS = frozenset(
    {
        "ellipse",
        "doubleEllipse",
        "mxgraph.flowchart.terminator",
        "mxgraph.flowchart.start_1",
        "mxgraph.flowchart.start_2",
        "mxgraph.flowchart.on-page_reference",
    }
)
_GATEWAYS = frozenset({"rhombus", "mxgraph.flowchart.decision"})
#: Generic shapes read as a task of a particular kind.
_TASK_SHAPES: dict[str, str] = {
    "": "task",
    "rect": "task",
    "rectangle": "task",
    "label": "task",
    "mxgraph.flowchart.process": "task",
    "process": "callActivity",
    "mxgraph.flowchart.predefined_process": "callActivity",
    "mxgraph.flowchart.manual_operation": "manualTask",
    "trapezoid": "manualTask",
    "mxgraph.flowchart.manual_input": "userTask",
    "mxgraph.flowchart.display": "userTask",
    "mxgraph.flowchart.preparation": "task",
    "hexagon": "task",
    "mxgraph.flowchart.data": "task",
    "parallelogram": "task",
    "mxgraph.flowchart.card": "task",
    "mxgraph.flowchart.paper_tape": "task",
    "mxgraph.flowchart.loop_limit": "task",
    "mxgraph.flowchart.collate": "task",
    "mxgraph.flowchart.sort": "task",
    "mxgraph.flowchart.merge_or_storage": "task",
    "mxgraph.flowchart.extract_or_measurement": "task",
    "step": "task",
}
_DECORATION = frozenset({"image", "line", "edgeLabel", "group", "waypoint"})


@dataclass(frozen=True)
class Shape:
    """What a vertex stands for.

    ``kind`` is one of ``"node"``, ``"terminal"`` (start or end event by
    its edges), ``"data"``, ``"annotation"``, ``"swimlane"``, ``"marker"``
    (a task-type icon inside a task), ``"group"`` or ``"unknown"``.
    ``type`` is the BPMN element name for nodes, the data object kind for
    data, and the marked type for markers.
    """

    kind: str
    type: str = ""
    trigger: str | None = None
    loop: str | None = None
    interrupting: bool = True


def _loop(style: Style) -> str | None:
    if style.flag("isLoopStandard"):
        return "standard"
    if style.flag("isLoopMultiParallel"):
        return "parallel"
    if style.flag("isLoopMultiSeq"):
        return "sequential"
    return None


def _activity(style: Style, default: str) -> Shape:
    kind = style.get("bpmnShapeType")
    if kind == "call":
        return Shape("node", "callActivity", loop=_loop(style))
    if kind == "transaction":
        return Shape("node", "transaction", loop=_loop(style))
    if style.flag("isAdHoc"):
        return Shape("node", "adHocSubProcess", loop=_loop(style))
    if kind == "subprocess" or style.flag("isLoopSub"):
        return Shape("node", "subProcess", loop=_loop(style))
    return Shape("node", default, loop=_loop(style))


def classify(style: Style) -> Shape:
    """Classify a vertex by its style.

    Examples
    --------
    >>> classify(parse_style("shape=mxgraph.bpmn.event;outline=end;"
    ...                      "symbol=terminate;")).trigger
    'terminate'
    >>> classify(parse_style("swimlane;horizontal=0;")).kind
    'swimlane'
    >>> classify(parse_style("shape=cylinder3;")).type
    'dataStoreReference'
    """
    shape = style.shape
    if style.base == "swimlane" or shape in ("swimlane", "mxgraph.bpmn.pool"):
        return Shape("swimlane")
    if shape == "mxgraph.bpmn.task":
        marker = style.get("taskMarker", "abstract")
        return _activity(style, TASK_MARKERS.get(marker, "task"))
    if shape in ("mxgraph.bpmn.event", "mxgraph.bpmn.shape") and (
        style.get("outline") in _EVENT_OUTLINES
    ):
        outline = style.get("outline")
        symbol = style.get("symbol", "general")
        return Shape(
            "node",
            _EVENT_OUTLINES[outline],
            trigger=EVENT_SYMBOLS.get(symbol, symbol or None),
            interrupting=outline not in ("boundNonint", "eventNonint"),
        )
    if shape == "mxgraph.bpmn.gateway2":
        return Shape(
            "node", GATEWAY_STYLES.get(style.get("gwType"), "exclusiveGateway")
        )
    if shape == "mxgraph.bpmn.shape" and style.get("symbol") in _GATEWAY_SYMBOLS:
        return Shape("node", _GATEWAY_SYMBOLS[style.get("symbol")])
    if shape in _MARKER_ICONS:
        return Shape("marker", _MARKER_ICONS[shape])
    if shape in _DATA_OBJECTS:
        return Shape("data", "dataObjectReference")
    if shape in _DATA_STORES:
        return Shape("data", "dataStoreReference")
    if shape in _ANNOTATIONS or style.base in _ANNOTATIONS:
        return Shape("annotation")
    if shape in _TERMINALS or style.base in _TERMINALS:
        return Shape("terminal")
    if shape in _GATEWAYS or style.base in _GATEWAYS:
        return Shape("node", "exclusiveGateway")
    if style.base == "group" or shape == "group":
        return Shape("group")
    if shape in _DECORATION:
        return Shape("unknown")
    if shape in _TASK_SHAPES:
        return _activity(style, _TASK_SHAPES[shape])
    if style.base in _TASK_SHAPES and "shape" not in style.values:
        return _activity(style, _TASK_SHAPES[style.base])
    return Shape("unknown")
