"""Write a :class:`Flow` as a Mermaid flowchart.

The chart is ``flowchart LR`` with the flow's name as front-matter title,
one ``subgraph`` per pool and lane (nested as the lanes are), and one per
sub-process that has children. Nodes are drawn by type -- tasks ``[ ]``,
collapsed sub-processes and call activities ``[[ ]]``, start and end events
``([ ])``, other events ``(( ))``, gateways ``{ }``, data objects ``> ]``
and data stores ``[( )]`` -- and every label is quoted (``id["label"]``)
with ``"``, ``#``, ``<``, ``>``, ``&``, ``|``, backquote and backslash
written as Mermaid entity codes and line breaks as ``<br>``, so Japanese
labels and any punctuation are safe. Sequence flows are ``-->``, message
flows and data associations ``-.->``, annotation associations ``-.-``, and
a boundary event is tied to its activity by ``~~~``. What the shapes cannot
say is carried by ``class`` statements (see :mod:`harpflow.io.mermaid`).

Output is deterministic: the same flow gives the same bytes.
"""

from __future__ import annotations

import json
import os
import re
from typing import IO, Any

from harpflow.io.source import emit
from harpflow.model import EVENT_TYPES, GATEWAY_TYPES, TASK_TYPES, Flow

__all__ = ["mermaid_ids", "mermaid_label", "write_mermaid"]

_SAFE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_RESERVED = frozenset(
    {
        "end",
        "subgraph",
        "graph",
        "flowchart",
        "style",
        "class",
        "classdef",
        "click",
        "linkstyle",
        "direction",
        "default",
        "call",
        "href",
        "acctitle",
        "accdescr",
        "o",
        "x",
    }
)
_ESCAPES = (
    ("#", "#35;"),
    ('"', "#quot;"),
    ("<", "#lt;"),
    (">", "#gt;"),
    ("&", "#amp;"),
    ("|", "#124;"),
    ("`", "#96;"),
    ("\\", "#92;"),
    ("\r", "#13;"),
)
_CLASS_STYLES = {
    "pool": "fill:#fafafa,stroke:#616161",
    "startEvent": "stroke:#2e7d32,stroke-width:2px",
    "endEvent": "stroke:#c62828,stroke-width:4px",
    "boundaryEvent": "stroke-dasharray:3 3",
    "textAnnotation": "fill:#ffffff,stroke:#9e9e9e,stroke-dasharray:2 2",
}
_CONTAINERS = frozenset(
    {"subProcess", "transaction", "adHocSubProcess", "callActivity"}
)


def mermaid_label(text: str) -> str:
    """A label quoted for Mermaid: ``"..."`` with entity codes and ``<br>``.

    Examples
    --------
    >>> mermaid_label('申請書"A"を<受付>\\n#1')
    '"申請書#quot;A#quot;を#lt;受付#gt;<br>#35;1"'
    """
    for char, code in _ESCAPES:
        text = text.replace(char, code)
    return '"' + text.replace("\n", "<br>") + '"'


def mermaid_ids(flow: Flow) -> dict[tuple[str, str], str]:
    """The Mermaid id of every pool, lane, node, data object and annotation.

    Ids that are plain ASCII words and no Mermaid keyword are kept; the
    others become ``n1``, ``n2``... in order. Keys are ``(kind, id)`` with
    kind ``pool``, ``lane``, ``node``, ``data`` or ``annotation``.

    Examples
    --------
    >>> flow = Flow()
    >>> _ = flow.add_node("t1")
    >>> _ = flow.add_node("受付")
    >>> _ = flow.add_node("end")
    >>> mermaid_ids(flow)
    {('node', 't1'): 't1', ('node', '受付'): 'n1', ('node', 'end'): 'n2'}
    """
    keys = [("pool", p.id) for p in flow.pools]
    keys += [("lane", lane.id) for lane in flow.lanes]
    keys += [("node", n) for n in flow.graph]
    keys += [("data", d.id) for d in flow.data_objects]
    keys += [("annotation", a.id) for a in flow.annotations]
    taken: set[str] = set()
    ids: dict[tuple[str, str], str] = {}
    for key in keys:
        safe = _SAFE.match(key[1]) and key[1].lower() not in _RESERVED
        if safe and key[1] not in taken:
            ids[key] = key[1]
            taken.add(key[1])
    counter = 0
    for key in keys:
        if key in ids:
            continue
        counter += 1
        while f"n{counter}" in taken:
            counter += 1
        ids[key] = f"n{counter}"
        taken.add(ids[key])
    return {key: ids[key] for key in keys}


class _Writer:
    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.ids = mermaid_ids(flow)
        self.lines: list[str] = []
        self.classes: dict[str, list[str]] = {}
        graph = flow.graph
        self.expanded = {
            d["parent"]
            for _, d in graph.nodes(data=True)
            if d.get("parent") in graph
            and graph.nodes[d["parent"]]["type"] in _CONTAINERS
        }
        lane_ids = {lane.id for lane in flow.lanes}
        pool_ids = {pool.id for pool in flow.pools}
        self.content: dict[tuple[str, str], list[tuple[str, str]]] = {}

        def put(where: tuple[str, str], item: tuple[str, str]) -> None:
            self.content.setdefault(where, []).append(item)

        top = ("top", "")
        for pool in flow.pools:
            put(top, ("pool", pool.id))
        for lane in flow.lanes:
            if lane.parent in lane_ids:
                put(("lane", str(lane.parent)), ("lane", lane.id))
            elif lane.pool in pool_ids:
                put(("pool", str(lane.pool)), ("lane", lane.id))
            else:
                put(top, ("lane", lane.id))
        for n, d in graph.nodes(data=True):
            if d.get("parent") in self.expanded:
                put(("node", d["parent"]), ("node", n))
            elif d.get("lane_id") in lane_ids:
                put(("lane", d["lane_id"]), ("node", n))
            elif d.get("pool_id") in pool_ids:
                put(("pool", d["pool_id"]), ("node", n))
            else:
                put(top, ("node", n))
        for obj in flow.data_objects:
            if obj.parent in self.expanded:
                put(("node", str(obj.parent)), ("data", obj.id))
            elif obj.lane in lane_ids:
                put(("lane", str(obj.lane)), ("data", obj.id))
            else:
                put(top, ("data", obj.id))
        for ann in flow.annotations:
            put(top, ("annotation", ann.id))

    def mark(self, mid: str, cls: str) -> None:
        self.classes.setdefault(cls, []).append(mid)

    def node_line(self, n: str, indent: str) -> None:
        d = self.flow.graph.nodes[n]
        mid, kind, label = self.ids[("node", n)], d["type"], d.get("label") or ""
        if kind in ("startEvent", "endEvent"):
            shape = f"([{mermaid_label(label)}])"
        elif kind in EVENT_TYPES:
            shape = f"(({mermaid_label(label)}))"
        elif kind in GATEWAY_TYPES:
            shape = "{" + mermaid_label(label) + "}"
        elif kind in TASK_TYPES:
            shape = f"[{mermaid_label(label)}]"
        else:
            shape = f"[[{mermaid_label(label)}]]"
        self.lines.append(f"{indent}{mid}{shape}")
        self.node_classes(n, mid)

    def node_classes(self, n: str, mid: str) -> None:
        d = self.flow.graph.nodes[n]
        if d["type"] not in ("task", "exclusiveGateway"):
            self.mark(mid, d["type"])
        if d.get("trigger"):
            self.mark(mid, f"trigger_{d['trigger']}")
        if d.get("loop"):
            self.mark(mid, f"loop_{d['loop']}")
        if d["type"] == "boundaryEvent" and d.get("cancel_activity") is False:
            self.mark(mid, "non_interrupting")
        if d.get("triggered_by_event"):
            self.mark(mid, "event_subprocess")

    def block(self, where: tuple[str, str], depth: int) -> None:
        indent = "    " * depth
        flow = self.flow
        for kind, item in self.content.get(where, []):
            if kind in ("pool", "lane"):
                mid = self.ids[(kind, item)]
                records = flow.pools if kind == "pool" else flow.lanes
                title = next(r.name for r in records if r.id == item)
                self.lines.append(f"{indent}subgraph {mid}[{mermaid_label(title)}]")
                if kind == "pool":
                    self.mark(mid, "pool")
                self.block((kind, item), depth + 1)
                self.lines.append(f"{indent}end")
            elif kind == "node" and item in self.expanded:
                mid = self.ids[("node", item)]
                label = flow.graph.nodes[item].get("label") or ""
                self.lines.append(f"{indent}subgraph {mid}[{mermaid_label(label)}]")
                self.node_classes(item, mid)
                self.block(("node", item), depth + 1)
                self.lines.append(f"{indent}end")
            elif kind == "node":
                self.node_line(item, indent)
            elif kind == "data":
                obj = next(d for d in flow.data_objects if d.id == item)
                mid = self.ids[("data", item)]
                if obj.kind == "dataStoreReference":
                    self.lines.append(f"{indent}{mid}[({mermaid_label(obj.label)})]")
                else:
                    self.lines.append(f"{indent}{mid}>{mermaid_label(obj.label)}]")
            else:
                ann = next(a for a in flow.annotations if a.id == item)
                mid = self.ids[("annotation", item)]
                self.lines.append(f"{indent}{mid}[{mermaid_label(ann.text)}]")
                self.mark(mid, "textAnnotation")

    def links(self) -> None:
        flow, ids = self.flow, self.ids
        for u, v, d in flow.graph.edges(data=True):
            link = "-.->" if d.get("kind") == "message" else "-->"
            label = d.get("label") or ""
            text = f"|{mermaid_label(label)}|" if label else ""
            line = f"    {ids[('node', u)]} {link}{text} {ids[('node', v)]}"
            self.lines.extend([line] * (1 + len(d.get("duplicates", ()))))
        for msg in flow.pool_messages:
            ends = [
                ids[("node", e)] if e in flow.graph else ids[("pool", e)]
                for e in (msg.source, msg.target)
            ]
            text = f"|{mermaid_label(msg.label)}|" if msg.label else ""
            self.lines.append(f"    {ends[0]} -.->{text} {ends[1]}")
        for n, d in flow.graph.nodes(data=True):
            host = d.get("attached_to")
            if d["type"] == "boundaryEvent" and host in flow.graph:
                self.lines.append(f"    {ids[('node', host)]} ~~~ {ids[('node', n)]}")
        for obj in flow.data_objects:
            mid = ids[("data", obj.id)]
            for n in obj.inputs:
                if n in flow.graph:
                    self.lines.append(f"    {mid} -.-> {ids[('node', n)]}")
            for n in obj.outputs:
                if n in flow.graph:
                    self.lines.append(f"    {ids[('node', n)]} -.-> {mid}")
        for ann in flow.annotations:
            mid = ids[("annotation", ann.id)]
            for target in ann.targets:
                other = ids.get(("node", target)) or ids.get(("data", target))
                if other:
                    self.lines.append(f"    {mid} -.- {other}")

    def write(self) -> bytes:
        if self.flow.name:
            title = json.dumps(self.flow.name, ensure_ascii=False)
            self.lines += ["---", f"title: {title}", "---"]
        self.lines.append("flowchart LR")
        self.block(("top", ""), 1)
        self.links()
        for cls in sorted(self.classes):
            if cls in _CLASS_STYLES:
                self.lines.append(f"    classDef {cls} {_CLASS_STYLES[cls]}")
        for cls in sorted(self.classes):
            self.lines.append(f"    class {','.join(self.classes[cls])} {cls}")
        return ("\n".join(self.lines) + "\n").encode("utf-8")


def write_mermaid(
    flow: Flow,
    dest: str | os.PathLike[str] | IO[bytes] | None = None,
    **options: Any,
) -> bytes | None:
    """Write a flow as a Mermaid flowchart (``flowchart LR``).

    Parameters
    ----------
    flow : Flow
        The flow to write.
    dest : path or binary file, optional
        Where to write; the bytes are returned when omitted. A path ending
        in ``.md`` gets the chart as a fenced ```` ```mermaid ```` block, as
        the reader looks for it in Markdown.
    **options
        Accepted for symmetry with the other writers; none is used.

    Examples
    --------
    >>> flow = Flow("転入届")
    >>> _ = flow.add_node("s", type="startEvent", label="開始", lane="住民")
    >>> _ = flow.add_node("t", type="userTask", label="受付", lane="窓口")
    >>> _ = flow.add_edge("s", "t", label="届出")
    >>> print(write_mermaid(flow).decode())
    ---
    title: "転入届"
    ---
    flowchart LR
        subgraph n1["住民"]
            s(["開始"])
        end
        subgraph n2["窓口"]
            t["受付"]
        end
        s -->|"届出"| t
        classDef startEvent stroke:#2e7d32,stroke-width:2px
        class s startEvent
        class t userTask
    <BLANKLINE>
    """
    data = _Writer(flow).write()
    if isinstance(dest, (str, os.PathLike)) and os.fspath(dest).lower().endswith(".md"):
        data = b"```mermaid\n" + data + b"```\n"
    return emit(data, dest)
