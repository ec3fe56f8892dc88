"""Petri nets in PNML, read onto the flow model.

PNML (ISO/IEC 15909-2) is how ProM, WoPeD and pm4py exchange place/transition
nets. The reader accepts the 2009 grammar namespace
(``http://www.pnml.org/version-2009/grammar/pnml``) and the namespace-free
files that ProM and pm4py write, with nodes on nested ``page`` elements.

Mapping
-------
The net is a bipartite graph; each element becomes zero, one or two flow
nodes according to its arcs (after Aalst's correspondence between workflow
nets and workflow graphs [1]_ and Dijkman et al.'s BPMN-to-net mapping read
backwards [2]_):

========================================  ====================================
net element                               flow nodes
========================================  ====================================
labelled transition                       ``task`` (label from ``name/text``)
  ... with several input places           ``parallelGateway`` (join) before it
  ... with several output places          ``parallelGateway`` (split) after it
silent transition, several in or out      ``parallelGateway`` (join and/or split)
silent transition, one in and one out     dropped; its arcs become one flow
place with several outgoing arcs          ``exclusiveGateway`` (choice)
place with several incoming arcs          ``exclusiveGateway`` (merge)
place with one in and one out             dropped; its arcs become one flow
start place                               ``startEvent``
end place                                 ``endEvent``
========================================  ====================================

A transition is *silent* when its ``toolspecific`` element says
``activity="$invisible$"`` (ProM, pm4py), when it has no label, or when the
label is a silent name: ``tau``/``τ`` with an optional suffix (``tau_3``,
``tauSplit_1``) or ``skip``/``silent``/``invisible``/``init_loop``/
``loop`` followed by a number (pm4py's generated names).

Start places are those of the initial marking; a net without one takes its
places with no incoming arc. End places are those of the final marking
(``finalmarkings``, as ProM and pm4py write it); without one, the places with
no outgoing arc. A start place that also has incoming arcs gets its own
``startEvent`` (id ``<place>_start``) feeding the place's merge; an end place
with outgoing arcs feeds an ``endEvent`` (``<place>_end``) from its choice.

Node ids are the net's ids. Where one element becomes two nodes, the
second gets a suffix: ``<transition>_join``/``<transition>_split`` for the
gateways around a task, ``<place>_split`` after a merge.

WoPeD
    An operator (XOR-split, AND-join, ...) is written by WoPeD as several
    transitions that share ``<operator id=... type=...>``; they are folded
    back into one element, and its split and join become exclusive or
    parallel gateways as the operator type says (WoPeD's type codes 101-109).
    ``transitionResource`` gives the lane (``roleName``) and the pool
    (``organizationalUnitName``). A transition marked ``<subprocess>true``
    is read as a ``subProcess``; the net it refines is not read.

Notes
-----
Limits, stated plainly:

- Arc weights other than 1 are refused (``ParseError``): a flow cannot say
  "two tokens". Reset and inhibitor arcs (``arctype``/``type``) are refused
  too; they change the behaviour in ways a flow cannot show.
- Non-free-choice constructs (a place whose choice is decided together with
  another place, because a target transition has several inputs) are read as
  an exclusive choice followed by a parallel join, with a
  :class:`~harpflow.errors.HarpflowWarning`; the flow then allows more than
  the net.
- Reference places and transitions (``referencePlace``) stand for the node
  they refer to.
- Only one net is read; a file with several needs ``net=`` (id or index).
- Coloured, timed and high-level nets are read as their P/T skeleton;
  ProM and pm4py nets carry no lanes.

References
----------
.. [1] W. M. P. van der Aalst, "The application of Petri nets to workflow
   management", Journal of Circuits, Systems and Computers 8(1), 1998.
.. [2] R. M. Dijkman, M. Dumas, C. Ouyang, "Semantics and analysis of
   business process models in BPMN", Information and Software Technology
   50(12), 2008.

Examples
--------
>>> from harpflow.io import read
>>> net = '''<pnml><net id="n" type="http://www.pnml.org/version-2009/grammar/ptnet">
... <page id="p0">
...  <place id="i"><initialMarking><text>1</text></initialMarking></place>
...  <transition id="a"><name><text>受付</text></name></transition>
...  <place id="o"/>
...  <arc id="1" source="i" target="a"/><arc id="2" source="a" target="o"/>
... </page></net></pnml>'''
>>> flow = read(net, format="pnml")
>>> [(n.id, n.type, n.label) for n in flow.nodes.values()]
[('i', 'startEvent', ''), ('a', 'task', '受付'), ('o', 'endEvent', '')]
"""

from __future__ import annotations

import itertools
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from harpflow.errors import HarpflowWarning, ParseError
from harpflow.io.source import DEFAULT_MAX_BYTES, Input
from harpflow.io.splice import Builder
from harpflow.io.xml import describe, local_name, parse_xml
from harpflow.model import Flow, SourceRef

__all__ = ["read_pnml"]

_SILENT_NAME = re.compile(
    r"^(?:(?:tau|τ)(?:[_\-]?\w*)?|(?:skip|silent|invisible|init_loop|loop)[_\-]?\d+)$",
    re.IGNORECASE,
)

#: WoPeD operator type codes: (join kind, split kind); None means single.
_WOPED_OPERATORS: dict[str, tuple[str | None, str | None]] = {
    "101": (None, "parallelGateway"),  # AND split
    "102": ("parallelGateway", None),  # AND join
    "104": (None, "exclusiveGateway"),  # XOR split
    "105": ("exclusiveGateway", None),  # XOR join
    "106": ("exclusiveGateway", "exclusiveGateway"),  # XOR join-split
    "107": ("parallelGateway", "parallelGateway"),  # AND join-split
    "108": ("parallelGateway", "exclusiveGateway"),  # AND join, XOR split
    "109": ("exclusiveGateway", "parallelGateway"),  # XOR join, AND split
}


@dataclass
class _Element:
    id: str
    kind: str  # "place" or "transition"
    element: etree._Element
    label: str = ""
    silent: bool = False
    subprocess: bool = False
    lane: str | None = None
    pool: str | None = None
    marking: int = 0
    join: str | None = None
    split: str | None = None
    bounds: tuple[float, float, float, float] | None = None
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)


def _line(element: etree._Element) -> int | None:
    line: Any = element.sourceline
    return line if isinstance(line, int) else None


def _child(element: etree._Element, name: str) -> etree._Element | None:
    for child in element:
        if local_name(child.tag) == name:
            return child
    return None


def _text(element: etree._Element, name: str) -> str:
    """``<name><text>...</text></name>`` -> its text, stripped."""
    holder = _child(element, name)
    if holder is None:
        return ""
    text = _child(holder, "text")
    return (text.text or "").strip() if text is not None else ""


def _toolspecific(element: etree._Element) -> Iterator[etree._Element]:
    for child in element:
        if local_name(child.tag) == "toolspecific":
            yield child


def _bounds(element: etree._Element) -> tuple[float, float, float, float] | None:
    graphics = _child(element, "graphics")
    if graphics is None:
        return None
    pos, dim = _child(graphics, "position"), _child(graphics, "dimension")
    try:
        x, y = float(pos.get("x", 0)), float(pos.get("y", 0))  # type: ignore[union-attr]
        w = float(dim.get("x", 0)) if dim is not None else 0.0
        h = float(dim.get("y", 0)) if dim is not None else 0.0
    except (AttributeError, ValueError):
        return None
    return (x, y, w, h)


class _Net:
    """The elements and arcs of one net, with WoPeD operators folded."""

    def __init__(self, net: etree._Element, name: str) -> None:
        self.name = name
        self.net = net
        self.elements: dict[str, _Element] = {}
        self.refs: dict[str, str] = {}
        self.alias: dict[str, str] = {}
        self.arcs: list[etree._Element] = []
        self._collect(net)

    def error(self, message: str, element: etree._Element) -> ParseError:
        return ParseError(
            message,
            source=self.name,
            line=_line(element),
            element=describe(element),
        )

    def _collect(self, parent: etree._Element) -> None:
        for child in parent:
            tag = local_name(child.tag)
            if tag == "page":
                self._collect(child)
            elif tag in ("place", "transition"):
                self._add(child, tag)
            elif tag in ("referencePlace", "referenceTransition"):
                self.refs[self._id(child)] = child.get("ref", "")
            elif tag == "arc":
                self.arcs.append(child)

    def _id(self, element: etree._Element) -> str:
        node_id = element.get("id")
        if not node_id:
            raise self.error("element without an id", element)
        return node_id

    def _add(self, element: etree._Element, kind: str) -> None:
        node_id = self._id(element)
        if node_id in self.elements or node_id in self.alias:
            raise self.error(f"two elements with id {node_id!r}", element)
        item = _Element(node_id, kind, element, label=_text(element, "name"))
        item.bounds = _bounds(element)
        if kind == "place":
            marking = _text(element, "initialMarking") or "0"
            try:
                item.marking = int(marking.split(",")[-1].strip() or 0)
            except ValueError:
                raise self.error(f"initial marking {marking!r}", element) from None
            self.elements[node_id] = item
            return
        item.silent = not item.label or bool(_SILENT_NAME.match(item.label))
        for tool in _toolspecific(element):
            if tool.get("activity") == "$invisible$":
                item.silent = True
            for flag in tool:
                if local_name(flag.tag) == "subprocess":
                    item.subprocess = (flag.text or "").strip().lower() == "true"
            operator = next((c for c in tool if local_name(c.tag) == "operator"), None)
            resource = next(
                (c for c in tool if local_name(c.tag) == "transitionResource"), None
            )
            if resource is not None:
                role = resource.get("roleName") or None
                unit = resource.get("organizationalUnitName") or None
                item.lane, item.pool = (role, unit) if role else (unit, None)
            if operator is not None:
                kinds = _WOPED_OPERATORS.get(operator.get("type", ""))
                if kinds is None:
                    raise self.error(
                        f"unknown WoPeD operator type {operator.get('type')!r}",
                        operator,
                    )
                item.join, item.split = kinds
                op_id = operator.get("id") or node_id
                if op_id in self.elements:
                    self.alias[node_id] = op_id
                    return
                self.alias[node_id] = op_id
                item.id = op_id
                node_id = op_id
        self.elements[node_id] = item

    def resolve(self, ref: str, arc: etree._Element) -> _Element:
        seen = set()
        while ref in self.refs and ref not in seen:
            seen.add(ref)
            ref = self.refs[ref]
        ref = self.alias.get(ref, ref)
        try:
            return self.elements[ref]
        except KeyError:
            raise self.error(f"arc to an unknown node {ref!r}", arc) from None

    def connect(self) -> None:
        for arc in self.arcs:
            self._check_arc(arc)
            src = self.resolve(arc.get("source", ""), arc)
            tgt = self.resolve(arc.get("target", ""), arc)
            if src.kind == tgt.kind:
                raise self.error(
                    f"arc joins two {src.kind}s ({src.id!r} -> {tgt.id!r})", arc
                )
            if tgt.id not in src.outputs:
                src.outputs.append(tgt.id)
            if src.id not in tgt.inputs:
                tgt.inputs.append(src.id)

    def _check_arc(self, arc: etree._Element) -> None:
        weight = _text(arc, "inscription") or "1"
        try:
            ok = int(weight.split(",")[-1].strip()) == 1
        except ValueError:
            ok = False
        if not ok:
            raise self.error(
                f"arc weight {weight!r} cannot be read as a flow (only 1 is)", arc
            )
        kind = (arc.get("type") or _text(arc, "arctype") or "normal").lower()
        for tool in _toolspecific(arc):
            for child in tool:
                if local_name(child.tag) in ("arctype", "arcType"):
                    kind = (child.text or kind).strip().lower()
        if kind not in ("normal", "regular", "default", ""):
            raise self.error(f"{kind} arcs are not supported", arc)

    def final_places(self) -> set[str]:
        places: set[str] = set()
        for holder in self.net:
            if local_name(holder.tag) != "finalmarkings":
                continue
            for place in holder.iter():
                if local_name(place.tag) != "place":
                    continue
                count = _child(place, "text")
                tokens = (count.text or "") if count is not None else ""
                if tokens.strip() not in ("", "0"):
                    ref = place.get("idref", "")
                    places.add(self.alias.get(ref, ref))
        places.discard("")
        return places


def _select_net(root: etree._Element, name: str, which: Any) -> etree._Element:
    nets = [e for e in root.iter() if local_name(e.tag) == "net"]
    if not nets:
        raise ParseError("no <net> element", source=name, element=describe(root))
    if which is None:
        if len(nets) > 1:
            ids = ", ".join(repr(n.get("id")) for n in nets)
            raise ParseError(
                f"{len(nets)} nets ({ids}); choose one with net=",
                source=name,
                line=_line(nets[1]),
            )
        return nets[0]
    if isinstance(which, int):
        if not 0 <= which < len(nets):
            raise ParseError(f"no net number {which}", source=name)
        return nets[which]
    for net in nets:
        if net.get("id") == which:
            return net
    raise ParseError(f"no net with id {which!r}", source=name)


def read_pnml(
    inp: Input, *, max_bytes: int = DEFAULT_MAX_BYTES, net: str | int | None = None
) -> Flow:
    """Read a Petri net from PNML.

    Parameters
    ----------
    inp : Input
        The file (see :func:`harpflow.io.source.open_input`).
    max_bytes : int
        Largest accepted input.
    net : str or int, optional
        Id or index of the net to read when the file holds several.

    Returns
    -------
    Flow
        Tasks, gateways and events as the module docstring describes.

    Raises
    ------
    ParseError
        Malformed XML, an arc to an unknown node, an arc between two places,
        an arc weight other than 1, a reset or inhibitor arc.

    Examples
    --------
    >>> from harpflow.io.source import open_input
    >>> data = '''<pnml><net id="n"><place id="p"/><transition id="t">
    ... <name><text>審査</text></name></transition>
    ... <arc id="a" source="p" target="t"/></net></pnml>'''
    >>> read_pnml(open_input(data)).stats()["by_type"]
    {'startEvent': 1, 'task': 1}
    """
    tree = parse_xml(inp, max_bytes=max_bytes)
    root = tree.getroot()
    if local_name(root.tag) != "pnml":
        raise ParseError(
            f"root element is <{local_name(root.tag)}>, not <pnml>",
            source=inp.name,
            line=_line(root),
        )
    element = _select_net(root, inp.name, net)
    pn = _Net(element, inp.name)
    pn.connect()
    flow = Flow(_text(element, "name") or element.get("id"), source=inp.name)
    flow.meta["format"] = "pnml"
    _build(pn, flow)
    return flow


def _build(pn: _Net, flow: Flow) -> None:
    items = sorted(pn.elements.values(), key=lambda e: _line(e.element) or 0)
    builder = Builder(flow, [e.id for e in items])
    marked = {e.id for e in items if e.kind == "place" and e.marking > 0}
    places = [e for e in items if e.kind == "place"]
    starts = marked or {p.id for p in places if not p.inputs}
    ends = pn.final_places() or {p.id for p in places if not p.outputs}
    lanes = _place_lanes(pn)

    for item in items:
        src = SourceRef(pn.name, _line(item.element), describe(item.element))
        if item.kind == "transition":
            _transition(builder, item, src)
        else:
            lane = lanes.get(item.id, (None, None))
            _place(builder, item, item.id in starts, item.id in ends, lane, src)
            if len(item.outputs) > 1:
                _check_free_choice(pn, item)

    for item in items:
        for target in item.outputs:
            builder.link(item.id, target)
    builder.finish()


def _chain(builder: Builder, nodes: list[str]) -> None:
    for a, b in itertools.pairwise(nodes):
        builder.edge(a, b)


def _transition(builder: Builder, item: _Element, src: SourceRef) -> None:
    common = {"lane": item.lane, "pool": item.pool, "source": src}
    roles: list[tuple[str, dict[str, Any]]] = []
    if len(item.inputs) > 1:
        roles.append(("join", {"type": item.join or "parallelGateway"}))
    if not item.silent:
        kind = "subProcess" if item.subprocess else "task"
        roles.append(("", {"type": kind, "label": item.label, "bounds": item.bounds}))
    if len(item.outputs) > 1:
        roles.append(("split", {"type": item.split or "parallelGateway"}))
    if roles and all(role for role, _ in roles):
        roles[0] = ("", roles[0][1])  # a silent transition's first gateway
    nodes = [builder.add(item.id, role, {**attrs, **common}) for role, attrs in roles]
    _chain(builder, nodes)
    builder.ports(item.id, nodes[0] if nodes else None, nodes[-1] if nodes else None)


def _place(
    builder: Builder,
    item: _Element,
    start: bool,
    end: bool,
    lane: tuple[str | None, str | None],
    src: SourceRef,
) -> None:
    """A place's nodes: [start] -> [merge] -> [choice] -> [end].

    A start place with incoming arcs gets its start event in front of its
    merge; an end place with outgoing arcs gets its end event as one more
    branch of its choice.
    """
    common = {"lane": lane[0], "pool": lane[1], "source": src}
    fan_in = len(item.inputs) + (1 if start else 0)
    fan_out = len(item.outputs) + (1 if end else 0)
    merge = split = None
    if fan_in > 1:
        merge = builder.add(item.id, "", {"type": "exclusiveGateway", **common})
    if fan_out > 1:
        role = "split" if merge else ""
        split = builder.add(item.id, role, {"type": "exclusiveGateway", **common})
    if merge and split:
        builder.edge(merge, split)
    label = {"label": item.label, **common}
    if start:
        role = "start" if (merge or split) else ""
        event = builder.add(item.id, role, {"type": "startEvent", **label})
        if merge or split:
            builder.edge(event, merge or split)  # type: ignore[arg-type]
        else:
            merge = event
    if end:
        role = "end" if (merge or split) else ""
        event = builder.add(item.id, role, {"type": "endEvent", **label})
        if split or merge:
            builder.edge(split or merge, event)  # type: ignore[arg-type]
        else:
            split = event
    builder.ports(item.id, merge or split, split or merge)


def _place_lanes(pn: _Net) -> dict[str, tuple[str | None, str | None]]:
    """A place's lane and pool: those all its neighbouring transitions share."""
    found: dict[str, tuple[str | None, str | None]] = {}
    for item in pn.elements.values():
        if item.kind != "place":
            continue
        neighbours = {
            (pn.elements[t].lane, pn.elements[t].pool)
            for t in (*item.inputs, *item.outputs)
        }
        if len(neighbours) == 1:
            found[item.id] = next(iter(neighbours))
    return found


def _check_free_choice(pn: _Net, place: _Element) -> None:
    for target in place.outputs:
        if len(pn.elements[target].inputs) > 1:
            warnings.warn(
                f"{pn.name}:{_line(place.element)}: place {place.id!r} is not "
                "free-choice; read as an exclusive choice, which allows more "
                "than the net",
                HarpflowWarning,
                stacklevel=4,
            )
            return
