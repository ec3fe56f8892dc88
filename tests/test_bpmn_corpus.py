"""The BPMN reader and writer against the MIWG and hdBPMN corpora.

Every file of both corpora must read, and every ``stats`` count must equal a
count made here independently, with plain XPath over the same file. The 21
MIWG reference models must survive read -> write -> read and the written
files must validate against the OMG BPMN 2.0 XSD.
"""

from __future__ import annotations

import re
import warnings
from functools import cache
from pathlib import Path

import pytest
from conftest import CORPORA, corpus
from lxml import etree

from harpflow.errors import HarpflowWarning
from harpflow.io.bpmn import read_bpmn, write_bpmn
from harpflow.model import NODE_TYPES, Flow

NS = {"b": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
OUTSIDE = "[not(ancestor::b:extensionElements)]"


def corpus_files(name: str) -> list[Path]:
    """The .bpmn files of a corpus, or one placeholder when it is absent."""
    root = CORPORA / name
    files = sorted(root.rglob("*.bpmn")) if root.exists() else []
    return files or [root / "absent.bpmn"]


def file_id(path: Path) -> str:
    return str(path.relative_to(CORPORA)) if path.is_relative_to(CORPORA) else path.name


MIWG = corpus_files("miwg")
HDBPMN = corpus_files("hdbpmn")


def test_corpus_sizes() -> None:
    corpus("miwg")
    corpus("hdbpmn")
    assert len(MIWG) == 274
    assert len(HDBPMN) == 300


def xpath_tree(path: Path) -> etree._Element:
    """Parse with plain lxml; namespace URIs with spaces get %20, as tools do."""
    data = path.read_bytes()
    data = re.sub(
        rb'(xmlns(?::[\w.-]+)?\s*=\s*")([^"]*)"',
        lambda m: m.group(1) + m.group(2).replace(b" ", b"%20") + b'"',
        data,
    )
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False))


def xpath_stats(path: Path) -> dict[str, object]:
    """The stats counts, made with XPath alone."""
    root = xpath_tree(path)

    def count(expr: str) -> int:
        return int(root.xpath(f"count({expr})", namespaces=NS))

    by_type = {}
    for kind in sorted(NODE_TYPES):
        n = count(f"//b:{kind}{OUTSIDE}")
        if n:
            by_type[kind] = n
    # A flow counts when at least one of its ends is an element of the file;
    # flows both of whose ends a tool left out are ignored (with a warning).
    known = f"//b:*{OUTSIDE}/@id"
    joined = f"[@sourceRef = {known} or @targetRef = {known}]"
    return {
        "nodes": sum(by_type.values()),
        "by_type": by_type,
        "sequence_flows": count(f"//b:sequenceFlow{OUTSIDE}{joined}"),
        "message_flows": count(f"//b:messageFlow{OUTSIDE}{joined}"),
        "lanes": count(f"//b:lane{OUTSIDE}"),
        "pools": count(f"//b:participant{OUTSIDE}"),
        "data_objects": count(f"//b:dataObjectReference{OUTSIDE}")
        + count(f"//b:dataStoreReference{OUTSIDE}"),
    }


def read_quietly(path: Path | bytes) -> Flow:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HarpflowWarning)
        return read_bpmn(path)


@pytest.mark.parametrize("path", MIWG + HDBPMN, ids=file_id)
def test_every_corpus_file_reads_with_exact_counts(path: Path) -> None:
    corpus(str(path.relative_to(CORPORA).parts[0]))
    flow = read_quietly(path)
    assert flow.stats() == xpath_stats(path)
    for node in flow.nodes.values():
        assert node.source is not None and node.source.line
        assert node.source.file == str(path)


# -- round trips ----------------------------------------------------------


@cache
def schema() -> etree.XMLSchema:
    spiff = pytest.importorskip("SpiffWorkflow")
    folder = Path(spiff.__file__).parent / "bpmn" / "parser" / "schema"
    return etree.XMLSchema(etree.parse(str(folder / "BPMN20.xsd")))


def node_view(flow: Flow) -> dict[str, tuple[object, ...]]:
    return {
        n.id: (n.type, n.label, n.lane, n.pool, n.parent, n.attached_to)
        for n in flow.nodes.values()
    }


def edge_view(flow: Flow) -> set[tuple[str, str, str, str]]:
    out = set()
    for e in flow.edges:
        for eid in (e.id, *e.attrs.get("duplicates", ())):
            out.add((eid, e.source, e.target, e.kind))
    for m in flow.pool_messages:
        out.add((m.id, m.source, m.target, "pool"))
    return out


def check_di(data: bytes) -> None:
    """Every node, lane, pool, data object, annotation has a shape; every
    flow and association an edge with at least two waypoints."""
    root = etree.fromstring(data)
    di = "http://www.omg.org/spec/BPMN/20100524/DI"
    shapes = {s.get("bpmnElement") for s in root.iter(f"{{{di}}}BPMNShape")}
    edges = {
        e.get("bpmnElement"): len(
            e.findall("{http://www.omg.org/spec/DD/20100524/DI}waypoint")
        )
        for e in root.iter(f"{{{di}}}BPMNEdge")
    }
    m = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
    shown = [*NODE_TYPES, "lane", "participant", "dataObjectReference"]
    shown += ["dataStoreReference", "textAnnotation"]
    for kind in shown:
        for el in root.iter(m + kind):
            assert el.get("id") in shapes, (kind, el.get("id"))
    for kind in ("sequenceFlow", "messageFlow", "association"):
        for el in root.iter(m + kind):
            assert edges.get(el.get("id"), 0) >= 2, (kind, el.get("id"))
    for kind in ("dataInputAssociation", "dataOutputAssociation"):
        for el in root.iter(m + kind):
            assert edges.get(el.get("id"), 0) >= 2, (kind, el.get("id"))


REFERENCE = sorted((CORPORA / "miwg" / "Reference").glob("*.bpmn")) or [
    CORPORA / "miwg" / "Reference" / "absent.bpmn"
]


@pytest.mark.parametrize("path", REFERENCE, ids=file_id)
def test_reference_models_round_trip_and_validate(path: Path) -> None:
    corpus("miwg", "Reference")
    first = read_quietly(path)
    data = write_bpmn(first)
    assert data is not None
    doc = etree.fromstring(data)
    schema().assertValid(doc)
    check_di(data)
    second = read_quietly(data)
    assert node_view(second) == node_view(first)
    assert edge_view(second) == edge_view(first)
    assert second.stats() == first.stats()
    assert [(ln.id, ln.name, ln.pool, ln.parent) for ln in second.lanes] == [
        (ln.id, ln.name, ln.pool, ln.parent) for ln in first.lanes
    ]
    # Same input, same bytes; and what is written reads back to itself.
    assert write_bpmn(read_quietly(path)) == data
    assert write_bpmn(second) == data


@pytest.mark.parametrize("path", MIWG + HDBPMN, ids=file_id)
def test_every_corpus_file_round_trips_and_validates(path: Path) -> None:
    corpus(str(path.relative_to(CORPORA).parts[0]))
    first = read_quietly(path)
    data = write_bpmn(first)
    assert data is not None
    schema().assertValid(etree.fromstring(data))
    check_di(data)
    second = read_quietly(data)
    assert node_view(second) == node_view(first)
    assert edge_view(second) == edge_view(first)
    assert second.stats() == first.stats()
    assert list(second.nodes) == list(first.nodes)
    assert write_bpmn(second) == data
