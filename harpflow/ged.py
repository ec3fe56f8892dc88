"""A node mapping of smaller graph edit distance, found by local search.

The structure component of :mod:`harpflow.score` is a graph edit
distance: deleted and inserted nodes and flows cost 1, a substituted node
``1 - similarity``. The exact distance is the least cost over every node
mapping, which takes time exponential in the size of the flows. Like the
bipartite approximations of Riesen and Bunke [1]_, harpflow takes one good
mapping -- here the matcher's, whose cost is an upper bound of the exact
distance -- and improves it by local search, as in the greedy and swap
post-processing of such a mapping [2]_ and the greedy mapping search of
Dijkman et al. [3]_:

- *swap* the counterparts of two mapped nodes;
- *move* a node onto a node of the other flow that has none;
- *take* a mapped node's counterpart for a node that has none.

Only moves that can repair a flow the mapping breaks are tried, plus
substituting each node without a counterpart for one of the other flow.
The best move is applied while it lowers the cost. A typical case is two
steps done in the other order: the matcher pairs each step with its own
counterpart, and the four flows around them are broken; substituting the
two steps for each other costs less when their labels are alike, and that
is what the exact distance counts.

The search changes only what the structure component counts; the node
component, the behaviour component and the changes of the diff keep the
matcher's pairs.

References
----------
.. [1] K. Riesen and H. Bunke, "Approximate graph edit distance
   computation by means of bipartite graph matching", Image and Vision
   Computing 27(7), 2009, pp. 950-959.
.. [2] K. Riesen and H. Bunke, "Improving bipartite graph edit distance
   approximation using various search strategies", Pattern Recognition
   48(4), 2015, pp. 1349-1363.
.. [3] R. Dijkman, M. Dumas and L. García-Bañuelos, "Graph matching
   algorithms for business process model similarity search", BPM 2009,
   LNCS 5701, pp. 48-63.

Examples
--------
Two steps swapped in a chain s -> x -> y -> e:

>>> costs = {("x", "y"): 0.4, ("y", "x"): 0.4}
>>> image = refine(
...     ["s", "x", "y", "e"], ["s", "y", "x", "e"],
...     [("s", "x"), ("x", "y"), ("y", "e")],
...     [("s", "y"), ("y", "x"), ("x", "e")],
...     {"s": "s", "x": "x", "y": "y", "e": "e"},
...     lambda u, w: 0.0 if u == w else costs.get((u, w)),
... )
>>> sorted(image.items())
[('e', 'e'), ('s', 's'), ('x', 'y'), ('y', 'x')]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

__all__ = ["edit_cost", "refine"]

#: Substitution cost of a node of ``a`` for one of ``b``, or None when the
#: two may not be substituted for each other.
SubstitutionCost = Callable[[str, str], "float | None"]

_EPS = 1e-9


class _State:
    """A mapping between two graphs and the cost of the edit it implies."""

    def __init__(
        self,
        a_nodes: Sequence[str],
        b_nodes: Sequence[str],
        a_edges: Iterable[tuple[str, str]],
        b_edges: Iterable[tuple[str, str]],
        image: dict[str, str],
        cost: SubstitutionCost,
        fixed: tuple[frozenset[str], frozenset[str]],
    ) -> None:
        self.a_nodes = list(a_nodes)
        self.b_nodes = list(b_nodes)
        self.a_edges = set(a_edges)
        self.b_edges = set(b_edges)
        self.img = dict(image)
        self.pre = {w: u for u, w in image.items()}
        self.fixed_a, self.fixed_b = fixed
        self._cost = cost
        self._memo: dict[tuple[str, str], float | None] = {}
        self.a_out: dict[str, list[str]] = {n: [] for n in self.a_nodes}
        self.a_in: dict[str, list[str]] = {n: [] for n in self.a_nodes}
        self.b_out: dict[str, list[str]] = {n: [] for n in self.b_nodes}
        self.b_in: dict[str, list[str]] = {n: [] for n in self.b_nodes}
        for u, v in sorted(self.a_edges):
            self.a_out[u].append(v)
            self.a_in[v].append(u)
        for x, y in sorted(self.b_edges):
            self.b_out[x].append(y)
            self.b_in[y].append(x)

    def sub(self, u: str, w: str) -> float | None:
        key = (u, w)
        if key not in self._memo:
            self._memo[key] = self._cost(u, w)
        return self._memo[key]

    def node_cost(self, u: str) -> float:
        """Cost of ``u``'s substitution, or 1 for its deletion."""
        w = self.img.get(u)
        if w is None:
            return 1.0
        c = self.sub(u, w)
        return 1.0 if c is None else c

    def a_broken(self, edges: Iterable[tuple[str, str]]) -> int:
        return sum(
            (self.img.get(u), self.img.get(v)) not in self.b_edges for u, v in edges
        )

    def b_broken(self, edges: Iterable[tuple[str, str]]) -> int:
        return sum(
            (self.pre.get(x), self.pre.get(y)) not in self.a_edges for x, y in edges
        )

    def total(self) -> float:
        nodes = sum(self.node_cost(u) for u in self.a_nodes)
        inserted = sum(1 for w in self.b_nodes if w not in self.pre)
        return (
            nodes + inserted + self.a_broken(self.a_edges) + self.b_broken(self.b_edges)
        )

    def delta(self, change: dict[str, str | None]) -> float | None:
        """Cost difference of remapping the ``a`` nodes of ``change`` (None:
        no counterpart), or None when a substitution is not allowed."""
        old_images = {u: self.img.get(u) for u in change}
        touched_b = {w for w in old_images.values() if w is not None}
        touched_b |= {w for w in change.values() if w is not None}
        a_edges = {(p, u) for u in change for p in self.a_in[u]}
        a_edges |= {(u, s) for u in change for s in self.a_out[u]}
        b_edges = {(p, w) for w in touched_b for p in self.b_in[w]}
        b_edges |= {(w, s) for w in touched_b for s in self.b_out[w]}
        mapped_b = sum(1 for w in touched_b if w in self.pre)
        before_nodes = sum(self.node_cost(u) for u in change)
        before_edges = self.a_broken(a_edges) + self.b_broken(b_edges)
        self._apply(change)
        after_edges = self.a_broken(a_edges) + self.b_broken(b_edges)
        after_mapped_b = sum(1 for w in touched_b if w in self.pre)
        self._apply(old_images)
        edge_delta = after_edges - before_edges
        inserted_delta = mapped_b - after_mapped_b
        # Skip the label comparisons when even perfect labels cannot pay.
        lower = edge_delta + inserted_delta - before_nodes
        if lower >= -_EPS:
            return lower
        after_nodes = 0.0
        for u, w in change.items():
            if w is None:
                after_nodes += 1.0
                continue
            c = self.sub(u, w)
            if c is None:
                return None
            after_nodes += c
        return edge_delta + inserted_delta + after_nodes - before_nodes

    def _apply(self, change: dict[str, str | None]) -> None:
        for u in change:
            w = self.img.pop(u, None)
            if w is not None and self.pre.get(w) == u:
                del self.pre[w]
        for u, w in change.items():
            if w is not None:
                self.img[u] = w
                self.pre[w] = u

    def _repairs(self, node: str, moved: str, target: str) -> list[str]:
        """The ``b`` nodes that would keep a flow of ``node`` once ``moved``
        has ``target``."""

        def image(p: str) -> str | None:
            return target if p == moved else self.img.get(p)

        out: list[str] = []
        for p in self.a_in[node]:
            x = image(p)
            if x is not None:
                out += self.b_out[x]
        for q in self.a_out[node]:
            y = image(q)
            if y is not None:
                out += self.b_in[y]
        return out

    def candidates(self) -> list[dict[str, str | None]]:
        """Moves that may repair a broken flow, and substitutions of nodes
        that have no counterpart, in a fixed order."""
        out: list[dict[str, str | None]] = []
        seen: set[tuple[tuple[str, str | None], ...]] = set()

        def add(change: dict[str, str | None]) -> None:
            key = tuple(sorted(change.items(), key=lambda kv: kv[0]))
            if key not in seen:
                seen.add(key)
                out.append(change)

        def want(u: str, w: str) -> None:
            # Give ``a`` node ``u`` the ``b`` node ``w``; its owner takes
            # ``u``'s counterpart (a swap), none (take), or a node that
            # repairs one of its own flows, whose owner in turn takes
            # ``u``'s counterpart (a rotation of three).
            old = self.img.get(u)
            if u in self.fixed_a or w in self.fixed_b or old == w:
                return
            owner = self.pre.get(w)
            if owner is None:
                add({u: w})
                return
            if owner in self.fixed_a or old in self.fixed_b:
                return
            add({u: w, owner: old})
            for w2 in self._repairs(owner, u, w):
                second = self.pre.get(w2)
                if w2 in self.fixed_b or w2 in (w, old) or second in self.fixed_a:
                    continue
                if second is None:
                    add({u: w, owner: w2})
                elif second not in (u, owner):
                    add({u: w, owner: w2, second: old})

        for u, v in sorted(self.a_edges):
            if (self.img.get(u), self.img.get(v)) in self.b_edges:
                continue
            if u in self.img:
                for w in self.b_out[self.img[u]]:
                    want(v, w)
            if v in self.img:
                for w in self.b_in[self.img[v]]:
                    want(u, w)
        for x, y in sorted(self.b_edges):
            if (self.pre.get(x), self.pre.get(y)) in self.a_edges:
                continue
            if x in self.pre:
                for v in self.a_out[self.pre[x]]:
                    want(v, y)
            if y in self.pre:
                for u in self.a_in[self.pre[y]]:
                    want(u, x)
        free_b = [w for w in self.b_nodes if w not in self.pre]
        for u in self.a_nodes:
            if u not in self.img:
                for w in free_b:
                    want(u, w)
        return out


def refine(
    a_nodes: Sequence[str],
    b_nodes: Sequence[str],
    a_edges: Iterable[tuple[str, str]],
    b_edges: Iterable[tuple[str, str]],
    image: dict[str, str],
    cost: SubstitutionCost,
    *,
    fixed: tuple[Iterable[str], Iterable[str]] = ((), ()),
    rounds: int | None = None,
) -> dict[str, str]:
    """Improve a node mapping towards a smaller graph edit distance.

    Parameters
    ----------
    a_nodes, b_nodes : sequence of str
        The nodes of the two graphs, in a fixed order (ties between equally
        good moves go to the first).
    a_edges, b_edges : iterable of (str, str)
        Their directed edges.
    image : dict
        The mapping to start from: ``a`` node to ``b`` node, one-to-one.
    cost : callable
        ``cost(u, w)``: the cost of substituting ``a`` node ``u`` for ``b``
        node ``w`` (0 to 1), or None when they may not be substituted.
        Deleting or inserting a node or an edge costs 1.
    fixed : (iterable, iterable)
        Nodes of ``a`` and of ``b`` whose place in the mapping stays as it
        is, mapped or not (e.g. the members of a merge or a split).
    rounds : int, optional
        Most moves applied; by default the number of nodes of both graphs.

    Returns
    -------
    dict
        The improved mapping. Its :func:`edit_cost` is never above the
        starting one's.
    """
    state = _State(
        a_nodes,
        b_nodes,
        a_edges,
        b_edges,
        image,
        cost,
        (frozenset(fixed[0]), frozenset(fixed[1])),
    )
    limit = len(state.a_nodes) + len(state.b_nodes) if rounds is None else rounds
    for _ in range(limit):
        best: dict[str, str | None] | None = None
        best_delta = -_EPS
        for change in state.candidates():
            d = state.delta(change)
            if d is not None and d < best_delta:
                best, best_delta = change, d
        if best is None:
            break
        state._apply(best)
    return dict(state.img)


def edit_cost(
    a_nodes: Sequence[str],
    b_nodes: Sequence[str],
    a_edges: Iterable[tuple[str, str]],
    b_edges: Iterable[tuple[str, str]],
    image: dict[str, str],
    cost: SubstitutionCost,
) -> float:
    """The cost of the edit that a node mapping implies.

    Examples
    --------
    >>> edit_cost(["x"], ["y"], [], [], {"x": "y"}, lambda u, w: 0.25)
    0.25
    >>> edit_cost(["x"], ["y"], [], [], {}, lambda u, w: 0.25)
    2.0
    """
    state = _State(a_nodes, b_nodes, a_edges, b_edges, image, cost, (frozenset(),) * 2)
    return float(state.total())
