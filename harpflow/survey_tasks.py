"""The units of work of a survey, run in worker processes.

Each function here is a pure function of plain arguments (paths as
strings, small frozen records) that returns plain data (dicts, lists,
strings, numbers), so that it can run in a local worker process or on a
Dask worker and its result can be pickled back. :mod:`harpflow.survey`
schedules them and assembles the results.

The unit of work is one procedure (:func:`analyse_procedure`): it reads
the standard and every town flow of the procedure, scores every town
against the standard, unifies the town flows into the recommended flow,
and scores every town against the recommended flow -- unless that flow is
:func:`equivalent` to the standard, where the two scores are the same and
the second is not computed.

A worker reads each standard once (:func:`read_cached`); messages name the
files relative to the survey's root, so that the results do not depend on
where the tree lies.

Examples
--------
>>> from harpflow.survey_tasks import FlowFile
>>> FlowFile("towns/A/01-jumin/tennyu.bpmn", "town", "A", "01-jumin", "tennyu").key
('01-jumin', 'tennyu')
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harpflow.diff import paired
from harpflow.errors import HarpflowError
from harpflow.io import read
from harpflow.match import Matching, match
from harpflow.score import Divergence, score

if TYPE_CHECKING:
    import pandas as pd

    from harpflow.model import Flow
    from harpflow.unify import Recommendation

__all__ = [
    "DIGITS",
    "FlowFile",
    "Outcome",
    "analyse_procedure",
    "describe_error",
    "equivalent",
    "flow_activities",
    "lost_procedure",
    "read_cached",
    "records",
]

#: Decimal places kept for every figure of a survey (stable across machines).
DIGITS = 6


@dataclass(frozen=True, order=True)
class FlowFile:
    """One flow file of a processes tree.

    Attributes
    ----------
    path : str
        Path relative to the tree's root, with ``/`` separators.
    role : str
        ``"standard"`` or ``"town"``.
    town : str or None
        The town id (folder name) of a town flow.
    area : str
        The area folder, e.g. ``"01-jumin"``.
    procedure : str
        The procedure key (file stem), e.g. ``"tennyu"``.
    """

    path: str
    role: str
    town: str | None
    area: str
    procedure: str

    @property
    def key(self) -> tuple[str, str]:
        """``(area, procedure)``: what a town flow shares with its standard."""
        return (self.area, self.procedure)


def describe_error(exc: BaseException, root: str) -> str:
    """One line for an error, with paths made relative to ``root``.

    Errors that are not harpflow's own (a bug, or a library failing on
    input it should have refused) keep their class name.

    Examples
    --------
    >>> from harpflow.errors import ParseError
    >>> describe_error(ParseError("bad", source="/t/towns/A/x.bpmn", line=3), "/t")
    'towns/A/x.bpmn:3: bad'
    >>> describe_error(KeyError("k"), "/t")
    "KeyError: 'k'"
    """
    text = " ".join(str(exc).split())
    if not isinstance(exc, HarpflowError):
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    prefix = root.rstrip("/\\") + os.sep
    return text.replace(prefix, "").replace(prefix.replace(os.sep, "/"), "")


@lru_cache(maxsize=64)
def _read(path: str, mtime_ns: int, size: int) -> Flow:
    from harpflow.io import read

    return read(path)


def read_cached(path: str) -> Flow:
    """Read a flow, once per worker while the file stays the same.

    The cache is keyed on the path, its modification time and its size;
    callers must not modify the returned flow.
    """
    st = Path(path).stat()
    return _read(path, st.st_mtime_ns, st.st_size)


def _flow_row(file: FlowFile, flow: Flow) -> dict[str, Any]:
    from harpflow.io import format_for

    stats = flow.stats()
    return {
        "file": file.path,
        "role": file.role,
        "town": file.town or "",
        "area": file.area,
        "procedure": file.procedure,
        "format": format_for(file.path) or "",
        "name": flow.name or "",
        "nodes": stats["nodes"],
        "activities": flow_activities(flow),
        "sequence_flows": stats["sequence_flows"],
        "message_flows": stats["message_flows"],
        "lanes": stats["lanes"],
    }


def flow_activities(flow: Flow) -> int:
    """Number of activities (tasks, sub-processes, call activities)."""
    from harpflow.model import ACTIVITY_TYPES

    return sum(1 for n in flow.graph.nodes.values() if n["type"] in ACTIVITY_TYPES)


def _change_rows(
    file: FlowFile, frame_rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    return [
        {
            "town": file.town or "",
            "area": file.area,
            "procedure": file.procedure,
            "index": i,
            "kind": r["kind"],
            "code": r["code"] or "",
            "standard_ids": r["standard"],
            "town_ids": r["town"],
            "standard_label": r["standard_label"],
            "town_label": r["town_label"],
            "cost": round(float(r["cost"]), DIGITS),
            "note": r["note"],
        }
        for i, r in enumerate(frame_rows)
    ]


def _error_row(file: FlowFile, stage: str, message: str) -> dict[str, Any]:
    return {
        "file": file.path,
        "town": file.town or "",
        "area": file.area,
        "procedure": file.procedure,
        "stage": stage,
        "message": message,
    }


def _divergence_row(file: FlowFile, result: Divergence) -> dict[str, Any]:
    return {
        "town": file.town or "",
        "area": file.area,
        "procedure": file.procedure,
        "divergence": round(result.total, DIGITS),
        **{k: round(v, DIGITS) for k, v in result.components.items()},
        "changes": len(result.diff),
        "file": file.path,
    }


def analyse_procedure(
    root: str,
    standard: FlowFile | None,
    towns: tuple[FlowFile, ...],
    min_support: float = 0.5,
    draw: bool = True,
) -> dict[str, Any]:
    """Everything a survey computes for one procedure.

    Reads the standard and every town flow; scores each town against the
    standard (the ``before`` side of its fit-gap); unifies the town flows
    into the recommended flow (:func:`harpflow.unify.unify`); scores each
    town against the recommended flow (the ``after`` side).

    Parameters
    ----------
    root : str
        The processes tree.
    standard : FlowFile or None
        The procedure's standard flow (None when the tree has none).
    towns : tuple of FlowFile
        The procedure's town flows.
    min_support : float
        Share of towns a step or practice needs to enter the recommended
        flow.
    draw : bool
        Whether to draw the recommended flow coloured by support (SVG).

    Returns
    -------
    dict
        Rows for the survey's tables -- ``flows``, ``divergence``,
        ``changes``, ``fit_gap``, ``requirements``, ``errors`` -- and
        ``recommendation``: None when there is none, else a dict with the
        recommended ``flow``, its ``bpmn`` bytes (coloured by support), its
        ``svg`` drawing (or None), a summary ``row`` and its own
        ``changes`` against the standard (town ``*``). Errors have a
        ``stage``: ``read`` (a town file), ``standard`` (the standard is
        absent or unreadable), ``analyse`` (matching, diff or score of one
        town) or ``recommend`` (the recommended flow); the survey adds
        ``worker`` (:func:`lost_procedure`).
    """
    out = _empty_output()
    std = _read_standard(root, standard, towns, out)
    if std is None or standard is None:
        return out
    # Only the figures of each score are kept, not its diff: a procedure of
    # every town of a prefecture stays small in memory.
    scored: list[tuple[FlowFile, Flow, Outcome]] = []
    # One matching per town serves its diff and the recommended flow.
    matchings: list[Matching] = []
    for file in towns:
        try:
            flow = read(os.path.join(root, file.path))
        except Exception as exc:  # one broken file must not stop the survey
            out["errors"].append(_error_row(file, "read", describe_error(exc, root)))
            continue
        out["flows"].append(_flow_row(file, flow))
        flow.town = file.town
        try:
            matched = match(std, flow)
            before = score(std, flow, matching=paired(std, flow, matched))
            rows = records(before.diff.to_frame())
        except Exception as exc:
            out["errors"].append(_error_row(file, "analyse", describe_error(exc, root)))
            continue
        out["divergence"].append(_divergence_row(file, before))
        out["changes"].extend(_change_rows(file, rows))
        scored.append((file, flow, Outcome.of(before)))
        matchings.append(matched)
    if not scored:
        return out

    rec = _unify(
        root,
        standard,
        std,
        [(f, fl) for f, fl, _ in scored],
        matchings,
        min_support,
        out,
    )
    if rec is None:
        return out
    # A recommended flow equal to the standard (the usual case where few
    # towns share a practice) is as far from each town as the standard.
    same = equivalent(std, rec.flow)
    for (file, flow, outcome), row in zip(scored, out["divergence"], strict=True):
        try:
            after = outcome if same else Outcome.of(score(rec.flow, flow))
        except Exception as exc:
            message = f"against the recommended flow: {describe_error(exc, root)}"
            out["errors"].append(_error_row(file, "analyse", message))
            continue
        row["to_recommended"] = round(after.total, DIGITS)
        out["fit_gap"].append(_fit_row(file, outcome, after))
    out["recommendation"] = _recommendation(root, standard, std, rec, draw, out)
    return out


def _empty_output() -> dict[str, Any]:
    """The output of a procedure before anything is found: empty tables."""
    tables = ("flows", "divergence", "changes", "fit_gap", "requirements", "errors")
    out: dict[str, Any] = {name: [] for name in tables}
    out["recommendation"] = None
    return out


def lost_procedure(args: tuple[Any, ...], reason: str) -> dict[str, Any]:
    """What a survey keeps of a procedure whose worker process died each
    time it ran (:func:`harpflow.survey_run.run_tasks`): an error row
    (stage ``worker``) for each of its files, and nothing else.

    ``args`` are those of :func:`analyse_procedure`.

    Examples
    --------
    >>> town = FlowFile("towns/A/01-jumin/tennyu.bpmn", "town", "A", "01-jumin",
    ...                 "tennyu")
    >>> out = lost_procedure(("/t", None, (town,), 0.5, True), "killed")
    >>> [(e["file"], e["stage"]) for e in out["errors"]]
    [('towns/A/01-jumin/tennyu.bpmn', 'worker')]
    """
    _root, standard, towns = args[0], args[1], args[2]
    out = _empty_output()
    message = f"not analysed: {reason}"
    for file in ([standard] if standard is not None else []) + list(towns):
        out["errors"].append(_error_row(file, "worker", message))
    return out


def equivalent(a: Flow, b: Flow) -> bool:
    """Whether two flows have the same nodes and edges with the same
    attributes, apart from the support annotations of a recommended flow.

    Examples
    --------
    >>> from harpflow.model import Flow
    >>> f = Flow("f")
    >>> _ = f.add_node("1", type="task", label="受付")
    >>> g = f.copy()
    >>> _ = g.update_node("1", support=1.0)
    >>> h = f.copy()
    >>> _ = h.update_node("1", label="受理")
    >>> equivalent(f, g), equivalent(f, h)
    (True, False)
    """
    # support annotations, and where a node was read (messages only)
    skip = {"support", "towns", "practice", "source"}
    ga, gb = a.graph, b.graph
    if set(ga.nodes) != set(gb.nodes) or set(ga.edges) != set(gb.edges):
        return False
    if a.lane_names() != b.lane_names():
        return False

    def plain(d: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in d.items() if k not in skip}

    return all(plain(ga.nodes[n]) == plain(gb.nodes[n]) for n in ga.nodes) and all(
        plain(ga.edges[e]) == plain(gb.edges[e]) for e in ga.edges
    )


@dataclass(frozen=True)
class Outcome:
    """The figures of one score that a survey keeps: total and change kinds."""

    total: float
    kinds: tuple[str, ...]

    @classmethod
    def of(cls, result: Divergence) -> Outcome:
        """The outcome of a :class:`~harpflow.score.Divergence`."""
        return cls(result.total, tuple(c.kind for c in result.diff))


def _fit_row(file: FlowFile, before: Outcome, after: Outcome) -> dict[str, Any]:
    """A row of the fit-gap table: what the town changes to adopt the
    recommended flow (``after`` read from the town's side)."""
    kinds = after.kinds
    add, drop = kinds.count("missing"), kinds.count("extra")
    return {
        "area": file.area,
        "procedure": file.procedure,
        "town": file.town or "",
        "before": round(before.total, DIGITS),
        "after": round(after.total, DIGITS),
        "gain": round(before.total - after.total, DIGITS),
        "changes": len(kinds),
        "add": add,
        "drop": drop,
        "other": len(kinds) - add - drop,
    }


def _read_standard(
    root: str,
    standard: FlowFile | None,
    towns: tuple[FlowFile, ...],
    out: dict[str, Any],
) -> Flow | None:
    if standard is None:
        for file in towns:
            message = f"no standard flow standard/{file.area}/{file.procedure}.*"
            out["errors"].append(_error_row(file, "standard", message))
        return None
    try:
        std = read_cached(os.path.join(root, standard.path))
    except Exception as exc:
        out["errors"].append(_error_row(standard, "read", describe_error(exc, root)))
        for file in towns:
            message = f"its standard {standard.path} cannot be read"
            out["errors"].append(_error_row(file, "standard", message))
        return None
    out["flows"].append(_flow_row(standard, std))
    return std


def _unify(
    root: str,
    standard: FlowFile,
    std: Flow,
    readable: list[tuple[FlowFile, Flow]],
    matchings: list[Matching],
    min_support: float,
    out: dict[str, Any],
) -> Recommendation | None:
    from harpflow.unify import unify

    named = [flow for _, flow in readable]
    try:
        return unify(named, standard=std, min_support=min_support, matchings=matchings)
    except Exception as exc:
        message = f"no recommended flow: {describe_error(exc, root)}"
        out["errors"].append(_error_row(standard, "recommend", message))
        return None


def _recommendation(
    root: str,
    standard: FlowFile,
    std: Flow,
    rec: Recommendation,
    draw: bool,
    out: dict[str, Any],
) -> dict[str, Any] | None:
    from harpflow.diff import diff

    try:
        req = rec.requirements()
        own = records(diff(std, rec.flow).to_frame())
        bpmn = rec.to_bpmn()
        svg = _draw_support(rec) if draw else None
    except Exception as exc:
        message = f"no recommended flow: {describe_error(exc, root)}"
        out["errors"].append(_error_row(standard, "recommend", message))
        return None
    where = {"area": standard.area, "procedure": standard.procedure}
    for r in records(req):
        out["requirements"].append({**where, **{k: _plain(v) for k, v in r.items()}})
    steps = rec.flow.steps()
    support = rec.support
    mean = sum(support.get(n.id, 0.0) for n in steps) / max(1, len(steps))
    marker = FlowFile(standard.path, "recommended", "*", *standard.key)
    return {
        "flow": rec.flow,
        "bpmn": bpmn,
        "svg": svg,
        "changes": _change_rows(marker, own),
        "row": {
            **where,
            "towns": len(rec.towns),
            "steps": len(steps),
            "mean_support": round(mean, DIGITS),
            "options": len(rec.options),
            "sound": bool(rec.sound),
            "changes": len(own),
        },
    }


def _draw_support(rec: Recommendation) -> bytes:
    """The recommended flow drawn coloured by support (graphviz SVG)."""
    from harpflow.render.overlay import draw_support

    support = rec.support
    nodes = {n: support[n] for n in rec.flow.graph if n in support}
    edges = {
        (e.source, e.target): support[e.id] for e in rec.flow.edges if e.id in support
    }
    return draw_support(rec.flow, nodes, edge_support=edges)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a frame as dicts with string keys."""
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _plain(value: Any) -> Any:
    """A frame cell as plain, stable data (floats rounded, NaN as None)."""
    if isinstance(value, float):
        return None if value != value else round(value, DIGITS)
    if hasattr(value, "item"):
        return _plain(value.item())
    return value
