"""Readers under fuzzing: a quick seeded run, and every kept failing input.

The full fuzzer is ``benchmarks/fuzz_readers.py``; here a few dozen
mutated cases per reader run with a fixed seed, and every input it once
failed on (``tests/data/regressions/<reader>-<hash>.<ext>``) is read again:
each must give a flow or a :class:`~harpflow.errors.HarpflowError`, within
2 seconds of CPU time.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import pytest
from conftest import DATA, ROOT

from harpflow.errors import HarpflowError
from harpflow.io import read

sys.path.insert(0, str(ROOT / "benchmarks"))

import fuzz_readers

REGRESSIONS = DATA / "regressions"
#: Quick cases per reader (Visio cases cost about ten times more).
QUICK = {reader: 40 for reader in fuzz_readers.READERS} | {"vsdx": 8}


def regression_files() -> list[Path]:
    return sorted(p for p in REGRESSIONS.glob("*-*.*") if p.suffix != ".md")


def test_regression_files_are_named_for_their_reader() -> None:
    files = regression_files()
    assert files, "the kept failing inputs are missing"
    for path in files:
        reader = path.name.split("-")[0]
        assert reader in fuzz_readers.READERS, path.name
        assert path.suffix == fuzz_readers.SUFFIX[reader], path.name


@pytest.mark.parametrize("path", regression_files(), ids=lambda p: p.name)
def test_regression_file_reads_or_is_refused_cleanly(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reader = path.name.split("-")[0]
    start = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            read(path, format=reader)
        except HarpflowError as exc:
            assert str(path) in str(exc)
    assert time.process_time() - start < fuzz_readers.SLOW
    # nothing printed, not even by a dependency (openpyxl does on a bad
    # style index)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("reader", fuzz_readers.READERS)
def test_quick_fuzz(reader: str) -> None:
    report = fuzz_readers.fuzz(reader, QUICK[reader], seed=20261203)
    assert report.cases == QUICK[reader]
    failures = [f"{f.signature}: {f.detail}" for f in report.failures.values()]
    assert not failures, failures
    # The seeds include readable files: the quick run is not all refusals.
    assert report.read > 0


def test_run_case_reports_a_non_harpflow_exception(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("x")

    monkeypatch.setattr(fuzz_readers, "read", broken)
    result = fuzz_readers.run_case("mermaid", b"flowchart LR\n")
    assert result is not None
    assert result[0].startswith("KeyError at")


def test_run_case_reports_printing(monkeypatch: pytest.MonkeyPatch) -> None:
    def noisy(*args: object, **kwargs: object) -> None:
        print("0 is out of range")

    monkeypatch.setattr(fuzz_readers, "read", noisy)
    result = fuzz_readers.run_case("xlsx", b"")
    assert result == ("printed to standard output", "0 is out of range\n")
