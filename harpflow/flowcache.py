"""Graphs derived from a flow, built once per comparison.

:func:`harpflow.diff.diff` looks at each flow's sequence flows many times
(order, loops, deviation rules, the structure score). :func:`sequence_graph`
gives a plain :class:`networkx.DiGraph` of them, the same graph as
``networkx.DiGraph(flow.sequence_graph())`` but built straight from the
flow's adjacency instead of through a filtered view. Inside a
:func:`comparison` block each flow's graph and derived results are built
once and reused; outside one they are built afresh on every call.

Examples
--------
>>> from harpflow.model import Flow
>>> f = Flow()
>>> for n in "abc":
...     _ = f.add_node(n)
>>> _ = f.add_edge("a", "b"); _ = f.add_edge("b", "c")
>>> _ = f.add_edge("a", "c", kind="message")
>>> sorted(sequence_graph(f).edges())
[('a', 'b'), ('b', 'c')]
>>> with comparison():
...     sequence_graph(f) is sequence_graph(f)
True

Notes
-----
The flows must not change inside a :func:`comparison` block: what was
built for them is not rebuilt. Graphs handed out inside a block are
shared; callers read them and copy before changing them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import networkx as nx

from harpflow.model import Flow

__all__ = ["comparison", "memo", "sequence_graph"]

T = TypeVar("T")

# (id of the flow, what) -> (the flow, the value); the flow is held so that
# its id cannot be reused by another object while the block runs.
_MEMO: ContextVar[dict[tuple[int, str], tuple[Flow, Any]] | None] = ContextVar(
    "harpflow_flowcache", default=None
)


@contextmanager
def comparison() -> Iterator[None]:
    """Reuse what is derived from each flow until the block ends."""
    token = _MEMO.set({} if _MEMO.get() is None else _MEMO.get())
    try:
        yield
    finally:
        _MEMO.reset(token)


def memo(flow: Flow, what: str, build: Callable[[Flow], T]) -> T:
    """``build(flow)``, remembered under ``what`` inside a comparison."""
    table = _MEMO.get()
    if table is None:
        return build(flow)
    key = (id(flow), what)
    hit = table.get(key)
    if hit is None:
        hit = table[key] = (flow, build(flow))
    value: T = hit[1]
    return value


def _build_sequence_graph(flow: Flow) -> nx.DiGraph:
    source = flow.graph
    graph = nx.DiGraph()
    graph.graph.update(source.graph)
    graph.add_nodes_from(source.nodes(data=True))
    graph.add_edges_from(
        (u, v, d)
        for u, v, d in source.edges(data=True)
        if d.get("kind", "sequence") == "sequence"
    )
    return graph


def sequence_graph(flow: Flow) -> nx.DiGraph:
    """The flow's nodes and sequence flows as a plain directed graph."""
    return memo(flow, "sequence_graph", _build_sequence_graph)
