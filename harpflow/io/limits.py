"""Limits on what one input may hold, and the check that enforces them.

A survey reads files sent by hundreds of offices; a few will be huge,
deeply nested or built to exhaust memory. :class:`Limits` gathers every
bound :func:`harpflow.io.read` applies, each a documented parameter with a
default far above any real business flow:

========================  ===============  ====================================
limit                     default          what it bounds
========================  ===============  ====================================
``max_bytes``             50,000,000       the size of the file as read
``max_decompressed``      100,000,000      zip members (.xlsx, .vsdx) together
                                           and one deflated diagrams.net page,
                                           once unpacked
``max_nodes``             50,000           flow nodes (steps, events, gateways)
``max_edges``             100,000          sequence and message flows
``max_depth``             32               nesting of sub-processes, and of
                                           lanes inside lanes
``max_label``             10,000           characters of one label or name
========================  ===============  ====================================

The size limits act before and while the reader runs: the file is never
read past ``max_bytes``, a zip package is refused from its directory before
any member is unpacked, and a deflated page stops inflating at
``max_decompressed``. The shape limits (nodes, edges, depth, label) are
checked by :func:`check` on the flow the reader returns. Exceeding any of
them raises :class:`~harpflow.errors.LimitError`, which names the file, the
limit, its value and the parameter that raises it.

Examples
--------
>>> from harpflow.model import Flow
>>> flow = Flow("転入届")
>>> _ = flow.add_node("a", label="受付")
>>> check(flow, Limits(), "tennyu.yaml")
>>> check(flow, Limits(max_label=1), "tennyu.yaml")
Traceback (most recent call last):
...
harpflow.errors.LimitError: tennyu.yaml: task id='a': label of 2 characters;...

Notes
-----
The shape limits are checked after reading, so they bound what reaches
the rest of the pipeline (matching is quadratic in the number of steps),
not the work of the reader itself; that work is bounded by ``max_bytes``
and, for XML, by libxml2's own nesting limit of 256 elements.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harpflow.errors import LimitError, ParseError
from harpflow.io.source import DEFAULT_MAX_BYTES

if TYPE_CHECKING:
    from harpflow.model import Flow

__all__ = [
    "DEFAULT_LIMITS",
    "MAX_ZIP_MEMBERS",
    "Limits",
    "check",
    "check_zip",
]

#: Largest number of members a zip package (.xlsx, .vsdx) may have.
MAX_ZIP_MEMBERS = 10_000


@dataclass(frozen=True)
class Limits:
    """Bounds on one input; every field has a default far above real flows.

    Parameters
    ----------
    max_bytes : int
        Largest file, in bytes (default 50 MB).
    max_decompressed : int
        Largest unpacked size, in bytes, of the members of a zip package
        (.xlsx, .vsdx) taken together, and of one deflated diagrams.net
        page (default 100 MB).
    max_nodes : int
        Most flow nodes in one flow (default 50,000).
    max_edges : int
        Most sequence and message flows in one flow (default 100,000).
    max_depth : int
        Deepest nesting of sub-processes, and of lanes within lanes
        (default 32; a top-level step has depth 0).
    max_label : int
        Longest label, lane or pool name, in characters (default 10,000).

    Raises
    ------
    ValueError
        If a limit is not a positive integer.

    Examples
    --------
    >>> Limits().max_bytes
    50000000
    >>> Limits(max_nodes=500).max_nodes
    500
    """

    max_bytes: int = DEFAULT_MAX_BYTES
    max_decompressed: int = 100_000_000
    max_nodes: int = 50_000
    max_edges: int = 100_000
    max_depth: int = 32
    max_label: int = 10_000

    def __post_init__(self) -> None:
        for name in (
            "max_bytes",
            "max_decompressed",
            "max_nodes",
            "max_edges",
            "max_depth",
            "max_label",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, not {value!r}")


#: The limits :func:`harpflow.io.read` applies when none are given.
DEFAULT_LIMITS = Limits()


def _refuse(
    what: str,
    limit: int,
    param: str,
    source: str | None,
    *,
    line: int | None = None,
    element: str | None = None,
) -> LimitError:
    return LimitError(
        f"{what}; the limit is {limit:,} (raise {param} to read it)",
        source=source,
        line=line,
        element=element,
    )


def check_zip(data: bytes, limits: Limits, source: str) -> None:
    """Refuse a zip package whose members would unpack past the limits.

    Only the central directory is read; no member is unpacked. A member
    cannot inflate past the size it declares, because :mod:`zipfile`
    stops it there and checks its CRC.

    Raises
    ------
    LimitError
        More than :data:`MAX_ZIP_MEMBERS` members, or declared sizes that
        add up to more than ``limits.max_decompressed``.

    Examples
    --------
    >>> check_zip(b"PK\\x03\\x04 broken", Limits(), "a.xlsx")  # left to the reader
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
        return  # not a zip: the format's reader says what it expected
    if len(members) > MAX_ZIP_MEMBERS:
        raise LimitError(
            f"{len(members):,} members; the limit is {MAX_ZIP_MEMBERS:,}",
            source=source,
        )
    total = 0
    for info in members:
        total += info.file_size
        if total > limits.max_decompressed:
            raise _refuse(
                "zip members unpack to more than the limit",
                limits.max_decompressed,
                "max_decompressed",
                source,
                element=info.filename,
            )


def _where(flow: Flow, node_id: str) -> tuple[int | None, str]:
    node = flow.nodes[node_id]
    ref = node.source
    element = f"{node.type} id={node_id!r}"
    return (ref.line if ref is not None else None), element


def _depth(parents: dict[str, str | None], start: str, limit: int) -> tuple[int, bool]:
    """Nesting depth of ``start`` (0 at top level), stopping past ``limit``.

    Returns the depth and whether the chain of parents loops.
    """
    depth = 0
    seen = {start}
    current = parents.get(start)
    while current is not None and current in parents:
        depth += 1
        if depth > limit:
            return depth, False
        if current in seen:
            return depth, True
        seen.add(current)
        current = parents.get(current)
    return depth, False


def check(flow: Flow, limits: Limits, source: str | None = None) -> None:
    """Refuse a flow larger, deeper or wordier than ``limits`` allow.

    Parameters
    ----------
    flow : Flow
        The flow a reader returned.
    limits : Limits
        The bounds to apply (``max_nodes``, ``max_edges``, ``max_depth``,
        ``max_label``; the size limits act earlier).
    source : str, optional
        The file name for messages; by default ``flow.source``.

    Raises
    ------
    LimitError
        The first limit exceeded, with the element at fault where there is
        one.

    Examples
    --------
    >>> from harpflow.model import Flow
    >>> flow = Flow()
    >>> for i in range(3):
    ...     _ = flow.add_node(f"t{i}")
    >>> check(flow, Limits(max_nodes=2), "a.mmd")
    Traceback (most recent call last):
    ...
    harpflow.errors.LimitError: a.mmd: 3 nodes; the limit is 2 (raise max_nodes ...
    """
    where = source if source is not None else flow.source
    graph = flow.graph

    # Counts first: they are cheap and bound the work below.
    nodes = graph.number_of_nodes()
    if nodes > limits.max_nodes:
        raise _refuse(f"{nodes:,} nodes", limits.max_nodes, "max_nodes", where)
    edges = sum(1 + len(d.get("duplicates", ())) for _, _, d in graph.edges(data=True))
    edges += len(flow.pool_messages)
    if edges > limits.max_edges:
        raise _refuse(f"{edges:,} flows", limits.max_edges, "max_edges", where)

    # Labels of nodes, flows, lanes, pools and data objects.
    for node_id in sorted(graph.nodes):
        label = graph.nodes[node_id].get("label") or ""
        if len(label) > limits.max_label:
            line, element = _where(flow, node_id)
            raise _refuse(
                f"label of {len(label):,} characters",
                limits.max_label,
                "max_label",
                where,
                line=line,
                element=element,
            )
    for edge in flow.edges:
        if len(edge.label or "") > limits.max_label:
            raise _refuse(
                f"label of {len(edge.label):,} characters",
                limits.max_label,
                "max_label",
                where,
                element=f"{edge.kind} flow id={edge.id!r}",
            )
    named: list[tuple[str, str, str]] = [
        ("lane", lane.id, lane.name) for lane in flow.lanes
    ]
    named += [("pool", pool.id, pool.name) for pool in flow.pools]
    named += [(d.kind, d.id, d.label) for d in flow.data_objects]
    for kind, item_id, text in named:
        if len(text or "") > limits.max_label:
            raise _refuse(
                f"name of {len(text):,} characters",
                limits.max_label,
                "max_label",
                where,
                element=f"{kind} id={item_id!r}",
            )

    # Nesting: sub-processes within sub-processes, lanes within lanes.
    node_parents: dict[str, str | None] = {
        n: graph.nodes[n].get("parent") for n in graph.nodes
    }
    for node_id in sorted(node_parents):
        depth, loops = _depth(node_parents, node_id, limits.max_depth)
        if loops:
            line, element = _where(flow, node_id)
            raise ParseError(
                "sub-processes enclose each other in a loop",
                source=where,
                line=line,
                element=element,
            )
        if depth > limits.max_depth:
            line, element = _where(flow, node_id)
            raise _refuse(
                f"nested more than {limits.max_depth} sub-processes deep",
                limits.max_depth,
                "max_depth",
                where,
                line=line,
                element=element,
            )
    lane_parents: dict[str, str | None] = {ln.id: ln.parent for ln in flow.lanes}
    for lane_id in sorted(lane_parents):
        depth, loops = _depth(lane_parents, lane_id, limits.max_depth)
        if loops:
            raise ParseError(
                "lanes enclose each other in a loop",
                source=where,
                element=f"lane id={lane_id!r}",
            )
        if depth > limits.max_depth:
            raise _refuse(
                f"lanes nested more than {limits.max_depth} deep",
                limits.max_depth,
                "max_depth",
                where,
                element=f"lane id={lane_id!r}",
            )
