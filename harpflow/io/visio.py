"""Visio drawings (``.vsdx``), read onto the flow model.

A ``.vsdx`` file is a zip package of XML parts. The reader first checks the
package itself (see *Limits* below), then opens it with the optional
:mod:`vsdx` package (the ``visio`` extra) and reads one page:

- **Shapes** are classified by the universal name of their master (``NameU``;
  Visio appends ``.12`` to copies, which is ignored), else by the shape's own
  name: BPMN masters (*Task*, *Sub-Process*, *Call Activity*, *Start Event*,
  *Intermediate Event*, *End Event*, *Gateway*, *Data Object*, *Data Store*,
  *Text Annotation*, *Pool*, *Lane*) and flowchart masters (*Process* → task,
  *Decision* → exclusive gateway, *Start/End* and *Terminator* → start or end
  event by their connectors, *Document* and *Data* → data object,
  *Database* → data store, *Swimlane* → lane, *CFF Container* → pool), in
  English or as Japanese Visio names them (プロセス, 判断, 開始/終了, 書類,
  スイムレーン, ...). The BPMN shape data of Microsoft's stencil
  (``BpmnTaskType``, ``BpmnEventType``, ``BpmnTriggerOrResult``,
  ``BpmnGatewayType``) refines the type; so do the icons of itp-commerce's
  Process Modeler (``task_user.emf`` → ``userTask``; a
  ``TriggerThrowingMarker`` makes an intermediate event a throw event; loop
  and multi-instance markers, or ``BpmnLoopType``, set ``loop``).
- **Connectors** (*Sequence Flow*, *Message Flow*, *Association*, *Dynamic
  connector*, ...) join the shapes their ends are glued to: the page's
  ``Connect`` records, else the ``Sheet.N`` reference in the ``BeginX`` or
  ``EndX`` formula. A connector with an unglued end cannot be placed and is
  dropped with a :class:`~harpflow.errors.HarpflowWarning`. Its text is the
  flow's label.
- **Pools and lanes** are found by geometry: a node belongs to the innermost
  lane and pool whose outline contains its centre; a lane belongs to the pool
  that contains its centre. An intermediate event whose centre lies on the
  border of an activity is a boundary event attached to it; a node inside an
  expanded sub-process has it as ``parent``.
- A *Document* or *Data* shape placed inline in the flow (task → document →
  task) becomes a data object written by its predecessors and read by its
  successors, and the flow continues across it.

Bounds are converted to pixels at 96 per inch, with y growing downwards.

Limits
------
Before :mod:`vsdx` sees the file, the package is refused (``LimitError``)
when it holds more than :data:`MAX_MEMBERS` members, when a member declares
more than ``max_bytes`` uncompressed bytes, when all members together declare
more than four times ``max_bytes``, or when a member over 1 MB declares a
compression ratio above :data:`MAX_RATIO`; a member name that is absolute or
contains ``..`` is refused with a ``ParseError``. The sizes a member declares
bound what it can expand to (a longer stream fails its CRC check), so a zip
bomb is refused without being expanded. Every XML part is parsed through
:func:`harpflow.io.xml.parse_xml` (no DOCTYPE, no entities) before
:mod:`vsdx` reads it.

Notes
-----
- What a drawing shows only as a picture is lost: itp-commerce draws gateway
  kinds and event triggers as embedded metafiles, so their gateways read as
  exclusive and their events without a trigger.
- One page is read per call; a file whose pages hold several flows needs
  ``page=`` (name or index). Background pages are skipped.
- Rotation and flipping are ignored when computing positions.
- The flow's ids are the page's shape ids.

Examples
--------
>>> from harpflow.io.visio import classify
>>> classify("Sub-Process (collapsed)"), classify("Decision"), classify("判断")
('subProcess', 'exclusiveGateway', 'exclusiveGateway')
>>> classify("Sequence Flow.22"), classify("Swimlane (vertical)")
('~sequence', '#lane')
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Any

from harpflow.errors import (
    HarpflowError,
    LimitError,
    MissingDependencyError,
    ParseError,
)
from harpflow.io.source import DEFAULT_MAX_BYTES, Input
from harpflow.io.visio_page import PageReader
from harpflow.io.xml import parse_xml
from harpflow.model import Flow

__all__ = ["MAX_MEMBERS", "MAX_RATIO", "check_package", "classify", "read_vsdx"]

#: Most members a .vsdx package may hold.
MAX_MEMBERS = 10_000
#: Highest compression ratio accepted for a member larger than 1 MB.
MAX_RATIO = 200

# Ordered: the first keyword found in the normalised name decides. A leading
# "~" marks a connector kind, "#" a container, "@" an artifact, "?" a
# terminator whose kind follows from its connectors.
_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("sequence flow", "~sequence"),
    ("message flow", "~message"),
    ("data association", "~association"),
    ("association", "~association"),
    ("dynamic connector", "~sequence"),
    ("connector", "~sequence"),
    ("コネクタ", "~sequence"),
    ("cff container", "#pool"),
    ("pool / lane", "#lane"),
    ("pool", "#pool"),
    ("collaboration", "#pool"),
    ("プール", "#pool"),
    ("swimlane", "#lane"),
    ("functional band", "#lane"),
    ("lane", "#lane"),
    ("スイムレーン", "#lane"),
    ("レーン", "#lane"),
    ("call activity", "callActivity"),
    ("transaction", "transaction"),
    ("sub-process", "subProcess"),
    ("subprocess", "subProcess"),
    ("predefined process", "subProcess"),
    ("サブプロセス", "subProcess"),
    ("start/end", "?terminal"),
    ("terminator", "?terminal"),
    ("開始/終了", "?terminal"),
    ("端子", "?terminal"),
    ("start", "startEvent"),
    ("開始イベント", "startEvent"),
    ("intermediate", "intermediateCatchEvent"),
    ("中間イベント", "intermediateCatchEvent"),
    ("end", "endEvent"),
    ("終了イベント", "endEvent"),
    ("event-based gateway", "eventBasedGateway"),
    ("parallel gateway", "parallelGateway"),
    ("inclusive gateway", "inclusiveGateway"),
    ("complex gateway", "complexGateway"),
    ("gateway", "exclusiveGateway"),
    ("decision", "exclusiveGateway"),
    ("ゲートウェイ", "exclusiveGateway"),
    ("判断", "exclusiveGateway"),
    ("data store", "@dataStoreReference"),
    ("database", "@dataStoreReference"),
    ("stored data", "@dataStoreReference"),
    ("データベース", "@dataStoreReference"),
    ("text annotation", "@annotation"),
    ("annotation", "@annotation"),
    ("注釈", "@annotation"),
    ("data object", "@dataObjectReference"),
    ("document", "@dataObjectReference"),
    ("書類", "@dataObjectReference"),
    ("帳票", "@dataObjectReference"),
    ("データ", "@dataObjectReference"),
    ("data", "@dataObjectReference"),
    ("task", "task"),
    ("タスク", "task"),
    ("process", "task"),
    ("プロセス", "task"),
    ("処理", "task"),
    ("activity", "task"),
)


_PATTERNS = tuple(
    (re.compile(rf"(?<![a-z]){re.escape(word)}(?![a-z])"), kind)
    for word, kind in _KEYWORDS
)


def classify(name: str | None) -> str | None:
    """The kind a master or shape name stands for, or None.

    Node kinds are BPMN element names; connectors start with ``~``,
    containers with ``#``, artifacts (data, annotations) with ``@``, and
    ``?terminal`` is a flowchart start/end shape.
    """
    if not name:
        return None
    key = re.sub(r"\.\d+$", "", name).strip().lower()
    key = re.sub(r"\s+", " ", key.replace("_", " "))
    for pattern, kind in _PATTERNS:
        if pattern.search(key):
            return kind
    return None


def _escapes(member: str) -> bool:
    if member.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", member):
        return True
    return ".." in PurePosixPath(member.replace("\\", "/")).parts


def check_package(data: bytes, name: str, max_bytes: int) -> None:
    """Refuse a package that is not a zip, is too large, or escapes.

    Raises
    ------
    ParseError
        Not a zip archive, or a member name that is absolute or has ``..``.
    LimitError
        Too many members, a member or a total too large, or a ratio that
        only a decompression bomb has.

    Examples
    --------
    >>> check_package(b"not a zip", "a.vsdx", 1000)
    Traceback (most recent call last):
    ...
    harpflow.errors.ParseError: a.vsdx: not a Visio .vsdx package (not a zip archive)
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError):
        raise ParseError(
            "not a Visio .vsdx package (not a zip archive)", source=name
        ) from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise LimitError(
                f"{len(members):,} members; the limit is {MAX_MEMBERS:,}", source=name
            )
        total = 0
        for info in members:
            if _escapes(info.filename):
                raise ParseError(
                    "member name escapes the package",
                    source=name,
                    element=info.filename,
                )
            size = info.file_size
            total += size
            if size > max_bytes:
                raise LimitError(
                    f"member expands to {size:,} bytes; the limit is {max_bytes:,}",
                    source=name,
                    element=info.filename,
                )
            ratio = size / max(info.compress_size, 1)
            if size > 1_000_000 and ratio > MAX_RATIO:
                raise LimitError(
                    f"member compressed {ratio:,.0f} to 1; the limit is {MAX_RATIO} "
                    "(a decompression bomb?)",
                    source=name,
                    element=info.filename,
                )
            if total > 4 * max_bytes:
                raise LimitError(
                    f"members expand to more than {4 * max_bytes:,} bytes",
                    source=name,
                )
        for info in members:
            if info.filename.endswith((".xml", ".rels")):
                try:
                    part = archive.read(info)
                except (
                    zipfile.BadZipFile,
                    OSError,
                    RuntimeError,
                    ValueError,
                    EOFError,
                    zlib.error,
                ) as exc:
                    raise ParseError(
                        f"damaged member: {exc}", source=name, element=info.filename
                    ) from None
                parse_xml(part, max_bytes=max_bytes, name=f"{name}!{info.filename}")


def _open(data: bytes, name: str) -> Any:
    try:
        import vsdx
    except ImportError:
        raise MissingDependencyError(
            "reading .vsdx needs the optional package 'vsdx': "
            "pip install 'harpflow[visio]'"
        ) from None
    with tempfile.TemporaryDirectory(prefix="harpflow-vsdx-") as tmp:
        path = Path(tmp) / "drawing.vsdx"
        path.write_bytes(data)
        try:
            return vsdx.VisioFile(str(path))
        # vsdx reports a package it cannot follow with whatever error its
        # code meets (KeyError, AttributeError, TypeError...).
        except Exception as exc:
            raise ParseError(
                f"not a readable Visio drawing ({type(exc).__name__}: {exc})",
                source=name,
            ) from None


def read_vsdx(
    inp: Input, *, max_bytes: int = DEFAULT_MAX_BYTES, page: str | int | None = None
) -> Flow:
    """Read one page of a Visio drawing.

    Parameters
    ----------
    inp : Input
        The file (see :func:`harpflow.io.source.open_input`).
    max_bytes : int
        Largest accepted input, and largest uncompressed member.
    page : str or int, optional
        Name or index of the page; needed when several pages hold flows.

    Returns
    -------
    Flow

    Raises
    ------
    MissingDependencyError
        The ``vsdx`` package is not installed.
    ParseError, LimitError
        Not a .vsdx package, a hostile package, several pages without
        ``page=``.

    Examples
    --------
    >>> from harpflow.io.source import open_input
    >>> read_vsdx(open_input(b"PK\\x05\\x06" + bytes(18), name="empty.vsdx"))
    Traceback (most recent call last):
    ...
    harpflow.errors.ParseError: empty.vsdx: not a readable Visio drawing ...
    """
    check_package(inp.data, inp.name, max_bytes)
    drawing = _open(inp.data, inp.name)
    try:
        pages = [p for p in drawing.pages if not _is_background(p)]
        chosen, reader = _choose_page(pages, page, inp.name)
        flow = Flow(chosen.name, source=inp.name)
        flow.meta["format"] = "vsdx"
        flow.meta["page"] = chosen.name
        reader.fill(flow)
    except HarpflowError:
        raise
    # vsdx reads pages and masters lazily and reports a part it cannot
    # follow with whatever error its code meets.
    except Exception as exc:
        raise ParseError(
            f"not a readable Visio drawing ({type(exc).__name__}: {exc})",
            source=inp.name,
        ) from None
    return flow


def _is_background(page: Any) -> bool:
    info = page.vis.pages_xml.getroot() if page.vis.pages_xml is not None else None
    if info is None:
        return False
    for element in info:
        if element.get("ID") == page.page_id:
            return element.get("Background") == "1"
    return False


def _choose_page(
    pages: list[Any], which: str | int | None, name: str
) -> tuple[Any, PageReader]:
    if not pages:
        raise ParseError("the drawing has no pages", source=name)
    if which is None:
        readers = [(p, PageReader(p, name, classify)) for p in pages]
        holding = [(p, r) for p, r in readers if r.holds_flow]
        if len(holding) > 1:
            names = ", ".join(repr(p.name) for p, _ in holding)
            raise ParseError(
                f"{len(holding)} pages hold flows ({names}); choose one with page=",
                source=name,
            )
        return holding[0] if holding else readers[0]
    if isinstance(which, int):
        if not 0 <= which < len(pages):
            raise ParseError(f"no page number {which}", source=name)
        return pages[which], PageReader(pages[which], name, classify)
    for p in pages:
        if which == p.name:
            return p, PageReader(p, name, classify)
    known = ", ".join(repr(p.name) for p in pages)
    raise ParseError(f"no page named {which!r} (pages: {known})", source=name)
