"""Changes of single steps: missing, extra, merged, split, and what a
matched pair differs in (wording, lane, type, medium, location, forms).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harpflow import deviations
from harpflow.diff_change import Change, Notes, is_activity, label_of, quote
from harpflow.diff_terms import has_counter, lanes_differ, same_wording, type_class
from harpflow.flowcache import memo
from harpflow.glossary import Glossary
from harpflow.model import EVENT_TYPES, Flow, Node

if TYPE_CHECKING:
    from harpflow.match import Matching

__all__ = [
    "FORM_SIMILARITY",
    "node_changes",
]


def _is_compared_event(node: Node) -> bool:
    # Start and end events are compared as steps only when they say more
    # than "start"/"end": a town with a second start channel, or a timer.
    return node.type in EVENT_TYPES and node.type not in ("startEvent", "endEvent")


def node_changes(
    standard: Flow, town: Flow, m: Matching, gloss: Glossary, say: Notes
) -> list[Change]:
    out: list[Change] = []
    for node in standard.nodes.values():
        if (is_activity(node) or _is_compared_event(node)) and m.pair_of_a(
            node.id
        ) is None:
            out.append(
                Change(
                    "missing",
                    (node.id,),
                    (),
                    say(
                        f"標準の{quote(standard, [node.id])}が行われていない",
                        f"standard step {quote(standard, [node.id])} is not done",
                    ),
                )
            )
    extra_starts = len(
        [n for n in town.nodes.values() if n.type == "startEvent"]
    ) > len([n for n in standard.nodes.values() if n.type == "startEvent"])
    for node in town.nodes.values():
        counted = is_activity(node) or _is_compared_event(node)
        if node.type == "startEvent" and extra_starts:
            counted = True
        if counted and m.pair_of_b(node.id) is None:
            out.append(
                Change(
                    "extra",
                    (),
                    (node.id,),
                    say(
                        f"標準にない{quote(town, [node.id])}がある",
                        f"town step {quote(town, [node.id])} is not in the standard",
                    ),
                )
            )
    for pair in m.pairs:
        a_nodes = [standard.nodes[i] for i in pair.a]
        b_nodes = [town.nodes[i] for i in pair.b]
        if not any(is_activity(n) for n in a_nodes + b_nodes):
            continue
        out += _member_lanes(standard, town, a_nodes, b_nodes, gloss, say)
        if len(pair.a) > 1 and len(pair.b) == 1:
            out.append(
                Change(
                    "merged",
                    pair.a,
                    pair.b,
                    say(
                        f"{quote(standard, pair.a)}を{quote(town, pair.b)}の"
                        "一つの作業で行う",
                        f"{quote(standard, pair.a)} are done as one step "
                        f"{quote(town, pair.b)}",
                    ),
                )
            )
            continue
        if len(pair.b) > 1:
            kind = "split" if len(pair.a) == 1 else "merged"
            out.append(
                Change(
                    kind,
                    pair.a,
                    pair.b,
                    say(
                        f"{quote(standard, pair.a)}を{quote(town, pair.b)}に分けて行う",
                        f"{quote(standard, pair.a)} is done in steps "
                        f"{quote(town, pair.b)}",
                    ),
                )
            )
            continue
        out += _pair_changes(standard, town, a_nodes[0], b_nodes[0], gloss, say)
    return out


def _member_lanes(
    standard: Flow,
    town: Flow,
    a_nodes: list[Node],
    b_nodes: list[Node],
    gloss: Glossary,
    say: Notes,
) -> list[Change]:
    """Lane changes inside a merge or split: a town step done by a lane
    that differs from the lanes of all its standard steps, or a merge that
    has an approval done by another lane than the standard's (審査 folded
    into the inputter's step: the inputter approves their own work)."""
    from harpflow import deviations

    if len(a_nodes) == 1 and len(b_nodes) == 1:
        return []
    counter = has_counter(town, gloss)
    out = []
    for b in b_nodes:
        lanes_a = [a.lane for a in a_nodes if a.lane]
        if not b.lane or not lanes_a:
            continue
        moved = [
            a
            for a in a_nodes
            if a.lane
            and deviations.is_approval(a, gloss)
            and lanes_differ(a.lane, b.lane, gloss, counter=counter)
        ]
        if len(b_nodes) == 1 and moved and len(moved) < len(a_nodes):
            ids, lanes = tuple(a.id for a in moved), [a.lane or "" for a in moved]
        elif all(lanes_differ(la, b.lane, gloss, counter=counter) for la in lanes_a):
            ids, lanes = tuple(a.id for a in a_nodes), lanes_a
        else:
            continue
        was = dict.fromkeys(lanes)
        step = label_of(town, b.id)
        out.append(
            Change(
                "lane_changed",
                ids,
                (b.id,),
                say(
                    f"「{step}」を{'・'.join(was)}ではなく{b.lane}が行う",
                    f"'{step}' is done by {b.lane}, not {', '.join(was)}",
                ),
            )
        )
    return out


def _pair_changes(
    standard: Flow, town: Flow, a: Node, b: Node, gloss: Glossary, say: Notes
) -> list[Change]:
    out: list[Change] = []
    ids = ((a.id,), (b.id,))
    if not same_wording(a.label, b.label):
        out.append(
            Change(
                "relabelled",
                *ids,
                say(
                    f"「{label_of(standard, a.id)}」を「{label_of(town, b.id)}」と呼ぶ",
                    f"'{label_of(standard, a.id)}' is called '{label_of(town, b.id)}'",
                ),
            )
        )
    cls_a, cls_b = type_class(a.type), type_class(b.type)
    retyped = cls_a is not None and cls_b is not None and cls_a != cls_b
    # A receiving body's step (its own pool in the standard, reached by a
    # message) that the town draws in its own flow, reached by no message,
    # is done elsewhere, whatever the lane is called; that it is no longer
    # a receiving step is the same fact.
    moved_in = (
        bool(a.pool)
        and a.type == "receiveTask"
        and not b.pool
        and not any(d.get("kind") == "message" for d in town.graph.pred[b.id].values())
    )
    retyped = retyped and not moved_in
    if moved_in or lanes_differ(
        a.lane, b.lane, gloss, counter=has_counter(town, gloss)
    ):
        out.append(
            Change(
                "lane_changed",
                *ids,
                say(
                    f"「{label_of(town, b.id)}」を連携先の{a.pool}ではなく"
                    f"自団体の流れの中で{b.lane}が行う",
                    f"'{label_of(town, b.id)}' is done by {b.lane} in the town's "
                    f"own flow, not by {a.pool} on a hand-off",
                )
                if moved_in
                else say(
                    f"「{label_of(town, b.id)}」を{a.lane}ではなく{b.lane}が行う",
                    f"'{label_of(town, b.id)}' is done by {b.lane}, not {a.lane}",
                ),
            )
        )
    if retyped:
        out.append(
            Change(
                "type_changed",
                *ids,
                say(
                    f"「{label_of(town, b.id)}」が{a.type}ではなく{b.type}",
                    f"'{label_of(town, b.id)}' is a {b.type}, not a {a.type}",
                ),
            )
        )
    differing = []
    if a.medium and b.medium and _medium_class(a.medium) != _medium_class(b.medium):
        differing.append(f"medium: {a.medium} → {b.medium}")
    elif b.medium == "paper" and not a.medium and not retyped:
        # The standard leaves the medium to the standard-compliant system;
        # a town that says paper works otherwise.
        differing.append("medium: paper")
    if deviations.is_batched(b) and not deviations.is_batched(a):
        # The timing the town states in the label (夜間バッチ, 翌日, まとめて).
        differing.append("timing: batch")
    if a.location and b.location and a.location != b.location:
        differing.append(f"location: {a.location} → {b.location}")
    forms_a, forms_b = set(a.forms), set(b.forms)
    if forms_a and forms_b and _own_forms(forms_a, forms_b, gloss, standard):
        differing.append(
            f"forms: {'・'.join(sorted(forms_a))} → {'・'.join(sorted(forms_b))}"
        )
    ids_a, ids_b = set(a.function_ids), set(b.function_ids)
    if ids_a and ids_b and ids_a != ids_b:
        differing.append(
            f"function_ids: {'・'.join(sorted(ids_a))} → {'・'.join(sorted(ids_b))}"
        )
    if differing:
        out.append(
            Change(
                "attribute_changed",
                *ids,
                say(
                    f"「{label_of(town, b.id)}」の" + "、".join(differing),
                    f"'{label_of(town, b.id)}': " + "; ".join(differing),
                ),
            )
        )
    return out


#: Media that are the same way of working: a step done on a screen of the
#: system works with the system.
_MEDIUM_CLASS = {"screen": "system"}

#: Two form names name the same form when one contains the other (転入届書
#: and 転入届) or they are at least this similar
#: (:func:`harpflow.score.pair_similarity`; 要介護認定等結果通知書 and
#: 認定結果通知書).
FORM_SIMILARITY = 0.5


def _medium_class(medium: str) -> str:
    return _MEDIUM_CLASS.get(medium, medium)


def _own_forms(
    forms_a: set[str], forms_b: set[str], gloss: Glossary, standard: Flow
) -> list[str]:
    """The town's forms that name none of the standard's forms.

    Towns name the same form in many ways and list only the forms they
    think of, so a form the town leaves out is no change, and a town form is
    its own only when it is like none of the standard's. Two cases more are
    the same form: the generic 異動届 and a notification named after the
    move (住民異動届 for 転入届書, 国保異動届 for 資格取得届: 住民基本台帳法
    第22条 and the 国保 届出 are made on the municipality's 異動届 form),
    and a form the standard uses at another step (the town does both steps
    at this one).
    """
    from harpflow.score import pair_similarity

    elsewhere = memo(
        standard,
        "all_forms",
        lambda f: frozenset(x for n in f.nodes.values() for x in n.forms),
    )
    return [
        f
        for f in sorted(forms_b - forms_a)
        if f not in elsewhere
        and not any(
            f in g
            or g in f
            or _same_notification(f, g)
            or pair_similarity(f, g, gloss) >= FORM_SIMILARITY
            for g in forms_a
        )
    ]


def _same_notification(f: str, g: str) -> bool:
    """True when one form is the generic 異動届 and the other a notification."""
    f, g = f.removesuffix("書"), g.removesuffix("書")
    return (f.endswith("異動届") and g.endswith("届")) or (
        g.endswith("異動届") and f.endswith("届")
    )
