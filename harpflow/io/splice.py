"""Build a flow from a graph whose elements become zero, one or more nodes.

Petri nets and EPCs do not map one element to one flow node: a place may
become a gateway, two gateways, an event, or nothing at all. The readers of
those formats describe each element by its *ports* -- the node that its
incoming arcs reach (entry) and the node its outgoing arcs leave (exit) --
and :class:`Builder` turns the element-level arcs into sequence flows.
An element with no nodes is *passed through*: arcs into it are joined to the
arcs out of it, and a label it carries goes onto the joined flow.

Examples
--------
>>> from harpflow.model import Flow
>>> flow = Flow()
>>> b = Builder(flow, ["a", "p", "b"])
>>> b.ports("a", b.add("a", "", {"label": "受付"}))
>>> b.ports("p", None, label="可")
>>> b.ports("b", b.add("b", "", {"label": "審査"}))
>>> b.link("a", "p")
>>> b.link("p", "b")
>>> b.finish()
>>> [(e.source, e.target, e.label) for e in flow.edges]
[('a', 'b', '可')]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from harpflow.errors import ModelError
from harpflow.model import Flow

__all__ = ["Builder"]


class Builder:
    """Collects nodes, ports and element-level arcs; writes sequence flows.

    Parameters
    ----------
    flow : Flow
        The flow to fill.
    keys : iterable of str
        Ids of every element of the source graph; generated node ids avoid
        them.
    """

    def __init__(self, flow: Flow, keys: Iterable[str]) -> None:
        self.flow = flow
        self._keys = set(keys)
        self._entry: dict[str, str | None] = {}
        self._exit: dict[str, str | None] = {}
        self._label: dict[str, str] = {}
        self._arcs: dict[str, list[tuple[str, str, str | None]]] = {}

    def add(self, key: str, role: str, attrs: dict[str, Any]) -> str:
        """Add a node for element ``key``; ``role`` "" gives it the key as id."""
        node_id = key if not role else f"{key}_{role}"
        if role:
            base, n = node_id, 1
            while node_id in self._keys or node_id in self.flow:
                n += 1
                node_id = f"{base}_{n}"
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.flow.add_node(node_id, **attrs)
        return node_id

    def edge(self, source: str, target: str, label: str = "") -> None:
        """A sequence flow between two nodes inside one element."""
        self.flow.add_edge(source, target, label=label)

    def ports(
        self,
        key: str,
        entry: str | None,
        exit: str | None = None,
        *,
        label: str = "",
    ) -> None:
        """Declare the element's entry and exit nodes (None: pass through).

        ``exit`` defaults to ``entry``. ``label`` is put on flows joined
        through a passed-through element.
        """
        self._entry[key] = entry
        self._exit[key] = entry if exit is None else exit
        if label:
            self._label[key] = label

    def link(
        self, source: str, target: str, label: str = "", arc_id: str | None = None
    ) -> None:
        """An arc between two elements (by key)."""
        self._arcs.setdefault(source, []).append((target, label, arc_id))

    def passed_through(self, key: str) -> bool:
        """True when the element has no node of its own."""
        return self._entry.get(key) is None

    def _reach(
        self, key: str, label: str, seen: set[str]
    ) -> list[tuple[str, str, str | None]]:
        """Entry nodes reached from ``key`` through passed-through elements."""
        found: list[tuple[str, str, str | None]] = []
        for target, arc_label, arc_id in self._arcs.get(key, ()):
            here = label or arc_label
            entry = self._entry.get(target)
            if entry is not None:
                found.append((entry, here, arc_id))
            elif target not in seen:
                seen.add(target)
                inner = here or self._label.get(target, "")
                found.extend(
                    (e, lab, arc_id) for e, lab, _ in self._reach(target, inner, seen)
                )
        return found

    def finish(self) -> None:
        """Write the sequence flows between elements."""
        for key in list(self._entry):
            exit_node = self._exit[key]
            if exit_node is None:
                continue
            for entry, label, arc_id in self._reach(key, "", {key}):
                try:
                    self.flow.add_edge(exit_node, entry, label=label, id=arc_id)
                except ModelError:  # the arc's id is taken: generate one
                    self.flow.add_edge(exit_node, entry, label=label)
