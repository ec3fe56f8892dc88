"""Event-driven process chains in EPML, read onto the flow model.

EPML (the EPC Markup Language [1]_, versions 1.2 and 2.0) is the exchange
format of EPC tools: ARIS-style editors, the EPC Tools of Paderborn, ProM and
the SAP reference model collections. A file holds ``directory`` elements that
nest, ``epc`` elements inside them, and in each EPC the control flow
(``event``, ``function``, ``processInterface``, the connectors ``and``,
``or``, ``xor``, and ``arc``/``flow``) plus the resources and data that
``relation`` arcs attach to functions (``role``, ``participant``,
``organizationalUnit``, ``object``, ``application``, ``system``).

Mapping
-------
============================  ==============================================
EPC element                   flow element
============================  ==============================================
function                      ``task``; ``callActivity`` when it refines into
                              another EPC (``toProcess linkToEpcId``)
processInterface              ``callActivity`` (``calls`` = the linked EPC)
xor / and / or connector      ``exclusiveGateway`` / ``parallelGateway`` /
                              ``inclusiveGateway``
event, no incoming arc        ``startEvent``
event, no outgoing arc        ``endEvent``
other event                   dropped (see below), or with
                              ``keep_events=True`` an
                              ``intermediateCatchEvent``
role, participant,            the lane of the functions related to it
organizationalUnit, object
of an organisational type
object                        a data object; related functions read it
                              (object -> function) or write it
application, system, object  ``medium="system"`` and ``systems`` on the
of an application type        function
============================  ==============================================

The event rule, exactly: an event with one incoming and one outgoing arc is
dropped, and its two arcs become one sequence flow. When the event's
predecessor is an XOR or OR connector with more than one outgoing arc (a
split), the event states the branch's condition, so its name becomes the
label of the branch: of the flow from the connector onwards when the event is
dropped, of the flow from the connector to the event when it is kept. An
event with several incoming or outgoing arcs (not a well-formed EPC) is kept
as an ``intermediateCatchEvent`` with a warning.

ARIS-style files write resources as ``object`` elements with a ``type``:
one that starts with *organizational unit*, *role*, *position* or *person*
is read as a role, one that starts with *application* or *IT system* as a
system; other objects are data.

A function related to several roles takes the lane of the first one in the
file and lists all of them in its ``roles`` attribute. Connectors and events
take the lane that all their neighbouring functions share, if they share one.

Notes
-----
- One EPC is read per call; a file with several needs ``epc=`` (its
  ``epcId``, its name, or its index in document order).
- Configurable EPC extensions (``configurableConnector``, ``range``,
  configuration requirements) and ``dataField`` are ignored with a warning.
- Arcs of type ``relation`` that join two control-flow elements, and
  ``flow`` arcs that touch a resource, are refused with a ``ParseError``.
- EPC connectors are not checked for matching splits and joins; the OR-join's
  non-local semantics [2]_ is read as an inclusive gateway, which BPMN gives
  the same meaning.

References
----------
.. [1] J. Mendling, M. Nüttgens, "EPC Markup Language (EPML): an XML-based
   interchange format for event-driven process chains (EPC)", Information
   Systems and e-Business Management 4(3), 2006.
.. [2] E. Kindler, "On the semantics of EPCs: resolving the vicious circle",
   Data & Knowledge Engineering 56(1), 2006.

Examples
--------
>>> from harpflow.io import read
>>> epml = '''<epml:epml xmlns:epml="http://www.epml.de"><epc epcId="1" name="受付">
...  <event id="1"><name>申請あり</name></event>
...  <function id="2"><name>受付</name></function>
...  <event id="3"><name>受付済</name></event>
...  <arc id="4"><flow source="1" target="2"/></arc>
...  <arc id="5"><flow source="2" target="3"/></arc>
... </epc></epml:epml>'''
>>> flow = read(epml, format="epml")
>>> [(n.id, n.type, n.label) for n in flow.nodes.values()]
[('1', 'startEvent', '申請あり'), ('2', 'task', '受付'), ('3', 'endEvent', '受付済')]
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from harpflow.errors import HarpflowWarning, ParseError
from harpflow.io.source import DEFAULT_MAX_BYTES, Input
from harpflow.io.splice import Builder
from harpflow.io.xml import describe, local_name, parse_xml
from harpflow.model import Flow, SourceRef

__all__ = ["read_epml"]

_CONNECTORS = {
    "xor": "exclusiveGateway",
    "and": "parallelGateway",
    "or": "inclusiveGateway",
}
_CONTROL = {"event", "function", "processInterface", *_CONNECTORS}
_LANES = {"role", "participant", "organizationalUnit", "orgUnit"}
_DATA = {"object"}
_SYSTEMS = {"application", "system"}
_IGNORED = {
    "dataField",
    "range",
    "configurationRequirement",
    "configurationGuideline",
    "configurationOrder",
    "configurableConnector",
}
_SKIPPED = {"name", "description", "graphics", "attribute", "documentation"}


def _line(element: etree._Element) -> int | None:
    line: Any = element.sourceline
    return line if isinstance(line, int) else None


def _name(element: etree._Element) -> str:
    for child in element:
        if local_name(child.tag) == "name":
            text = "".join(str(t) for t in child.itertext())
            return "\n".join(ln.strip() for ln in text.strip().splitlines())
    return element.get("name", "").strip()


def _bounds(element: etree._Element) -> tuple[float, float, float, float] | None:
    for child in element.iter():
        if local_name(child.tag) == "position":
            try:
                return tuple(  # type: ignore[return-value]
                    float(child.get(k, 0)) for k in ("x", "y", "width", "height")
                )
            except ValueError:
                return None
    return None


def _link_target(element: etree._Element) -> str | None:
    for child in element:
        if local_name(child.tag) == "toProcess":
            return child.get("linkToEpcId")
    return None


@dataclass
class _Item:
    id: str
    tag: str
    element: etree._Element
    label: str
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)


class _Epc:
    """The elements and arcs of one EPC."""

    def __init__(self, epc: etree._Element, name: str) -> None:
        self.name = name
        self.items: dict[str, _Item] = {}
        self.arcs: list[tuple[str, str, etree._Element]] = []
        self.relations: list[tuple[str, str, etree._Element]] = []
        ignored: dict[str, int] = {}
        for child in epc:
            tag = local_name(child.tag)
            if tag in _CONTROL or tag in _LANES or tag in _DATA or tag in _SYSTEMS:
                self._add(child, tag)
            elif tag == "arc":
                self._arc(child)
            elif tag == "relation":
                self.relations.append(self._ends(child, child))
            elif tag in _IGNORED or tag not in _SKIPPED:
                ignored[tag] = ignored.get(tag, 0) + 1
        for tag, count in sorted(ignored.items()):
            warnings.warn(
                f"{name}: ignored {count} <{tag}> element(s) of EPC "
                f"{epc.get('name') or epc.get('epcId')!r}",
                HarpflowWarning,
                stacklevel=4,
            )

    def error(self, message: str, element: etree._Element) -> ParseError:
        return ParseError(
            message, source=self.name, line=_line(element), element=describe(element)
        )

    def _add(self, element: etree._Element, tag: str) -> None:
        item_id = element.get("id")
        if not item_id:
            raise self.error("element without an id", element)
        if item_id in self.items:
            raise self.error(f"two elements with id {item_id!r}", element)
        if tag == "object":
            kind = re.sub(r"[\s_-]", "", element.get("type", "")).lower()
            if kind.startswith(("organi", "role", "position", "person")):
                tag = "role"
            elif kind.startswith(("application", "system", "itsystem")):
                tag = "application"
        self.items[item_id] = _Item(item_id, tag, element, _name(element))

    @staticmethod
    def _ends(
        holder: etree._Element, arc: etree._Element
    ) -> tuple[str, str, etree._Element]:
        return holder.get("source", ""), holder.get("target", ""), arc

    def _check(self, arcs: list[tuple[str, str, etree._Element]]) -> None:
        for source, target, arc in arcs:
            for end in (source, target):
                if end not in self.items:
                    raise self.error(f"arc to an unknown element {end!r}", arc)

    def _arc(self, arc: etree._Element) -> None:
        for child in arc:
            kind = local_name(child.tag)
            if kind == "flow":
                self.arcs.append(self._ends(child, arc))
            elif kind == "relation":
                self.relations.append(self._ends(child, arc))

    def connect(self) -> None:
        # Ends are checked after every element is known: arcs may come first.
        self._check(self.arcs)
        self._check(self.relations)
        for source, target, arc in self.arcs:
            for end in (source, target):
                if self.items[end].tag not in _CONTROL:
                    raise self.error(
                        f"control flow touches the {self.items[end].tag} {end!r}", arc
                    )
            self.items[source].outputs.append(target)
            self.items[target].inputs.append(source)
        for source, target, arc in self.relations:
            a, b = self.items[source], self.items[target]
            if (a.tag in _CONTROL) == (b.tag in _CONTROL):
                raise self.error(
                    f"relation between {a.tag} {a.id!r} and {b.tag} {b.id!r}", arc
                )
            a.related.append(target)
            b.related.append(source)


def _select(root: etree._Element, name: str, which: Any) -> etree._Element:
    epcs = [e for e in root.iter() if local_name(e.tag) == "epc"]
    if not epcs:
        raise ParseError("no <epc> element", source=name, element=describe(root))
    if which is None:
        if len(epcs) > 1:
            names = ", ".join(repr(e.get("name") or e.get("epcId")) for e in epcs)
            raise ParseError(
                f"{len(epcs)} EPCs ({names}); choose one with epc=",
                source=name,
                line=_line(epcs[1]),
            )
        return epcs[0]
    if isinstance(which, int):
        if not 0 <= which < len(epcs):
            raise ParseError(f"no EPC number {which}", source=name)
        return epcs[which]
    for epc in epcs:
        if which in (epc.get("epcId"), epc.get("name")):
            return epc
    raise ParseError(f"no EPC with id or name {which!r}", source=name)


def read_epml(
    inp: Input,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    epc: str | int | None = None,
    keep_events: bool = False,
) -> Flow:
    """Read one event-driven process chain from EPML.

    Parameters
    ----------
    inp : Input
        The file (see :func:`harpflow.io.source.open_input`).
    max_bytes : int
        Largest accepted input.
    epc : str or int, optional
        ``epcId``, name or index of the EPC when the file holds several.
    keep_events : bool
        Keep events between functions as intermediate events instead of
        dropping them.

    Returns
    -------
    Flow

    Raises
    ------
    ParseError
        Malformed XML, an arc to an unknown element, control flow to a
        resource, several EPCs without ``epc=``.

    Examples
    --------
    >>> from harpflow.io.source import open_input
    >>> data = '''<epml><epc epcId="9" name="審査">
    ... <function id="f"><name>審査</name></function><xor id="x"/>
    ... <event id="ok"><name>適正</name></event>
    ... <event id="ng"><name>不備あり</name></event>
    ... <function id="g"><name>決定</name></function>
    ... <function id="h"><name>補正依頼</name></function>
    ... <arc id="1"><flow source="f" target="x"/></arc>
    ... <arc id="2"><flow source="x" target="ok"/></arc>
    ... <arc id="3"><flow source="x" target="ng"/></arc>
    ... <arc id="4"><flow source="ok" target="g"/></arc>
    ... <arc id="5"><flow source="ng" target="h"/></arc></epc></epml>'''
    >>> flow = read_epml(open_input(data))
    >>> sorted((e.source, e.target, e.label) for e in flow.edges)
    [('f', 'x', ''), ('x', 'g', '適正'), ('x', 'h', '不備あり')]
    """
    tree = parse_xml(inp, max_bytes=max_bytes)
    root = tree.getroot()
    if local_name(root.tag) != "epml":
        raise ParseError(
            f"root element is <{local_name(root.tag)}>, not <epml>",
            source=inp.name,
            line=_line(root),
        )
    element = _select(root, inp.name, epc)
    chain = _Epc(element, inp.name)
    chain.connect()
    flow = Flow(element.get("name") or element.get("epcId"), source=inp.name)
    flow.meta["format"] = "epml"
    if element.get("epcId"):
        flow.meta["epc_id"] = element.get("epcId")
    _build(chain, flow, keep_events)
    return flow


def _lanes(chain: _Epc) -> dict[str, list[str]]:
    return {
        item.id: [
            chain.items[r].label for r in item.related if chain.items[r].tag in _LANES
        ]
        for item in chain.items.values()
        if item.tag == "function"
    }


def _shared_lane(chain: _Epc, item: _Item, lanes: dict[str, list[str]]) -> str | None:
    around = {
        lanes[n][0]
        for n in (*item.inputs, *item.outputs)
        if chain.items[n].tag == "function" and lanes.get(n)
    }
    return next(iter(around)) if len(around) == 1 else None


def _node_attrs(
    chain: _Epc, item: _Item, lanes: dict[str, list[str]]
) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "label": item.label,
        "bounds": _bounds(item.element),
        "source": SourceRef(chain.name, _line(item.element), describe(item.element)),
    }
    if item.tag in _CONNECTORS:
        attrs["type"] = _CONNECTORS[item.tag]
    elif item.tag in ("function", "processInterface"):
        calls = _link_target(item.element)
        task = "callActivity" if calls or item.tag == "processInterface" else "task"
        attrs.update(type=task, calls=calls)
        roles = lanes.get(item.id, [])
        if roles:
            attrs.update(lane=roles[0], roles=tuple(roles))
        systems = [
            chain.items[r].label for r in item.related if chain.items[r].tag in _SYSTEMS
        ]
        if systems:
            attrs.update(medium="system", systems=tuple(systems))
    if "lane" not in attrs:
        attrs["lane"] = _shared_lane(chain, item, lanes)
    return attrs


def _is_split(item: _Item) -> bool:
    return item.tag in ("xor", "or") and len(item.outputs) > 1


def _build(chain: _Epc, flow: Flow, keep_events: bool) -> None:
    builder = Builder(flow, chain.items)
    lanes = _lanes(chain)
    control = [i for i in chain.items.values() if i.tag in _CONTROL]
    for item in control:
        attrs = _node_attrs(chain, item, lanes)
        if item.tag == "event":
            n_in, n_out = len(item.inputs), len(item.outputs)
            if n_in == 0:
                attrs["type"] = "startEvent"
            elif n_out == 0:
                attrs["type"] = "endEvent"
            elif n_in == 1 and n_out == 1 and not keep_events:
                builder.ports(item.id, None)
                continue
            else:
                if n_in > 1 or n_out > 1:
                    warnings.warn(
                        f"{chain.name}:{_line(item.element)}: event {item.id!r} has "
                        f"{n_in} incoming and {n_out} outgoing arcs; kept as an "
                        "intermediate event",
                        HarpflowWarning,
                        stacklevel=3,
                    )
                attrs["type"] = "intermediateCatchEvent"
        builder.ports(item.id, builder.add(item.id, "", attrs))

    for source, target, arc in chain.arcs:
        head, tail = chain.items[source], chain.items[target]
        label = tail.label if tail.tag == "event" and _is_split(head) else ""
        builder.link(source, target, label, arc.get("id"))
    builder.finish()
    _data_objects(chain, flow)


def _data_objects(chain: _Epc, flow: Flow) -> None:
    for item in chain.items.values():
        if item.tag not in _DATA:
            continue
        reads: list[str] = []
        writes: list[str] = []
        for source, target, _arc in chain.relations:
            if item.id not in (source, target):
                continue
            other = target if source == item.id else source
            if chain.items[other].tag not in ("function", "processInterface"):
                continue
            kind = (item.element.get("type") or "").lower()
            if kind == "output" or (kind != "input" and source == other):
                writes.append(other)
            else:
                reads.append(other)
        flow.add_data_object(item.id, item.label, inputs=reads, outputs=writes)
