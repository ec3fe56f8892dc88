"""Derived graphs: the plain sequence graph equals a copy of the filtered
view, comparisons reuse what they built, reach sets equal networkx's."""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import networkx as nx
import pytest
from conftest import PROCESSES

import harpflow
from harpflow.behaviour import _descendants, _reach_bits
from harpflow.flowcache import comparison, memo, sequence_graph
from harpflow.model import Flow

FLOWS = sorted(
    p
    for p in PROCESSES.glob("*/**/*.*")
    if p.suffix in {".yaml", ".bpmn", ".drawio", ".mmd", ".xlsx"}
    or (p.suffix == ".csv" and "towns" in p.parts and p.name != "towns.csv")
)


def _same_graph(a: nx.DiGraph, b: nx.DiGraph) -> None:
    assert a.graph == b.graph
    assert list(a.nodes(data=True)) == list(b.nodes(data=True))
    assert list(a.edges(data=True)) == list(b.edges(data=True))
    for n in a:
        assert list(a.pred[n]) == list(b.pred[n])
        assert list(a.succ[n]) == list(b.succ[n])


@pytest.mark.parametrize("path", FLOWS[::4], ids=lambda p: p.name)
def test_sequence_graph_is_the_view_copied(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        flow = harpflow.read(path)
    _same_graph(sequence_graph(flow), nx.DiGraph(flow.sequence_graph()))


def _small_flow() -> Flow:
    flow = Flow("f")
    for n in ("a", "b", "c", "d"):
        flow.add_node(n, label=n)
    flow.add_edge("a", "b")
    flow.add_edge("b", "c")
    flow.add_edge("c", "b")
    flow.add_edge("a", "d", kind="message")
    return flow


def test_messages_are_left_out_and_attributes_copied() -> None:
    flow = _small_flow()
    graph = sequence_graph(flow)
    assert list(graph.edges()) == [("a", "b"), ("b", "c"), ("c", "b")]
    graph.nodes["a"]["label"] = "changed"
    assert flow.graph.nodes["a"]["label"] == "a"


def test_a_comparison_builds_once_and_forgets_after() -> None:
    flow = _small_flow()
    calls: list[int] = []

    def build(f: Flow) -> int:
        calls.append(1)
        return len(calls)

    with comparison():
        assert sequence_graph(flow) is sequence_graph(flow)
        assert memo(flow, "x", build) == memo(flow, "x", build) == 1
        with comparison():  # nested blocks share the outer one
            assert memo(flow, "x", build) == 1
    assert sequence_graph(flow) is not sequence_graph(flow)
    assert memo(flow, "x", build) == 2


@pytest.mark.parametrize("seed", range(40))
def test_reach_equals_networkx_descendants(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(0, 30)
    graph = nx.DiGraph()
    names = [f"n{rng.randint(0, 99)}-{i}" for i in range(n)]
    graph.add_nodes_from(names)
    for _ in range(rng.randint(0, 3 * n + 1)):
        if n:
            graph.add_edge(rng.choice(names), rng.choice(names))
    reach = _descendants(graph)
    bits = _reach_bits(names, graph.succ)
    for i, node in enumerate(names):
        expected = nx.descendants(graph, node) - {node}
        assert reach[node] == expected
        assert bits[node] == sum(1 << names.index(m) for m in expected)
        assert not bits[node] >> i & 1
