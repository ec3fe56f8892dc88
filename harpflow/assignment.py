"""The matcher's core: propagate similarity, assign, fill gaps, group.

:func:`solve` is called by :func:`harpflow.match.match` in one canonical
orientation of the two flows. It builds the pair similarity of
:mod:`harpflow.similarity`, propagates it over predecessors and successors
(bounded similarity flooding, Melnik et al. 2002, with the best-counterpart
neighbour score of Dijkman et al. 2009), solves a maximum-weight assignment
with the Hungarian method in which each pair earns its margin over the
threshold, pairs leftover steps that sit between the same matched steps,
and forms one-to-many groups of adjacent steps (the 1:n correspondences
of ICoP, Weidlich, Dijkman & Mendling 2010). See :mod:`harpflow.match`
for the references.

The constants below were set on the development gold (``processes/gold``
and ``benchmarks/gold/hdbpmn``); ``benchmarks/bench_match.py`` measures
them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.optimize import linear_sum_assignment

from harpflow.glossary import Glossary
from harpflow.match import Correspondence
from harpflow.model import Flow
from harpflow.similarity import (
    coverage_matrix,
    depth,
    idf_weights,
    kind_of,
    label_similarity,
    lane_similarity,
    position_similarity,
    type_similarity,
)
from harpflow.text import Label, normalise

__all__ = ["confidence", "solve"]

#: Weights of label, type, lane and position in the base similarity of two
#: activities, and of two events or gateways (whose labels say less).
ACTIVITY_WEIGHTS = (0.75, 0.05, 0.08, 0.12)
OTHER_WEIGHTS = (0.4, 0.2, 0.1, 0.3)
#: Raw similarity mapped to confidence 0.5 (by ``s ** (log 0.5 / log c)``,
#: which keeps 0 and 1). Chosen on the development gold (processes/gold and
#: the hdBPMN pairs of benchmarks/gold) so that the default threshold of 0.5
#: gives the best F1 there.
CALIBRATION = 0.35
_EXPONENT = math.log(0.5) / math.log(CALIBRATION)
#: Smallest label similarity for two activities to be paired at all.
MIN_LABEL = 0.2
#: Share of its best label similarity a step must have with the group's
#: counterpart to join the group.
GROUP_RATIO = 0.8
#: Smallest share of a counterpart's words a step must add to join a group.
MIN_GAIN = 0.2
#: Share of a step's words another step's label must cover for the step to
#: count as done within that step.
ABSORBED = 0.8
#: Words by which a label says the step does several things at once: 兼
#: (one form serving as two, 支出負担行為兼支出命令書), 含む/含め (訪問調査
#: (日程調整を含む)), 一度に, 同時に, 併せて/あわせて, 兼ねて.
MERGE_WORDS = ("兼", "含む", "含め", "一度に", "同時に", "併せ", "あわせて")
#: The mark that lists several actions in one label (決裁・本登録).
LIST_MARK = "・"
#: Words by which a label says the step is done later in a batch (V06).
BATCH_WORDS = ("まとめ", "纏め", "一括", "日次", "夜間", "翌日", "batch")
#: Words by which a label says the step is done on paper (V05).
PAPER_WORDS = ("紙", "手書", "excel", "エクセル", "paper", "handwrit", "by hand")
#: Words of steps that record something, besides the glossary's 入力
#: cluster (:data:`ENTRY_CONCEPT`).
ENTRY_WORDS = ("作成", "起票", "record", "enter")
ENTRY_CONCEPT = "入力"
#: Words naming where something is recorded rather than what.
MEDIUM_WORDS = ("システム", "system", "台帳", "簿", "票", "表", "書", "内容")
#: Share of the threshold a pair between two matched pairs must reach.
GAP_FACTOR = 0.6
#: Smallest label similarity of such a pair.
GAP_MIN_LABEL = 0.1
#: Tie-break weight favouring nodes at similar places in node order.
EPSILON = 1e-6


@dataclass
class _Side:
    flow: Flow
    order: list[str]
    labels: list[Label]
    kinds: list[str]
    types: list[str]
    lanes: list[str | None]
    preds: list[list[int]]
    succs: list[list[int]]
    mediums: list[str | None]
    act_neighbours: list[list[int]] = field(default_factory=list)
    act_preds: list[list[int]] = field(default_factory=list)
    act_succs: list[list[int]] = field(default_factory=list)


def _side(flow: Flow) -> _Side:
    order = list(flow.nodes)
    index = {n: i for i, n in enumerate(order)}
    preds: list[list[int]] = [[] for _ in order]
    succs: list[list[int]] = [[] for _ in order]
    for u, v, data in flow.graph.edges(data=True):
        if data.get("kind", "sequence") == "sequence":
            succs[index[u]].append(index[v])
            preds[index[v]].append(index[u])
    preds = [sorted(x) for x in preds]
    succs = [sorted(x) for x in succs]
    data = flow.graph.nodes
    types = [str(data[n]["type"]) for n in order]
    lanes = [data[n].get("lane") or data[n].get("pool") for n in order]
    labels = [normalise(str(data[n].get("label") or "")) for n in order]
    kinds = [kind_of(t) for t in types]
    mediums = [data[n].get("medium") for n in order]
    side = _Side(flow, order, labels, kinds, types, lanes, preds, succs, mediums)
    # activities next to each activity, looking through gateways and
    # intermediate events
    for i in range(len(order)):
        near: list[list[int]] = []
        for step in (preds, succs):
            found: set[int] = set()
            if kinds[i] == "activity":
                stack, seen = list(step[i]), {i}
                while stack:
                    j = stack.pop()
                    if j in seen:
                        continue
                    seen.add(j)
                    if kinds[j] == "activity":
                        found.add(j)
                    elif kinds[j] in ("gateway", "intermediate"):
                        # a decision, a timer or a wait stands between
                        # two steps without being a step itself
                        stack.extend(step[j])
            near.append(sorted(found))
        side.act_preds.append(near[0])
        side.act_succs.append(near[1])
        side.act_neighbours.append(sorted(set(near[0]) | set(near[1])))
    return side


def _padded(neighbours: list[list[int]], pad: int) -> np.ndarray:
    width = max((len(x) for x in neighbours), default=0) or 1
    out = np.full((len(neighbours), width), pad, dtype=np.intp)
    for i, x in enumerate(neighbours):
        out[i, : len(x)] = x
    return out


@dataclass
class _Around:
    """The neighbour lists of both flows as padded index arrays."""

    pad_a: np.ndarray
    pad_b: np.ndarray
    count_a: np.ndarray
    count_b: np.ndarray
    has_a: np.ndarray
    has_b: np.ndarray


def _around(na: list[list[int]], nb: list[list[int]]) -> _Around:
    return _Around(
        _padded(na, len(na)),
        _padded(nb, len(nb)),
        np.array([max(len(x), 1) for x in na], dtype=float),
        np.array([max(len(x), 1) for x in nb], dtype=float),
        np.array([bool(x) for x in na], dtype=bool)[:, None],
        np.array([bool(x) for x in nb], dtype=bool)[None, :],
    )


def _neighbourhood(sim: np.ndarray, near: _Around) -> np.ndarray:
    """Mean best-counterpart similarity of the neighbours of each pair.

    For pair (i, j): each neighbour of i counts with its best match among
    the neighbours of j, and the other way round; the two means are
    averaged. 1 when neither has neighbours, 0 when only one has.
    """
    size_a, size_b = sim.shape
    pad_a, pad_b = near.pad_a, near.pad_b
    count_a, count_b = near.count_a, near.count_b
    # best[p, j]: best match of node p of A among the neighbours of j
    padded = np.concatenate([sim, np.zeros((size_a, 1))], axis=1)
    best_in_b = np.concatenate(
        [padded[:, pad_b].max(axis=2), np.zeros((1, size_b))], axis=0
    )
    forward = best_in_b[pad_a].sum(axis=1) / count_a[:, None]
    padded_t = np.concatenate([sim.T, np.zeros((size_b, 1))], axis=1)
    best_in_a = np.concatenate(
        [padded_t[:, pad_a].max(axis=2), np.zeros((1, size_a))], axis=0
    )
    backward = (best_in_a[pad_b].sum(axis=1) / count_b[:, None]).T
    result: np.ndarray = (forward + backward) / 2.0
    has_a, has_b = near.has_a, near.has_b
    result = np.where(~has_a & ~has_b, 1.0, np.where(has_a ^ has_b, 0.0, result))
    return result


@dataclass
class PairScores:
    """The matrices behind one matching (rows: flow a, columns: flow b)."""

    label: np.ndarray
    base: np.ndarray
    combined: np.ndarray
    allowed: np.ndarray
    compatible: np.ndarray


def pair_scores(
    a: _Side, b: _Side, glossary: Glossary, *, structure: float, iterations: int
) -> PairScores:
    """Label, base and propagated similarity of every node pair."""
    label = label_similarity(a.labels, b.labels, glossary)
    types = type_similarity(a.types, b.types)
    lanes = lane_similarity(a.lanes, b.lanes, glossary)
    pos = position_similarity(depth(a.flow, a.order), depth(b.flow, b.order))
    act = (
        np.array([k == "activity" for k in a.kinds], dtype=bool)[:, None]
        & np.array([k == "activity" for k in b.kinds], dtype=bool)[None, :]
    )
    wa, wo = ACTIVITY_WEIGHTS, OTHER_WEIGHTS
    base = np.where(
        act,
        wa[0] * label + wa[1] * types + wa[2] * lanes + wa[3] * pos,
        wo[0] * label + wo[1] * types + wo[2] * lanes + wo[3] * pos,
    )
    kinds_a = np.array(a.kinds, dtype=object)[:, None]
    kinds_b = np.array(b.kinds, dtype=object)[None, :]
    compatible = kinds_a == kinds_b
    base = np.where(compatible, base, 0.0)
    combined = base
    near_preds, near_succs = _around(a.preds, b.preds), _around(a.succs, b.succs)
    for _ in range(iterations):
        around = (
            _neighbourhood(combined, near_preds) + _neighbourhood(combined, near_succs)
        ) / 2.0
        combined = np.where(
            compatible, (1.0 - structure) * base + structure * around, 0.0
        )
    combined = np.clip(np.round(combined, 9), 0.0, 1.0)
    allowed = compatible & ~(act & (label < MIN_LABEL))
    return PairScores(label, base, combined, allowed, compatible)


def _assign(scores: PairScores, threshold: float) -> list[tuple[int, int, float]]:
    combined, allowed = scores.combined, scores.allowed
    size_a, size_b = combined.shape
    if size_a == 0 or size_b == 0:
        return []
    floor = threshold ** (1.0 / _EXPONENT)
    ok = allowed & (combined >= floor)
    rel_a = np.arange(size_a)[:, None] / max(size_a, 1)
    rel_b = np.arange(size_b)[None, :] / max(size_b, 1)
    # a pair earns its margin over the threshold, so that two weak pairs do
    # not outweigh one strong pair
    margin = combined - floor + EPSILON * (2.0 - np.abs(rel_a - rel_b))
    weight = np.where(ok, margin, 0.0)
    rows, cols = linear_sum_assignment(weight, maximize=True)
    return [
        (int(i), int(j), float(combined[i, j]))
        for i, j in zip(rows, cols, strict=True)
        if ok[i, j]
    ]


def _merged(labels: list[Label]) -> Label:
    tokens = tuple(t for lab in labels for t in lab.tokens)
    aside = tuple(t for lab in labels for t in lab.aside)
    text = "".join(lab.text for lab in labels)
    core = "".join(lab.core for lab in labels)
    return Label(text, None, text, tokens, labels[0].language, core, aside)


def _near(side: _Side, u: int, grouped: set[int]) -> tuple[set[int], set[int]]:
    """Grouped activities next to activity ``u``, and those reached past gaps.

    The first set holds the direct neighbours (through gateways and
    intermediate events, :func:`_side`) and the siblings (activities with
    the same activity predecessors and successors: parallel or alternative
    branches). The second adds the grouped activities first met walking
    from ``u`` over activities in no pair: steps the other flow left out
    (a 審査 dropped between 入力 and 本登録) do not separate the two.
    """
    direct = set(side.act_neighbours[u])
    preds, succs = side.act_preds[u], side.act_succs[u]
    if preds and succs:
        for p in preds:
            for w in side.act_succs[p]:
                if w != u and side.act_preds[w] == preds and side.act_succs[w] == succs:
                    direct.add(w)
    direct &= grouped
    past: set[int] = set()
    stack, seen = [w for w in side.act_neighbours[u] if w not in grouped], {u}
    while stack:
        w = stack.pop()
        if w in seen:
            continue
        seen.add(w)
        for x in side.act_neighbours[w]:
            if x in grouped:
                past.add(x)
            elif x not in seen:
                stack.append(x)
    return direct, past | direct


def _says(label: Label, words: tuple[str, ...]) -> bool:
    text = label.text.lower()
    return any(w in text for w in words)


def _is_entry(label: Label, glossary: Glossary) -> bool:
    """True when the step records something (入力 cluster, 作成, 起票)."""
    return _says(label, ENTRY_WORDS) or any(
        ENTRY_CONCEPT in glossary.concepts(t) for t in label.tokens
    )


def _double_entry(mine: _Side, u: int, v: int, glossary: Glossary) -> bool:
    """True when ``u`` and ``v`` record one thing on paper and in the system.

    Both are entries of one lane, next to each other, and exactly one says
    it is on paper (紙, 手書き, Excel): the 二重入力 of V05, in which a town
    writes a ledger or form by hand and keys the same into the system.
    """
    if mine.lanes[u] != mine.lanes[v] or v not in mine.act_neighbours[u]:
        return False
    lab_u, lab_v = mine.labels[u], mine.labels[v]
    if not (_is_entry(lab_u, glossary) and _is_entry(lab_v, glossary)):
        return False
    paper_u = _says(lab_u, PAPER_WORDS) or mine.mediums[u] == "paper"
    paper_v = _says(lab_v, PAPER_WORDS) or mine.mediums[v] == "paper"
    if paper_u == paper_v:
        return False
    # of the same thing: a word of what is recorded in both labels
    return bool(_object_words(lab_u, glossary) & _object_words(lab_v, glossary))


def _object_words(label: Label, glossary: Glossary) -> set[str]:
    """The words of a label that name what is handled, not how."""
    return {
        t
        for t in label.tokens
        if not any(w in t.lower() for w in (*PAPER_WORDS, *MEDIUM_WORDS))
        and ENTRY_CONCEPT not in glossary.concepts(t)
        and t not in ENTRY_WORDS
    }


def _grow(
    groups: list[tuple[list[int], list[int], float]],
    mine: _Side,
    theirs: _Side,
    label: np.ndarray,
    glossary: Glossary,
    weights: dict[str, float],
) -> None:
    """Add unmatched activities of ``mine`` to groups: the 1:n pairs.

    ``groups`` hold (mine, theirs, score); ``label`` is the label similarity
    with rows for ``mine``. Following the 1:n correspondences of Weidlich,
    Dijkman and Mendling (ICoP, 2010), a group is a fragment of adjacent
    steps whose joint wording answers one step of the other flow. An
    unmatched activity ``u`` joins the group of step ``y`` (a single node)
    when

    * **its words add to the group's**: ``u``'s label similarity with ``y``
      is at least :data:`GROUP_RATIO` times its best with any activity of
      the other flow, and ``u`` covers words of ``y`` that the group does
      not (a gain of at least :data:`MIN_GAIN` of ``y``'s words) — 受付 +
      資格確認 ↔ 受付・資格確認. ``u`` must be next to the group, or reach
      it over steps in no pair; when ``y`` says it does several things at
      once (:data:`MERGE_WORDS`: 支出負担行為**兼**支出命令書, 訪問調査
      (日程調整を**含む**)) its remark counts and ``u`` may be anywhere, as
      it may when ``u`` says it is done in a batch (:data:`BATCH_WORDS`)
      and ``y`` lists actions (:data:`LIST_MARK`), is ``u``'s best
      counterpart and covers :data:`ABSORBED` of ``u``'s words (the
      本登録 of 決裁・本登録 moved to a nightly batch, V06). Over steps in no
      pair, ``y`` must be ``u``'s best counterpart;
    * **it is the other half of a double entry**: ``u`` and a member record
      the same in one lane, one on paper and one in the system
      (:func:`_double_entry`, V05).
    """
    acts = np.array([k == "activity" for k in theirs.kinds], dtype=bool)
    taken = {i for g in groups for i in g[0]}
    merging = [_says(lab, MERGE_WORDS) for lab in theirs.labels]
    listing = [LIST_MARK in lab.core for lab in theirs.labels]
    batched = [_says(lab, BATCH_WORDS) for lab in mine.labels]
    changed = True
    while changed:
        changed = False
        for u in range(len(mine.order)):
            if u in taken or mine.kinds[u] != "activity" or not mine.labels[u].tokens:
                continue
            best_label = float(label[u][acts].max()) if acts.any() else 0.0
            direct, reached = _near(mine, u, taken)
            best: tuple[float, int, float] | None = None
            for gi, (own, other, _) in enumerate(groups):
                if len(other) != 1:
                    continue
                y = other[0]
                if label[u, y] < max(GROUP_RATIO * best_label, 0.15):
                    continue
                if any(_double_entry(mine, u, v, glossary) for v in own):
                    rank = gain = 0.0
                else:
                    # far from the group, y must be u's best counterpart and
                    # say that it does several things
                    its_best = label[u, y] >= best_label
                    far_ok = merging[y] or (
                        its_best
                        and listing[y]
                        and batched[u]
                        and _covers(theirs.labels[y], mine.labels[u], glossary, weights)
                    )
                    if not (
                        direct & set(own) or (its_best and reached & set(own)) or far_ok
                    ):
                        continue
                    gain = _gain(
                        mine, own, u, theirs.labels[y], merging[y], glossary, weights
                    )
                    if gain < MIN_GAIN:
                        continue
                    rank = gain
                if best is None or rank > best[0]:
                    best = (rank, gi, gain)
            if best is not None:
                own, other, score = groups[best[1]]
                joined = float(label[u, other[0]]) + best[2]
                score = (score * len(own) + min(joined, 1.0)) / (len(own) + 1)
                groups[best[1]] = (sorted([*own, u]), other, score)
                taken.add(u)
                changed = True


def _covers(
    label: Label, other: Label, glossary: Glossary, weights: dict[str, float]
) -> bool:
    """True when ``label`` covers :data:`ABSORBED` of ``other``'s words."""
    cov, _ = coverage_matrix([other], [label], glossary, weights=weights)
    return float(cov[0, 0]) >= ABSORBED


def _gain(
    mine: _Side,
    own: list[int],
    u: int,
    target: Label,
    remark: bool,
    glossary: Glossary,
    weights: dict[str, float],
) -> float:
    """Share of ``target``'s words that ``u`` covers and group ``own`` does not.

    The step's own words count, not its parenthesised remark, unless
    ``remark`` (the remark says what the step takes in).
    """
    before = _merged([mine.labels[i] for i in own])
    after = _merged([mine.labels[i] for i in sorted([*own, u])])
    if not remark:
        target = replace(target, aside=())
    _, cov = coverage_matrix([before, after], [target], glossary, weights=weights)
    return float(cov[1, 0] - cov[0, 0])


def confidence(similarity: float) -> float:
    """The confidence reported for a raw similarity (see :data:`CALIBRATION`).

    Examples
    --------
    >>> confidence(0.35), confidence(1.0), confidence(0.0)
    (0.5, 1.0, 0.0)
    """
    return round(float(similarity) ** _EXPONENT, 4)


def _fill_gaps(
    pairs: list[tuple[int, int, float]],
    a: _Side,
    b: _Side,
    scores: PairScores,
    threshold: float,
) -> list[tuple[int, int, float]]:
    """Pair unmatched activities that sit between the same matched steps.

    An unmatched activity of ``a`` whose activity predecessors and
    successors are matched, and an unmatched activity of ``b`` that follows
    one of those predecessors' counterparts and precedes one of those
    successors' counterparts, are paired when their similarity reaches
    :data:`GAP_FACTOR` times the threshold: the surrounding pairs vouch for
    them. Candidates are assigned with the same margin rule as
    :func:`_assign`.
    """
    floor = GAP_FACTOR * threshold ** (1.0 / _EXPONENT)
    of_a = {i: j for i, j, _ in pairs}
    of_b = {j: i for i, j, _ in pairs}

    def anchors(
        side: _Side, node: int, step: list[list[int]], done: dict[int, int]
    ) -> set[int]:
        """Matched activities first met walking from ``node`` along ``step``."""
        found: set[int] = set()
        stack, seen = list(step[node]), {node}
        while stack:
            k = stack.pop()
            if k in seen:
                continue
            seen.add(k)
            if side.kinds[k] == "activity" and k in done:
                found.add(k)
            elif side.kinds[k] in ("activity", "gateway"):
                stack.extend(step[k])
        return found

    open_b = [
        (v, anchors(b, v, b.preds, of_b), anchors(b, v, b.succs, of_b))
        for v in range(len(b.order))
        if v not in of_b and b.kinds[v] == "activity"
    ]
    candidates: list[tuple[int, int]] = []
    for u in range(len(a.order)):
        if u in of_a or a.kinds[u] != "activity":
            continue
        before = {of_a[p] for p in anchors(a, u, a.preds, of_a)}
        after = {of_a[q] for q in anchors(a, u, a.succs, of_a)}
        if not before or not after:
            continue
        for v, v_before, v_after in open_b:
            if (
                before & v_before
                and after & v_after
                and scores.compatible[u, v]
                and scores.label[u, v] >= GAP_MIN_LABEL
                and scores.combined[u, v] >= floor
            ):
                candidates.append((u, v))
    if not candidates:
        return pairs
    rows = sorted({u for u, _ in candidates})
    cols = sorted({v for _, v in candidates})
    weight = np.zeros((len(rows), len(cols)))
    for u, v in candidates:
        weight[rows.index(u), cols.index(v)] = scores.combined[u, v] - floor + EPSILON
    picked_rows, picked_cols = linear_sum_assignment(weight, maximize=True)
    extra = [
        (rows[r], cols[c], float(scores.combined[rows[r], cols[c]]))
        for r, c in zip(picked_rows, picked_cols, strict=True)
        if weight[r, c] > 0
    ]
    return pairs + extra


def solve(
    a: Flow,
    b: Flow,
    glossary: Glossary,
    *,
    threshold: float,
    structure: float,
    iterations: int,
    one_to_many: bool,
) -> list[Correspondence]:
    """Correspondences between ``a`` and ``b`` (see :func:`harpflow.match.match`)."""
    side_a, side_b = _side(a), _side(b)
    scores = pair_scores(
        side_a, side_b, glossary, structure=structure, iterations=iterations
    )
    pairs = _fill_gaps(_assign(scores, threshold), side_a, side_b, scores, threshold)
    groups: list[tuple[list[int], list[int], float]] = [
        ([i], [j], s) for i, j, s in pairs
    ]
    if one_to_many:
        # the gain of a group is a share of the counterpart's words, each
        # word counting the same
        weights = dict.fromkeys(idf_weights([*side_a.labels, *side_b.labels]), 1.0)
        _grow(groups, side_a, side_b, scores.label, glossary, weights)
        flipped = [(gb, ga, s) for ga, gb, s in groups]
        _grow(flipped, side_b, side_a, scores.label.T, glossary, weights)
        groups = [(ga, gb, s) for gb, ga, s in flipped]
    return [
        Correspondence(
            tuple(sorted(side_a.order[i] for i in ga)),
            tuple(sorted(side_b.order[j] for j in gb)),
            confidence(score),
        )
        for ga, gb, score in groups
    ]
