"""Drawings that carry an analysis: diff overlays and support colouring.

:func:`diff_sketch` draws a town's flow against its standard. Every change
kind has one colour (:data:`KIND_COLOURS`), used for the shapes it touches,
for their deviation-code tags and in the legend:

- missing standard steps appear as dashed red *ghosts* in their standard
  lane, linked with dashed red edges to the town counterparts of their
  standard neighbours (a lane the town lacks is added, dashed);
- extra town steps are green, lane and type changes orange, reordered steps
  purple; the other kinds have colours of their own;
- each touched shape carries a small tag per change: its deviation code
  (``V01``-``V17``) when there is one, and the kind, in Japanese (欠落) or,
  when neither flow has a Japanese label, in English (missing), as the
  notes of the diff are.

:func:`support_sketch` colours a flow by support: the share of towns
that follow each step (node id -> share in [0, 1]), on a five-step blue
scale with a legend; the edges may carry shares too.

Examples
--------
>>> from harpflow.model import Flow
>>> flow = Flow("x")
>>> _ = flow.add_node("a", label="受付", lane="窓口")
>>> _ = flow.add_node("b", label="審査", lane="担当")
>>> _ = flow.add_edge("a", "b")
>>> sk = support_sketch(flow, {"a": 1.0, "b": 0.25})
>>> sk.shapes["a"].fill, sk.shapes["b"].tags
('#08519c', ('支持 25%',))
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from harpflow.diff import CHANGE_KINDS, Change, FlowDiff
from harpflow.diff_change import japanese
from harpflow.errors import HarpflowError
from harpflow.model import Flow
from harpflow.render.drawing import LegendRow, Link, Shape, Sketch, pipe, sketch
from harpflow.render.drawing import to_dot as _to_dot

__all__ = [
    "KIND_COLOURS",
    "KIND_NAMES",
    "SUPPORT_SCALE",
    "diff_sketch",
    "draw_diff",
    "draw_support",
    "support_colour",
    "support_sketch",
]

#: Border colour and fill of each change kind.
KIND_COLOURS: dict[str, tuple[str, str]] = {
    "missing": ("#d62728", "#fde0e0"),
    "extra": ("#2ca02c", "#dff3df"),
    "merged": ("#1f77b4", "#dbe9f6"),
    "split": ("#1f77b4", "#dbe9f6"),
    "relabelled": ("#7f7f7f", "#f0f0f0"),
    "lane_changed": ("#ff7f0e", "#ffe8cc"),
    "type_changed": ("#ff7f0e", "#ffe8cc"),
    "reordered": ("#9467bd", "#ece2f5"),
    "gateway_changed": ("#8c564b", "#efe3df"),
    "loop_added": ("#17becf", "#d9f4f7"),
    "loop_removed": ("#17becf", "#d9f4f7"),
    "handoff_added": ("#e377c2", "#fae3f2"),
    "handoff_missing": ("#e377c2", "#fae3f2"),
    "attribute_changed": ("#bcbd22", "#f5f5d5"),
}
#: Japanese names of the change kinds, for tags and legends.
KIND_NAMES: dict[str, str] = {
    "missing": "欠落",
    "extra": "追加",
    "merged": "統合",
    "split": "分割",
    "relabelled": "名称変更",
    "lane_changed": "担当変更",
    "type_changed": "種別変更",
    "reordered": "順序変更",
    "gateway_changed": "分岐変更",
    "loop_added": "繰返し追加",
    "loop_removed": "繰返し欠落",
    "handoff_added": "連携追加",
    "handoff_missing": "連携欠落",
    "attribute_changed": "属性変更",
}
# A shape touched by several changes takes the colour of the first kind here.
_PRIORITY = (
    "missing",
    "extra",
    "reordered",
    "lane_changed",
    "type_changed",
    "merged",
    "split",
    "gateway_changed",
    "loop_added",
    "loop_removed",
    "handoff_added",
    "handoff_missing",
    "relabelled",
    "attribute_changed",
)
#: Support scale: (lower bound, fill) from low to high support.
SUPPORT_SCALE: tuple[tuple[float, str], ...] = (
    (0.0, "#eff3ff"),
    (0.2, "#bdd7e7"),
    (0.4, "#6baed6"),
    (0.6, "#3182bd"),
    (0.8, "#08519c"),
)
_SUPPORT_BORDER = "#08306b"
_GHOST = "ghost:"


def _css(kind: str) -> str:
    return "hf_" + kind


def _kind_name(kind: str, ja: bool) -> str:
    return KIND_NAMES[kind] if ja else kind.replace("_", " ")


def _tag(change: Change, ja: bool = True) -> str:
    name = _kind_name(change.kind, ja)
    return f"{change.code} {name}" if change.code else name


def diff_sketch(fd: FlowDiff, *, title: str | None = None) -> Sketch:
    """The town's flow with the changes of ``fd`` drawn on it.

    Parameters
    ----------
    fd : FlowDiff
        From :func:`harpflow.diff.diff`.
    title : str, optional
        Defaults to "standard → town".

    Returns
    -------
    Sketch
        Ghost shapes have ids ``"ghost:<standard id>"``.
    """
    std, town, m = fd.standard, fd.town, fd.matching
    ja = japanese(std, town)
    if title is None:
        who = town.town or town.name or "town"
        if town.town is None and town.source:
            who = "/".join(Path(town.source).parts[-3:])
        title = f"{std.name or 'standard'} → {who}"
    sk = sketch(town, title=title)

    # Which shapes each change touches: town ids, else the town counterparts
    # of its standard ids, else ghosts of the standard nodes.
    touched: dict[str, list[Change]] = {}
    ghosts: dict[str, list[Change]] = {}
    for change in fd:
        targets = [t for t in change.town if t in sk.shapes]
        if not targets and change.kind != "missing":
            for s in change.standard:
                pair = m.pair_of_a(s)
                targets.extend(t for t in (pair.b if pair else ()) if t in sk.shapes)
        if targets and change.kind != "missing":
            for t in dict.fromkeys(targets):
                touched.setdefault(t, []).append(change)
        else:
            for s in change.standard:
                if s in std.graph:
                    ghosts.setdefault(s, []).append(change)

    for sid, changes in touched.items():
        _mark(sk.shapes[sid], changes, ja)
    for s, changes in ghosts.items():
        node = std.nodes[s]
        shape = Shape(
            id=_GHOST + s,
            type=node.type,
            label=node.label,
            lane=node.lane,
            medium=node.medium,
            classes=("hf_node", "hf_ghost"),
            dashed=True,
        )
        _mark(shape, changes, ja)
        sk.shapes[shape.id] = shape
        if node.lane and node.lane not in sk.lanes:
            sk.lanes.insert(_ghost_lane_place(sk, std, fd, s), node.lane)
            sk.ghost_lanes.add(node.lane)
    _ghost_links(sk, std, fd, set(ghosts))

    kinds = {c.kind for c in fd}
    sk.legend = [
        LegendRow(
            KIND_COLOURS[k][0],
            KIND_COLOURS[k][1],
            f"{KIND_NAMES[k]} ({k})" if ja else _kind_name(k, ja),
            dashed=k == "missing",
        )
        for k in CHANGE_KINDS
        if k in kinds
    ]
    sk.legend_title = ("凡例 (legend)" if ja else "legend") if sk.legend else ""
    return sk


def _mark(shape: Shape, changes: list[Change], ja: bool = True) -> None:
    kinds = sorted({c.kind for c in changes}, key=_PRIORITY.index)
    colour, fill = KIND_COLOURS[kinds[0]]
    shape.colour, shape.fill = colour, fill
    shape.classes = (*shape.classes, *(_css(k) for k in kinds))
    tags = [_tag(c, ja) for c in changes]
    shape.tags = tuple(dict.fromkeys(tags))


def _ghost_lane_place(sk: Sketch, std: Flow, fd: FlowDiff, s: str) -> int:
    """Where a lane the town lacks goes: after its standard neighbour's lane."""
    for u in std.predecessors(s):
        pair = fd.matching.pair_of_a(u)
        for t in pair.b if pair else ():
            lane = sk.shapes[t].lane if t in sk.shapes else None
            if lane in sk.lanes:
                return sk.lanes.index(lane) + 1
    return len(sk.lanes)


def _ghost_links(sk: Sketch, std: Flow, fd: FlowDiff, ghosts: set[str]) -> None:
    """Dashed links from and to each ghost, through the matching."""
    colour = KIND_COLOURS["missing"][0]

    def ends(s: str) -> list[str]:
        if s in ghosts:
            return [_GHOST + s]
        pair = fd.matching.pair_of_a(s)
        return [t for t in (pair.b if pair else ()) if t in sk.shapes]

    seen: set[tuple[str, str]] = set()
    for g in sorted(ghosts, key=list(std.nodes).index):
        for u in std.predecessors(g):
            for a in ends(u):
                seen.add((a, _GHOST + g))
        for v in std.successors(g):
            for b in ends(v):
                seen.add((_GHOST + g, b))
    order = {sid: i for i, sid in enumerate(sk.shapes)}
    for a, b in sorted(seen, key=lambda e: (order[e[0]], order[e[1]])):
        sk.links.append(
            Link(a, b, colour=colour, dashed=True, classes=("hf_ghost_link",))
        )


def support_colour(share: float) -> str:
    """Fill colour of a support share on :data:`SUPPORT_SCALE`.

    Examples
    --------
    >>> support_colour(0.0), support_colour(0.5), support_colour(1.0)
    ('#eff3ff', '#6baed6', '#08519c')
    """
    fill = SUPPORT_SCALE[0][1]
    for bound, colour in SUPPORT_SCALE:
        if share >= bound:
            fill = colour
    return fill


def support_sketch(
    flow: Flow,
    support: Mapping[str, float],
    *,
    edge_support: Mapping[tuple[str, str], float] | None = None,
    title: str | None = None,
    legend_title: str = "支持率 (share of towns)",
    tag: str = "支持",
) -> Sketch:
    """A flow coloured by support.

    Parameters
    ----------
    flow : Flow
        The recommended flow (or any flow).
    support : mapping
        Node id -> share in [0, 1]. Nodes without a share stay white and
        untagged. A key that is the id of an edge (and not of a node) gives
        that edge's share, so ``Recommendation.support`` can be passed as
        it is.
    edge_support : mapping, optional
        ``(source, target)`` -> share; drawn as edge width and colour.
    title : str, optional
    legend_title, tag : str
        Words for the legend heading and the per-node tag.

    Raises
    ------
    HarpflowError
        If a share lies outside [0, 1].
    """
    sk = sketch(flow, title=title)
    edge_ids = {e.id: (e.source, e.target) for e in flow.edges}
    by_ends = dict(edge_support or {})
    for node_id, share in support.items():
        if not 0.0 <= share <= 1.0:
            raise HarpflowError(f"support of {node_id!r} is {share}, not in [0, 1]")
        shape = sk.shapes.get(node_id)
        if shape is None:
            if node_id in edge_ids:
                by_ends.setdefault(edge_ids[node_id], share)
            continue
        shape.fill = support_colour(share)
        shape.colour = _SUPPORT_BORDER
        if share >= 0.6:
            shape.font_colour = "white"
        shape.tags = (f"{tag} {share:.0%}",)
        shape.classes = (*shape.classes, "hf_support")
    for link in sk.links:
        edge_share = by_ends.get((link.source, link.target))
        if edge_share is not None:
            link.colour = support_colour(max(edge_share, 0.4))
            link.width = 0.8 + 3.0 * edge_share
            link.classes = (*link.classes, "hf_support")
    bounds = [b for b, _ in SUPPORT_SCALE] + [1.0]
    sk.legend = [
        LegendRow(_SUPPORT_BORDER, fill, f"{lo:.0%}–{hi:.0%}")
        for (lo, fill), hi in zip(SUPPORT_SCALE, bounds[1:], strict=True)
    ]
    sk.legend_title = legend_title
    return sk


def draw_diff(fd: FlowDiff, *, style: str = "bpmn", format: str = "svg") -> bytes:
    """Draw a town's flow against its standard (see :func:`diff_sketch`).

    Examples
    --------
    >>> import harpflow
    >>> from harpflow.diff import diff
    >>> std = harpflow.read('''
    ... steps:
    ...   - {番号: 1, 担当: 窓口, 作業: 受付}
    ...   - {番号: 2, 担当: 担当, 作業: 審査}
    ...   - {番号: 3, 担当: 課長, 作業: 決裁}
    ... ''', format="yaml")
    >>> town = harpflow.read('''
    ... steps:
    ...   - {番号: a, 担当: 窓口, 作業: 受付}
    ...   - {番号: c, 担当: 課長, 作業: 決裁}
    ... ''', format="yaml")
    >>> svg = draw_diff(diff(std, town)).decode("utf-8")
    >>> "hf_missing" in svg and "欠落 (missing)" in svg
    True
    """
    return pipe(_to_dot(diff_sketch(fd), style=style), format)


def draw_support(
    flow: Flow,
    support: Mapping[str, float],
    *,
    edge_support: Mapping[tuple[str, str], float] | None = None,
    style: str = "bpmn",
    format: str = "svg",
) -> bytes:
    """Draw a flow coloured by support (see :func:`support_sketch`)."""
    sk = support_sketch(flow, support, edge_support=edge_support)
    return pipe(_to_dot(sk, style=style), format)
