"""Step table rows: the columns, their vocabularies and list cells.

This module holds what the YAML, CSV and XLSX step tables share: the
column names (Japanese and English), the 種別 and 媒体 vocabularies, the
splitting and joining of list cells (``次``, ``連携``, ``帳票``,
``機能ID``) and the row records. :mod:`harpflow.io.table_build` turns rows
into a :class:`~harpflow.model.Flow`, :mod:`harpflow.io.table_write` a flow
into rows; the file formats live in :mod:`harpflow.io.table` (YAML and the
public API), :mod:`harpflow.io.table_csv` and :mod:`harpflow.io.table_xlsx`,
and the contract is described in :mod:`harpflow.io.table`.

Examples
--------
>>> column_key("次"), column_key("Next"), column_key("担当者")
('next', 'next', None)
>>> node_type("判断"), node_type("userTask"), node_type("タイマー")
('exclusiveGateway', 'userTask', 'intermediateCatchEvent')
>>> split_entries("5:不備あり、6：不備なし")
['5:不備あり', '6：不備なし']
>>> parse_link("5：不備あり")
('5', '不備あり', False)
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harpflow.model import NODE_TYPES

__all__ = [
    "COLUMNS",
    "EXTENSION_KEYS",
    "LIST_KEYS",
    "MEDIUM_JA",
    "MEDIUM_WRITE_JA",
    "NONE_VALUES",
    "SEPARATORS",
    "STANDARD_KEYS",
    "TRIGGER_JA",
    "TYPE_JA",
    "TYPE_WRITE_JA",
    "Cell",
    "Column",
    "RawRow",
    "Table",
    "column_key",
    "followers",
    "header_name",
    "join_entries",
    "medium_value",
    "node_type",
    "parse_link",
    "split_entries",
    "unwrap_entry",
    "wrap_entry",
]


@dataclass(frozen=True)
class Column:
    """One column of the step table: its key, Japanese and English header."""

    key: str
    ja: str
    en: str
    aliases: tuple[str, ...] = ()


#: Every column, standard ones first, in the order writers use.
COLUMNS: tuple[Column, ...] = (
    Column("id", "番号", "id", ("no", "no.", "step")),
    Column("lane", "担当", "lane"),
    Column("label", "作業", "label", ("作業名", "name")),
    Column("type", "種別", "type", ("kind",)),
    Column("next", "次", "next", ("successors",)),
    Column("messages", "連携", "messages", ("message",)),
    Column("pool", "組織", "pool", ("organisation", "organization")),
    Column("forms", "帳票", "forms", ("form",)),
    Column("system", "システム", "system"),
    Column("function_ids", "機能ID", "function_ids", ("機能id", "function id")),
    Column("medium", "媒体", "medium"),
    Column("location", "場所", "location"),
    Column("note", "備考", "note", ("notes", "documentation")),
    # extensions (written only when a flow needs them)
    Column("parent", "親", "parent"),
    Column("attached_to", "付属", "attached_to", ("attached to",)),
    Column("trigger", "契機", "trigger"),
    Column("loop", "繰返し", "loop", ("繰り返し",)),
)
_BY_KEY = {c.key: c for c in COLUMNS}
#: Keys of the thirteen columns of the contract.
STANDARD_KEYS: tuple[str, ...] = tuple(c.key for c in COLUMNS[:13])
#: Keys of the extension columns (sub-processes, boundary events, triggers).
EXTENSION_KEYS: tuple[str, ...] = tuple(c.key for c in COLUMNS[13:])
#: Columns whose cells hold several entries.
LIST_KEYS = frozenset({"next", "messages", "forms", "function_ids"})


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower()


_HEADER_INDEX: dict[str, str] = {}
for _c in COLUMNS:
    for _name in (_c.ja, _c.en, *_c.aliases):
        _HEADER_INDEX[_fold(_name)] = _c.key


def column_key(header: str) -> str | None:
    """The column key of a header written in Japanese or English, or None.

    Case, width and surrounding spaces do not matter.
    """
    return _HEADER_INDEX.get(_fold(header))


def header_name(key: str, headers: str = "ja") -> str:
    """The header a writer uses for a column key."""
    col = _BY_KEY[key]
    return col.ja if headers == "ja" else col.en


#: 種別 in Japanese -> (BPMN element name, event trigger).
TYPE_JA: dict[str, tuple[str, str | None]] = {
    "開始": ("startEvent", None),
    "終了": ("endEvent", None),
    "作業": ("task", None),
    "手作業": ("manualTask", None),
    "システム": ("serviceTask", None),
    "入力": ("userTask", None),
    "送信": ("sendTask", None),
    "受信": ("receiveTask", None),
    "判断": ("exclusiveGateway", None),
    "分岐": ("exclusiveGateway", None),
    "並行": ("parallelGateway", None),
    "並列": ("parallelGateway", None),
    "包含": ("inclusiveGateway", None),
    "中間": ("intermediateCatchEvent", None),
    "タイマー": ("intermediateCatchEvent", "timer"),
    "通知": ("intermediateThrowEvent", None),
    "サブプロセス": ("subProcess", None),
    "呼出": ("callActivity", None),
}
# The name a writer gives each type (first Japanese name that maps to it).
TYPE_WRITE_JA: dict[str, str] = {}
for _ja, (_bpmn, _trig) in TYPE_JA.items():
    if _trig is None and _bpmn not in TYPE_WRITE_JA:
        TYPE_WRITE_JA[_bpmn] = _ja
_TYPE_BY_FOLD = {_fold(t): t for t in NODE_TYPES}

#: 媒体 in Japanese (and common variants) -> medium.
MEDIUM_JA: dict[str, str] = {
    "紙": "paper",
    "画面": "screen",
    "システム": "system",
    "ファイル": "file",
    "電話": "phone",
    "fax": "fax",
    "ファクス": "fax",
    "ファックス": "fax",
    "郵送": "mail",
    "オンライン": "online",
}
MEDIUM_WRITE_JA = {
    "paper": "紙",
    "screen": "画面",
    "system": "システム",
    "file": "ファイル",
    "phone": "電話",
    "fax": "FAX",
    "mail": "郵送",
    "online": "オンライン",
}
_MEDIUM_BY_FOLD = {_fold(k): v for k, v in MEDIUM_JA.items()} | {
    v: v for v in MEDIUM_WRITE_JA
}

TRIGGER_JA = {
    "タイマー": "timer",
    "メッセージ": "message",
    "シグナル": "signal",
    "エラー": "error",
    "条件": "conditional",
    "エスカレーション": "escalation",
    "補償": "compensation",
    "リンク": "link",
    "取消": "cancel",
    "停止": "terminate",
}


def node_type(value: str) -> str | None:
    """The BPMN element name for a 種別 value, or None when unknown.

    Empty means ``task``. Japanese kinds follow :data:`TYPE_JA`; BPMN names
    are accepted in any case.
    """
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        return "task"
    if text in TYPE_JA:
        return TYPE_JA[text][0]
    return _TYPE_BY_FOLD.get(text.lower())


def medium_value(value: str) -> str | None:
    """The medium for a 媒体 value in Japanese or English, or None when unknown."""
    return _MEDIUM_BY_FOLD.get(_fold(value))


# -- list cells ---------------------------------------------------------------

SEPARATORS = frozenset(",、;；\n\r")
NONE_VALUES = frozenset({"-", "－", "−", "ー"})


_OPENS_QUOTE = re.compile(r"\s*(?:\*?[^:：]*[:：]\s*)?")


def split_entries(cell: str) -> list[str]:
    """Split a list cell at ``,`` ``、`` ``;`` and line breaks.

    A 「 that starts an entry, or the text after its ``id:``, opens a quote
    that lasts to the matching 」: nothing inside is split, so a condition
    or form name holding a separator is written ``5:「不備あり、補正」``.
    Brackets elsewhere are plain text.
    """
    entries: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in cell:
        if ch == "「" and (depth or _OPENS_QUOTE.fullmatch("".join(current))):
            depth += 1
        elif ch == "」" and depth:
            depth -= 1
        if ch in SEPARATORS and depth == 0:
            entries.append("".join(current))
            current = []
        else:
            current.append(ch)
    entries.append("".join(current))
    return [e.strip() for e in entries if e.strip()]


def _unwrap(text: str) -> str:
    if text.startswith("「") and text.endswith("」"):
        depth = 0
        for i, ch in enumerate(text):
            if ch == "「":
                depth += 1
            elif ch == "」":
                depth -= 1
                if depth == 0 and i != len(text) - 1:
                    return text
        return text[1:-1]
    return text


def _needs_wrap(text: str, separators: bool) -> bool:
    return (
        (separators and any(ch in SEPARATORS for ch in text))
        or text.startswith("「")
        or text != text.strip()
    )


def wrap_entry(entry: str, *, links: bool = False, separators: bool = True) -> str:
    """One list entry as written: its text wrapped in 「」 where needed.

    Text that holds a separator (with ``separators=True``, for CSV and
    XLSX), starts with 「, or has white space at either end is wrapped, so
    that :func:`split_entries` and :func:`parse_link` give it back. With
    ``links=True`` (次, 連携) the entry is ``id:text`` and only the text is
    wrapped.
    """
    if links:
        head, colon, tail = entry.partition(":")
        if colon and _needs_wrap(tail, separators):
            return f"{head}:「{tail}」"
        return entry
    return f"「{entry}」" if _needs_wrap(entry, separators) else entry


def join_entries(
    entries: Sequence[str], sep: str = "、", *, links: bool = False
) -> str:
    """Join list entries into one cell, the reverse of :func:`split_entries`.

    Each entry is first wrapped by :func:`wrap_entry`.
    """
    return sep.join(wrap_entry(e, links=links) for e in entries)


def unwrap_entry(entry: str) -> str:
    """A list entry (帳票, 機能ID) as meant: stripped, one layer of 「」 removed."""
    return _unwrap(entry.strip())


def followers(ids: Sequence[str], parents: Mapping[str, str | None]) -> dict[str, str]:
    """The following row of the same 親 for each row that has one.

    This is the successor an empty 次 stands for.

    Examples
    --------
    >>> followers(["S", "P", "P1", "P2", "E"], {"P1": "P", "P2": "P"})
    {'P1': 'P2', 'P': 'E', 'S': 'P'}
    """
    out: dict[str, str] = {}
    last: dict[str | None, str] = {}
    for nid in reversed(ids):
        parent = parents.get(nid)
        if parent in last:
            out[nid] = last[parent]
        last[parent] = nid
    return out


def parse_link(entry: str) -> tuple[str, str, bool]:
    """Split ``id:text`` (``：`` accepted) into ``(id, text, default)``.

    A leading ``*`` marks the default flow of a gateway or activity. The
    text is stripped, then one layer of 「」 around all of it is removed.
    """
    text = entry.strip()
    default = text.startswith("*")
    if default:
        text = text[1:].lstrip()
    cut = [i for i in (text.find(":"), text.find("：")) if i >= 0]
    if not cut:
        return text, "", default
    i = min(cut)
    return text[:i].strip(), _unwrap(text[i + 1 :].strip()), default


# -- reading ------------------------------------------------------------------

Cell = str | list[str] | None


@dataclass
class RawRow:
    """One step row as a format read it, before it becomes a node.

    ``index`` is the step's 1-based position in the table (the header not
    counted), ``line`` the file line (the sheet row for XLSX), ``cells``
    the values by column key (lists where the format had lists) and
    ``names`` the headers as written, for messages.
    """

    index: int
    line: int | None
    cells: dict[str, Cell]
    names: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Table:
    """A parsed step table: metadata and rows, or a flow turned into rows."""

    meta: dict[str, Any]
    rows: list[dict[str, Cell]]
    keys: list[str]
