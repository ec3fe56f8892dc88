"""Step tables written: a :class:`~harpflow.model.Flow` becomes metadata and rows.

What a table keeps and drops is described in :mod:`harpflow.io.table`.

Examples
--------
>>> from harpflow.model import Flow
>>> flow = Flow("例")
>>> _ = flow.add_node("1", label="受付", lane="窓口")
>>> _ = flow.add_node("2", label="審査", lane="窓口")
>>> _ = flow.add_edge("1", "2")
>>> table = flow_to_table(flow)
>>> [(r["id"], r["next"]) for r in table.rows], table.meta["lanes"]
([('1', []), ('2', [])], ['窓口'])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harpflow.io.table_rows import (
    EXTENSION_KEYS,
    MEDIUM_WRITE_JA,
    NONE_VALUES,
    SEPARATORS,
    STANDARD_KEYS,
    TYPE_WRITE_JA,
    Cell,
    Table,
    followers,
)
from harpflow.model import Flow

__all__ = ["flow_to_table"]


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
        meta["lanes"] = _lane_specs(flow)
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
    follow = followers(node_ids, parents)
    for nid in node_ids:
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
        row["next"] = _next_cell(flow, nid, node.type, follow.get(nid))
        msgs = [
            _link(target, str(data.get("label") or ""))
            for target, data in flow.graph.succ[nid].items()
            if data.get("kind", "sequence") == "message"
        ]
        row["messages"] = msgs + pool_msg_by_node.get(nid, [])
        if node.pool_id is not None:
            row["pool"] = pool_ref.get(node.pool_id, node.pool or "")
        row["forms"] = list(node.forms)
        row["system"] = str(attrs.get("system") or "")
        row["function_ids"] = list(node.function_ids)
        if node.medium:
            row["medium"] = (
                MEDIUM_WRITE_JA.get(node.medium, node.medium)
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
        and not any(ch in SEPARATORS or ch in ":：「" for ch in ref)
        and not ref.startswith("*")
        and ref not in NONE_VALUES
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
    return TYPE_WRITE_JA.get(ntype, ntype)


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


def _lane_specs(flow: Flow) -> list[Any]:
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
    return specs
