"""Classify the cells of one diagrams.net page and build the :class:`Flow`.

The rules are those of :mod:`harpflow.io.drawio`: vertices are classified
by style (:func:`harpflow.io.drawio_shapes.classify`), swimlanes form a
tree of pools and lanes by ``parent`` chain and by geometry, every node
goes to the innermost swimlane containing it, and edges become sequence
flows, message flows, data associations or annotation associations.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from harpflow.errors import HarpflowWarning
from harpflow.io.drawio_cells import (
    Cell,
    Page,
    area,
    collect_cells,
    contains,
    inside,
    node_properties,
)
from harpflow.io.drawio_shapes import Shape, classify
from harpflow.model import ACTIVITY_TYPES, Flow

if TYPE_CHECKING:
    from lxml import etree

__all__ = ["build_flow"]

_CONTAINERS = frozenset({"subProcess", "transaction", "adHocSubProcess"})
_END_WORDS = ("終了", "終わり", "完了", "end", "stop", "finish")


def build_flow(
    model: etree._Element | None, *, name: str, source: str, where: str
) -> Flow:
    """Read one ``mxGraphModel`` (None for an empty page) into a flow.

    ``where`` names the page in messages, e.g. ``"a.drawio [page '受付']"``.
    """
    flow = Flow(name, source=source)
    if model is None:
        return flow
    page = Page(collect_cells(model, where), where, source)
    return _Builder(page, flow).build()


class _Builder:
    def __init__(self, page: Page, flow: Flow) -> None:
        self.page = page
        self.flow = flow
        self.order = {cid: i for i, cid in enumerate(page.order)}
        self.shapes: dict[str, Shape] = {}
        self.types: dict[str, str] = {}
        self.loops: dict[str, str] = {}
        self.marker_host: dict[str, str] = {}
        self.edge_labels: dict[str, list[Cell]] = {}
        self.lane_parent: dict[str, str | None] = {}
        self.lane_children: dict[str | None, list[str]] = {}
        self.pools: set[str] = set()

    # -- helpers ---------------------------------------------------------

    def cells(self) -> list[Cell]:
        return [self.page.cells[cid] for cid in self.page.order]

    def smallest(self, ids: Iterable[str]) -> str | None:
        ranked = sorted(
            ids, key=lambda i: (area(self.page.rects.get(i)), self.order[i])
        )
        return ranked[0] if ranked else None

    def is_node(self, cid: str) -> bool:
        return cid in self.types

    def is_activity(self, cid: str) -> bool:
        return self.types.get(cid) in ACTIVITY_TYPES

    def warn(self, message: str) -> None:
        warnings.warn(f"{self.page.where}: {message}", HarpflowWarning, stacklevel=5)

    # -- steps -----------------------------------------------------------

    def build(self) -> Flow:
        self.classify()
        self.swimlanes()
        edges = self.resolve_edges()
        self.terminals(edges)
        self.sub_processes()
        return self.assemble(edges)

    def classify(self) -> None:
        unknown: dict[str, int] = {}
        for cell in self.cells():
            if not cell.vertex:
                continue
            parent = self.page.cells.get(cell.parent or "")
            if parent is not None and parent.edge:
                self.edge_labels.setdefault(parent.id, []).append(cell)
                continue
            shape = classify(cell.style)
            self.shapes[cell.id] = shape
            if shape.kind == "node":
                self.types[cell.id] = shape.type
                if shape.loop:
                    self.loops[cell.id] = shape.loop
        # Task-type icons drawn inside a task mark that task.
        for cell in self.cells():
            marker = self.shapes.get(cell.id)
            if marker is None or marker.kind != "marker":
                continue
            host = next(
                (a.id for a in self.page.ancestors(cell) if self.is_activity(a.id)),
                None,
            )
            if host is None:
                kind = marker.type if not marker.type.startswith("@") else "task"
                self.shapes[cell.id] = Shape("node", kind)
                self.types[cell.id] = kind
                continue
            self.marker_host[cell.id] = host
            if marker.type == "@loop":
                self.loops[host] = "standard"
            elif marker.type == "@subprocess" and self.types[host] == "task":
                self.types[host] = "subProcess"
            elif marker.type == "@adhoc":
                self.types[host] = "adHocSubProcess"
            elif not marker.type.startswith("@") and self.types[host] == "task":
                self.types[host] = marker.type
        # Shapes of no known kind that an edge touches are read as tasks.
        touched = {
            end
            for cell in self.cells()
            if cell.edge
            for end in (cell.source, cell.target)
            if end
        }
        for cell in self.cells():
            other = self.shapes.get(cell.id)
            if other is None or other.kind != "unknown":
                continue
            if cell.id in touched:
                self.shapes[cell.id] = Shape("node", "task")
                self.types[cell.id] = "task"
                key = cell.style.shape or "(plain)"
                unknown[key] = unknown.get(key, 0) + 1
            elif cell.label:
                self.warn(
                    f"ignored the unconnected shape {cell.style.shape!r} "
                    f"labelled {cell.label!r}"
                )
        if unknown:
            names = ", ".join(f"{k} ({v})" for k, v in sorted(unknown.items()))
            self.warn(f"read connected shapes of unknown kind as tasks: {names}")

    def swimlanes(self) -> None:
        rects = self.page.rects
        lanes = [cid for cid, s in self.shapes.items() if s.kind == "swimlane"]
        lane_set = set(lanes)
        for cid in lanes:
            cell = self.page.cells[cid]
            parent = next(
                (a.id for a in self.page.ancestors(cell) if a.id in lane_set), None
            )
            style = cell.style
            marked = style.flag("pool") or style.get("childLayout") == "stackLayout"
            if parent is None and cid in rects and not marked:
                own = area(rects[cid])
                outer = [
                    o
                    for o in lanes
                    if o != cid
                    and o in rects
                    and inside(rects[cid], rects[o])
                    and (
                        area(rects[o]) > own
                        or (area(rects[o]) == own and self.order[o] < self.order[cid])
                    )
                ]
                parent = self.smallest(outer)
            self.lane_parent[cid] = parent
        # A geometric parent that would close a loop is dropped.
        for cid in lanes:
            seen = {cid}
            current = self.lane_parent[cid]
            while current is not None:
                if current in seen:
                    self.lane_parent[cid] = None
                    break
                seen.add(current)
                current = self.lane_parent[current]
        for cid in lanes:
            self.lane_children.setdefault(self.lane_parent[cid], []).append(cid)
        for cid in self.lane_children.get(None, []):
            style = self.page.cells[cid].style
            if (
                self.lane_children.get(cid)
                or style.flag("pool")
                or style.get("childLayout") == "stackLayout"
            ):
                self.pools.add(cid)

    def container(self, cell: Cell) -> str | None:
        """The innermost swimlane holding a cell: by parent chain, then geometry."""
        current = next(
            (a.id for a in self.page.ancestors(cell) if a.id in self.lane_parent),
            None,
        )
        center = self.page.center(cell.id)
        if center is None:
            return current
        while True:
            kids = [
                k
                for k in self.lane_children.get(current, [])
                if k in self.page.rects and contains(self.page.rects[k], center)
            ]
            if not kids:
                return current
            current = self.smallest(kids)

    def root_of(self, lane: str) -> str:
        while (parent := self.lane_parent[lane]) is not None:
            lane = parent
        return lane

    def placement(self, cell: Cell) -> tuple[str | None, str | None]:
        """(lane id, pool id) of a cell."""
        holder = self.container(cell)
        if holder is None:
            return None, None
        if holder in self.pools:
            return None, holder
        root = self.root_of(holder)
        return holder, root if root in self.pools else None

    def endpoint(self, edge: Cell, end: str | None) -> tuple[str, str] | None:
        """(category, id) of one end of an edge, or None to skip the edge."""
        if end is None:
            return None
        if end not in self.page.cells:
            raise self.page.error(edge, f"edge refers to the missing cell {end!r}")
        end = self.marker_host.get(end, end)
        if end in self.types:
            return "node", end
        shape = self.shapes.get(end)
        if shape is None:
            return None
        if shape.kind == "data":
            return "data", end
        if shape.kind == "annotation":
            return "annotation", end
        if shape.kind == "terminal":
            return "node", end
        if shape.kind == "swimlane" and end in self.pools:
            return "pool", end
        return None

    def resolve_edges(self) -> list[tuple[Cell, tuple[str, str], tuple[str, str]]]:
        edges = []
        for cell in self.cells():
            if not cell.edge:
                continue
            ends = [self.endpoint(cell, e) for e in (cell.source, cell.target)]
            src, tgt = ends
            if src is None or tgt is None:
                self.warn(
                    f"skipped edge {cell.id!r}: an end is loose or on a shape "
                    "that is not a node"
                )
                continue
            edges.append((cell, src, tgt))
        return edges

    def terminals(
        self, edges: list[tuple[Cell, tuple[str, str], tuple[str, str]]]
    ) -> None:
        incoming: dict[str, int] = {}
        outgoing: dict[str, int] = {}
        for _cell, (sk, s), (tk, t) in edges:
            if sk == "node" and tk == "node":
                outgoing[s] = outgoing.get(s, 0) + 1
                incoming[t] = incoming.get(t, 0) + 1
        for cid, shape in self.shapes.items():
            if shape.kind != "terminal":
                continue
            n_in, n_out = incoming.get(cid, 0), outgoing.get(cid, 0)
            if n_in == 0 and n_out == 0:
                label = self.page.cells[cid].label.lower()
                ends = any(w in label for w in _END_WORDS)
                self.types[cid] = "endEvent" if ends else "startEvent"
            elif n_in == 0:
                self.types[cid] = "startEvent"
            elif n_out == 0:
                self.types[cid] = "endEvent"
            else:
                self.types[cid] = "intermediateThrowEvent"

    def sub_processes(self) -> None:
        self.parents: dict[str, str | None] = {}
        self.attached: dict[str, str] = {}
        for cid in self.types:
            cell = self.page.cells[cid]
            chain = self.page.ancestors(cell)
            if self.types[cid] == "boundaryEvent":
                host = self.attach(cell, chain)
                if host is not None:
                    self.attached[cid] = host
                    chain = self.page.ancestors(self.page.cells[host])
            self.parents[cid] = next(
                (a.id for a in chain if self.is_activity(a.id)), None
            )
        hosts = {p for c, p in self.parents.items() if p and c not in self.attached}
        for host in hosts:
            if self.types[host] == "task":
                self.types[host] = "subProcess"

    def attach(self, cell: Cell, chain: list[Cell]) -> str | None:
        rect = self.page.rects.get(cell.id)
        center = self.page.center(cell.id)
        if rect is None or center is None:
            if chain and self.is_activity(chain[0].id):
                return chain[0].id
            return None
        margin = max(rect[2], rect[3]) / 2
        hosts = [
            a
            for a in self.types
            if self.is_activity(a)
            and a in self.page.rects
            and contains(self.page.rects[a], center, margin)
        ]
        host = self.smallest(hosts)
        if host is None and chain and self.is_activity(chain[0].id):
            host = chain[0].id
        if host is None:
            self.warn(f"boundary event {cell.id!r} lies on no activity")
        return host

    # -- the flow --------------------------------------------------------

    def depth(self, lane: str) -> int:
        n = 0
        while (lane_up := self.lane_parent[lane]) is not None:
            lane, n = lane_up, n + 1
        return n

    def assemble(
        self, edges: list[tuple[Cell, tuple[str, str], tuple[str, str]]]
    ) -> Flow:
        flow, page = self.flow, self.page
        for cid in sorted(self.pools, key=self.order.__getitem__):
            flow.add_pool(cid, page.cells[cid].label, bounds=page.rects.get(cid))
        lanes = [c for c in self.lane_parent if c not in self.pools]
        for cid in sorted(lanes, key=lambda c: (self.depth(c), self.order[c])):
            parent = self.lane_parent[cid]
            root = self.root_of(cid)
            flow.add_lane(
                cid,
                page.cells[cid].label,
                pool=root if root in self.pools else None,
                parent=parent if parent not in self.pools else None,
                bounds=page.rects.get(cid),
            )
        for cid in page.order:
            if cid in self.types:
                self.add_node(page.cells[cid])
        data: dict[str, tuple[list[str], list[str]]] = {}
        targets: dict[str, list[str]] = {}
        for cell, (sk, s), (tk, t) in edges:
            label = "\n".join(
                x
                for x in [cell.label]
                + [c.label for c in self.edge_labels.get(cell.id, [])]
                if x
            )
            if sk == "data" or tk == "data":
                if sk == "data" and tk == "node":
                    data.setdefault(s, ([], []))[0].append(t)
                elif sk == "node" and tk == "data":
                    data.setdefault(t, ([], []))[1].append(s)
                continue
            if cell.style.flag("association") and sk == "node" and tk == "node":
                flow.meta.setdefault("associations", []).append((cell.id, s, t))
                continue
            if sk == "annotation" or tk == "annotation":
                note, other = (s, t) if sk == "annotation" else (t, s)
                if other != note:
                    targets.setdefault(note, []).append(other)
                continue
            waypoints = page.waypoints(cell)
            if sk == "pool" or tk == "pool":
                flow.add_pool_message(cell.id, s, t, label=label, waypoints=waypoints)
                continue
            pools = (flow.graph.nodes[s]["pool_id"], flow.graph.nodes[t]["pool_id"])
            dashed = cell.style.flag("dashed")
            message = (dashed and cell.style.get("startArrow") == "oval") or (
                None not in pools and pools[0] != pools[1]
            )
            if message and flow.graph.has_edge(s, t):
                # A DiGraph holds one edge per pair: a message flow beside a
                # sequence flow is kept as a pool message between the nodes.
                flow.add_pool_message(cell.id, s, t, label=label, waypoints=waypoints)
                continue
            condition = cell.props.get("condition") or cell.props.get("条件")
            flow.add_edge(
                s,
                t,
                id=cell.id,
                kind="message" if message else "sequence",
                label=label,
                condition=condition or None,
                default=cell.style.get("startArrow") == "dash",
                waypoints=waypoints,
            )
        for cid in page.order:
            shape = self.shapes.get(cid)
            cell = page.cells[cid]
            if shape is not None and shape.kind == "data":
                inputs, outputs = data.get(cid, ([], []))
                lane, _pool = self.placement(cell)
                parent = next(
                    (a.id for a in page.ancestors(cell) if self.is_activity(a.id)),
                    None,
                )
                flow.add_data_object(
                    cid,
                    cell.label,
                    kind=shape.type,
                    inputs=inputs,
                    outputs=outputs,
                    parent=parent,
                    lane=lane,
                    bounds=page.rects.get(cid),
                )
            elif (
                shape is not None
                and shape.kind == "annotation"
                and (cell.label or cid in targets)
            ):
                flow.add_annotation(
                    cid,
                    cell.label,
                    targets=targets.get(cid, ()),
                    bounds=page.rects.get(cid),
                )
        return flow

    def add_node(self, cell: Cell) -> None:
        shape = self.shapes[cell.id]
        lane, pool = self.placement(cell)
        attrs: dict[str, Any] = node_properties(cell.props, self.page.where)
        named_lane = attrs.pop("lane", None)
        node_type = attrs.pop("type", None) or self.types[cell.id]
        extra: dict[str, Any] = {}
        if shape.trigger:
            extra["trigger"] = shape.trigger
        if cell.id in self.loops:
            extra["loop"] = self.loops[cell.id]
        if cell.id in self.attached:
            extra["attached_to"] = self.attached[cell.id]
        if node_type == "boundaryEvent":
            extra["cancel_activity"] = shape.interrupting
        if node_type in _CONTAINERS and cell.style.flag("dashed"):
            extra["triggered_by_event"] = True
        self.flow.add_node(
            cell.id,
            type=node_type,
            label=cell.label,
            lane_id=lane,
            lane=named_lane if lane is None else None,
            pool_id=pool,
            parent=self.parents.get(cell.id),
            bounds=self.page.rects.get(cell.id),
            source=self.page.ref(cell),
            **attrs,
            **extra,
        )
