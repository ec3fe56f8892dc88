"""Mermaid flowcharts: ``.mmd``, ``.mermaid``, and fenced blocks in ``.md``.

A Mermaid ``flowchart`` (or ``graph``), in any direction, is read into a
:class:`~harpflow.model.Flow`; :func:`write_mermaid` writes one back.

Reading
    - Node shapes: ``[ ]`` rectangle, ``( )`` rounded, ``{{ }}`` hexagon
      and the parallelograms ``[/ /]`` ``[\\ \\]`` are tasks; the trapezoids
      ``[/ \\]`` ``[\\ /]`` manual tasks; ``[[ ]]`` (subroutine) a call
      activity; ``{ }`` an exclusive gateway; ``([ ])`` (stadium) a start
      event when no sequence flow enters it, an end event when none leaves
      it, a task otherwise; ``(( ))`` likewise a start or end event, an
      intermediate throw event when flows both enter and leave it;
      ``((( )))`` an end event; ``[( )]`` (cylinder) a data store and
      ``> ]`` (flag) a data object, both kept as
      :class:`~harpflow.model.DataObject` records. A node written with no
      shape is a task labelled with its id. The ``A@{ shape: ... }`` syntax
      of Mermaid 11 is read for the common shape names.
    - Links ``-->``, ``---``, ``==>``, ``-.->`` (any length, with ``x`` or
      ``o`` ends, ``<-->`` both ways), labelled ``-->|label|`` or
      ``-- label -->``; chains ``A --> B --> C`` and ``A & B --> C & D``.
      Normal and thick links are sequence flows; dotted links are message
      flows (連絡, a hand-off); ``~~~`` only places nodes and is ignored.
      A link touching a data object or store is a data association.
    - ``subgraph … end`` blocks are lanes, nested; a node belongs to the
      innermost subgraph that mentions it (Mermaid's rule: the first
      subgraph to be closed).
    - Labels: quotes and Markdown-string backticks removed, ``<br>`` and
      ``\\n`` become line breaks, other tags are dropped, ``#quot;``,
      ``#35;`` and other ``#…;`` entity codes are decoded.
    - Text in UTF-8 (with or without a byte order mark), UTF-16 with a
      byte order mark, cp932 or EUC-JP, detected as
      :func:`harpflow.io.encoding.decode_text` describes.
    - ``%%`` comments, ``%%{init}%%`` directives, ``style``, ``classDef``,
      ``click``, ``linkStyle``, ``direction``, ``accTitle``/``accDescr``
      are accepted and ignored; a ``---`` front matter ``title`` names the
      flow. Errors name the line (:class:`~harpflow.errors.ParseError`
      ``line``).

Classes with a meaning
    ``class`` statements and ``:::`` assign classes; most are styling and
    ignored, but these names, which :func:`write_mermaid` emits, carry what
    Mermaid cannot draw: a BPMN element name (``userTask``,
    ``boundaryEvent``, ``parallelGateway``, ``subProcess``...) sets the
    node type; ``trigger_<kind>`` the event trigger; ``loop_standard``,
    ``loop_parallel``, ``loop_sequential`` the loop marker;
    ``non_interrupting`` a boundary event that does not cancel its
    activity; ``event_subprocess`` an event sub-process;
    ``textAnnotation`` a text annotation (its ``-.-`` links are its
    associations). On a subgraph, ``pool`` makes it a pool (its subgraphs
    are its lanes) and ``subProcess``, ``transaction``,
    ``adHocSubProcess`` or ``callActivity`` make it a sub-process whose
    members are its children; links may end on such a subgraph. A ``~~~``
    link from an activity to a boundary event attaches the event.

Notes
-----
What Mermaid loses, in both directions (each is checked by a test):

- diagram coordinates (bounds, waypoints): a flow read from Mermaid has
  none, and :mod:`harpflow.layout` draws it when written elsewhere;
- ids that are not plain ASCII words (or are Mermaid keywords such as
  ``end``) are renamed ``n1``, ``n2``... on writing, and edge ids are not
  written;
- default flows and formal condition expressions (the label stays);
- node attributes: documentation, medium, location, function ids, and
  forms other than the labels of associated data objects;
- a node inside a sub-process has no lane (as in BPMN, whose lanes list
  only top-level nodes); the flow's area, procedure and town.

Message flows, pools, data objects, text annotations, event triggers,
boundary attachments and task types are kept through the classes and link
styles above.

Subgraphs nested more than 200 levels deep are refused with a
:class:`~harpflow.errors.LimitError` naming the line. In a Markdown file
without ``block=``, the first block that holds a flowchart is read (a
``sequenceDiagram`` before it is passed over).
"""

from __future__ import annotations

import re
import warnings
from typing import Any

from harpflow.errors import FormatError, HarpflowWarning, ParseError
from harpflow.io.encoding import decode_text
from harpflow.io.mermaid_parse import Chart, parse_chart
from harpflow.io.source import DEFAULT_MAX_BYTES, Input, Source, open_input
from harpflow.model import ACTIVITY_TYPES, NODE_TYPES, Flow, SourceRef

__all__ = ["CONTAINER_CLASSES", "mermaid_blocks", "read_mermaid", "write_mermaid"]

#: Subgraph classes that make a subgraph a sub-process.
CONTAINER_CLASSES = ("subProcess", "transaction", "adHocSubProcess", "callActivity")
_SHAPE_TYPES = {
    "": "task",
    "rect": "task",
    "round": "task",
    "hexagon": "task",
    "lean_right": "task",
    "lean_left": "task",
    "trapezoid": "manualTask",
    "inv_trapezoid": "manualTask",
    "subroutine": "callActivity",
    "diamond": "exclusiveGateway",
    "doublecircle": "endEvent",
    "stadium": "@terminal",
    "circle": "@event",
    "cylinder": "@store",
    "odd": "@data",
}
#: Shape names of the ``A@{ shape: ... }`` syntax and the classic shape.
_NEW_SHAPES = {
    "rect": "rect",
    "proc": "rect",
    "process": "rect",
    "rectangle": "rect",
    "rounded": "round",
    "event": "round",
    "stadium": "stadium",
    "pill": "stadium",
    "terminal": "stadium",
    "diam": "diamond",
    "diamond": "diamond",
    "decision": "diamond",
    "question": "diamond",
    "subproc": "subroutine",
    "subprocess": "subroutine",
    "subroutine": "subroutine",
    "fr-rect": "subroutine",
    "framed-rectangle": "subroutine",
    "cyl": "cylinder",
    "cylinder": "cylinder",
    "database": "cylinder",
    "db": "cylinder",
    "circle": "circle",
    "circ": "circle",
    "sm-circ": "circle",
    "small-circle": "circle",
    "start": "circle",
    "dbl-circ": "doublecircle",
    "double-circle": "doublecircle",
    "fr-circ": "doublecircle",
    "framed-circle": "doublecircle",
    "stop": "doublecircle",
    "hex": "hexagon",
    "hexagon": "hexagon",
    "prepare": "hexagon",
    "lean-r": "lean_right",
    "lean-l": "lean_left",
    "trap-t": "trapezoid",
    "trap-b": "inv_trapezoid",
    "manual": "trapezoid",
    "odd": "odd",
    "doc": "odd",
    "document": "odd",
    "docs": "odd",
    "documents": "odd",
    "st-doc": "odd",
    "lin-doc": "odd",
    "tag-doc": "odd",
}
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*mermaid\b")


def mermaid_blocks(text: str) -> list[tuple[int, str]]:
    """The fenced ```` ```mermaid ```` blocks of a Markdown text.

    Returns ``(line, text)`` pairs, ``line`` being the 1-based file line of
    the block's first line.

    Examples
    --------
    >>> md = "# 転入\\n```mermaid\\nflowchart LR\\n  A --> B\\n```\\n"
    >>> mermaid_blocks(md)
    [(3, 'flowchart LR\\n  A --> B')]
    """
    lines = text.splitlines()
    blocks: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence = match.group(1)
        closing = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            j += 1
        blocks.append((i + 2, "\n".join(lines[i + 1 : j])))
        i = j + 1
    return blocks


def _is_flowchart(text: str) -> bool:
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("%%") or stripped == "---":
            continue
        if re.match(r"\w+\s*:", stripped) and not re.match(
            r"(flowchart|graph)\b", stripped
        ):
            continue  # front matter
        return bool(re.match(r"(flowchart|graph|flowchart-elk)\b", stripped))
    return False


def _choose_block(text: str, name: str, block: int | None) -> tuple[int, str]:
    blocks = mermaid_blocks(text)
    if not blocks:
        raise ParseError("no ```mermaid block in the Markdown text", source=name)
    if block is not None:
        if not 0 <= block < len(blocks):
            raise FormatError(
                f"{name}: no Mermaid block {block}; the text has {len(blocks)} "
                f"(0 to {len(blocks) - 1})"
            )
        return blocks[block]
    for found in blocks:
        if _is_flowchart(found[1]):
            return found
    return blocks[0]


def read_mermaid(
    source: Source | Input,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    block: int | None = None,
    **options: Any,
) -> Flow:
    """Read a Mermaid flowchart, or a fenced block of a Markdown file.

    Parameters
    ----------
    source : path, file, bytes, str or Input
        A ``.mmd``/``.mermaid`` file, a Markdown file, or the text itself.
    max_bytes : int
        Largest accepted input (default 50 MB).
    block : int, optional
        In Markdown, the 0-based index of the ```` ```mermaid ```` block to
        read; by default the first block holding a flowchart.
    **options
        Accepted for symmetry with the other readers; none is used.

    Raises
    ------
    ParseError
        Anything that is not flowchart syntax, with the file line.
    FormatError
        A ``block`` index that the Markdown text does not have.

    Examples
    --------
    >>> flow = read_mermaid('''flowchart LR
    ...   subgraph 住民
    ...     s([転入届]) --> a[届出書を記入]
    ...   end
    ...   subgraph 窓口
    ...     b[受付] --> g{不備?} -->|なし| e([完了])
    ...   end
    ...   a --> b
    ...   g -->|あり| a''')
    >>> [(n.id, n.type, n.lane) for n in flow.nodes.values()]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('s', 'startEvent', '住民'), ('a', 'task', '住民'), ('b', 'task', '窓口'),
     ('g', 'exclusiveGateway', '窓口'), ('e', 'endEvent', '窓口')]
    """
    inp = (
        source if isinstance(source, Input) else open_input(source, max_bytes=max_bytes)
    )
    text, _encoding = decode_text(inp.data, inp.name)
    first_line = 1
    if (
        inp.suffix == ".md"
        or block is not None
        or (not _is_flowchart(text) and mermaid_blocks(text))
    ):
        first_line, text = _choose_block(text, inp.name, block)
    chart = parse_chart(text, inp.name, first_line)
    name = chart.title
    if name is None and inp.path is not None:
        name = inp.path.name.split(".")[0]
    return _Builder(chart, inp.name).build(Flow(name, source=inp.name))


class _Builder:
    """What a parsed chart means: nodes, lanes, pools and flows."""

    def __init__(self, chart: Chart, where: str) -> None:
        self.chart = chart
        self.where = where
        self.kind: dict[str, str] = {}  # subgraph id -> lane, pool, or node type
        for sg in chart.subgraphs.values():
            classes = chart.classes.get(sg.id, [])
            kinds = [c for c in classes if c in CONTAINER_CLASSES]
            self.kind[sg.id] = (
                "pool" if "pool" in classes else (kinds[-1] if kinds else "lane")
            )
        self.owner: dict[str, str] = {}
        for sg_id in chart.closed:
            for member in chart.subgraphs[sg_id].members:
                if member not in chart.subgraphs:
                    self.owner.setdefault(member, sg_id)
        for sg in chart.subgraphs.values():
            if sg.parent is not None:
                self.owner[sg.id] = sg.parent

    def warn(self, message: str) -> None:
        warnings.warn(f"{self.where}: {message}", HarpflowWarning, stacklevel=4)

    def classes(self, item: str) -> list[str]:
        return self.chart.classes.get(item, [])

    def role(self, item: str) -> str:
        """node, data, store, annotation, pool, lane or a subgraph's node."""
        if item in self.chart.subgraphs:
            kind = self.kind[item]
            return kind if kind in ("pool", "lane") else "node"
        classes = self.classes(item)
        if "textAnnotation" in classes:
            return "annotation"
        if any(c in NODE_TYPES for c in classes):
            return "node"
        shape = self.chart.nodes[item].shape
        if shape.startswith("@"):
            shape = _NEW_SHAPES.get(shape[1:], "")
        meaning = _SHAPE_TYPES.get(shape, "task")
        return {"@data": "data", "@store": "store"}.get(meaning, "node")

    def place(self, item: str) -> tuple[str | None, str | None, str | None]:
        """(lane id, pool id, sub-process id) of a node or data object."""
        lane = pool = parent = None
        stop_lane = False
        current = self.owner.get(item)
        while current is not None:
            kind = self.kind[current]
            if kind == "pool":
                pool = pool or current
            elif kind == "lane":
                if lane is None and not stop_lane:
                    lane = current
            elif parent is None:
                parent = current
                stop_lane = True
            current = self.owner.get(current)
        if lane is not None and pool is None:
            up = self.owner.get(lane)
            while up is not None and pool is None:
                pool = up if self.kind[up] == "pool" else None
                up = self.owner.get(up)
        return lane, pool, parent

    def node_type(self, item: str, n_in: int, n_out: int) -> str:
        if item in self.chart.subgraphs:
            return self.kind[item]
        explicit = [c for c in self.classes(item) if c in NODE_TYPES]
        if explicit:
            return explicit[-1]
        node = self.chart.nodes[item]
        shape = node.shape
        if shape.startswith("@"):
            known = _NEW_SHAPES.get(shape[1:])
            if known is None:
                self.warn(
                    f"line {node.line}: unknown shape {shape[1:]!r} read as a task"
                )
            shape = known or "rect"
        meaning = _SHAPE_TYPES.get(shape, "task")
        if meaning == "@terminal":
            if n_in == 0:
                return "startEvent"
            return "endEvent" if n_out == 0 else "task"
        if meaning == "@event":
            if n_in == 0:
                return "startEvent"
            return "endEvent" if n_out == 0 else "intermediateThrowEvent"
        return meaning

    def build(self, flow: Flow) -> Flow:
        chart = self.chart
        items = [i for i in chart.nodes if i not in chart.subgraphs]
        roles = {i: self.role(i) for i in (*items, *chart.subgraphs)}
        n_in: dict[str, int] = {}
        n_out: dict[str, int] = {}
        for link in chart.links:
            if (
                link.style in ("normal", "thick")
                and roles.get(link.source) == roles.get(link.target) == "node"
            ):
                n_out[link.source] = n_out.get(link.source, 0) + 1
                n_in[link.target] = n_in.get(link.target, 0) + 1
        # Pools and lanes, outer before inner (declaration order).
        for sg in chart.subgraphs.values():
            if self.kind[sg.id] == "pool":
                flow.add_pool(sg.id, sg.title)
        for sg in chart.subgraphs.values():
            if self.kind[sg.id] != "lane":
                continue
            parent_lane, pool, _sub = self.place(sg.id)
            flow.add_lane(sg.id, sg.title, pool=pool, parent=parent_lane)
        # Nodes in the order they first appear; sub-process subgraphs too.
        order = [(chart.nodes[i].line, k, i) for k, i in enumerate(items)]
        order += [
            (sg.line, -1, sg.id)
            for sg in chart.subgraphs.values()
            if roles[sg.id] == "node"
        ]
        for _line, _k, item in sorted(order):
            if roles[item] == "node":
                self.add_node(flow, item, n_in.get(item, 0), n_out.get(item, 0))
        self.add_links(flow, roles)
        return flow

    def add_node(self, flow: Flow, item: str, n_in: int, n_out: int) -> None:
        lane, pool, parent = self.place(item)
        if item in self.chart.subgraphs:
            sg = self.chart.subgraphs[item]
            label, line = sg.title, sg.line
        else:
            node = self.chart.nodes[item]
            label, line = node.label, node.line
        node_type = self.node_type(item, n_in, n_out)
        extra: dict[str, Any] = {}
        for cls in self.classes(item):
            if cls.startswith("trigger_"):
                extra["trigger"] = cls[len("trigger_") :]
            elif cls.startswith("loop_"):
                extra["loop"] = cls[len("loop_") :]
            elif cls == "event_subprocess":
                extra["triggered_by_event"] = True
        if node_type == "boundaryEvent":
            extra["cancel_activity"] = "non_interrupting" not in self.classes(item)
        flow.add_node(
            item,
            type=node_type,
            label=label,
            lane_id=lane,
            pool_id=pool,
            parent=parent,
            source=SourceRef(self.where, line, f"node {item}"),
            **extra,
        )

    def add_links(self, flow: Flow, roles: dict[str, str]) -> None:
        data: dict[str, tuple[list[str], list[str]]] = {}
        notes: dict[str, list[str]] = {}
        messages = 0
        for link in self.chart.links:
            s, t = link.source, link.target
            rs, rt = roles.get(s, "node"), roles.get(t, "node")
            if link.style == "invisible":
                if (
                    rs == rt == "node"
                    and flow.graph.nodes[s]["type"] in ACTIVITY_TYPES
                    and flow.graph.nodes[t]["type"] == "boundaryEvent"
                ):
                    flow.update_node(t, attached_to=s)
                continue
            if rs in ("data", "store") or rt in ("data", "store"):
                if rs in ("data", "store") and rt == "node":
                    data.setdefault(s, ([], []))[0].append(t)
                elif rt in ("data", "store") and rs == "node":
                    data.setdefault(t, ([], []))[1].append(s)
                continue
            if "annotation" in (rs, rt):
                note, other = (s, t) if rs == "annotation" else (t, s)
                notes.setdefault(note, []).append(other)
                continue
            if "lane" in (rs, rt):
                self.warn(f"line {link.line}: skipped a link to a lane ({s} -> {t})")
                continue
            if "pool" in (rs, rt) or (
                link.style == "dotted" and flow.graph.has_edge(s, t)
            ):
                messages += 1
                flow.add_pool_message(
                    link.id or f"message_{messages}", s, t, label=link.label
                )
                continue
            flow.add_edge(
                s,
                t,
                id=link.id,
                kind="message" if link.style == "dotted" else "sequence",
                label=link.label,
            )
        for item in self.chart.nodes:
            role = roles.get(item)
            if role in ("data", "store"):
                inputs, outputs = data.get(item, ([], []))
                lane, _pool, parent = self.place(item)
                flow.add_data_object(
                    item,
                    self.chart.nodes[item].label,
                    kind="dataObjectReference"
                    if role == "data"
                    else "dataStoreReference",
                    inputs=inputs,
                    outputs=outputs,
                    parent=parent,
                    lane=lane,
                )
            elif role == "annotation":
                flow.add_annotation(
                    item, self.chart.nodes[item].label, targets=notes.get(item, ())
                )


def write_mermaid(flow: Flow, dest: Any = None, **options: Any) -> bytes | None:
    """Write a flow as a Mermaid flowchart (see :mod:`.mermaid_write`)."""
    from harpflow.io.mermaid_write import write_mermaid as _write

    return _write(flow, dest, **options)
