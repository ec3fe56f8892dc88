"""BPMN 2.0 XML: read a file into a :class:`~harpflow.model.Flow`.

:func:`read_bpmn` reads the semantic model of a BPMN 2.0 file -- every
process, collaboration, lane set and sub-process -- and the coordinates of
its diagram interchange (DI). :func:`write_bpmn` (in
:mod:`harpflow.io.bpmn_write`, re-exported here) writes a flow back with
complete DI.

Elements are dispatched by their namespaced tag (``{namespace}localName``),
never by prefix, so ``bpmn:task``, ``bpmn2:task``, ``semantic:task`` and an
unprefixed ``task`` in the BPMN 2.0 model namespace all read alike.

What is read
    - every flow node: tasks of every kind, sub-processes (also triggered
      by an event, transactions, ad hoc), call activities, every event
      (boundary events with ``attached_to`` and ``cancel_activity``; the
      trigger from the event definition in ``trigger``), every gateway;
    - sequence flows with name (``label``), condition expression
      (``condition``) and default flows (``default``); message flows
      between nodes as edges of kind ``"message"``, and message flows that
      end on a participant as :meth:`~harpflow.model.Flow.pool_messages`;
    - participants as pools (a node's pool is the participant whose
      ``processRef`` is the node's process), lane sets with nested lanes (a
      node's lane is its innermost lane), sub-process nesting (``parent``);
    - data object and data store references with their data associations
      (they become the steps' ``forms``), text annotations with their
      associations, loop and multi-instance markers (``loop``) and
      ``documentation``;
    - DI: node ``bounds``, edge ``waypoints``, lane and pool bounds, from
      the first diagram that shows each element.

Attributes in the harpflow namespace ``https://harpflow.dev/schema/1``
(written by :func:`write_bpmn`) restore what BPMN cannot say: original ids
that are not valid XML ids (``hf:id``), medium, location, function ids and
other step attributes, the order of nodes and lanes (``hf:seq``) and the
flow's metadata (``hf:meta``).

Errors
    A root that is not ``definitions`` in the BPMN 2.0 model namespace, two
    flow elements with one id, and a flow with one end missing raise
    :class:`~harpflow.errors.ParseError` naming file, line and element. Ids
    inside ``extensionElements`` and in other namespaces are vendor data:
    they are never read, so repeating them is not an error.

Notes
-----
- Groups, categories, choreographies and conversations are not represented;
  each kind met inside a process gives one warning.
- A flow *neither* of whose ends is an element of the file (tools leave
  such orphans when they drop an element on export) is ignored with a
  warning; a flow with one end present and the other missing is an error.
- Execution details (input/output specifications, properties, resource
  roles, timer expressions, ``isInterrupting`` of event sub-process starts)
  are not kept.
- Associations that join two flow nodes (compensation) are kept in
  ``flow.meta["associations"]`` as ``(id, source, target)`` triples.
- A DiGraph holds one edge per ordered pair: a second flow between the same
  two nodes is kept in the edge's ``duplicates`` (see
  :class:`~harpflow.model.Flow`); its own name, condition and waypoints
  are not kept. A message flow that parallels a sequence
  flow between the same two nodes cannot be a second edge; it is kept as a
  :class:`~harpflow.model.PoolMessage` between the two nodes.

Examples
--------
>>> from harpflow.io.bpmn import read_bpmn
>>> flow = read_bpmn('''<definitions
...   xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
...  <process id="p" name="転入届">
...   <startEvent id="s"/>
...   <userTask id="t" name="受付"/>
...   <sequenceFlow id="f" sourceRef="s" targetRef="t"/>
...  </process>
... </definitions>''')
>>> flow.name, flow.nodes["t"].type, flow.nodes["t"].label
('転入届', 'userTask', '受付')
>>> flow.nodes["t"].source.line
5
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from lxml import etree

from harpflow.errors import HarpflowWarning, ParseError
from harpflow.io.source import DEFAULT_MAX_BYTES, Input, Source, open_input
from harpflow.io.xml import describe, local_name, parse_xml
from harpflow.model import (
    ACTIVITY_TYPES,
    EVENT_TYPES,
    GATEWAY_TYPES,
    Bounds,
    Flow,
    SourceRef,
)

__all__ = [
    "BPMNDI_NS",
    "BPMN_NS",
    "DC_NS",
    "DI_NS",
    "HF_NS",
    "read_bpmn",
    "write_bpmn",
]

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
#: Namespace of harpflow's own attributes and extension elements.
HF_NS = "https://harpflow.dev/schema/1"
STANDARD_NS = frozenset({BPMN_NS, BPMNDI_NS, DC_NS, DI_NS})

_M = "{" + BPMN_NS + "}"
_HF = "{" + HF_NS + "}"
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


def write_bpmn(flow: Flow, dest: Any = None, **options: Any) -> bytes | None:
    """Write a flow as BPMN 2.0 XML; see :func:`harpflow.io.bpmn_write.write_bpmn`."""
    from harpflow.io.bpmn_write import write_bpmn as _write

    return _write(flow, dest, **options)


@dataclass
class _NodeRec:
    el: etree._Element
    type: str
    process: str | None
    parent: str | None


@dataclass
class _State:
    """Everything gathered from the semantic model before the flow is built."""

    name: str
    #: Whether the document declares harpflow's namespace at all.
    has_hf: bool = False
    ids: dict[str, etree._Element] = field(default_factory=dict)
    alias: dict[str, str] = field(default_factory=dict)
    nodes: dict[str, _NodeRec] = field(default_factory=dict)
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
        return {"source": self.name, "line": _line(el), "element": describe(el)}

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
            model_id = el.get(_HF + "id")
            if model_id is not None:
                self.alias[xml_id] = model_id
        return xml_id

    def mid(self, xml_id: str) -> str:
        """The model id of an XML id (the original id kept in ``hf:id``)."""
        return self.alias.get(xml_id, xml_id)


def _ref(value: str | None, known: dict[str, Any]) -> str | None:
    """Resolve an id reference, which some tools write as a QName."""
    if value is None:
        return None
    value = value.strip()
    if value in known or ":" not in value:
        return value
    tail = value.rsplit(":", 1)[1]
    return tail if tail in known else value


def _text(el: etree._Element) -> str:
    return "".join(str(t) for t in el.itertext()).strip()


def _line(el: etree._Element) -> int | None:
    line = el.sourceline
    return line if isinstance(line, int) else None


# -- gathering ------------------------------------------------------------


def _walk(
    st: _State, container: etree._Element, process: str | None, parent: str | None
) -> None:
    """Gather the flow elements of a process or sub-process."""
    for child in container:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        handler = _HANDLERS.get(tag)
        if handler is not None:
            handler(st, child, process, parent)
            continue
        if tag.startswith(_M):
            name = tag[len(_M) :]
            if name in _QUIET:
                continue
        elif tag.startswith(_HF):
            continue
        name = local_name(tag)
        count, line = st.unknown.get(name, (0, _line(child)))
        st.unknown[name] = (count + 1, line)


def _flow_node(
    st: _State, el: etree._Element, process: str | None, parent: str | None
) -> None:
    xml_id = st.register(el)
    kind = el.tag[len(_M) :]
    st.nodes[xml_id] = _NodeRec(el, kind, process, parent)
    default = el.get("default")
    if default:
        st.defaults.add(default.strip())
    for assoc in el:
        if assoc.tag == _M + "dataInputAssociation":
            for src in assoc.iterchildren(_M + "sourceRef"):
                st.data_links.append(("in", (src.text or "").strip(), xml_id))
        elif assoc.tag == _M + "dataOutputAssociation":
            for dst in assoc.iterchildren(_M + "targetRef"):
                st.data_links.append(("out", (dst.text or "").strip(), xml_id))
    if kind in _CONTAINERS:
        _walk(st, el, process, xml_id)


def _sequence_flow(
    st: _State, el: etree._Element, process: str | None, parent: str | None
) -> None:
    st.register(el)
    st.seq.append((el, parent))


def _lane_set(
    st: _State, el: etree._Element, process: str | None, parent: str | None
) -> None:
    def lanes(lane_set: etree._Element, outer: str | None) -> None:
        for lane in lane_set.iterchildren(_M + "lane"):
            lane_id = st.register(lane)
            st.lanes.append((lane, process, outer))
            for ref in lane.iterchildren(_M + "flowNodeRef"):
                # Inner lanes are visited later and so win: innermost lane.
                st.lane_of[(ref.text or "").strip()] = lane_id
            for inner in lane.iterchildren(_M + "childLaneSet"):
                lanes(inner, lane_id)

    lanes(el, None)


def _data_reference(
    st: _State, el: etree._Element, process: str | None, parent: str | None
) -> None:
    st.register(el)
    st.data.append((el, process, parent))


def _annotation(
    st: _State, el: etree._Element, process: str | None, parent: str | None
) -> None:
    st.register(el)
    st.annotations.append(el)


def _association(
    st: _State, el: etree._Element, process: str | None, parent: str | None
) -> None:
    st.register(el)
    st.associations.append(el)


def _ignored(
    st: _State, el: etree._Element, process: str | None, parent: str | None
) -> None:
    name = local_name(el.tag)
    count, line = st.unknown.get(name, (0, _line(el)))
    st.unknown[name] = (count + 1, line)


_Handler = Callable[[_State, etree._Element, str | None, str | None], None]
#: Dispatch table: namespaced tag -> handler.
_HANDLERS: dict[str, _Handler] = {
    **{_M + kind: _flow_node for kind in _NODE_TYPES},
    _M + "sequenceFlow": _sequence_flow,
    _M + "laneSet": _lane_set,
    _M + "dataObjectReference": _data_reference,
    _M + "dataStoreReference": _data_reference,
    _M + "textAnnotation": _annotation,
    _M + "association": _association,
    _M + "group": _ignored,
}


# -- building -------------------------------------------------------------


_DOC, _STD_LOOP, _MULTI_LOOP = (
    _M + "documentation",
    _M + "standardLoopCharacteristics",
    _M + "multiInstanceLoopCharacteristics",
)
_DEF_TAGS = {_M + name: trigger for name, trigger in TRIGGERS.items()}


def _scan(st: _State, el: etree._Element, attrs: dict[str, Any]) -> None:
    """One pass over a node's children: documentation, trigger, loop."""
    docs: list[str] = []
    found: list[str] = []
    for child in el:
        tag = child.tag
        if tag == _DOC:
            text = _text(child)
            if text:
                docs.append(text)
        elif tag in _DEF_TAGS:
            found.append(_DEF_TAGS[tag])
            if found[-1] == "link" and child.get("name"):
                attrs["link"] = child.get("name")
        elif tag == _M + "eventDefinitionRef":
            ref = _ref(child.text, st.event_defs)
            if ref in st.event_defs:
                found.append(st.event_defs[ref])
        elif tag == _STD_LOOP:
            attrs["loop"] = "standard"
        elif tag == _MULTI_LOOP:
            sequential = child.get("isSequential") == "true"
            attrs["loop"] = "sequential" if sequential else "parallel"
    if docs:
        attrs["documentation"] = "\n".join(docs)
    if len(found) > 1:
        multi = el.get("parallelMultiple") == "true"
        attrs["trigger"] = "parallelMultiple" if multi else "multiple"
    elif found and found[0]:
        attrs["trigger"] = found[0]


def _hf_attrs(el: etree._Element) -> dict[str, Any]:
    """Attributes harpflow wrote in its own namespace."""
    out: dict[str, Any] = {}
    for key, value in el.attrib.items():
        key = str(key)
        if key.startswith(_HF) and key not in (_HF + "id", _HF + "seq"):
            out[key[len(_HF) :]] = str(value)
    for ext in el.iterchildren(_M + "extensionElements"):
        for attr in ext.iterchildren(_HF + "attr"):
            name = attr.get("name")
            if not name:
                continue
            items = list(attr.iterchildren(_HF + "item"))
            out[name] = tuple(i.text or "" for i in items) if items else attr.text or ""
    return out


def _node_attrs(st: _State, rec: _NodeRec) -> dict[str, Any]:
    el = rec.el
    attrs: dict[str, Any] = {
        "type": rec.type,
        "label": el.get("name") or "",
        "parent": st.mid(rec.parent) if rec.parent else None,
        "source": SourceRef(st.name, _line(el), f"{rec.type} id={el.get('id')!r}"),
    }
    _scan(st, el, attrs)
    if rec.type in EVENT_TYPES:
        if rec.type == "boundaryEvent":
            host = _ref(el.get("attachedToRef"), st.nodes)
            attrs["attached_to"] = st.mid(host) if host else None
            attrs["cancel_activity"] = el.get("cancelActivity") != "false"
    elif rec.type in ACTIVITY_TYPES:
        if el.get("triggeredByEvent") == "true":
            attrs["triggered_by_event"] = True
        if rec.type == "callActivity" and el.get("calledElement"):
            attrs["called_element"] = el.get("calledElement")
    elif rec.type in GATEWAY_TYPES and el.get("gatewayDirection"):
        attrs["direction"] = el.get("gatewayDirection")
    extra = _hf_attrs(el) if st.has_hf else {}
    for key in ("forms", "function_ids"):
        if key in extra and isinstance(extra[key], str):
            extra[key] = (extra[key],) if extra[key] else ()
    if extra.get("medium") == "":
        extra.pop("medium")
    attrs.update(extra)
    return attrs


def _di(root: etree._Element, st: _State) -> tuple[dict[str, Bounds], dict[str, Any]]:
    """Bounds and waypoints by element id, from the first diagram showing each."""
    bounds: dict[str, Bounds] = {}
    lines: dict[str, Any] = {}
    shape, edge = "{" + BPMNDI_NS + "}BPMNShape", "{" + BPMNDI_NS + "}BPMNEdge"
    dc_bounds, waypoint = "{" + DC_NS + "}Bounds", "{" + DI_NS + "}waypoint"
    ids = st.ids
    try:
        for diagram in root.iterchildren("{" + BPMNDI_NS + "}BPMNDiagram"):
            for el in diagram.iter(shape):
                ref = el.get("bpmnElement")
                if ref not in ids:
                    ref = _ref(ref, ids)
                if not ref or ref in bounds:
                    continue
                b = el.find(dc_bounds)
                if b is not None:
                    get = b.get
                    bounds[ref] = (
                        float(get("x", 0)),
                        float(get("y", 0)),
                        float(get("width", 0)),
                        float(get("height", 0)),
                    )
            for el in diagram.iter(edge):
                ref = el.get("bpmnElement")
                if ref not in ids:
                    ref = _ref(ref, ids)
                if ref and ref not in lines:
                    lines[ref] = tuple(
                        (float(p.get("x", 0)), float(p.get("y", 0)))
                        for p in el.iterchildren(waypoint)
                    )
    except ValueError:
        raise ParseError("coordinate is not a number", **st.place(el)) from None
    return bounds, lines


def _stem(inp: Input) -> str | None:
    return Path(inp.name).stem if inp.path is not None else None


def read_bpmn(
    inp: Input | Source, *, max_bytes: int = DEFAULT_MAX_BYTES, **options: Any
) -> Flow:
    """Read a BPMN 2.0 XML file into a :class:`~harpflow.model.Flow`.

    Parameters
    ----------
    inp : Input, path, file, bytes or str
        The BPMN document.
    max_bytes : int
        Largest accepted input in bytes.
    **options
        None are defined; unknown options are refused.

    Returns
    -------
    Flow
        Named after the collaboration, else the first named process, else
        the definitions, else the file's stem.

    Raises
    ------
    ParseError
        Malformed or hostile XML; a root that is not BPMN ``definitions``;
        a flow to a missing id; two flow elements with one id. The error
        names file, line and element.

    Warns
    -----
    HarpflowWarning
        For elements inside a process that harpflow does not represent, and
        for flows neither of whose ends is in the file.

    Examples
    --------
    >>> flow = read_bpmn('''<bpmn:definitions
    ...   xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">
    ...  <bpmn:collaboration id="c">
    ...   <bpmn:participant id="city" name="市役所" processRef="p"/>
    ...  </bpmn:collaboration>
    ...  <bpmn:process id="p">
    ...   <bpmn:laneSet id="ls"><bpmn:lane id="w" name="窓口">
    ...    <bpmn:flowNodeRef>t</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    ...   <bpmn:task id="t" name="受付"/>
    ...  </bpmn:process>
    ... </bpmn:definitions>''')
    >>> node = flow.nodes["t"]
    >>> node.lane, node.pool, flow.name
    ('窓口', '市役所', None)
    >>> read_bpmn("<definitions/>")
    Traceback (most recent call last):
    ...
    harpflow.errors.ParseError: <string>:1: definitions: not a BPMN 2.0 file: ...
    """
    if options:
        raise TypeError(f"read_bpmn: unknown options {sorted(options)}")
    if not isinstance(inp, Input):
        inp = open_input(inp, max_bytes=max_bytes)
    root = parse_xml(inp, max_bytes=max_bytes).getroot()
    if root.tag != _M + "definitions":
        raise ParseError(
            "not a BPMN 2.0 file: the root element is not definitions in the "
            f"namespace {BPMN_NS}",
            source=inp.name,
            line=_line(root),
            element=describe(root) if isinstance(root.tag, str) else None,
        )
    st = _State(inp.name, has_hf=HF_NS.encode() in inp.data)
    processes: list[etree._Element] = []
    collaborations: list[etree._Element] = []
    for child in root:
        tag = child.tag
        if tag == _M + "process":
            processes.append(child)
        elif tag == _M + "collaboration":
            collaborations.append(child)
        elif tag in (_M + "dataObject", _M + "dataStore"):
            st.named[child.get("id", "")] = child.get("name") or ""
        elif isinstance(tag, str) and tag.startswith(_M) and tag.endswith("Definition"):
            st.event_defs[child.get("id", "")] = TRIGGERS.get(tag[len(_M) :], "")
    for proc in processes:
        for obj in proc.iter(_M + "dataObject"):
            st.named[obj.get("id", "")] = obj.get("name") or ""
        _walk(st, proc, proc.get("id"), None)
    participants: list[etree._Element] = []
    for collab in collaborations:
        for child in collab:
            tag = child.tag
            if tag == _M + "participant":
                st.register(child)
                participants.append(child)
            elif tag == _M + "messageFlow":
                st.register(child)
                st.msgs.append(child)
            elif tag == _M + "textAnnotation":
                _annotation(st, child, None, None)
            elif tag == _M + "association":
                _association(st, child, None, None)
    flow = _build(st, inp, root, processes, collaborations, participants)
    for name, (count, line) in sorted(st.unknown.items()):
        times = f"{count} elements" if count > 1 else "element"
        warnings.warn(
            f"{inp.name}:{line}: {name}: {times} not represented, ignored",
            HarpflowWarning,
            stacklevel=2,
        )
    return flow


def _flow_name(
    st: _State, inp: Input, root: etree._Element, procs: list[Any], collabs: list[Any]
) -> str | None:
    for el in [*collabs, *procs, root]:
        if el.get("name"):
            return str(el.get("name"))
    return _stem(inp)


_T = TypeVar("_T")


def _in_flow_order(
    items: Iterable[_T], element: Callable[[_T], etree._Element]
) -> list[_T]:
    """Items in document order, or by ``hf:seq`` when every one carries it."""
    listed = list(items)
    seqs = [element(item).get(_HF + "seq") for item in listed]
    if listed and all(s is not None and s.isdigit() for s in seqs):
        order = sorted(range(len(listed)), key=lambda i: int(seqs[i] or 0))
        return [listed[i] for i in order]
    return listed


def _build(
    st: _State,
    inp: Input,
    root: etree._Element,
    processes: list[etree._Element],
    collaborations: list[etree._Element],
    participants: list[etree._Element],
) -> Flow:
    flow = Flow(
        _flow_name(st, inp, root, processes, collaborations),
        source=str(inp.path) if inp.path is not None else inp.name,
        area=root.get(_HF + "area"),
        procedure=root.get(_HF + "procedure"),
        town=root.get(_HF + "town"),
    )
    meta = root.get(_HF + "meta")
    if meta:
        try:
            flow.meta.update(json.loads(meta))
        except ValueError:
            raise ParseError(
                "hf:meta is not JSON",
                source=st.name,
                line=_line(root),
                element="definitions",
            ) from None
    bounds, lines = _di(root, st)
    mid = st.mid if st.alias else str

    # Pools first: a process's pool is the first participant showing it.
    pool_of: dict[str, str] = {}
    for part in participants:
        pid = part.get("id", "")
        proc = _ref(part.get("processRef"), {p.get("id", ""): p for p in processes})
        flow.add_pool(
            mid(pid), part.get("name") or "", process=proc, bounds=bounds.get(pid)
        )
        if proc:
            pool_of.setdefault(proc, mid(pid))

    for lane, process, outer in _in_flow_order(st.lanes, lambda item: item[0]):
        lid = lane.get("id", "")
        flow.add_lane(
            mid(lid),
            lane.get("name") or "",
            pool=pool_of.get(process or ""),
            parent=mid(outer) if outer else None,
            bounds=bounds.get(lid),
        )

    for xml_id, rec in _in_flow_order(st.nodes.items(), lambda item: item[1].el):
        attrs = _node_attrs(st, rec)
        lane_ref = st.lane_of.get(xml_id)
        pool = pool_of.get(rec.process or "")
        b = bounds.get(xml_id)
        if b is not None:
            attrs["bounds"] = b
        flow.add_node(
            mid(xml_id),
            lane_id=mid(lane_ref) if lane_ref else None,
            pool_id=pool,
            **attrs,
        )

    def ends(el: etree._Element, allowed: dict[str, Any]) -> tuple[str, str] | None:
        u, v = el.get("sourceRef"), el.get("targetRef")
        if u in allowed and v in allowed:
            return u or "", v or ""
        refs = [_ref(el.get(a), allowed) for a in ("sourceRef", "targetRef")]
        if not any(r in st.ids for r in refs):
            # Both ends name nothing in the file: the flow joined elements
            # that the exporting tool left out, and nothing here loses it.
            warnings.warn(
                f"{st.name}:{el.sourceline}: {describe(el)}: neither end is an "
                "element of the file; flow ignored",
                HarpflowWarning,
                stacklevel=4,
            )
            return None
        for attr, ref in zip(("sourceRef", "targetRef"), refs, strict=True):
            if not ref or ref not in allowed:
                what = f"{attr} {el.get(attr)!r}" if el.get(attr) else f"no {attr}"
                raise ParseError(f"flow to a missing id: {what}", **st.place(el))
        return refs[0] or "", refs[1] or ""

    for el, _parent in st.seq:
        xml_id = el.get("id", "")
        pair = ends(el, st.nodes)
        if pair is None:
            continue
        u, v = pair
        cond = el.find(_M + "conditionExpression")
        extra: dict[str, Any] = {}
        if xml_id in lines:
            extra["waypoints"] = lines[xml_id]
        flow.add_edge(
            mid(u),
            mid(v),
            id=mid(xml_id),
            label=el.get("name") or "",
            condition=_text(cond) if cond is not None else None,
            default=xml_id in st.defaults,
            **extra,
        )

    msg_ends: dict[str, Any] = {
        **st.nodes,
        **{p.get("id", ""): p for p in participants},
    }
    for el in st.msgs:
        xml_id = el.get("id", "")
        pair = ends(el, msg_ends)
        if pair is None:
            continue
        u, v = pair
        parallel = flow.graph.has_edge(mid(u), mid(v)) and (
            flow.graph.edges[mid(u), mid(v)].get("kind") != "message"
        )
        if u in st.nodes and v in st.nodes and not parallel:
            extra = {"waypoints": lines[xml_id]} if xml_id in lines else {}
            flow.add_edge(
                mid(u),
                mid(v),
                id=mid(xml_id),
                kind="message",
                label=el.get("name") or "",
                **extra,
            )
        else:
            flow.add_pool_message(
                mid(xml_id),
                mid(u),
                mid(v),
                label=el.get("name") or "",
                waypoints=lines.get(xml_id, ()),
            )

    _build_data(st, flow, bounds)
    return flow


def _build_data(st: _State, flow: Flow, bounds: dict[str, Bounds]) -> None:
    mid = st.mid if st.alias else str
    # Which data object reference a data object or data store id stands for.
    refs: dict[str, str] = {}
    for el, _process, _parent in st.data:
        xml_id = el.get("id", "")
        refs[xml_id] = xml_id
        for attr in ("dataObjectRef", "dataStoreRef"):
            target = el.get(attr)
            if target:
                refs.setdefault(target.strip(), xml_id)
    inputs: dict[str, list[str]] = {}
    outputs: dict[str, list[str]] = {}
    for direction, ref, node in st.data_links:
        obj = refs.get(ref)
        if obj is not None:
            table = inputs if direction == "in" else outputs
            table.setdefault(obj, []).append(mid(node))
    annotations = {el.get("id", ""): el for el in st.annotations}
    targets: dict[str, list[str]] = {}
    loose: list[tuple[str, str, str]] = []
    for el in st.associations:
        src = _ref(el.get("sourceRef"), st.ids) or ""
        dst = _ref(el.get("targetRef"), st.ids) or ""
        if dst in annotations:
            targets.setdefault(dst, []).append(mid(src))
        elif src in annotations:
            targets.setdefault(src, []).append(mid(dst))
        elif refs.get(src) and dst in st.nodes:
            inputs.setdefault(refs[src], []).append(mid(dst))
        elif refs.get(dst) and src in st.nodes:
            outputs.setdefault(refs[dst], []).append(mid(src))
        else:
            loose.append((mid(el.get("id", "")), mid(src), mid(dst)))
    if loose:
        flow.meta["associations"] = loose
    for el, _process, parent in _in_flow_order(st.data, lambda item: item[0]):
        xml_id = el.get("id", "")
        kind = el.tag[len(_M) :]
        label = el.get("name")
        if label is None:
            ref = el.get("dataObjectRef") or el.get("dataStoreRef") or ""
            label = st.named.get(ref.strip(), "")
        lane = st.lane_of.get(xml_id)
        flow.add_data_object(
            mid(xml_id),
            label,
            kind=kind,
            inputs=dict.fromkeys(inputs.get(xml_id, ())),
            outputs=dict.fromkeys(outputs.get(xml_id, ())),
            parent=mid(parent) if parent else None,
            lane=mid(lane) if lane else None,
            bounds=bounds.get(xml_id),
        )
    for el in _in_flow_order(annotations.values(), lambda item: item):
        xml_id = el.get("id", "")
        text_el = el.find(_M + "text")
        flow.add_annotation(
            mid(xml_id),
            _text(text_el) if text_el is not None else "",
            targets=dict.fromkeys(targets.get(xml_id, ())),
            bounds=bounds.get(xml_id),
        )
