"""The syntax of Mermaid flowcharts: statements, nodes, links, subgraphs.

:func:`parse_chart` reads the text of one flowchart into a :class:`Chart`:
the nodes with their shapes, labels and classes, the links with their
style, and the subgraphs with their members, following the grammar of
Mermaid's ``flow.jison``. What the chart *means* -- which node is an event,
which subgraph a lane -- is decided in :mod:`harpflow.io.mermaid`.

Examples
--------
>>> chart = parse_chart("flowchart LR\\n  A([開始]) --> B[受付] -.->|照会| C", "x")
>>> [(n.id, n.shape, n.label) for n in chart.nodes.values()]
[('A', 'stadium', '開始'), ('B', 'rect', '受付'), ('C', '', 'C')]
>>> [(link.source, link.target, link.style, link.label) for link in chart.links]
[('A', 'B', 'normal', ''), ('B', 'C', 'dotted', '照会')]
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field

from harpflow.errors import LimitError, ParseError

__all__ = [
    "MAX_DEPTH",
    "Chart",
    "Link",
    "MNode",
    "Subgraph",
    "label_text",
    "parse_chart",
]


@dataclass
class MNode:
    """A node as written: id, shape name, label, classes, first line."""

    id: str
    shape: str = ""
    label: str = ""
    classes: list[str] = field(default_factory=list)
    line: int = 0


@dataclass
class Link:
    """One link between two ids; ``style`` is normal, thick, dotted or invisible."""

    source: str
    target: str
    style: str
    arrow: bool
    label: str
    line: int
    id: str | None = None


@dataclass
class Subgraph:
    """A subgraph: its id, title, members (ids mentioned directly), parent."""

    id: str
    title: str
    line: int
    parent: str | None
    members: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set, repr=False)

    def mention(self, item: str) -> None:
        """Record a member once, keeping the order of first mention."""
        if item not in self.seen:
            self.seen.add(item)
            self.members.append(item)


@dataclass
class Chart:
    """A parsed flowchart."""

    direction: str = "TB"
    title: str | None = None
    nodes: dict[str, MNode] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    subgraphs: dict[str, Subgraph] = field(default_factory=dict)
    #: Subgraph ids in the order they were closed (inner before outer).
    closed: list[str] = field(default_factory=list)
    classes: dict[str, list[str]] = field(default_factory=dict)


#: Openers, their closers and the shape they draw, longest opener first.
_SHAPES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("(((", (")))",), ("doublecircle",)),
    ("([", ("])",), ("stadium",)),
    ("[(", (")]",), ("cylinder",)),
    ("[[", ("]]",), ("subroutine",)),
    ("((", ("))",), ("circle",)),
    ("{{", ("}}",), ("hexagon",)),
    ("[/", ("/]", "\\]"), ("lean_right", "trapezoid")),
    ("[\\", ("\\]", "/]"), ("lean_left", "inv_trapezoid")),
    ("[", ("]",), ("rect",)),
    ("(", (")",), ("round",)),
    ("{", ("}",), ("diamond",)),
    (">", ("]",), ("odd",)),
)
#: Deepest nesting of subgraphs that is read.
MAX_DEPTH = 200
_ID = re.compile(r"\w(?:\w|[.\-](?=\w))*")
_CLASS = re.compile(r":::([\w-]+)")
_LINKS = (
    # (pattern, style); links with text in the middle come after plain ones.
    (re.compile(r"(?P<h>[<xo])?(?P<b>-{2,})(?P<t>[->xo])"), "normal"),
    (re.compile(r"(?P<h>[<xo])?(?P<b>={2,})(?P<t>[=>xo])"), "thick"),
    (re.compile(r"(?P<h>[<xo])?(?P<b>-?\.+-)(?P<t>[>xo])?"), "dotted"),
    (re.compile(r"(?P<b>~{3,})"), "invisible"),
)
_TEXT_LINKS = (
    (re.compile(r"(?P<h>[<xo])?--\s+(?P<x>.*?)\s*(?P<b>-{2,})(?P<t>[->xo])"), "normal"),
    (re.compile(r"(?P<h>[<xo])?==\s+(?P<x>.*?)\s*(?P<b>={2,})(?P<t>[=>xo])"), "thick"),
    (re.compile(r"(?P<h>[<xo])?-\.\s*(?P<x>.*?)\s*\.+-(?P<t>[>xo])?"), "dotted"),
)
_IGNORED = re.compile(r"(style|classDef|click|linkStyle|direction|accTitle|accDescr)\b")
_HEADER = re.compile(r"(flowchart|graph|flowchart-elk)\b\s*(TB|TD|BT|RL|LR)?\s*;?")
_ENTITY = re.compile(r"#(\w+);")
_NEW_SHAPE = re.compile(r"@\{(?P<body>[^}]*)\}")


def label_text(raw: str) -> str:
    """Decode a label: quotes, ``<br>`` and ``\\n`` breaks, tags, ``#entities;``.

    Examples
    --------
    >>> label_text('"申請書を<br>受付"')
    '申請書を\\n受付'
    >>> label_text('"A #quot;B#quot; #35;1"')
    'A "B" #1'
    """
    text = raw.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    if len(text) >= 2 and text[0] == text[-1] == "`":
        text = text[1:-1]
    text = re.sub(r"<br\s*/?>", "\n", text, flags=re.I).replace("\\n", "\n")
    text = re.sub(r"</?[A-Za-z][^>]*>", "", text)

    def entity(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.isdigit():
            return chr(int(name))
        decoded = html.unescape(f"&{name};")
        return decoded if decoded != f"&{name};" else match.group(0)

    return _ENTITY.sub(entity, text)


def _split(line: str) -> list[tuple[int, str]]:
    """Split a line at ``;`` outside quotes; each part with its column."""
    parts: list[tuple[int, str]] = []
    start, quoted = 0, False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            parts.append((start, line[start:i]))
            start = i + 1
    parts.append((start, line[start:]))
    return [(col, part) for col, part in parts if part.strip()]


class _Statement:
    """A scanner over one statement."""

    def __init__(self, text: str, where: str, line: int) -> None:
        self.s = text
        self.i = 0
        self.where = where
        self.line = line

    def error(self, message: str) -> ParseError:
        return ParseError(
            message, source=self.where, line=self.line, element=self.s.strip()[:60]
        )

    def ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i].isspace():
            self.i += 1

    def done(self) -> bool:
        self.ws()
        return self.i >= len(self.s)

    def text_until(self, closers: tuple[str, ...]) -> tuple[str, str]:
        """The text up to the first closer; returns (raw text, closer)."""
        s, i = self.s, self.i
        j = i
        while j < len(s) and s[j].isspace():
            j += 1
        if j < len(s) and s[j] == '"':
            end = s.find('"', j + 1)
            if end < 0:
                raise self.error("a quoted label is not closed")
            k = end + 1
            while k < len(s) and s[k].isspace():
                k += 1
            for closer in closers:
                if s.startswith(closer, k):
                    self.i = k + len(closer)
                    return s[j : end + 1], closer
            raise self.error(f"expected {closers[0]!r} after the quoted label")
        found = [(s.find(c, i), c) for c in closers if s.find(c, i) >= 0]
        if not found:
            raise self.error(f"the shape is not closed with {closers[0]!r}")
        at, closer = min(found)
        self.i = at + len(closer)
        return s[i:at], closer

    def node(self) -> MNode:
        self.ws()
        match = _ID.match(self.s, self.i)
        if not match:
            rest = self.s[self.i :].strip()
            raise self.error(f"expected a node id, found {rest[:20]!r}")
        node = MNode(match.group(0), line=self.line)
        self.i = match.end()
        new = _NEW_SHAPE.match(self.s, self.i)
        if new:
            self.i = new.end()
            node.shape, node.label = _new_shape(new.group("body"))
        else:
            j = self.i
            while j < len(self.s) and self.s[j] == " ":
                j += 1
            for opener, closers, shapes in _SHAPES:
                if opener == ">" and j != self.i:
                    continue
                if self.s.startswith(opener, j):
                    self.i = j + len(opener)
                    raw, closer = self.text_until(closers)
                    node.shape = shapes[closers.index(closer)]
                    node.label = label_text(raw)
                    break
        cls = _CLASS.match(self.s, self.i)
        if cls:
            node.classes.append(cls.group(1))
            self.i = cls.end()
        return node

    def group(self) -> list[MNode]:
        nodes = [self.node()]
        while True:
            self.ws()
            if self.s.startswith("&", self.i):
                self.i += 1
                nodes.append(self.node())
            else:
                return nodes

    def link(self) -> tuple[str, bool, bool, str, str | None] | None:
        """(style, arrow, both ways, label, id) of the link here, or None."""
        self.ws()
        link_id = None
        named = re.compile(r"(\w+)@(?=[-=.~<xo])").match(self.s, self.i)
        if named:
            link_id = named.group(1)
            self.i = named.end()
        label = ""
        # Plain links first: "-- text -->" does not match them, as "--"
        # followed by a space is not a whole link.
        for pattern, style in (*_LINKS, *_TEXT_LINKS):
            match = pattern.match(self.s, self.i)
            if not match:
                continue
            groups = match.groupdict()
            self.i = match.end()
            if groups.get("x") is not None:
                label = label_text(groups["x"])
            tail, head = groups.get("t") or "", groups.get("h") or ""
            arrow = tail in (">", "x", "o") or head == "<"
            both = head == "<" and tail == ">"
            self.ws()
            if self.s.startswith("|", self.i):
                end = self.s.find("|", self.i + 1)
                if end < 0:
                    raise self.error("a link label is not closed with '|'")
                label = label_text(self.s[self.i + 1 : end])
                self.i = end + 1
            return style, arrow, both, label, link_id
        if link_id:
            raise self.error("expected a link after the link id")
        return None


def _new_shape(body: str) -> tuple[str, str]:
    """Shape and label of the ``A@{ shape: ..., label: "..." }`` syntax."""
    shape, label = "rect", ""
    for part in re.finditer(r'(\w+)\s*:\s*("(?:[^"]*)"|[^,]+)', body):
        key, value = part.group(1), part.group(2).strip()
        if key == "shape":
            shape = "@" + value.strip('"')
        elif key == "label":
            label = label_text(value)
    return shape, label


def _front_matter(lines: list[str], chart: Chart) -> int:
    """Read a ``---`` front matter block; return the index after it."""
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None or lines[first].strip() != "---":
        return 0
    for j in range(first + 1, len(lines)):
        text = lines[j].strip()
        if text == "---":
            return j + 1
        match = re.match(r"title\s*:\s*(.*)$", text)
        if match:
            value = match.group(1).strip()
            if value.startswith('"'):
                try:
                    value = str(json.loads(value))
                except ValueError:
                    value = value.strip('"')
            chart.title = value.strip("'") if value.startswith("'") else value
    return 0


def parse_chart(text: str, where: str, first_line: int = 1) -> Chart:
    """Parse a flowchart; ``first_line`` is the file line of the text's first line.

    Raises
    ------
    ParseError
        Naming the line of anything that is not Mermaid flowchart syntax.
    """
    chart = Chart()
    lines = text.splitlines()
    start = _front_matter(lines, chart)
    stack: list[Subgraph] = []
    header_seen = False
    for index in range(start, len(lines)):
        line_no = first_line + index
        raw = lines[index]
        stripped = raw.strip()
        if not stripped or stripped.startswith("%%"):
            continue
        if not header_seen:
            match = _HEADER.match(stripped)
            if not match:
                raise ParseError(
                    f"not a Mermaid flowchart: expected 'flowchart' or 'graph', "
                    f"found {stripped[:30]!r}",
                    source=where,
                    line=line_no,
                )
            header_seen = True
            chart.direction = match.group(2) or "TB"
            stripped = stripped[match.end() :]
        for _col, part in _split(stripped):
            _statement(chart, stack, part.strip(), where, line_no)
    if not header_seen:
        raise ParseError("no flowchart in the text", source=where, line=first_line)
    if stack:
        open_sg = stack[-1]
        raise ParseError(
            f"subgraph {open_sg.id!r} is never closed with 'end'",
            source=where,
            line=open_sg.line,
            element=f"subgraph {open_sg.id}",
        )
    return chart


def _mention(chart: Chart, stack: list[Subgraph], node: MNode) -> None:
    known = chart.nodes.get(node.id)
    if known is None:
        chart.nodes[node.id] = MNode(node.id, node.shape, node.label, [], node.line)
        known = chart.nodes[node.id]
        if not node.shape:
            known.label = node.id
    elif node.shape:
        known.shape, known.label = node.shape, node.label
    for cls in node.classes:
        chart.classes.setdefault(node.id, []).append(cls)
    if stack:
        stack[-1].mention(node.id)


def _statement(
    chart: Chart, stack: list[Subgraph], text: str, where: str, line: int
) -> None:
    if text.startswith("%%"):
        return
    if text == "end":
        if not stack:
            raise ParseError(
                "'end' without a subgraph", source=where, line=line, element="end"
            )
        chart.closed.append(stack.pop().id)
        return
    if re.match(r"subgraph\b", text):
        _subgraph(chart, stack, text, where, line)
        return
    if _IGNORED.match(text):
        return
    cls = re.match(r"class\s+(\S+)\s+([\w-]+)\s*$", text)
    if cls:
        for target in cls.group(1).split(","):
            if target.strip():
                chart.classes.setdefault(target.strip(), []).append(cls.group(2))
        return
    scan = _Statement(text, where, line)
    group = scan.group()
    for node in group:
        _mention(chart, stack, node)
    while not scan.done():
        link = scan.link()
        if link is None:
            rest = scan.s[scan.i :].strip()
            raise scan.error(f"expected a link or the end of the line at {rest[:20]!r}")
        style, arrow, both, label, link_id = link
        targets = scan.group()
        for node in targets:
            _mention(chart, stack, node)
        for a in group:
            for b in targets:
                chart.links.append(Link(a.id, b.id, style, arrow, label, line, link_id))
                if both:
                    chart.links.append(Link(b.id, a.id, style, arrow, label, line))
        group = targets


def _subgraph(
    chart: Chart, stack: list[Subgraph], text: str, where: str, line: int
) -> None:
    rest = text[len("subgraph") :].strip()
    match = re.match(r'(?P<id>[^\s\["]+)\s*\[(?P<title>.*)\]\s*$', rest)
    if match:
        sg_id, title = match.group("id"), label_text(match.group("title"))
    elif rest:  # a title alone, quoted or not, is also the id
        sg_id = title = label_text(rest)
    else:
        raise ParseError(
            "a subgraph needs an id or a title",
            source=where,
            line=line,
            element="subgraph",
        )
    if sg_id in chart.subgraphs:
        raise ParseError(
            f"two subgraphs with id {sg_id!r}",
            source=where,
            line=line,
            element=f"subgraph {sg_id}",
        )
    if len(stack) >= MAX_DEPTH:
        raise LimitError(
            f"subgraphs are nested more than {MAX_DEPTH} levels deep",
            source=where,
            line=line,
            element=f"subgraph {sg_id}",
        )
    parent = stack[-1].id if stack else None
    if stack:
        stack[-1].mention(sg_id)
    sg = Subgraph(sg_id, title, line, parent)
    chart.subgraphs[sg_id] = sg
    stack.append(sg)
