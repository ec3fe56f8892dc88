"""Faults during a survey: workers that die, and report writes cut short.

A worker process is killed here for real (``os._exit`` inside the task,
as the kernel's out-of-memory killer or a crash in a compiled library
would end it), and a report write is interrupted both by an exception
and by killing the writing process part-way through.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import dask_cluster
from test_survey import _assert_same, _small_tree

import harpflow.survey
from harpflow.errors import HarpflowError, WorkerLostError
from harpflow.io.source import umask, write_folder
from harpflow.survey import Survey, SurveyResult
from harpflow.survey_run import run_tasks
from harpflow.survey_tasks import analyse_procedure

ROOT = Path(__file__).resolve().parents[1]


# -- task functions (module level: workers import them by name) ---------------


def die_once(flag: str, value: int) -> int:
    """Kill this worker the first time a task with ``value`` 3 runs."""
    if value == 3 and not os.path.exists(flag):
        Path(flag).touch()
        os._exit(70)
    return value * value


def always_die(value: int) -> int:
    """Kill this worker whenever ``value`` is 3."""
    if value == 3:
        os._exit(70)
    return value * value


def dying_analyse(*args: Any) -> dict[str, Any]:
    """:func:`analyse_procedure`, except that the worker of 02-inkan dies."""
    if args[1] is not None and args[1].area == "02-inkan":
        os._exit(70)
    return analyse_procedure(*args)


def dying_once_analyse(*args: Any) -> dict[str, Any]:
    """:func:`analyse_procedure`; the first worker of 02-inkan dies."""
    flag = Path(args[0]).parent / "died"
    if args[1] is not None and args[1].area == "02-inkan" and not flag.exists():
        flag.touch()
        os._exit(70)
    return analyse_procedure(*args)


# -- local processes -----------------------------------------------------------


def test_a_task_whose_worker_died_runs_again(tmp_path: Path) -> None:
    flag = str(tmp_path / "died")
    tasks = [(flag, v) for v in range(6)]
    assert run_tasks(die_once, tasks, jobs=2, progress=False) == [
        v * v for v in range(6)
    ]
    assert os.path.exists(flag)  # the worker really died once


def test_a_task_that_always_kills_its_worker_is_lost_alone() -> None:
    tasks = [(v,) for v in range(6)]
    seen: list[tuple[Any, ...]] = []

    def lost(args: tuple[Any, ...], reason: str) -> int:
        seen.append(args)
        assert "worker process died" in reason
        return -1

    out = run_tasks(always_die, tasks, jobs=2, progress=False, lost=lost)
    assert out == [0, 1, 4, -1, 16, 25]
    assert seen == [(3,)]  # the tasks that shared its pool were not lost


def test_without_lost_a_dead_worker_is_a_clear_error() -> None:
    with pytest.raises(WorkerLostError, match=r"task \(3,\).*worker process died"):
        run_tasks(always_die, [(v,) for v in range(4)], jobs=2, progress=False)
    assert issubclass(WorkerLostError, HarpflowError)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _small_tree(tmp_path_factory.mktemp("faults") / "tree")


@pytest.fixture(scope="module")
def normal(tree: Path) -> SurveyResult:
    return Survey.load(tree).run(jobs=2, progress=False)


def test_survey_whose_worker_dies_once_completes_unchanged(
    tree: Path, normal: SurveyResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tree.parent / "died").unlink(missing_ok=True)
    monkeypatch.setattr(harpflow.survey, "analyse_procedure", dying_once_analyse)
    result = Survey.load(tree).run(jobs=2, progress=False)
    assert (tree.parent / "died").exists()
    _assert_same(result, normal)


def test_survey_whose_worker_always_dies_reports_that_procedure(
    tree: Path, normal: SurveyResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(harpflow.survey, "analyse_procedure", dying_analyse)
    result = Survey.load(tree).run(jobs=2, progress=False)
    errors = result.errors
    assert set(errors["stage"]) == {"worker"}
    assert set(errors["area"]) == {"02-inkan"}
    assert "standard/02-inkan/toroku.yaml" in set(errors["file"])
    assert len(errors) == 1 + 6  # the standard and the six towns
    assert all("worker process died" in m for m in errors["message"])
    # the other procedure is whole
    keep = normal.divergence[normal.divergence["area"] != "02-inkan"]
    pd.testing.assert_frame_equal(
        result.divergence.reset_index(drop=True), keep.reset_index(drop=True)
    )


# -- Dask -------------------------------------------------------------------


def test_dask_worker_that_dies_ends_in_a_survey(
    tree: Path, normal: SurveyResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tree.parent / "died").unlink(missing_ok=True)
    # Dask gives up on a task after its worker died twice (the default is 4)
    with dask_cluster(**{"distributed.scheduler.allowed-failures": 1}) as (_, client):
        # dies once: Dask runs the task again on a live worker
        monkeypatch.setattr(harpflow.survey, "analyse_procedure", dying_once_analyse)
        once = Survey.load(tree).run(client=client, progress=False)
        assert (tree.parent / "died").exists()
        # dies every time: Dask gives up, the survey reports the procedure
        monkeypatch.setattr(harpflow.survey, "analyse_procedure", dying_analyse)
        always = Survey.load(tree).run(client=client, progress=False)
    _assert_same(once, normal)
    assert set(always.errors["stage"]) == {"worker"}
    assert set(always.errors["area"]) == {"02-inkan"}
    assert all("Dask lost its workers" in m for m in always.errors["message"])


# -- report writes ----------------------------------------------------------------


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_interrupted_report_write_leaves_the_previous_report(
    tmp_path: Path, normal: SurveyResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "report"
    normal.report(out)
    (out / "notes.txt").write_text("the analyst's own notes", encoding="utf-8")
    before = _snapshot(out)

    # A write cut short half-way through (an exception, or Ctrl-C).
    real_open = Path.open
    count = {"files": 0}

    def failing_open(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if "w" in mode:
            count["files"] += 1
            if count["files"] == 5:
                raise KeyboardInterrupt
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", failing_open)
    with pytest.raises(KeyboardInterrupt):
        normal.report(out)
    monkeypatch.undo()
    assert count["files"] == 5
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no leftovers

    # A complete write replaces the report files and keeps the notes.
    normal.report(out)
    assert _snapshot(out) == before
    assert (out / "README.md").stat().st_mode & 0o777 == 0o666 & ~umask()


def test_killed_report_write_leaves_the_previous_report(tmp_path: Path) -> None:
    out = tmp_path / "report"
    write_folder(out, {"README.md": b"old", "figures/a.svg": b"<svg/>"})
    before = _snapshot(out)
    # The writing process is killed (no clean-up runs) after three files.
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from harpflow.io.source import umask, write_folder
        real_open = Path.open
        count = [0]
        def open_then_die(self, mode="r", *args, **kwargs):
            if "w" in mode:
                count[0] += 1
                if count[0] == 3:
                    os._exit(9)
            return real_open(self, mode, *args, **kwargs)
        Path.open = open_then_die
        files = {{f"figures/f{{i}}.svg": b"new" for i in range(6)}}
        files["README.md"] = b"new"
        write_folder({str(out)!r}, files)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=False)
    assert done.returncode == 9
    assert _snapshot(out) == before
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "report"]
    assert leftovers and all(p.startswith(".report.new-") for p in leftovers)
    # The next write finishes and clears what the killed one left.
    write_folder(out, {"README.md": b"newer"})
    assert _snapshot(out) == {"README.md": b"newer", "figures/a.svg": b"<svg/>"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_report_files_must_stay_in_their_folder(tmp_path: Path) -> None:
    for bad in ("../x.csv", "/etc/x", "a//b", "figures/../../x"):
        with pytest.raises(HarpflowError, match="stay in its folder"):
            write_folder(tmp_path / "r", {bad: b"x"})
    assert not (tmp_path / "x.csv").exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(HarpflowError, match="is a file"):
        write_folder(tmp_path / "file", {"a": b"1"})
