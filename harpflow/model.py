"""The flow model: one procedure as one organisation performs it.

A :class:`Flow` wraps a :class:`networkx.DiGraph` (``flow.graph``). Its nodes
are the flow nodes of BPMN 2.0 -- activities, events and gateways -- and its
edges are sequence flows (``kind="sequence"``) and message flows between
nodes (``kind="message"``). All attributes live on the graph; :class:`Node`
and :class:`Edge` are thin read-only views over them. Lanes, pools, data
objects, text annotations and message flows that end on a whole pool are
kept beside the graph as small records.

Every reader maps its format onto this model, so node ``type`` is always a
BPMN 2.0 element name (see :data:`NODE_TYPES`), whatever the file was.

Examples
--------
>>> from harpflow.model import Flow
>>> flow = Flow("転入届", area="01", procedure="tennyu")
>>> _ = flow.add_node("s", type="startEvent", label="開始", lane="住民")
>>> _ = flow.add_node("t1", label="受付", lane="窓口", forms=["転入届書"])
>>> _ = flow.add_node("e", type="endEvent", label="終了", lane="窓口")
>>> _ = flow.add_edge("s", "t1")
>>> _ = flow.add_edge("t1", "e")
>>> flow
<Flow '転入届': 3 nodes, 2 sequence flows, 2 lanes>
>>> flow.nodes["t1"].lane, flow.nodes["t1"].forms
('窓口', ('転入届書',))
>>> [lane.name for lane in flow.lanes]
['住民', '窓口']
"""

from __future__ import annotations

import copy as _copy
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import networkx as nx

from harpflow.errors import ModelError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ACTIVITY_TYPES",
    "EVENT_TYPES",
    "GATEWAY_TYPES",
    "MEDIA",
    "NODE_TYPES",
    "TASK_TYPES",
    "Annotation",
    "DataObject",
    "Edge",
    "Flow",
    "Lane",
    "Node",
    "Pool",
    "PoolMessage",
    "SourceRef",
]

#: Task element names of BPMN 2.0.
TASK_TYPES = frozenset(
    {
        "task",
        "userTask",
        "serviceTask",
        "manualTask",
        "sendTask",
        "receiveTask",
        "scriptTask",
        "businessRuleTask",
    }
)
#: Activities: tasks, sub-processes (plain, transaction, ad hoc) and call
#: activities.
ACTIVITY_TYPES = TASK_TYPES | {
    "subProcess",
    "transaction",
    "adHocSubProcess",
    "callActivity",
}
#: Event element names of BPMN 2.0.
EVENT_TYPES = frozenset(
    {
        "startEvent",
        "endEvent",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "boundaryEvent",
        "implicitThrowEvent",
    }
)
#: Gateway element names of BPMN 2.0.
GATEWAY_TYPES = frozenset(
    {
        "exclusiveGateway",
        "parallelGateway",
        "inclusiveGateway",
        "eventBasedGateway",
        "complexGateway",
    }
)
#: Every node type a :class:`Flow` may hold.
NODE_TYPES = ACTIVITY_TYPES | EVENT_TYPES | GATEWAY_TYPES
#: Media a step works with (``Node.medium``).
MEDIA = ("paper", "screen", "system", "file", "phone", "fax", "mail", "online")
#: Edge kinds.
EDGE_KINDS = ("sequence", "message")

_NODE_KEYS = (
    "type",
    "label",
    "lane",
    "lane_id",
    "pool",
    "pool_id",
    "parent",
    "medium",
    "location",
    "forms",
    "function_ids",
    "documentation",
    "trigger",
    "attached_to",
    "loop",
    "bounds",
    "source",
)


@dataclass(frozen=True)
class SourceRef:
    """Where something was read: file, 1-based line and element."""

    file: str | None = None
    line: int | None = None
    element: str | None = None

    def __str__(self) -> str:
        place = self.file or "<input>"
        if self.line is not None:
            place = f"{place}:{self.line}"
        return f"{place}: {self.element}" if self.element else place


Bounds = tuple[float, float, float, float]


@dataclass(frozen=True)
class Lane:
    """A lane (担当): who performs the steps placed in it.

    ``parent`` is the id of the enclosing lane for nested lanes.
    """

    id: str
    name: str
    pool: str | None = None
    parent: str | None = None
    bounds: Bounds | None = None


@dataclass(frozen=True)
class Pool:
    """A pool (BPMN participant): one organisation taking part.

    ``process`` is the id of the process the pool shows; a pool without one
    is a black box that only exchanges messages.
    """

    id: str
    name: str
    process: str | None = None
    bounds: Bounds | None = None


@dataclass(frozen=True)
class DataObject:
    """A data object or data store reference: a form, ledger or database.

    ``kind`` is ``"dataObjectReference"`` or ``"dataStoreReference"``;
    ``inputs`` are the nodes that read it, ``outputs`` the nodes that write
    it.
    """

    id: str
    label: str
    kind: str = "dataObjectReference"
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    parent: str | None = None
    lane: str | None = None
    bounds: Bounds | None = None


@dataclass(frozen=True)
class Annotation:
    """A text annotation, with the elements it is associated with."""

    id: str
    text: str
    targets: tuple[str, ...] = ()
    bounds: Bounds | None = None


@dataclass(frozen=True)
class PoolMessage:
    """A message flow of which at least one end is a whole pool."""

    id: str
    source: str
    target: str
    label: str = ""
    waypoints: tuple[tuple[float, float], ...] = ()


@dataclass
class _Extras:
    lanes: dict[str, Lane] = field(default_factory=dict)
    pools: dict[str, Pool] = field(default_factory=dict)
    data_objects: dict[str, DataObject] = field(default_factory=dict)
    annotations: dict[str, Annotation] = field(default_factory=dict)
    pool_messages: dict[str, PoolMessage] = field(default_factory=dict)


class Node:
    """A read-only view of one node of a :class:`Flow`.

    Attributes read straight from ``flow.graph.nodes[id]``; change them
    through :meth:`Flow.update_node`.
    """

    __slots__ = ("_data", "id")

    def __init__(self, node_id: str, data: Mapping[str, Any]) -> None:
        self.id = node_id
        self._data = data

    def _get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    @property
    def type(self) -> str:
        """The BPMN 2.0 element name, e.g. ``"userTask"``."""
        return str(self._data["type"])

    @property
    def label(self) -> str:
        """The label as written (may contain line breaks)."""
        return str(self._get("label", ""))

    @property
    def lane(self) -> str | None:
        """Name of the innermost lane, or None."""
        return self._get("lane")

    @property
    def lane_id(self) -> str | None:
        """Id of the innermost lane, or None."""
        return self._get("lane_id")

    @property
    def pool(self) -> str | None:
        """Name of the pool (organisation), or None."""
        return self._get("pool")

    @property
    def pool_id(self) -> str | None:
        """Id of the pool, or None."""
        return self._get("pool_id")

    @property
    def parent(self) -> str | None:
        """Id of the enclosing sub-process, or None."""
        return self._get("parent")

    @property
    def medium(self) -> str | None:
        """One of :data:`MEDIA`, or None."""
        return self._get("medium")

    @property
    def location(self) -> str | None:
        """Where it happens: 本庁, 支所, an outside body, or None."""
        return self._get("location")

    @property
    def forms(self) -> tuple[str, ...]:
        """帳票: forms, ledgers and data the step works with."""
        return tuple(self._get("forms", ()))

    @property
    def function_ids(self) -> tuple[str, ...]:
        """機能ID references of the standard specification."""
        return tuple(self._get("function_ids", ()))

    @property
    def documentation(self) -> str:
        """Free text documentation (備考)."""
        return str(self._get("documentation", ""))

    @property
    def trigger(self) -> str | None:
        """Event trigger (``"message"``, ``"timer"``, ...) or None."""
        return self._get("trigger")

    @property
    def attached_to(self) -> str | None:
        """For a boundary event, the activity it is attached to."""
        return self._get("attached_to")

    @property
    def loop(self) -> str | None:
        """Loop marker: ``"standard"``, ``"parallel"``, ``"sequential"``."""
        return self._get("loop")

    @property
    def bounds(self) -> Bounds | None:
        """``(x, y, width, height)`` in diagram coordinates, or None."""
        return self._get("bounds")

    @property
    def source(self) -> SourceRef | None:
        """Where the node was read."""
        return self._get("source")

    @property
    def attrs(self) -> Mapping[str, Any]:
        """Every attribute, including format-specific ones."""
        return MappingProxyType(dict(self._data))

    @property
    def is_activity(self) -> bool:
        """True for tasks, sub-processes and call activities."""
        return self.type in ACTIVITY_TYPES

    @property
    def is_event(self) -> bool:
        """True for events."""
        return self.type in EVENT_TYPES

    @property
    def is_gateway(self) -> bool:
        """True for gateways."""
        return self.type in GATEWAY_TYPES

    def __repr__(self) -> str:
        return f"<Node {self.id!r} {self.type} {self.label!r}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Node):
            return NotImplemented
        return self.id == other.id and dict(self._data) == dict(other._data)

    def __hash__(self) -> int:
        return hash(self.id)


class Edge:
    """A read-only view of one edge (sequence or message flow)."""

    __slots__ = ("_data", "source", "target")

    def __init__(self, source: str, target: str, data: Mapping[str, Any]) -> None:
        self.source = source
        self.target = target
        self._data = data

    @property
    def id(self) -> str:
        """The flow's id in the source file (generated when it had none)."""
        return str(self._data["id"])

    @property
    def kind(self) -> str:
        """``"sequence"`` or ``"message"``."""
        return str(self._data.get("kind", "sequence"))

    @property
    def label(self) -> str:
        """The flow's name; on a decision's branch, its condition in words."""
        return str(self._data.get("label", ""))

    @property
    def condition(self) -> str | None:
        """A formal condition expression, if one was given."""
        return self._data.get("condition")

    @property
    def default(self) -> bool:
        """True for the default flow of a gateway or activity."""
        return bool(self._data.get("default", False))

    @property
    def waypoints(self) -> tuple[tuple[float, float], ...]:
        """Diagram waypoints, or an empty tuple."""
        return tuple(self._data.get("waypoints", ()))

    @property
    def attrs(self) -> Mapping[str, Any]:
        """Every attribute."""
        return MappingProxyType(dict(self._data))

    def __repr__(self) -> str:
        return f"<Edge {self.id!r} {self.source}->{self.target} {self.kind}>"


class _NodeMap(Mapping[str, Node]):
    """``flow.nodes``: a mapping from id to :class:`Node`, in insertion order."""

    def __init__(self, graph: nx.DiGraph) -> None:
        self._graph = graph

    def __getitem__(self, node_id: str) -> Node:
        try:
            return Node(node_id, self._graph.nodes[node_id])
        except KeyError:
            raise KeyError(node_id) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._graph.nodes)

    def __len__(self) -> int:
        return self._graph.number_of_nodes()

    def __repr__(self) -> str:
        return f"<nodes {list(self)!r}>"


class Flow:
    """One business flow (業務フロー): steps, events, gateways and flows.

    Parameters
    ----------
    name : str, optional
        The flow's name, e.g. ``"転入届"``.
    area : str, optional
        Business area code ``"01"``-``"27"`` (see :mod:`harpflow.areas`).
    procedure : str, optional
        Procedure key within the area, e.g. ``"tennyu"``.
    town : str, optional
        The municipality whose flow this is; None for a standard flow.
    source : str, optional
        The file it was read from.
    **meta
        Further metadata kept in ``flow.meta`` (legal basis, status, ...).

    Attributes
    ----------
    graph : networkx.DiGraph
        Nodes keyed by id with the attributes listed in the design; edges
        carry ``id``, ``kind``, ``label``, ``condition``, ``default`` and
        ``waypoints``. Graph attributes hold the flow metadata.

    Notes
    -----
    A DiGraph holds one edge per ordered pair of nodes. Two sequence flows
    between the same pair of nodes (a modelling slip some tools allow) are
    kept as one edge whose ``duplicates`` attribute lists the extra ids;
    :meth:`stats` counts them.
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        area: str | None = None,
        procedure: str | None = None,
        town: str | None = None,
        source: str | None = None,
        **meta: Any,
    ) -> None:
        self.graph: nx.DiGraph = nx.DiGraph()
        self.graph.graph.update(
            name=name,
            area=area,
            procedure=procedure,
            town=town,
            source=source,
            meta=dict(meta),
        )
        self._extras = _Extras()
        self._edge_ids: dict[str, tuple[str, str]] = {}

    # -- metadata ---------------------------------------------------------

    def _meta_prop(key: str, doc: str) -> property:  # type: ignore[misc]
        def get(self: Flow) -> Any:
            return self.graph.graph.get(key)

        def set_(self: Flow, value: Any) -> None:
            self.graph.graph[key] = value

        return property(get, set_, doc=doc)

    name = _meta_prop("name", "The flow's name.")
    area = _meta_prop("area", "Business area code, ``'01'``-``'27'``.")
    procedure = _meta_prop("procedure", "Procedure key within the area.")
    town = _meta_prop("town", "The municipality, or None for a standard.")
    source = _meta_prop("source", "The file the flow was read from.")
    del _meta_prop

    @property
    def meta(self) -> dict[str, Any]:
        """Further metadata: legal basis, sourcing status, format extras."""
        meta: dict[str, Any] = self.graph.graph["meta"]
        return meta

    # -- nodes and edges --------------------------------------------------

    @property
    def nodes(self) -> Mapping[str, Node]:
        """Nodes by id, in the order they were added."""
        return _NodeMap(self.graph)

    @property
    def edges(self) -> list[Edge]:
        """Every edge (sequence and message flows), in insertion order."""
        return [Edge(u, v, d) for u, v, d in self.graph.edges(data=True)]

    def node(self, node_id: str) -> Node:
        """Return the :class:`Node` with this id.

        Raises
        ------
        ModelError
            If there is no such node.
        """
        if node_id not in self.graph:
            raise ModelError(f"no node with id {node_id!r}")
        return Node(node_id, self.graph.nodes[node_id])

    def edge(self, edge_id: str) -> Edge:
        """Return the :class:`Edge` with this id.

        Raises
        ------
        ModelError
            If there is no such edge.
        """
        try:
            u, v = self._edge_ids[edge_id]
        except KeyError:
            raise ModelError(f"no edge with id {edge_id!r}") from None
        return Edge(u, v, self.graph.edges[u, v])

    def __contains__(self, node_id: object) -> bool:
        return node_id in self.graph

    def __len__(self) -> int:
        return self.graph.number_of_nodes()

    def add_node(
        self,
        node_id: str,
        *,
        type: str = "task",
        label: str = "",
        lane: str | None = None,
        lane_id: str | None = None,
        pool: str | None = None,
        pool_id: str | None = None,
        parent: str | None = None,
        medium: str | None = None,
        location: str | None = None,
        forms: Iterable[str] = (),
        function_ids: Iterable[str] = (),
        documentation: str = "",
        source: SourceRef | None = None,
        **extra: Any,
    ) -> Node:
        """Add a node and return its view.

        ``lane`` names a lane; ``lane_id`` refers to one added with
        :meth:`add_lane`. Given only a name, a lane of that name is found or
        created (its id is the name). The same holds for pools.

        Raises
        ------
        ModelError
            On a repeated id, an unknown type, an unknown medium, or an
            unknown ``lane_id``/``pool_id``.
        """
        if node_id in self.graph:
            raise ModelError(f"two nodes with id {node_id!r}")
        if type not in NODE_TYPES:
            raise ModelError(f"node {node_id!r}: unknown type {type!r}")
        if medium is not None and medium not in MEDIA:
            raise ModelError(f"node {node_id!r}: unknown medium {medium!r}")
        pool_rec = self._resolve_pool(pool, pool_id)
        lane_rec = self._resolve_lane(lane, lane_id, pool_rec)
        if lane_rec is not None and pool_rec is None and lane_rec.pool:
            pool_rec = self._extras.pools.get(lane_rec.pool)
        attrs: dict[str, Any] = {
            "type": type,
            "label": label,
            "lane": lane_rec.name if lane_rec else None,
            "lane_id": lane_rec.id if lane_rec else None,
            "pool": pool_rec.name if pool_rec else None,
            "pool_id": pool_rec.id if pool_rec else None,
            "parent": parent,
            "medium": medium,
            "location": location,
            "forms": tuple(forms),
            "function_ids": tuple(function_ids),
            "documentation": documentation,
            "source": source,
        }
        attrs.update(extra)
        self.graph.add_node(node_id, **attrs)
        return Node(node_id, self.graph.nodes[node_id])

    def update_node(self, node_id: str, **attrs: Any) -> Node:
        """Change attributes of an existing node and return its view.

        ``lane``/``pool`` given by name are resolved as in :meth:`add_node`.
        """
        node = self.node(node_id)
        data = self.graph.nodes[node_id]
        if "type" in attrs and attrs["type"] not in NODE_TYPES:
            raise ModelError(f"node {node_id!r}: unknown type {attrs['type']!r}")
        if "lane" in attrs or "lane_id" in attrs:
            lane_rec = self._resolve_lane(
                attrs.pop("lane", None), attrs.pop("lane_id", None), None
            )
            data["lane"] = lane_rec.name if lane_rec else None
            data["lane_id"] = lane_rec.id if lane_rec else None
        if "pool" in attrs or "pool_id" in attrs:
            pool_rec = self._resolve_pool(
                attrs.pop("pool", None), attrs.pop("pool_id", None)
            )
            data["pool"] = pool_rec.name if pool_rec else None
            data["pool_id"] = pool_rec.id if pool_rec else None
        for key in ("forms", "function_ids"):
            if key in attrs:
                attrs[key] = tuple(attrs[key])
        data.update(attrs)
        return node

    def remove_node(self, node_id: str) -> None:
        """Remove a node with its edges."""
        self.node(node_id)
        for _u, _v, d in list(self.graph.in_edges(node_id, data=True)) + list(
            self.graph.out_edges(node_id, data=True)
        ):
            self._edge_ids.pop(d["id"], None)
        self.graph.remove_node(node_id)

    def add_edge(
        self,
        source: str,
        target: str,
        *,
        id: str | None = None,
        kind: str = "sequence",
        label: str = "",
        condition: str | None = None,
        default: bool = False,
        **extra: Any,
    ) -> Edge:
        """Add a sequence or message flow between two existing nodes.

        Raises
        ------
        ModelError
            If an end is missing, the id is taken, or the kind is unknown.
        """
        for end in (source, target):
            if end not in self.graph:
                raise ModelError(f"flow {id or ''!s} refers to missing node {end!r}")
        if kind not in EDGE_KINDS:
            raise ModelError(f"unknown edge kind {kind!r}")
        if id is None:
            id = self._fresh_edge_id(source, target)
        elif id in self._edge_ids:
            raise ModelError(f"two flows with id {id!r}")
        if self.graph.has_edge(source, target):
            data = self.graph.edges[source, target]
            data.setdefault("duplicates", []).append(id)
            self._edge_ids[id] = (source, target)
            return Edge(source, target, data)
        attrs: dict[str, Any] = {
            "id": id,
            "kind": kind,
            "label": label,
            "condition": condition,
            "default": default,
        }
        attrs.update(extra)
        self.graph.add_edge(source, target, **attrs)
        self._edge_ids[id] = (source, target)
        return Edge(source, target, self.graph.edges[source, target])

    def update_edge(self, source: str, target: str, **attrs: Any) -> Edge:
        """Change attributes of an existing edge (not its id)."""
        if not self.graph.has_edge(source, target):
            raise ModelError(f"no edge {source!r} -> {target!r}")
        attrs.pop("id", None)
        self.graph.edges[source, target].update(attrs)
        return Edge(source, target, self.graph.edges[source, target])

    def remove_edge(self, source: str, target: str) -> None:
        """Remove the edge between two nodes."""
        if not self.graph.has_edge(source, target):
            raise ModelError(f"no edge {source!r} -> {target!r}")
        data = self.graph.edges[source, target]
        self._edge_ids.pop(data["id"], None)
        for dup in data.get("duplicates", ()):
            self._edge_ids.pop(dup, None)
        self.graph.remove_edge(source, target)

    def _fresh_edge_id(self, source: str, target: str) -> str:
        base = f"{source}__{target}"
        candidate, n = base, 1
        while candidate in self._edge_ids:
            n += 1
            candidate = f"{base}_{n}"
        return candidate

    # -- lanes, pools and other records ----------------------------------

    def _resolve_lane(
        self, name: str | None, lane_id: str | None, pool: Pool | None
    ) -> Lane | None:
        if lane_id is not None:
            try:
                return self._extras.lanes[lane_id]
            except KeyError:
                raise ModelError(f"unknown lane id {lane_id!r}") from None
        if not name:
            return None
        for lane in self._extras.lanes.values():
            if lane.name == name and (pool is None or lane.pool == pool.id):
                return lane
        return self.add_lane(
            self._fresh_record_id(name, self._extras.lanes),
            name,
            pool=pool.id if pool else None,
        )

    def _resolve_pool(self, name: str | None, pool_id: str | None) -> Pool | None:
        if pool_id is not None:
            try:
                return self._extras.pools[pool_id]
            except KeyError:
                raise ModelError(f"unknown pool id {pool_id!r}") from None
        if not name:
            return None
        for pool in self._extras.pools.values():
            if pool.name == name:
                return pool
        return self.add_pool(self._fresh_record_id(name, self._extras.pools), name)

    @staticmethod
    def _fresh_record_id(name: str, taken: Mapping[str, Any]) -> str:
        candidate, n = name, 1
        while candidate in taken:
            n += 1
            candidate = f"{name}_{n}"
        return candidate

    def add_lane(
        self,
        lane_id: str,
        name: str,
        *,
        pool: str | None = None,
        parent: str | None = None,
        bounds: Bounds | None = None,
    ) -> Lane:
        """Add a lane; ``pool`` and ``parent`` are ids of a pool and a lane."""
        if lane_id in self._extras.lanes:
            raise ModelError(f"two lanes with id {lane_id!r}")
        if parent is not None and parent not in self._extras.lanes:
            raise ModelError(f"lane {lane_id!r}: unknown parent lane {parent!r}")
        lane = Lane(lane_id, name, pool, parent, bounds)
        self._extras.lanes[lane_id] = lane
        return lane

    def add_pool(
        self,
        pool_id: str,
        name: str,
        *,
        process: str | None = None,
        bounds: Bounds | None = None,
    ) -> Pool:
        """Add a pool (participant)."""
        if pool_id in self._extras.pools:
            raise ModelError(f"two pools with id {pool_id!r}")
        pool = Pool(pool_id, name, process, bounds)
        self._extras.pools[pool_id] = pool
        return pool

    def add_data_object(
        self,
        object_id: str,
        label: str,
        *,
        kind: str = "dataObjectReference",
        inputs: Iterable[str] = (),
        outputs: Iterable[str] = (),
        parent: str | None = None,
        lane: str | None = None,
        bounds: Bounds | None = None,
    ) -> DataObject:
        """Add a data object or data store reference.

        The label is added to the ``forms`` of every node in ``inputs`` and
        ``outputs``.
        """
        if kind not in ("dataObjectReference", "dataStoreReference"):
            raise ModelError(f"unknown data object kind {kind!r}")
        if object_id in self._extras.data_objects:
            raise ModelError(f"two data objects with id {object_id!r}")
        obj = DataObject(
            object_id, label, kind, tuple(inputs), tuple(outputs), parent, lane, bounds
        )
        self._extras.data_objects[object_id] = obj
        if label:
            for node_id in (*obj.inputs, *obj.outputs):
                if node_id in self.graph:
                    forms = self.graph.nodes[node_id]["forms"]
                    if label not in forms:
                        self.graph.nodes[node_id]["forms"] = (*forms, label)
        return obj

    def add_annotation(
        self,
        annotation_id: str,
        text: str,
        *,
        targets: Iterable[str] = (),
        bounds: Bounds | None = None,
    ) -> Annotation:
        """Add a text annotation associated with some elements."""
        if annotation_id in self._extras.annotations:
            raise ModelError(f"two annotations with id {annotation_id!r}")
        ann = Annotation(annotation_id, text, tuple(targets), bounds)
        self._extras.annotations[annotation_id] = ann
        return ann

    def add_pool_message(
        self,
        message_id: str,
        source: str,
        target: str,
        *,
        label: str = "",
        waypoints: Iterable[tuple[float, float]] = (),
    ) -> PoolMessage:
        """Add a message flow of which one end (or both) is a pool id."""
        known = set(self.graph) | set(self._extras.pools)
        for end in (source, target):
            if end not in known:
                raise ModelError(
                    f"message flow {message_id!r} refers to missing {end!r}"
                )
        if message_id in self._extras.pool_messages or message_id in self._edge_ids:
            raise ModelError(f"two flows with id {message_id!r}")
        msg = PoolMessage(message_id, source, target, label, tuple(waypoints))
        self._extras.pool_messages[message_id] = msg
        return msg

    def set_lane_bounds(self, lane_id: str, bounds: Bounds | None) -> None:
        """Set or clear a lane's diagram bounds."""
        lane = self._extras.lanes[lane_id]
        self._extras.lanes[lane_id] = Lane(
            lane.id, lane.name, lane.pool, lane.parent, bounds
        )

    def set_pool_bounds(self, pool_id: str, bounds: Bounds | None) -> None:
        """Set or clear a pool's diagram bounds."""
        pool = self._extras.pools[pool_id]
        self._extras.pools[pool_id] = Pool(pool.id, pool.name, pool.process, bounds)

    @property
    def lanes(self) -> list[Lane]:
        """Lanes in the order they were added (outer lanes first)."""
        return list(self._extras.lanes.values())

    @property
    def pools(self) -> list[Pool]:
        """Pools in the order they were added."""
        return list(self._extras.pools.values())

    @property
    def data_objects(self) -> list[DataObject]:
        """Data object and data store references."""
        return list(self._extras.data_objects.values())

    @property
    def annotations(self) -> list[Annotation]:
        """Text annotations."""
        return list(self._extras.annotations.values())

    @property
    def pool_messages(self) -> list[PoolMessage]:
        """Message flows that end on a whole pool."""
        return list(self._extras.pool_messages.values())

    def lane_names(self) -> list[str]:
        """Names of the lanes that hold no other lane, in order, unique."""
        parents = {lane.parent for lane in self._extras.lanes.values()}
        seen: dict[str, None] = {}
        for lane in self._extras.lanes.values():
            if lane.id not in parents and lane.name:
                seen.setdefault(lane.name)
        return list(seen)

    # -- queries ----------------------------------------------------------

    def sequence_edges(self) -> list[Edge]:
        """Sequence flows only."""
        return [e for e in self.edges if e.kind == "sequence"]

    def message_edges(self) -> list[Edge]:
        """Message flows between two nodes."""
        return [e for e in self.edges if e.kind == "message"]

    def successors(self, node_id: str) -> list[str]:
        """Targets of the node's outgoing sequence flows."""
        return [
            v
            for v, d in self.graph.succ[node_id].items()
            if d.get("kind", "sequence") == "sequence"
        ]

    def predecessors(self, node_id: str) -> list[str]:
        """Sources of the node's incoming sequence flows."""
        return [
            u
            for u, d in self.graph.pred[node_id].items()
            if d.get("kind", "sequence") == "sequence"
        ]

    def steps(self) -> list[Node]:
        """Activities (tasks, sub-processes, call activities) in order."""
        return [n for n in self.nodes.values() if n.is_activity]

    def sequence_graph(self) -> nx.DiGraph:
        """A view of the graph with only the sequence flows."""
        return nx.subgraph_view(
            self.graph,
            filter_edge=lambda u, v: (
                self.graph.edges[u, v].get("kind", "sequence") == "sequence"
            ),
        )

    def stats(self) -> dict[str, Any]:
        """Counts of the flow's elements.

        Returns
        -------
        dict
            ``nodes`` (flow nodes at any depth), ``by_type`` (count per BPMN
            element name, sorted), ``sequence_flows``, ``message_flows``,
            ``lanes`` (lanes at any depth), ``pools`` and ``data_objects``
            (data object plus data store references).

        Examples
        --------
        >>> flow = Flow()
        >>> _ = flow.add_node("a", type="startEvent")
        >>> _ = flow.add_node("b", lane="窓口")
        >>> _ = flow.add_edge("a", "b")
        >>> flow.stats()["by_type"]
        {'startEvent': 1, 'task': 1}
        """
        by_type: dict[str, int] = {}
        for _, data in self.graph.nodes(data=True):
            by_type[data["type"]] = by_type.get(data["type"], 0) + 1
        seq = msg = 0
        for _, _, data in self.graph.edges(data=True):
            n = 1 + len(data.get("duplicates", ()))
            if data.get("kind", "sequence") == "message":
                msg += n
            else:
                seq += n
        return {
            "nodes": self.graph.number_of_nodes(),
            "by_type": dict(sorted(by_type.items())),
            "sequence_flows": seq,
            "message_flows": msg + len(self._extras.pool_messages),
            "lanes": len(self._extras.lanes),
            "pools": len(self._extras.pools),
            "data_objects": len(self._extras.data_objects),
        }

    def copy(self) -> Flow:
        """A deep copy: changing it leaves this flow untouched."""
        return _copy.deepcopy(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per node: id, type, label, lane, pool, parent, medium, ...

        Examples
        --------
        >>> flow = Flow()
        >>> _ = flow.add_node("t", label="受付", lane="窓口")
        >>> flow.to_frame()[["id", "type", "label", "lane"]].to_dict("records")
        [{'id': 't', 'type': 'task', 'label': '受付', 'lane': '窓口'}]
        """
        import pandas as pd

        rows = []
        for node_id, data in self.graph.nodes(data=True):
            row = {"id": node_id}
            for key in _NODE_KEYS:
                if key in ("source", "bounds", "lane_id", "pool_id"):
                    continue
                value = data.get(key)
                if isinstance(value, tuple):
                    value = list(value)
                row[key] = value
            rows.append(row)
        columns = ["id"] + [
            k for k in _NODE_KEYS if k not in ("source", "bounds", "lane_id", "pool_id")
        ]
        return pd.DataFrame(rows, columns=columns)

    def __repr__(self) -> str:
        stats = self.stats()
        name = f" {self.name!r}" if self.name else ""
        return (
            f"<Flow{name}: {stats['nodes']} nodes, "
            f"{stats['sequence_flows']} sequence flows, {stats['lanes']} lanes>"
        )

    def _repr_html_(self) -> str:
        from harpflow.render.notebook import flow_html

        return flow_html(self)

    def _repr_svg_(self) -> str:
        from harpflow.render.notebook import flow_svg

        return flow_svg(self)
