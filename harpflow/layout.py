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

from collections.abc import Iterable
from dataclasses import dataclass, field

from harpflow.layout_place import (
    LANE_HEADER,
    PADDING,
    POOL_HEADER,
    Band,
    Builder,
    Point,
    Waypoints,
    lane_bands,
    rows_height,
    shape_size,
)
from harpflow.model import Bounds, Flow

__all__ = [
    "Bounds",
    "Layout",
    "Point",
    "existing_layout",
    "layout",
    "route",
    "shape_size",
]


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
    b = Builder(flow)
    graph = flow.graph
    for n in b.children.get(None, []):
        if b.children.get(n):
            b.build_inner(n)

    band_keys = lane_bands(flow)
    max_depth = max((d for _, _, d in band_keys), default=0)
    has_pool = any(p is not None for p, _, _ in band_keys)
    content_x = (POOL_HEADER if has_pool else 0.0) + LANE_HEADER * max_depth + PADDING
    bands = [Band(k[:2], k[2]) for k in band_keys]
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
        band.height = max(rows_height(band.rows), 40.0) + 2 * PADDING
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

    out = Layout()
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
    flow: Flow, bands: list[Band], right: float, has_pool: bool, out: Layout
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
        if boxes:
            out.pools[p.id] = _around(boxes, PADDING, header=POOL_HEADER)
            continue
        # A black-box pool with no coordinates: a band below everything.
        drawn = [*out.nodes.values(), *out.lanes.values(), *out.pools.values()]
        x0 = min((b[0] for b in drawn), default=0.0)
        x1 = max((b[0] + b[2] for b in drawn), default=600.0)
        y = max((b[1] + b[3] for b in drawn), default=0.0) + 2 * PADDING
        out.pools[p.id] = (x0, y, max(x1 - x0, 600.0), 60.0)
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
