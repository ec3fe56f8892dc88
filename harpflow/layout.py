"""Coordinates for flows that have none: layered, left to right, in lanes.

:func:`layout` gives every node, lane, pool, data object and text
annotation a rectangle and every flow a polyline, so that a writer (BPMN
diagram interchange, diagrams.net) can draw a flow read from a step table
or a Mermaid chart. :func:`existing_layout` does the same for a flow that
already has coordinates for its nodes, filling in only what is missing.

The method follows the layered drawing of Sugiyama, Tagawa and Toda [1]_:

1. Break cycles: a depth-first search from the nodes without incoming
   flows (then from any node not yet reached, in insertion order) marks
   back edges, which are left out of the layering. The graph holds the
   sequence flows and, after them, the message flows, so that a pool that
   only answers messages is drawn beside the step that asks.
2. Layer: longest-path layering of the remaining acyclic graph; a node's
   column is one more than the largest column of its predecessors.
3. Order: nodes within a column are ordered by the barycenter heuristic of
   [1]_ (see also [2]_), sweeping down and up a few times; the order never
   moves a node out of its lane.
4. Place: each lane is a horizontal band; nested lanes are bands inside
   their parent's band, and pools are stacked top to bottom. Inside a band
   the k-th node of a column sits in the band's k-th row. Columns are as
   wide as their widest node and rows as tall as their tallest, so no two
   shapes overlap.
5. Route: orthogonal polylines, from the right side of the source to the
   left side of the target; back edges run below both ends.

Sub-processes that contain nodes are drawn *expanded*: their children are
laid out first, recursively, as one band, and the sub-process is made large
enough to hold them; the children then sit inside the sub-process's
rectangle. Boundary events sit on the lower edge of their activity (which
is widened to hold them); their outgoing flows count as flows of the
activity when layering. Data objects and text annotations take a slot in
the column of the first node they are associated with.

Examples
--------
>>> from harpflow.model import Flow
>>> from harpflow.layout import layout
>>> flow = Flow("転入届")
>>> _ = flow.add_node("s", type="startEvent", lane="住民")
>>> _ = flow.add_node("t", label="受付", lane="窓口")
>>> _ = flow.add_node("e", type="endEvent", lane="窓口")
>>> _ = flow.add_edge("s", "t", id="f1")
>>> _ = flow.add_edge("t", "e", id="f2")
>>> lay = layout(flow)
>>> lay.nodes["s"], lay.nodes["t"]
((50.0, 20.0, 36.0, 36.0), (136.0, 100.0, 100.0, 80.0))
>>> lay.edges["f2"]
((236.0, 140.0), (286.0, 140.0))
>>> lay.lanes["住民"][1] < lay.lanes["窓口"][1]
True

Notes
-----
- Edges are routed without avoiding shapes: a long flow may pass over a
  node between its ends.
- Children of a sub-process are placed inside it whatever lane they name;
  the sub-process's lane is what places them.
- The layout is deterministic: ties are broken by insertion order.

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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from harpflow.model import (
    ACTIVITY_TYPES,
    EVENT_TYPES,
    GATEWAY_TYPES,
    Bounds,
    Flow,
)

__all__ = [
    "Bounds",
    "Layout",
    "Point",
    "existing_layout",
    "layout",
    "route",
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


@dataclass
class Layout:
    """Rectangles and polylines for every element of a flow.

    Rectangles are ``(x, y, width, height)``; polylines are tuples of at
    least two ``(x, y)`` points.

    Attributes
    ----------
    nodes, lanes, pools, data_objects, annotations : dict
        Rectangles by id.
    edges : dict
        Polylines of sequence and message flows between nodes, by edge id
        (also the ids in ``duplicates``).
    pool_messages : dict
        Polylines of message flows that end on a pool, by id.
    associations : dict
        Polylines of associations, by ``(data object or annotation id,
        node id)``.
    """

    nodes: dict[str, Bounds] = field(default_factory=dict)
    lanes: dict[str, Bounds] = field(default_factory=dict)
    pools: dict[str, Bounds] = field(default_factory=dict)
    data_objects: dict[str, Bounds] = field(default_factory=dict)
    annotations: dict[str, Bounds] = field(default_factory=dict)
    edges: dict[str, Waypoints] = field(default_factory=dict)
    pool_messages: dict[str, Waypoints] = field(default_factory=dict)
    associations: dict[tuple[str, str], Waypoints] = field(default_factory=dict)

    def shapes(self) -> dict[str, Bounds]:
        """Every rectangle by id: nodes, data objects and annotations."""
        return {**self.nodes, **self.data_objects, **self.annotations}


def route(a: Bounds, b: Bounds, *, back: bool = False) -> Waypoints:
    """An orthogonal polyline from rectangle ``a`` to rectangle ``b``.

    Forward flows leave ``a`` on its right side and enter ``b`` on its
    left; when ``b`` does not lie to the right of ``a`` (or ``back`` is
    true) the line leaves below ``a`` and enters below ``b``.

    Examples
    --------
    >>> route((0, 0, 100, 80), (150, 0, 100, 80))
    ((100.0, 40.0), (150.0, 40.0))
    >>> route((0, 0, 100, 80), (150, 100, 100, 80))
    ((100.0, 40.0), (125.0, 40.0), (125.0, 140.0), (150.0, 140.0))
    """
    ax, ay, aw, ah = (float(v) for v in a)
    bx, by, bw, bh = (float(v) for v in b)
    sy, ty = ay + ah / 2, by + bh / 2
    if not back and bx >= ax + aw:
        sx, tx = ax + aw, bx
        if sy == ty:
            return ((sx, sy), (tx, ty))
        mid = (sx + tx) / 2
        return ((sx, sy), (mid, sy), (mid, ty), (tx, ty))
    sx, tx = ax + aw / 2, bx + bw / 2
    below = max(ay + ah, by + bh) + PADDING
    return ((sx, ay + ah), (sx, below), (tx, below), (tx, by + bh))


def _vertical(a: Bounds, b: Bounds) -> Waypoints:
    """A polyline between shapes in different pools, leaving up or down."""
    ax, ay, aw, ah = (float(v) for v in a)
    bx, by, bw, bh = (float(v) for v in b)
    sx = ax + aw / 2
    tx = bx + bw / 2
    if bx <= sx <= bx + bw:
        tx = sx
    elif ax <= tx <= ax + aw:
        sx = tx
    if by >= ay + ah:
        sy, ty = ay + ah, by
    elif ay >= by + bh:
        sy, ty = ay, by + bh
    else:
        return ((sx, ay + ah / 2), (tx, by + bh / 2))
    if sx == tx:
        return ((sx, sy), (tx, ty))
    mid = (sy + ty) / 2
    return ((sx, sy), (sx, mid), (tx, mid), (tx, ty))


def _centre_line(a: Bounds, b: Bounds) -> Waypoints:
    return (
        (float(a[0]) + float(a[2]) / 2, float(a[1]) + float(a[3]) / 2),
        (float(b[0]) + float(b[2]) / 2, float(b[1]) + float(b[3]) / 2),
    )


# -- layering -------------------------------------------------------------


def _back_edges(
    nodes: list[str], succ: Mapping[str, list[str]]
) -> set[tuple[str, str]]:
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


def _layers(nodes: list[str], succ: Mapping[str, list[str]]) -> dict[str, int]:
    """Longest-path layering of the graph without its back edges."""
    back = _back_edges(nodes, succ)
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


def _order(
    columns: dict[int, list[str]],
    band_of: Mapping[str, int],
    succ: Mapping[str, list[str]],
    pred: Mapping[str, list[str]],
    sweeps: int = 4,
) -> None:
    """Barycenter ordering within columns, never mixing bands (in place)."""
    keys = sorted(columns)

    def position() -> dict[str, float]:
        pos: dict[str, float] = {}
        for c in keys:
            for i, n in enumerate(columns[c]):
                pos[n] = band_of[n] * 10_000 + i
        return pos

    for sweep in range(sweeps):
        down = sweep % 2 == 0
        for c in keys if down else reversed(keys):
            pos = position()
            near_of = pred if down else succ

            def key(
                item: tuple[int, str],
                pos: dict[str, float] = pos,
                near_of: Mapping[str, list[str]] = near_of,
            ) -> tuple[int, float, int]:
                i, n = item
                near = [pos[m] for m in near_of[n] if m in pos]
                bary = sum(near) / len(near) if near else pos[n]
                return (band_of[n], bary, i)

            columns[c] = [n for _, n in sorted(enumerate(columns[c]), key=key)]


# -- placement ------------------------------------------------------------


@dataclass
class _Item:
    id: str
    kind: str
    size: tuple[float, float]
    band: int = 0
    column: int = 0


@dataclass
class _Band:
    key: tuple[str | None, str | None]
    depth: int
    rows: list[float] = field(default_factory=list)
    y: float = 0.0
    height: float = 0.0


class _Builder:
    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.graph = flow.graph
        self.out = Layout()
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
        bands: list[_Band] | None,
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
        layer = _layers(members, succ)
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
        _order(columns, band_of, succ, pred)

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
            height = _rows_height(rows.get(0, []))
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


def _rows_height(rows: list[float]) -> float:
    return sum(rows) + ROW_GAP * max(len(rows) - 1, 0)


def _lane_tree(flow: Flow) -> list[tuple[str | None, str | None, int]]:
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


def layout(flow: Flow) -> Layout:
    """Compute a layered, left-to-right layout of a flow in lane bands.

    Parameters
    ----------
    flow : Flow
        Any flow; coordinates it may already have are ignored.

    Returns
    -------
    Layout
        A rectangle for every node, lane, pool, data object and text
        annotation, and a polyline of at least two points for every flow
        and association. No two node rectangles overlap except a boundary
        event on its activity and a node inside its expanded sub-process;
        every top-level node lies inside its lane's band.

    Examples
    --------
    >>> from harpflow.model import Flow
    >>> flow = Flow()
    >>> _ = flow.add_node("a", type="startEvent")
    >>> _ = flow.add_node("b")
    >>> _ = flow.add_edge("a", "b", id="f")
    >>> lay = layout(flow)
    >>> lay.nodes["a"], lay.nodes["b"]
    ((20.0, 42.0, 36.0, 36.0), (106.0, 20.0, 100.0, 80.0))
    """
    b = _Builder(flow)
    graph = flow.graph
    for n in b.children.get(None, []):
        if b.children.get(n):
            b.build_inner(n)

    band_keys = _lane_tree(flow)
    max_depth = max((d for _, _, d in band_keys), default=0)
    has_pool = any(p is not None for p, _, _ in band_keys)
    content_x = (POOL_HEADER if has_pool else 0.0) + LANE_HEADER * max_depth + PADDING
    bands = [_Band(k[:2], k[2]) for k in band_keys]
    index = {band.key: i for i, band in enumerate(bands)}
    lane_band = {band.key[1]: i for i, band in enumerate(bands) if band.key[1]}

    def band_for(n: str) -> int:
        d = graph.nodes[n]
        lane, pool = d.get("lane_id"), d.get("pool_id")
        if lane in lane_band:
            return lane_band[lane]
        return index.get((pool, None), index.get((None, None), 0))

    top = b.children.get(None, [])
    band_of_node = {n: band_for(n) for n in top}
    inner_claimed = set(b.claimed)
    # A first pass fixes the rows; a second places bands at their heights.
    _, (width, _) = b.place_level(top, bands, (content_x, 0.0), band_of_node)
    y = 0.0
    for band in bands:
        band.y = y
        band.height = max(_rows_height(band.rows), 40.0) + 2 * PADDING
        y += band.height
    b.claimed = set(inner_claimed)
    boxes, (width, _) = b.place_level(top, bands, (content_x, 0.0), band_of_node)
    right = content_x + width + PADDING

    # Children of expanded sub-processes, from the outside in.
    def settle(parent: str) -> None:
        if parent not in b.inner:
            return
        px, py = boxes[parent][0], boxes[parent][1]
        for k, (x, yk, w, h) in b.inner[parent][1].items():
            boxes[k] = (px + x, py + yk, w, h)
            settle(k)

    for n in list(top):
        settle(n)

    out = b.out
    for n in graph:
        out.nodes[n] = boxes[n]
    for rec in flow.data_objects:
        if rec.id in boxes:
            out.data_objects[rec.id] = boxes[rec.id]
    for ann in flow.annotations:
        if ann.id in boxes:
            out.annotations[ann.id] = boxes[ann.id]

    _band_bounds(flow, bands, right, has_pool, out)
    _route_all(flow, out)
    return out


def _band_bounds(
    flow: Flow, bands: list[_Band], right: float, has_pool: bool, out: Layout
) -> None:
    pool_x = 0.0
    lane_x0 = POOL_HEADER if has_pool else 0.0
    lanes = {lane.id: lane for lane in flow.lanes}
    for band in bands:
        pool, lane = band.key
        chain: list[str] = []
        while lane is not None:
            chain.append(lane)
            parent = lanes[lane].parent
            lane = parent if parent in lanes else None
        for depth, lid in enumerate(reversed(chain)):
            x = lane_x0 + LANE_HEADER * depth
            _grow(out.lanes, lid, (x, band.y, right - x, band.height))
        if pool is not None:
            _grow(out.pools, pool, (pool_x, band.y, right - pool_x, band.height))
    for rec in flow.lanes:
        if rec.id not in out.lanes:
            y = max((b[1] + b[3] for b in out.lanes.values()), default=0.0)
            out.lanes[rec.id] = (lane_x0, y, right - lane_x0, 60.0)
    for p in flow.pools:
        if p.id not in out.pools:
            y = max(
                (b[1] + b[3] for b in [*out.pools.values(), *out.lanes.values()]),
                default=0.0,
            )
            out.pools[p.id] = (pool_x, y + PADDING, right - pool_x, 60.0)


def _grow(table: dict[str, Bounds], key: str, box: Bounds) -> None:
    if key not in table:
        table[key] = box
        return
    x, y, w, h = table[key]
    x2, y2 = max(x + w, box[0] + box[2]), max(y + h, box[1] + box[3])
    x, y = min(x, box[0]), min(y, box[1])
    table[key] = (x, y, x2 - x, y2 - y)


def _route_all(flow: Flow, out: Layout) -> None:
    shapes = {**out.nodes, **out.pools}
    for u, v, d in flow.graph.edges(data=True):
        a, b = out.nodes[u], out.nodes[v]
        if d.get("kind", "sequence") == "message":
            line = _vertical(a, b)
        else:
            line = route(a, b)
        for eid in (d["id"], *d.get("duplicates", ())):
            out.edges[eid] = line
    for msg in flow.pool_messages:
        out.pool_messages[msg.id] = _vertical(shapes[msg.source], shapes[msg.target])
    for rec in flow.data_objects:
        for n in dict.fromkeys((*rec.inputs, *rec.outputs)):
            if n in out.nodes and rec.id in out.data_objects:
                out.associations[(rec.id, n)] = _centre_line(
                    out.data_objects[rec.id], out.nodes[n]
                )
    for ann in flow.annotations:
        for t in ann.targets:
            target = _target_box(out, t)
            if target is not None and ann.id in out.annotations:
                out.associations[(ann.id, t)] = _centre_line(
                    out.annotations[ann.id], target
                )


def existing_layout(flow: Flow) -> Layout:
    """The flow's own coordinates, completed where something is missing.

    Node bounds are taken as they are (every node must have them). Lanes
    and pools without bounds get the box around their nodes; data objects
    and annotations without bounds are put below their first node; flows
    without waypoints are routed with :func:`route`.

    Raises
    ------
    ValueError
        If a node has no bounds (use :func:`layout` for such a flow).

    Examples
    --------
    >>> from harpflow.model import Flow
    >>> flow = Flow()
    >>> _ = flow.add_node("a", type="startEvent", bounds=(0, 0, 36, 36))
    >>> _ = flow.add_node("b", bounds=(100, -22, 100, 80))
    >>> _ = flow.add_edge("a", "b", id="f")
    >>> existing_layout(flow).edges["f"]
    ((36.0, 18.0), (100.0, 18.0))
    """
    out = Layout()
    graph = flow.graph
    for n, d in graph.nodes(data=True):
        if d.get("bounds") is None:
            raise ValueError(f"node {n!r} has no bounds")
        out.nodes[n] = tuple(float(v) for v in d["bounds"])  # type: ignore[assignment]
    lanes = {lane.id: lane for lane in flow.lanes}
    for lane in reversed(flow.lanes):
        if lane.bounds is not None:
            out.lanes[lane.id] = lane.bounds
            continue
        boxes = [
            out.nodes[n]
            for n, d in graph.nodes(data=True)
            if d.get("lane_id") == lane.id
        ]
        boxes += [
            out.lanes[k]
            for k, v in lanes.items()
            if v.parent == lane.id and k in out.lanes
        ]
        out.lanes[lane.id] = _around(boxes, PADDING)
    out.lanes = {lane.id: out.lanes[lane.id] for lane in flow.lanes}
    for p in flow.pools:
        if p.bounds is not None:
            out.pools[p.id] = p.bounds
            continue
        boxes = [
            out.nodes[n] for n, d in graph.nodes(data=True) if d.get("pool_id") == p.id
        ]
        boxes += [out.lanes[ln.id] for ln in flow.lanes if ln.pool == p.id]
        out.pools[p.id] = _around(boxes, PADDING, header=POOL_HEADER)
    below: dict[str, float] = {}
    for rid, kind, targets, bounds, table in [
        *(
            (d.id, d.kind, (*d.inputs, *d.outputs), d.bounds, out.data_objects)
            for d in flow.data_objects
        ),
        *(
            (a.id, "textAnnotation", a.targets, a.bounds, out.annotations)
            for a in flow.annotations
        ),
    ]:
        if bounds is not None:
            table[rid] = bounds
            continue
        w, h = shape_size(kind)
        anchor = next((t for t in targets if t in out.nodes), None)
        if anchor is None:
            x0 = min((b[0] for b in out.nodes.values()), default=0.0)
            y0 = max((b[1] + b[3] for b in out.nodes.values()), default=0.0)
            anchor_box: Bounds = (x0, y0, 0.0, 0.0)
            anchor = ""
        else:
            anchor_box = out.nodes[anchor]
        y = below.get(anchor, anchor_box[1] + anchor_box[3] + PADDING)
        table[rid] = (anchor_box[0], y, w, h)
        below[anchor] = y + h + PADDING / 2
    for u, v, d in graph.edges(data=True):
        given = tuple(d.get("waypoints") or ())
        line = (
            given
            if len(given) >= 2
            else (
                _vertical(out.nodes[u], out.nodes[v])
                if d.get("kind") == "message"
                else route(out.nodes[u], out.nodes[v])
            )
        )
        for eid in (d["id"], *d.get("duplicates", ())):
            out.edges[eid] = line
    shapes = {**out.nodes, **out.pools}
    for msg in flow.pool_messages:
        given = tuple(msg.waypoints)
        out.pool_messages[msg.id] = (
            given
            if len(given) >= 2
            else _vertical(shapes[msg.source], shapes[msg.target])
        )
    for rec in flow.data_objects:
        for n in dict.fromkeys((*rec.inputs, *rec.outputs)):
            if n in out.nodes:
                out.associations[(rec.id, n)] = _centre_line(
                    out.data_objects[rec.id], out.nodes[n]
                )
    for ann in flow.annotations:
        for t in ann.targets:
            target = _target_box(out, t)
            if target is not None:
                out.associations[(ann.id, t)] = _centre_line(
                    out.annotations[ann.id], target
                )
    return out


def _target_box(out: Layout, ref: str) -> Bounds | None:
    """The rectangle of anything an annotation may point at; a flow's is a
    point at the middle of its line."""
    box = out.shapes().get(ref) or out.lanes.get(ref) or out.pools.get(ref)
    if box is not None:
        return box
    line = out.edges.get(ref) or out.pool_messages.get(ref)
    if line:
        x, y = line[len(line) // 2]
        return (x, y, 0.0, 0.0)
    return None


def _around(boxes: Iterable[Bounds], pad: float, header: float = 0.0) -> Bounds:
    items = list(boxes)
    if not items:
        return (0.0, 0.0, 100.0 + header, 60.0)
    x0 = min(b[0] for b in items) - pad - header
    y0 = min(b[1] for b in items) - pad
    x1 = max(b[0] + b[2] for b in items) + pad
    y1 = max(b[1] + b[3] for b in items) + pad
    return (x0, y0, x1 - x0, y1 - y0)
