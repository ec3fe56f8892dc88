"""Placement for :mod:`harpflow.layout`: layering, ordering, columns, rows.

The layered method of Sugiyama, Tagawa and Toda [1]_: cycles are broken by
a depth-first search (:func:`back_edges`), nodes are put in columns by
longest-path layering (:func:`longest_path_layers`), and the nodes of each
column are ordered by the barycenter heuristic (:func:`barycenter_order`,
[1]_, [2]_). :class:`Builder` then gives every node, data object and text
annotation a rectangle in lane bands, laying out the content of expanded
sub-processes first.

References
----------
.. [1] K. Sugiyama, S. Tagawa and M. Toda, "Methods for visual
   understanding of hierarchical system structures", IEEE Transactions on
   Systems, Man, and Cybernetics 11(2), 109-125, 1981.
.. [2] E. R. Gansner, E. Koutsofios, S. C. North and K.-P. Vo, "A technique
   for drawing directed graphs", IEEE Transactions on Software Engineering
   19(3), 214-230, 1993.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from harpflow.model import ACTIVITY_TYPES, EVENT_TYPES, GATEWAY_TYPES, Bounds, Flow

__all__ = [
    "BOUNDARY_STEP",
    "COLUMN_GAP",
    "LANE_HEADER",
    "PADDING",
    "POOL_HEADER",
    "ROW_GAP",
    "Band",
    "Builder",
    "Point",
    "Waypoints",
    "back_edges",
    "barycenter_order",
    "lane_bands",
    "longest_path_layers",
    "rows_height",
    "shape_size",
]

Point = tuple[float, float]
Waypoints = tuple[Point, ...]

#: Width of the name strip on the left of a pool and of a lane.
POOL_HEADER = 30.0
LANE_HEADER = 30.0
#: Gaps between columns, between rows, and around a band's content.
COLUMN_GAP = 50.0
ROW_GAP = 40.0
PADDING = 20.0
#: Boundary events: spacing along the host's lower edge.
BOUNDARY_STEP = 44.0


def shape_size(kind: str) -> tuple[float, float]:
    """Default ``(width, height)`` of a shape of one BPMN element type.

    Examples
    --------
    >>> shape_size("userTask"), shape_size("startEvent")
    ((100.0, 80.0), (36.0, 36.0))
    """
    if kind in EVENT_TYPES:
        return (36.0, 36.0)
    if kind in GATEWAY_TYPES:
        return (50.0, 50.0)
    if kind == "dataObjectReference":
        return (36.0, 50.0)
    if kind == "dataStoreReference":
        return (50.0, 50.0)
    if kind == "textAnnotation":
        return (100.0, 40.0)
    return (100.0, 80.0)


# -- layering -------------------------------------------------------------


def back_edges(nodes: list[str], succ: Mapping[str, list[str]]) -> set[tuple[str, str]]:
    """Edges closing a cycle in a DFS from sources, then from every node."""
    index = {n: i for i, n in enumerate(nodes)}
    indeg = {n: 0 for n in nodes}
    for n in nodes:
        for m in succ[n]:
            indeg[m] += 1
    roots = [n for n in nodes if indeg[n] == 0] + nodes
    state: dict[str, int] = {}
    back: set[tuple[str, str]] = set()
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(sorted(succ[root], key=index.__getitem__)))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if state.get(child) == 1:
                    back.add((node, child))
                elif child not in state:
                    state[child] = 1
                    stack.append(
                        (child, iter(sorted(succ[child], key=index.__getitem__)))
                    )
                    break
            else:
                state[node] = 2
                stack.pop()
    return back


def longest_path_layers(
    nodes: list[str], succ: Mapping[str, list[str]]
) -> dict[str, int]:
    """Longest-path layering of the graph without its back edges."""
    back = back_edges(nodes, succ)
    preds: dict[str, list[str]] = {n: [] for n in nodes}
    for n in nodes:
        for m in succ[n]:
            if (n, m) not in back and m != n:
                preds[m].append(n)
    layer: dict[str, int] = {}
    # Kahn's order over the acyclic remainder, ties by insertion order.
    remaining = {n: len(preds[n]) for n in nodes}
    ready = [n for n in nodes if remaining[n] == 0]
    order: list[str] = []
    while ready:
        n = ready.pop(0)
        order.append(n)
        for m in succ[n]:
            if (n, m) in back or m == n:
                continue
            remaining[m] -= 1
            if remaining[m] == 0:
                ready.append(m)
    for n in order:
        layer[n] = max((layer[p] + 1 for p in preds[n]), default=0)
    return layer


def barycenter_order(
    columns: dict[int, list[str]],
    band_of: Mapping[str, int],
    succ: Mapping[str, list[str]],
    pred: Mapping[str, list[str]],
    sweeps: int = 4,
) -> None:
    """Reorder each column by the barycenter heuristic, in place.

    Sweeps alternate left to right (a node follows the mean position of its
    predecessors) and right to left (of its successors). A node's position
    is its band, then its place in the column, so nodes never leave their
    band; ties keep the current order.

    Examples
    --------
    >>> cols = {0: ["a", "b"], 1: ["y", "x"]}
    >>> succ = {"a": ["x"], "b": ["y"], "x": [], "y": []}
    >>> pred = {"a": [], "b": [], "x": ["a"], "y": ["b"]}
    >>> barycenter_order(cols, dict.fromkeys("abxy", 0), succ, pred)
    >>> cols[1]
    ['x', 'y']
    """
    keys = sorted(columns)
    pos: dict[str, float] = {}

    def place(c: int) -> None:
        for i, n in enumerate(columns[c]):
            pos[n] = band_of[n] * 10_000 + i

    for c in keys:
        place(c)
    for sweep in range(sweeps):
        near_of = pred if sweep % 2 == 0 else succ
        for c in keys if sweep % 2 == 0 else reversed(keys):

            def key(
                item: tuple[int, str], near_of: Mapping[str, list[str]] = near_of
            ) -> tuple[int, float, int]:
                i, n = item
                near = [pos[m] for m in near_of[n] if m in pos]
                bary = sum(near) / len(near) if near else pos[n]
                return (band_of[n], bary, i)

            columns[c] = [n for _, n in sorted(enumerate(columns[c]), key=key)]
            place(c)


# -- placement ------------------------------------------------------------


@dataclass
class _Item:
    id: str
    kind: str
    size: tuple[float, float]
    band: int = 0
    column: int = 0


@dataclass
class Band:
    key: tuple[str | None, str | None]
    depth: int
    rows: list[float] = field(default_factory=list)
    y: float = 0.0
    height: float = 0.0


class Builder:
    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.graph = flow.graph
        self.children: dict[str | None, list[str]] = {}
        for n, d in self.graph.nodes(data=True):
            parent = d.get("parent")
            self.children.setdefault(
                parent if parent in self.graph else None, []
            ).append(n)
        self.hosted: dict[str, list[str]] = {}
        for n, d in self.graph.nodes(data=True):
            host = d.get("attached_to")
            if (
                d.get("type") == "boundaryEvent"
                and host in self.graph
                and self.graph.nodes[host].get("parent") == d.get("parent")
            ):
                self.hosted.setdefault(host, []).append(n)
        self.boundary = {b for bs in self.hosted.values() for b in bs}
        # Relative positions of each sub-process's content, by sub-process.
        self.inner: dict[str, tuple[tuple[float, float], dict[str, Bounds]]] = {}
        # Data objects and annotations already given a place.
        self.claimed: set[str] = set()

    # Sizes -------------------------------------------------------------

    def size(self, n: str) -> tuple[float, float]:
        kind = self.graph.nodes[n]["type"]
        if n in self.inner:
            return self.inner[n][0]
        w, h = shape_size(kind)
        hosted = len(self.hosted.get(n, ()))
        if hosted and kind in ACTIVITY_TYPES:
            w = max(w, BOUNDARY_STEP * hosted + PADDING)
        return (w, h)

    def build_inner(self, parent: str) -> None:
        """Lay out a sub-process's children; remember their relative boxes."""
        kids = self.children.get(parent, [])
        for k in kids:
            if self.children.get(k):
                self.build_inner(k)
        boxes, (w, h) = self.place_level(
            kids, bands=None, origin=(PADDING, 2 * PADDING)
        )
        size = (max(w + 2 * PADDING, 100.0), max(h + 3 * PADDING, 80.0))
        self.inner[parent] = (size, boxes)

    # One level ---------------------------------------------------------

    def place_level(
        self,
        ids: list[str],
        bands: list[Band] | None,
        origin: tuple[float, float],
        band_of_node: Mapping[str, int] | None = None,
    ) -> tuple[dict[str, Bounds], tuple[float, float]]:
        """Place ``ids`` (one nesting level) in columns and band rows.

        Returns the boxes (absolute if ``bands`` is given, else relative to
        ``origin``) and the content size.
        """
        members = [n for n in ids if n not in self.boundary]
        member_set = set(members)
        rep = {n: n for n in members}
        for host, events in self.hosted.items():
            if host in member_set:
                for b in events:
                    rep[b] = host
        succ: dict[str, list[str]] = {n: [] for n in members}
        pred: dict[str, list[str]] = {n: [] for n in members}
        # Sequence flows first; message flows also order the columns, so
        # that a pool that only answers messages is drawn where it is asked.
        pairs = [
            (u, v, d.get("kind", "sequence") == "sequence")
            for u, v, d in self.graph.edges(data=True)
        ]
        pairs += [(m.source, m.target, False) for m in self.flow.pool_messages]
        pairs.sort(key=lambda p: not p[2])
        for u, v, _ in pairs:
            ru, rv = rep.get(u), rep.get(v)
            if ru is None or rv is None or ru == rv or rv in succ[ru]:
                continue
            succ[ru].append(rv)
            pred[rv].append(ru)
        layer = longest_path_layers(members, succ)
        band_of = {n: (band_of_node or {}).get(n, 0) for n in members}

        # Data objects and annotations join the column of their first node.
        extras = self.extra_items(
            member_set, rep, layer, band_of, top=bands is not None
        )
        for item in extras:
            band_of[item.id] = item.band
            layer[item.id] = item.column

        columns: dict[int, list[str]] = {}
        for n in [*members, *(e.id for e in extras)]:
            columns.setdefault(layer[n], []).append(n)
        for e in extras:
            succ.setdefault(e.id, [])
            pred.setdefault(e.id, [])
        barycenter_order(columns, band_of, succ, pred)

        sizes = {n: self.size(n) for n in members}
        sizes.update({e.id: e.size for e in extras})
        # Column widths and per-band row heights.
        ncols = max(columns, default=-1) + 1
        widths = [0.0] * ncols
        rows: dict[int, list[float]] = {}
        slot: dict[str, int] = {}
        for c, col in columns.items():
            count: dict[int, int] = {}
            for n in col:
                w, h = sizes[n]
                widths[c] = max(widths[c], w)
                bnd = band_of[n]
                k = count.get(bnd, 0)
                count[bnd] = k + 1
                slot[n] = k
                brows = rows.setdefault(bnd, [])
                if len(brows) <= k:
                    brows.append(0.0)
                brows[k] = max(brows[k], h)
        xs: list[float] = []
        x = origin[0]
        for w in widths:
            xs.append(x)
            x += w + COLUMN_GAP
        width = max(x - COLUMN_GAP - origin[0], 0.0)

        band_top: dict[int, float] = {}
        height = 0.0
        if bands is None:
            band_top[0] = origin[1]
            height = rows_height(rows.get(0, []))
        else:
            for i, band in enumerate(bands):
                band.rows = rows.get(i, [])
                band_top[i] = band.y + PADDING

        boxes: dict[str, Bounds] = {}
        for n in sizes:
            w, h = sizes[n]
            c, bnd, k = layer[n], band_of[n], slot[n]
            brows = rows[bnd]
            row_y = band_top[bnd] + sum(brows[:k]) + ROW_GAP * k
            bx = xs[c] + (widths[c] - w) / 2
            by = row_y + (brows[k] - h) / 2
            boxes[n] = (bx, by, w, h)
        for host, events in self.hosted.items():
            if host not in boxes:
                continue
            hx, hy, hw, hh = boxes[host]
            for i, event in enumerate(events):
                ex = hx + hw - BOUNDARY_STEP * (i + 1) + (BOUNDARY_STEP - 36.0) / 2
                boxes[event] = (ex, hy + hh - 18.0, 36.0, 36.0)
        return boxes, (width, height)

    def extra_items(
        self,
        members: set[str],
        rep: Mapping[str, str],
        layer: Mapping[str, int],
        band_of: Mapping[str, int],
        *,
        top: bool,
    ) -> list[_Item]:
        items: list[_Item] = []
        records: list[tuple[str, str, tuple[str, ...]]] = [
            (d.id, d.kind, (*d.inputs, *d.outputs)) for d in self.flow.data_objects
        ] + [(a.id, "textAnnotation", a.targets) for a in self.flow.annotations]
        for rid, kind, targets in records:
            anchor = next(
                (rep[t] for t in targets if t in rep and rep[t] in members), None
            )
            if rid in self.claimed or (anchor is None and not top):
                continue
            if anchor is None:
                items.append(_Item(rid, kind, shape_size(kind), 0, 0))
                continue
            items.append(
                _Item(rid, kind, shape_size(kind), band_of[anchor], layer[anchor])
            )
        for item in items:
            self.claimed.add(item.id)
        return items


def rows_height(rows: list[float]) -> float:
    return sum(rows) + ROW_GAP * max(len(rows) - 1, 0)


def lane_bands(flow: Flow) -> list[tuple[str | None, str | None, int]]:
    """Bands in drawing order as ``(pool id, lane id, depth)`` triples."""
    lanes = flow.lanes
    known = {lane.id for lane in lanes}
    kids: dict[str | None, list[str]] = {}
    for lane in lanes:
        parent = lane.parent if lane.parent in known else None
        kids.setdefault(parent, []).append(lane.id)
    pool_of = {lane.id: lane.pool for lane in lanes}
    pool_ids = [p.id for p in flow.pools]
    used_pools = {d.get("pool_id") for _, d in flow.graph.nodes(data=True)}
    used_lanes = {d.get("lane_id") for _, d in flow.graph.nodes(data=True)}
    bands: list[tuple[str | None, str | None, int]] = []

    def walk(lane_id: str, pool: str | None, depth: int) -> None:
        children = kids.get(lane_id, [])
        if not children or lane_id in used_lanes:
            bands.append((pool, lane_id, depth))
        for child in children:
            walk(child, pool, depth + 1)

    for pool in [*pool_ids, None]:
        roots = [lid for lid in kids.get(None, []) if pool_of[lid] == pool]
        for lid in roots:
            walk(lid, pool, 1)
        loose = not roots and (pool in pool_ids or pool in used_pools)
        if loose or (
            roots
            and any(
                d.get("pool_id") == pool
                and d.get("lane_id") is None
                and not d.get("parent")
                for _, d in flow.graph.nodes(data=True)
            )
        ):
            bands.append((pool, None, 0))
    if not bands:
        bands.append((None, None, 0))
    return bands
