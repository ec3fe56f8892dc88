"""Survey a processes tree: every town, every procedure, in parallel.

:meth:`Survey.load` finds the standard and town flows of a processes tree
(the layout of ``processes/``: ``standard/<area>/<procedure>.<ext>``,
``towns/towns.csv``, ``towns/<town>/<area>/<procedure>.<ext>``);
:meth:`Survey.run` reads, matches, diffs and scores every town flow
against its standard, computes the recommended flow of every procedure
(:func:`harpflow.unify.unify`) and the town-to-town distances, and returns
a :class:`SurveyResult` of DataFrames. :meth:`SurveyResult.report` writes
the report (:mod:`harpflow.render.report`).

Work is spread over local processes (:class:`concurrent.futures.
ProcessPoolExecutor`, ``jobs`` of them) or over a Dask cluster when a
``dask.distributed.Client`` is given; one task is one procedure
(:func:`harpflow.survey_tasks.analyse_procedure`). Every table is sorted,
so the result is the same whatever ran it and in whatever order tasks
finished. A file that cannot be read becomes a row of
:attr:`SurveyResult.errors` and the survey goes on.

Examples
--------
>>> from pathlib import Path
>>> import harpflow
>>> tree = Path(harpflow.__file__).parents[1] / "processes"
>>> survey = Survey.load(tree)
>>> len(survey.towns), len(survey.procedures()) >= 6
(12, True)
>>> survey.town_files[0].path
'towns/A/01-jumin/tennyu.bpmn'

Notes
-----
Town-to-town distances are not computed by scoring every pair of towns,
which grows with the square of the towns per procedure (179 towns of
Hokkaido are 15,931 pairs per procedure). Each town is instead described
by the changes of its diff against the standard, as a vector of change
costs indexed by change signature (kind, deviation code, standard step
ids); the distance of two towns is the L1 distance of their vectors
(:func:`town_distances`). It is 0 for towns that depart from the standard
in the same way, at most the sum of their two divergences (the way
through the standard), and cheap for any number of towns. Towns that
depart in different ways at the same step count both departures; steps
only the towns have (``extra``) are compared by kind and code, not by
label.

One task is one procedure with all its towns, so the parallelism is the
number of procedures, and one worker holds all the town flows of a
procedure. The ``town_distances`` table has one row per pair of towns and
procedure: cheap to compute, but it grows with the square of the towns
(1.5 million rows per procedure for 1,741 municipalities).

Dask workers must see the tree at the same path as the client (a shared
file system): tasks carry paths, not file contents. Warnings raised while
reading in worker processes are not shown; degraded input shows in the
changes instead.
"""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harpflow.errors import HarpflowError
from harpflow.survey_tasks import DIGITS, FlowFile, analyse_procedure, records

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COLUMNS", "Survey", "SurveyResult", "Town", "town_distances"]

_log = logging.getLogger("harpflow.survey")

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

#: Suffixes skipped without a word when walking a tree (notes, not flows).
_NOTES = (".md", ".txt", ".rst", ".json")


def _frame(name: str, rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """A table of the result with its columns, sorted, index 0..n-1."""
    import pandas as pd

    frame = pd.DataFrame(list(rows), columns=COLUMNS[name])
    frame = frame.sort_values(_SORT[name], kind="stable", ignore_index=True)
    return frame


@dataclass(frozen=True)
class Town:
    """One row of ``towns/towns.csv``."""

    id: str
    name: str
    kind: str = ""
    population: int | None = None
    region: str = ""


@dataclass
class Survey:
    """The flows of a processes tree, ready to run.

    Attributes
    ----------
    root : Path
        The tree.
    standards : list of FlowFile
        One standard flow per procedure.
    town_files : list of FlowFile
        The town flows, sorted by area, procedure and town.
    towns : dict
        Town id -> :class:`Town` (from ``towns/towns.csv`` when present,
        else one per town folder).
    skipped : list of tuple
        ``(path, reason)`` for files that are in the tree but cannot be a
        flow of the survey (an unknown format, a file out of place); they
        become error rows of the result.
    """

    root: Path
    standards: list[FlowFile]
    town_files: list[FlowFile]
    towns: dict[str, Town]
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Survey:
        """Find the standard and town flows of a processes tree.

        Parameters
        ----------
        path : path
            A folder with ``standard/`` and ``towns/`` in it.

        Returns
        -------
        Survey

        Raises
        ------
        HarpflowError
            If the folder has neither ``standard/`` nor ``towns/``.
        """
        root = Path(path)
        if not (root / "standard").is_dir() and not (root / "towns").is_dir():
            raise HarpflowError(
                f"{root}: not a processes tree (no standard/ or towns/ folder)"
            )
        skipped: list[tuple[str, str]] = []
        standards: list[FlowFile] = []
        for rel, parts in _walk(root, "standard", skipped):
            if len(parts) != 3:
                skipped.append((rel, "not at standard/<area>/<procedure>.<ext>"))
                continue
            standards.append(FlowFile(rel, "standard", None, parts[1], _stem(rel)))
        town_files: list[FlowFile] = []
        for rel, parts in _walk(root, "towns", skipped):
            if len(parts) == 2 and parts[1] == "towns.csv":
                continue
            if len(parts) != 4:
                skipped.append((rel, "not at towns/<town>/<area>/<procedure>.<ext>"))
                continue
            town_files.append(FlowFile(rel, "town", parts[1], parts[2], _stem(rel)))
        standards = _unique_standards(standards, skipped)
        town_files.sort(key=lambda f: (f.area, f.procedure, f.town or "", f.path))
        towns = _read_towns(root / "towns" / "towns.csv")
        for f in town_files:
            if f.town and f.town not in towns:
                towns[f.town] = Town(f.town, f.town)
        _log.debug(
            "%s: %d standards, %d town flows", root, len(standards), len(town_files)
        )
        return cls(root, standards, town_files, dict(sorted(towns.items())), skipped)

    def procedures(self) -> list[tuple[str, str]]:
        """``(area, procedure)`` of every procedure some town flow has."""
        return sorted({f.key for f in self.town_files})

    def run(
        self,
        jobs: int | None = None,
        client: Any = None,
        *,
        min_support: float = 0.5,
        progress: bool | None = None,
        draw: bool = True,
    ) -> SurveyResult:
        """Analyse every procedure of the survey.

        Parameters
        ----------
        jobs : int, optional
            Local worker processes; the CPU count by default. ``1`` runs
            everything in this process. Ignored when ``client`` is given.
        client : dask.distributed.Client, optional
            Run the tasks on this Dask cluster instead.
        min_support : float
            Share of towns that a step or practice needs to enter a
            recommended flow (:func:`harpflow.unify.unify`).
        progress : bool, optional
            Show a progress bar (tqdm; the widget in Jupyter). By default
            only when standard error is a terminal or in Jupyter.
        draw : bool
            Draw each recommended flow coloured by support (needs graphviz).

        Returns
        -------
        SurveyResult
        """
        from harpflow.survey_run import run_tasks

        standards = {f.key: f for f in self.standards}
        groups: dict[tuple[str, str], list[FlowFile]] = {}
        for f in self.town_files:
            groups.setdefault(f.key, []).append(f)
        root = str(self.root.resolve())
        tasks = [
            (root, standards.get(key), tuple(files), min_support, draw)
            for key, files in sorted(groups.items())
        ]
        outputs = run_tasks(
            analyse_procedure, tasks, jobs=jobs, client=client, progress=progress
        )
        return SurveyResult.assemble(self, outputs)


def _stem(rel: str) -> str:
    name = rel.rsplit("/", 1)[-1]
    return name.split(".", 1)[0] if not name.startswith(".") else name


def _walk(
    root: Path, top: str, skipped: list[tuple[str, str]]
) -> Iterable[tuple[str, tuple[str, ...]]]:
    """Files under ``root/top`` that may be flows, as (relative path, parts)."""
    from harpflow.io import format_for

    base = root / top
    if not base.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or name.lower().endswith(_NOTES):
                continue
            rel = Path(dirpath, name).relative_to(root).as_posix()
            if format_for(name) is None:
                skipped.append((rel, "not a flow format harpflow reads"))
                continue
            yield rel, tuple(rel.split("/"))


def _unique_standards(
    standards: list[FlowFile], skipped: list[tuple[str, str]]
) -> list[FlowFile]:
    """One standard per procedure; a second file of the same procedure is
    reported, the first in name order is used."""
    seen: dict[tuple[str, str], FlowFile] = {}
    for f in sorted(standards):
        if f.key in seen:
            skipped.append(
                (
                    f.path,
                    f"a second standard of {f.area}/{f.procedure}; "
                    f"{seen[f.key].path} is used",
                )
            )
            continue
        seen[f.key] = f
    return [seen[k] for k in sorted(seen)]


def _read_towns(path: Path) -> dict[str, Town]:
    """Towns from ``towns.csv`` (``id,name,kind,population,region``)."""
    if not path.is_file():
        return {}
    towns: dict[str, Town] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            tid = (row.get("id") or "").strip()
            if not tid:
                continue
            pop = (row.get("population") or "").strip()
            towns[tid] = Town(
                tid,
                (row.get("name") or tid).strip(),
                (row.get("kind") or "").strip(),
                int(pop) if pop.isdigit() else None,
                (row.get("region") or "").strip(),
            )
    return towns


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
