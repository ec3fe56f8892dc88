"""Town practices for the recommended flow: found, clustered, copied in.

A *practice* is a connected part of a town's flow that the result lacks --
an extra check, a wait for a batch, a rework loop with its decision. This
module finds each town's practices with the result steps they attach to
(:func:`fragments_of`), groups equivalent ones across towns
(:func:`cluster_fragments`) and copies a cluster's representative into the
result (:func:`insert_practice`). It serves :func:`harpflow.unify.unify`,
which follows the merging of process variants by clustering equivalent
fragments [1]_ [2]_.

References
----------
.. [1] M. La Rosa, M. Dumas, R. Uba and R. Dijkman, "Business process model
   merging: an approach to business process consolidation", ACM
   Transactions on Software Engineering and Methodology 22(2), 2013,
   article 11.
.. [2] W. Derguech and S. Bhiri, "Merging business process variants",
   BIS 2011, LNBIP 87, pp. 86-97.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import networkx as nx

from harpflow.glossary import Glossary
from harpflow.model import EVENT_TYPES, Flow
from harpflow.unify_build import TownView, edge_attrs, is_step

__all__ = [
    "Cluster",
    "Fragment",
    "cluster_fragments",
    "fragments_of",
    "insert_practice",
]


@dataclass(frozen=True)
class Fragment:
    """A connected part of one town's flow that the result lacks.

    ``entries`` are (result id, town id before, town id) flows into it,
    ``exits`` (town id, town id after, result id) flows out of it,
    ``inner`` its own flows, ``cut`` the result's flows between an entry
    and an exit that the town does not have.
    """

    town: int
    nodes: tuple[str, ...]
    entries: tuple[tuple[str, str, str], ...]
    exits: tuple[tuple[str, str, str], ...]
    inner: tuple[tuple[str, str], ...]
    cut: tuple[tuple[str, str], ...]
    labels: tuple[str, ...]
    kinds: tuple[tuple[str, str], ...] = ()

    @property
    def signature(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Where it attaches: the result ids before and after it."""
        return (
            tuple(sorted({e[0] for e in self.entries})),
            tuple(sorted({e[2] for e in self.exits})),
        )


@dataclass
class Cluster:
    """Equivalent fragments of several towns: one candidate practice."""

    id: str
    members: list[Fragment]
    representative: Fragment

    @property
    def towns(self) -> tuple[int, ...]:
        """Indexes of the towns that follow the practice."""
        return tuple(sorted({m.town for m in self.members}))

    @property
    def placed(self) -> tuple[int, ...]:
        """Indexes of the towns that follow it where the representative is."""
        sig = self.representative.signature
        return tuple(sorted({m.town for m in self.members if m.signature == sig}))


def fragments_of(
    index: int, town: TownView, result: Flow, base_index: dict[str, int]
) -> list[Fragment]:
    """The parts of a town's flow that the result lacks, with their anchors.

    Town steps performing a base step that the result dropped are passed
    over (their flows joined); unmatched start and end events stand for
    the result's first start and its end events.
    """
    flow = town.flow
    g = nx.DiGraph()
    g.add_nodes_from(n for n, d in flow.graph.nodes(data=True) if not d.get("parent"))
    g.add_edges_from(
        (e.source, e.target)
        for e in flow.sequence_edges()
        if e.source in g and e.target in g
    )
    anchor: dict[str, tuple[str, ...]] = {}
    starts = [n for n in result.graph if result.graph.nodes[n]["type"] == "startEvent"]
    ends = [n for n in result.graph if result.graph.nodes[n]["type"] == "endEvent"]
    for n in list(g):
        owned = tuple(b for b in town.owner.get(n, ()) if b in result.graph)
        typ = flow.graph.nodes[n]["type"]
        if owned:
            anchor[n] = tuple(sorted(owned, key=lambda b: base_index.get(b, 1 << 30)))
        elif town.owner.get(n):
            preds, succs = list(g.predecessors(n)), list(g.successors(n))
            g.remove_node(n)
            g.add_edges_from((p, s) for p in preds for s in succs if p != s)
        elif typ == "startEvent" and starts:
            anchor[n] = (starts[0],)
        elif typ == "endEvent" and ends:
            anchor[n] = (ends[0],)
    free = g.subgraph(n for n in g if n not in anchor)
    order = {n: i for i, n in enumerate(flow.graph)}
    out: list[Fragment] = []
    for comp in sorted(
        nx.weakly_connected_components(free), key=lambda c: min(order[n] for n in c)
    ):
        nodes = tuple(sorted(comp, key=order.__getitem__))
        if not any(is_step(flow, n) for n in nodes):
            continue
        entries = tuple(
            sorted(
                {
                    (anchor[p][-1], p, n)
                    for n in nodes
                    for p in g.predecessors(n)
                    if p in anchor
                }
            )
        )
        exits = tuple(
            sorted(
                {
                    (n, s, anchor[s][0])
                    for n in nodes
                    for s in g.successors(n)
                    if s in anchor
                }
            )
        )
        inner = tuple((u, v) for u, v in g.edges(nodes) if u in comp and v in comp)
        cut = tuple(
            (u, v)
            for u in sorted({e[0] for e in entries})
            for v in sorted({e[2] for e in exits})
            if result.graph.has_edge(u, v)
            and not any(
                g.has_edge(a, b)
                for a in town.counterparts.get(u, ())
                for b in town.counterparts.get(v, ())
                if a in g and b in g
            )
        )
        steps = [flow.graph.nodes[n] for n in nodes if is_step(flow, n)]
        labels = tuple(d["label"] for d in steps)
        kinds = tuple((d["type"], str(d.get("trigger") or "")) for d in steps)
        out.append(Fragment(index, nodes, entries, exits, inner, cut, labels, kinds))
    return out


def _label_similarity(glossary: Glossary) -> Callable[[str, str], float]:
    from harpflow.score import pair_similarity

    @cache
    def sim(a: str, b: str) -> float:
        if a == b:
            return 1.0
        if not a.strip() or not b.strip():
            return 0.0
        return pair_similarity(a, b, glossary)

    return sim


def _fragment_similarity(
    a: Fragment, b: Fragment, sim: Callable[[str, str], float]
) -> float:
    if not a.labels or not b.labels:
        return 0.0
    if a.kinds == b.kinds and all(k[0] in EVENT_TYPES for k in a.kinds):
        # Waits of one kind (a timer before an entry) at one place are one
        # practice, however the towns word them.
        return 1.0
    return _label_agreement(a, b, sim)


def _label_agreement(
    a: Fragment, b: Fragment, sim: Callable[[str, str], float]
) -> float:
    """Mean best label similarity of two fragments' steps, both ways."""
    if not a.labels or not b.labels:
        return 0.0
    ab = sum(max(sim(x, y) for y in b.labels) for x in a.labels)
    ba = sum(max(sim(y, x) for x in a.labels) for y in b.labels)
    return (ab + ba) / (len(a.labels) + len(b.labels))


def cluster_fragments(
    fragments: Sequence[Fragment],
    glossary: Glossary,
    *,
    threshold: float = 0.5,
    strong: float = 0.8,
) -> list[Cluster]:
    """Group equivalent fragments of different towns.

    Two fragments are equivalent when they attach at the same places of the
    result and their step labels agree (mean best label similarity at least
    ``threshold``) or both are waits of one kind (the same event types and
    triggers); or when they share the step before or the step after them
    and their labels agree; or, wherever they are, when their labels agree
    strongly (at least ``strong``). Fragments are taken in town order and
    join the first cluster that fits (one at the same place first) and
    holds nothing of their town yet: a leader clustering, deterministic for
    a given order. A cluster's :attr:`Cluster.placed` towns are those that
    follow it where its representative attaches.
    """
    sim = _label_similarity(glossary)
    clusters: list[Cluster] = []

    def fits(cl: Cluster, frag: Fragment) -> bool:
        lead = cl.members[0]
        if frag.town in cl.towns:
            return False
        if lead.signature == frag.signature:
            return _fragment_similarity(lead, frag, sim) >= threshold
        (ea, xa), (eb, xb) = lead.signature, frag.signature
        agree = _label_agreement(lead, frag, sim)
        if set(ea) & set(eb) or set(xa) & set(xb):
            return agree >= threshold
        return agree >= strong

    for frag in fragments:
        # The same place first, then places that share a side.
        ranked = sorted(
            clusters, key=lambda c: c.members[0].signature != frag.signature
        )
        home = next((cl for cl in ranked if fits(cl, frag)), None)
        if home is not None:
            home.members.append(frag)
        else:
            clusters.append(Cluster(f"P{len(clusters) + 1}", [frag], frag))
    for cl in clusters:
        # The representative attaches where most members do, and is the
        # member most like the others among those.
        sigs = [m.signature for m in cl.members]
        common = max(sigs, key=lambda sig: (sigs.count(sig), -sigs.index(sig)))
        placed = [m for m in cl.members if m.signature == common]
        totals = [
            sum(_fragment_similarity(m, o, sim) for o in cl.members if o is not m)
            for m in placed
        ]
        cl.representative = placed[totals.index(max(totals))]
    return clusters


def insert_practice(result: Flow, cluster: Cluster, town: TownView) -> list[str]:
    """Copy a cluster's representative fragment into the result.

    Returns the new node ids (``<cluster id>_<k>``).
    """
    frag = cluster.representative
    src = town.flow
    new: dict[str, str] = {}
    for k, n in enumerate(frag.nodes, 1):
        data = dict(src.graph.nodes[n])
        for key in ("lane_id", "pool_id", "bounds", "source", "parent", "attached_to"):
            data.pop(key, None)
        nid = f"{cluster.id}_{k}"
        data["practice"] = cluster.id
        result.add_node(nid, **data)
        new[n] = nid
    cut: dict[str, dict[str, Any]] = {}
    for u, v in frag.cut:
        if result.graph.has_edge(u, v):
            cut.setdefault(u, edge_attrs(result, u, v))
            result.remove_edge(u, v)
    for base, p, n in frag.entries:
        if not result.graph.has_edge(base, new[n]):
            # The wording of a decision's branch is the result's own.
            attrs = cut.get(base) or _town_edge(src, p, n)
            result.add_edge(base, new[n], **attrs)
    for a, b in frag.inner:
        result.add_edge(new[a], new[b], **_town_edge(src, a, b))
    for n, s, base in frag.exits:
        if not result.graph.has_edge(new[n], base):
            result.add_edge(new[n], base, **_town_edge(src, n, s))
    return list(new.values())


def _town_edge(src: Flow, u: str, v: str) -> dict[str, Any]:
    return edge_attrs(src, u, v) if src.graph.has_edge(u, v) else {}
