"""Changes of the flow's shape: order, decisions, loops and hand-offs.

Order is read from the behavioural profiles of both flows (strict order
between matched steps that the town reverses); decisions from the
splitting gateways; loops from the back edges of a depth-first search
(a loop names its deciding gateway and its body); hand-offs from the
message flows.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from harpflow.behaviour import Profile
from harpflow.diff_change import Change, Notes, is_activity, quote
from harpflow.flowcache import memo, sequence_graph
from harpflow.model import GATEWAY_TYPES, Flow, Node

if TYPE_CHECKING:
    from harpflow.match import Matching

__all__ = [
    "gateway_changes",
    "handoff_changes",
    "loop_changes",
    "reorderings",
]


def _one_to_one(m: Matching, standard: Flow, town: Flow) -> list[tuple[str, str]]:
    pairs = []
    for pair in m.pairs:
        if len(pair.a) == 1 and len(pair.b) == 1:
            a, b = pair.a[0], pair.b[0]
            if is_activity(standard.nodes[a]) and is_activity(town.nodes[b]):
                pairs.append((a, b))
    return pairs


def reorderings(
    standard: Flow,
    town: Flow,
    m: Matching,
    profiles: tuple[Profile, Profile],
    say: Notes,
) -> list[Change]:
    pairs = _one_to_one(m, standard, town)
    # Order without the loops: a rework loop makes every step inside it
    # interleave with the others, which would hide a swap of two of them.
    reach_std, reach_town = _forward_reach(standard), _forward_reach(town)
    bit_std = {n: 1 << i for i, n in enumerate(standard.graph)}
    bit_town = {n: 1 << i for i, n in enumerate(town.graph)}

    def rel_town(b1: str, b2: str) -> str:
        if reach_town[b1] & bit_town[b2]:
            return "->"
        return "<-" if reach_town[b2] & bit_town[b1] else "+"

    conflicts: dict[int, set[int]] = {i: set() for i in range(len(pairs))}
    for i, j in itertools.combinations(range(len(pairs)), 2):
        (a1, b1), (a2, b2) = pairs[i], pairs[j]
        a1_a2, a2_a1 = reach_std[a1] & bit_std[a2], reach_std[a2] & bit_std[a1]
        if a1_a2 and not a2_a1:
            rel_s = "->"
        elif a2_a1 and not a1_a2:
            rel_s = "<-"
        else:
            continue
        if {rel_s, rel_town(b1, b2)} == {"->", "<-"}:
            conflicts[i].add(j)
            conflicts[j].add(i)
    from harpflow import deviations

    # Steps the town says it approves afterwards (後閲) are the ones moved;
    # then the step in most conflicts; in a tie, not the intake or the
    # hand-over the other steps move around; then the earliest.
    late = {
        k
        for k, (_, b) in enumerate(pairs)
        if deviations.states_late_approval(town.nodes[b])
    }
    anchor = {
        k
        for k, (a, _) in enumerate(pairs)
        if deviations.is_visit_anchor(standard.nodes[a])
    }
    moved: list[tuple[int, list[int]]] = []
    while any(conflicts.values()):
        i = max(
            conflicts,
            key=lambda k: (
                k in late and bool(conflicts[k]),
                len(conflicts[k]),
                k not in anchor,
                -k,
            ),
        )
        others = sorted(conflicts[i])
        moved.append((i, others))
        for j in others:
            conflicts[j].discard(i)
        conflicts[i] = set()
    out = []
    for i, others in sorted(moved):
        a, b = pairs[i]
        before = [pairs[j][1] for j in others if rel_town(b, pairs[j][1]) == "<-"]
        after = [pairs[j][1] for j in others if rel_town(b, pairs[j][1]) == "->"]
        where_ja, where_en = [], []
        if before:
            where_ja.append(f"{quote(town, before)}の後")
            where_en.append(f"after {quote(town, before)}")
        if after:
            where_ja.append(f"{quote(town, after)}の前")
            where_en.append(f"before {quote(town, after)}")
        out.append(
            Change(
                "reordered",
                (a,),
                (b,),
                say(
                    f"{quote(town, [b])}を標準と異なり"
                    + "、".join(where_ja)
                    + "に行う",
                    f"{quote(town, [b])} comes "
                    + " and ".join(where_en)
                    + ", unlike the standard",
                ),
                code=deviations.reordering_code(
                    standard, town, m, b, [pairs[j][1] for j in others]
                ),
            )
        )
    return out


def _splits(flow: Flow, node: Node) -> bool:
    return node.type in GATEWAY_TYPES and len(flow.successors(node.id)) > 1


def _loop_deciders(flow: Flow, loops: frozenset[str]) -> set[str]:
    """Decisions that send the work round a loop again.

    Such a decision belongs to the loop (a loop change reports it): one of
    its branches closes the loop before any other decision is taken (不備？
    → 補正依頼 → back to 受付). A decision merely inside a loop's body (届出先
    本庁 or 支所, between the 提出 a 補正 returns to and the 審査) is a
    decision of its own.
    """
    graph = sequence_graph(flow)
    back = set(_back_edges(flow))
    out: set[str] = set()
    for n in loops:
        if not _splits(flow, flow.nodes[n]):
            continue
        for s in graph.successors(n):
            prev, cur, seen = n, s, {n}
            while True:
                if (prev, cur) in back:
                    out.add(n)
                    break
                succs = list(graph.successors(cur))
                if cur in seen or len(succs) != 1:
                    break
                seen.add(cur)
                prev, cur = cur, succs[0]
            if n in out:
                break
    return out


def gateway_changes(
    standard: Flow,
    town: Flow,
    m: Matching,
    profiles: tuple[Profile, Profile],
    say: Notes,
) -> list[Change]:
    out: list[Change] = []
    town_loops = _loop_deciders(town, profiles[1].loops)
    std_loops = _loop_deciders(standard, profiles[0].loops)
    for node in standard.nodes.values():
        if not _splits(standard, node):
            continue
        pair = m.pair_of_a(node.id)
        if pair is None:
            if node.id in std_loops:
                continue  # reported as loop_removed
            out.append(
                Change(
                    "gateway_changed",
                    (node.id,),
                    (),
                    say(
                        f"標準の判断{quote(standard, [node.id])}がない",
                        f"the standard's decision {quote(standard, [node.id])} "
                        "is not made",
                    ),
                )
            )
            continue
        other = town.nodes[pair.b[0]]
        if other.type in GATEWAY_TYPES and other.type != node.type:
            out.append(
                Change(
                    "gateway_changed",
                    (node.id,),
                    (other.id,),
                    say(
                        f"判断{quote(town, [other.id])}が{node.type}ではなく"
                        f"{other.type}",
                        f"decision {quote(town, [other.id])} is a {other.type}, "
                        f"not a {node.type}",
                    ),
                )
            )
    for node in town.nodes.values():
        if _splits(town, node) and m.pair_of_b(node.id) is None:
            if node.id in town_loops:
                continue  # reported as loop_added
            out.append(
                Change(
                    "gateway_changed",
                    (),
                    (node.id,),
                    say(
                        f"標準にない判断{quote(town, [node.id])}がある",
                        f"decision {quote(town, [node.id])} is not in the standard",
                    ),
                )
            )
    return out


def _back_edges(flow: Flow) -> list[tuple[str, str]]:
    """Sequence flows that close a cycle, found by depth-first search from
    the starts (then from any node not yet seen), in flow order."""
    return memo(flow, "back_edges", _find_back_edges)


def _find_back_edges(flow: Flow) -> list[tuple[str, str]]:
    graph = sequence_graph(flow)
    order = list(flow.graph)
    roots = [n for n in order if graph.in_degree(n) == 0] + order
    state: dict[str, int] = {}
    back: list[tuple[str, str]] = []
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(list(graph.successors(root))))]
        while stack:
            node, succs = stack[-1]
            for nxt in succs:
                if state.get(nxt) == 1:
                    back.append((node, nxt))
                elif nxt not in state:
                    state[nxt] = 1
                    stack.append((nxt, iter(list(graph.successors(nxt)))))
                    break
            else:
                state[node] = 2
                stack.pop()
    return back


def _forward_reach(flow: Flow) -> dict[str, int]:
    """What each node reaches once the flows closing loops are taken out,
    as bit sets over the flow's node order."""
    from harpflow.behaviour import _reach_bits

    graph = sequence_graph(flow)
    back = set(_back_edges(flow))
    succ = {u: [v for v in graph.succ[u] if (u, v) not in back] for u in graph}
    return _reach_bits(list(graph), succ)


def _reentry(flow: Flow, node: str) -> str:
    """The first step a loop re-enters at: past merging gateways."""
    seen = {node}
    while flow.nodes[node].type in GATEWAY_TYPES:
        succs = flow.successors(node)
        if len(succs) != 1 or succs[0] in seen:
            break
        node = succs[0]
        seen.add(node)
    return node


def loop_changes(
    standard: Flow,
    town: Flow,
    m: Matching,
    profiles: tuple[Profile, Profile],
    say: Notes,
) -> list[Change]:
    import networkx as nx

    out: list[Change] = []
    for flow, other, kind in (
        (town, standard, "loop_added"),
        (standard, town, "loop_removed"),
    ):
        # Re-entry steps of the other flow's loops, seen from this flow.
        entries_there = {_reentry(other, v) for _, v in _back_edges(other)}
        graph = sequence_graph(flow)
        reported: set[frozenset[str]] = set()
        for u, v in _back_edges(flow):
            entry = _reentry(flow, v)
            pair = m.pair_of_b(entry) if kind == "loop_added" else m.pair_of_a(entry)
            there = (pair.a if kind == "loop_added" else pair.b) if pair else ()
            if any(t in entries_there for t in there):
                continue  # the other flow loops back to the same step
            cycle = (nx.descendants(graph, v) & nx.ancestors(graph, u)) | {u, v}
            order = [n for n in flow.graph if n in cycle]
            steps = [n for n in order if is_activity(flow.nodes[n])] or order
            if frozenset(steps) in reported:
                continue
            reported.add(frozenset(steps))
            # The decision that sends the work back belongs to the loop too.
            body = list(steps)
            steps = body + [
                n
                for n in order
                if n not in steps
                and _splits(flow, flow.nodes[n])
                and any(s not in cycle for s in flow.successors(n))
            ]
            counterparts: list[str] = []
            for n in steps:
                pair = m.pair_of_b(n) if kind == "loop_added" else m.pair_of_a(n)
                if pair is not None:
                    ids = pair.a if kind == "loop_added" else pair.b
                    counterparts += [i for i in ids if i not in counterparts]
            if kind == "loop_added":
                note = say(
                    f"{quote(town, body)}を繰り返す(差戻し・再作業)",
                    f"{quote(town, body)} can be repeated (rework)",
                )
                out.append(Change(kind, tuple(counterparts), tuple(steps), note))
            else:
                note = say(
                    f"標準の繰返し{quote(standard, body)}がない",
                    f"the standard's repetition of {quote(standard, body)} is gone",
                )
                out.append(Change(kind, tuple(steps), tuple(counterparts), note))
    return out


def _messages(flow: Flow) -> list[tuple[str, str]]:
    out = [(e.source, e.target) for e in flow.message_edges()]
    out += [(pm.source, pm.target) for pm in flow.pool_messages]
    return out


def handoff_changes(
    standard: Flow, town: Flow, m: Matching, say: Notes
) -> list[Change]:
    def side_a(n: str) -> set[str]:
        pair = m.pair_of_a(n)
        return set(pair.b) if pair else set()

    def side_b(n: str) -> set[str]:
        pair = m.pair_of_b(n)
        return set(pair.a) if pair else set()

    std_msgs, town_msgs = _messages(standard), _messages(town)
    out: list[Change] = []
    kept_town: set[tuple[str, str]] = set()
    for u, v in std_msgs:
        us, vs = side_a(u), side_a(v)
        # Kept when a counterpart of the sender messages a counterpart of
        # the receiver, or anyone when the receiver has no counterpart.
        found = [(x, y) for x, y in town_msgs if x in us and (y in vs or not vs)]
        if found:
            kept_town.update(found)
            continue
        out.append(
            Change(
                "handoff_missing",
                tuple(i for i in (u, v) if i in standard),
                tuple(sorted(us)),
                say(
                    f"{quote(standard, [u])}から{quote(standard, [v])}への連携がない"
                    if v in standard
                    else f"{quote(standard, [u])}からの連携がない",
                    f"no hand-off from {quote(standard, [u])}",
                ),
            )
        )
    for x, y in town_msgs:
        if (x, y) in kept_town:
            continue
        out.append(
            Change(
                "handoff_added",
                tuple(sorted(side_b(x))),
                tuple(i for i in (x, y) if i in town),
                say(
                    f"標準にない{quote(town, [x])}からの連携がある",
                    f"hand-off from {quote(town, [x])} is not in the standard",
                ),
            )
        )
    return out
