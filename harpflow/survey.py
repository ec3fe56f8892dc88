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
:attr:`SurveyResult.errors` and the survey goes on; so does a procedure
whose worker process dies each time it is run
(:func:`harpflow.survey_run.run_tasks` retries it first).

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
from harpflow.survey_result import COLUMNS, SurveyResult, town_distances
from harpflow.survey_tasks import FlowFile, analyse_procedure, lost_procedure

if TYPE_CHECKING:
    pass

__all__ = ["COLUMNS", "Survey", "SurveyResult", "Town", "town_distances"]

_log = logging.getLogger("harpflow.survey")

#: Suffixes skipped without a word when walking a tree (notes, not flows).
_NOTES = (".md", ".txt", ".rst", ".json")


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
            analyse_procedure,
            tasks,
            jobs=jobs,
            client=client,
            progress=progress,
            lost=lost_procedure,
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
