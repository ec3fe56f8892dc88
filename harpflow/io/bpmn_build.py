"""Building a :class:`~harpflow.model.Flow` from a gathered BPMN 2.0 model.

Used by :func:`harpflow.io.bpmn.read_bpmn`: node attributes (trigger, loop,
documentation, boundary events, ``hf:`` attributes), pools, lanes, flows,
data objects, annotations and diagram interchange coordinates.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from lxml import etree

from harpflow.errors import HarpflowWarning, ParseError
from harpflow.io.bpmn_parse import (
    BPMNDI_NS,
    DC_NS,
    DI_NS,
    HF,
    TRIGGERS,
    M,
    NodeRec,
    State,
    line_of,
    resolve,
    text_of,
)
from harpflow.io.source import Input
from harpflow.io.xml import describe
from harpflow.model import (
    ACTIVITY_TYPES,
    EVENT_TYPES,
    GATEWAY_TYPES,
    Bounds,
    Flow,
    SourceRef,
)

__all__ = ["build"]

_DOC, _STD_LOOP, _MULTI_LOOP = (
    M + "documentation",
    M + "standardLoopCharacteristics",
    M + "multiInstanceLoopCharacteristics",
)
_DEF_TAGS = {M + name: trigger for name, trigger in TRIGGERS.items()}
_DEF_REF = M + "eventDefinitionRef"


def _scan(st: State, el: etree._Element, attrs: dict[str, Any]) -> None:
    """One pass over a node's children: documentation, trigger, loop."""
    docs: list[str] = []
    found: list[str] = []
    for child in el:
        tag = child.tag
        if tag == _DOC:
            text = text_of(child)
            if text:
                docs.append(text)
        elif tag in _DEF_TAGS:
            found.append(_DEF_TAGS[tag])
            if found[-1] == "link" and child.get("name"):
                attrs["link"] = child.get("name")
        elif tag == _DEF_REF:
            ref = resolve(child.text, st.event_defs)
            if ref in st.event_defs:
                found.append(st.event_defs[ref])
        elif tag == _STD_LOOP:
            attrs["loop"] = "standard"
        elif tag == _MULTI_LOOP:
            sequential = child.get("isSequential") == "true"
            attrs["loop"] = "sequential" if sequential else "parallel"
    if docs:
        attrs["documentation"] = "\n".join(docs)
    if len(found) > 1:
        multi = el.get("parallelMultiple") == "true"
        attrs["trigger"] = "parallelMultiple" if multi else "multiple"
    elif found and found[0]:
        attrs["trigger"] = found[0]


def _hf_attrs(el: etree._Element) -> dict[str, Any]:
    """Attributes harpflow wrote in its own namespace."""
    out: dict[str, Any] = {}
    for key, value in el.attrib.items():
        key = str(key)
        if key.startswith(HF) and key not in (HF + "id", HF + "seq"):
            out[key[len(HF) :]] = str(value)
    for ext in el.iterchildren(M + "extensionElements"):
        for attr in ext.iterchildren(HF + "attr"):
            name = attr.get("name")
            if not name:
                continue
            items = list(attr.iterchildren(HF + "item"))
            out[name] = tuple(i.text or "" for i in items) if items else attr.text or ""
    return out


def _node_attrs(st: State, rec: NodeRec) -> dict[str, Any]:
    el = rec.el
    attrs: dict[str, Any] = {
        "type": rec.type,
        "label": el.get("name") or "",
        "parent": st.mid(rec.parent) if rec.parent else None,
        "source": SourceRef(st.name, line_of(el), f"{rec.type} id={el.get('id')!r}"),
    }
    _scan(st, el, attrs)
    if rec.type in EVENT_TYPES:
        if rec.type == "boundaryEvent":
            host = resolve(el.get("attachedToRef"), st.nodes)
            attrs["attached_to"] = st.mid(host) if host else None
            attrs["cancel_activity"] = el.get("cancelActivity") != "false"
    elif rec.type in ACTIVITY_TYPES:
        if el.get("triggeredByEvent") == "true":
            attrs["triggered_by_event"] = True
        if rec.type == "callActivity" and el.get("calledElement"):
            attrs["called_element"] = el.get("calledElement")
    elif rec.type in GATEWAY_TYPES and el.get("gatewayDirection"):
        attrs["direction"] = el.get("gatewayDirection")
    extra = _hf_attrs(el) if st.has_hf else {}
    for key in ("forms", "function_ids"):
        if key in extra and isinstance(extra[key], str):
            extra[key] = (extra[key],) if extra[key] else ()
    if extra.get("medium") == "":
        extra.pop("medium")
    attrs.update(extra)
    return attrs


def _di(root: etree._Element, st: State) -> tuple[dict[str, Bounds], dict[str, Any]]:
    """Bounds and waypoints by element id, from the first diagram showing each."""
    bounds: dict[str, Bounds] = {}
    lines: dict[str, Any] = {}
    shape, edge = "{" + BPMNDI_NS + "}BPMNShape", "{" + BPMNDI_NS + "}BPMNEdge"
    dc_bounds, waypoint = "{" + DC_NS + "}Bounds", "{" + DI_NS + "}waypoint"
    ids = st.ids
    try:
        for diagram in root.iterchildren("{" + BPMNDI_NS + "}BPMNDiagram"):
            for el in diagram.iter(shape):
                ref = el.get("bpmnElement")
                if ref not in ids:
                    ref = resolve(ref, ids)
                if not ref or ref in bounds:
                    continue
                # Bounds is the first child but for an optional extension.
                b = el[0] if len(el) else None
                if b is not None and b.tag != dc_bounds:
                    b = next(el.iterchildren(dc_bounds), None)
                if b is not None:
                    get = b.get
                    bounds[ref] = (
                        float(get("x", 0)),
                        float(get("y", 0)),
                        float(get("width", 0)),
                        float(get("height", 0)),
                    )
            for el in diagram.iter(edge):
                ref = el.get("bpmnElement")
                if ref not in ids:
                    ref = resolve(ref, ids)
                if ref and ref not in lines:
                    lines[ref] = tuple(
                        (float(p.get("x", 0)), float(p.get("y", 0)))
                        for p in el.iterchildren(waypoint)
                    )
    except ValueError:
        raise ParseError("coordinate is not a number", **st.place(el)) from None
    return bounds, lines


def _stem(inp: Input) -> str | None:
    return Path(inp.name).stem if inp.path is not None else None


def _flow_name(
    st: State, inp: Input, root: etree._Element, procs: list[Any], collabs: list[Any]
) -> str | None:
    for el in [*collabs, *procs, root]:
        if el.get("name"):
            return str(el.get("name"))
    return _stem(inp)


_T = TypeVar("_T")


def _in_flow_order(
    st: State, items: Iterable[_T], element: Callable[[_T], etree._Element]
) -> list[_T]:
    """Items in document order, or by ``hf:seq`` when every one carries it."""
    listed = list(items)
    if not st.has_hf:
        return listed
    seqs = [element(item).get(HF + "seq") for item in listed]
    if listed and all(s is not None and s.isdigit() for s in seqs):
        order = sorted(range(len(listed)), key=lambda i: int(seqs[i] or 0))
        return [listed[i] for i in order]
    return listed


def build(
    st: State,
    inp: Input,
    root: etree._Element,
    processes: list[etree._Element],
    collaborations: list[etree._Element],
    participants: list[etree._Element],
) -> Flow:
    flow = Flow(
        _flow_name(st, inp, root, processes, collaborations),
        source=str(inp.path) if inp.path is not None else inp.name,
        area=root.get(HF + "area"),
        procedure=root.get(HF + "procedure"),
        town=root.get(HF + "town"),
    )
    meta = root.get(HF + "meta")
    if meta:
        try:
            flow.meta.update(json.loads(meta))
        except ValueError:
            raise ParseError(
                "hf:meta is not JSON",
                source=st.name,
                line=line_of(root),
                element="definitions",
            ) from None
    bounds, lines = _di(root, st)
    mid = st.mid if st.alias else str

    # Pools first: a process's pool is the first participant showing it.
    pool_of: dict[str, str] = {}
    for part in participants:
        pid = part.get("id", "")
        proc = resolve(part.get("processRef"), {p.get("id", ""): p for p in processes})
        flow.add_pool(
            mid(pid), part.get("name") or "", process=proc, bounds=bounds.get(pid)
        )
        if proc:
            pool_of.setdefault(proc, mid(pid))

    for lane, process, outer in _in_flow_order(st, st.lanes, lambda item: item[0]):
        lid = lane.get("id", "")
        flow.add_lane(
            mid(lid),
            lane.get("name") or "",
            pool=pool_of.get(process or ""),
            parent=mid(outer) if outer else None,
            bounds=bounds.get(lid),
        )

    for xml_id, rec in _in_flow_order(st, st.nodes.items(), lambda item: item[1].el):
        attrs = _node_attrs(st, rec)
        lane_ref = st.lane_of.get(xml_id)
        pool = pool_of.get(rec.process or "")
        b = bounds.get(xml_id)
        if b is not None:
            attrs["bounds"] = b
        flow.add_node(
            mid(xml_id),
            lane_id=mid(lane_ref) if lane_ref else None,
            pool_id=pool,
            **attrs,
        )

    def ends(el: etree._Element, allowed: dict[str, Any]) -> tuple[str, str] | None:
        u, v = el.get("sourceRef"), el.get("targetRef")
        if u in allowed and v in allowed:
            return u or "", v or ""
        refs = [resolve(el.get(a), allowed) for a in ("sourceRef", "targetRef")]
        if not any(r in st.ids for r in refs):
            # Both ends name nothing in the file: the flow joined elements
            # that the exporting tool left out, and nothing here loses it.
            warnings.warn(
                f"{st.name}:{el.sourceline}: {describe(el)}: neither end is an "
                "element of the file; flow ignored",
                HarpflowWarning,
                stacklevel=4,
            )
            return None
        for attr, ref in zip(("sourceRef", "targetRef"), refs, strict=True):
            if not ref or ref not in allowed:
                what = f"{attr} {el.get(attr)!r}" if el.get(attr) else f"no {attr}"
                raise ParseError(f"flow to a missing id: {what}", **st.place(el))
        return refs[0] or "", refs[1] or ""

    for el, _parent in st.seq:
        xml_id = el.get("id", "")
        pair = ends(el, st.nodes)
        if pair is None:
            continue
        u, v = pair
        cond = el.find(M + "conditionExpression")
        extra: dict[str, Any] = {}
        if xml_id in lines:
            extra["waypoints"] = lines[xml_id]
        flow.add_edge(
            mid(u),
            mid(v),
            id=mid(xml_id),
            label=el.get("name") or "",
            condition=text_of(cond) if cond is not None else None,
            default=xml_id in st.defaults,
            **extra,
        )

    msg_ends: dict[str, Any] = {
        **st.nodes,
        **{p.get("id", ""): p for p in participants},
    }
    for el in st.msgs:
        xml_id = el.get("id", "")
        pair = ends(el, msg_ends)
        if pair is None:
            continue
        u, v = pair
        parallel = flow.graph.has_edge(mid(u), mid(v)) and (
            flow.graph.edges[mid(u), mid(v)].get("kind") != "message"
        )
        if u in st.nodes and v in st.nodes and not parallel:
            extra = {"waypoints": lines[xml_id]} if xml_id in lines else {}
            flow.add_edge(
                mid(u),
                mid(v),
                id=mid(xml_id),
                kind="message",
                label=el.get("name") or "",
                **extra,
            )
        else:
            flow.add_pool_message(
                mid(xml_id),
                mid(u),
                mid(v),
                label=el.get("name") or "",
                waypoints=lines.get(xml_id, ()),
            )

    _build_data(st, flow, bounds)
    return flow


def _build_data(st: State, flow: Flow, bounds: dict[str, Bounds]) -> None:
    mid = st.mid if st.alias else str
    # Which data object reference a data object or data store id stands for.
    refs: dict[str, str] = {}
    for el, _process, _parent in st.data:
        xml_id = el.get("id", "")
        refs[xml_id] = xml_id
        for attr in ("dataObjectRef", "dataStoreRef"):
            target = el.get(attr)
            if target:
                refs.setdefault(target.strip(), xml_id)
    inputs: dict[str, list[str]] = {}
    outputs: dict[str, list[str]] = {}
    for direction, ref, node in st.data_links:
        obj = refs.get(ref)
        if obj is not None:
            table = inputs if direction == "in" else outputs
            table.setdefault(obj, []).append(mid(node))
    annotations = {el.get("id", ""): el for el in st.annotations}
    targets: dict[str, list[str]] = {}
    loose: list[tuple[str, str, str]] = []
    for el in st.associations:
        src = resolve(el.get("sourceRef"), st.ids) or ""
        dst = resolve(el.get("targetRef"), st.ids) or ""
        if dst in annotations:
            targets.setdefault(dst, []).append(mid(src))
        elif src in annotations:
            targets.setdefault(src, []).append(mid(dst))
        elif refs.get(src) and dst in st.nodes:
            inputs.setdefault(refs[src], []).append(mid(dst))
        elif refs.get(dst) and src in st.nodes:
            outputs.setdefault(refs[dst], []).append(mid(src))
        else:
            loose.append((mid(el.get("id", "")), mid(src), mid(dst)))
    if loose:
        flow.meta["associations"] = loose
    for el, _process, parent in _in_flow_order(st, st.data, lambda item: item[0]):
        xml_id = el.get("id", "")
        kind = el.tag[len(M) :]
        label = el.get("name")
        if label is None:
            ref = el.get("dataObjectRef") or el.get("dataStoreRef") or ""
            label = st.named.get(ref.strip(), "")
        lane = st.lane_of.get(xml_id)
        flow.add_data_object(
            mid(xml_id),
            label,
            kind=kind,
            inputs=dict.fromkeys(inputs.get(xml_id, ())),
            outputs=dict.fromkeys(outputs.get(xml_id, ())),
            parent=mid(parent) if parent else None,
            lane=mid(lane) if lane else None,
            bounds=bounds.get(xml_id),
        )
    for el in _in_flow_order(st, annotations.values(), lambda item: item):
        xml_id = el.get("id", "")
        text_el = el.find(M + "text")
        flow.add_annotation(
            mid(xml_id),
            text_of(text_el) if text_el is not None else "",
            targets=dict.fromkeys(targets.get(xml_id, ())),
            bounds=bounds.get(xml_id),
        )
