"""Step tables in Excel workbooks: read behind a zip-bomb guard, written reproducibly.

The contract is described in :mod:`harpflow.io.table`; this module reads
and writes the XLSX form with openpyxl.

Reading: before openpyxl sees the file, the zip directory is read and the
declared uncompressed sizes of all members are added up; more than
``max_unzipped`` bytes (default :data:`DEFAULT_MAX_UNZIPPED`, 100 MB), or
more than :data:`MAX_MEMBERS` members, is a :class:`~harpflow.errors.LimitError`.
A member cannot inflate past its declared size afterwards: Python's
:mod:`zipfile` stops every member at its declared size and checks its
CRC. The workbook is opened ``read_only`` and ``data_only`` (cached formula
results, never formulas). openpyxl parses the workbook's XML with the
standard library's expat, which never fetches external entities (they
stay undefined) and refuses entity expansion beyond its amplification
limit (expat 2.4 and later); either is a :class:`~harpflow.errors.ParseError`,
as is any other failure inside openpyxl. The workbook XML never reaches
:mod:`harpflow.io.xml` because openpyxl owns that parsing.

Writing: sheet 業務フロー (``steps`` with English headers) with a bold,
frozen header row, cells always typed as text (a label starting with
``=`` is not a formula), and a ``meta`` sheet of key/value rows. The
workbook's created and modified properties are fixed at
:data:`FIXED_TIME` (openpyxl stamps the modified time when it saves, so
the written ``docProps/core.xml`` is corrected afterwards) and the zip is
rewritten with fixed entry times, so the same table gives byte-identical
files.

Examples
--------
>>> from harpflow.io.table_rows import Table
>>> table = Table({"name": "例"}, [{"id": "1", "label": "受付"}], ["id", "label"])
>>> data = render_xlsx(table, "ja")
>>> data == render_xlsx(table, "ja")
True
>>> meta, rows = parse_xlsx(data, "<bytes>")
>>> meta["name"], rows[0].cells, rows[0].line
('例', {'id': '1', 'label': '受付'}, 2)
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import io
import re
import zipfile
from collections.abc import Iterator
from typing import Any

from harpflow.errors import LimitError, ParseError
from harpflow.io.table_csv import cell_text, header_keys
from harpflow.io.table_meta import dump_meta_value, parse_meta_value
from harpflow.io.table_rows import (
    LIST_KEYS,
    RawRow,
    Table,
    column_key,
    header_name,
    join_entries,
)

__all__ = [
    "DEFAULT_MAX_UNZIPPED",
    "FIXED_TIME",
    "MAX_MEMBERS",
    "parse_xlsx",
    "render_xlsx",
]

#: Default limit on the total uncompressed size of a workbook: 100 MB.
DEFAULT_MAX_UNZIPPED = 100_000_000
#: Most zip members a workbook may have.
MAX_MEMBERS = 10_000
#: Created/modified time written into every workbook.
FIXED_TIME = _dt.datetime(2000, 1, 1, 0, 0, 0)
_FIXED_W3C = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")
_STEP_SHEETS = ("業務フロー", "steps")
_HEADER_SCAN = 20
#: Most empty rows in a row that a sheet may hold.
_EMPTY_RUN = 10_000


def _check_zip(data: bytes, source: str, max_unzipped: int) -> None:
    if not data.startswith(b"PK"):
        raise ParseError("not an XLSX workbook (no zip signature)", source=source)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        raise ParseError(f"not an XLSX workbook: {exc}", source=source) from None
    if len(infos) > MAX_MEMBERS:
        raise LimitError(
            f"workbook has {len(infos):,} zip members (limit {MAX_MEMBERS:,})",
            source=source,
        )
    total = 0
    for info in infos:
        total += info.file_size
        if total > max_unzipped:
            raise LimitError(
                f"workbook unpacks to more than the limit of {max_unzipped:,} bytes "
                "(raise max_unzipped to read it)",
                source=source,
                element=f"zip member {info.filename}",
            )


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    text = str(value)
    return text if text.strip() else None


def parse_xlsx(
    data: bytes,
    source: str,
    *,
    max_unzipped: int = DEFAULT_MAX_UNZIPPED,
    sheet: str | None = None,
) -> tuple[dict[str, Any], list[RawRow]]:
    """Read metadata and raw rows from workbook bytes.

    Raises
    ------
    LimitError
        When the zip members declare more than ``max_unzipped`` bytes.
    ParseError
        For a file that is no workbook, a missing sheet, or a wrong header.
    """
    _check_zip(data, source, max_unzipped)
    # openpyxl prints some complaints (a style index out of range) on
    # standard output before it raises; the library never prints, and the
    # CLI's --json output must stay clean.
    with contextlib.redirect_stdout(io.StringIO()):
        return _read_workbook(data, source, sheet)


def _read_workbook(
    data: bytes, source: str, sheet: str | None
) -> tuple[dict[str, Any], list[RawRow]]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on broken files
        raise ParseError(
            f"not a readable XLSX workbook: {type(exc).__name__}: {exc}", source=source
        ) from None
    try:
        names = list(wb.sheetnames)
        if sheet is not None:
            if sheet not in names:
                raise ParseError(
                    f"no sheet {sheet!r} (sheets: {', '.join(names)})", source=source
                )
            chosen = sheet
        else:
            named = [n for n in names if n in _STEP_SHEETS]
            others = [n for n in names if n != "meta"]
            if not named and not others:
                raise ParseError("workbook has no step sheet", source=source)
            chosen = named[0] if named else others[0]
        meta = _read_meta(wb["meta"], source) if "meta" in names else {}
        ws = wb[chosen]
        ws.reset_dimensions()
        rows = _read_rows(
            _bounded(ws.iter_rows(values_only=True), source), source, chosen
        )
    except ParseError:
        raise
    except Exception as exc:  # openpyxl parses each sheet lazily, as rows are read
        raise ParseError(
            f"damaged XLSX sheet: {type(exc).__name__}: {exc}", source=source
        ) from None
    finally:
        wb.close()
    return meta, rows


def _bounded(rows: Iterator[tuple[Any, ...]], source: str) -> Iterator[tuple[Any, ...]]:
    """The rows of a sheet, refusing a long run of empty ones.

    openpyxl fills a jump in row numbers (``<row r="4294967296">``) with
    empty rows, one at a time; a run of more than :data:`_EMPTY_RUN` is
    refused rather than walked.
    """
    empty = 0
    for line, values in enumerate(rows, 1):
        if any(v is not None for v in values):
            empty = 0
        else:
            empty += 1
            if empty > _EMPTY_RUN:
                raise ParseError(
                    f"more than {_EMPTY_RUN:,} empty rows in a row (does a row "
                    "number jump?)",
                    source=source,
                    line=line,
                )
        yield values


def _read_meta(ws: Any, source: str) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    ws.reset_dimensions()
    for values in _bounded(ws.iter_rows(values_only=True), source):
        if not values or values[0] is None:
            continue
        key = str(values[0]).strip()
        if not key or (key.lower() in ("key", "項目") and not meta):
            continue
        value = values[1] if len(values) > 1 else None
        meta[key] = parse_meta_value(value) if isinstance(value, str) else value
    return meta


def _read_rows(values: Any, source: str, sheet: str) -> list[RawRow]:
    header: list[str] | None = None
    header_line = 0
    first_nonempty: int | None = None
    keys: list[str | None] = []
    names: dict[str, str] = {}
    rows: list[RawRow] = []
    index = 0
    for line, cells in enumerate(values, 1):
        texts = [_cell(v) for v in cells]
        if header is None:
            if not any(texts):
                continue
            first_nonempty = first_nonempty or line
            found = [column_key(t) for t in texts if t]
            if "id" in found:
                header = [t or "" for t in texts]
                header_line = line
                keys, names = header_keys(header, source, line)
            elif line - first_nonempty >= _HEADER_SCAN:
                break
            continue
        if not any(texts):
            continue
        index += 1
        row = RawRow(index, line, {}, names)
        for key, text in zip(keys, texts, strict=False):
            if key is not None and text is not None:
                row.cells[key] = text
        extra = [t for t in texts[len(keys) :] if t]
        if extra:
            raise ParseError(
                f"a value beyond the header's {len(keys)} columns: {extra[0]!r}",
                source=source,
                line=line,
                element=f"row {index}, column {len(keys) + 1}",
            )
        rows.append(row)
    if header is None:
        if first_nonempty is None:
            raise ParseError(f"sheet {sheet!r} is empty", source=source)
        raise ParseError(
            "wrong header: no 番号 (id) column in the first rows of sheet "
            f"{sheet!r}; expected headers such as 番号,担当,作業,種別,次",
            source=source,
            line=first_nonempty,
            element="header",
        )
    del header_line
    return rows


def render_xlsx(table: Table, headers: str) -> bytes:
    """Write a table as workbook bytes, identical for identical tables."""
    import openpyxl
    from openpyxl.styles import Font

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "業務フロー" if headers == "ja" else "steps"
    bold = Font(bold=True)
    for col, key in enumerate(table.keys, 1):
        cell = ws.cell(row=1, column=col, value=header_name(key, headers))
        cell.font = bold
    for r, row in enumerate(table.rows, 2):
        for col, key in enumerate(table.keys, 1):
            value = row.get(key)
            if isinstance(value, list) and key in LIST_KEYS:
                text = join_entries(value, "\n", links=key in ("next", "messages"))
            else:
                text = cell_text(value, key, headers)
            if text:
                cell = ws.cell(row=r, column=col, value=text)
                cell.data_type = "s"
    ws.freeze_panes = "A2"
    for col, key in enumerate(table.keys, 1):
        width = 30 if key in ("label", "note") else 12
        ws.column_dimensions[openpyxl.utils.get_column_letter(col)].width = width
    meta_ws = wb.create_sheet("meta")
    meta_ws.cell(row=1, column=1, value="key").font = bold
    meta_ws.cell(row=1, column=2, value="value").font = bold
    r = 2
    for key, value in table.meta.items():
        if value is None:
            continue
        meta_ws.cell(row=r, column=1, value=key).data_type = "s"
        meta_ws.cell(row=r, column=2, value=dump_meta_value(value)).data_type = "s"
        r += 1
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    wb.properties.creator = "harpflow"
    raw = io.BytesIO()
    wb.save(raw)
    return _fix_zip_times(raw.getvalue())


def _fix_zip_times(data: bytes) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                # openpyxl stamps the time of saving; put the fixed time back
                content = _MODIFIED.sub(rb"\g<1>" + _FIXED_W3C + rb"\g<2>", content)
            dst.writestr(fixed, content)
    return out.getvalue()
