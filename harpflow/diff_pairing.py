"""Steps the matcher left alone that a diff pairs all the same.

The matcher (:func:`harpflow.match.match`) pairs steps by what they say
and where they stand. Two cases it leaves open are closed here, before
the changes are listed: a lone standard step and a lone town step that
take each other's place between the same matched neighbours
(:func:`same_place`), and an approval that the town moved after the
output it should precede (:func:`late_approval`, which the diff then
reports as a reordering, V03, instead of a missing and an extra step), a
receiving step drawn in the town's own flow (:func:`hand_entered`), and an
approval the town's staff do within their own step
(:func:`folded_approval`, a merge rather than a missing step).
Both apply only to the matching :func:`harpflow.diff.diff` makes itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harpflow.diff_change import is_activity
from harpflow.diff_terms import has_counter, lanes_differ
from harpflow.flowcache import sequence_graph
from harpflow.glossary import Glossary
from harpflow.model import Flow

if TYPE_CHECKING:
    from harpflow.match import Matching

__all__ = [
    "folded_approval",
    "hand_entered",
    "late_approval",
    "pair_more",
    "same_place",
]


def same_place(standard: Flow, town: Flow, m: Matching, gloss: Glossary) -> Matching:
    """The matching, with steps that take each other's place paired.

    A standard step the matcher left alone and a town step it left alone
    are the same step worded otherwise when they sit between the same
    matched steps: a predecessor of one is matched to a predecessor of the
    other, a successor likewise (through sequence or message flows), they
    have as many incoming and outgoing flows of each kind, the same lane
    does them, and neither has another such partner. (補正を依頼 and
    直してもらう, both after the decision on 届書審査 and back to 届出.)
    """
    from harpflow.match import Correspondence, Matching

    def unmatched(flow: Flow, paired: Any) -> list[str]:
        return [
            n for n, node in flow.nodes.items() if is_activity(node) and not paired(n)
        ]

    lone_a = unmatched(standard, m.pair_of_a)
    lone_b = unmatched(town, m.pair_of_b)
    if not lone_a or not lone_b:
        return m

    def across(ids: Any) -> set[str]:
        out: set[str] = set()
        for i in ids:
            pair = m.pair_of_a(i)
            if pair is not None:
                out.update(pair.b)
        return out

    def degrees(flow: Flow, n: str) -> tuple[int, ...]:
        kinds = ("sequence", "message")
        ins = [d.get("kind", "sequence") for d in flow.graph.pred[n].values()]
        outs = [d.get("kind", "sequence") for d in flow.graph.succ[n].values()]
        return tuple(side.count(k) for side in (ins, outs) for k in kinds)

    counter = has_counter(town, gloss)
    partners: dict[str, list[str]] = {}
    for a in lone_a:
        before = across(standard.graph.predecessors(a))
        after = across(standard.graph.successors(a))
        node = standard.nodes[a]
        partners[a] = [
            b
            for b in lone_b
            if before & set(town.graph.predecessors(b))
            and after & set(town.graph.successors(b))
            and degrees(standard, a) == degrees(town, b)
            and not lanes_differ(node.lane, town.nodes[b].lane, gloss, counter=counter)
        ]
    added = []
    for a, found in partners.items():
        if len(found) == 1 and [x for x, f in partners.items() if found[0] in f] == [a]:
            added.append(Correspondence((a,), (found[0],), 0.0))
    if added:
        m = Matching(standard, town, [*m.pairs, *added])
    return m


def pair_more(standard: Flow, town: Flow, m: Matching, gloss: Glossary) -> Matching:
    """The matching with every rule of this module applied, in turn:
    :func:`same_place`, :func:`late_approval`, :func:`hand_entered` and
    :func:`folded_approval`."""
    for rule in (same_place, late_approval, hand_entered, folded_approval):
        m = rule(standard, town, m, gloss)
    return m


def late_approval(standard: Flow, town: Flow, m: Matching, gloss: Glossary) -> Matching:
    """The matching, with an approval moved after the output (後閲) paired.

    When the only standard approval step left unmatched and the only
    unmatched town approval step are such that an output step (交付, 通知,
    発送 ...) which follows the approval in the standard precedes it in the
    town (認定の後閲 after 結果通知), the town approves the same thing
    afterwards: a reordering (V03), not one approval missing and another
    extra.
    """
    import networkx as nx

    from harpflow import deviations
    from harpflow.match import Correspondence, Matching

    def lone(flow: Flow, paired: Any) -> list[str]:
        return [
            n
            for n, node in flow.nodes.items()
            if is_activity(node)
            and not paired(n)
            and deviations.is_approval(node, gloss)
        ]

    lone_a, lone_b = lone(standard, m.pair_of_a), lone(town, m.pair_of_b)
    if len(lone_a) != 1 or len(lone_b) != 1:
        return m
    a, b = lone_a[0], lone_b[0]
    graph_a, graph_b = sequence_graph(standard), sequence_graph(town)
    later = nx.descendants(graph_a, a) - nx.ancestors(graph_a, a)
    earlier = nx.ancestors(graph_b, b) - nx.descendants(graph_b, b)
    outputs: set[str] = set()
    for n in later:
        pair = m.pair_of_a(n)
        if pair is not None and deviations.is_output(standard.nodes[n]):
            outputs.update(pair.b)
    if not outputs & earlier:
        return m
    return Matching(standard, town, [*m.pairs, Correspondence((a,), (b,), 0.0)])


def hand_entered(standard: Flow, town: Flow, m: Matching, gloss: Glossary) -> Matching:
    """The matching, with a receiving step the town does in its own flow paired.

    The standard hands data over by a message to the receiving body's step
    (庁内連携 → 関係課 updates its records; 手数料 → 会計課 records the
    revenue). A town without that 連携 hands a paper slip over (異動連絡票,
    日計表) and draws the receiver's entry in its own flow (連絡票をもとに
    入力, by 関係各課 or 出納室). The receiver's step of the standard, left
    alone, and the one lone town step of the same party that directly
    follows the sender's counterpart, or a lone manual hand-over after it,
    are the same step: the diff reports it as done in the town's flow
    (V09), not as one step missing and another extra.
    """
    import networkx as nx

    from harpflow.match import Correspondence, Matching

    graph = sequence_graph(town)
    lone_b = [
        n
        for n, node in town.nodes.items()
        if is_activity(node) and not node.pool and m.pair_of_b(n) is None
    ]
    added = []
    taken: set[str] = set()
    for edge in standard.message_edges():
        r, sender = standard.nodes.get(edge.target), m.pair_of_a(edge.source)
        if r is None or not r.pool or sender is None or not is_activity(r):
            continue
        if m.pair_of_a(r.id) is not None:
            continue
        after: set[str] = set()
        for t in sender.b:
            if t in graph:
                after |= nx.descendants(graph, t)
        # by the sender's counterpart, or by a lone hand-over after it
        handing = set(sender.b) | {
            p
            for p in after
            if town.nodes[p].type == "manualTask" and m.pair_of_b(p) is None
        }
        found = [
            b
            for b in lone_b
            if b not in taken
            and handing & set(graph.predecessors(b))
            and not lanes_differ(r.lane, town.nodes[b].lane, gloss)
        ]
        if len(found) == 1:
            taken.add(found[0])
            added.append(Correspondence((r.id,), (found[0],), 0.0))
    if not added:
        return m
    return Matching(standard, town, [*m.pairs, *added])


def folded_approval(
    standard: Flow, town: Flow, m: Matching, gloss: Glossary
) -> Matching:
    """The matching, with an approval the town does within another step merged.

    Approval compression (V01) either skips a review or approval or folds
    it into the step of the one who enters the case: 異動入力し本登録 for
    異動入力 and 決裁・本登録, 確認リスト照合（自己点検） for 照合 and 審査.
    A standard review or approval step left unmatched is folded into the
    town step matched (alone) to a neighbouring standard step when that
    town step's label says so: it names something the approval's label
    adds to the neighbour's (本登録, 認定, 価格 ...), or it says its doer
    checks their own work (自己点検). The diff then reports a merge of the
    two standard steps, not a missing approval.
    """
    from harpflow import deviations
    from harpflow.match import Correspondence, Matching
    from harpflow.text import normalise

    graph = sequence_graph(standard)

    def words(label: str) -> set[str]:
        return set(normalise(label, glossary=gloss).tokens)

    def lone_approval(n: str) -> bool:
        node = standard.nodes[n]
        return m.pair_of_a(n) is None and deviations.is_approval(node, gloss)

    def neighbours(a: str) -> list[str]:
        # the steps within four flows before and after ``a``, nearest
        # first; other approvals the town left out are passed over (審査
        # then 決裁)
        out: list[str] = []
        for step in (graph.predecessors, graph.successors):
            seen, frontier = {a}, [a]
            for _ in range(4):
                ahead = sorted({x for n in frontier for x in step(n)} - seen)
                seen.update(ahead)
                frontier = ahead
                out += [
                    n
                    for n in ahead
                    if is_activity(standard.nodes[n]) and not lone_approval(n)
                ]
        return out

    pairs = list(m.pairs)
    for a, node in standard.nodes.items():
        if not is_activity(node) or a not in graph or not lone_approval(a):
            continue
        own = {w for w in words(node.label) if not deviations.says_approval(w)}
        for n in neighbours(a):
            pair = next((c for c in pairs if n in c.a), None)
            if pair is None or len(pair.a) != 1 or len(pair.b) != 1:
                continue
            label = town.nodes[pair.b[0]].label
            adds = own - words(standard.nodes[n].label)
            if adds & words(label) or deviations.says_self_check(label):
                order = {x: i for i, x in enumerate(standard.nodes)}
                members = tuple(sorted((n, a), key=order.__getitem__))
                pairs[pairs.index(pair)] = Correspondence(members, pair.b, pair.score)
                break
    if pairs == list(m.pairs):
        return m
    return Matching(standard, town, pairs)
