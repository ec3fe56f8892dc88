"""Survey: loading a processes tree, running it locally and on Dask, errors.

Most tests run on a small copy of ``processes/`` (two procedures, six
towns in six formats) so that each run takes seconds; the full sample
survey is run by ``tests/test_report.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import PROCESSES, dask_cluster

from harpflow.cli import main
from harpflow.errors import HarpflowError
from harpflow.render.report_assets import write_csv
from harpflow.survey import COLUMNS, Survey, SurveyResult, town_distances
from harpflow.survey_run import progress_enabled, run_tasks

PROCEDURES = [("01-jumin", "tennyu"), ("02-inkan", "toroku")]
TOWNS = ["A", "B", "C", "D", "E", "F"]


def _small_tree(dest: Path) -> Path:
    """Two procedures of six towns (BPMN, diagrams.net, XLSX, CSV, Mermaid)."""
    for area, proc in PROCEDURES:
        (dest / "standard" / area).mkdir(parents=True, exist_ok=True)
        shutil.copy(
            PROCESSES / "standard" / area / f"{proc}.yaml",
            dest / "standard" / area / f"{proc}.yaml",
        )
        for town in TOWNS:
            (src,) = (PROCESSES / "towns" / town / area).glob(f"{proc}.*")
            target = dest / "towns" / town / area / src.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, target)
    shutil.copy(PROCESSES / "towns" / "towns.csv", dest / "towns" / "towns.csv")
    return dest


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _small_tree(tmp_path_factory.mktemp("tree"))


@pytest.fixture(scope="module")
def local(small: Path) -> SurveyResult:
    return Survey.load(small).run(jobs=2, progress=False)


def _assert_same(a: SurveyResult, b: SurveyResult) -> None:
    for name in COLUMNS:
        pd.testing.assert_frame_equal(
            getattr(a, name), getattr(b, name), check_exact=True, obj=name
        )
    assert sorted(a.recommended) == sorted(b.recommended)
    for key, rec in a.recommended.items():
        assert rec["bpmn"] == b.recommended[key]["bpmn"]
        assert rec["svg"] == b.recommended[key]["svg"]


# -- loading ------------------------------------------------------------------


def test_load_finds_the_sample_tree() -> None:
    survey = Survey.load(PROCESSES)
    assert len(survey.town_files) == 72
    assert len(survey.procedures()) == 6
    assert len({f.key for f in survey.standards}) == len(survey.standards) >= 40
    assert survey.towns["A"].name == "A市"
    assert survey.towns["L"].population == 900
    assert survey.skipped == []
    # gold correspondences and the towns list are not flows
    assert not any("gold" in f.path for f in survey.town_files)


def test_load_reports_files_out_of_place(tmp_path: Path) -> None:
    tree = _small_tree(tmp_path)
    (tree / "towns" / "A" / "stray.yaml").write_text("steps: []\n", encoding="utf-8")
    (tree / "towns" / "A" / "01-jumin" / "scan.pdf").write_bytes(b"%PDF-1.4")
    (tree / "towns" / "A" / "01-jumin" / "README.md").write_text("notes")
    survey = Survey.load(tree)
    reasons = dict(survey.skipped)
    assert reasons["towns/A/stray.yaml"].startswith("not at towns/<town>/<area>/")
    assert reasons["towns/A/01-jumin/scan.pdf"] == "not a flow format harpflow reads"
    assert "towns/A/01-jumin/README.md" not in reasons


def test_load_refuses_a_folder_that_is_no_tree(tmp_path: Path) -> None:
    with pytest.raises(HarpflowError, match="not a processes tree"):
        Survey.load(tmp_path)
    result = CliRunner().invoke(main, ["survey", str(tmp_path), "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a processes tree" in result.output


# -- the tables ---------------------------------------------------------------


def test_tables_have_their_columns_and_are_sorted(local: SurveyResult) -> None:
    for name, cols in COLUMNS.items():
        frame = getattr(local, name)
        assert list(frame.columns) == cols, name
        assert list(frame.index) == list(range(len(frame))), name
    div = local.divergence
    assert len(div) == len(PROCEDURES) * len(TOWNS)
    assert list(div["town"]) == TOWNS * len(PROCEDURES)
    assert div["divergence"].between(0, 1).all()
    assert (div[["node", "structure", "behaviour", "responsibility"]] >= 0).all().all()
    assert local.errors.empty
    assert set(local.flows["role"]) == {"standard", "town"}
    assert len(local.flows) == len(div) + len(PROCEDURES)


def test_changes_agree_with_the_divergence_rows(local: SurveyResult) -> None:
    counts = local.changes.groupby(["area", "procedure", "town"]).size()
    for row in local.divergence.itertuples():
        assert counts.get((row.area, row.procedure, row.town), 0) == row.changes
    # the costs of a town's changes are shares of its divergence
    costs = local.changes.groupby(["area", "procedure", "town"])["cost"].sum()
    for row in local.divergence.itertuples():
        assert costs[(row.area, row.procedure, row.town)] <= row.divergence + 1e-5


def test_town_distances_are_bounded_by_the_way_through_the_standard(
    local: SurveyResult,
) -> None:
    dist = local.town_distances
    assert len(dist) == len(PROCEDURES) * len(TOWNS) * (len(TOWNS) - 1) // 2
    assert (dist["town_a"] < dist["town_b"]).all()
    div = local.divergence.set_index(["area", "procedure", "town"])["divergence"]
    for r in dist.itertuples():
        bound = (
            div[(r.area, r.procedure, r.town_a)] + div[(r.area, r.procedure, r.town_b)]
        )
        assert 0 <= r.distance <= bound + 1e-5


def test_town_distances_of_towns_departing_alike_are_zero() -> None:
    changes = pd.DataFrame(
        {
            "town": ["A", "B", "C", "C"],
            "kind": ["missing", "missing", "missing", "extra"],
            "code": ["V01", "V01", "V01", "V08"],
            "standard_ids": ["4", "4", "4", ""],
            "cost": [0.1, 0.1, 0.1, 0.2],
        }
    )
    d = town_distances(changes, ["C", "B", "A"]).set_index(["town_a", "town_b"])
    assert d.loc[("A", "B"), "distance"] == 0
    assert d.loc[("A", "C"), "distance"] == pytest.approx(0.2)
    assert d.loc[("B", "C"), "distance"] == pytest.approx(0.2)


def test_recommendations_name_the_towns_furthest_from_them(
    local: SurveyResult,
) -> None:
    recs = local.recommendations
    assert [(r.area, r.procedure) for r in recs.itertuples()] == PROCEDURES
    assert recs["sound"].all()
    for r in recs.itertuples():
        rows = local.divergence[
            (local.divergence["area"] == r.area)
            & (local.divergence["procedure"] == r.procedure)
        ]
        worst = rows.sort_values(["to_recommended", "town"], ascending=[False, True])
        assert r.furthest == ", ".join(worst["town"].head(3))
        assert local.recommended[(r.area, r.procedure)]["bpmn"].startswith(b"<?xml")
    assert set(local.fit_gap["town"]) == set(TOWNS)
    assert set(local.requirements["class"]) <= {"必須", "標準オプション", "対象外"}


# -- same result whatever runs it ----------------------------------------------


def test_one_process_gives_the_same_result(small: Path, local: SurveyResult) -> None:
    _assert_same(Survey.load(small).run(jobs=1, progress=False), local)


def test_dask_cluster_gives_the_same_result(
    small: Path, local: SurveyResult, tmp_path: Path
) -> None:
    with dask_cluster() as (cluster, client):
        assert len(client.scheduler_info()["workers"]) == 2
        on_dask = Survey.load(small).run(client=client, progress=False)
        # the command line connects to the same scheduler by its address
        args = ["survey", str(small), "-o", str(tmp_path), "--json"]
        args += ["--scheduler", cluster.scheduler_address]
        cli = CliRunner().invoke(main, args)
    _assert_same(on_dask, local)
    assert cli.exit_code == 0, cli.output
    for name in ("divergence", "changes", "town_distances"):
        expected = write_csv(getattr(local, name))
        assert (tmp_path / f"{name}.csv").read_bytes() == expected, name


# -- errors -------------------------------------------------------------------


def test_a_broken_file_is_reported_and_the_survey_goes_on(tmp_path: Path) -> None:
    tree = _small_tree(tmp_path / "tree")
    broken = tree / "towns" / "B" / "01-jumin" / "tennyu.drawio"
    broken.write_bytes(broken.read_bytes()[:700])
    (tree / "towns" / "C" / "02-inkan" / "toroku.xlsx").write_bytes(b"PK\x03\x04junk")
    out = tmp_path / "report"
    result = CliRunner().invoke(
        main, ["survey", str(tree), "-o", str(out), "--jobs", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    errors = pd.read_csv(out / "errors.csv")
    assert list(errors["file"]) == [
        "towns/B/01-jumin/tennyu.drawio",
        "towns/C/02-inkan/toroku.xlsx",
    ]
    assert set(errors["stage"]) == {"read"}
    readme = (out / "README.md").read_text(encoding="utf-8")
    page = (out / "index.html").read_text(encoding="utf-8")
    section = readme.split("## 読めなかった入力")[1]
    for row in errors.itertuples():
        # the reason names the file relative to the tree, never where it lay
        assert row.message and str(tmp_path) not in row.message
        assert f"| {row.file} | read | " in section
        assert row.file in page
    # the other flows were analysed
    div = pd.read_csv(out / "divergence.csv")
    assert len(div) == len(PROCEDURES) * len(TOWNS) - 2
    assert ("B", "02-inkan") in set(zip(div["town"], div["area"], strict=True))


def test_a_standard_that_cannot_be_read_skips_its_towns(tmp_path: Path) -> None:
    tree = _small_tree(tmp_path)
    (tree / "standard" / "02-inkan" / "toroku.yaml").write_text("steps: [\n")
    (tree / "towns" / "A" / "03-gaikokujin").mkdir()
    shutil.copy(
        tree / "towns" / "A" / "01-jumin" / "tennyu.bpmn",
        tree / "towns" / "A" / "03-gaikokujin" / "tennyu.bpmn",
    )
    result = Survey.load(tree).run(jobs=1, progress=False)
    errors = result.errors.set_index("file")
    assert errors.loc["standard/02-inkan/toroku.yaml", "stage"] == "read"
    assert errors.loc["towns/A/02-inkan/toroku.bpmn", "message"] == (
        "its standard standard/02-inkan/toroku.yaml cannot be read"
    )
    assert errors.loc["towns/A/03-gaikokujin/tennyu.bpmn", "message"].startswith(
        "no standard flow"
    )
    assert set(result.divergence["area"]) == {"01-jumin"}
    assert [k for k in result.recommended] == [("01-jumin", "tennyu")]


# -- running tasks and progress -------------------------------------------------


def test_run_tasks_keeps_the_order_of_the_tasks() -> None:
    tasks = [(n, 3) for n in range(20, 0, -1)]
    assert run_tasks(divmod, tasks, jobs=2, progress=False) == [
        divmod(*t) for t in tasks
    ]


def test_progress_bar_only_when_asked_or_on_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert progress_enabled(None) is False  # stderr is captured: no terminal
    run_tasks(divmod, [(1, 1)], jobs=1)
    assert capsys.readouterr().err == ""
    run_tasks(divmod, [(1, 1), (2, 1)], jobs=1, progress=True)
    err = capsys.readouterr().err
    assert "harpflow survey" in err and "2/2" in err


def test_survey_help() -> None:
    result = CliRunner().invoke(main, ["survey", "--help"])
    assert result.exit_code == 0
    for option in ("--jobs", "--scheduler", "--json", "-o"):
        assert option in result.output
