"""The change record of a diff and the wording of its notes.

:class:`Change` is one difference between a standard flow and a town's
flow, with a kind from :data:`CHANGE_KINDS`; the helpers here quote step
labels in the notes, in the labels' language (:class:`Notes`).
:mod:`harpflow.diff` re-exports :class:`Change` and :data:`CHANGE_KINDS`.

Examples
--------
>>> Change("missing", ("3",), (), "審査がない", code="V01").to_dict()["kind"]
'missing'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harpflow.model import ACTIVITY_TYPES, Flow, Node
from harpflow.text import normalise

__all__ = [
    "CHANGE_KINDS",
    "Change",
    "Notes",
    "is_activity",
    "japanese",
    "label_of",
    "quote",
]


#: The change vocabulary, in reporting order.
CHANGE_KINDS = (
    "missing",
    "extra",
    "merged",
    "split",
    "relabelled",
    "lane_changed",
    "type_changed",
    "reordered",
    "gateway_changed",
    "loop_added",
    "loop_removed",
    "handoff_added",
    "handoff_missing",
    "attribute_changed",
)


@dataclass(frozen=True)
class Change:
    """One difference between a standard flow and a town's flow.

    Attributes
    ----------
    kind : str
        One of :data:`CHANGE_KINDS`.
    standard, town : tuple of str
        Ids of the nodes concerned on each side (either may be empty).
    note : str
        One line explaining the change, in the labels' language.
    code : str or None
        Deviation code ``V01``-``V17``, when a rule recognises the case.
    cost : float
        Its share of the divergence total (default weights).
    """

    kind: str
    standard: tuple[str, ...]
    town: tuple[str, ...]
    note: str
    code: str | None = None
    cost: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Stable keys: kind, code, standard, town, cost, note."""
        return {
            "kind": self.kind,
            "code": self.code,
            "standard": list(self.standard),
            "town": list(self.town),
            "cost": round(self.cost, 6),
            "note": self.note,
        }


def label_of(flow: Flow, node_id: str) -> str:
    return flow.nodes[node_id].label.replace("\n", " ") if node_id in flow else node_id


def quote(flow: Flow, ids: Sequence[str]) -> str:
    labels = [label_of(flow, i) for i in ids]
    if any(normalise(lab).language == "ja" for lab in labels):
        return "・".join(f"「{lab}」" for lab in labels)
    return ", ".join(f"'{lab}'" for lab in labels)


def japanese(*flows: Flow) -> bool:
    for flow in flows:
        for node in flow.nodes.values():
            if node.label and normalise(node.label).language == "ja":
                return True
    return False


class Notes:
    """One-line explanations in Japanese or English."""

    def __init__(self, ja: bool) -> None:
        self.ja = ja

    def __call__(self, ja: str, en: str) -> str:
        return ja if self.ja else en


def is_activity(node: Node) -> bool:
    return node.type in ACTIVITY_TYPES
