"""Rich displays for Jupyter: a compact summary and a picture.

The ``_repr_html_`` and ``_repr_svg_`` methods of :class:`~harpflow.model.Flow`,
:class:`~harpflow.match.Matching`, :class:`~harpflow.diff.FlowDiff` and
:class:`~harpflow.score.Divergence` call the functions here (imported on
first display). :func:`support_svg` and :func:`support_html` draw any flow
coloured by a support mapping; :func:`recommendation_svg` and
:func:`recommendation_html` are the displays of a recommended flow
(anything with ``flow`` and ``support``).

The HTML holds a short table and the SVG drawing inline; it has no
timestamps or memory addresses, so a notebook saved with its outputs stays
the same from run to run.

Examples
--------
>>> from harpflow.model import Flow
>>> flow = Flow("印鑑登録")
>>> _ = flow.add_node("t", label="受付", lane="窓口")
>>> html_text = flow_html(flow)
>>> "印鑑登録" in html_text and "<svg" in html_text
True
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from harpflow.render.drawing import draw, pipe, to_dot
from harpflow.render.overlay import KIND_NAMES, draw_diff, support_sketch

if TYPE_CHECKING:
    from harpflow.diff import FlowDiff
    from harpflow.match import Matching
    from harpflow.model import Flow
    from harpflow.score import Divergence

__all__ = [
    "diff_html",
    "diff_svg",
    "divergence_html",
    "divergence_svg",
    "flow_html",
    "flow_svg",
    "matching_html",
    "matching_svg",
    "recommendation_html",
    "recommendation_svg",
    "support_html",
    "support_svg",
]

_MAX_ROWS = 12


def _table(rows: list[tuple[str, str]]) -> str:
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
        f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    return f"<table>{body}</table>"


def _frame_html(frame: object) -> str:
    import pandas as pd

    assert isinstance(frame, pd.DataFrame)
    shown = frame.head(_MAX_ROWS)
    out = shown.to_html(index=False, float_format=lambda v: f"{v:.3f}", border=0)
    if len(frame) > _MAX_ROWS:
        out += f"<p>… {len(frame) - _MAX_ROWS} more rows (to_frame())</p>"
    return out


def _figure(svg: str) -> str:
    return f"<div style='max-width:100%;overflow:auto'>{svg}</div>"


def _svg(data: bytes) -> str:
    return data.decode("utf-8")


def flow_svg(flow: Flow) -> str:
    """The flow drawn in the BPMN style, as SVG text."""
    return _svg(draw(flow))


def flow_html(flow: Flow) -> str:
    """Name, area, town and element counts, then the drawing."""
    stats = flow.stats()
    kinds = ", ".join(f"{k} {v}" for k, v in stats["by_type"].items())
    rows = [
        ("flow", str(flow.name or "")),
        ("area / procedure", f"{flow.area or '-'} / {flow.procedure or '-'}"),
        ("town", str(flow.town or "standard" if flow.town is None else flow.town)),
        ("nodes", f"{stats['nodes']} ({kinds})"),
        (
            "flows",
            f"{stats['sequence_flows']} sequence, {stats['message_flows']} message",
        ),
        ("lanes", "・".join(flow.lane_names()) or "-"),
    ]
    return _table(rows) + _figure(flow_svg(flow))


def matching_svg(m: Matching) -> str:
    """Flow ``b`` coloured by the confidence of each node's correspondence.

    Matched nodes carry the ids of their counterparts in ``a``; unmatched
    nodes stay white.
    """
    score = {y: c.score for c in m.pairs for y in c.b}
    sk = support_sketch(
        m.b,
        score,
        legend_title="一致度 (match confidence)",
        tag="一致",
    )
    for c in m.pairs:
        for y in c.b:
            if y in sk.shapes:
                sk.shapes[y].tags = (*sk.shapes[y].tags, "↔ " + "+".join(c.a))
    return _svg(pipe(to_dot(sk)))


def matching_html(m: Matching) -> str:
    """Counts, the correspondence table, then the picture."""
    rows = [
        ("a", str(m.a.name or "a")),
        ("b", str(m.b.name or "b")),
        ("pairs", str(len(m.pairs))),
        ("unmatched", f"a {len(m.unmatched_a())}, b {len(m.unmatched_b())}"),
    ]
    return _table(rows) + _frame_html(m.to_frame()) + _figure(matching_svg(m))


def diff_svg(fd: FlowDiff) -> str:
    """The diff overlay (town flow against the standard), as SVG text."""
    return _svg(draw_diff(fd))


def _counts(fd: FlowDiff) -> str:
    return ", ".join(f"{KIND_NAMES[k]} {v}" for k, v in fd.counts().items()) or "-"


def diff_html(fd: FlowDiff) -> str:
    """Counts per kind, the changes, then the overlay."""
    rows = [
        ("standard", str(fd.standard.name or "")),
        ("town", str(fd.town.town or fd.town.name or "")),
        ("changes", _counts(fd)),
    ]
    frame = fd.to_frame()[["kind", "code", "standard_label", "town_label", "note"]]
    return _table(rows) + _frame_html(frame) + _figure(diff_svg(fd))


def divergence_svg(dv: Divergence) -> str:
    """The overlay of the changes behind the divergence."""
    return diff_svg(dv.diff)


def divergence_html(dv: Divergence) -> str:
    """Total, components, the largest contributions, then the overlay."""
    rows = [("divergence", f"{dv.total:.3f}")]
    rows += [(k, f"{v:.3f}") for k, v in dv.components.items()]
    rows.append(("changes", _counts(dv.diff)))
    explain = dv.explain()[["kind", "code", "note", "total"]]
    return _table(rows) + _frame_html(explain) + _figure(divergence_svg(dv))


def support_svg(
    flow: Flow,
    support: Mapping[str, float],
    *,
    edge_support: Mapping[tuple[str, str], float] | None = None,
    style: str = "bpmn",
) -> str:
    """A flow coloured by support (node id -> share of towns), as SVG text.

    Examples
    --------
    >>> from harpflow.model import Flow
    >>> flow = Flow("x")
    >>> _ = flow.add_node("a", label="受付", lane="窓口")
    >>> "支持 50%" in support_svg(flow, {"a": 0.5})
    True
    """
    sk = support_sketch(flow, support, edge_support=edge_support)
    return _svg(pipe(to_dot(sk, style=style)))


def support_html(
    flow: Flow,
    support: Mapping[str, float],
    *,
    edge_support: Mapping[tuple[str, str], float] | None = None,
) -> str:
    """Support per step as a table, then the coloured drawing."""
    rows = [
        (flow.nodes[n].label.replace("\n", " ") or n, f"{share:.0%}")
        for n, share in support.items()
        if n in flow.graph and flow.nodes[n].is_activity
    ]
    head = _table([("flow", str(flow.name or "")), ("steps", str(len(rows)))])
    return head + _figure(support_svg(flow, support, edge_support=edge_support))


def recommendation_svg(rec: Any) -> str:
    """A recommended flow coloured by support, for ``Recommendation``.

    ``rec`` needs ``flow`` (a Flow) and ``support`` (node and edge ids ->
    share of towns); ``Recommendation._repr_svg_`` can return this.
    """
    return support_svg(rec.flow, rec.support)


def recommendation_html(rec: Any) -> str:
    """Towns, steps and soundness, then the flow coloured by support."""
    flow = rec.flow
    rows = [
        ("flow", str(flow.name or "")),
        ("towns", "・".join(str(t) for t in getattr(rec, "towns", ()))),
        ("steps", str(len(flow.steps()))),
        ("options left out", str(len(getattr(rec, "options", ())))),
        ("sound", str(getattr(rec, "sound", "-"))),
    ]
    return _table(rows) + _figure(recommendation_svg(rec))
