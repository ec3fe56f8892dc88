"""The recommended flow (推奨フロー): many towns unified into one sound flow.

:func:`unify` lines every town's flow up against a base flow -- the
standard when one is given, otherwise the *medoid* town, the sound one
whose mean divergence to the others is smallest [5]_ -- and counts, for every
step, order relation, decision and hand-off of the base, the towns that
perform it. It then builds one flow:

1. the base's steps that at least ``min_support`` of the towns perform, or
   that are required (legal steps), with the base's decisions and parallel
   blocks rebuilt around them (a left-out step's flows are joined, a
   gateway left with one way in and one way out is removed, hand-offs few
   towns make are dropped with the outside body's part they start);
2. each step in the lane most towns give it, and runs of consecutive
   steps in the towns' consensus order (pairwise majority);
3. town practices: parts of the towns' flows that the base lacks (extra
   steps, waits, rework loops with their decisions) are clustered across
   towns by where they attach and by label similarity, and a cluster that
   ``min_support`` of the towns follow at one place is copied in there;
4. without a standard, each step is worded as the towns word it (the
   median of their labels, :func:`harpflow.unify_consensus.consensus_labels`),
   and each of these edits is kept only when it brings the towns closer on
   average (``refine``): the medoid is one town among them, the set median,
   and the edits search from it towards the generalised median flow of
   Jiang, Münger and Bunke [6]_, the way reference models are mined from
   variants by Li, Reichert and Wombacher [7]_;
5. every construction step is checked with
   :func:`harpflow.behaviour.soundness` (outside bodies' parts that a
   message starts are checked as instances of their own); a step that
   would make the flow unsound is undone and reported as an option
   instead, so the result is always sound when the base is.

This is the merge-and-filter approach to process consolidation of La Rosa
et al. [1]_ (a merged model whose elements carry the variants that
contain them), restricted by support as Derguech and Bhiri [3]_ and
Gottschalk et al. [2]_ individualise merged models; the result is shaped
for adoption: the :class:`Recommendation` says how many towns support each
element, what the practices below the threshold are, what each town would
change (fit-gap) and gives the requirements table of a 機能要件定義表.

Examples
--------
>>> import harpflow
>>> from harpflow.synth import variant
>>> std = harpflow.read('''
... name: 転入届
... steps:
...   - {番号: S, 作業: 開始, 種別: 開始}
...   - {番号: 1, 担当: 窓口, 作業: 届出の受付}
...   - {番号: 2, 担当: 担当, 作業: 異動入力, 種別: システム}
...   - {番号: 4, 担当: 決裁, 作業: 決裁}
...   - {番号: 5, 担当: 窓口, 作業: 住民票の写しを交付}
...   - {番号: E, 作業: 終了, 種別: 終了}
... ''', format="yaml")
>>> towns = [variant(std, ["V01"], seed=s, town=t).flow for s, t in
...          enumerate("ABC")] + [std.copy() for _ in range(2)]
>>> rec = unify(towns, standard=std)
>>> [n.label for n in rec.flow.steps()]
['届出の受付', '異動入力', '住民票の写しを交付']
>>> rec.sound
True
>>> rec.requirements()[["step", "class"]].values.tolist()[-1]
['4', '標準オプション']
>>> unify(towns, standard=std, required=["4"]).flow.steps()[-2].label
'決裁'

Notes
-----
Practices are copied from one representative town (among the members
that attach where most do, the one most similar to the others); their
wording is that town's, their lane is named as the base names it when the
glossary knows the two for one. Towns that add different practices at
the same place each need the threshold on their own, and a second
practice at a place already taken is reported as an option when the two
cannot be sequenced soundly. Parallelism that towns add (steps the base
runs in sequence) is not adopted, and step types and media (paper instead
of system) are not voted on: the result keeps the base's, and fit-gap
reports the difference; labels are, without a standard only (a
standard's wording is the agreed one). Decisions of the base are kept even when few
towns make them (dropping a decision would mean choosing a branch); their
support is reported. Support counts the towns whose step the matcher
pairs with the base's, so a step worded beyond the matcher's reach counts
as not performed. Without a standard, the medoid costs one divergence per
pair of towns and ``refine`` one per town and edit.

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
.. [4] M. Weidlich, J. Mendling and M. Weske, "Efficient consistency
   measurement based on behavioral profiles of process models", IEEE
   Transactions on Software Engineering 37(3), 2011, pp. 410-429.
.. [5] L. Kaufman and P. J. Rousseeuw, "Clustering by means of medoids",
   Statistical Data Analysis Based on the L1-Norm and Related Methods,
   1987, pp. 405-416.
.. [6] X. Jiang, A. Münger and H. Bunke, "On median graphs: properties,
   algorithms, and applications", IEEE Transactions on Pattern Analysis
   and Machine Intelligence 23(10), 2001, pp. 1144-1151.
.. [7] C. Li, M. Reichert and A. Wombacher, "The MinAdept clustering
   approach for discovering reference process models out of process
   variants", International Journal of Cooperative Information Systems
   19(3-4), 2010, pp. 159-203.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any

from harpflow.errors import HarpflowWarning, ModelError
from harpflow.flowcache import comparison
from harpflow.glossary import Glossary, default_glossary
from harpflow.match import Correspondence, Matching, match
from harpflow.model import Flow, Node
from harpflow.unify_build import (
    TownView,
    drop_orphan_fragments,
    flow_order,
    is_step,
    lane_consensus,
    order_chains,
    rebuild,
    remove_bypassing,
    simplify_gateways,
    sound_check,
)
from harpflow.unify_consensus import Judge, consensus_labels
from harpflow.unify_practice import (
    Cluster,
    cluster_fragments,
    fragments_of,
    insert_practice,
)
from harpflow.unify_result import FitGap, Option, Recommendation

__all__ = ["FitGap", "Option", "Recommendation", "medoid", "unify"]

Required = Collection[str] | Callable[[Node], bool] | None

_TRUE = frozenset({"true", "yes", "1", "必須", "required", "legal", "法定"})


# -- the algorithm ------------------------------------------------------------


def _names(flows: Sequence[Flow]) -> list[str]:
    names: list[str] = []
    for i, f in enumerate(flows):
        name = str(f.town or f.name or f"T{i + 1}")
        candidate, k = name, 1
        while candidate in names:
            k += 1
            candidate = f"{name}#{k}"
        names.append(candidate)
    return names


def _required(base: Flow, required: Required) -> frozenset[str]:
    if callable(required):
        return frozenset(n for n, node in base.nodes.items() if required(node))
    if required is not None:
        if isinstance(required, str):
            raise ModelError("required: give a collection of ids, not one string")
        unknown = sorted(set(required) - set(base.graph))
        if unknown:
            raise ModelError(f"required ids not in the base flow: {', '.join(unknown)}")
        return frozenset(required)
    marked = {str(x) for x in base.meta.get("required", ()) or ()}
    for n, d in base.graph.nodes(data=True):
        if str(d.get("required", "")).strip().lower() in _TRUE:
            marked.add(n)
    return frozenset(m for m in marked if m in base.graph)


def medoid(
    flows: Sequence[Flow],
    *,
    glossary: Glossary | None = None,
    among: Collection[int] | None = None,
) -> tuple[int, list[float]]:
    """The flow with the smallest mean divergence to the others.

    Parameters
    ----------
    flows : sequence of Flow
    glossary : Glossary, optional
    among : collection of int, optional
        Positions the medoid may be chosen from (all by default); the mean
        is still taken over all the flows.

    Returns
    -------
    index : int
        Position of the medoid (the first one on ties).
    means : list of float
        Mean divergence of every candidate to the others (``nan`` for the
        flows not among the candidates).

    Notes
    -----
    The divergence of a pair is computed once, with the earlier flow as
    the standard, and used for both orders.

    Examples
    --------
    >>> from harpflow.model import Flow
    >>> def chain(*labels):
    ...     f = Flow()
    ...     ids = ["s", *labels, "e"]
    ...     for n in ids:
    ...         kind = {"s": "startEvent", "e": "endEvent"}.get(n, "task")
    ...         _ = f.add_node(n, type=kind, label=n)
    ...     for u, v in zip(ids, ids[1:]):
    ...         _ = f.add_edge(u, v)
    ...     return f
    >>> medoid([chain("受付", "審査"), chain("受付", "審査", "決裁"), chain("受付")])[0]
    0
    """
    from harpflow.score import score

    gloss = glossary or default_glossary()
    n = len(flows)
    if n == 0:
        raise ModelError("no flows to choose a medoid from")
    chosen = set(range(n)) if among is None else set(among) & set(range(n))
    if not chosen:
        raise ModelError("no candidate for the medoid")
    sums = [0.0] * n
    # Each flow's behavioural profile and graphs are built once for all
    # its pairs (the flows are not changed here).
    with comparison():
        for i in range(n):
            for j in range(i + 1, n):
                if i in chosen or j in chosen:
                    d = score(flows[i], flows[j], glossary=gloss).total
                    sums[i] += d
                    sums[j] += d
    means = [s / max(1, n - 1) if i in chosen else math.nan for i, s in enumerate(sums)]
    return min(chosen, key=lambda i: (means[i], i)), means


def _identity(flow: Flow) -> Matching:
    return Matching(flow, flow, [Correspondence((n,), (n,), 1.0) for n in flow.graph])


def unify(
    flows: Iterable[Flow],
    *,
    standard: Flow | None = None,
    min_support: float = 0.5,
    required: Required = None,
    glossary: Glossary | None = None,
    refine: bool | None = None,
    matchings: Sequence[Matching] | None = None,
) -> Recommendation:
    """Unify many towns' flows of one procedure into a recommended flow.

    Parameters
    ----------
    flows : iterable of Flow
        The towns' flows (names from ``flow.town``, else ``flow.name``).
    standard : Flow, optional
        The standard to align to; without it, the medoid town (chosen among
        the sound flows when there are any).
    min_support : float
        Share of towns (0 < x <= 1) that a step, hand-off or practice needs
        to be in the flow; order changes need it too.
    required : collection of ids, or predicate on Node, optional
        Base steps kept whatever their support (legal steps). By default
        the nodes whose ``required`` attribute is true (``必須``, ``yes``...)
        and the ids in the base's ``required`` metadata.
    glossary : Glossary, optional
    refine : bool, optional
        Keep each edit of the base (a step left out, the consensus lanes
        and order, the towns' wording of the steps, a practice put in)
        only when it lowers the towns' mean
        divergence: a greedy step towards the median flow [6]_. By default
        on without a standard (the base is then just one town) and off with
        one (the standard's support rule alone decides). Costs one
        divergence per town and edit.
    matchings : sequence of Matching, optional
        With a standard: ``match(standard, flow)`` for each flow, in the
        order of ``flows``, already computed (a survey matches each town
        for its diff anyway); by default each flow is matched here.

    Returns
    -------
    Recommendation

    Raises
    ------
    ModelError
        Without flows, for ``min_support`` outside (0, 1], for required
        ids the base lacks, or for ``matchings`` that are not of the
        standard with each flow.
    """
    flows = list(flows)
    if not flows:
        raise ModelError("unify needs at least one town flow")
    if matchings is not None and (
        standard is None
        or len(matchings) != len(flows)
        or any(
            m.a is not standard or m.b is not f
            for m, f in zip(matchings, flows, strict=True)
        )
    ):
        raise ModelError(
            "matchings must be those of the standard with each flow, in order"
        )
    if not 0.0 < min_support <= 1.0:
        raise ModelError(f"min_support must be within (0, 1], not {min_support!r}")
    gloss = glossary or default_glossary()
    names = _names(flows)
    if standard is None:
        sound = [i for i, f in enumerate(flows) if sound_check(f).sound]
        index, _ = medoid(flows, glossary=gloss, among=sound or None)
        base, base_kind = flows[index], "medoid"
    else:
        index, base, base_kind = -1, standard, "standard"
    views = [
        TownView.of(
            names[i],
            f,
            _identity(f)
            if i == index
            else matchings[i]
            if matchings is not None
            else match(base, f, glossary=gloss),
        )
        for i, f in enumerate(flows)
    ]
    req = _required(base, required)
    judge = (
        Judge(base, views, gloss)
        if (standard is None if refine is None else refine)
        else None
    )
    return _build(base, base_kind, views, min_support, req, gloss, judge)


def _build(
    base: Flow,
    base_kind: str,
    views: list[TownView],
    min_support: float,
    req: frozenset[str],
    gloss: Glossary,
    judge: Judge | None,
) -> Recommendation:
    n = len(views)
    base_index = {b: i for i, b in enumerate(base.graph)}
    node_towns = {
        b: tuple(i for i, t in enumerate(views) if t.counterparts.get(b))
        for b in base.graph
    }
    options: list[Option] = []

    def share(idx: Sequence[int]) -> float:
        return len(idx) / n

    def names_of(idx: Sequence[int]) -> tuple[str, ...]:
        return tuple(views[i].name for i in idx)

    # 1. Base steps and hand-offs that too few towns perform.
    dropped = [
        b
        for b in base.graph
        if is_step(base, b) and share(node_towns[b]) < min_support and b not in req
    ]
    handoffs = {
        (e.source, e.target): tuple(
            i for i, t in enumerate(views) if t.handoff(e.source, e.target)
        )
        for e in base.message_edges()
    }
    weak = [
        uv
        for uv, idx in handoffs.items()
        if share(idx) < min_support
        and not set(uv) <= req
        and not set(uv) & set(dropped)
    ]
    result = base.copy()
    low = set(dropped)
    if judge is not None:
        dropped.sort(key=lambda b: (len(node_towns[b]), base_index[b]))
        result, dropped, weak = _drop_one_by_one(base, dropped, weak, req, judge)
    else:
        _drop(result, dropped, weak, req)
        if not sound_check(result).sound:
            result, dropped, weak = _drop_one_by_one(base, dropped, weak, req)
    kept_low = frozenset(low - set(dropped))
    for b in dropped:
        node = base.nodes[b]
        options.append(
            Option(
                "step",
                b,
                node.label,
                node.lane or "",
                names_of(node_towns[b]),
                share(node_towns[b]),
                f"performed by {len(node_towns[b])} of {n} towns",
                function_ids=node.function_ids,
            )
        )
    for u, v in weak:
        options.append(
            Option(
                "handoff",
                f"{u}->{v}",
                base.graph.edges[u, v].get("label") or "",
                base.nodes[u].lane or "",
                names_of(handoffs[u, v]),
                share(handoffs[u, v]),
                f"made by {len(handoffs[u, v])} of {n} towns",
                after=(u,),
                before=(v,),
            )
        )

    # 2. Consensus lanes and order of consecutive steps.
    movable = {b for b in result.graph if is_step(result, b)}
    snapshot = result.copy()
    lanes = lane_consensus(
        result, views, sorted(movable, key=base_index.__getitem__), min_support, gloss
    )
    swaps = order_chains(result, views, movable, min_support)
    if swaps and not sound_check(result).sound:
        result, swaps = snapshot, []
    if (lanes or swaps) and judge is not None and not judge(result):
        result, lanes, swaps = snapshot, [], []
    labels = [] if judge is None else _relabel(result, views, gloss, judge)

    # 3. Town practices.
    fragments = [
        frag
        for i, t in enumerate(views)
        for frag in fragments_of(i, t, result, base_index)
    ]
    clusters = cluster_fragments(fragments, gloss)
    practice_towns: dict[str, tuple[int, ...]] = {}
    ranked = sorted(clusters, key=lambda c: (-len(c.placed), int(c.id[1:])))
    for cl in ranked:
        reason = f"followed by {len(cl.towns)} of {n} towns"
        rep = cl.representative
        if share(cl.placed) >= min_support and rep.entries and rep.exits:
            snapshot = result.copy()
            new = insert_practice(result, cl, views[rep.town])
            fits = sound_check(result).sound
            if fits and (judge is None or judge(result)):
                for nid in new:
                    practice_towns[nid] = cl.placed
                    _base_lane(result, nid, base, gloss)
                continue
            result = snapshot
            reason += (
                "; brings the towns no closer" if fits else "; cannot be placed soundly"
            )
        elif share(cl.placed) >= min_support:
            reason += "; attaches to no step of the flow"
        elif share(cl.towns) >= min_support:
            reason += f", {len(cl.placed)} of them at one place"
        options.append(_practice_option(cl, views, n, reason, base, gloss))
    options.sort(key=lambda o: (-o.support, o.kind, _natural(o.id)))

    # 4. Reading order, support on the elements, final check.
    result = rebuild(result, flow_order(result))
    node_sup = {
        nid: practice_towns.get(nid, node_towns.get(nid, ())) for nid in result.graph
    }
    edge_sup = _edge_support(result, views, node_sup)
    for nid in result.graph:
        result.update_node(
            nid,
            support=round(share(node_sup[nid]), 6),
            towns=names_of(node_sup[nid]),
        )
    check = sound_check(result)
    if not check.sound:
        warnings.warn(
            "recommended flow is not sound ("
            + "; ".join(check.problems)
            + "): the base flow itself is not",
            HarpflowWarning,
            stacklevel=3,
        )
    return Recommendation(
        flow=result,
        base=base,
        base_kind=base_kind,
        towns=views,
        min_support=min_support,
        node_towns=node_sup,
        edge_towns=edge_sup,
        options=options,
        required=req,
        soundness=check,
        swaps=swaps,
        lanes=lanes,
        labels=labels,
        glossary=gloss,
        kept=kept_low,
    )


def _base_lane(flow: Flow, nid: str, base: Flow, gloss: Glossary) -> None:
    """Name a practice's lane as the base names the same lane (市民課担当 →
    担当 when the glossary says they are one)."""
    lane = flow.graph.nodes[nid].get("lane")
    if not lane:
        return
    names = {gloss.lane(name): name for name in reversed(base.lane_names())}
    own = names.get(gloss.lane(lane))
    if own and own != lane:
        flow.update_node(nid, lane=own)


def _relabel(
    result: Flow, views: Sequence[TownView], gloss: Glossary, judge: Judge
) -> list[tuple[str, str, str]]:
    """Word the steps as the towns do (median labels), all at once when
    that brings the towns closer, else one at a time."""
    steps = [b for b in result.graph if is_step(result, b)]
    proposed = consensus_labels(result, views, steps, gloss)
    if not proposed:
        return []
    trial = result.copy()
    for b, _, label in proposed:
        trial.update_node(b, label=label)
    if judge(trial):
        for b, _, label in proposed:
            result.update_node(b, label=label)
        return proposed
    kept: list[tuple[str, str, str]] = []
    if len(proposed) > 1:
        for b, old, label in proposed:
            result.update_node(b, label=label)
            if judge(result):
                kept.append((b, old, label))
            else:
                result.update_node(b, label=old)
    return kept


def _natural(text: str) -> tuple[Any, ...]:
    """Sort key that puts P2 before P10."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


def _drop(
    flow: Flow,
    nodes: Sequence[str],
    handoffs: Sequence[tuple[str, str]],
    keep: set[str] | frozenset[str],
) -> None:
    touched: set[str] = set()
    for u, v in handoffs:
        if flow.graph.has_edge(u, v):
            flow.remove_edge(u, v)
    for b in nodes:
        if b in flow.graph:
            touched |= remove_bypassing(flow, b)
    drop_orphan_fragments(flow, set(keep))
    simplify_gateways(flow, touched)


def _drop_one_by_one(
    base: Flow,
    dropped: Sequence[str],
    weak: Sequence[tuple[str, str]],
    req: frozenset[str],
    judge: Judge | None = None,
) -> tuple[Flow, list[str], list[tuple[str, str]]]:
    """Leave out steps and hand-offs one at a time, each only if the flow
    stays sound (and the judge, if any, accepts it); deterministic."""
    result = base.copy()
    kept_nodes: list[str] = []
    kept_weak: list[tuple[str, str]] = []
    for uv in weak:
        trial = result.copy()
        _drop(trial, [], [uv], req)
        if sound_check(trial).sound and (judge is None or judge(trial)):
            result = trial
            kept_weak.append(uv)
    for b in dropped:
        trial = result.copy()
        _drop(trial, [b], [], req)
        if sound_check(trial).sound and (judge is None or judge(trial)):
            result = trial
            kept_nodes.append(b)
    return result, kept_nodes, kept_weak


def _practice_option(
    cl: Cluster,
    views: Sequence[TownView],
    n: int,
    reason: str,
    base: Flow,
    gloss: Glossary,
) -> Option:
    rep = cl.representative
    flow = views[rep.town].flow
    steps = [flow.nodes[x] for x in rep.nodes if is_step(flow, x)]
    names = {gloss.lane(x): x for x in reversed(base.lane_names())}
    lanes = dict.fromkeys(
        names.get(gloss.lane(s.lane), s.lane) for s in steps if s.lane
    )
    fids = tuple(dict.fromkeys(f for s in steps for f in s.function_ids))
    return Option(
        "practice",
        cl.id,
        " → ".join(s.label for s in steps),
        "・".join(x for x in lanes if x),
        tuple(views[i].name for i in cl.towns),
        len(cl.towns) / n,
        reason,
        after=rep.signature[0],
        before=rep.signature[1],
        function_ids=fids,
    )


def _edge_support(
    flow: Flow, views: Sequence[TownView], node_sup: dict[str, tuple[int, ...]]
) -> dict[str, tuple[int, ...]]:
    """Towns behind each flow of the result.

    A sequence flow between steps of the base is supported by a town that
    performs its source before its target; a gateway or event end stands
    for the steps beyond it; a flow touching a practice is supported by the
    practice's towns. A hand-off is supported by the towns that make it.
    """

    def ends(node: str, forward: bool, depth: int = 0) -> set[str]:
        d = flow.graph.nodes[node]
        if d.get("practice") or is_step(flow, node) or depth > 3:
            return {node}
        nxt = flow.successors(node) if forward else flow.predecessors(node)
        out: set[str] = set()
        for m in nxt:
            out |= ends(m, forward, depth + 1)
        return out or {node}

    out: dict[str, tuple[int, ...]] = {}
    for e in flow.edges:
        u, v = e.source, e.target
        pu, pv = (
            flow.graph.nodes[u].get("practice"),
            flow.graph.nodes[v].get("practice"),
        )
        if pu or pv:
            sets = [
                set(node_sup[x]) for x in (u, v) if flow.graph.nodes[x].get("practice")
            ]
            out[e.id] = tuple(sorted(set.intersection(*sets)))
        elif e.kind == "message":
            out[e.id] = tuple(i for i, t in enumerate(views) if t.handoff(u, v))
        else:
            us, vs = ends(u, False), ends(v, True)
            out[e.id] = tuple(
                i
                for i, t in enumerate(views)
                if any(
                    (a == b and a in t.counterparts) or t.precedes(a, b)
                    for a in us
                    for b in vs
                )
            )
    return out
