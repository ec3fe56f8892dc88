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

The work is split by responsibility: :mod:`harpflow.diff_change` (the
change record and its notes), :mod:`harpflow.diff_terms` (how wording,
lanes and task types are compared), :mod:`harpflow.diff_pairing` (steps
the diff pairs beyond the matcher), :mod:`harpflow.diff_nodes` (changes of
single steps) and :mod:`harpflow.diff_order` (order, decisions, loops and
hand-offs); this module puts them together.

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

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from harpflow.behaviour import DEFAULT_BOUND, Profile, profile
from harpflow.diff_change import CHANGE_KINDS, Change, Notes, japanese, label_of
from harpflow.diff_nodes import node_changes
from harpflow.diff_order import (
    gateway_changes,
    handoff_changes,
    loop_changes,
    reorderings,
)
from harpflow.diff_pairing import pair_more
from harpflow.diff_terms import lanes_differ, same_wording, type_class
from harpflow.flowcache import comparison
from harpflow.glossary import Glossary, default_glossary
from harpflow.model import Flow

if TYPE_CHECKING:
    import pandas as pd

    from harpflow.match import Matching

__all__ = [
    "CHANGE_KINDS",
    "Change",
    "FlowDiff",
    "diff",
    "lanes_differ",
    "paired",
    "same_wording",
    "type_class",
]


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
                        label_of(self.standard, i) for i in c.standard
                    ),
                    "town_label": " / ".join(label_of(self.town, i) for i in c.town),
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


def paired(
    standard: Flow,
    town: Flow,
    matching: Matching,
    *,
    glossary: Glossary | None = None,
) -> Matching:
    """The matcher's correspondences plus the pairs the diff adds itself.

    :func:`diff` without a ``matching`` uses
    ``paired(standard, town, match(standard, town))``: steps that take each
    other's place, an approval moved after the output or folded into
    another step, a receiving step drawn in the town's own flow
    (:mod:`harpflow.diff_pairing`). Match once, pass this to
    ``diff(matching=...)``, and the matcher's own result stays free for
    other uses (:func:`harpflow.unify.unify` takes it).

    Examples
    --------
    >>> import harpflow
    >>> from harpflow.match import match
    >>> std = harpflow.read('''
    ... steps:
    ...   - {番号: 1, 担当: 担当, 作業: 確認用帳票を照合}
    ...   - {番号: 2, 担当: 審査, 作業: 審査}
    ...   - {番号: 3, 担当: 窓口, 作業: 住民票の写しを交付}
    ... ''', format="yaml")
    >>> town = harpflow.read('''
    ... steps:
    ...   - {番号: a, 担当: 係員, 作業: 帳票を照合（自己点検）}
    ...   - {番号: b, 担当: 係員, 作業: 住民票の写しを交付}
    ... ''', format="yaml")
    >>> m = match(std, town)
    >>> [c.a for c in m], [c.a for c in paired(std, town, m)]
    ([('1',), ('3',)], [('1', '2'), ('3',)])
    """
    return pair_more(standard, town, matching, glossary or default_glossary())


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
        m = paired(
            standard, town, match(standard, town, glossary=gloss), glossary=gloss
        )
    profiles = (profile(standard, bound=bound), profile(town, bound=bound))
    say = Notes(japanese(standard, town))
    found: list[Change] = []
    found += node_changes(standard, town, m, gloss, say)
    found += reorderings(standard, town, m, profiles, say)
    found += gateway_changes(standard, town, m, profiles, say)
    found += loop_changes(standard, town, m, profiles, say)
    found += handoff_changes(standard, town, m, say)
    found = [
        replace(c, code=c.code or deviations.classify(c, standard, town, gloss))
        for c in found
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
