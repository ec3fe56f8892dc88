"""Correspondence files: Alignment API RDF and the correspondence CSV."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import PROCESSES, ROOT

from harpflow.errors import ParseError
from harpflow.io.alignment import (
    GoldRow,
    csv_metadata,
    read_alignment,
    read_correspondences_csv,
    to_matching,
    write_alignment,
    write_correspondences_csv,
)
from harpflow.match import Matching, match
from harpflow.model import Flow


def chain(name: str, labels: list[str]) -> Flow:
    flow = Flow(name)
    prev = None
    for i, label in enumerate(labels):
        node = f"{name}{i}"
        flow.add_node(node, label=label)
        if prev is not None:
            flow.add_edge(prev, node)
        prev = node
    return flow


@pytest.fixture
def matching() -> Matching:
    a = chain("s", ["申請書の受付", "資格確認", "台帳入力", "決裁"])
    b = chain("t", ["受付・資格確認", "台帳入力", "決裁"])
    m = match(a, b)
    assert any(len(c.a) == 2 for c in m.pairs)
    return m


def test_rdf_round_trip_of_a_matching(matching: Matching, tmp_path: Path) -> None:
    path = tmp_path / "m.rdf"
    assert write_alignment(matching, path) is None
    rows = read_alignment(path)
    back = to_matching(rows, matching.a, matching.b)
    assert [(c.a, c.b) for c in back.pairs] == [(c.a, c.b) for c in matching.pairs]
    for c, d in zip(back.pairs, matching.pairs, strict=True):
        assert c.score == pytest.approx(d.score, abs=1e-4)


def test_csv_round_trip_of_a_matching(matching: Matching) -> None:
    data = write_correspondences_csv(matching, meta={"a": "s.yaml", "b": "t.yaml"})
    assert data is not None
    assert (
        data.decode().splitlines()[2] == "standard,town,relation,kind,code,note,score"
    )
    rows = read_correspondences_csv(data)
    assert len(rows) == len(matching.member_pairs())
    assert csv_metadata(data) == {"a": "s.yaml", "b": "t.yaml"}
    assert to_matching(rows, matching.a, matching.b) == matching


def test_writers_are_deterministic(matching: Matching) -> None:
    assert write_alignment(matching) == write_alignment(matching)
    assert write_correspondences_csv(matching) == write_correspondences_csv(matching)


def test_rdf_entities_with_awkward_ids() -> None:
    rows = [GoldRow("id with space#1", "ノード/2", score=0.25)]
    back = read_alignment(write_alignment(rows, onto1="http://x/a", onto2="http://x/b"))
    assert back == [GoldRow("id with space#1", "ノード/2", "=", score=0.25)]


CONTEST_RDF = b"""<?xml version='1.0' encoding='utf-8' standalone='no'?>
<rdf:RDF xmlns='http://knowledgeweb.semanticweb.org/heterogeneity/alignment#'
         xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'
         xmlns:xsd='http://www.w3.org/2001/XMLSchema#'
         xmlns:align='http://knowledgeweb.semanticweb.org/heterogeneity/alignment#'>
<Alignment>
  <xml>yes</xml>
  <level>0</level>
  <type>**</type>
  <map>
    <Cell>
      <entity1 rdf:resource='http://Cologne#sid-F1A2'/>
      <entity2 rdf:resource='http://Frankfurt#sid-77B3'/>
      <relation>=</relation>
      <measure rdf:datatype='xsd:float'>1.0</measure>
    </Cell>
  </map>
  <map>
    <Cell>
      <entity1 rdf:resource='http://Cologne/sid-0001'/>
      <entity2 rdf:resource='http://Frankfurt#sid-0002'/>
      <relation>=</relation>
    </Cell>
  </map>
</Alignment>
</rdf:RDF>
"""


def test_reads_the_contest_layout() -> None:
    rows = read_alignment(CONTEST_RDF)
    assert [(r.standard, r.town, r.score) for r in rows] == [
        ("sid-F1A2", "sid-77B3", 1.0),
        ("sid-0001", "sid-0002", 1.0),
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            b"<relation>=</relation>\n      <measure",
            b"<relation>&lt;</relation><measure",
        ),
        (b"<measure rdf:datatype='xsd:float'>1.0", b"<measure>high"),
        (b"<entity2 rdf:resource='http://Frankfurt#sid-77B3'/>", b""),
    ],
    ids=["relation", "measure", "entity"],
)
def test_rdf_errors_name_file_line_and_cell(change: bytes, message: bytes) -> None:
    broken = CONTEST_RDF.replace(change, message, 1)
    assert broken != CONTEST_RDF
    with pytest.raises(ParseError) as info:
        read_alignment(broken)
    assert info.value.line == 11
    assert info.value.element is not None and "Cell" in info.value.element
    assert info.value.source


def test_hostile_rdf_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;">]><rdf:RDF xmlns:rdf="urn:x">&b;</rdf:RDF>'
    )
    with pytest.raises(ParseError):
        read_alignment(bomb)


def test_csv_with_change_rows_bom_and_cp932() -> None:
    text = (
        "# a: standard/14-kaigo/nintei.yaml\n"
        "standard,town,relation,kind,code,note\n"
        "2,3,=,,,受付\n"
        "3,3,=,merged,V03,受付と入力を一度に\n"
        "9,,,missing,V01,審査を省略\n"
        ",12,,extra,,電話確認\n"
    )
    for data in (text.encode("utf-8-sig"), text.encode("cp932")):
        rows = read_correspondences_csv(data)
        assert [(r.standard, r.town, r.relation, r.kind, r.code) for r in rows] == [
            ("2", "3", "=", "", ""),
            ("3", "3", "=", "merged", "V03"),
            ("9", "", "", "missing", "V01"),
            ("", "12", "", "extra", ""),
        ]
        assert csv_metadata(data) == {"a": "standard/14-kaigo/nintei.yaml"}


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("1,2,~,,,\n", 3, "unknown relation"),
        ("1,,=,,,\n", 3, "needs both"),
        ("1,2,,renamed,,\n", 3, "unknown change kind"),
        ("1,2,=,,,\n,,,,,\n1,,,,,\n", 5, "needs relation"),
    ],
)
def test_csv_errors_name_the_row(body: str, line: int, message: str) -> None:
    text = "# a: x\nstandard,town,relation,kind,code,note\n" + body
    with pytest.raises(ParseError, match=message) as info:
        read_correspondences_csv(text, max_bytes=10_000)
    assert info.value.line == line
    assert info.value.element == f"row {line}"


def test_csv_without_the_columns() -> None:
    with pytest.raises(ParseError, match="no 'town' column") as info:
        read_correspondences_csv("standard,stadt\n1,2\n")
    assert info.value.line == 1


def test_to_matching_rejects_unknown_ids() -> None:
    a, b = chain("a", ["受付"]), chain("b", ["受付"])
    with pytest.raises(ParseError, match="'zz'"):
        to_matching([GoldRow("a0", "zz")], a, b)


def test_to_matching_groups_one_to_many_rows() -> None:
    a, b = chain("a", ["受付", "確認", "決裁"]), chain("b", ["受付・確認", "決裁"])
    rows = [GoldRow("a0", "b0"), GoldRow("a1", "b0"), GoldRow("a2", "b1")]
    m = to_matching(rows, a, b)
    assert [(c.a, c.b, c.score) for c in m.pairs] == [
        (("a0", "a1"), ("b0",), 1.0),
        (("a2",), ("b1",), 1.0),
    ]


def test_reads_the_project_gold() -> None:
    files = sorted((ROOT / "benchmarks" / "gold" / "hdbpmn").glob("*.csv"))
    files += sorted((PROCESSES / "gold").rglob("*.csv"))
    assert len(files) >= 10
    for path in files:
        rows = read_correspondences_csv(path)
        assert any(r.relation == "=" for r in rows), path
    meta = csv_metadata(files[0])
    assert meta["a"].startswith("hdbpmn/data/annotations/")
