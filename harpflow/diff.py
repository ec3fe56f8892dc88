"""Typed, explained differences between a standard flow and a town's flow.

:func:`diff` lines a town's flow up against the standard (through
:func:`harpflow.match.match`) and lists every difference as a
:class:`Change` in the vocabulary of the design:

========================  ==================================================
kind                      meaning
========================  ==================================================
``missing``               a standard step with no counterpart in the town
``extra``                 a town step with no counterpart in the standard
``merged``                one town step covers several standard steps
``split``                 several town steps cover one standard step
``relabelled``            matched, but worded differently beyond orthography
``lane_changed``          matched, but done by another lane or body
``type_changed``          matched, but manual where the standard is system...
``reordered``             a step happens in another order relative to others
``gateway_changed``       a decision added, removed, or of another kind
``loop_added``            rework or repetition the standard lacks
``loop_removed``          a repetition of the standard the town lacks
``handoff_added``         a message or hand-off the standard lacks
``handoff_missing``       a hand-off of the standard the town lacks
``attribute_changed``     medium, location, forms or function ids differ
========================  ==================================================

Each change carries the standard ids, the town ids, a one-line note in the
labels' language, a deviation code of the domain taxonomy (``V01``-``V17``)
when a rule in :mod:`harpflow.deviations` recognises the case, and a cost:
its share of the divergence total computed by :func:`harpflow.score.score`
with default weights.

Reordering is judged on behavioural profiles
(:mod:`harpflow.behaviour`): two matched steps in strict order in the
standard and in the opposite strict order in the town are in conflict;
the fewest steps that explain every conflict (chosen greedily, the step
in most conflicts first) are reported as moved.

Examples
--------
>>> import harpflow
>>> std = harpflow.read('''
... steps:
...   - {番号: S, 作業: 開始, 種別: 開始}
...   - {番号: 1, 担当: 窓口, 作業: 届出の受付}
...   - {番号: 2, 担当: 担当, 作業: 住民票に記載, 種別: システム}
...   - {番号: 3, 担当: 決裁, 作業: 決裁}
...   - {番号: E, 作業: 終了, 種別: 終了}
... ''', format="yaml")
>>> town = harpflow.read('''
... steps:
...   - {番号: s, 作業: 開始, 種別: 開始}
...   - {番号: a, 担当: 窓口, 作業: 届出の受付け}
...   - {番号: b, 担当: 窓口, 作業: 住民票に記載, 種別: システム}
...   - {番号: c, 担当: 窓口, 作業: 電話で本人に確認}
...   - {番号: e, 作業: 終了, 種別: 終了}
... ''', format="yaml")
>>> d = diff(std, town)
>>> for c in d:
...     print(c.kind, c.standard, c.town, c.code)
missing ('3',) () V01
extra () ('c',) V08
lane_changed ('2',) ('b',) V04
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from harpflow.behaviour import DEFAULT_BOUND, Profile, profile
from harpflow.flowcache import comparison, memo, sequence_graph
from harpflow.glossary import Glossary, default_glossary
from harpflow.model import ACTIVITY_TYPES, EVENT_TYPES, GATEWAY_TYPES, Flow, Node
from harpflow.text import Label, normalise

if TYPE_CHECKING:
    import pandas as pd

    from harpflow.match import Matching

__all__ = [
    "CHANGE_KINDS",
    "Change",
    "FlowDiff",
    "diff",
    "lanes_differ",
    "same_wording",
    "type_class",
]

#: The change vocabulary, in reporting order.
CHANGE_KINDS = (
    "missing",
    "extra",
    "merged",
    "split",
    "relabelled",
    "lane_changed",
    "type_changed",
    "reordered",
    "gateway_changed",
    "loop_added",
    "loop_removed",
    "handoff_added",
    "handoff_missing",
    "attribute_changed",
)

_TYPE_CLASS = {
    "task": None,
    "userTask": "screen",
    "manualTask": "manual",
    "serviceTask": "system",
    "scriptTask": "system",
    "businessRuleTask": "system",
    "sendTask": "send",
    "receiveTask": "receive",
    "subProcess": "composite",
    "transaction": "composite",
    "adHocSubProcess": "composite",
    "callActivity": "call",
}


def same_wording(a: str, b: str) -> bool:
    """True when two labels are the same up to numbering and orthography.

    Equal normalised text, or equal normalised tokens (okurigana and width
    variants collapse there) and, when both labels have a remark in
    brackets, equal words in the remarks.

    Examples
    --------
    >>> same_wording("① 申込みの受付", "申し込みの受付け"), same_wording("受付", "受理")
    (True, False)
    >>> same_wording("点検（入力内容の照合）", "点検（登録内容の照合）")
    False
    >>> same_wording("点検（入力内容の照合）", "点検")
    True
    """
    la, lb = normalise(a), normalise(b)
    if _same_words(la, lb):
        return True
    fa, fb = _fold_variants(a), _fold_variants(b)
    if (fa, fb) == (a, b):
        return False
    return _same_words(normalise(fa), normalise(fb))


def _same_words(la: Label, lb: Label) -> bool:
    # Remarks in brackets qualify the step: when both labels have one, its
    # words count too (入力内容の照合 is not 登録内容の照合); a remark one
    # label leaves out is no different wording.
    if la.text == lb.text:
        return True
    if not la.tokens or la.tokens != lb.tokens:
        return False
    return not (la.aside and lb.aside) or la.aside == lb.aside


def _fold_variants(label: str) -> str:
    """Write every orthographic variant the glossary knows in one form."""
    gloss = default_glossary()
    for word in _variant_words(gloss):
        if word in label:
            label = label.replace(word, gloss.variants(word)[0])
    return label


_VARIANT_WORDS: dict[int, tuple[str, ...]] = {}


def _variant_words(gloss: Glossary) -> tuple[str, ...]:
    words = _VARIANT_WORDS.get(id(gloss))
    if words is None:
        found = {w for group in gloss.orthography for w in group}
        words = tuple(sorted(found, key=lambda w: (-len(w), w)))
        _VARIANT_WORDS[id(gloss)] = words
    return words


_SECTION_SUFFIXES = ("係", "課", "担当", "班", "室", "グループ", "チーム")
_SECTION_ROLES = ("窓口", "担当")
#: Canonical lanes of the municipality's own staff and systems; every other
#: lane is a party outside it (住民, 医療機関, 金融機関, 法務局 ...).
_INSIDE = ("窓口", "支所", "担当", "審査", "決裁", "システム", "関係課", "会計")
#: The standard's lane for "another section of the same municipality".
_OTHER_SECTION = "関係課"
#: Words that make an outside party a deviation of its own: a contractor or
#: a body shared with other municipalities.
_SHARED_OR_CONTRACTED = ("広域", "組合", "共同", "連合", "委託", "受託", "派遣")


_KNOWN_LANES: dict[int, frozenset[str]] = {}


def _known_lanes(glossary: Glossary) -> frozenset[str]:
    names = _KNOWN_LANES.get(id(glossary))
    if names is None:
        found = {unicodedata.normalize("NFKC", head) for head in glossary.lanes}
        for group in glossary.lanes.values():
            found.update(unicodedata.normalize("NFKC", n) for n in group)
        names = _KNOWN_LANES[id(glossary)] = frozenset(found)
    return names


def _is_section(name: str, glossary: Glossary, counter: bool = True) -> bool:
    """A lane named after a section (住民係, 税務課), not after a role.

    A section's staff (住民担当, known to the glossary as 担当 by its
    ending) counts as the whole section when the flow has no counter lane.
    """
    if (
        not name.endswith(_SECTION_SUFFIXES)
        or name in _SECTION_SUFFIXES
        or name in _known_lanes(glossary)
    ):
        return False
    role = glossary.lane(name)
    return role == name or (not counter and role in _SECTION_ROLES)


def _is_outside(name: str, glossary: Glossary) -> bool:
    return glossary.lane(name) not in _INSIDE and not _is_section(name, glossary)


def lanes_differ(
    a: str | None, b: str | None, glossary: Glossary, *, counter: bool = True
) -> bool:
    """True when two lanes name different roles or bodies.

    Lanes are compared through the glossary's lane synonyms, and then:

    * a lane named after a section (住民係, 税務課) does the work of both
      the counter (窓口) and the back office (担当) of that section, as
      small towns do, so it differs from neither; so does a lane named
      after a section's staff (住民担当) in a flow without a counter lane
      (``counter=False``);
    * the standard's 関係課 stands for any other section, so it differs
      from no section and not from the accounts office (会計);
    * two parties outside the municipality (住民 and 納税者, 医療機関 and
      主治医, 金融機関 and 指定金融機関) are the same party worded two ways,
      unless exactly one of them is a contractor or a body shared with other
      municipalities (委託業者, 広域連合).

    Examples
    --------
    >>> g = default_glossary()
    >>> lanes_differ("担当", "担当係", g), lanes_differ("窓口", "住民係", g)
    (False, False)
    >>> lanes_differ("窓口", "住民担当", g, counter=False)
    False
    >>> lanes_differ("窓口", "住民担当", g), lanes_differ("関係課", "収納係", g)
    (True, False)
    >>> lanes_differ("医療機関", "主治医", g), lanes_differ("審査会", "広域連合", g)
    (False, True)
    >>> lanes_differ("窓口", "担当", g)
    True
    >>> lanes_differ("担当", "決裁", g), lanes_differ("担当", None, g)
    (True, False)
    """
    if not a or not b:
        return False
    a = unicodedata.normalize("NFKC", a).strip()
    b = unicodedata.normalize("NFKC", b).strip()
    ca, cb = glossary.lane(a), glossary.lane(b)
    if ca == cb:
        return False
    section_a = _is_section(a, glossary, counter)
    section_b = _is_section(b, glossary, counter)
    for role, section, other in ((ca, section_b, cb), (cb, section_a, ca)):
        if section and role in _SECTION_ROLES:
            return False
        if role == _OTHER_SECTION and (section or other == "会計"):
            return False
    if _is_outside(a, glossary) and _is_outside(b, glossary):
        marked_a = any(w in a for w in _SHARED_OR_CONTRACTED)
        marked_b = any(w in b for w in _SHARED_OR_CONTRACTED)
        return marked_a != marked_b
    return True


def type_class(node_type: str) -> str | None:
    """The kind of work a node type stands for; None for an unspecified task.

    Examples
    --------
    >>> type_class("serviceTask"), type_class("manualTask"), type_class("task")
    ('system', 'manual', None)
    """
    return _TYPE_CLASS.get(node_type, node_type)


@dataclass(frozen=True)
class Change:
    """One difference between a standard flow and a town's flow.

    Attributes
    ----------
    kind : str
        One of :data:`CHANGE_KINDS`.
    standard, town : tuple of str
        Ids of the nodes concerned on each side (either may be empty).
    note : str
        One line explaining the change, in the labels' language.
    code : str or None
        Deviation code ``V01``-``V17``, when a rule recognises the case.
    cost : float
        Its share of the divergence total (default weights).
    """

    kind: str
    standard: tuple[str, ...]
    town: tuple[str, ...]
    note: str
    code: str | None = None
    cost: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Stable keys: kind, code, standard, town, cost, note."""
        return {
            "kind": self.kind,
            "code": self.code,
            "standard": list(self.standard),
            "town": list(self.town),
            "cost": round(self.cost, 6),
            "note": self.note,
        }


@dataclass
class FlowDiff:
    """The changes that turn a standard flow into a town's flow.

    Iterating yields the :class:`Change` objects in a stable order: by kind
    (:data:`CHANGE_KINDS`), then by position in the standard and the town.
    """

    standard: Flow
    town: Flow
    matching: Matching
    changes: tuple[Change, ...]
    profiles: tuple[Profile, Profile]
    _accounting: Any = field(default=None, repr=False)

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def __getitem__(self, index: int) -> Change:
        return self.changes[index]

    def of_kind(self, kind: str) -> list[Change]:
        """The changes of one kind."""
        return [c for c in self.changes if c.kind == kind]

    def counts(self) -> dict[str, int]:
        """Number of changes per kind (kinds that occur, in vocabulary order)."""
        out: dict[str, int] = {}
        for c in self.changes:
            out[c.kind] = out.get(c.kind, 0) + 1
        return dict(sorted(out.items(), key=lambda kv: CHANGE_KINDS.index(kv[0])))

    def to_dict(self) -> dict[str, Any]:
        """``{"standard": name, "town": name, "changes": [...]}``."""
        return {
            "standard": self.standard.name,
            "town": self.town.town or self.town.name,
            "changes": [c.to_dict() for c in self.changes],
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per change: kind, code, standard, town, labels, cost, note."""
        import pandas as pd

        rows = []
        for c in self.changes:
            rows.append(
                {
                    "kind": c.kind,
                    "code": c.code,
                    "standard": ", ".join(c.standard),
                    "town": ", ".join(c.town),
                    "standard_label": " / ".join(
                        _label(self.standard, i) for i in c.standard
                    ),
                    "town_label": " / ".join(_label(self.town, i) for i in c.town),
                    "cost": c.cost,
                    "note": c.note,
                }
            )
        columns = [
            "kind",
            "code",
            "standard",
            "town",
            "standard_label",
            "town_label",
            "cost",
            "note",
        ]
        return pd.DataFrame(rows, columns=columns)

    def __repr__(self) -> str:
        counts = ", ".join(f"{k} {v}" for k, v in self.counts().items()) or "none"
        return f"<FlowDiff {self.standard.name!r} -> {self.town.name!r}: {counts}>"

    def _repr_html_(self) -> str:
        from harpflow.render.notebook import diff_html

        return diff_html(self)

    def _repr_svg_(self) -> str:
        from harpflow.render.notebook import diff_svg

        return diff_svg(self)


def _label(flow: Flow, node_id: str) -> str:
    return flow.nodes[node_id].label.replace("\n", " ") if node_id in flow else node_id


def _quote(flow: Flow, ids: Sequence[str]) -> str:
    labels = [_label(flow, i) for i in ids]
    if any(normalise(lab).language == "ja" for lab in labels):
        return "・".join(f"「{lab}」" for lab in labels)
    return ", ".join(f"'{lab}'" for lab in labels)


def _japanese(*flows: Flow) -> bool:
    for flow in flows:
        for node in flow.nodes.values():
            if node.label and normalise(node.label).language == "ja":
                return True
    return False


class _Notes:
    """One-line explanations in Japanese or English."""

    def __init__(self, ja: bool) -> None:
        self.ja = ja

    def __call__(self, ja: str, en: str) -> str:
        return ja if self.ja else en


def diff(
    standard: Flow,
    town: Flow,
    *,
    matching: Matching | None = None,
    glossary: Glossary | None = None,
    bound: int = DEFAULT_BOUND,
) -> FlowDiff:
    """List the changes that turn ``standard`` into ``town``.

    Parameters
    ----------
    standard, town : Flow
    matching : Matching, optional
        Correspondences to use; by default ``match(standard, town)``.
    glossary : Glossary, optional
        Glossary for matching, lanes and deviation rules; the bundled one by
        default.
    bound : int
        State bound for behavioural profiles of unstructured flows.

    Returns
    -------
    FlowDiff
    """
    with comparison():
        return _diff(standard, town, matching, glossary, bound)


def _diff(
    standard: Flow,
    town: Flow,
    matching: Matching | None,
    glossary: Glossary | None,
    bound: int,
) -> FlowDiff:
    from harpflow import deviations
    from harpflow.match import match
    from harpflow.score import account

    gloss = glossary or default_glossary()
    if matching is not None:
        m = matching
    else:
        m = _same_place(standard, town, match(standard, town, glossary=gloss), gloss)
    profiles = (profile(standard, bound=bound), profile(town, bound=bound))
    say = _Notes(_japanese(standard, town))
    found: list[Change] = []
    found += _node_changes(standard, town, m, gloss, say)
    found += _reorderings(standard, town, m, profiles, say)
    found += _gateway_changes(standard, town, m, profiles, say)
    found += _loop_changes(standard, town, m, profiles, say)
    found += _handoff_changes(standard, town, m, say)
    found = [
        replace(c, code=deviations.classify(c, standard, town, gloss)) for c in found
    ]
    # A hand-off is replaced by hand (V09) only where the town added a
    # manual hand-off step; otherwise it is simply missing (V10).
    manual = any(c.kind == "extra" and c.code == "V09" for c in found)
    found = [
        replace(c, code="V09" if manual else "V10")
        if c.kind == "handoff_missing"
        else c
        for c in found
    ]
    found.sort(key=lambda c: _sort_key(c, standard, town))
    accounting = account(standard, town, m, found, profiles, gloss)
    costed = tuple(
        replace(c, cost=cost)
        for c, cost in zip(found, accounting.change_costs(), strict=True)
    )
    return FlowDiff(standard, town, m, costed, profiles, accounting)


def _same_place(standard: Flow, town: Flow, m: Matching, gloss: Glossary) -> Matching:
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
            n for n, node in flow.nodes.items() if _is_activity(node) and not paired(n)
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

    counter = _has_counter(town, gloss)
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
    return _late_approval(standard, town, m, gloss)


def _late_approval(
    standard: Flow, town: Flow, m: Matching, gloss: Glossary
) -> Matching:
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
            if _is_activity(node)
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


def _sort_key(change: Change, standard: Flow, town: Flow) -> tuple[Any, ...]:
    std_pos = {n: i for i, n in enumerate(standard.graph)}
    town_pos = {n: i for i, n in enumerate(town.graph)}
    return (
        CHANGE_KINDS.index(change.kind),
        min((std_pos.get(i, 10**9) for i in change.standard), default=10**9),
        min((town_pos.get(i, 10**9) for i in change.town), default=10**9),
        change.standard,
        change.town,
    )


# -- node-level changes -------------------------------------------------------


def _is_activity(node: Node) -> bool:
    return node.type in ACTIVITY_TYPES


def _is_compared_event(node: Node) -> bool:
    # Start and end events are compared as steps only when they say more
    # than "start"/"end": a town with a second start channel, or a timer.
    return node.type in EVENT_TYPES and node.type not in ("startEvent", "endEvent")


def _node_changes(
    standard: Flow, town: Flow, m: Matching, gloss: Glossary, say: _Notes
) -> list[Change]:
    out: list[Change] = []
    for node in standard.nodes.values():
        if (_is_activity(node) or _is_compared_event(node)) and m.pair_of_a(
            node.id
        ) is None:
            out.append(
                Change(
                    "missing",
                    (node.id,),
                    (),
                    say(
                        f"標準の{_quote(standard, [node.id])}が行われていない",
                        f"standard step {_quote(standard, [node.id])} is not done",
                    ),
                )
            )
    extra_starts = len(
        [n for n in town.nodes.values() if n.type == "startEvent"]
    ) > len([n for n in standard.nodes.values() if n.type == "startEvent"])
    for node in town.nodes.values():
        counted = _is_activity(node) or _is_compared_event(node)
        if node.type == "startEvent" and extra_starts:
            counted = True
        if counted and m.pair_of_b(node.id) is None:
            out.append(
                Change(
                    "extra",
                    (),
                    (node.id,),
                    say(
                        f"標準にない{_quote(town, [node.id])}がある",
                        f"town step {_quote(town, [node.id])} is not in the standard",
                    ),
                )
            )
    for pair in m.pairs:
        a_nodes = [standard.nodes[i] for i in pair.a]
        b_nodes = [town.nodes[i] for i in pair.b]
        if not any(_is_activity(n) for n in a_nodes + b_nodes):
            continue
        out += _member_lanes(standard, town, a_nodes, b_nodes, gloss, say)
        if len(pair.a) > 1 and len(pair.b) == 1:
            out.append(
                Change(
                    "merged",
                    pair.a,
                    pair.b,
                    say(
                        f"{_quote(standard, pair.a)}を{_quote(town, pair.b)}の"
                        "一つの作業で行う",
                        f"{_quote(standard, pair.a)} are done as one step "
                        f"{_quote(town, pair.b)}",
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
                        f"{_quote(standard, pair.a)}を"
                        f"{_quote(town, pair.b)}に分けて行う",
                        f"{_quote(standard, pair.a)} is done in steps "
                        f"{_quote(town, pair.b)}",
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
    say: _Notes,
) -> list[Change]:
    """Lane changes inside a merge or split: a town step done by a lane
    that differs from the lanes of all its standard steps."""
    if len(a_nodes) == 1 and len(b_nodes) == 1:
        return []
    counter = _has_counter(town, gloss)
    out = []
    for b in b_nodes:
        lanes_a = [a.lane for a in a_nodes if a.lane]
        if not b.lane or not lanes_a:
            continue
        if all(lanes_differ(la, b.lane, gloss, counter=counter) for la in lanes_a):
            ids = tuple(a.id for a in a_nodes)
            out.append(
                Change(
                    "lane_changed",
                    ids,
                    (b.id,),
                    say(
                        f"「{_label(town, b.id)}」を{'・'.join(dict.fromkeys(lanes_a))}"
                        f"ではなく{b.lane}が行う",
                        f"'{_label(town, b.id)}' is done by {b.lane}, "
                        f"not {', '.join(dict.fromkeys(lanes_a))}",
                    ),
                )
            )
    return out


def _has_counter(flow: Flow, gloss: Glossary) -> bool:
    """True when some step of the flow is done by a counter (窓口) lane."""
    return memo(
        flow,
        "has_counter",
        lambda f: any(
            gloss.lane(n.lane or "") == "窓口" for n in f.nodes.values() if n.lane
        ),
    )


def _pair_changes(
    standard: Flow, town: Flow, a: Node, b: Node, gloss: Glossary, say: _Notes
) -> list[Change]:
    out: list[Change] = []
    ids = ((a.id,), (b.id,))
    if not same_wording(a.label, b.label):
        out.append(
            Change(
                "relabelled",
                *ids,
                say(
                    f"「{_label(standard, a.id)}」を「{_label(town, b.id)}」と呼ぶ",
                    f"'{_label(standard, a.id)}' is called '{_label(town, b.id)}'",
                ),
            )
        )
    cls_a, cls_b = type_class(a.type), type_class(b.type)
    retyped = cls_a is not None and cls_b is not None and cls_a != cls_b
    if lanes_differ(a.lane, b.lane, gloss, counter=_has_counter(town, gloss)):
        out.append(
            Change(
                "lane_changed",
                *ids,
                say(
                    f"「{_label(town, b.id)}」を{a.lane}ではなく{b.lane}が行う",
                    f"'{_label(town, b.id)}' is done by {b.lane}, not {a.lane}",
                ),
            )
        )
    if retyped:
        out.append(
            Change(
                "type_changed",
                *ids,
                say(
                    f"「{_label(town, b.id)}」が{a.type}ではなく{b.type}",
                    f"'{_label(town, b.id)}' is a {b.type}, not a {a.type}",
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
    if a.location and b.location and a.location != b.location:
        differing.append(f"location: {a.location} → {b.location}")
    forms_a, forms_b = set(a.forms), set(b.forms)
    if forms_a and forms_b and _own_forms(forms_a, forms_b, gloss):
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
                    f"「{_label(town, b.id)}」の" + "、".join(differing),
                    f"'{_label(town, b.id)}': " + "; ".join(differing),
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


def _own_forms(forms_a: set[str], forms_b: set[str], gloss: Glossary) -> list[str]:
    """The town's forms that name none of the standard's forms.

    Towns name the same form in many ways and list only the forms they
    think of, so a form the town leaves out is no change, and a town form is
    its own only when it is like none of the standard's.
    """
    from harpflow.score import pair_similarity

    return [
        f
        for f in sorted(forms_b - forms_a)
        if not any(
            f in g or g in f or pair_similarity(f, g, gloss) >= FORM_SIMILARITY
            for g in forms_a
        )
    ]


# -- order --------------------------------------------------------------------


def _one_to_one(m: Matching, standard: Flow, town: Flow) -> list[tuple[str, str]]:
    pairs = []
    for pair in m.pairs:
        if len(pair.a) == 1 and len(pair.b) == 1:
            a, b = pair.a[0], pair.b[0]
            if _is_activity(standard.nodes[a]) and _is_activity(town.nodes[b]):
                pairs.append((a, b))
    return pairs


def _reorderings(
    standard: Flow,
    town: Flow,
    m: Matching,
    profiles: tuple[Profile, Profile],
    say: _Notes,
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
    moved: list[tuple[int, list[int]]] = []
    while any(conflicts.values()):
        i = max(conflicts, key=lambda k: (len(conflicts[k]), -k))
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
            where_ja.append(f"{_quote(town, before)}の後")
            where_en.append(f"after {_quote(town, before)}")
        if after:
            where_ja.append(f"{_quote(town, after)}の前")
            where_en.append(f"before {_quote(town, after)}")
        out.append(
            Change(
                "reordered",
                (a,),
                (b,),
                say(
                    f"{_quote(town, [b])}を標準と異なり"
                    + "、".join(where_ja)
                    + "に行う",
                    f"{_quote(town, [b])} comes "
                    + " and ".join(where_en)
                    + ", unlike the standard",
                ),
            )
        )
    return out


# -- decisions, loops and hand-offs -------------------------------------------


def _splits(flow: Flow, node: Node) -> bool:
    return node.type in GATEWAY_TYPES and len(flow.successors(node.id)) > 1


def _gateway_changes(
    standard: Flow,
    town: Flow,
    m: Matching,
    profiles: tuple[Profile, Profile],
    say: _Notes,
) -> list[Change]:
    out: list[Change] = []
    town_loops = profiles[1].loops
    std_loops = profiles[0].loops
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
                        f"標準の判断{_quote(standard, [node.id])}がない",
                        f"the standard's decision {_quote(standard, [node.id])} "
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
                        f"判断{_quote(town, [other.id])}が{node.type}ではなく"
                        f"{other.type}",
                        f"decision {_quote(town, [other.id])} is a {other.type}, "
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
                        f"標準にない判断{_quote(town, [node.id])}がある",
                        f"decision {_quote(town, [node.id])} is not in the standard",
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


def _loop_changes(
    standard: Flow,
    town: Flow,
    m: Matching,
    profiles: tuple[Profile, Profile],
    say: _Notes,
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
            steps = [n for n in order if _is_activity(flow.nodes[n])] or order
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
                    f"{_quote(town, body)}を繰り返す(差戻し・再作業)",
                    f"{_quote(town, body)} can be repeated (rework)",
                )
                out.append(Change(kind, tuple(counterparts), tuple(steps), note))
            else:
                note = say(
                    f"標準の繰返し{_quote(standard, body)}がない",
                    f"the standard's repetition of {_quote(standard, body)} is gone",
                )
                out.append(Change(kind, tuple(steps), tuple(counterparts), note))
    return out


def _messages(flow: Flow) -> list[tuple[str, str]]:
    out = [(e.source, e.target) for e in flow.message_edges()]
    out += [(pm.source, pm.target) for pm in flow.pool_messages]
    return out


def _handoff_changes(
    standard: Flow, town: Flow, m: Matching, say: _Notes
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
                    f"{_quote(standard, [u])}から{_quote(standard, [v])}への連携がない"
                    if v in standard
                    else f"{_quote(standard, [u])}からの連携がない",
                    f"no hand-off from {_quote(standard, [u])}",
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
                    f"標準にない{_quote(town, [x])}からの連携がある",
                    f"hand-off from {_quote(town, [x])} is not in the standard",
                ),
            )
        )
    return out
