"""What :func:`harpflow.unify.unify` returns: the flow and its evidence.

:class:`Recommendation` holds the recommended flow with the support of
each of its elements, the :class:`Option` s left out, the fit-gap of every
town (:class:`FitGap`) and the outputs: the requirements table, XLSX and
BPMN coloured by support (:mod:`harpflow.requirements`).

Examples
--------
>>> import harpflow
>>> from harpflow.unify import unify
>>> std = harpflow.read('''
... steps:
...   - {番号: S, 作業: 開始, 種別: 開始}
...   - {番号: 1, 担当: 窓口, 作業: 申請の受付}
...   - {番号: 2, 担当: 担当, 作業: 審査}
...   - {番号: 3, 担当: 決裁, 作業: 決裁}
...   - {番号: E, 作業: 終了, 種別: 終了}
... ''', format="yaml")
>>> lean = std.copy()
>>> lean.remove_node("3"); _ = lean.add_edge("2", "E")
>>> towns = [lean.copy(), lean.copy(), std.copy()]
>>> for name, town in zip("ABC", towns):
...     town.town = name
>>> rec = unify(towns, standard=std)
>>> rec.support["1"], rec.supporters("1")
(1.0, ('A', 'B', 'C'))
>>> [(o.kind, o.id, o.towns) for o in rec.options]
[('step', '3', ('C',))]
>>> rec.fit_gap_frame()[["town", "after", "add", "drop"]].round(3).values.tolist()
[['A', 0.0, 0, 0], ['B', 0.0, 0, 0], ['C', 0.302, 0, 1]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harpflow.behaviour import Soundness
from harpflow.errors import ModelError
from harpflow.glossary import Glossary
from harpflow.model import Flow
from harpflow.unify_build import TownView

if TYPE_CHECKING:
    import pandas as pd

    from harpflow.score import Divergence

__all__ = ["FitGap", "Option", "Recommendation"]


@dataclass(frozen=True)
class Option:
    """An element left out of the recommended flow, with the towns behind it.

    Attributes
    ----------
    kind : {"step", "practice", "handoff"}
        A base step few towns perform, a town practice below the threshold
        (or one that could not be placed soundly), or a hand-off.
    id : str
        Base id (``step``), cluster id (``practice``, e.g. ``"P3"``) or
        ``"source->target"`` (``handoff``).
    label, lane : str
        Wording and lane (of the representative town for a practice).
    towns : tuple of str
        The towns that perform it.
    support : float
        Their share of all towns.
    reason : str
        Why it is not in the flow.
    after, before : tuple of str
        Result ids it attaches after and before (practices).
    function_ids : tuple of str
    """

    kind: str
    id: str
    label: str
    lane: str
    towns: tuple[str, ...]
    support: float
    reason: str
    after: tuple[str, ...] = ()
    before: tuple[str, ...] = ()
    function_ids: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Stable keys, lists for tuples."""
        return {
            "kind": self.kind,
            "id": self.id,
            "label": self.label,
            "lane": self.lane,
            "towns": list(self.towns),
            "support": round(self.support, 6),
            "reason": self.reason,
            "after": list(self.after),
            "before": list(self.before),
            "function_ids": list(self.function_ids),
        }


@dataclass(frozen=True)
class FitGap:
    """What one town changes to adopt the recommended flow.

    ``before`` is the town's divergence from the base (standard or medoid),
    ``after`` from the recommended flow; ``after.diff`` lists the changes,
    read from the town's side: a ``missing`` step is one the town would
    add, an ``extra`` step one it would give up.
    """

    town: str
    before: Divergence
    after: Divergence

    @property
    def gain(self) -> float:
        """How much closer the town is to the recommended flow than to the base."""
        return self.before.total - self.after.total

    def to_frame(self) -> pd.DataFrame:
        """One row per change: action, kind, code, recommended and town ids,
        note."""
        import pandas as pd

        action = {
            "missing": "add",
            "extra": "drop",
            "merged": "split",
            "split": "merge",
        }
        rows = [
            {
                "action": action.get(c.kind, "change"),
                "kind": c.kind,
                "code": c.code,
                "recommended": ", ".join(c.standard),
                "town": ", ".join(c.town),
                "note": c.note,
            }
            for c in self.after.diff
        ]
        cols = ["action", "kind", "code", "recommended", "town", "note"]
        return pd.DataFrame(rows, columns=cols)


class Recommendation:
    """The recommended flow and the evidence for it. Made by :func:`unify`.

    Attributes
    ----------
    flow : Flow
        The recommended flow; each node carries ``support`` (share of
        towns) and ``towns`` attributes, practices also ``practice``.
    base : Flow
        The flow the towns were aligned to.
    base_kind : {"standard", "medoid"}
    towns : tuple of str
        Town names, in the order given.
    min_support : float
    options : list of Option
        What was left out, most supported first.
    soundness : Soundness
        The check of the result (outside bodies' parts as own instances).
    swaps : list of tuple
        Pairs of base steps put in the towns' order.
    lane_changes : list of tuple
        (step, base lane, new lane) for steps most towns do in another lane.
    label_changes : list of tuple
        (step, base label, new label) for steps worded as the towns word
        them (without a standard: the median of their labels).
    kept : frozenset of str
        Base steps below the threshold that stay because leaving them out
        brought the towns no closer (with ``refine``) or made the flow
        unsound.
    """

    def __init__(
        self,
        *,
        flow: Flow,
        base: Flow,
        base_kind: str,
        towns: Sequence[TownView],
        min_support: float,
        node_towns: dict[str, tuple[int, ...]],
        edge_towns: dict[str, tuple[int, ...]],
        options: list[Option],
        required: frozenset[str],
        soundness: Soundness,
        swaps: list[tuple[str, str]],
        lanes: list[tuple[str, str, str]],
        glossary: Glossary,
        labels: Sequence[tuple[str, str, str]] = (),
        kept: frozenset[str] = frozenset(),
    ) -> None:
        self.flow = flow
        self.base = base
        self.base_kind = base_kind
        self._views = list(towns)
        self.towns = tuple(t.name for t in towns)
        self.min_support = min_support
        self._node_towns = node_towns
        self._edge_towns = edge_towns
        self.options = options
        self.required = required
        self.soundness = soundness
        self.swaps = swaps
        self.lane_changes = lanes
        self.label_changes = list(labels)
        self.kept = kept
        self._glossary = glossary
        self._fit: dict[str, FitGap] = {}

    @property
    def sound(self) -> bool:
        """Whether the recommended flow is sound."""
        return self.soundness.sound

    @property
    def support(self) -> dict[str, float]:
        """Share of towns behind every node (by node id) and every flow (by
        edge id) of the recommended flow."""
        n = max(1, len(self.towns))
        out = {k: len(v) / n for k, v in self._node_towns.items()}
        out.update({k: len(v) / n for k, v in self._edge_towns.items()})
        return out

    def supporters(self, element: str) -> tuple[str, ...]:
        """Names of the towns behind a node or edge id of the flow."""
        idx = self._node_towns.get(element, self._edge_towns.get(element))
        if idx is None:
            raise ModelError(f"no node or flow {element!r} in the recommended flow")
        return tuple(self.towns[i] for i in idx)

    def support_frame(self) -> pd.DataFrame:
        """One row per node and flow: element, id, source, target, type,
        label, lane, support, count, towns, origin."""
        import pandas as pd

        n = max(1, len(self.towns))
        rows: list[dict[str, Any]] = []
        for nid, node in self.flow.nodes.items():
            idx = self._node_towns.get(nid, ())
            rows.append(
                {
                    "element": "node",
                    "id": nid,
                    "source": None,
                    "target": None,
                    "type": node.type,
                    "label": node.label,
                    "lane": node.lane,
                    "support": len(idx) / n,
                    "count": len(idx),
                    "towns": ", ".join(self.towns[i] for i in idx),
                    "origin": self._origin(nid),
                }
            )
        for e in self.flow.edges:
            idx = self._edge_towns.get(e.id, ())
            rows.append(
                {
                    "element": e.kind,
                    "id": e.id,
                    "source": e.source,
                    "target": e.target,
                    "type": e.kind,
                    "label": e.label,
                    "lane": None,
                    "support": len(idx) / n,
                    "count": len(idx),
                    "towns": ", ".join(self.towns[i] for i in idx),
                    "origin": None,
                }
            )
        cols = [
            "element", "id", "source", "target", "type", "label", "lane",
            "support", "count", "towns", "origin",
        ]  # fmt: skip
        return pd.DataFrame(rows, columns=cols)

    def _origin(self, nid: str) -> str:
        if self.flow.graph.nodes[nid].get("practice"):
            return "practice"
        return self.base_kind

    # -- fit-gap ----------------------------------------------------------

    def _view(self, town: str | int) -> TownView:
        if isinstance(town, int):
            return self._views[town]
        for view in self._views:
            if view.name == town:
                return view
        raise ModelError(f"no town {town!r} among {', '.join(self.towns)}")

    def fit_gap(self, town: str | int) -> FitGap:
        """What a town (by name or index) changes to adopt the flow."""
        from harpflow.score import score

        view = self._view(town)
        if view.name not in self._fit:
            before = score(
                self.base, view.flow, matching=view.matching, glossary=self._glossary
            )
            after = score(self.flow, view.flow, glossary=self._glossary)
            self._fit[view.name] = FitGap(view.name, before, after)
        return self._fit[view.name]

    def fit_gap_frame(self) -> pd.DataFrame:
        """One row per town: divergence before (from the base) and after
        (from the recommended flow), gain, and the changes it would make
        (``add``, ``drop`` and ``other`` counts)."""
        import pandas as pd

        rows = []
        for name in self.towns:
            fg = self.fit_gap(name)
            kinds = [c.kind for c in fg.after.diff]
            rows.append(
                {
                    "town": name,
                    "before": fg.before.total,
                    "after": fg.after.total,
                    "gain": fg.gain,
                    "changes": len(kinds),
                    "add": kinds.count("missing"),
                    "drop": kinds.count("extra"),
                    "other": len(kinds) - kinds.count("missing") - kinds.count("extra"),
                }
            )
        cols = ["town", "before", "after", "gain", "changes", "add", "drop", "other"]
        return pd.DataFrame(rows, columns=cols)

    # -- outputs ----------------------------------------------------------

    def requirements(self) -> pd.DataFrame:
        """The requirements table, shaped like a 機能要件定義表.

        One row per step of the recommended flow (class ``必須``) and per
        option (``標準オプション`` when a base step some town performs or a
        practice of two towns or more, ``対象外`` otherwise): step, label,
        lane, function_ids, class, support, towns, origin, note.
        """
        from harpflow.requirements import requirements_frame

        return requirements_frame(self)

    def to_xlsx(self, dest: Any = None) -> bytes | None:
        """Write the requirements table as XLSX (byte-identical for the same
        input); returns the bytes when ``dest`` is None."""
        from harpflow.requirements import write_requirements_xlsx

        return write_requirements_xlsx(self, dest)

    def to_bpmn(self, dest: Any = None) -> bytes | None:
        """Write the flow as BPMN 2.0, each element coloured by its support
        (bpmn.io and BPMN-in-Color attributes) and its support in its
        documentation; returns the bytes when ``dest`` is None."""
        from harpflow.requirements import write_support_bpmn

        return write_support_bpmn(self, dest)

    def to_dict(self) -> dict[str, Any]:
        """Stable keys: base, base_town, towns, min_support, sound, nodes,
        edges, options."""
        n = max(1, len(self.towns))
        return {
            "base": self.base_kind,
            "base_town": self.base.town,
            "towns": list(self.towns),
            "min_support": self.min_support,
            "sound": self.sound,
            "nodes": [
                {
                    "id": nid,
                    "type": node.type,
                    "label": node.label,
                    "lane": node.lane,
                    "origin": self._origin(nid),
                    "support": round(len(self._node_towns.get(nid, ())) / n, 6),
                    "towns": list(self.supporters(nid)),
                }
                for nid, node in self.flow.nodes.items()
            ],
            "edges": [
                {
                    "id": e.id,
                    "source": e.source,
                    "target": e.target,
                    "kind": e.kind,
                    "support": round(len(self._edge_towns.get(e.id, ())) / n, 6),
                }
                for e in self.flow.edges
            ],
            "options": [o.to_dict() for o in self.options],
        }

    def __repr__(self) -> str:
        return (
            f"<Recommendation from {len(self.towns)} towns ({self.base_kind}): "
            f"{len(self.flow.steps())} steps, {len(self.options)} options>"
        )
