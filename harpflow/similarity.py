"""Pairwise node similarity between two flows, as matrices.

The matcher (:mod:`harpflow.match`) compares every node of one flow with
every node of the other. This module computes the parts of that comparison
that look at one node pair at a time:

* **label similarity**: a weighted soft overlap of the normalised tokens
  (:func:`harpflow.text.normalise`) in which two tokens agree fully when
  equal, largely when they share a coarse glossary cluster (受付 ≈ 受理,
  check ≈ verify), and partly when they are spelled alike (a typo, a
  variant); tokens are weighted by inverse document frequency over the
  labels of both flows, so that words every step shares (確認, claim) count
  less. It is combined with a character similarity of the normalised texts
  (Levenshtein ratio), which catches compounds the tokenizer splits
  differently. This follows the bag-of-words label similarity of
  Klinkmüller et al. [1]_ and the synonym-aware word similarity of
  Leopold et al. [2]_, with a domain glossary in place of WordNet.
* **type, lane and position similarity**: node kinds must be compatible
  (activities with activities, start with start events, gateways with
  gateways); lanes are compared through their canonical glossary name;
  position is the node's relative depth from the start.

All functions here are pure and vectorised with numpy and rapidfuzz's
``cdist``, so two 100-step flows compare in milliseconds.

References
----------
.. [1] C. Klinkmüller, I. Weber, J. Mendling, H. Leopold, A. Ludwig,
   "Increasing recall of process model matching by improved activity label
   matching", BPM 2013, LNCS 8094, pp. 211-218.
.. [2] H. Leopold, M. Niepert, M. Weidlich, J. Mendling, R. Dijkman,
   H. Stuckenschmidt, "Probabilistic optimization of semantic process model
   matching", BPM 2012, LNCS 7481, pp. 319-334.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from harpflow.glossary import Glossary
from harpflow.model import ACTIVITY_TYPES, GATEWAY_TYPES, Flow
from harpflow.text import Label

__all__ = [
    "SYNONYM_SIMILARITY",
    "coverage_matrix",
    "depth",
    "idf_weights",
    "kind_of",
    "label_similarity",
    "lane_similarity",
    "position_similarity",
    "token_similarity",
    "type_similarity",
]

#: Similarity of two different tokens that share a coarse glossary cluster.
SYNONYM_SIMILARITY = 0.85
#: Similarity of two different tokens that share a fine glossary group.
FINE_SIMILARITY = 0.92
#: Weight of a token of a parenthesised remark relative to the step's own.
ASIDE_WEIGHT = 0.25
_BLOCK = 128  # rows per block in the gathers of _covered
#: Spelling similarity (Levenshtein ratio) from which two tokens count as
#: variants of one word; below it they count as different words.
SPELLING_FLOOR = 0.8


def kind_of(node_type: str) -> str:
    """The compatibility class of a BPMN node type.

    Examples
    --------
    >>> kind_of("userTask"), kind_of("startEvent"), kind_of("parallelGateway")
    ('activity', 'start', 'gateway')
    """
    if node_type in ACTIVITY_TYPES:
        return "activity"
    if node_type in GATEWAY_TYPES:
        return "gateway"
    if node_type == "startEvent":
        return "start"
    if node_type == "endEvent":
        return "end"
    return "intermediate"


def token_similarity(
    vocab_a: Sequence[str], vocab_b: Sequence[str], glossary: Glossary
) -> np.ndarray:
    """Similarity of every token of ``vocab_a`` with every one of ``vocab_b``.

    1 for equal tokens, :data:`SYNONYM_SIMILARITY` for tokens in one coarse
    glossary cluster, a scaled spelling similarity for close spellings, and
    0 otherwise.

    Examples
    --------
    >>> from harpflow.glossary import default_glossary
    >>> token_similarity(["受け付け", "check"], ["受理", "verifi"],
    ...                  default_glossary()).round(2).tolist()
    [[0.85, 0.0], [0.0, 0.92]]
    """
    if not vocab_a or not vocab_b:
        return np.zeros((len(vocab_a), len(vocab_b)))
    shape = (len(vocab_a), len(vocab_b))
    # Equal tokens: the spelling similarity is 1 exactly when they are equal.
    code: dict[str, int] = {}
    code_a = np.array([code.setdefault(t, len(code)) for t in vocab_a])
    code_b = np.array([code.get(t, -1) for t in vocab_b])
    equal = (code_a[:, None] == code_b[None, :]).astype(float)
    # Only long enough words may count as misspellings of each other, so
    # the spelling similarity is needed among those alone.
    typo = np.zeros(shape)
    long_a = [i for i, t in enumerate(vocab_a) if len(t) >= 4]
    long_b = [j for j, t in enumerate(vocab_b) if len(t) >= 4]
    if long_a and long_b:
        spell = process.cdist(
            [vocab_a[i] for i in long_a],
            [vocab_b[j] for j in long_b],
            scorer=Levenshtein.normalized_similarity,
            dtype=np.float64,
        )
        typo[np.ix_(long_a, long_b)] = np.where(
            spell >= SPELLING_FLOOR, SYNONYM_SIMILARITY * spell, 0.0
        )
    synonym = np.zeros(shape)
    members_b: dict[str, list[int]] = {}
    for j, t in enumerate(vocab_b):
        for c in glossary.concepts(t):
            members_b.setdefault(c, []).append(j)
    if members_b:
        rows: list[int] = []
        cols: list[int] = []
        for i, t in enumerate(vocab_a):
            found = {j for c in glossary.concepts(t) for j in members_b.get(c, ())}
            rows += [i] * len(found)
            cols += found
        synonym[rows, cols] = SYNONYM_SIMILARITY
        # words interchangeable even at the fine level agree more
        head: dict[str, int] = {}
        fine_a = np.array(
            [head.setdefault(glossary.canonical(t, "fine"), len(head)) for t in vocab_a]
        )
        fine_b = np.array(
            [head.setdefault(glossary.canonical(t, "fine"), len(head)) for t in vocab_b]
        )
        same_fine = (fine_a[:, None] == fine_b[None, :]) & (synonym > 0)
        synonym = np.where(same_fine, FINE_SIMILARITY, synonym)
    result: np.ndarray = np.maximum(np.maximum(typo, synonym), equal)
    return result


def _words(label: Label) -> set[str]:
    return set(label.tokens) | set(label.aside)


def _sparse(
    labels: Sequence[Label], vocab: dict[str, int], weight: dict[str, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Token indices (padded with ``len(vocab)``) and normalised weights.

    Tokens of the parenthesised aside count :data:`ASIDE_WEIGHT` as much.
    """
    words = [sorted(_words(lab)) for lab in labels]
    width = max((len(w) for w in words), default=0) or 1
    pad = len(vocab)
    index_rows: list[list[int]] = []
    weight_rows: list[list[float]] = []
    for label, row in zip(labels, words, strict=True):
        own = set(label.tokens)
        fill = width - len(row)
        index_rows.append([vocab[t] for t in row] + [pad] * fill)
        weight_rows.append(
            [weight[t] * (1.0 if t in own else ASIDE_WEIGHT) for t in row]
            + [0.0] * fill
        )
    index = np.array(index_rows, dtype=np.intp).reshape(len(labels), width)
    weights = np.array(weight_rows, dtype=float).reshape(len(labels), width)
    total = weights.sum(axis=1)[:, None]
    np.divide(weights, total, out=weights, where=total > 0)
    return index, weights


def _covered(
    tsim: np.ndarray,
    index_a: np.ndarray,
    weights_a: np.ndarray,
    index_b: np.ndarray,
) -> np.ndarray:
    """Weighted share of each A label's tokens found in each B label.

    Works in row blocks so that large flows do not build huge arrays.
    """
    size_b = index_b.shape[0]
    padded = np.concatenate([tsim, np.zeros((tsim.shape[0], 1))], axis=1)
    best = np.zeros((tsim.shape[0] + 1, size_b))  # last row: padding
    for start in range(0, tsim.shape[0], _BLOCK):
        block = padded[start : start + _BLOCK]
        best[start : start + block.shape[0]] = block[:, index_b].max(axis=2)
    result = np.zeros((index_a.shape[0], size_b))
    for start in range(0, index_a.shape[0], _BLOCK):
        rows = slice(start, start + _BLOCK)
        gathered = best[index_a[rows]] * weights_a[rows][:, :, None]
        result[rows] = gathered.sum(axis=1)
    return result


def coverage_matrix(
    labels_a: Sequence[Label],
    labels_b: Sequence[Label],
    glossary: Glossary,
    *,
    weights: dict[str, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """How much of each label's tokens the other label covers.

    Returns ``(cov_ab, cov_ba)``: ``cov_ab[i, j]`` is the weighted share of
    the tokens of ``labels_a[i]`` that find a counterpart in
    ``labels_b[j]`` (each token counting with its best match), and
    ``cov_ba[i, j]`` the share of ``labels_b[j]``'s tokens covered by
    ``labels_a[i]``. Token weights default to inverse document frequency
    over both label lists.
    """
    vocab_a = sorted({t for lab in labels_a for t in _words(lab)})
    vocab_b = sorted({t for lab in labels_b for t in _words(lab)})
    if weights is None:
        weights = idf_weights([*labels_a, *labels_b])
    if not labels_a or not labels_b:
        empty = np.zeros((len(labels_a), len(labels_b)))
        return empty, empty.copy()
    tsim = token_similarity(vocab_a, vocab_b, glossary)
    index_a, weights_a = _sparse(
        labels_a, {t: i for i, t in enumerate(vocab_a)}, weights
    )
    index_b, weights_b = _sparse(
        labels_b, {t: i for i, t in enumerate(vocab_b)}, weights
    )
    cov_ab = _covered(tsim, index_a, weights_a, index_b)
    cov_ba = _covered(tsim.T, index_b, weights_b, index_a).T
    return cov_ab, cov_ba


def idf_weights(labels: Sequence[Label]) -> dict[str, float]:
    """Inverse document frequency of each token over a list of labels.

    Examples
    --------
    >>> from harpflow.text import normalise
    >>> w = idf_weights([normalise(x) for x in ("受付", "受付審査", "決裁")])
    >>> w["受け付け"] < w["決裁"]
    True
    """
    df: dict[str, int] = {}
    for label in labels:
        for t in _words(label):
            df[t] = df.get(t, 0) + 1
    n = max(len(labels), 1)
    return {t: math.log(1.0 + n / d) for t, d in sorted(df.items())}


def label_similarity(
    labels_a: Sequence[Label],
    labels_b: Sequence[Label],
    glossary: Glossary,
    *,
    char_weight: float = 0.3,
) -> np.ndarray:
    """Label similarity of every pair, in [0, 1].

    The mean of both coverages (:func:`coverage_matrix`) mixed with the
    Levenshtein ratio of the normalised texts (weight ``char_weight``). Two
    empty labels are fully similar; an empty and a non-empty one score 0.5
    (nothing is known).

    Examples
    --------
    >>> from harpflow.glossary import default_glossary
    >>> from harpflow.text import normalise
    >>> a = [normalise("申請書の受付"), normalise("決裁")]
    >>> b = [normalise("申請書を受理する"), normalise("課長決裁")]
    >>> label_similarity(a, b, default_glossary()).round(2).tolist()
    [[0.86, 0.0], [0.0, 0.64]]
    """
    cov_ab, cov_ba = coverage_matrix(labels_a, labels_b, glossary)
    token = (cov_ab + cov_ba) / 2.0
    texts_a = [(lab.core or lab.text).replace(" ", "") for lab in labels_a]
    texts_b = [(lab.core or lab.text).replace(" ", "") for lab in labels_b]
    if texts_a and texts_b:
        chars = process.cdist(
            texts_a,
            texts_b,
            scorer=Levenshtein.normalized_similarity,
            dtype=np.float64,
        )
    else:
        chars = np.zeros((len(texts_a), len(texts_b)))
    sim = (1.0 - char_weight) * token + char_weight * chars
    empty_a = np.array([not _words(lab) for lab in labels_a], dtype=bool)[:, None]
    empty_b = np.array([not _words(lab) for lab in labels_b], dtype=bool)[None, :]
    sim = np.where(empty_a & empty_b, np.where(chars == 1.0, 1.0, 0.5), sim)
    sim = np.where(empty_a ^ empty_b, 0.5 * chars, sim)
    result: np.ndarray = np.clip(sim, 0.0, 1.0)
    return result


def type_similarity(types_a: Sequence[str], types_b: Sequence[str]) -> np.ndarray:
    """1 for equal types, 0.5 for compatible ones, 0 for incompatible ones.

    Compatible means of one :func:`kind_of` class (a userTask and a
    manualTask; an exclusive and a parallel gateway).
    """
    ta = np.array(list(types_a), dtype=object)[:, None]
    tb = np.array(list(types_b), dtype=object)[None, :]
    ka = np.array([kind_of(t) for t in types_a], dtype=object)[:, None]
    kb = np.array([kind_of(t) for t in types_b], dtype=object)[None, :]
    result: np.ndarray = np.where(ka == kb, np.where(ta == tb, 1.0, 0.5), 0.0)
    return result.reshape(len(types_a), len(types_b))


def lane_similarity(
    lanes_a: Sequence[str | None], lanes_b: Sequence[str | None], glossary: Glossary
) -> np.ndarray:
    """1 for lanes with one canonical name, 0 for different ones.

    Two nodes without a lane count as alike (1); a node with a lane and one
    without score 0.5 (nothing is known).
    """
    ca = np.array([glossary.lane(x) if x else "" for x in lanes_a], dtype=object)
    cb = np.array([glossary.lane(x) if x else "" for x in lanes_b], dtype=object)
    known_a = (ca != "")[:, None]
    known_b = (cb != "")[None, :]
    same = ca[:, None] == cb[None, :]
    result: np.ndarray = np.where(
        known_a & known_b, same.astype(float), np.where(known_a | known_b, 0.5, 1.0)
    )
    return result.reshape(len(lanes_a), len(lanes_b))


def depth(flow: Flow, order: Sequence[str]) -> np.ndarray:
    """Relative depth of each node: shortest sequence-flow distance from a
    start (a node without predecessors), divided by the largest such
    distance; 0.5 for nodes no start reaches."""
    succ: dict[str, list[str]] = {n: [] for n in order}
    has_pred: set[str] = set()
    for u, v, data in flow.graph.edges(data=True):
        if data.get("kind", "sequence") == "sequence":
            succ[u].append(v)
            has_pred.add(v)
    frontier = [n for n in order if n not in has_pred]
    dist = dict.fromkeys(frontier, 0)
    while frontier:
        nxt: list[str] = []
        for n in frontier:
            for m in succ[n]:
                if m not in dist:
                    dist[m] = dist[n] + 1
                    nxt.append(m)
        frontier = nxt
    top = max(dist.values(), default=0) or 1
    return np.array([dist[n] / top if n in dist else 0.5 for n in order])


def position_similarity(pos_a: np.ndarray, pos_b: np.ndarray) -> np.ndarray:
    """``1 - |depth_a - depth_b|`` for every pair."""
    result: np.ndarray = 1.0 - np.abs(pos_a[:, None] - pos_b[None, :])
    return result
