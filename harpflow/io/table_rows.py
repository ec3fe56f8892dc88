"""Step table rows: the columns, their vocabularies, and rows to and from a Flow.

This module holds what the YAML, CSV and XLSX step tables share: the
column names (Japanese and English), the 種別 and 媒体 vocabularies, the
splitting of list cells (``次``, ``連携``, ``帳票``, ``機能ID``), the
building of a :class:`~harpflow.model.Flow` from parsed rows and the
reverse, a flow turned into rows. The file formats themselves live in
:mod:`harpflow.io.table` (YAML and the public API), :mod:`harpflow.io.table_csv`
and :mod:`harpflow.io.table_xlsx`; the contract is described in
:mod:`harpflow.io.table`.

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

import unicodedata
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harpflow.errors import HarpflowWarning, ModelError, ParseError
from harpflow.model import ACTIVITY_TYPES, NODE_TYPES, Flow, SourceRef

__all__ = [
    "COLUMNS",
    "EXTENSION_KEYS",
    "LIST_KEYS",
    "MEDIUM_JA",
    "STANDARD_KEYS",
    "TYPE_JA",
    "Column",
    "RawRow",
    "Table",
    "build_flow",
    "column_key",
    "flow_to_table",
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
_TYPE_WRITE_JA: dict[str, str] = {}
for _ja, (_bpmn, _trig) in TYPE_JA.items():
    if _trig is None and _bpmn not in _TYPE_WRITE_JA:
        _TYPE_WRITE_JA[_bpmn] = _ja
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
_MEDIUM_WRITE_JA = {
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
    v: v for v in _MEDIUM_WRITE_JA
}

_TRIGGER_JA = {
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

_SEPARATORS = frozenset(",、;；\n\r")
_NONE = frozenset({"-", "－", "−", "ー"})


def split_entries(cell: str) -> list[str]:
    """Split a list cell at ``,`` ``、`` ``;`` and line breaks.

    A text between 「 and 」 is never split, so a condition or form name
    holding a separator is written as ``5:「不備あり、補正」``.
    """
    entries: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in cell:
        if ch == "「":
            depth += 1
        elif ch == "」":
            depth = max(depth - 1, 0)
        if ch in _SEPARATORS and depth == 0:
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
        (separators and any(ch in _SEPARATORS for ch in text))
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


_AS_WRITTEN = frozenset({"label", "note", "lane", "pool"})


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, message: str, row: RawRow, key: str | None = None) -> ParseError:
        element = f"row {row.index}"
        if key is not None:
            element += f", column {row.names.get(key) or header_name(key)}"
        return ParseError(message, source=self.source, line=row.line, element=element)

    def text(self, row: RawRow, key: str) -> str:
        """A one-value cell, stripped; names and free text keep their spaces.

        作業, 備考, 担当 and 組織 are kept as written (a label with a trailing
        space stays so) unless they hold nothing but white space.
        """
        value = row.cells.get(key)
        if value is None:
            return ""
        if isinstance(value, list):
            if len(value) > 1:
                raise self.error("expected one value, found a list", row, key)
            value = str(value[0]) if value else ""
        text = str(value)
        if not text.strip():
            return ""
        return text if key in _AS_WRITTEN else text.strip()

    def entries(self, row: RawRow, key: str) -> tuple[list[str], bool]:
        """Entries of a list cell and whether they came as a YAML list."""
        value = row.cells.get(key)
        if value is None:
            return [], False
        if isinstance(value, list):
            return [str(v) for v in value if str(v).strip()], True
        return split_entries(str(value)), False


def _normalise_area(value: Any) -> Any:
    """Area codes are two digits: ``1`` and ``"1"`` mean ``"01"``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:02d}"
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 2:
        return value.strip().zfill(2)
    return value


@dataclass
class _Step:
    row: RawRow
    id: str
    type: str
    trigger: str | None
    parent: str | None
    lane: str
    pool: str


def build_flow(rows: Sequence[RawRow], meta: Mapping[str, Any], source: str) -> Flow:
    """Build a :class:`Flow` from parsed rows and metadata.

    Raises
    ------
    ParseError
        Naming the row and column: unknown 種別 or 媒体, a repeated 番号, a
        task without 作業, a successor or message target that is no step.
    """
    rd = _Reader(source)
    meta = dict(meta)
    info: dict[str, Any] = {}
    for key in ("name", "area", "procedure", "town"):
        value = meta.pop(key, None)
        if key == "area":
            value = _normalise_area(value)
        if value is not None and not isinstance(value, str):
            value = str(value)
        info[key] = value
    lane_specs = _specs(meta.pop("lanes", None), "lanes", source)
    pool_specs = _specs(meta.pop("pools", None), "pools", source)
    pool_msgs = meta.pop("pool_messages", None) or []
    flow = Flow(info["name"], area=info["area"], procedure=info["procedure"],
                town=info["town"], source=source, **meta)  # fmt: skip

    steps = _read_steps(rd, rows)
    by_id = {s.id: s for s in steps}
    pool_ids = _make_pools(flow, pool_specs, steps, rd)
    lane_ids = _make_lanes(flow, lane_specs, steps, pool_ids, rd)
    for step in steps:
        _add_node(flow, rd, step, by_id, lane_ids, pool_ids)
    for i in range(len(steps)):
        _add_edges(flow, rd, steps, i, by_id, pool_ids)
    for k, msg in enumerate(pool_msgs, 1):
        if not isinstance(msg, Mapping) or not {"source", "target"} <= set(msg):
            raise ParseError(
                "each entry needs source and target",
                source=source,
                element=f"pool_messages entry {k}",
            )
        ends = [
            str(msg[e])
            if str(msg[e]) in flow.graph
            else pool_ids.get(str(msg[e])) or str(msg[e])
            for e in ("source", "target")
        ]
        try:
            flow.add_pool_message(
                str(msg.get("id") or f"message_{k}"),
                ends[0],
                ends[1],
                label=str(msg.get("label") or ""),
            )
        except ModelError as exc:
            raise ParseError(
                str(exc), source=source, element=f"pool_messages entry {k}"
            ) from None
    return flow


def _specs(value: Any, what: str, source: str) -> list[str | dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ParseError("expected a list", source=source, element=what)
    out: list[str | dict[str, Any]] = []
    for k, item in enumerate(value, 1):
        if isinstance(item, Mapping) and item.get("name") is not None:
            out.append({str(a): b for a, b in item.items()})
        elif isinstance(item, (str, int, float)) and not isinstance(item, bool):
            out.append(str(item))
        else:
            raise ParseError(
                "expected a name or a mapping with a name",
                source=source,
                element=f"{what} entry {k}",
            )
    return out


def _read_steps(rd: _Reader, rows: Sequence[RawRow]) -> list[_Step]:
    steps: list[_Step] = []
    seen: dict[str, RawRow] = {}
    for row in rows:
        step_id = rd.text(row, "id")
        if not step_id:
            raise rd.error("step without 番号 (id)", row, "id")
        if step_id in seen:
            raise rd.error(
                f"番号 {step_id!r} repeats row {seen[step_id].index}", row, "id"
            )
        seen[step_id] = row
        kind = rd.text(row, "type")
        ntype = node_type(kind)
        if ntype is None:
            raise rd.error(f"unknown 種別 {kind!r}", row, "type")
        trigger = TYPE_JA.get(unicodedata.normalize("NFKC", kind).strip(), ("", None))[
            1
        ]
        trig_text = rd.text(row, "trigger")
        if trig_text:
            trigger = _TRIGGER_JA.get(trig_text, trig_text)
        if ntype in ACTIVITY_TYPES and not rd.text(row, "label"):
            raise rd.error(f"{ntype} {step_id!r} has no 作業 (label)", row, "label")
        medium = rd.text(row, "medium")
        if medium and medium_value(medium) is None:
            raise rd.error(f"unknown 媒体 {medium!r}", row, "medium")
        steps.append(
            _Step(
                row,
                step_id,
                ntype,
                trigger,
                rd.text(row, "parent") or None,
                rd.text(row, "lane"),
                rd.text(row, "pool"),
            )
        )
    return steps


def _fresh(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}_{n}"
    taken.add(candidate)
    return candidate


def _make_pools(
    flow: Flow, specs: list[str | dict[str, Any]], steps: list[_Step], rd: _Reader
) -> dict[str, str]:
    """Create pools; return a map from every id and name to a pool id."""
    taken = {str(s["id"]) for s in specs if isinstance(s, dict) and s.get("id")}
    ref: dict[str, str] = {}
    by_name: dict[str, str] = {}
    for spec in specs:
        if isinstance(spec, dict):
            name = str(spec["name"])
            pid = str(spec.get("id") or _fresh(name, taken))
            proc = spec.get("process")
            try:
                flow.add_pool(pid, name, process=str(proc) if proc else None)
            except ModelError as exc:
                raise ParseError(str(exc), source=rd.source, element="pools") from None
        else:
            name = spec
            pid = _fresh(name, taken)
            flow.add_pool(pid, name)
        ref[pid] = pid
        by_name.setdefault(name, pid)
    for step in steps:
        if step.pool and step.pool not in ref and step.pool not in by_name:
            pid = _fresh(step.pool, taken)
            flow.add_pool(pid, step.pool)
            ref[pid] = pid
            by_name[step.pool] = pid
    for name, pid in by_name.items():
        ref.setdefault(name, pid)
    return ref


def _make_lanes(
    flow: Flow,
    specs: list[str | dict[str, Any]],
    steps: list[_Step],
    pools: dict[str, str],
    rd: _Reader,
) -> dict[tuple[str | None, str], str]:
    """Create lanes in order; return a map (pool id, cell value) -> lane id."""
    taken = {str(s["id"]) for s in specs if isinstance(s, dict) and s.get("id")}
    declared: dict[str, str] = {}  # explicit id or name -> lane id
    declared_pool: dict[str, str | None] = {}
    # lanes the rows use, keyed by (pool id, lane name), in first appearance
    used: dict[tuple[str | None, str], None] = {}
    explicit = {str(s.get("id") or s["name"]) for s in specs if isinstance(s, dict)} | {
        str(s["name"]) for s in specs if isinstance(s, dict)
    }
    for step in steps:
        if step.lane and step.lane not in explicit:
            used.setdefault((pools.get(step.pool) if step.pool else None, step.lane))
    result: dict[tuple[str | None, str], str] = {}

    def create(name: str, pool: str | None, lane_id: str | None = None,
               parent: str | None = None) -> str:  # fmt: skip
        lid = lane_id or _fresh(name, taken)
        try:
            flow.add_lane(lid, name, pool=pool, parent=parent)
        except ModelError as exc:
            raise ParseError(str(exc), source=rd.source, element="lanes") from None
        return lid

    for spec in specs:
        if isinstance(spec, dict):
            name = str(spec["name"])
            pool_ref = spec.get("pool")
            pool = None
            if pool_ref is not None:
                if str(pool_ref) not in pools:
                    raise ParseError(
                        f"lane {name!r}: unknown pool {pool_ref!r}",
                        source=rd.source,
                        element="lanes",
                    )
                pool = pools[str(pool_ref)]
            parent_ref = spec.get("parent")
            parent = declared.get(str(parent_ref)) if parent_ref is not None else None
            if parent_ref is not None and parent is None:
                raise ParseError(
                    f"lane {name!r}: parent lane {parent_ref!r} is not declared "
                    "before it",
                    source=rd.source,
                    element="lanes",
                )
            lid = create(
                name, pool, str(spec["id"]) if spec.get("id") else None, parent
            )
            declared[lid] = lid
            declared_pool[lid] = pool
            if name not in declared:
                declared[name] = lid
                declared_pool[name] = pool
        else:
            keys = [k for k in used if k[1] == spec and k not in result]
            if not keys:
                keys = [(None, spec)]
            for key in keys:
                result[key] = create(spec, key[0])
    for key in used:
        if key not in result:
            result[key] = create(key[1], key[0])
    for ref, lid in declared.items():
        result.setdefault((declared_pool[ref], ref), lid)
        result.setdefault((None, ref), lid)
    return result


def _add_node(
    flow: Flow,
    rd: _Reader,
    step: _Step,
    by_id: Mapping[str, _Step],
    lanes: Mapping[tuple[str | None, str], str],
    pools: Mapping[str, str],
) -> None:
    row = step.row
    pool_id = pools.get(step.pool) if step.pool else None
    lane_id = None
    if step.lane:
        lane_id = lanes.get((pool_id, step.lane)) or lanes.get((None, step.lane))
    refs = (("parent", step.parent), ("attached_to", rd.text(row, "attached_to")))
    for key, ref in refs:
        if ref and ref not in by_id:
            raise rd.error(f"{ref!r} is not the 番号 of any step", row, key)
        if ref == step.id:
            raise rd.error("a step cannot refer to itself", row, key)
    medium = rd.text(row, "medium")
    extra: dict[str, Any] = {}
    for key in ("system", "attached_to", "loop"):
        value = rd.text(row, key)
        if value:
            extra[key] = value
    if step.trigger:
        extra["trigger"] = step.trigger
    forms, _ = rd.entries(row, "forms")
    fids, _ = rd.entries(row, "function_ids")
    flow.add_node(
        step.id,
        type=step.type,
        label="" if rd.text(row, "label").strip() in _NONE else rd.text(row, "label"),
        lane_id=lane_id,
        pool_id=pool_id,
        parent=step.parent,
        medium=medium_value(medium) if medium else None,
        location=rd.text(row, "location") or None,
        forms=[unwrap_entry(f) for f in forms],
        function_ids=[unwrap_entry(f) for f in fids],
        documentation=rd.text(row, "note"),
        source=SourceRef(rd.source, row.line, f"row {row.index}"),
        **extra,
    )


def _add_edges(
    flow: Flow,
    rd: _Reader,
    steps: Sequence[_Step],
    i: int,
    by_id: Mapping[str, _Step],
    pools: Mapping[str, str],
) -> None:
    step = steps[i]
    row = step.row
    entries, _ = rd.entries(row, "next")
    if not entries:
        if step.type != "endEvent":
            follower = next(
                (s for s in steps[i + 1 :] if s.parent == step.parent), None
            )
            if follower is not None:
                flow.add_edge(step.id, follower.id)
    elif any(e in _NONE for e in entries):
        if len(entries) > 1:
            raise rd.error("'-' (no successor) cannot stand with ids", row, "next")
    else:
        for entry in entries:
            target, label, default = parse_link(entry)
            if target not in by_id:
                raise rd.error(
                    f"successor {target!r} is not the 番号 of any step", row, "next"
                )
            flow.add_edge(step.id, target, label=label, default=default)
    msgs, _ = rd.entries(row, "messages")
    for entry in msgs:
        if entry in _NONE:
            continue
        target, label, _ = parse_link(entry)
        if target in by_id and flow.graph.has_edge(step.id, target):
            warnings.warn(
                f"{rd.source}:{row.line}: row {row.index}: a message flow beside "
                f"the sequence flow {step.id} -> {target} is dropped (the model "
                "keeps one edge per pair of steps)",
                HarpflowWarning,
                stacklevel=4,
            )
        elif target in by_id:
            flow.add_edge(step.id, target, kind="message", label=label)
        elif target in pools:
            taken = {m.id for m in flow.pool_messages} | {e.id for e in flow.edges}
            flow.add_pool_message(
                _fresh(f"{step.id}__{pools[target]}", taken),
                step.id,
                pools[target],
                label=label,
            )
        else:
            raise rd.error(
                f"message target {target!r} is neither a step nor an 組織 (pool)",
                row,
                "messages",
            )


# -- writing ------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Metadata made of str, int, float, bool, None, lists and dicts only."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [_plain(v) for v in items]
    return str(value)


def flow_to_table(flow: Flow, headers: str = "ja") -> Table:
    """Turn a flow into metadata and rows keyed by column key.

    Rows follow the node order; list cells are lists. ``keys`` holds the
    standard columns plus the extension columns some node needs.
    """
    if headers not in ("ja", "en"):
        raise ValueError(f"headers must be 'ja' or 'en', not {headers!r}")
    meta: dict[str, Any] = {
        "name": flow.name,
        "area": flow.area,
        "procedure": flow.procedure,
        "town": flow.town,
    }
    for key, value in flow.meta.items():
        if key not in meta and key not in ("lanes", "pools", "pool_messages"):
            meta[str(key)] = _plain(value)
    node_ids = list(flow.nodes)
    lane_ref = _lane_refs(flow)
    pool_ref = _pool_refs(flow, set(node_ids))
    if flow.lanes:
        meta["lanes"] = _lane_specs(flow, pool_ref)
    if flow.pools:
        meta["pools"] = [
            p.name
            if p.id == p.name and p.process is None
            else {
                k: v
                for k, v in (("id", p.id), ("name", p.name), ("process", p.process))
                if v is not None
            }
            for p in flow.pools
        ]
    rows: list[dict[str, Cell]] = []
    pool_msg_by_node, meta_msgs = _split_pool_messages(flow, pool_ref, node_ids)
    if meta_msgs:
        meta["pool_messages"] = meta_msgs
    used: set[str] = set()
    parents = {nid: flow.nodes[nid].parent for nid in node_ids}
    for i, nid in enumerate(node_ids):
        node = flow.nodes[nid]
        attrs = node.attrs
        row: dict[str, Cell] = {"id": nid}
        if node.lane_id is not None:
            row["lane"] = lane_ref.get(node.lane_id, node.lane or "")
        row["label"] = node.label or ("-" if node.is_activity else "")
        row["type"] = _type_cell(node.type, node.trigger, headers)
        if node.trigger and not (
            headers == "ja"
            and node.type == "intermediateCatchEvent"
            and node.trigger == "timer"
        ):
            row["trigger"] = str(node.trigger)
        follower = next(
            (m for m in node_ids[i + 1 :] if parents[m] == node.parent), None
        )
        row["next"] = _next_cell(flow, nid, node.type, follower)
        msgs = [
            _link(e.target, e.label)
            for e in flow.edges
            if e.source == nid and e.kind == "message"
        ]
        row["messages"] = msgs + pool_msg_by_node.get(nid, [])
        if node.pool_id is not None:
            row["pool"] = pool_ref.get(node.pool_id, node.pool or "")
        row["forms"] = list(node.forms)
        row["system"] = str(attrs.get("system") or "")
        row["function_ids"] = list(node.function_ids)
        if node.medium:
            row["medium"] = (
                _MEDIUM_WRITE_JA.get(node.medium, node.medium)
                if headers == "ja"
                else node.medium
            )
        row["location"] = node.location or ""
        row["note"] = node.documentation
        row["parent"] = node.parent or ""
        row["attached_to"] = str(attrs.get("attached_to") or "")
        if node.loop:
            row["loop"] = str(node.loop)
        rows.append(row)
        used.update(k for k in EXTENSION_KEYS if row.get(k))
    keys = list(STANDARD_KEYS) + [k for k in EXTENSION_KEYS if k in used]
    return Table(meta, rows, keys)


def _link_safe(ref: str) -> bool:
    return (
        bool(ref.strip())
        and ref == ref.strip()
        and not any(ch in _SEPARATORS or ch in ":：「" for ch in ref)
        and not ref.startswith("*")
        and ref not in _NONE
    )


def _split_pool_messages(
    flow: Flow, pool_ref: Mapping[str, str], node_ids: list[str]
) -> tuple[dict[str, list[str]], list[dict[str, Any]]]:
    """Pool messages as 連携 entries of their source steps, or as metadata.

    A message from a step to a whole pool goes into the step's 連携 when
    the pool can be named there; the rest go to ``pool_messages``. When the
    order read back would differ from the flow's, all go to metadata.
    """
    msgs = flow.pool_messages
    position = {nid: i for i, nid in enumerate(node_ids)}

    def linkable(m: Any) -> bool:
        if m.source not in flow.graph or m.target not in pool_ref:
            return False
        ref = pool_ref[m.target]
        if not _link_safe(ref):
            ref = m.target
        return _link_safe(ref) and ref not in flow.graph

    in_rows = [m for m in msgs if linkable(m)]
    in_rows_read = sorted(in_rows, key=lambda m: position[m.source])
    rest = [m for m in msgs if not linkable(m)]
    if in_rows_read + rest != msgs:
        in_rows, rest = [], list(msgs)
    by_node: dict[str, list[str]] = {}
    for m in in_rows:
        ref = pool_ref[m.target] if _link_safe(pool_ref[m.target]) else m.target
        by_node.setdefault(m.source, []).append(_link(ref, m.label))
    meta = []
    for m in rest:
        entry = {"id": m.id, "source": m.source, "target": m.target}
        if m.label:
            entry["label"] = m.label
        meta.append(entry)
    return by_node, meta


def _link(target: str, label: str) -> str:
    return f"{target}:{label}" if label else target


def _type_cell(ntype: str, trigger: str | None, headers: str) -> str:
    if headers == "en":
        return ntype
    if ntype == "intermediateCatchEvent" and trigger == "timer":
        return "タイマー"
    if ntype == "task":
        return ""
    return _TYPE_WRITE_JA.get(ntype, ntype)


def _next_cell(flow: Flow, nid: str, ntype: str, follower: str | None) -> list[str]:
    out = []
    for target, data in flow.graph.succ[nid].items():
        if data.get("kind", "sequence") != "sequence":
            continue
        text = data.get("label") or data.get("condition") or ""
        entry = _link(target, str(text))
        out.append(("*" if data.get("default") else "") + entry)
    if ntype == "endEvent":
        return out
    if not out:
        return ["-"] if follower is not None else []
    if out == [follower]:
        return []
    return out


def _lane_refs(flow: Flow) -> dict[str, str]:
    """What the 担当 cell says for each lane id: its name, or its id if need be."""
    lanes = flow.lanes
    names = [ln.name for ln in lanes]
    ids = {ln.id for ln in lanes}
    out = {}
    for ln in lanes:
        unique = bool(ln.name.strip()) and names.count(ln.name) == 1
        clash = ln.name in ids and ln.name != ln.id
        out[ln.id] = ln.name if unique and not clash else ln.id
    return out


def _pool_refs(flow: Flow, node_ids: set[str]) -> dict[str, str]:
    pools = flow.pools
    names = [p.name for p in pools]
    ids = {p.id for p in pools}
    out = {}
    for p in pools:
        unique = bool(p.name.strip()) and names.count(p.name) == 1
        clash = (p.name in ids and p.name != p.id) or p.name in node_ids
        out[p.id] = p.name if unique and not clash else p.id
    return out


def _lane_specs(flow: Flow, pool_ref: Mapping[str, str]) -> list[Any]:
    lane_pools: dict[str, set[str | None]] = {}
    for node in flow.nodes.values():
        if node.lane_id is not None:
            lane_pools.setdefault(node.lane_id, set()).add(node.pool_id)
    specs: list[Any] = []
    for ln in flow.lanes:
        derived = lane_pools.get(ln.id, {None}) == {ln.pool}
        if ln.id == ln.name and ln.parent is None and derived:
            specs.append(ln.name)
            continue
        spec: dict[str, Any] = {"id": ln.id, "name": ln.name}
        if ln.pool is not None:
            spec["pool"] = ln.pool
        if ln.parent is not None:
            spec["parent"] = ln.parent
        specs.append(spec)
    del pool_ref
    return specs


def iter_cells(row: Mapping[str, Cell], keys: Iterable[str]) -> list[Cell]:
    """The row's cells in the order of ``keys`` (empty for missing ones)."""
    return [row.get(k) for k in keys]
