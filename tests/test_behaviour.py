"""Tests of behavioural profiles and the soundness check."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harpflow.behaviour import profile, soundness
from harpflow.errors import HarpflowWarning
from harpflow.model import Flow

# A block-structured flow as a nested term: a task name, ("seq", [...]),
# ("xor", [...]), ("and", [...]) or ("loop", body, redo).
blocks = st.recursive(
    st.just("t"),
    lambda inner: st.one_of(
        st.tuples(st.just("seq"), st.lists(inner, min_size=2, max_size=3)),
        st.tuples(st.just("xor"), st.lists(inner, min_size=2, max_size=3)),
        st.tuples(st.just("and"), st.lists(inner, min_size=2, max_size=3)),
        st.tuples(st.just("loop"), inner, inner),
    ),
    max_leaves=7,
)


class _Builder:
    def __init__(self) -> None:
        self.flow = Flow("generated")
        self.count = 0

    def new(self, type_: str) -> str:
        self.count += 1
        node_id = f"n{self.count}"
        self.flow.add_node(node_id, type=type_, label=node_id)
        return node_id

    def build(self, term: object) -> tuple[str, str]:
        """Add the block; return its entry and exit nodes."""
        if term == "t":
            node = self.new("task")
            return node, node
        assert isinstance(term, tuple)
        kind = term[0]
        if kind == "seq":
            parts = [self.build(t) for t in term[1]]
            for (_, a_out), (b_in, _) in itertools.pairwise(parts):
                self.flow.add_edge(a_out, b_in)
            return parts[0][0], parts[-1][1]
        if kind == "loop":
            join, split = self.new("exclusiveGateway"), self.new("exclusiveGateway")
            body_in, body_out = self.build(term[1])
            redo_in, redo_out = self.build(term[2])
            self.flow.add_edge(join, body_in)
            self.flow.add_edge(body_out, split)
            self.flow.add_edge(split, redo_in, label="redo")
            self.flow.add_edge(redo_out, join)
            return join, split
        gateway = "exclusiveGateway" if kind == "xor" else "parallelGateway"
        split, join = self.new(gateway), self.new(gateway)
        for branch in term[1]:
            b_in, b_out = self.build(branch)
            self.flow.add_edge(split, b_in, label="branch" if kind == "xor" else "")
            self.flow.add_edge(b_out, join)
        return split, join


def build(term: object) -> Flow:
    builder = _Builder()
    start, end = builder.new("startEvent"), builder.new("endEvent")
    entry, exit_ = builder.build(term)
    builder.flow.add_edge(start, entry)
    builder.flow.add_edge(exit_, end)
    return builder.flow


def distinct(order: frozenset[tuple[str, str]]) -> set[tuple[str, str]]:
    return {(a, b) for a, b in order if a != b}


@settings(max_examples=150, deadline=None)
@given(blocks)
def test_structural_and_state_space_agree(term: object) -> None:
    flow = build(term)
    try:
        structural = profile(flow, method="structural")
    except ValueError:
        # Parallel blocks inside loops are left to the state-space method.
        return
    explored = profile(flow, method="state-space")
    assert explored.complete
    assert distinct(structural.order) == distinct(explored.order)


@settings(max_examples=150, deadline=None)
@given(blocks)
def test_block_structured_flows_are_sound(term: object) -> None:
    result = soundness(build(term))
    assert result.sound, result.problems


def _flow(nodes: list[tuple[str, str]], edges: list[tuple[str, str]]) -> Flow:
    flow = Flow("f")
    for node_id, type_ in nodes:
        flow.add_node(node_id, type=type_, label=node_id)
    for u, v in edges:
        flow.add_edge(u, v, label="c" if u.startswith("x") else "")
    return flow


def test_relations_of_a_sequence_with_choice_and_rework() -> None:
    flow = _flow(
        [
            ("s", "startEvent"),
            ("receive", "task"),
            ("check", "task"),
            ("x1", "exclusiveGateway"),
            ("fix", "task"),
            ("enter", "task"),
            ("e", "endEvent"),
        ],
        [
            ("s", "receive"),
            ("receive", "check"),
            ("check", "x1"),
            ("x1", "fix"),
            ("fix", "receive"),
            ("x1", "enter"),
            ("enter", "e"),
        ],
    )
    prof = profile(flow)
    assert prof.method == "structural"
    assert prof.relation("check", "enter") == "->"
    assert prof.relation("receive", "fix") == "||"  # rework repeats both
    assert prof.relation("enter", "fix") == "<-"
    assert {"receive", "check", "fix", "x1"} == set(prof.loops)


def test_exclusive_branches_exclude_each_other() -> None:
    flow = _flow(
        [
            ("s", "startEvent"),
            ("x1", "exclusiveGateway"),
            ("a", "task"),
            ("b", "task"),
            ("m", "exclusiveGateway"),
            ("e", "endEvent"),
        ],
        [("s", "x1"), ("x1", "a"), ("x1", "b"), ("a", "m"), ("b", "m"), ("m", "e")],
    )
    assert profile(flow).relation("a", "b") == "+"
    assert profile(flow, method="state-space").relation("a", "b") == "+"


def test_unstructured_flow_uses_the_state_space() -> None:
    # Two parallel branches, one of which may skip ahead: not block-structured.
    flow = _flow(
        [
            ("s", "startEvent"),
            ("p", "parallelGateway"),
            ("a", "task"),
            ("b", "task"),
            ("x1", "exclusiveGateway"),
            ("c", "task"),
            ("j", "parallelGateway"),
            ("e", "endEvent"),
        ],
        [
            ("s", "p"),
            ("p", "a"),
            ("p", "x1"),
            ("x1", "b"),
            ("x1", "c"),
            ("b", "j"),
            ("a", "j"),
            ("c", "j"),
            ("j", "e"),
        ],
    )
    prof = profile(flow)
    assert prof.method == "state-space"
    assert prof.relation("a", "b") == "||"
    result = soundness(flow)
    assert not result.sound
    assert result.deadlocks == ("j",)


def test_lack_of_synchronisation_is_found() -> None:
    flow = _flow(
        [
            ("s", "startEvent"),
            ("p", "parallelGateway"),
            ("a", "task"),
            ("b", "task"),
            ("m", "exclusiveGateway"),
            ("c", "task"),
            ("e", "endEvent"),
        ],
        [
            ("s", "p"),
            ("p", "a"),
            ("p", "b"),
            ("a", "m"),
            ("b", "m"),
            ("m", "c"),
            ("c", "e"),
        ],
    )
    result = soundness(flow)
    assert not result.sound
    assert "m->c" in result.unsynchronised


def test_unreachable_and_dead_end_nodes() -> None:
    nodes = [("s", "startEvent"), ("a", "task"), ("stuck", "task")]
    nodes += [("e", "endEvent"), ("orphan", "task")]
    edges = [("s", "a"), ("a", "e"), ("orphan", "e"), ("s", "stuck")]
    flow = _flow(nodes, edges)
    result = soundness(flow)
    assert result.unreachable == ("orphan",)
    assert result.dead_ends == ("stuck",)
    assert result.dead == ("orphan",)
    assert not result.sound


def test_no_start_is_unsound() -> None:
    flow = _flow([("a", "task"), ("b", "task")], [("a", "b"), ("b", "a")])
    assert soundness(flow).no_start


def test_exceeding_the_bound_is_reported() -> None:
    # Eight parallel tasks: 2**8 interleavings of completion.
    nodes = [("s", "startEvent"), ("p", "parallelGateway"), ("j", "parallelGateway")]
    nodes += [(f"t{i}", "task") for i in range(8)] + [("e", "endEvent")]
    edges = [("s", "p"), ("j", "e")]
    edges += [("p", f"t{i}") for i in range(8)] + [(f"t{i}", "j") for i in range(8)]
    flow = _flow(nodes, edges)
    with pytest.warns(HarpflowWarning, match="larger than 50 states"):
        prof = profile(flow, method="state-space", bound=50)
    assert not prof.complete
    result = soundness(flow, bound=50)
    assert not result.complete and not result.sound
    assert profile(flow).complete  # the structural method needs no bound


def test_boundary_event_is_an_alternative_exit() -> None:
    nodes = [("s", "startEvent"), ("a", "task"), ("b", "task")]
    nodes += [("t", "boundaryEvent"), ("c", "task"), ("e", "endEvent")]
    flow = _flow(nodes, [("s", "a"), ("a", "b"), ("b", "e"), ("t", "c"), ("c", "e")])
    flow.update_node("t", attached_to="a")
    prof = profile(flow)
    assert prof.method == "state-space"
    assert prof.relation("b", "c") == "+"
    assert soundness(flow).sound
