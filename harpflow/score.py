"""How far a town's flow is from the standard: one number, four reasons.

:func:`score` returns a :class:`Divergence` whose ``total`` lies in
[0, 1] -- 0 for flows that are the same up to ids, layout and orthography,
1 for flows with nothing in common -- and decomposes into four components,
each in [0, 1]:

``node``
    Disagreement of the steps: 1 for every step of either flow without a
    counterpart, ``1 - similarity`` of the labels for every step with one,
    over the number of steps of both flows. This is one minus the node
    matching similarity of Dijkman et al. [1]_.
``structure``
    The graph edit distance, normalised by its largest possible value:
    deleted and inserted nodes and sequence flows cost 1 each, a
    substituted node ``1 - similarity`` (:func:`substitution_cost`); over
    the number of nodes and flows of both flows. The node mapping is the
    matching, improved by local search towards the smallest edit
    (:mod:`harpflow.ged`): two steps done in the other order cost the
    substitution of one for the other, as the exact distance counts,
    rather than the four flows around them. This is the structural (edit
    distance) similarity of Dijkman et al. [1]_, [2]_ with unit weights,
    so that it can be checked against an exact graph edit distance; the
    order itself is what ``behaviour`` counts.
``behaviour``
    Disagreement of behavioural relations (:mod:`harpflow.behaviour`):
    every pair of standard steps whose relation (order, exclusiveness,
    interleaving) differs between the flows, or of which a step has no
    counterpart, and every pair of town steps that involves a step the
    standard lacks; over the number of such pairs. This follows the degree
    of behavioural profile consistency of Weidlich et al. [3]_, extended
    to count the steps the alignment leaves out.
``responsibility``
    Standard steps that the town performs in another lane (compared
    through the glossary's lane synonyms), over the standard's steps.

The total is the weighted mean of the components. Each penalty is
attributed to the change of :func:`harpflow.diff.diff` that causes it, so
the total is explainable: :meth:`Divergence.explain` lists how much each
change contributed, plus what no single change explains.

References
----------
.. [1] R. Dijkman, M. Dumas, B. van Dongen, R. Käärik and J. Mendling,
   "Similarity of business process models: metrics and evaluation",
   Information Systems 36(2), 2011, pp. 498-516.
.. [2] R. Dijkman, M. Dumas and L. García-Bañuelos, "Graph matching
   algorithms for business process model similarity search", BPM 2009,
   LNCS 5701, pp. 48-63.
.. [3] M. Weidlich, J. Mendling and M. Weske, "Efficient consistency
   measurement based on behavioral profiles of process models", IEEE
   Transactions on Software Engineering 37(3), 2011, pp. 410-429.

Examples
--------
>>> import harpflow
>>> std = harpflow.read('''
... steps:
...   - {番号: S, 作業: 開始, 種別: 開始}
...   - {番号: 1, 担当: 窓口, 作業: 申請の受付}
...   - {番号: 2, 担当: 担当, 作業: 審査}
...   - {番号: 3, 担当: 決裁, 作業: 決裁}
...   - {番号: E, 作業: 終了, 種別: 終了}
... ''', format="yaml")
>>> score(std, std).total
0.0
>>> town = std.copy()
>>> town.remove_node("3"); _ = town.add_edge("2", "E")
>>> d = score(std, town)
>>> round(d.total, 3), d.explain()["kind"].tolist()[:1]
(0.302, ['missing'])
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harpflow.behaviour import Profile
from harpflow.diff import lanes_differ
from harpflow.flowcache import sequence_graph
from harpflow.glossary import Glossary
from harpflow.model import ACTIVITY_TYPES, EVENT_TYPES, Flow
from harpflow.text import normalise

if TYPE_CHECKING:
    import pandas as pd

    from harpflow.diff import Change, FlowDiff
    from harpflow.match import Matching

__all__ = [
    "COMPONENTS",
    "DEFAULT_WEIGHTS",
    "Divergence",
    "account",
    "score",
    "substitution_cost",
]

#: The components of a divergence, in order.
COMPONENTS = ("node", "structure", "behaviour", "responsibility")

#: Default weights: steps and structure weigh most, lanes least.
DEFAULT_WEIGHTS = {
    "node": 0.3,
    "structure": 0.3,
    "behaviour": 0.25,
    "responsibility": 0.15,
}

# Which change kinds explain a penalty on a node, most specific first.
_NODE_KINDS = ("missing", "extra", "merged", "split", "relabelled")
_ORDER_KINDS = ("reordered", "loop_added", "loop_removed", "gateway_changed")


def _is_step(flow: Flow, node_id: str) -> bool:
    typ = flow.graph.nodes[node_id]["type"]
    return typ in ACTIVITY_TYPES or (
        typ in EVENT_TYPES and typ not in ("startEvent", "endEvent")
    )


@dataclass
class _Ledger:
    """Penalties of one component: a denominator and attributed amounts."""

    denominator: float = 0.0
    items: list[tuple[int | None, float]] = field(default_factory=list)

    def add(self, change: int | None, amount: float) -> None:
        if amount > 0:
            self.items.append((change, amount))

    @property
    def value(self) -> float:
        if self.denominator <= 0:
            return 0.0
        return min(1.0, sum(a for _, a in self.items) / self.denominator)

    def share(self, change: int | None) -> float:
        if self.denominator <= 0:
            return 0.0
        return sum(a for c, a in self.items if c == change) / self.denominator


@dataclass
class Accounting:
    """Every penalty of every component, attributed to changes."""

    changes: list[Change]
    ledgers: dict[str, _Ledger]

    def component(self, name: str) -> float:
        """The value of one component."""
        return self.ledgers[name].value

    def total(self, weights: dict[str, float]) -> float:
        """The weighted mean of the components."""
        norm = sum(weights.values())
        return sum(weights[c] * self.component(c) for c in COMPONENTS) / norm

    def contribution(self, change: int | None, weights: dict[str, float]) -> float:
        """How much of the total one change (or None: no change) explains."""
        norm = sum(weights.values())
        return (
            sum(weights[c] * self.ledgers[c].share(change) for c in COMPONENTS) / norm
        )

    def change_costs(self, weights: dict[str, float] | None = None) -> list[float]:
        """Each change's contribution to the total, in change order."""
        w = weights or DEFAULT_WEIGHTS
        return [self.contribution(i, w) for i in range(len(self.changes))]


class _Owners:
    """Finds the change that explains a penalty on some nodes."""

    def __init__(self, changes: Sequence[Change]) -> None:
        self.std: dict[tuple[str, str], int] = {}
        self.town: dict[tuple[str, str], int] = {}
        for i, c in enumerate(changes):
            for n in c.standard:
                self.std.setdefault((c.kind, n), i)
            for n in c.town:
                self.town.setdefault((c.kind, n), i)

    def find(
        self, kinds: Sequence[str], std: Sequence[str] = (), town: Sequence[str] = ()
    ) -> int | None:
        for kind in kinds:
            for n in std:
                if (kind, n) in self.std:
                    return self.std[kind, n]
            for n in town:
                if (kind, n) in self.town:
                    return self.town[kind, n]
        return None


def pair_similarity(a: str, b: str, glossary: Glossary) -> float:
    """Label similarity of two steps; 1 when equal after normalisation.

    Examples
    --------
    >>> from harpflow.glossary import default_glossary
    >>> pair_similarity("申込みの受付", "申し込みの受付", default_glossary())
    1.0
    """
    from harpflow.diff import same_wording
    from harpflow.similarity import label_similarity

    if same_wording(a, b):
        return 1.0
    la, lb = normalise(a), normalise(b)
    return float(label_similarity([la], [lb], glossary)[0, 0])


def substitution_cost(
    type_a: str, label_a: str, type_b: str, label_b: str, glossary: Glossary
) -> float | None:
    """What the structure component charges for one node put in another's
    place, or None when the two may not take each other's place.

    Two steps (tasks or intermediate events, such as a timer that stands
    for batch processing) cost one minus their :func:`pair_similarity`;
    other nodes of the same kind cost 0 when of the same type and 0.5
    otherwise (an exclusive gateway for a parallel one); a step, a
    gateway, a start and an end never take each other's place.

    Examples
    --------
    >>> from harpflow.glossary import default_glossary
    >>> g = default_glossary()
    >>> substitution_cost("task", "受付", "userTask", "受付", g)
    0.0
    >>> substitution_cost("exclusiveGateway", "", "parallelGateway", "", g)
    0.5
    >>> substitution_cost("task", "受付", "endEvent", "終了", g) is None
    True
    """
    from harpflow.similarity import kind_of

    kind_a, kind_b = kind_of(type_a), kind_of(type_b)
    steps = ("activity", "intermediate")
    if kind_a in steps and kind_b in steps:
        return 1.0 - pair_similarity(label_a, label_b, glossary)
    if kind_a != kind_b:
        return None
    return 0.0 if type_a == type_b else 0.5


def pair_similarities(
    pairs: Sequence[tuple[str, str]], glossary: Glossary
) -> list[float]:
    """:func:`pair_similarity` of many label pairs at once."""
    from harpflow.diff import same_wording
    from harpflow.similarity import label_similarity

    if not pairs:
        return []
    left = [normalise(a) for a, _ in pairs]
    right = [normalise(b) for _, b in pairs]
    matrix = label_similarity(left, right, glossary)
    return [
        1.0 if same_wording(a, b) else float(matrix[i, i])
        for i, (a, b) in enumerate(pairs)
    ]


def account(
    standard: Flow,
    town: Flow,
    matching: Matching,
    changes: Sequence[Change],
    profiles: tuple[Profile, Profile],
    glossary: Glossary,
) -> Accounting:
    """Compute every component's penalties and attribute them to changes.

    Used by :func:`harpflow.diff.diff`; :func:`score` reads the result.
    """
    owners = _Owners(changes)
    ledgers = {c: _Ledger() for c in COMPONENTS}
    sims = _pair_sims(standard, town, matching, glossary)
    _node_ledger(standard, town, matching, sims, owners, ledgers["node"])
    _structure_ledger(
        standard, town, matching, sims, owners, ledgers["structure"], glossary
    )
    _behaviour_ledger(standard, town, matching, profiles, owners, ledgers["behaviour"])
    _responsibility_ledger(
        standard, town, matching, glossary, owners, ledgers["responsibility"]
    )
    return Accounting(list(changes), ledgers)


def _pair_sims(
    standard: Flow, town: Flow, matching: Matching, glossary: Glossary
) -> dict[Any, float]:
    """The similarity of each correspondence: of the joined labels for
    steps, 1 or 0.5 (same type or not) for other nodes."""
    sims: dict[Any, float] = {}
    step_pairs = []
    for pair in matching.pairs:
        a0, b0 = pair.a[0], pair.b[0]
        if _is_step(standard, a0) and _is_step(town, b0):
            step_pairs.append(pair)
        else:
            same = standard.nodes[a0].type == town.nodes[b0].type
            sims[pair] = 1.0 if same else 0.5
    labels = [
        (
            "・".join(standard.nodes[i].label for i in pair.a),
            "・".join(town.nodes[i].label for i in pair.b),
        )
        for pair in step_pairs
    ]
    for pair, value in zip(
        step_pairs, pair_similarities(labels, glossary), strict=True
    ):
        sims[pair] = value
    return sims


def _node_ledger(
    standard: Flow,
    town: Flow,
    m: Matching,
    sims: dict[Any, float],
    owners: _Owners,
    ledger: _Ledger,
) -> None:
    std_steps = [n for n in standard.graph if _is_step(standard, n)]
    town_steps = [n for n in town.graph if _is_step(town, n)]
    ledger.denominator = len(std_steps) + len(town_steps)
    for n in std_steps:
        pair = m.pair_of_a(n)
        if pair is None:
            ledger.add(owners.find(("missing",), std=[n]), 1.0)
        else:
            ledger.add(owners.find(_NODE_KINDS, std=[n]), 1.0 - sims[pair])
    for n in town_steps:
        pair = m.pair_of_b(n)
        if pair is None:
            ledger.add(owners.find(("extra",), town=[n]), 1.0)
        else:
            ledger.add(owners.find(_NODE_KINDS, town=[n]), 1.0 - sims[pair])


def _structure_ledger(
    standard: Flow,
    town: Flow,
    m: Matching,
    sims: dict[Any, float],
    owners: _Owners,
    ledger: _Ledger,
    glossary: Glossary,
) -> None:
    from harpflow.ged import refine

    all_kinds = (*_NODE_KINDS, *_ORDER_KINDS, "lane_changed", "type_changed")
    s_edges = [(u, v) for u, v in sequence_graph(standard).edges()]
    t_edges = [(u, v) for u, v in sequence_graph(town).edges()]
    ledger.denominator = (
        standard.graph.number_of_nodes()
        + town.graph.number_of_nodes()
        + len(s_edges)
        + len(t_edges)
    )
    # The matcher's pairs, improved towards a smaller edit distance; the
    # members of a merge or a split keep their place.
    given = {(p.a[0], p.b[0]): 1.0 - sims[p] for p in m.pairs}
    groups = [p for p in m.pairs if len(p.a) + len(p.b) > 2]
    fixed = ({n for p in groups for n in p.a}, {n for p in groups for n in p.b})

    known: dict[tuple[str, str], float | None] = dict(given)

    def cost(u: str, w: str) -> float | None:
        # each pair compared once, by the search and the ledger alike
        if (u, w) not in known:
            x, y = standard.nodes[u], town.nodes[w]
            known[u, w] = substitution_cost(x.type, x.label, y.type, y.label, glossary)
        return known[u, w]

    image = refine(
        list(standard.graph),
        list(town.graph),
        s_edges,
        t_edges,
        {u: w for u, w in given},
        cost,
        fixed=fixed,
    )
    preimage = {w: u for u, w in image.items()}
    # Nodes: deletions, insertions and substitutions under the mapping.
    for pair in groups:
        ledger.add(owners.find(all_kinds, std=pair.a, town=pair.b), 1.0 - sims[pair])
        # Further members of a one-to-many pair are deleted or inserted.
        extra_members = len(pair.a) + len(pair.b) - 2
        ledger.add(owners.find(("merged", "split"), pair.a, pair.b), extra_members)
    for u, w in sorted(image.items()):
        if u not in fixed[0]:
            ledger.add(owners.find(all_kinds, std=[u], town=[w]), cost(u, w) or 0.0)
    for n in standard.graph:
        if n not in image and n not in fixed[0]:
            ledger.add(owners.find(all_kinds, std=[n]), 1.0)
    for n in town.graph:
        if n not in preimage and n not in fixed[1]:
            ledger.add(owners.find(all_kinds, town=[n]), 1.0)
    # Edges: a flow is kept when both ends map onto a flow of the other side.
    # A lost flow is explained by a change at its ends or, failing that, by
    # one at the ends' counterparts or next to them (a step inserted or
    # removed between them).
    t_set, s_set = set(t_edges), set(s_edges)
    for u, v in s_edges:
        if (image.get(u), image.get(v)) not in t_set:
            near = _around(town, image.get(u), image.get(v))
            ledger.add(owners.find(all_kinds, std=[v, u], town=near), 1.0)
    for u, v in t_edges:
        if (preimage.get(u), preimage.get(v)) not in s_set:
            near = _around(standard, preimage.get(u), preimage.get(v))
            ledger.add(owners.find(all_kinds, std=near, town=[v, u]), 1.0)


def _around(flow: Flow, u: str | None, v: str | None) -> list[str]:
    """The counterparts of a flow's ends, then the nodes right next to them."""
    out = [n for n in (v, u) if n is not None]
    if u is not None:
        out += flow.successors(u)
    if v is not None:
        out += flow.predecessors(v)
    return out


def _behaviour_ledger(
    standard: Flow,
    town: Flow,
    m: Matching,
    profiles: tuple[Profile, Profile],
    owners: _Owners,
    ledger: _Ledger,
) -> None:
    p_std, p_town = profiles
    std_steps = [n for n in standard.graph if _is_step(standard, n)]
    town_steps = [n for n in town.graph if _is_step(town, n)]
    rep: dict[str, str] = {}
    for n in std_steps:
        pair = m.pair_of_a(n)
        if pair is not None:
            rep[n] = pair.b[0]
    extra = {n for n in town_steps if m.pair_of_b(n) is None}
    count = 0
    for a1, a2 in itertools.combinations(std_steps, 2):
        count += 1
        if a1 not in rep or a2 not in rep:
            missing = [a for a in (a1, a2) if a not in rep]
            ledger.add(owners.find(("missing",), std=missing), 1.0)
            continue
        b1, b2 = rep[a1], rep[a2]
        if b1 == b2:
            continue  # merged into one step: reported as merged
        if p_std.relation(a1, a2) != p_town.relation(b1, b2):
            ledger.add(owners.find(_ORDER_KINDS, std=[a1, a2], town=[b1, b2]), 1.0)
    for b1, b2 in itertools.combinations(town_steps, 2):
        if b1 in extra or b2 in extra:
            count += 1
            added = [b for b in (b1, b2) if b in extra]
            ledger.add(owners.find(("extra",), town=added), 1.0)
    ledger.denominator = count


def _responsibility_ledger(
    standard: Flow,
    town: Flow,
    m: Matching,
    glossary: Glossary,
    owners: _Owners,
    ledger: _Ledger,
) -> None:
    std_steps = [n for n in standard.graph if _is_step(standard, n)]
    ledger.denominator = len(std_steps)
    for n in std_steps:
        pair = m.pair_of_a(n)
        if pair is None:
            continue
        lane_a = standard.nodes[n].lane
        lanes_b = [town.nodes[b].lane for b in pair.b if town.nodes[b].lane]
        if lanes_b and all(lanes_differ(lane_a, lb, glossary) for lb in lanes_b):
            ledger.add(owners.find(("lane_changed", "merged", "split"), std=[n]), 1.0)


@dataclass(frozen=True)
class Divergence:
    """How far a town's flow is from the standard.

    Attributes
    ----------
    total : float
        Weighted mean of the components, in [0, 1].
    node, structure, behaviour, responsibility : float
        The components, each in [0, 1].
    weights : dict
        The weights used.
    diff : FlowDiff
        The changes behind the figure.
    """

    total: float
    node: float
    structure: float
    behaviour: float
    responsibility: float
    weights: dict[str, float]
    diff: FlowDiff

    @property
    def components(self) -> dict[str, float]:
        """The four components by name."""
        return {c: getattr(self, c) for c in COMPONENTS}

    def __float__(self) -> float:
        return self.total

    def explain(self) -> pd.DataFrame:
        """How much each change contributed to the total.

        One row per change with a non-zero contribution (kind, code,
        standard and town ids, note, contribution to each component and to
        the total), most first; a last row ``other`` holds what no single
        change explains. The ``total`` column sums to :attr:`total`.
        """
        import pandas as pd

        acc: Accounting = self.diff._accounting
        norm = sum(self.weights.values())
        rows: list[dict[str, Any]] = []
        for i, c in enumerate(acc.changes):
            parts = {k: acc.ledgers[k].share(i) for k in COMPONENTS}
            total = sum(self.weights[k] * parts[k] for k in COMPONENTS) / norm
            if total > 0:
                rows.append(
                    {
                        "kind": c.kind,
                        "code": c.code,
                        "standard": ", ".join(c.standard),
                        "town": ", ".join(c.town),
                        "note": c.note,
                        **parts,
                        "total": total,
                    }
                )
        rows.sort(key=lambda r: -r["total"])
        parts = {k: acc.ledgers[k].share(None) for k in COMPONENTS}
        other = sum(self.weights[k] * parts[k] for k in COMPONENTS) / norm
        if other > 0:
            rows.append(
                {
                    "kind": "other",
                    "code": None,
                    "standard": "",
                    "town": "",
                    "note": "not explained by a single change",
                    **parts,
                    "total": other,
                }
            )
        columns = ["kind", "code", "standard", "town", "note", *COMPONENTS, "total"]
        return pd.DataFrame(rows, columns=columns)

    def to_dict(self) -> dict[str, Any]:
        """``divergence``, ``components`` and ``changes`` with stable keys."""
        return {
            "divergence": round(self.total, 6),
            "components": {k: round(v, 6) for k, v in self.components.items()},
            "changes": [c.to_dict() for c in self.diff.changes],
        }

    def __repr__(self) -> str:
        parts = ", ".join(f"{k} {v:.3f}" for k, v in self.components.items())
        return f"<Divergence {self.total:.3f} ({parts})>"

    def _repr_html_(self) -> str:
        from harpflow.render.notebook import divergence_html

        return divergence_html(self)

    def _repr_svg_(self) -> str:
        from harpflow.render.notebook import divergence_svg

        return divergence_svg(self)


def score(
    standard: Flow,
    town: Flow,
    *,
    weights: dict[str, float] | None = None,
    matching: Matching | None = None,
    glossary: Glossary | None = None,
    flow_diff: FlowDiff | None = None,
) -> Divergence:
    """Divergence of a town's flow from the standard.

    Parameters
    ----------
    standard, town : Flow
    weights : dict, optional
        Weights of ``node``, ``structure``, ``behaviour`` and
        ``responsibility`` (any non-negative numbers, not all zero);
        :data:`DEFAULT_WEIGHTS` by default.
    matching : Matching, optional
        Correspondences to use instead of :func:`harpflow.match.match`.
    glossary : Glossary, optional
    flow_diff : FlowDiff, optional
        A diff of the same two flows already computed.

    Returns
    -------
    Divergence
    """
    from harpflow.diff import diff
    from harpflow.errors import MatchError

    w = dict(DEFAULT_WEIGHTS)
    if weights:
        unknown = set(weights) - set(COMPONENTS)
        if unknown:
            raise MatchError(f"unknown weights: {', '.join(sorted(unknown))}")
        w.update(weights)
        if any(v < 0 for v in w.values()) or sum(w.values()) <= 0:
            raise MatchError("weights must be non-negative and not all zero")
    d = flow_diff or diff(standard, town, matching=matching, glossary=glossary)
    acc: Accounting = d._accounting
    comps = {c: acc.component(c) for c in COMPONENTS}
    total = min(1.0, max(0.0, acc.total(w)))
    return Divergence(total=total, weights=w, diff=d, **comps)
