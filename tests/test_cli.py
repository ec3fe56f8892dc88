"""The ``harpflow`` command on real inputs: outputs, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import STATS_KEYS

from harpflow.cli import main

ROOT = Path(__file__).resolve().parent.parent
STANDARD = ROOT / "processes" / "standard" / "01-jumin" / "tennyu.yaml"
TOWN_A = ROOT / "processes" / "towns" / "A" / "01-jumin" / "tennyu.bpmn"
TOWN_F = ROOT / "processes" / "towns" / "F" / "01-jumin" / "tennyu.mmd"
UNWRITABLE = "/proc/harpflow-test"  # no file can be created under /proc


def run(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_one_line_error(result: Result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("harpflow: error: ")
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["stats", "no-such.bpmn"], ["no-such.bpmn: no such file"]),
        (["diff", STANDARD, "no-such.yaml"], ["no-such.yaml: no such file"]),
        (["survey", STANDARD, "-o", "x"], ["tennyu.yaml: is not a folder"]),
        (["stats"], ["Missing argument 'FILE'", "harpflow stats --help"]),
        (["nosuchcommand"], ["No such command"]),
        (["--bogus"], ["No such option '--bogus'"]),
        (["diff", STANDARD, TOWN_A, "--jsn"], ["Did you mean '--json'?"]),
        (["synth", STANDARD, "--towns", "0", "-o", "x"], ["--towns"]),
        (["render", TOWN_A, "--style", "x", "-o", "a.svg"], ["--style"]),
        (["match", STANDARD, TOWN_A, "--threshold", "abc"], ["--threshold"]),
        (["match", STANDARD, TOWN_A, "--json", "--format", "csv"], ["--json"]),
    ],
)
def test_usage_errors_are_one_line(args: list[object], needles: list[str]) -> None:
    assert_one_line_error(run(*args), *needles)


def test_bad_inputs_are_one_line_with_file_and_line(tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.bpmn"
    truncated.write_bytes(TOWN_A.read_bytes()[:3000])
    assert_one_line_error(run("stats", truncated), f"{truncated}:", "malformed XML")
    bad = tmp_path / "bad.mmd"
    bad.write_text('flowchart LR\n  a["x"] --> b\n  c --> [[[\n', encoding="utf-8")
    assert_one_line_error(run("diff", STANDARD, bad), f"{bad}:3:")
    unknown = tmp_path / "flow.xyz"
    unknown.write_text("x\n", encoding="utf-8")
    assert_one_line_error(run("stats", unknown), str(unknown))
    assert_one_line_error(run("render", tmp_path, "-o", tmp_path / "a.svg"), "folder")


def test_unwritable_outputs_name_the_output(tmp_path: Path) -> None:
    for args, out in [
        (["convert", TOWN_F], f"{UNWRITABLE}/out.bpmn"),
        (["render", TOWN_F, "-o"], f"{UNWRITABLE}/a.svg"),
        (["match", STANDARD, TOWN_F, "-o"], f"{UNWRITABLE}/m.csv"),
        (["unify", TOWN_F, TOWN_A, "-o"], f"{UNWRITABLE}/rec.bpmn"),
    ]:
        assert_one_line_error(run(*args, out), f"{out}: cannot write")
    result = run("synth", STANDARD, "--towns", "1", "-o", UNWRITABLE)
    assert_one_line_error(result, f"{UNWRITABLE}/T001.bpmn: cannot write")


def test_output_names_are_checked_before_writing(tmp_path: Path) -> None:
    assert_one_line_error(
        run("convert", TOWN_F, tmp_path / "o.txt"), "o.txt", "--to FORMAT"
    )
    assert_one_line_error(run("convert", TOWN_F, tmp_path), "is a folder")
    folder = ROOT / "processes" / "towns" / "A"
    assert_one_line_error(
        run("convert", folder, tmp_path / "x", "--to", "nosuch"), "--to nosuch"
    )
    a_file = tmp_path / "file.bpmn"
    a_file.write_text("", encoding="utf-8")
    assert_one_line_error(run("convert", folder, a_file, "--to", "drawio"), "is a file")
    assert_one_line_error(run("synth", STANDARD, "-o", a_file), "is a file")
    assert_one_line_error(run("survey", ROOT / "processes", "-o", a_file), "is a file")
    assert_one_line_error(run("match", STANDARD, TOWN_A, "-o", tmp_path / "m.txt"))
    result = run("unify", TOWN_F, TOWN_A, "-o", tmp_path / "rec.svg")
    assert_one_line_error(result, "rec.svg", ".bpmn")
    result = run(
        "unify", TOWN_F, TOWN_A, "-o", tmp_path / "r.bpmn", "--requirements", "r.csv"
    )
    assert_one_line_error(result, "r.csv", ".xlsx")
    assert not list(tmp_path.glob("r*"))


def test_match_json_to_a_file(tmp_path: Path) -> None:
    for name, flag in [("m.json", []), ("pairs.out", ["--json"])]:
        out = tmp_path / name
        result = run("match", STANDARD, TOWN_A, *flag, "-o", out)
        assert result.exit_code == 0, result.output
        assert result.stdout == ""
        pairs = json.loads(out.read_text(encoding="utf-8"))["pairs"]
        assert pairs and set(pairs[0]) == {"a", "b", "a_label", "b_label", "score"}
    result = run("match", STANDARD, TOWN_A, "-o", tmp_path / "m.csv")
    assert (tmp_path / "m.csv").read_text(encoding="utf-8").splitlines()[2] == (
        "standard,town,relation,kind,code,note,score"
    )


def test_stats_json_keys() -> None:
    result = run("stats", "--json", TOWN_A)
    assert result.exit_code == 0, result.output
    assert list(json.loads(result.stdout)) == STATS_KEYS


def test_every_subcommand_has_help() -> None:
    for name in main.commands:  # type: ignore[attr-defined]
        result = run(name, "--help")
        assert result.exit_code == 0 and "Usage: harpflow" in result.stdout, name


def _columns(line: str) -> list[int]:
    """Terminal columns at which each run of text after a gap starts."""
    from harpflow.cli import _width

    starts, col, gap = [], 0, True
    for i, ch in enumerate(line):
        if ch != " " and (gap or line[i - 2 : i] == "  "):
            starts.append(col)
        gap = False
        col += _width(ch)
    return starts


def test_tables_line_up_by_terminal_width(tmp_path: Path) -> None:
    # Japanese labels take two columns a character: the next column still
    # starts at the same place on every line.
    out = tmp_path / "rec.bpmn"
    towns = sorted(ROOT.glob("processes/towns/*/01-jumin/tennyu.*"))
    result = run("unify", "--standard", STANDARD, *towns, "-o", out)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    table = lines[1 : lines.index("fit-gap (divergence before -> after):")]
    assert table[0].split() == ["step", "class", "support", "label"]
    assert len({_columns(line)[3] for line in table}) == 1, table[:5]
    assert any("標準オプション" in line or "対象外" in line for line in table)
    diff = run("diff", STANDARD, TOWN_A).output.splitlines()
    assert diff[1].split() == ["kind", "code", "standard", "town", "cost", "note"]
    assert len({_columns(line)[5] for line in diff[1:]}) == 1


def test_a_converted_folder_names_files_without_their_old_double_suffix(
    tmp_path: Path,
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    drawio = next((ROOT / "processes" / "towns").glob("*/01-jumin/tennyu.drawio"))
    (src / "tennyu.drawio.xml").write_bytes(drawio.read_bytes())
    (src / "sub").mkdir()
    (src / "sub" / "tennyu.mmd").write_bytes(TOWN_F.read_bytes())
    result = run("convert", src, tmp_path / "out", "--to", "bpmn")
    assert result.exit_code == 0, result.output
    written = sorted(
        p.relative_to(tmp_path / "out").as_posix()
        for p in (tmp_path / "out").rglob("*.bpmn")
    )
    assert written == ["sub/tennyu.bpmn", "tennyu.bpmn"]
