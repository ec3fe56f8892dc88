"""Step correspondences between two flows.

:func:`match` says which node of one flow is which node of the other. It
follows the classic pipeline of process model matchers [1]_ [2]_ [3]_:

1. **similarity of each node pair** (:mod:`harpflow.similarity`): label
   similarity over normalised tokens and glossary clusters, node-type
   compatibility, lane and relative position;
2. **neighbourhood propagation**: the pair similarity is mixed with the
   similarity of the pairs' predecessors and successors and recomputed a
   few times, a bounded form of similarity flooding [4]_ in the spirit of
   the structural similarity of Dijkman et al. [1]_ (a neighbour pair counts
   with its best counterpart, so a flow matched with itself keeps 1.0);
3. **global assignment**: a maximum-weight one-to-one assignment over the
   pairs above the threshold (Hungarian method, scipy's
   ``linear_sum_assignment``), rather than greedy picking; each pair earns
   its margin over the threshold, so two weak pairs do not outweigh one
   strong pair;
4. **gap filling**: a leftover step of each flow that sits between the same
   matched steps is paired at a lower bar (the surrounding pairs vouch for
   it), as in the anchor-based matchers of the contests [3]_;
5. **one-to-many groups**: an unmatched step joins the group of an
   *adjacent* step (through gateways and intermediate events, or over
   steps in no pair) when its words are covered by that step's
   counterpart and add to it (受付・資格確認 ↔ 受付 + 資格確認), the 1:n
   correspondences of ICoP [5]_ that the contest gold standards allow
   [3]_. A counterpart that says it does several things at once
   (支出負担行為兼支出命令書, 訪問調査（日程調整を含む）) or lists actions
   (決裁・本登録) may gather steps from further away; a paper entry and a
   system entry of the same thing in one lane form a group (二重入力).

The result is deterministic and symmetric: ``match(b, a)`` equals
``match(a, b).swapped()``. Both orders are computed in one canonical
orientation, chosen from the flows' content, so floating-point ties cannot
break differently. A flow matched with itself pairs every node with itself
at score 1.0; ids and diagram layout play no part.

Examples
--------
>>> from harpflow.model import Flow
>>> from harpflow.match import match
>>> a, b = Flow("a"), Flow("b")
>>> for n, lab in [("1", "申請書の受付"), ("2", "審査"), ("3", "決裁")]:
...     _ = a.add_node(n, label=lab)
>>> for n, lab in [("x", "受理"), ("y", "内容確認"), ("z", "課長決裁")]:
...     _ = b.add_node(n, label=lab)
>>> for f, (p, q, r) in ((a, "123"), (b, "xyz")):
...     _ = f.add_edge(p, q); _ = f.add_edge(q, r)
>>> m = match(a, b)
>>> [(c.a, c.b) for c in m.pairs]
[(('1',), ('x',)), (('2',), ('y',)), (('3',), ('z',))]
>>> match(b, a) == m.swapped()
True

Notes
-----
Exact ties (two nodes indistinguishable by label, type, lane, position and
neighbourhood) are broken in favour of nodes at similar places in the
flows' node order. A group grows on one side only: no many-to-many
groups, so a step done both at the main office and at a branch (two
town steps for one standard step, each also covering another) keeps
one-to-one pairs.

References
----------
.. [1] R. Dijkman, M. Dumas, L. García-Bañuelos, "Graph matching algorithms
   for business process model similarity search", BPM 2009, LNCS 5701,
   pp. 48-63.
.. [2] H. Leopold, M. Niepert, M. Weidlich, J. Mendling, R. Dijkman,
   H. Stuckenschmidt, "Probabilistic optimization of semantic process model
   matching", BPM 2012, LNCS 7481, pp. 319-334.
.. [3] G. Antunes, M. Bakhshandeh, J. Borbinha, J. Cardoso, S. Dadashnia et
   al., "The process model matching contest 2015", EMISA 2015, LNI P-248,
   pp. 127-155.
.. [4] S. Melnik, H. Garcia-Molina, E. Rahm, "Similarity flooding: a
   versatile graph matching algorithm and its application to schema
   matching", ICDE 2002, pp. 117-128.
.. [5] M. Weidlich, R. Dijkman, J. Mendling, "The ICoP framework:
   identification of correspondences between process models", CAiSE 2010,
   LNCS 6051, pp. 483-498.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harpflow.errors import MatchError
from harpflow.glossary import Glossary, default_glossary
from harpflow.model import Flow

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Correspondence", "Matching", "match"]


@dataclass(frozen=True)
class Correspondence:
    """Nodes of flow ``a`` that correspond to nodes of flow ``b``.

    Attributes
    ----------
    a, b : tuple of str
        Node ids, sorted; more than one on a side for a one-to-many pair.
    score : float
        Confidence in [0, 1].
    """

    a: tuple[str, ...]
    b: tuple[str, ...]
    score: float

    def swapped(self) -> Correspondence:
        """The same correspondence seen from the other flow."""
        return Correspondence(self.b, self.a, self.score)

    def member_pairs(self) -> list[tuple[str, str]]:
        """Every (a id, b id) pair the correspondence stands for."""
        return [(x, y) for x in self.a for y in self.b]


class Matching:
    """The correspondences between two flows.

    Parameters
    ----------
    a, b : Flow
        The flows matched.
    pairs : sequence of Correspondence
        Sorted here by the position of their first ``a`` node in ``a``.

    Notes
    -----
    Two matchings are equal when their pairs are equal; the flows are not
    compared.
    """

    def __init__(self, a: Flow, b: Flow, pairs: Sequence[Correspondence]) -> None:
        self.a = a
        self.b = b
        pos = {n: i for i, n in enumerate(a.nodes)}
        self.pairs: tuple[Correspondence, ...] = tuple(
            sorted(pairs, key=lambda c: (min(pos.get(x, -1) for x in c.a), c.a, c.b))
        )
        self._by_a = {x: c for c in self.pairs for x in c.a}
        self._by_b = {y: c for c in self.pairs for y in c.b}

    def pair_of_a(self, node_id: str) -> Correspondence | None:
        """The correspondence holding node ``node_id`` of ``a``, or None."""
        return self._by_a.get(node_id)

    def pair_of_b(self, node_id: str) -> Correspondence | None:
        """The correspondence holding node ``node_id`` of ``b``, or None."""
        return self._by_b.get(node_id)

    def unmatched_a(self) -> list[str]:
        """Ids of ``a``'s nodes (of any kind) in no pair, in flow order."""
        return [n for n in self.a.nodes if n not in self._by_a]

    def unmatched_b(self) -> list[str]:
        """Ids of ``b``'s nodes (of any kind) in no pair, in flow order."""
        return [n for n in self.b.nodes if n not in self._by_b]

    def member_pairs(self) -> set[tuple[str, str]]:
        """Every (a id, b id) pair, one-to-many pairs split into members."""
        return {p for c in self.pairs for p in c.member_pairs()}

    def swapped(self) -> Matching:
        """The matching seen from ``b``: ``match(b, a)`` gives the same."""
        return Matching(self.b, self.a, [c.swapped() for c in self.pairs])

    def _label(self, flow: Flow, ids: Sequence[str]) -> str:
        order = {n: i for i, n in enumerate(flow.nodes)}
        ordered = sorted(ids, key=lambda n: order.get(n, -1))
        return " + ".join(flow.nodes[n].label for n in ordered)

    def to_dict(self) -> dict[str, Any]:
        """``{"pairs": [{"a": [...], "b": [...], "a_label", "b_label",
        "score"}]}`` with ids as in the source files."""
        return {
            "pairs": [
                {
                    "a": list(c.a),
                    "b": list(c.b),
                    "a_label": self._label(self.a, c.a),
                    "b_label": self._label(self.b, c.b),
                    "score": c.score,
                }
                for c in self.pairs
            ]
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per correspondence: a, b, a_label, b_label, score.

        ``a`` and ``b`` hold the ids joined with ``+`` for one-to-many pairs.
        """
        import pandas as pd

        rows = self.to_dict()["pairs"]
        for row in rows:
            row["a"] = "+".join(row["a"])
            row["b"] = "+".join(row["b"])
        return pd.DataFrame(rows, columns=["a", "b", "a_label", "b_label", "score"])

    def __iter__(self) -> Iterator[Correspondence]:
        return iter(self.pairs)

    def __len__(self) -> int:
        return len(self.pairs)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Matching):
            return NotImplemented
        return self.pairs == other.pairs

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"<Matching {self.a.name or 'a'!s} ~ {self.b.name or 'b'!s}: "
            f"{len(self.pairs)} pairs>"
        )

    def _repr_html_(self) -> str:
        from harpflow.render.notebook import matching_html

        return matching_html(self)

    def _repr_svg_(self) -> str:
        from harpflow.render.notebook import matching_svg

        return matching_svg(self)


def match(
    a: Flow,
    b: Flow,
    *,
    threshold: float = 0.5,
    glossary: Glossary | None = None,
    structure: float = 0.3,
    iterations: int = 3,
    one_to_many: bool = True,
) -> Matching:
    """Match the nodes of two flows.

    Parameters
    ----------
    a, b : Flow
        The flows, e.g. a standard flow and a town's flow.
    threshold : float
        Smallest confidence of a pair (0-1). Confidence is the combined
        similarity on a calibrated scale on which 0.5 gave the best F1 on
        the development gold.
    glossary : Glossary, optional
        Synonym clusters and lane names; the bundled
        :func:`~harpflow.glossary.default_glossary` by default.
    structure : float
        Weight of the neighbourhood in the combined similarity (0-1).
    iterations : int
        Rounds of neighbourhood propagation.
    one_to_many : bool
        Form groups of adjacent steps (merges and splits).

    Returns
    -------
    Matching

    Raises
    ------
    MatchError
        On a threshold or weight outside [0, 1] or negative iterations.
    """
    from harpflow.assignment import solve

    for name, value in (("threshold", threshold), ("structure", structure)):
        if not 0.0 <= value <= 1.0:
            raise MatchError(f"{name} must be within [0, 1], not {value!r}")
    if iterations < 0:
        raise MatchError(f"iterations must be >= 0, not {iterations!r}")
    gloss = glossary if glossary is not None else default_glossary()
    flip = _flow_key(a) > _flow_key(b)
    first, second = (b, a) if flip else (a, b)
    pairs = solve(
        first,
        second,
        gloss,
        threshold=threshold,
        structure=structure,
        iterations=iterations,
        one_to_many=one_to_many,
    )
    if flip:
        pairs = [c.swapped() for c in pairs]
    return Matching(a, b, pairs)


def _flow_key(flow: Flow) -> tuple[Any, ...]:
    """A content key that orders flows; equal for flows equal up to ids."""
    order = {n: i for i, n in enumerate(flow.graph.nodes)}
    nodes = tuple(
        (
            str(d["type"]),
            str(d.get("label") or ""),
            str(d.get("lane") or ""),
            str(d.get("pool") or ""),
        )
        for _, d in flow.graph.nodes(data=True)
    )
    edges = tuple(
        sorted(
            (order[u], order[v], str(d.get("kind", "sequence")))
            for u, v, d in flow.graph.edges(data=True)
        )
    )
    return (len(nodes), nodes, edges)
