"""Broken and hostile BPMN files: each gives a HarpflowError that points.

The files live in tests/data/hostile/. The external-entity test writes its
own file, because it must point at a secret file made for the test: the
secret's content must never appear in the error, the flow, or the CLI's
output.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DATA

from harpflow.cli import main
from harpflow.errors import HarpflowError, HarpflowWarning, LimitError, ParseError
from harpflow.io import read
from harpflow.io.bpmn import read_bpmn

HOSTILE = DATA / "hostile"
SECRET = "TOP-SECRET-7f3a9c-住民票コード"

#: file -> (line the error names, or None where there is none; words of the message)
CASES: dict[str, tuple[int | None, str]] = {
    "xxe_url.bpmn": (1, "document type declarations are refused"),
    # libxml2's amplification limit stops the bomb: where an attribute uses
    # it (attribute values are always expanded), else in the DOCTYPE.
    "billion_laughs.bpmn": (15, "amplification"),
    "billion_laughs_text.bpmn": (1, "amplification"),
    "external_dtd.bpmn": (1, "document type declarations are refused"),
    "truncated.bpmn": (10, "malformed XML"),
    "missing_ref.bpmn": (7, "flow to a missing id: targetRef 'gone'"),
    "duplicate_id.bpmn": (6, "two flow elements with id 't' (the first at line 5)"),
    "not_bpmn.bpmn": (2, "not a BPMN 2.0 file"),
    "wrong_namespace.bpmn": (2, "not a BPMN 2.0 file"),
    "empty.bpmn": (None, "empty file"),
    "junk.bpmn": (1, "malformed XML"),
}


def cli_error_line(path: Path) -> str:
    """Run ``harpflow stats FILE``; assert exit 2 and one line; return it."""
    result = CliRunner().invoke(main, ["stats", str(path)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.splitlines()
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_file_gives_error_with_file_and_line(name: str) -> None:
    path = HOSTILE / name
    line, words = CASES[name]
    with pytest.raises(HarpflowError) as info:
        read(path)
    err = info.value
    assert isinstance(err, ParseError)
    assert err.source == str(path)
    assert err.line == line
    assert words in err.message
    # The CLI says the same in one line.
    where = f"{path}:{line}" if line is not None else f"{path}"
    out = cli_error_line(path)
    assert out.startswith(f"harpflow: error: {where}: "), out
    assert words in out


def test_errors_name_the_element() -> None:
    with pytest.raises(ParseError) as info:
        read_bpmn(HOSTILE / "missing_ref.bpmn")
    assert info.value.element == "sequenceFlow id='f2'"
    with pytest.raises(ParseError) as info:
        read_bpmn(HOSTILE / "duplicate_id.bpmn")
    assert info.value.element == "task id='t'"
    with pytest.raises(ParseError) as info:
        read_bpmn(HOSTILE / "not_bpmn.bpmn")
    assert info.value.element == "mxfile"


def xxe_document(target: str, *, parameter: bool = False) -> str:
    """A BPMN file whose DOCTYPE (line 1) pulls ``target`` into a task."""
    if parameter:
        doctype = f'<!DOCTYPE definitions [<!ENTITY % p SYSTEM "{target}"> %p;]>'
        text = "x"
    else:
        doctype = f'<!DOCTYPE definitions [<!ENTITY secret SYSTEM "{target}">]>'
        text = "&secret;"
    return (
        f"{doctype}\n"
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">\n'
        '  <process id="p">\n'
        f'    <task id="t" name="受付"><documentation>{text}</documentation></task>\n'
        "  </process>\n"
        "</definitions>\n"
    )


@pytest.mark.parametrize("parameter", [False, True], ids=["general", "parameter"])
def test_external_entity_to_local_file_never_leaks(
    tmp_path: Path, parameter: bool
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    path = tmp_path / "xxe_local.bpmn"
    path.write_text(xxe_document(secret.as_uri(), parameter=parameter), "utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ParseError) as info:
            read(path)
    err = info.value
    assert err.line == 1 and err.source == str(path)
    assert SECRET not in str(err) and SECRET not in repr(err.args)
    assert all(SECRET not in str(w.message) for w in caught)
    out = cli_error_line(path)
    assert SECRET not in out
    assert out.startswith(f"harpflow: error: {path}:1: ")
    # Also through bytes and str, where no path is known.
    for source in (path.read_bytes(), path.read_text("utf-8")):
        with pytest.raises(ParseError) as info:
            read_bpmn(source)
        assert SECRET not in str(info.value)


def test_parser_never_expands_an_entity_even_without_doctype_check(
    tmp_path: Path,
) -> None:
    """Without the DOCTYPE refusal the parser would still not resolve it."""
    from lxml import etree

    from harpflow.io.xml import _parser

    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    data = xxe_document(secret.as_uri()).encode()
    root = etree.fromstring(data, _parser())
    assert SECRET not in etree.tostring(root, encoding="unicode")


def test_file_over_the_size_limit() -> None:
    path = DATA / "bpmn" / "all_nodes.bpmn"
    size = path.stat().st_size
    with pytest.warns(HarpflowWarning):
        assert read_bpmn(path, max_bytes=size).stats()["nodes"] > 0
    with pytest.raises(LimitError) as info:
        read(path, max_bytes=size - 1)
    assert info.value.source == str(path)
    assert f"{size - 1:,} bytes" in str(info.value)
    with pytest.raises(LimitError):
        read_bpmn(path.read_bytes(), max_bytes=100)


def test_flow_with_neither_end_in_the_file_is_dropped_with_a_warning() -> None:
    data = b"""<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">
      <process id="p"><task id="a"/><task id="b"/>
        <sequenceFlow id="f1" sourceRef="a" targetRef="b"/>
        <sequenceFlow id="f2" sourceRef="x" targetRef="y"/>
      </process></definitions>"""
    with pytest.warns(HarpflowWarning, match=r"<bytes>:4: sequenceFlow id='f2'"):
        flow = read_bpmn(data)
    assert flow.stats()["sequence_flows"] == 1


def test_hostile_files_do_not_reach_the_network_or_hang() -> None:
    # The URL entity and the external DTD point at a closed local port: a
    # parser that tried to fetch them would fail differently (or hang).
    for name in ("xxe_url.bpmn", "external_dtd.bpmn"):
        with pytest.raises(ParseError, match=r"document type declarations"):
            read_bpmn(HOSTILE / name)
