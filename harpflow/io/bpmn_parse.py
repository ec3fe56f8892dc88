"""Gathering the semantic model of a BPMN 2.0 file (used by :mod:`harpflow.io.bpmn`).

:func:`gather` walks the processes and collaborations of a parsed file and
records every flow element in a :class:`State`, dispatching on namespaced
tags through one table (:data:`HANDLERS`); :mod:`harpflow.io.bpmn_build`
then turns the state into a :class:`~harpflow.model.Flow`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from harpflow.errors import ParseError
from harpflow.io.xml import describe, local_name
from harpflow.model import ACTIVITY_TYPES, EVENT_TYPES, GATEWAY_TYPES

__all__ = [
    "BPMNDI_NS",
    "BPMN_NS",
    "DC_NS",
    "DI_NS",
    "HANDLERS",
    "HF",
    "HF_NS",
    "STANDARD_NS",
    "TRIGGERS",
    "M",
    "NodeRec",
    "State",
    "gather",
    "line_of",
    "resolve",
    "text_of",
]

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
#: Namespace of harpflow's own attributes and extension elements.
HF_NS = "https://harpflow.dev/schema/1"
STANDARD_NS = frozenset({BPMN_NS, BPMNDI_NS, DC_NS, DI_NS})

M = "{" + BPMN_NS + "}"
HF = "{" + HF_NS + "}"
_NODE_TYPES = ACTIVITY_TYPES | EVENT_TYPES | GATEWAY_TYPES
_CONTAINERS = frozenset({"subProcess", "transaction", "adHocSubProcess"})
#: Event definitions and the trigger they give.
TRIGGERS = {
    "cancelEventDefinition": "cancel",
    "compensateEventDefinition": "compensation",
    "conditionalEventDefinition": "conditional",
    "errorEventDefinition": "error",
    "escalationEventDefinition": "escalation",
    "linkEventDefinition": "link",
    "messageEventDefinition": "message",
    "signalEventDefinition": "signal",
    "terminateEventDefinition": "terminate",
    "timerEventDefinition": "timer",
}
#: Children of a process that carry nothing harpflow represents and need no
#: warning: execution details and elements read elsewhere.
_QUIET = frozenset(
    {
        "documentation",
        "extensionElements",
        "auditing",
        "monitoring",
        "property",
        "ioSpecification",
        "ioBinding",
        "dataObject",
        "resourceRole",
        "performer",
        "humanPerformer",
        "potentialOwner",
        "correlationSubscription",
        "supports",
        "incoming",
        "outgoing",
        "standardLoopCharacteristics",
        "multiInstanceLoopCharacteristics",
        "completionCondition",
        "dataInputAssociation",
        "dataOutputAssociation",
        "categoryValueRef",
    }
)


@dataclass
class NodeRec:
    el: etree._Element
    type: str
    process: str | None
    parent: str | None


@dataclass
class State:
    """Everything gathered from the semantic model before the flow is built."""

    name: str
    #: Whether the document declares harpflow's namespace at all.
    has_hf: bool = False
    ids: dict[str, etree._Element] = field(default_factory=dict)
    alias: dict[str, str] = field(default_factory=dict)
    nodes: dict[str, NodeRec] = field(default_factory=dict)
    seq: list[tuple[etree._Element, str | None]] = field(default_factory=list)
    msgs: list[etree._Element] = field(default_factory=list)
    lanes: list[tuple[etree._Element, str | None, str | None]] = field(
        default_factory=list
    )
    lane_of: dict[str, str] = field(default_factory=dict)
    data: list[tuple[etree._Element, str | None, str | None]] = field(
        default_factory=list
    )
    annotations: list[etree._Element] = field(default_factory=list)
    associations: list[etree._Element] = field(default_factory=list)
    data_links: list[tuple[str, str, str]] = field(default_factory=list)
    defaults: set[str] = field(default_factory=set)
    named: dict[str, str] = field(default_factory=dict)
    event_defs: dict[str, str] = field(default_factory=dict)
    unknown: dict[str, tuple[int, int | None]] = field(default_factory=dict)

    def place(self, el: etree._Element) -> dict[str, Any]:
        return {"source": self.name, "line": line_of(el), "element": describe(el)}

    def register(self, el: etree._Element) -> str:
        """Record a flow element's id; a repeated id is an error."""
        xml_id = el.get("id")
        if not xml_id:
            raise ParseError("element without an id", **self.place(el))
        first = self.ids.get(xml_id)
        if first is not None:
            raise ParseError(
                f"two flow elements with id {xml_id!r} (the first at line "
                f"{first.sourceline})",
                **self.place(el),
            )
        self.ids[xml_id] = el
        if self.has_hf:
            model_id = el.get(HF + "id")
            if model_id is not None:
                self.alias[xml_id] = model_id
        return xml_id

    def mid(self, xml_id: str) -> str:
        """The model id of an XML id (the original id kept in ``hf:id``)."""
        return self.alias.get(xml_id, xml_id)


def resolve(value: str | None, known: dict[str, Any]) -> str | None:
    """Resolve an id reference, which some tools write as a QName."""
    if value is None:
        return None
    value = value.strip()
    if value in known or ":" not in value:
        return value
    tail = value.rsplit(":", 1)[1]
    return tail if tail in known else value


def text_of(el: etree._Element) -> str:
    return "".join(str(t) for t in el.itertext()).strip()


def line_of(el: etree._Element) -> int | None:
    line = el.sourceline
    return line if isinstance(line, int) else None


# -- gathering ------------------------------------------------------------


def _walk(
    st: State, container: etree._Element, process: str | None, parent: str | None
) -> None:
    """Gather the flow elements of a process or sub-process."""
    for child in container:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        handler = HANDLERS.get(tag)
        if handler is not None:
            handler(st, child, process, parent)
            continue
        if tag.startswith(M):
            name = tag[len(M) :]
            if name in _QUIET:
                continue
        elif tag.startswith(HF):
            continue
        name = local_name(tag)
        count, line = st.unknown.get(name, (0, line_of(child)))
        st.unknown[name] = (count + 1, line)


_DATA_IN, _DATA_OUT = M + "dataInputAssociation", M + "dataOutputAssociation"


def _flow_node(
    st: State, el: etree._Element, process: str | None, parent: str | None
) -> None:
    xml_id = st.register(el)
    kind = el.tag[len(M) :]
    st.nodes[xml_id] = NodeRec(el, kind, process, parent)
    default = el.get("default")
    if default:
        st.defaults.add(default.strip())
    for assoc in el.iterchildren(_DATA_IN, _DATA_OUT):
        if assoc.tag == _DATA_IN:
            for src in assoc.iterchildren(M + "sourceRef"):
                st.data_links.append(("in", (src.text or "").strip(), xml_id))
        else:
            for dst in assoc.iterchildren(M + "targetRef"):
                st.data_links.append(("out", (dst.text or "").strip(), xml_id))
    if kind in _CONTAINERS:
        _walk(st, el, process, xml_id)


def _sequence_flow(
    st: State, el: etree._Element, process: str | None, parent: str | None
) -> None:
    st.register(el)
    st.seq.append((el, parent))


def _lane_set(
    st: State, el: etree._Element, process: str | None, parent: str | None
) -> None:
    def lanes(lane_set: etree._Element, outer: str | None) -> None:
        for lane in lane_set.iterchildren(M + "lane"):
            lane_id = st.register(lane)
            st.lanes.append((lane, process, outer))
            for ref in lane.iterchildren(M + "flowNodeRef"):
                # Inner lanes are visited later and so win: innermost lane.
                st.lane_of[(ref.text or "").strip()] = lane_id
            for inner in lane.iterchildren(M + "childLaneSet"):
                lanes(inner, lane_id)

    lanes(el, None)


def _data_reference(
    st: State, el: etree._Element, process: str | None, parent: str | None
) -> None:
    st.register(el)
    st.data.append((el, process, parent))


def _annotation(
    st: State, el: etree._Element, process: str | None, parent: str | None
) -> None:
    st.register(el)
    st.annotations.append(el)


def _association(
    st: State, el: etree._Element, process: str | None, parent: str | None
) -> None:
    st.register(el)
    st.associations.append(el)


def _data_object(
    st: State, el: etree._Element, process: str | None, parent: str | None
) -> None:
    # The item a data object reference points at: its name labels the
    # reference when the reference has none.
    st.named[el.get("id", "")] = el.get("name") or ""


def _ignored(
    st: State, el: etree._Element, process: str | None, parent: str | None
) -> None:
    name = local_name(el.tag)
    count, line = st.unknown.get(name, (0, line_of(el)))
    st.unknown[name] = (count + 1, line)


_Handler = Callable[[State, etree._Element, str | None, str | None], None]
#: Dispatch table: namespaced tag -> handler.
HANDLERS: dict[str, _Handler] = {
    **{M + kind: _flow_node for kind in _NODE_TYPES},
    M + "sequenceFlow": _sequence_flow,
    M + "laneSet": _lane_set,
    M + "dataObjectReference": _data_reference,
    M + "dataStoreReference": _data_reference,
    M + "dataObject": _data_object,
    M + "textAnnotation": _annotation,
    M + "association": _association,
    M + "group": _ignored,
}


def gather(
    st: State, root: etree._Element
) -> tuple[list[etree._Element], list[etree._Element], list[etree._Element]]:
    """Walk a ``definitions`` element; return processes, collaborations and
    participants, having recorded every flow element in ``st``."""
    processes: list[etree._Element] = []
    collaborations: list[etree._Element] = []
    for child in root:
        tag = child.tag
        if tag == M + "process":
            processes.append(child)
        elif tag == M + "collaboration":
            collaborations.append(child)
        elif tag in (M + "dataObject", M + "dataStore"):
            st.named[child.get("id", "")] = child.get("name") or ""
        elif isinstance(tag, str) and tag.startswith(M) and tag.endswith("Definition"):
            st.event_defs[child.get("id", "")] = TRIGGERS.get(tag[len(M) :], "")
    for proc in processes:
        _walk(st, proc, proc.get("id"), None)
    participants: list[etree._Element] = []
    for collab in collaborations:
        for child in collab:
            tag = child.tag
            if tag == M + "participant":
                st.register(child)
                participants.append(child)
            elif tag == M + "messageFlow":
                st.register(child)
                st.msgs.append(child)
            elif tag == M + "textAnnotation":
                _annotation(st, child, None, None)
            elif tag == M + "association":
                _association(st, child, None, None)
    return processes, collaborations, participants
