"""The result of a survey: sorted tables, town distances, the report.

:class:`SurveyResult` gathers the outputs of the procedure tasks of
:meth:`harpflow.survey.Survey.run` into DataFrames with fixed columns
(:data:`COLUMNS`), each sorted so that the result does not depend on which
worker ran what; :func:`town_distances` compares the towns of one
procedure through their changes against the standard.

Examples
--------
>>> COLUMNS["errors"]
['file', 'town', 'area', 'procedure', 'stage', 'message']
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harpflow.survey_tasks import DIGITS, records

if TYPE_CHECKING:
    import pandas as pd

    from harpflow.survey import Survey, Town

__all__ = ["COLUMNS", "SurveyResult", "town_distances"]

#: Columns of each table of a :class:`SurveyResult`, in order.
COLUMNS: dict[str, list[str]] = {
    "flows": [
        "file", "role", "town", "area", "procedure", "format", "name", "nodes",
        "activities", "sequence_flows", "message_flows", "lanes",
    ],
    "divergence": [
        "town", "area", "procedure", "divergence", "node", "structure",
        "behaviour", "responsibility", "changes", "to_recommended", "file",
    ],
    "changes": [
        "town", "area", "procedure", "index", "kind", "code", "standard_ids",
        "town_ids", "standard_label", "town_label", "cost", "note",
    ],
    "town_distances": ["area", "procedure", "town_a", "town_b", "distance"],
    "recommendations": [
        "area", "procedure", "towns", "steps", "mean_support", "options",
        "sound", "changes", "furthest", "file",
    ],
    "fit_gap": [
        "area", "procedure", "town", "before", "after", "gain", "changes",
        "add", "drop", "other",
    ],
    "requirements": [
        "area", "procedure", "step", "label", "lane", "function_ids", "class",
        "support", "towns", "origin", "note",
    ],
    "errors": ["file", "town", "area", "procedure", "stage", "message"],
}  # fmt: skip

_SORT: dict[str, list[str]] = {
    "flows": ["role", "area", "procedure", "town", "file"],
    "divergence": ["area", "procedure", "town"],
    "changes": ["area", "procedure", "town", "index"],
    "town_distances": ["area", "procedure", "town_a", "town_b"],
    "recommendations": ["area", "procedure"],
    "fit_gap": ["area", "procedure", "town"],
    "requirements": ["area", "procedure"],
    "errors": ["file", "stage", "message"],
}


def _frame(name: str, rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """A table of the result with its columns, sorted, index 0..n-1."""
    import pandas as pd

    frame = pd.DataFrame(list(rows), columns=COLUMNS[name])
    frame = frame.sort_values(_SORT[name], kind="stable", ignore_index=True)
    return frame


def town_distances(changes: pd.DataFrame, towns: Iterable[str]) -> pd.DataFrame:
    """Distances between the towns of one procedure, from their changes.

    Each town is a vector of change costs indexed by change signature
    (kind, deviation code, standard step ids); the distance of two towns
    is the L1 distance of their vectors: 0 when they depart from the
    standard in the same way, at most the sum of their divergences.

    Parameters
    ----------
    changes : DataFrame
        Rows of :attr:`SurveyResult.changes` of one procedure (columns
        ``town``, ``kind``, ``code``, ``standard_ids``, ``cost``).
    towns : iterable of str
        The towns to compare (a town without changes is the zero vector).

    Returns
    -------
    DataFrame
        ``town_a``, ``town_b``, ``distance`` for every pair with
        ``town_a < town_b``.

    Examples
    --------
    >>> import pandas as pd
    >>> ch = pd.DataFrame({
    ...     "town": ["A", "B", "B"], "kind": ["missing"] * 3,
    ...     "code": ["V01"] * 3, "standard_ids": ["7", "7", "9"],
    ...     "cost": [0.1, 0.1, 0.05]})
    >>> town_distances(ch, ["A", "B", "C"]).values.tolist()
    [['A', 'B', 0.05], ['A', 'C', 0.1], ['B', 'C', 0.15]]
    """
    import numpy as np
    import pandas as pd

    names = sorted(set(towns))
    index = {t: i for i, t in enumerate(names)}
    sigs = (
        changes["kind"].astype(str)
        + "|"
        + changes["code"].fillna("").astype(str)
        + "|"
        + changes["standard_ids"].fillna("").astype(str)
    )
    columns = {s: j for j, s in enumerate(sorted(set(sigs)))}
    vectors = np.zeros((len(names), max(1, len(columns))))
    for town, sig, cost in zip(changes["town"], sigs, changes["cost"], strict=True):
        if town in index:
            vectors[index[town], columns[sig]] += float(cost)
    rows = []
    for i, a in enumerate(names):
        dist = np.abs(vectors[i + 1 :] - vectors[i]).sum(axis=1)
        for b, d in zip(names[i + 1 :], dist, strict=True):
            rows.append((a, b, round(float(d), DIGITS)))
    return pd.DataFrame(rows, columns=["town_a", "town_b", "distance"])


@dataclass
class SurveyResult:
    """The tables of a survey, and the recommended flows.

    Attributes
    ----------
    flows : DataFrame
        One row per flow read (standards and towns): file, role, town,
        area, procedure, format, name, node and edge counts.
    divergence : DataFrame
        One row per town flow: the divergence from the standard with its
        components (node, structure, behaviour, responsibility), the number
        of changes and ``to_recommended``, the divergence from the
        recommended flow.
    changes : DataFrame
        One row per change of every town flow (kind, deviation code,
        standard and town ids and labels, cost, note).
    town_distances : DataFrame
        Per procedure, the distance of every pair of towns
        (:func:`town_distances`).
    recommendations : DataFrame
        One row per procedure with a recommended flow: towns, steps, mean
        support, options left out, soundness, its changes against the
        standard, the towns furthest from it and its BPMN file name.
    fit_gap : DataFrame
        Per procedure and town: divergence before (from the standard) and
        after (from the recommended flow) and the changes it would make.
    requirements : DataFrame
        Per procedure, the requirements table of the recommended flow.
    errors : DataFrame
        One row per input that could not be used: file, town, area,
        procedure, stage, message.
    recommended : dict
        ``(area, procedure)`` -> dict with ``flow`` (Flow), ``bpmn``
        (bytes) and ``svg`` (bytes or None).
    towns : dict
        Town id -> :class:`Town`.
    recommended_changes : DataFrame
        The changes of each recommended flow against its standard (columns
        of ``changes``, town ``*``).
    """

    flows: pd.DataFrame
    divergence: pd.DataFrame
    changes: pd.DataFrame
    town_distances: pd.DataFrame
    recommendations: pd.DataFrame
    fit_gap: pd.DataFrame
    requirements: pd.DataFrame
    errors: pd.DataFrame
    recommended: dict[tuple[str, str], dict[str, Any]]
    towns: dict[str, Town]
    recommended_changes: pd.DataFrame | None = None

    @classmethod
    def assemble(cls, survey: Survey, outputs: list[dict[str, Any]]) -> SurveyResult:
        """Gather the outputs of the procedure tasks into sorted tables."""

        tables: dict[str, list[dict[str, Any]]] = {k: [] for k in COLUMNS}
        own_changes: list[dict[str, Any]] = []
        recommended: dict[tuple[str, str], dict[str, Any]] = {}
        for out in outputs:
            for name in ("flows", "divergence", "changes", "fit_gap", "errors"):
                tables[name].extend(out[name])
            tables["requirements"].extend(out["requirements"])
            rec = out["recommendation"]
            if rec is not None:
                key = (rec["row"]["area"], rec["row"]["procedure"])
                recommended[key] = {k: rec[k] for k in ("flow", "bpmn", "svg")}
                tables["recommendations"].append(
                    {**rec["row"], "file": f"flows/{key[0]}--{key[1]}.bpmn"}
                )
                own_changes.extend(rec["changes"])
        for rel, reason in survey.skipped:
            parts = rel.split("/")
            tables["errors"].append(
                {
                    "file": rel,
                    "town": parts[1] if parts[0] == "towns" and len(parts) > 2 else "",
                    "area": parts[-2] if len(parts) > 2 else "",
                    "procedure": "",
                    "stage": "find",
                    "message": reason,
                }
            )
        frames = {k: _frame(k, v) for k, v in tables.items() if k != "town_distances"}
        frames["town_distances"] = _distances(frames["changes"], frames["divergence"])
        frames["recommendations"] = _with_furthest(
            frames["recommendations"], frames["divergence"]
        )
        return cls(
            **frames,
            recommended=recommended,
            towns=survey.towns,
            recommended_changes=_frame("changes", own_changes),
        )

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by name, in :data:`COLUMNS` order."""
        return {name: getattr(self, name) for name in COLUMNS}

    def to_dict(self) -> dict[str, Any]:
        """Summary, divergence, recommendations and errors with stable keys."""
        return {
            "summary": self.summary(),
            "divergence": _records(self.divergence),
            "recommendations": _records(self.recommendations),
            "errors": _records(self.errors),
        }

    def summary(self) -> dict[str, Any]:
        """Counts and the mean divergence."""
        div = self.divergence["divergence"]
        return {
            "towns": int(
                self.flows.loc[self.flows["role"] == "town", "town"].nunique()
            ),
            "procedures": int(
                self.divergence[["area", "procedure"]].drop_duplicates().shape[0]
            ),
            "flows": int((self.flows["role"] == "town").sum()),
            "standards": int((self.flows["role"] == "standard").sum()),
            "changes": len(self.changes),
            "errors": len(self.errors),
            "mean_divergence": round(float(div.mean()), 3) if len(div) else None,
        }

    def report(self, out: str | os.PathLike[str], *, title: str | None = None) -> Path:
        """Write the report: README.md, index.html, survey.xlsx, CSV, BPMN.

        See :func:`harpflow.render.report.write_report`.
        """
        from harpflow.render.report import write_report

        return write_report(self, out, title=title)

    def __repr__(self) -> str:
        s = self.summary()
        return (
            f"<SurveyResult {s['towns']} towns, {s['procedures']} procedures, "
            f"{s['flows']} flows, {s['errors']} errors>"
        )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (None if v != v else v) for k, v in row.items()}  # NaN -> None
        for row in records(frame)
    ]


def _distances(changes: pd.DataFrame, divergence: pd.DataFrame) -> pd.DataFrame:
    parts = []
    keys = divergence[["area", "procedure"]].drop_duplicates()
    for area, proc in zip(keys["area"], keys["procedure"], strict=True):
        mask = (changes["area"] == area) & (changes["procedure"] == proc)
        towns = divergence.loc[
            (divergence["area"] == area) & (divergence["procedure"] == proc), "town"
        ]
        frame = town_distances(changes[mask], towns)
        frame.insert(0, "procedure", str(proc))
        frame.insert(0, "area", str(area))
        parts.append(frame)
    rows = [r for p in parts for r in records(p)]
    return _frame("town_distances", rows)


def _with_furthest(recs: pd.DataFrame, divergence: pd.DataFrame) -> pd.DataFrame:
    """Fill ``furthest``: the three towns furthest from the recommended flow."""
    out = recs.copy()
    furthest = []
    for area, proc in zip(recs["area"], recs["procedure"], strict=True):
        rows = divergence[
            (divergence["area"] == area) & (divergence["procedure"] == proc)
        ]
        rows = rows.sort_values(["to_recommended", "town"], ascending=[False, True])
        furthest.append(", ".join(rows["town"].head(3)))
    out["furthest"] = furthest
    return out
