"""Step tables read: parsed rows and metadata become a :class:`~harpflow.model.Flow`.

The rules (implicit order, ``-``, conditions, hand-offs, pools, lanes) are
described in :mod:`harpflow.io.table`.

Examples
--------
>>> from harpflow.io.table_rows import RawRow
>>> rows = [RawRow(1, 2, {"id": "1", "label": "受付"}),
...         RawRow(2, 3, {"id": "2", "label": "審査", "next": "-"})]
>>> flow = build_flow(rows, {"name": "例", "area": 1}, "<rows>")
>>> flow.area, [(e.source, e.target) for e in flow.edges]
('01', [('1', '2')])
"""

from __future__ import annotations

import unicodedata
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harpflow.errors import HarpflowWarning, ModelError, ParseError
from harpflow.io.table_rows import (
    NONE_VALUES,
    TRIGGER_JA,
    TYPE_JA,
    RawRow,
    followers,
    header_name,
    medium_value,
    node_type,
    parse_link,
    split_entries,
    unwrap_entry,
)
from harpflow.model import ACTIVITY_TYPES, Flow, SourceRef

__all__ = ["build_flow"]

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
    if not isinstance(pool_msgs, list):
        raise ParseError("expected a list", source=source, element="pool_messages")
    flow = Flow(
        info["name"],
        area=info["area"],
        procedure=info["procedure"],
        town=info["town"],
        source=source,
    )
    flow.meta.update((str(k), v) for k, v in meta.items())

    steps = _read_steps(rd, rows)
    by_id = {s.id: s for s in steps}
    pool_ids = _make_pools(flow, pool_specs, steps, rd)
    lane_ids = _make_lanes(flow, lane_specs, steps, pool_ids, rd)
    for step in steps:
        _add_node(flow, rd, step, by_id, lane_ids, pool_ids)
    follow = followers([s.id for s in steps], {s.id: s.parent for s in steps})
    taken: set[str] = set()
    for step in steps:
        _add_edges(flow, rd, step, follow, by_id, pool_ids, taken)
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
            trigger = TRIGGER_JA.get(trig_text, trig_text)
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
        label=""
        if rd.text(row, "label").strip() in NONE_VALUES
        else rd.text(row, "label"),
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


def _message_id(flow: Flow, base: str, taken: set[str]) -> str:
    candidate, n = base, 1
    while candidate in taken or _is_edge_id(flow, candidate):
        n += 1
        candidate = f"{base}_{n}"
    taken.add(candidate)
    return candidate


def _is_edge_id(flow: Flow, edge_id: str) -> bool:
    try:
        flow.edge(edge_id)
    except ModelError:
        return False
    return True


def _add_edges(
    flow: Flow,
    rd: _Reader,
    step: _Step,
    follow: Mapping[str, str],
    by_id: Mapping[str, _Step],
    pools: Mapping[str, str],
    taken: set[str],
) -> None:
    row = step.row
    entries, _ = rd.entries(row, "next")
    if not entries:
        follower = follow.get(step.id)
        if step.type != "endEvent" and follower is not None:
            flow.add_edge(step.id, follower)
    elif any(e in NONE_VALUES for e in entries):
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
        if entry in NONE_VALUES:
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
            flow.add_pool_message(
                _message_id(flow, f"{step.id}__{pools[target]}", taken),
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
