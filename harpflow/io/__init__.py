"""Reading and writing flows: one module per format, one dispatch here.

:func:`read` picks the reader by the file's suffix and, when the suffix is
unknown or ambiguous (``.xml``), by sniffing the content. :func:`write`
picks the writer by the suffix of the destination. Readers are imported
only when first used, so optional extras (Visio) cost nothing until then.

Examples
--------
>>> from harpflow.io import format_for, formats
>>> format_for("town/tennyu.bpmn")
'bpmn'
>>> sorted(f.name for f in formats() if f.writer)
['bpmn', 'csv', 'drawio', 'mermaid', 'xlsx', 'yaml']
"""

from __future__ import annotations

import importlib
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from harpflow.errors import FormatError
from harpflow.io.limits import DEFAULT_LIMITS, Limits, check, check_zip
from harpflow.io.source import Input, Source, open_input

if TYPE_CHECKING:
    from harpflow.model import Flow

__all__ = ["Format", "Limits", "format_for", "formats", "read", "sniff", "write"]


@dataclass(frozen=True)
class Format:
    """One file format: its name, module, reader, writer and suffixes."""

    name: str
    module: str
    reader: str | None
    writer: str | None
    suffixes: tuple[str, ...]
    description: str

    def load(self, attr: str) -> Any:
        """Import the format's module and return one of its functions."""
        return getattr(importlib.import_module(self.module), attr)


_FORMATS: tuple[Format, ...] = (
    Format(
        "bpmn",
        "harpflow.io.bpmn",
        "read_bpmn",
        "write_bpmn",
        (".bpmn", ".bpmn2", ".bpmn20"),
        "BPMN 2.0 XML with diagram interchange",
    ),
    Format(
        "yaml",
        "harpflow.io.table",
        "read_yaml",
        "write_yaml",
        (".yaml", ".yml"),
        "step table in YAML with flow metadata",
    ),
    Format(
        "csv",
        "harpflow.io.table",
        "read_csv",
        "write_csv",
        (".csv",),
        "step table in CSV (UTF-8, UTF-8 with BOM, cp932)",
    ),
    Format(
        "xlsx",
        "harpflow.io.table",
        "read_xlsx",
        "write_xlsx",
        (".xlsx", ".xlsm"),
        "step table in Excel (業務要件定義表 style)",
    ),
    Format(
        "drawio",
        "harpflow.io.drawio",
        "read_drawio",
        "write_drawio",
        (".drawio", ".dio"),
        "diagrams.net, compressed or plain",
    ),
    Format(
        "mermaid",
        "harpflow.io.mermaid",
        "read_mermaid",
        "write_mermaid",
        (".mmd", ".mermaid", ".md"),
        "Mermaid flowchart; fenced blocks in Markdown",
    ),
    Format(
        "pnml", "harpflow.io.pnml", "read_pnml", None, (".pnml",), "Petri net (PNML)"
    ),
    Format(
        "epml",
        "harpflow.io.epml",
        "read_epml",
        None,
        (".epml",),
        "event-driven process chain (EPML)",
    ),
    Format(
        "vsdx",
        "harpflow.io.visio",
        "read_vsdx",
        None,
        (".vsdx",),
        "Visio drawing (needs the 'visio' extra)",
    ),
)
_BY_NAME = {f.name: f for f in _FORMATS}
_BY_SUFFIX = {s: f for f in _FORMATS for s in f.suffixes}


def formats() -> list[Format]:
    """Every format harpflow knows, readers and writers."""
    return list(_FORMATS)


def _get(name: str) -> Format:
    try:
        return _BY_NAME[name]
    except KeyError:
        known = ", ".join(sorted(_BY_NAME))
        raise FormatError(f"unknown format {name!r} (known: {known})") from None


def format_for(path: str | os.PathLike[str]) -> str | None:
    """The format a file name suggests by its suffix, or None.

    ``.xml`` suggests nothing: it may be BPMN or diagrams.net.
    """
    name = Path(path).name.lower()
    if name.endswith(".drawio.xml"):
        return "drawio"
    if name.endswith(".bpmn20.xml") or name.endswith(".bpmn.xml"):
        return "bpmn"
    fmt = _BY_SUFFIX.get(Path(name).suffix)
    return fmt.name if fmt else None


_ROOT = re.compile(rb"<(?:[\w.-]+:)?([\w.-]+)[\s/>]")


def sniff(data: bytes) -> str | None:
    """Guess a format from content alone; None when nothing fits.

    Examples
    --------
    >>> sniff(b'<?xml version="1.0"?><mxfile><diagram/></mxfile>')
    'drawio'
    >>> sniff("flowchart LR\\n  A --> B".encode())
    'mermaid'
    """
    head = data[:65536]
    if head.startswith(b"PK\x03\x04"):
        if b"visio/" in data:
            return "vsdx"
        if b"xl/" in data:
            return "xlsx"
        return None
    text = head
    for bom in (b"\xef\xbb\xbf",):
        if text.startswith(bom):
            text = text[len(bom) :]
    if text.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = text.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            return None
    stripped = text.lstrip()
    if stripped.startswith(b"<"):
        body = re.sub(rb"<\?.*?\?>|<!--.*?-->", b"", stripped, flags=re.S)
        match = _ROOT.search(body)
        root = match.group(1).decode("ascii", "replace") if match else ""
        return {
            "definitions": "bpmn",
            "mxfile": "drawio",
            "mxGraphModel": "drawio",
            "pnml": "pnml",
            "epml": "epml",
        }.get(root)
    lines = [
        ln.strip()
        for ln in text.decode("utf-8", "replace").splitlines()
        if ln.strip() and not ln.strip().startswith("%%")
    ]
    if not lines:
        return None
    if re.match(r"^(flowchart|graph)\b", lines[0]) or "```mermaid" in lines:
        return "mermaid"
    if any(re.match(r"^steps\s*:", ln) for ln in lines):
        return "yaml"
    if "," in lines[0] or "\t" in lines[0]:
        return "csv"
    return None


def _choose(inp: Input, fmt: str | None) -> Format:
    if fmt is not None:
        return _get(fmt)
    by_suffix = format_for(inp.name) if inp.path is not None else None
    name = by_suffix or sniff(inp.data)
    if name is None:
        known = ", ".join(sorted(_BY_SUFFIX))
        raise FormatError(
            f"{inp.name}: cannot tell the format from the suffix or the content; "
            f"use one of the suffixes {known}, or name the format"
        )
    return _BY_NAME[name]


def read(
    source: Source,
    *,
    format: str | None = None,
    max_bytes: int | None = None,
    limits: Limits | None = None,
    **options: Any,
) -> Flow:
    """Read a flow from a file in any supported format.

    Parameters
    ----------
    source : path, file, bytes or str
        A path, an open file, or the content itself.
    format : str, optional
        One of the names in :func:`formats`; by default the suffix decides,
        and the content when the suffix does not.
    max_bytes : int, optional
        Largest accepted input; overrides ``limits.max_bytes`` when given
        (default 50 MB).
    limits : Limits, optional
        Bounds on size, unpacked size, nodes, edges, nesting and label
        length (see :class:`~harpflow.io.limits.Limits` for the defaults).
    **options
        Passed to the format's reader (e.g. ``page=`` for diagrams.net).

    Returns
    -------
    Flow

    Raises
    ------
    ParseError
        Malformed or hostile input, naming file, line and element.
    LimitError
        Input beyond one of ``limits``.
    FormatError
        An unknown format.
    """
    limits = limits or DEFAULT_LIMITS
    if max_bytes is not None:
        limits = replace(limits, max_bytes=max_bytes)
    inp = open_input(source, max_bytes=limits.max_bytes)
    fmt = _choose(inp, format)
    if fmt.reader is None:
        raise FormatError(f"format {fmt.name!r} cannot be read")
    if fmt.name in ("xlsx", "vsdx"):
        check_zip(inp.data, limits, inp.name)
    if fmt.name == "xlsx":
        options.setdefault("max_unzipped", limits.max_decompressed)
    elif fmt.name == "drawio":
        options.setdefault("max_inflated", limits.max_decompressed)
    reader = fmt.load(fmt.reader)
    flow: Flow = reader(inp, max_bytes=limits.max_bytes, **options)
    check(flow, limits, inp.name)
    return flow


def write(
    flow: Flow,
    dest: str | os.PathLike[str] | IO[bytes] | None = None,
    *,
    format: str | None = None,
    **options: Any,
) -> bytes | None:
    """Write a flow; the format follows the destination's suffix.

    Returns the bytes when ``dest`` is None (``format`` is then required).
    Files are written atomically.
    """
    if format is None:
        if isinstance(dest, (str, os.PathLike)):
            format = format_for(dest)
        if format is None:
            raise FormatError(f"cannot tell the output format of {dest!r}")
    fmt = _get(format)
    if fmt.writer is None:
        writable = ", ".join(f.name for f in _FORMATS if f.writer)
        raise FormatError(f"format {fmt.name!r} cannot be written (try {writable})")
    result: bytes | None = fmt.load(fmt.writer)(flow, dest, **options)
    return result
