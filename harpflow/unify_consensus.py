"""Consensus edits of a medoid: the steps' wording and the judge of edits.

Without a standard, :func:`harpflow.unify.unify` starts from the medoid
town, the *set median* of the towns' flows, and moves it towards their
*generalised median*, the flow whose summed distance to all of them is
smallest [1]_. Computing that median exactly is intractable for graphs;
Jiang, Münger and Bunke [1]_ search for it from the set median by edits
that each lower the summed distance, and this module supplies two parts
of that search:

- :func:`consensus_labels` words each step as most towns word it: among
  the labels the towns give the step (their counterparts under the
  alignment to the medoid), the one with the largest summed similarity to
  all of them, the median string of the labels [2]_. This is how a
  reference model mined from variants takes its activities' names from the
  variants that agree [3]_, and it leaves the medoid town's own wording
  when that is already the most shared;
- :class:`Judge` accepts a candidate edit only when the towns' mean
  divergence (:func:`harpflow.score.score`) from the candidate is lower
  than from the flow accepted last, so every accepted edit brings the
  result closer to the generalised median.

References
----------
.. [1] X. Jiang, A. Münger and H. Bunke, "On median graphs: properties,
   algorithms, and applications", IEEE Transactions on Pattern Analysis
   and Machine Intelligence 23(10), 2001, pp. 1144-1151.
.. [2] T. Kohonen, "Median strings", Pattern Recognition Letters 3(5),
   1985, pp. 309-313.
.. [3] C. Li, M. Reichert and A. Wombacher, "The MinAdept clustering
   approach for discovering reference process models out of process
   variants", International Journal of Cooperative Information Systems
   19(3-4), 2010, pp. 159-203.

Examples
--------
>>> from harpflow.glossary import default_glossary
>>> from harpflow.match import match
>>> from harpflow.model import Flow
>>> from harpflow.unify_build import TownView
>>> def chain(label):
...     f = Flow()
...     for n, t, x in [("s", "startEvent", ""), ("a", "task", label),
...                     ("b", "task", "審査"), ("e", "endEvent", "")]:
...         _ = f.add_node(n, type=t, label=x)
...     for u, v in [("s", "a"), ("a", "b"), ("b", "e")]:
...         _ = f.add_edge(u, v)
...     return f
>>> base = chain("申請書受付")
>>> towns = [base, chain("申請の受付"), chain("申請の受付")]
>>> views = [TownView.of(str(i), f, match(base, f)) for i, f in enumerate(towns)]
>>> consensus_labels(base, views, ["a", "b"], default_glossary())
[('a', '申請書受付', '申請の受付')]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from harpflow.flowcache import comparison
from harpflow.glossary import Glossary
from harpflow.model import Flow
from harpflow.unify_build import TownView, flow_order, rebuild

__all__ = ["Judge", "consensus_labels"]


def consensus_labels(
    flow: Flow,
    towns: Sequence[TownView],
    steps: Iterable[str],
    glossary: Glossary,
) -> list[tuple[str, str, str]]:
    """The median wording of each step among the towns that perform it.

    For every step of ``steps`` that has a label, the candidates are its
    own label and its counterparts' labels in the towns; each town that
    performs the step scores a candidate by its best similarity to the
    town's counterparts (:func:`harpflow.score.pair_similarity`). The
    candidate with the highest total is chosen, the step's own label on
    ties, then the first in sorted order. ``flow`` is not changed.

    Returns
    -------
    list of (step, label, median label)
        The steps whose median label differs from their own, in the order
        of ``steps``.
    """
    from harpflow.score import pair_similarities

    out: list[tuple[str, str, str]] = []
    for b in steps:
        own = str(flow.graph.nodes[b].get("label") or "")
        if not own.strip():
            continue
        voters = [
            labels
            for t in towns
            if (
                labels := [
                    str(t.flow.graph.nodes[x].get("label") or "")
                    for x in t.counterparts.get(b, ())
                ]
            )
        ]
        candidates = sorted({x for vs in voters for x in vs if x.strip()} | {own})
        if len(candidates) < 2:
            continue
        pairs = sorted({(c, x) for c in candidates for vs in voters for x in vs})
        sim = dict(zip(pairs, pair_similarities(pairs, glossary), strict=True))

        totals = {
            c: math.fsum(max(sim[c, x] for x in vs) for vs in voters)
            for c in candidates
        }
        best = max(candidates, key=lambda c: (round(totals[c], 9), c == own))
        if best != own and totals[best] > totals[own] + 1e-9:
            out.append((b, own, best))
    return out


class Judge:
    """Accepts a candidate flow only when the towns' mean divergence from it
    is lower than from the flow accepted last.

    The first reference is the base with the towns' own alignments to it
    (so the medoid town counts as at distance 0 from itself); candidates
    are scored as :meth:`harpflow.unify.Recommendation.fit_gap` scores the
    result, on a fresh matching. ``mean`` is the last accepted mean.
    """

    def __init__(self, base: Flow, views: Sequence[TownView], gloss: Glossary) -> None:
        from harpflow.score import score

        self.views = views
        self.gloss = gloss
        self.mean = math.fsum(
            score(base, v.flow, matching=v.matching, glossary=gloss).total
            for v in views
        ) / max(1, len(views))

    def __call__(self, flow: Flow) -> bool:
        from harpflow.score import score

        candidate = rebuild(flow, flow_order(flow))
        with comparison():  # the candidate's profile once for all towns
            total = math.fsum(
                score(candidate, v.flow, glossary=self.gloss).total for v in self.views
            )
        mean = total / max(1, len(self.views))
        if mean < self.mean - 1e-9:
            self.mean = mean
            return True
        return False
