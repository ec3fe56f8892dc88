"""Behavioural relations between the steps of a flow, and soundness.

Two flows can hold the same steps in the same lanes and still behave
differently: a check done *before* an entry in one town is done *after* it
in another, or two steps that exclude each other in the standard run side
by side in a town. This module computes the behavioural profile of a flow
[1]_: for every ordered pair of nodes the *weak order* relation (``a ≻ b``
when some run performs ``a`` before ``b``), from which follow

- strict order ``a → b``: ``a ≻ b`` and not ``b ≻ a``;
- exclusiveness ``a + b``: neither ``a ≻ b`` nor ``b ≻ a``;
- interleaving ``a || b``: both, i.e. concurrency or repetition.

Two methods give the weak order:

``structural``
    For flows whose only splits are exclusive (state machines, loops
    allowed), ``a ≻ b`` exactly when a path leads from ``a`` to ``b``. For
    acyclic block-structured flows with parallel blocks (every parallel
    split matched by a parallel join that post-dominates it, and the join's
    dominator the split), two nodes on no common path interleave when their
    nearest common dominator is a parallel split and exclude each other
    when it is an exclusive one [2]_.
``state-space``
    Otherwise the token game of the flow is explored breadth first, up to
    ``bound`` states; ``a ≻ b`` when a state reached by firing ``a`` can
    still fire ``b``. Exceeding the bound is reported
    (``Profile.complete`` is False and a :class:`HarpflowWarning` is
    raised); the relations then cover the explored part only.

:func:`soundness` checks the classical soundness of workflow nets [3]_ as
far as BPMN flows allow: every node lies on a path from a start to an end;
from every reachable state an end can be reached (no deadlock, no
livelock); no sequence flow ever holds two tokens (no lack of
synchronisation); every node can fire.

Token game
    Tokens sit on sequence flows. An activity or event fires on a token of
    any one incoming flow and puts a token on every outgoing flow, or on
    one of them when they all carry a condition label (a decision written
    without a gateway). Exclusive and event-based gateways take one token
    and choose one outgoing flow. Parallel gateways wait for a token on
    every incoming flow and feed all outgoing flows. Inclusive and complex
    gateways feed any non-empty subset of their outgoing flows and, as
    joins, wait until no token elsewhere can still reach one of their
    empty incoming flows (a non-local join semantics in the spirit of
    [4]_). A boundary event is an alternative way out of its activity. A
    flow with several start events is several alternative instances. Only
    the top level of the flow is profiled; the inside of a sub-process is
    profiled separately when asked for with ``scope``.

References
----------
.. [1] M. Weidlich, J. Mendling and M. Weske, "Efficient consistency
   measurement based on behavioral profiles of process models", IEEE
   Transactions on Software Engineering 37(3), 2011, pp. 410-429.
.. [2] M. Weidlich, A. Polyvyanyy, J. Mendling and M. Weske, "Causal
   behavioural profiles - efficient computation, applications, and
   evaluation", Fundamenta Informaticae 113(3-4), 2011, pp. 399-435.
.. [3] W. M. P. van der Aalst, "Verification of workflow nets", Application
   and Theory of Petri Nets, LNCS 1248, 1997, pp. 407-426.
.. [4] H. Völzer, "A new semantics for the inclusive converging gateway in
   safe processes", BPM 2010, LNCS 6336, pp. 294-309.

Examples
--------
>>> from harpflow.model import Flow
>>> f = Flow()
>>> for n, t in [("s", "startEvent"), ("a", "task"), ("p", "parallelGateway"),
...              ("b", "task"), ("c", "task"), ("j", "parallelGateway"),
...              ("e", "endEvent")]:
...     _ = f.add_node(n, type=t)
>>> for u, v in [("s", "a"), ("a", "p"), ("p", "b"), ("p", "c"), ("b", "j"),
...              ("c", "j"), ("j", "e")]:
...     _ = f.add_edge(u, v)
>>> prof = profile(f)
>>> prof.relation("a", "b"), prof.relation("b", "c"), prof.method
('->', '||', 'structural')
>>> soundness(f).sound
True
"""

from __future__ import annotations

import itertools
import warnings
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import networkx as nx

from harpflow.errors import HarpflowWarning
from harpflow.flowcache import memo
from harpflow.model import Flow

__all__ = [
    "DEFAULT_BOUND",
    "Profile",
    "Soundness",
    "profile",
    "soundness",
]

#: Default bound on the number of states explored.
DEFAULT_BOUND = 50_000

_SPLIT_LIMIT = 8  # inclusive splits with more outgoing flows are refused


@dataclass(frozen=True)
class Profile:
    """The behavioural profile of a flow.

    Attributes
    ----------
    nodes : tuple of str
        The profiled nodes, in flow order.
    order : frozenset of (str, str)
        The weak order: ``(a, b)`` when some run performs ``a`` before ``b``.
    method : str
        ``"structural"`` or ``"state-space"``.
    complete : bool
        False when the state-space bound was reached.
    states : int
        States explored (0 for the structural method).
    loops : frozenset of str
        Nodes that can occur more than once in a run (rework, repetition).
    """

    nodes: tuple[str, ...]
    order: frozenset[tuple[str, str]]
    method: str
    complete: bool = True
    states: int = 0
    loops: frozenset[str] = frozenset()

    def relation(self, a: str, b: str) -> str:
        """``'->'``, ``'<-'``, ``'+'`` (exclusive) or ``'||'`` (interleaving)."""
        ab, ba = (a, b) in self.order, (b, a) in self.order
        if ab and ba:
            return "||"
        if ab:
            return "->"
        if ba:
            return "<-"
        return "+"

    def relations(
        self, nodes: Iterable[str] | None = None
    ) -> dict[tuple[str, str], str]:
        """The relation of every unordered pair ``(a, b)``, ``a`` before ``b``
        in flow order."""
        chosen = list(self.nodes if nodes is None else nodes)
        return {
            (a, b): self.relation(a, b) for a, b in itertools.combinations(chosen, 2)
        }


@dataclass(frozen=True)
class Soundness:
    """Result of :func:`soundness`.

    ``unreachable`` nodes cannot be reached from a start event;
    ``dead_ends`` cannot reach an end event; ``deadlocks`` are nodes where
    tokens wait for ever; ``unsynchronised`` are flows that can hold two
    tokens at once (as ``"source->target"``); ``dead`` nodes never fire.
    """

    unreachable: tuple[str, ...] = ()
    dead_ends: tuple[str, ...] = ()
    deadlocks: tuple[str, ...] = ()
    unsynchronised: tuple[str, ...] = ()
    dead: tuple[str, ...] = ()
    no_start: bool = False
    complete: bool = True
    problems: tuple[str, ...] = field(default=())

    @property
    def sound(self) -> bool:
        """True when no problem was found (and the search was complete)."""
        return not self.problems and self.complete


# -- helpers ------------------------------------------------------------------


def _scope_graph(flow: Flow, scope: str | None) -> nx.DiGraph:
    """Sequence flows among the nodes whose parent is ``scope``."""
    graph = nx.DiGraph()
    graph.add_nodes_from(
        (n, d) for n, d in flow.graph.nodes(data=True) if d.get("parent") == scope
    )
    graph.add_edges_from(
        (u, v, d)
        for u, v, d in flow.graph.edges(data=True)
        if d.get("kind", "sequence") == "sequence" and u in graph and v in graph
    )
    return graph


def _starts(graph: nx.DiGraph) -> list[str]:
    starts = [n for n, d in graph.nodes(data=True) if d["type"] == "startEvent"]
    if not starts:
        starts = [
            n
            for n, d in graph.nodes(data=True)
            if graph.in_degree(n) == 0 and d["type"] != "boundaryEvent"
        ]
    return starts


def _boundary_of(graph: nx.DiGraph) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for n, d in graph.nodes(data=True):
        if d["type"] == "boundaryEvent" and d.get("attached_to") in graph:
            out.setdefault(d["attached_to"], []).append(n)
    return out


def _conditional(graph: nx.DiGraph, node: str) -> bool:
    outs = list(graph.out_edges(node, data=True))
    return len(outs) > 1 and all(
        d.get("label") or d.get("condition") or d.get("default") for _, _, d in outs
    )


def _splits_kind(graph: nx.DiGraph, node: str) -> str | None:
    """``'and'``, ``'xor'``, ``'or'`` for a node with several outgoing flows."""
    if graph.out_degree(node) < 2:
        return None
    typ = graph.nodes[node]["type"]
    if typ == "parallelGateway":
        return "and"
    if typ in ("exclusiveGateway", "eventBasedGateway"):
        return "xor"
    if typ in ("inclusiveGateway", "complexGateway"):
        return "or"
    return "xor" if _conditional(graph, node) else "and"


def _joins_kind(graph: nx.DiGraph, node: str) -> str | None:
    if graph.in_degree(node) < 2:
        return None
    typ = graph.nodes[node]["type"]
    if typ == "parallelGateway":
        return "and"
    if typ in ("inclusiveGateway", "complexGateway"):
        return "or"
    return "xor"


# -- structural method --------------------------------------------------------


def _structural(graph: nx.DiGraph) -> set[tuple[str, str]] | None:
    """Weak order by graph structure, or None when the flow does not qualify."""
    if _boundary_of(graph):
        return None
    kinds = {_splits_kind(graph, n) for n in graph} | {
        _joins_kind(graph, n) for n in graph
    }
    kinds.discard(None)
    nodes = list(graph)
    index = {n: i for i, n in enumerate(nodes)}
    reach = _reach_bits(nodes, graph.succ)
    order: set[tuple[str, str]] = set()
    for a in nodes:
        bits = reach[a]
        while bits:
            low = bits & -bits
            order.add((a, nodes[low.bit_length() - 1]))
            bits ^= low
    if kinds <= {"xor"}:
        return order
    if "or" in kinds or not nx.is_directed_acyclic_graph(graph):
        return None
    starts = _starts(graph)
    if len(starts) != 1:
        return None
    start = starts[0]
    ends = [n for n in graph if graph.out_degree(n) == 0]
    work = graph.copy()
    sink = ("__sink__",)
    work.add_edges_from((e, sink) for e in ends)
    dom = nx.immediate_dominators(work, start)
    pdom = nx.immediate_dominators(work.reverse(copy=False), sink)
    # Newer networkx leaves the root out of its own dominator map.
    dom.setdefault(start, start)
    pdom.setdefault(sink, sink)
    if any(n not in dom for n in graph):
        return None
    # Every split must be closed by a join of its own kind that it dominates.
    for n in graph:
        kind = _splits_kind(graph, n)
        if kind is None:
            continue
        join = pdom.get(n)
        if join is None or join == sink or _joins_kind(graph, join) != kind:
            return None
        if not _dominates(dom, n, join):
            return None
    for n in graph:
        kind = _joins_kind(graph, n)
        if kind == "and":
            split = dom.get(n)
            if (
                split is None
                or _splits_kind(graph, split) != "and"
                or pdom.get(split) != n
            ):
                return None
    for a, b in itertools.combinations(list(graph), 2):
        if reach[a] >> index[b] & 1 or reach[b] >> index[a] & 1:
            continue
        if _splits_kind(graph, _common_dominator(dom, a, b, start)) == "and":
            order.add((a, b))
            order.add((b, a))
    return order


def _descendants(graph: nx.DiGraph) -> dict[str, set[str]]:
    """Every node's descendants, in one pass over the condensation."""
    return _reach(list(graph), graph.succ)


def _reach(
    nodes: Sequence[str], succ: Mapping[str, Iterable[str]]
) -> dict[str, set[str]]:
    """Every node's descendants, the node itself left out.

    Each set lists its members in the order of ``nodes``.
    """
    out: dict[str, set[str]] = {}
    for n, bits in _reach_bits(nodes, succ).items():
        found: set[str] = set()
        while bits:
            low_bit = bits & -bits
            found.add(nodes[low_bit.bit_length() - 1])
            bits ^= low_bit
        out[n] = found
    return out


def _reach_bits(
    nodes: Sequence[str], succ: Mapping[str, Iterable[str]]
) -> dict[str, int]:
    """Every node's descendants as a bit set over the indices of ``nodes``.

    Strongly connected components are found by Tarjan's algorithm, which
    completes a component only after every component it reaches, so one
    pass in that order gathers each component's descendants. A node's own
    bit is always clear, even on a cycle through it.
    """
    index = {n: i for i, n in enumerate(nodes)}
    num: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    comp_of: dict[str, int] = {}
    comp_bits: list[int] = []
    below: list[int] = []
    for root in nodes:
        if root in num:
            continue
        num[root] = low[root] = len(num)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(succ[root]))]
        while work:
            v, it = work[-1]
            for w in it:
                if w not in num:
                    num[w] = low[w] = len(num)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(succ[w])))
                    break
                if w in on_stack and num[w] < low[v]:
                    low[v] = num[w]
            else:
                work.pop()
                if work and low[v] < low[work[-1][0]]:
                    low[work[-1][0]] = low[v]
                if low[v] != num[v]:
                    continue
                k = len(comp_bits)
                members = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp_of[w] = k
                    members.append(w)
                    if w == v:
                        break
                own = 0
                for m in members:
                    own |= 1 << index[m]
                bits = 0
                for m in members:
                    for w in succ[m]:
                        c = comp_of[w]
                        if c != k:
                            bits |= below[c] | comp_bits[c]
                if len(members) > 1:
                    bits |= own
                comp_bits.append(own)
                below.append(bits)
    return {n: below[comp_of[n]] & ~(1 << index[n]) for n in nodes}


def _dominates(dom: dict[object, object], a: object, b: object) -> bool:
    node = b
    while True:
        if node == a:
            return True
        parent = dom.get(node)
        if parent is None or parent == node:
            return False
        node = parent


def _common_dominator(dom: dict[object, object], a: str, b: str, start: str) -> str:
    ancestors = []
    node: object = a
    while True:
        ancestors.append(node)
        parent = dom.get(node)
        if parent is None or parent == node:
            break
        node = parent
    seen = set(ancestors)
    node = b
    while node not in seen:
        parent = dom.get(node)
        if parent is None or parent == node:
            return start
        node = parent
    return str(node)


# -- state-space method -------------------------------------------------------


class _Net:
    """The token game of one scope of a flow; markings count tokens per flow."""

    def __init__(self, graph: nx.DiGraph) -> None:
        self.graph = graph
        self.edges = list(graph.edges())
        self.index = {e: i for i, e in enumerate(self.edges)}
        self.ins = {n: [self.index[e] for e in graph.in_edges(n)] for n in graph}
        self.outs = {n: [self.index[e] for e in graph.out_edges(n)] for n in graph}
        self.boundary = _boundary_of(graph)
        self.split = {n: _splits_kind(graph, n) for n in graph}
        self.join = {n: _joins_kind(graph, n) for n in graph}
        self._edge_reach: dict[int, set[int]] = {}
        if any(k == "or" for k in self.join.values()):
            for i, (_u, v) in enumerate(self.edges):
                reach_nodes = {v} | nx.descendants(graph, v)
                self._edge_reach[i] = {
                    self.index[e] for n in reach_nodes for e in graph.in_edges(n)
                }

    def initial(self, start: str) -> tuple[int, ...] | None:
        """Marking after the start event fired, or None for a bare start."""
        marking = [0] * len(self.edges)
        for i in self.outs[start]:
            marking[i] += 1
        return tuple(marking)

    def _outputs(self, node: str) -> list[tuple[int, ...]]:
        outs = self.outs[node]
        if not outs:
            return [()]
        kind = self.split[node]
        if kind is None or kind == "and":
            return [tuple(outs)]
        if kind == "xor":
            return [(i,) for i in outs]
        if len(outs) > _SPLIT_LIMIT:
            outs = outs[:_SPLIT_LIMIT]
        return [
            combo
            for r in range(1, len(outs) + 1)
            for combo in itertools.combinations(outs, r)
        ]

    def _or_join_ready(self, node: str, marking: tuple[int, ...]) -> bool:
        ins = self.ins[node]
        empty = {i for i in ins if not marking[i]}
        if not empty:
            return True
        for i, count in enumerate(marking):
            if count and i not in ins and self._edge_reach.get(i, set()) & empty:
                target = self.edges[i][1]
                if target != node:
                    return False
        return True

    def moves(self, marking: tuple[int, ...]) -> list[tuple[str, tuple[int, ...]]]:
        """Every (fired node, next marking) from a marking."""
        result = []
        for node in self.graph:
            ins = self.ins[node]
            if not ins:
                continue
            join = self.join[node]
            if join == "and":
                if not all(marking[i] for i in ins):
                    continue
                consumptions = [tuple(ins)]
            elif join == "or":
                if not any(marking[i] for i in ins) or not self._or_join_ready(
                    node, marking
                ):
                    continue
                consumptions = [tuple(i for i in ins if marking[i])]
            else:
                consumptions = [(i,) for i in ins if marking[i]]
            for consumed in consumptions:
                base = list(marking)
                for i in consumed:
                    base[i] -= 1
                for produced in self._outputs(node):
                    nxt = list(base)
                    for i in produced:
                        nxt[i] += 1
                    result.append((node, tuple(nxt)))
                for b in self.boundary.get(node, ()):
                    for produced in self._outputs(b):
                        nxt = list(base)
                        for i in produced:
                            nxt[i] += 1
                        result.append((b, tuple(nxt)))
        return result


@dataclass
class _Space:
    states: list[tuple[int, ...]]
    moves: list[list[tuple[str, int]]]
    complete: bool
    fired: set[str]
    starts: list[str]


def _explore(net: _Net, starts: list[str], bound: int) -> _Space:
    index: dict[tuple[int, ...], int] = {}
    states: list[tuple[int, ...]] = []
    moves: list[list[tuple[str, int]]] = []
    queue: deque[int] = deque()
    fired: set[str] = set(starts)
    complete = True
    for start in starts:
        init = net.initial(start)
        if init is not None and init not in index:
            index[init] = len(states)
            states.append(init)
            moves.append([])
            queue.append(index[init])
    while queue:
        sid = queue.popleft()
        for node, nxt in net.moves(states[sid]):
            fired.add(node)
            if nxt not in index:
                if len(states) >= bound:
                    complete = False
                    continue
                index[nxt] = len(states)
                states.append(nxt)
                moves.append([])
                queue.append(index[nxt])
            moves[sid].append((node, index[nxt]))
    return _Space(states, moves, complete, fired, starts)


def _later_labels(space: _Space, labels: dict[str, int]) -> list[int]:
    """For each state, a bit set of the nodes that can still fire from it."""
    graph = nx.DiGraph()
    graph.add_nodes_from(range(len(space.states)))
    for sid, outs in enumerate(space.moves):
        graph.add_edges_from((sid, t) for _, t in outs)
    cond = nx.condensation(graph)
    later = [0] * len(space.states)
    comp_bits: dict[int, int] = {}
    for comp in reversed(list(nx.topological_sort(cond))):
        bits = 0
        members = cond.nodes[comp]["members"]
        for sid in members:
            for node, target in space.moves[sid]:
                bits |= 1 << labels[node]
                tcomp = cond.graph["mapping"][target]
                if tcomp != comp:
                    bits |= comp_bits[tcomp]
        comp_bits[comp] = bits
        for sid in members:
            later[sid] = bits
    return later


def _state_space(
    graph: nx.DiGraph, bound: int
) -> tuple[set[tuple[str, str]], bool, int, _Space, _Net]:
    net = _Net(graph)
    starts = _starts(graph)
    space = _explore(net, starts, bound)
    nodes = list(graph)
    labels = {n: i for i, n in enumerate(nodes)}
    later = _later_labels(space, labels)
    order: set[tuple[str, str]] = set()
    for start in starts:
        init = net.initial(start)
        for sid, state in enumerate(space.states):
            if state == init:
                bits = later[sid]
                order.update((start, n) for n in nodes if bits >> labels[n] & 1)
    for outs in space.moves:
        for node, target in outs:
            bits = later[target]
            order.update((node, n) for n in nodes if bits >> labels[n] & 1)
    return order, space.complete, len(space.states), space, net


# -- public API ---------------------------------------------------------------


def profile(
    flow: Flow,
    *,
    bound: int = DEFAULT_BOUND,
    method: str = "auto",
    scope: str | None = None,
) -> Profile:
    """Compute the behavioural profile of a flow.

    Parameters
    ----------
    flow : Flow
    bound : int
        Largest number of states the state-space method explores.
    method : {"auto", "structural", "state-space"}
        ``"auto"`` uses the structural method where it applies.
    scope : str, optional
        Profile the inside of this sub-process instead of the top level.

    Returns
    -------
    Profile

    Raises
    ------
    ValueError
        For ``method="structural"`` on a flow it does not apply to.

    Examples
    --------
    >>> from harpflow.model import Flow
    >>> f = Flow()
    >>> for n, t in [("s", "startEvent"), ("m", "exclusiveGateway"), ("a", "task"),
    ...              ("x", "exclusiveGateway"), ("b", "task"), ("c", "task"),
    ...              ("e", "endEvent")]:
    ...     _ = f.add_node(n, type=t)
    >>> for u, v in [("s", "m"), ("m", "a"), ("a", "x"), ("x", "b"), ("x", "c"),
    ...              ("b", "e"), ("c", "m")]:
    ...     _ = f.add_edge(u, v)
    >>> p = profile(f)
    >>> p.relation("a", "b"), p.relation("a", "c"), p.relation("b", "c")
    ('->', '||', '<-')
    >>> sorted(p.loops)
    ['a', 'c', 'm', 'x']

    Inside a :func:`harpflow.flowcache.comparison` block a flow's profile
    is computed once (the state-space method can take seconds on a large
    unstructured flow) and reused by every comparison that needs it.
    """
    key = f"profile:{bound}:{method}:{scope}"
    return memo(flow, key, lambda f: _profile(f, bound, method, scope))


def _profile(flow: Flow, bound: int, method: str, scope: str | None) -> Profile:
    graph = _scope_graph(flow, scope)
    nodes = tuple(graph)
    loops = frozenset(
        n
        for comp in nx.strongly_connected_components(graph)
        for n in comp
        if len(comp) > 1 or graph.has_edge(n, n)
    )
    if method not in ("auto", "structural", "state-space"):
        raise ValueError(f"unknown method {method!r}")
    if method in ("auto", "structural"):
        order = _structural(graph)
        if order is not None:
            return Profile(nodes, frozenset(order), "structural", True, 0, loops)
        if method == "structural":
            raise ValueError("the structural method does not apply to this flow")
    found, complete, n_states, _space, _net = _state_space(graph, bound)
    if not complete:
        warnings.warn(
            f"behavioural profile of {flow.name or 'flow'!s}: state space larger "
            f"than {bound:,} states; relations cover the explored part only",
            HarpflowWarning,
            stacklevel=2,
        )
    return Profile(nodes, frozenset(found), "state-space", complete, n_states, loops)


def soundness(
    flow: Flow, *, bound: int = DEFAULT_BOUND, scope: str | None = None
) -> Soundness:
    """Check that a flow is sound.

    Sound means: a start event exists; every node lies on a path from a
    start to an end; from every reachable state the run can finish with no
    token left (no deadlock or livelock); no sequence flow ever holds two
    tokens (no lack of synchronisation); every node can fire.

    Parameters
    ----------
    flow : Flow
    bound : int
        Largest number of states explored; beyond it ``complete`` is False
        and the flow is not called sound.
    scope : str, optional
        Check the inside of this sub-process instead of the top level.

    Returns
    -------
    Soundness

    Examples
    --------
    >>> from harpflow.model import Flow
    >>> f = Flow()
    >>> for n, t in [("s", "startEvent"), ("x", "exclusiveGateway"), ("b", "task"),
    ...              ("c", "task"), ("j", "parallelGateway"), ("e", "endEvent")]:
    ...     _ = f.add_node(n, type=t)
    >>> for u, v in [("s", "x"), ("x", "b"), ("x", "c"), ("b", "j"), ("c", "j"),
    ...              ("j", "e")]:
    ...     _ = f.add_edge(u, v)
    >>> result = soundness(f)
    >>> result.sound, result.deadlocks
    (False, ('j',))
    """
    graph = _scope_graph(flow, scope)
    starts = _starts(graph)
    ends = [n for n, d in graph.nodes(data=True) if d["type"] == "endEvent"]
    if not ends:
        ends = [n for n in graph if graph.out_degree(n) == 0]
    problems: list[str] = []
    if not starts:
        return Soundness(no_start=True, problems=("no start event",))
    reached = set(starts)
    for s in starts:
        reached |= nx.descendants(graph, s)
    reverse = graph.reverse(copy=False)
    finishing: set[str] = set(ends)
    for e in ends:
        finishing |= nx.descendants(reverse, e)
    boundary = _boundary_of(graph)
    for host, events in boundary.items():
        if host in reached:
            for b in events:
                reached.add(b)
                reached |= nx.descendants(graph, b)
    unreachable = tuple(n for n in graph if n not in reached)
    dead_ends = tuple(n for n in graph if n not in finishing)
    if unreachable:
        problems.append("not reachable from a start: " + ", ".join(unreachable))
    if dead_ends:
        problems.append("cannot reach an end: " + ", ".join(dead_ends))

    net = _Net(graph)
    space = _explore(net, starts, bound)
    final = tuple([0] * len(net.edges))
    can_finish = _can_finish(space, final)
    deadlocks: set[str] = set()
    unsync: set[str] = set()
    stuck = False
    for sid, state in enumerate(space.states):
        for i, count in enumerate(state):
            if count > 1:
                u, v = net.edges[i]
                unsync.add(f"{u}->{v}")
        if not can_finish[sid]:
            stuck = True
            if not space.moves[sid]:
                # A dead marking: its tokens wait for ever where they are.
                deadlocks.update(net.edges[i][1] for i, c in enumerate(state) if c)
    dead = tuple(n for n in graph if n not in space.fired)
    if deadlocks:
        problems.append(
            "runs that cannot finish wait at: " + ", ".join(sorted(deadlocks))
        )
    elif stuck:
        problems.append("runs that cannot finish: a loop with no way out")
    if unsync:
        problems.append("flows that can hold two tokens: " + ", ".join(sorted(unsync)))
    if dead and space.complete:
        problems.append("nodes that never run: " + ", ".join(dead))
    return Soundness(
        unreachable=unreachable,
        dead_ends=dead_ends,
        deadlocks=tuple(sorted(deadlocks)),
        unsynchronised=tuple(sorted(unsync)),
        dead=dead if space.complete else (),
        complete=space.complete,
        problems=tuple(problems),
    )


def _can_finish(space: _Space, final: tuple[int, ...]) -> list[bool]:
    preds: list[list[int]] = [[] for _ in space.states]
    for sid, outs in enumerate(space.moves):
        for _, target in outs:
            preds[target].append(sid)
    ok = [False] * len(space.states)
    queue = deque(sid for sid, st in enumerate(space.states) if st == final)
    for sid in queue:
        ok[sid] = True
    while queue:
        sid = queue.popleft()
        for p in preds[sid]:
            if not ok[p]:
                ok[p] = True
                queue.append(p)
    if not space.complete:
        # Unexplored successors might finish: do not accuse their predecessors.
        return [True] * len(space.states)
    return ok
