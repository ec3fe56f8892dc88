"""Survey report: the committed sample is current, files are byte-identical,
links resolve, the page works offline, the workbook has its sheets."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import PROCESSES, ROOT

from harpflow.render.report import CSV_TABLES, html_table, markdown_table
from harpflow.render.report_assets import SHEETS, mean_distances
from harpflow.survey import Survey, SurveyResult

SAMPLE = ROOT / "reports" / "sample"


@pytest.fixture(scope="module")
def result() -> SurveyResult:
    return Survey.load(PROCESSES).run(jobs=2, progress=False)


@pytest.fixture(scope="module")
def report(result: SurveyResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return result.report(tmp_path_factory.mktemp("report") / "sample")


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_the_committed_sample_report_is_current(report: Path) -> None:
    committed, fresh = _files(SAMPLE), _files(report)
    assert sorted(committed) == sorted(fresh), "run `make demo` and commit"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"reports/sample differs in {stale}: run `make demo` and commit"


def test_the_same_result_writes_the_same_bytes(
    result: SurveyResult, report: Path, tmp_path: Path
) -> None:
    again = result.report(tmp_path / "again")
    assert _files(again) == _files(report)


def test_report_has_every_part(result: SurveyResult, report: Path) -> None:
    names = set(_files(report))
    assert {"README.md", "index.html", "survey.xlsx"} <= names
    assert {f"{t}.csv" for t in CSV_TABLES} <= names
    for area, proc in result.recommended:
        assert f"flows/{area}--{proc}.bpmn" in names
        assert f"figures/flow-{area}--{proc}.svg" in names
    for figure in ("divergence-heatmap", "change-kinds", "divergence-by-area"):
        assert f"figures/{figure}.svg" in names
    # written through a temporary file and a rename: none is left behind
    assert not [n for n in names if n.rsplit("/", 1)[-1].startswith(".")]


def test_readme_shows_summary_table_flows_and_errors(
    result: SurveyResult, report: Path
) -> None:
    readme = (report / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# ")
    assert "| 団体 (town) | 転入届 |" in readme
    for town in result.towns.values():
        assert f"| {town.name} | " in readme
    assert readme.count("### ") == len(result.recommendations)
    assert "推奨フローから遠い団体" in readme
    assert (
        "## 読めなかった入力 (inputs that could not be read)\n\nなし (none)." in readme
    )


def test_links_resolve_and_the_page_works_offline(report: Path) -> None:
    readme = (report / "README.md").read_text(encoding="utf-8")
    page = (report / "index.html").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)]+)\)", readme)
    links += re.findall(r'(?:src|href)="([^"]+)"', page)
    assert len(links) > 20
    for link in links:
        assert not re.match(r"^[a-z]+:", link), link  # nothing from the network
        assert (report / link).is_file(), link
    assert "<script" not in page
    assert page.count("<table>") >= 1 + 6


def test_xlsx_has_the_sheets_and_fixed_times(
    result: SurveyResult, report: Path
) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(report / "survey.xlsx", read_only=True)
    assert wb.sheetnames == list(SHEETS)
    for sheet, table in SHEETS.items():
        assert wb[sheet].max_row == len(getattr(result, table)) + 1
    assert wb.properties.created.year == 2000
    assert wb.properties.modified.year == 2000


def test_csv_holds_the_tables(result: SurveyResult, report: Path) -> None:
    div = pd.read_csv(report / "divergence.csv")
    assert list(div.columns) == list(result.divergence.columns)
    assert div["divergence"].tolist() == result.divergence["divergence"].tolist()
    assert len(pd.read_csv(report / "changes.csv")) == len(result.changes)


def test_markdown_table_escapes_and_aligns() -> None:
    text = markdown_table(["a", "n"], [["x|y", "1.5"], ["z\nw", ""]])
    assert text.splitlines() == [
        "| a | n |",
        "|---|---:|",
        "| x\\|y | 1.5 |",
        "| z w |  |",
    ]
    assert html_table(["a"], [["<b>"]]).count("&lt;b&gt;") == 1


def test_mean_distances_is_symmetric_with_zero_diagonal(result: SurveyResult) -> None:
    m = mean_distances(result.town_distances)
    assert list(m.index) == list(m.columns) == sorted(result.towns)
    assert (m.values == m.values.T).all()
    assert (m.values.diagonal() == 0).all()


def test_a_tree_without_town_flows_gives_a_short_report(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "standard" / "01-jumin").mkdir(parents=True)
    (tree / "standard" / "01-jumin" / "tennyu.yaml").write_bytes(
        (PROCESSES / "standard" / "01-jumin" / "tennyu.yaml").read_bytes()
    )
    result = Survey.load(tree).run(jobs=1, progress=False)
    assert result.divergence.empty and result.errors.empty
    out = result.report(tmp_path / "out")
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "no town flow was compared" in readme
    assert (out / "divergence.csv").read_text(encoding="utf-8").startswith("town,")
