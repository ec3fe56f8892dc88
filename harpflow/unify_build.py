"""Construction of the recommended flow: support, edits, order, soundness.

This module holds the steps of :func:`harpflow.unify.unify` that edit the
base flow (the standard, or the medoid town) into the recommended flow:
each town's view of the base through its alignment (:class:`TownView`),
leaving out a step with its flows joined (:func:`remove_bypassing`,
:func:`simplify_gateways`, :func:`drop_orphan_fragments`), the towns'
consensus lanes (:func:`lane_consensus`) and order (:func:`order_chains`),
the soundness check (:func:`sound_check`) and the reading order of the
result (:func:`flow_order`, :func:`rebuild`). Town practices are in
:mod:`harpflow.unify_practice`.

The steps follow the merge-then-filter scheme of process model
consolidation [1]_ [2]_: every element of the base is annotated with the
towns that perform it (the configurable-model annotations of La Rosa et
al. [1]_) and the result is restricted to what a chosen share of the
towns supports, in the spirit of the frequency-based individualisation of
Derguech and Bhiri [3]_. The order of consecutive steps follows the towns'
pairwise majority (a Copeland ranking [4]_).

References
----------
.. [1] M. La Rosa, M. Dumas, R. Uba and R. Dijkman, "Business process model
   merging: an approach to business process consolidation", ACM
   Transactions on Software Engineering and Methodology 22(2), 2013,
   article 11.
.. [2] F. Gottschalk, W. M. P. van der Aalst and M. H. Jansen-Vullers,
   "Merging event-driven process chains", OTM 2008, LNCS 5331,
   pp. 418-426.
.. [3] W. Derguech and S. Bhiri, "Merging business process variants",
   BIS 2011, LNBIP 87, pp. 86-97.
.. [4] A. H. Copeland, "A reasonable social welfare function", University
   of Michigan seminar on applications of mathematics to the social
   sciences, 1951.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from harpflow.behaviour import Soundness, soundness
from harpflow.glossary import Glossary
from harpflow.match import Matching
from harpflow.model import ACTIVITY_TYPES, EVENT_TYPES, GATEWAY_TYPES, Flow

__all__ = [
    "TownView",
    "drop_orphan_fragments",
    "edge_attrs",
    "flow_order",
    "is_step",
    "lane_consensus",
    "order_chains",
    "rebuild",
    "remove_bypassing",
    "simplify_gateways",
    "sound_check",
]


def is_step(flow: Flow, node_id: str) -> bool:
    """Activities and intermediate events: what towns perform or wait for."""
    typ = flow.graph.nodes[node_id]["type"]
    return typ in ACTIVITY_TYPES or (
        typ in EVENT_TYPES and typ not in ("startEvent", "endEvent", "boundaryEvent")
    )


@dataclass
class TownView:
    """One town's flow seen through its alignment to the base flow.

    ``counterparts`` maps a base id to the town ids that perform it;
    ``owner`` maps a town id to the base ids it performs.
    """

    name: str
    flow: Flow
    matching: Matching
    counterparts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    owner: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _reach: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, name: str, flow: Flow, matching: Matching) -> TownView:
        view = cls(name, flow, matching)
        for c in matching.pairs:
            for a in c.a:
                view.counterparts[a] = tuple(
                    sorted({*view.counterparts.get(a, ()), *c.b})
                )
            for b in c.b:
                view.owner[b] = tuple(sorted({*view.owner.get(b, ()), *c.a}))
        return view

    def reach(self, node: str) -> set[str]:
        """Town nodes reachable from ``node`` along sequence flows."""
        if not self._reach:
            seq = nx.DiGraph()
            seq.add_nodes_from(self.flow.graph)
            seq.add_edges_from((e.source, e.target) for e in self.flow.sequence_edges())
            # Descendants of every node at once, over the strongly connected
            # components in reverse topological order.
            dag = nx.condensation(seq)
            members = dag.graph["mapping"]
            below: dict[int, set[str]] = {}
            for c in reversed(list(nx.topological_sort(dag))):
                nodes = set(dag.nodes[c]["members"])
                out: set[str] = set(nodes) if len(nodes) > 1 else set()
                for d in dag.successors(c):
                    out |= below[d] | set(dag.nodes[d]["members"])
                if len(nodes) == 1 and seq.has_edge(
                    next(iter(nodes)), next(iter(nodes))
                ):
                    out |= nodes
                below[c] = out
            self._reach = {n: below[members[n]] for n in seq}
        return self._reach.get(node, set())

    def precedes(self, base_u: str, base_v: str) -> bool:
        """Whether some counterpart of ``base_u`` runs before one of ``base_v``."""
        us, vs = self.counterparts.get(base_u, ()), self.counterparts.get(base_v, ())
        return any(v in self.reach(u) for u in us for v in vs if u != v)

    def handoff(self, base_u: str, base_v: str) -> bool:
        """Whether the town has the base hand-off ``base_u`` -> ``base_v``."""
        g = self.flow.graph
        return any(
            g.has_edge(u, v) and g.edges[u, v].get("kind") == "message"
            for u in self.counterparts.get(base_u, ())
            for v in self.counterparts.get(base_v, ())
        )


# -- editing ------------------------------------------------------------------


def _seq_out(flow: Flow, n: str) -> list[str]:
    return flow.successors(n)


def _seq_in(flow: Flow, n: str) -> list[str]:
    return flow.predecessors(n)


def edge_attrs(flow: Flow, u: str, v: str) -> dict[str, Any]:
    """Label, condition and default flag of a flow, where set."""
    d = flow.graph.edges[u, v]
    return {k: d.get(k) for k in ("label", "condition", "default") if d.get(k)}


def remove_bypassing(flow: Flow, node: str) -> set[str]:
    """Remove a node, joining each predecessor to each successor.

    The edge into the node lends its label and condition to the new edges.
    Returns the neighbours whose shape changed.
    """
    preds, succs = _seq_in(flow, node), _seq_out(flow, node)
    attrs = {p: edge_attrs(flow, p, node) for p in preds}
    flow.remove_node(node)
    for p in preds:
        for s in succs:
            if p != s and not flow.graph.has_edge(p, s):
                flow.add_edge(p, s, **attrs[p])
    return {*preds, *succs}


def simplify_gateways(flow: Flow, nodes: Iterable[str]) -> None:
    """Drop gateways among ``nodes`` left with one way in and one way out."""
    todo = sorted(set(nodes) & set(flow.graph), key=list(flow.graph).index)
    while todo:
        n = todo.pop(0)
        if n not in flow.graph or flow.graph.nodes[n]["type"] not in GATEWAY_TYPES:
            continue
        if len(_seq_in(flow, n)) == 1 and len(_seq_out(flow, n)) == 1:
            if any(d.get("kind") == "message" for *_, d in _all_edges(flow, n)):
                continue
            for m in remove_bypassing(flow, n):
                if m not in todo:
                    todo.append(m)


def _all_edges(flow: Flow, n: str) -> list[tuple[str, str, dict[str, Any]]]:
    g = flow.graph
    return list(g.in_edges(n, data=True)) + list(g.out_edges(n, data=True))


def drop_orphan_fragments(flow: Flow, keep: set[str]) -> list[str]:
    """Remove parts that nothing starts any more (no start, no message in).

    Outside bodies' fragments start on a message; when their hand-offs are
    gone they can never run. Parts holding a node of ``keep`` stay.
    """
    seq = flow.sequence_graph()
    removed: list[str] = []
    for comp in sorted(nx.weakly_connected_components(seq), key=lambda c: min(c)):
        types = {flow.graph.nodes[n]["type"] for n in comp}
        if "startEvent" in types or comp & keep:
            continue
        fed = any(
            d.get("kind") == "message" and u not in comp
            for n in comp
            for u, _, d in flow.graph.in_edges(n, data=True)
        )
        if not fed:
            for n in sorted(comp):
                flow.remove_node(n)
                removed.append(n)
    return removed


def rebuild(flow: Flow, order: Sequence[str]) -> Flow:
    """A copy of ``flow`` with its nodes in ``order`` and no diagram layout."""
    out = Flow(
        flow.name,
        area=flow.area,
        procedure=flow.procedure,
        town=flow.town,
        source=flow.source,
        **dict(flow.meta),
    )
    lanes = {lane.id: lane for lane in flow.lanes}
    used = {d.get("lane_id") for _, d in flow.graph.nodes(data=True)}
    for lane_id in list(used):
        while lane_id in lanes and lanes[lane_id].parent:
            lane_id = lanes[lane_id].parent
            used.add(lane_id)
    pools = {d.get("pool_id") for _, d in flow.graph.nodes(data=True)}
    pools |= {lanes[x].pool for x in used if x in lanes}
    for pool in flow.pools:
        if pool.id in pools or pool.process:
            out.add_pool(pool.id, pool.name, process=pool.process)
    for lane in flow.lanes:
        if lane.id in used:
            out.add_lane(lane.id, lane.name, pool=lane.pool, parent=lane.parent)
    for n in order:
        data = dict(flow.graph.nodes[n])
        for key in ("lane", "pool", "bounds", "source"):
            data.pop(key, None)
        out.add_node(n, **data)
    for u, v, d in flow.graph.edges(data=True):
        attrs = {k: x for k, x in d.items() if k not in ("waypoints", "duplicates")}
        out.add_edge(u, v, **attrs)
    for obj in flow.data_objects:
        out.add_data_object(
            obj.id,
            obj.label,
            kind=obj.kind,
            inputs=[i for i in obj.inputs if i in out],
            outputs=[i for i in obj.outputs if i in out],
        )
    for ann in flow.annotations:
        out.add_annotation(
            ann.id, ann.text, targets=[t for t in ann.targets if t in out]
        )
    return out


def flow_order(flow: Flow) -> list[str]:
    """Nodes in reading order: a topological order ignoring loop-back flows,
    the parts reached from a start event first, ties broken by the present
    node order."""
    index = {n: i for i, n in enumerate(flow.graph)}
    seq = nx.DiGraph(flow.sequence_graph())
    back: list[tuple[str, str]] = []
    roots = sorted(
        (
            n
            for n in seq
            if seq.in_degree(n) == 0 or seq.nodes[n]["type"] == "startEvent"
        ),
        key=index.__getitem__,
    )
    seen: set[str] = set()
    for root in [*roots, *sorted(seq, key=index.__getitem__)]:
        if root in seen:
            continue
        on_path: set[str] = set()
        stack: list[tuple[str, Iterator[str]]] = []
        seen.add(root)
        on_path.add(root)
        stack.append((root, iter(sorted(seq.successors(root), key=index.__getitem__))))
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                on_path.discard(node)
            elif nxt in on_path:
                back.append((node, nxt))
            elif nxt not in seen:
                seen.add(nxt)
                on_path.add(nxt)
                stack.append(
                    (nxt, iter(sorted(seq.successors(nxt), key=index.__getitem__)))
                )
    seq.remove_edges_from(back)
    main: set[str] = set()
    for n in seq:
        if seq.nodes[n]["type"] == "startEvent":
            main |= {n, *nx.descendants(seq, n)}
    # The flow's own process first, outside bodies' parts after it.
    rank = {n: (0 if n in main else 1, index[n]) for n in seq}
    return list(nx.lexicographical_topological_sort(seq, key=rank.__getitem__))


# -- soundness ----------------------------------------------------------------


def sound_check(flow: Flow) -> Soundness:
    """Soundness of a flow whose outside bodies start on a message.

    A part with no start event that an incoming message flow starts (an
    outside body's fragment, 連携の受け手) is checked as an instance of its
    own: a start event is put before its entry in a copy, then
    :func:`harpflow.behaviour.soundness` judges the copy.

    Examples
    --------
    >>> from harpflow.model import Flow
    >>> f = Flow()
    >>> for n, t in [("s", "startEvent"), ("a", "sendTask"), ("e", "endEvent"),
    ...              ("r", "receiveTask"), ("re", "endEvent")]:
    ...     _ = f.add_node(n, type=t)
    >>> for u, v in [("s", "a"), ("a", "e"), ("r", "re")]:
    ...     _ = f.add_edge(u, v)
    >>> _ = f.add_edge("a", "r", kind="message")
    >>> soundness(f).sound, sound_check(f).sound
    (False, True)
    """
    check = flow.copy()
    g = check.graph
    for n in list(g):
        d = g.nodes[n]
        if d["type"] in ("startEvent", "boundaryEvent") or d.get("parent"):
            continue
        if not _seq_in(check, n) and any(
            e.get("kind") == "message" for *_, e in g.in_edges(n, data=True)
        ):
            start = f"__start_{n}"
            check.add_node(start, type="startEvent", pool_id=d.get("pool_id"))
            check.add_edge(start, n)
    return soundness(check)


# -- consensus order ----------------------------------------------------------


def _chains(flow: Flow, movable: set[str]) -> list[list[str]]:
    """Maximal runs of movable steps linked one to one by sequence flows."""

    def linked(u: str, v: str) -> bool:
        return _seq_out(flow, u) == [v] and _seq_in(flow, v) == [u]

    chains: list[list[str]] = []
    for n in flow.graph:
        if n not in movable:
            continue
        ins = _seq_in(flow, n)
        if len(ins) == 1 and ins[0] in movable and linked(ins[0], n):
            continue
        chain = [n]
        while True:
            outs = _seq_out(flow, chain[-1])
            if len(outs) == 1 and outs[0] in movable and linked(chain[-1], outs[0]):
                if outs[0] in chain:
                    break
                chain.append(outs[0])
            else:
                break
        if len(chain) > 1:
            chains.append(chain)
    return chains


def order_chains(
    flow: Flow, towns: Sequence[TownView], movable: set[str], min_support: float
) -> list[tuple[str, str]]:
    """Reorder runs of consecutive steps by the towns' pairwise majority.

    A later step moves before an earlier one when more towns perform it
    first than after, and those towns are at least ``min_support`` of all
    towns; otherwise the base order stands. Returns the swapped pairs.
    """
    n_towns = max(1, len(towns))
    swaps: list[tuple[str, str]] = []
    for chain in _chains(flow, movable):
        memo: dict[tuple[str, str], int] = {}

        def before(a: str, b: str, memo: dict[tuple[str, str], int] = memo) -> int:
            if (a, b) not in memo:
                memo[a, b] = sum(
                    1 for t in towns if t.precedes(a, b) and not t.precedes(b, a)
                )
            return memo[a, b]

        order = list(chain)
        for _ in range(len(order) ** 2):
            moved = False
            for i in range(len(order) - 1):
                a, b = order[i], order[i + 1]
                if (
                    before(b, a) > before(a, b)
                    and before(b, a) / n_towns >= min_support
                ):
                    order[i], order[i + 1] = b, a
                    swaps.append((a, b))
                    moved = True
            if not moved:
                break
        if order != chain:
            _relink(flow, chain, order)
    return swaps


def _relink(flow: Flow, chain: list[str], order: list[str]) -> None:
    pred = _seq_in(flow, chain[0])
    succ = _seq_out(flow, chain[-1])
    first_in = {p: edge_attrs(flow, p, chain[0]) for p in pred}
    last_out = {s: edge_attrs(flow, chain[-1], s) for s in succ}
    for p in pred:
        flow.remove_edge(p, chain[0])
    for s in succ:
        flow.remove_edge(chain[-1], s)
    for u, v in itertools.pairwise(chain):
        flow.remove_edge(u, v)
    for p in pred:
        flow.add_edge(p, order[0], **first_in[p])
    for u, v in itertools.pairwise(order):
        flow.add_edge(u, v)
    for s in succ:
        flow.add_edge(order[-1], s, **last_out[s])


def lane_consensus(
    flow: Flow,
    towns: Sequence[TownView],
    steps: Iterable[str],
    min_support: float,
    glossary: Glossary,
) -> list[tuple[str, str, str]]:
    """Give a step the lane that most towns use instead of the base's.

    A step moves when the towns doing it in one other lane (compared
    through the glossary's lane synonyms) are at least ``min_support`` of
    all towns and outnumber those keeping the base's lane. Only steps of
    the flow's own process (no pool, or the pool of its first start) move.
    Returns (step, old lane, new lane).
    """
    n = max(1, len(towns))
    starts = [x for x in flow.graph if flow.graph.nodes[x]["type"] == "startEvent"]
    home = flow.graph.nodes[starts[0]].get("pool_id") if starts else None
    moved: list[tuple[str, str, str]] = []
    for b in steps:
        d = flow.graph.nodes[b]
        if d.get("pool_id") != home or not d.get("lane"):
            continue
        mine = glossary.lane(d["lane"])
        votes: dict[str, list[str]] = {}
        same = 0
        for t in towns:
            ids = t.counterparts.get(b, ())
            if not ids:
                continue
            name = t.flow.graph.nodes[ids[0]].get("lane") or ""
            canon = glossary.lane(name) if name else ""
            if not canon or canon == mine:
                same += 1
            else:
                votes.setdefault(canon, []).append(name)
        if not votes:
            continue
        canon, names = max(votes.items(), key=lambda kv: (len(kv[1]), kv[0]))
        if len(names) / n >= min_support and len(names) > same:
            new = max(sorted(set(names)), key=names.count)
            moved.append((b, d["lane"], new))
            flow.update_node(b, lane=new)
    return moved
