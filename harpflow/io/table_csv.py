"""Step tables in CSV: encoding detection, header matching, rows, metadata lines.

The contract is described in :mod:`harpflow.io.table`; this module reads
and writes the CSV form.

Encoding is detected, never asked for, by
:func:`harpflow.io.encoding.decode_text`: a UTF-8 or UTF-16 byte order
mark decides; else bytes valid as UTF-8 are UTF-8; else cp932 or EUC-JP,
whichever reads as more plausible Japanese; bytes that decode as none of
these are a :class:`~harpflow.errors.ParseError` naming the line where
UTF-8 failed. UTF-8 goes before the Japanese encodings because Japanese
text in cp932 or EUC-JP is almost never valid UTF-8, while the reverse
often holds by chance. An empty file, and decoded text holding NUL or
other control characters (apart from tab and line breaks), are refused as
not being a table.

Examples
--------
>>> decode_text("番号,作業".encode("cp932"), "<bytes>")
('番号,作業', 'cp932')
>>> decode_text(b"\\xef\\xbb\\xbfid,label", "<bytes>")
('id,label', 'utf-8-sig')
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Sequence
from typing import Any

from harpflow.errors import FormatError, HarpflowWarning, ParseError
from harpflow.io.encoding import decode_text as _decode
from harpflow.io.table_meta import dump_meta_value, parse_meta_value
from harpflow.io.table_rows import (
    LIST_KEYS,
    Cell,
    RawRow,
    Table,
    column_key,
    header_name,
    join_entries,
)

__all__ = ["decode_text", "header_keys", "parse_csv", "render_csv"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def decode_text(data: bytes, source: str) -> tuple[str, str]:
    """Decode a text table; return the text and the encoding found.

    Raises
    ------
    ParseError
        For an empty file, bytes that no accepted encoding decodes, or
        binary data.
    """
    if not data.strip(b" \t\r\n\xef\xbb\xbf\xff\xfe\x00"):
        raise ParseError("empty file", source=source)
    text, encoding = _decode(data, source)
    bad = _CONTROL.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        raise ParseError(
            f"binary data (control character {bad.group()!r}), not a text table",
            source=source,
            line=line,
        )
    return text, encoding


def header_keys(
    headers: Sequence[str], source: str, line: int | None
) -> tuple[list[str | None], dict[str, str]]:
    """Column keys of a header row, and the header as written for each key.

    Unknown headers are ignored with a warning naming them.

    Raises
    ------
    ParseError
        When no 番号/id column is there, or one column appears twice.
    """
    keys: list[str | None] = []
    names: dict[str, str] = {}
    unknown = []
    for header in headers:
        text = str(header or "").strip()
        key = column_key(text) if text else None
        if key is None:
            if text:
                unknown.append(text)
            keys.append(None)
            continue
        if key in names:
            raise ParseError(
                f"wrong header: {names[key]!r} and {text!r} are the same column",
                source=source,
                line=line,
                element=f"column {text}",
            )
        names[key] = text
        keys.append(key)
    if "id" not in names:
        found = ", ".join(repr(str(h).strip()) for h in headers if str(h or "").strip())
        raise ParseError(
            "wrong header: no 番号 (id) column; expected headers such as "
            f"番号,担当,作業,種別,次 (found {found or 'nothing'})",
            source=source,
            line=line,
            element="header",
        )
    if unknown:
        warnings.warn(
            f"{source}: columns ignored: {', '.join(unknown)}",
            HarpflowWarning,
            stacklevel=3,
        )
    return keys, names


def _delimiter(header_line: str) -> str:
    best, score = ",", -1
    for delim in (",", "\t", ";"):
        cells = next(csv.reader([header_line], delimiter=delim))
        known = sum(1 for c in cells if column_key(c))
        if known > score:
            best, score = delim, known
    return best


def parse_csv(text: str, source: str) -> tuple[dict[str, Any], list[RawRow]]:
    """Parse decoded CSV text into metadata and raw rows."""
    lines = text.splitlines(keepends=True)
    meta: dict[str, Any] = {}
    start = 0
    while start < len(lines):
        stripped = lines[start].strip()
        if stripped.startswith("#"):
            key, colon, value = stripped[1:].partition(":")
            if colon and key.strip():
                meta[key.strip()] = parse_meta_value(value)
        elif stripped:
            break
        start += 1
    if start >= len(lines):
        raise ParseError("no header row and no steps", source=source)
    body = "".join(lines[start:])
    delim = _delimiter(lines[start])
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delim)
    header_line = start + 1
    try:
        header = next(reader)
    except csv.Error as exc:
        raise ParseError(f"CSV: {exc}", source=source, line=header_line) from None
    keys, names = header_keys(header, source, header_line)
    rows: list[RawRow] = []
    consumed = reader.line_num
    index = 0
    while True:
        row_line = start + consumed + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ParseError(f"CSV: {exc}", source=source, line=row_line) from None
        consumed = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        index += 1
        raw = RawRow(index, row_line, {}, names)
        if len(cells) > len(keys) and any(c.strip() for c in cells[len(keys) :]):
            raise ParseError(
                f"{len(cells)} cells but the header has {len(keys)} columns",
                source=source,
                line=row_line,
                element=f"row {index}, column {len(keys) + 1}",
            )
        for col, cell in zip(keys, cells, strict=False):
            if col is not None and cell.strip():
                raw.cells[col] = cell
        rows.append(raw)
    return meta, rows


def cell_text(value: Cell, key: str, headers: str) -> str:
    """One cell as text; list cells joined with 、 (``headers='ja'``) or ``, ``."""
    if value is None:
        return ""
    if isinstance(value, list):
        if key in LIST_KEYS:
            sep = "、" if headers == "ja" else ", "
            return join_entries(value, sep, links=key in ("next", "messages"))
        return join_entries(value)
    return value


def render_csv(table: Table, headers: str, encoding: str) -> bytes:
    """Write a table as CSV bytes: ``# key: value`` lines, header, rows."""
    out = io.StringIO(newline="")
    for key, value in table.meta.items():
        if value is None:
            continue
        text = dump_meta_value(value)
        out.write(f"# {key}: {text}\r\n")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([header_name(k, headers) for k in table.keys])
    for row in table.rows:
        writer.writerow([cell_text(row.get(k), k, headers) for k in table.keys])
    try:
        return out.getvalue().encode(encoding)
    except UnicodeEncodeError as exc:
        raise FormatError(
            f"cannot write {exc.object[exc.start : exc.end]!r} in {encoding}"
        ) from None
    except LookupError:
        raise FormatError(f"unknown encoding {encoding!r}") from None
