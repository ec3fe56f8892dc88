"""BPMN 2.0 XML: write a :class:`~harpflow.model.Flow` with complete DI.

The output validates against the OMG BPMN 2.0 XSD. It holds a
collaboration when the flow has pools or message flows, one process per
pool (and one more for nodes in no pool), lane sets with nested lanes,
sub-process children inside their sub-process, data objects with their
data associations, text annotations, and diagram interchange for every
element: a shape for every node, lane, pool, data object and annotation,
an edge of at least two waypoints for every flow and association. The
flow's own coordinates are used when every node has them; otherwise
:func:`harpflow.layout.layout` computes them.

Ids that are not valid XML ids (``"1"``, ``"5c"``, ``"窓口"`` from a step
table) are replaced by valid ones derived from them, and the original is
kept in ``hf:id`` in the namespace ``https://harpflow.dev/schema/1``, which
:func:`~harpflow.io.bpmn.read_bpmn` restores. Node attributes BPMN cannot
say (medium, location, function ids, forms that are not data objects,
system, ...) are kept in ``hf:`` attributes and extension elements.

Notes
-----
- A data object read by a gateway or a catching event, or written by a
  throwing event, is joined to it by a directed association, as BPMN allows
  no data association there.
- A ``default`` flow leaving a parallel or event-based gateway cannot be
  marked (BPMN has no default there) and is written as a plain flow.
- Extra node attributes that are not text or lists of text are written as
  text and read back as text.

Examples
--------
>>> from harpflow.model import Flow
>>> from harpflow.io.bpmn_write import write_bpmn
>>> from harpflow.io.bpmn import read_bpmn
>>> flow = Flow("転入届")
>>> _ = flow.add_node("1", type="startEvent", lane="窓口")
>>> _ = flow.add_node("2", label="受付", lane="窓口", medium="paper")
>>> _ = flow.add_edge("1", "2")
>>> data = write_bpmn(flow)
>>> b'<bpmn:startEvent id="n_1" hf:id="1"' in data
True
>>> back = read_bpmn(data)
>>> back.nodes["2"].label, back.nodes["2"].lane, back.nodes["2"].medium
('受付', '窓口', 'paper')
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from lxml import etree

from harpflow.io.bpmn_elements import (
    CATCH,
    DIRECTIONS,
    HF,
    NESTING,
    NSMAP,
    THROW,
    VALID_ID,
    WITH_DEFAULT,
    XSI,
    Ids,
    M,
    event_definitions,
    hf_extensions,
    keep_id,
    loop_marker,
    sub,
    write_diagram,
)
from harpflow.io.source import emit
from harpflow.layout import Layout, existing_layout, layout
from harpflow.model import ACTIVITY_TYPES, Flow

__all__ = ["write_bpmn"]


class _Writer:
    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.g = flow.graph
        self.lanes = {lane.id: lane for lane in flow.lanes}
        self.pools = {pool.id: pool for pool in flow.pools}
        self.ids = Ids()
        self.lay: Layout = (
            existing_layout(flow)
            if len(flow.graph)
            and all(d.get("bounds") for _, d in flow.graph.nodes(data=True))
            else layout(flow)
        )
        ids = self.ids
        for p in flow.pools:
            ids.assign("pool", p.id, "p_")
        for lane in flow.lanes:
            ids.assign("lane", lane.id, "l_")
        for n in flow.graph:
            ids.assign("node", n, "n_")
        for _, _, d in flow.graph.edges(data=True):
            for eid in (d["id"], *d.get("duplicates", ())):
                ids.assign("edge", eid, "f_")
        for m in flow.pool_messages:
            ids.assign("edge", m.id, "f_")
        for obj in flow.data_objects:
            ids.assign("data", obj.id, "d_")
        for ann in flow.annotations:
            ids.assign("ann", ann.id, "a_")
        # Filled while writing: elements by (kind, model id), DI edges,
        # data links that must be plain associations, and containers.
        self.placed: dict[tuple[str, str], etree._Element] = {}
        self.di_edges: list[tuple[str, tuple[tuple[float, float], ...]]] = []
        self.loose: list[tuple[str, str, tuple[str, str]]] = []
        self.collab: etree._Element | None = None
        self.containers: dict[str | None, etree._Element] = {}
        self.children: dict[str | None, list[str]] = {}
        self.loose_parent: dict[str, str] = {}

    # -- structure --------------------------------------------------------

    def process_keys(self) -> list[str | None]:
        """One process per pool showing a process or holding nodes/lanes,
        ordered by where their first lane (else node) stands in the flow, so
        that lanes and nodes read back in the flow's order where possible."""
        flow = self.flow
        rank: dict[str | None, int] = {}
        for i, lane in enumerate(flow.lanes):
            rank.setdefault(self.lane_pool(lane.id), i)
        for i, (_, d) in enumerate(self.g.nodes(data=True)):
            rank.setdefault(d.get("pool_id"), len(flow.lanes) + i)
        keys: list[str | None] = [p.id for p in flow.pools if p.process or p.id in rank]
        if None in rank or not keys:
            keys.append(None)
        last = len(flow.lanes) + len(self.g)
        order = {key: i for i, key in enumerate(keys)}
        return sorted(keys, key=lambda k: (rank.get(k, last), order[k]))

    def lane_pool(self, lane_id: str) -> str | None:
        lane = self.lanes[lane_id]
        if lane.pool is not None:
            return lane.pool
        for _, d in self.g.nodes(data=True):
            if d.get("lane_id") == lane_id and d.get("pool_id"):
                return str(d["pool_id"])
        return None

    def build(self) -> etree._Element:
        flow = self.flow
        root = etree.Element(M + "definitions", nsmap=NSMAP)
        root.set("id", self.ids.fresh("Definitions_1"))
        if flow.name:
            root.set("name", str(flow.name))
        root.set("targetNamespace", "https://harpflow.dev/flows")
        root.set("exporter", "harpflow")
        kept = {k: v for k, v in flow.meta.items() if k != "associations"}
        if kept:
            text = json.dumps(kept, ensure_ascii=False, sort_keys=True, default=str)
            root.set(HF + "meta", text)
        for meta in ("area", "procedure", "town"):
            value = getattr(flow, meta)
            if value:
                root.set(HF + meta, str(value))
        keys = self.process_keys()
        proc_ids: dict[str | None, str] = {}
        for key in keys:
            pool = self.pools.get(key) if key else None
            if pool is None:
                wanted = "Process_1"
            elif pool.process:
                wanted = pool.process
            else:
                wanted = f"Process_{self.ids('pool', pool.id)}"
            proc_ids[key] = self.ids.fresh(
                wanted if VALID_ID.match(wanted) else "Process_1"
            )
        collab_id = None
        messages = any(e.kind == "message" for e in flow.edges) or flow.pool_messages
        if flow.pools or messages:
            collab_id = self.ids.fresh("Collaboration_1")
            collab = sub(root, "collaboration", id=collab_id, name=flow.name or None)
            for p in flow.pools:
                el = sub(
                    collab,
                    "participant",
                    id=self.ids("pool", p.id),
                    name=p.name or None,
                    processRef=proc_ids.get(p.id),
                )
                keep_id(el, self.ids("pool", p.id), p.id)
            self.message_flows(collab)
            self.collab = collab
        for key in keys:
            pool = self.pools.get(key) if key else None
            name = pool.name if pool else (flow.name if not flow.pools else None)
            proc = sub(
                root,
                "process",
                id=proc_ids[key],
                name=name or None,
                isExecutable="false",
            )
            self.containers[key] = proc
            self.lane_set(proc, key)
        self.node_parents()
        for key in keys:
            self.fill(self.containers[key], key, None)
        self.artifacts()
        self.number(root)
        self.diagram(root, collab_id or proc_ids[keys[0]])
        return root

    def number(self, root: etree._Element) -> None:
        """Write ``hf:seq`` where the document order differs from the flow's."""
        position = {el: i for i, el in enumerate(root.iter())}
        flow = self.flow
        for kind, wanted in (
            ("node", list(self.g)),
            ("lane", list(self.lanes)),
            ("data", [obj.id for obj in flow.data_objects]),
            ("ann", [ann.id for ann in flow.annotations]),
        ):
            els = [self.placed[(kind, k)] for k in wanted]
            if [position[el] for el in els] != sorted(position[el] for el in els):
                for i, el in enumerate(els):
                    el.set(HF + "seq", str(i))

    def message_flows(self, collab: etree._Element) -> None:
        ids = self.ids
        for e in self.flow.edges:
            if e.kind != "message":
                continue
            for eid in (e.id, *e.attrs.get("duplicates", ())):
                xml_id = ids("edge", eid)
                el = sub(
                    collab,
                    "messageFlow",
                    id=xml_id,
                    name=e.label or None,
                    sourceRef=ids("node", e.source),
                    targetRef=ids("node", e.target),
                )
                keep_id(el, xml_id, eid)
                self.di_edges.append((xml_id, self.lay.edges[eid]))
        for m in self.flow.pool_messages:
            xml_id = ids("edge", m.id)

            def end(ref: str) -> str:
                kind = "node" if ref in self.g else "pool"
                return ids(kind, ref)

            el = sub(
                collab,
                "messageFlow",
                id=xml_id,
                name=m.label or None,
                sourceRef=end(m.source),
                targetRef=end(m.target),
            )
            keep_id(el, xml_id, m.id)
            self.di_edges.append((xml_id, self.lay.pool_messages[m.id]))

    def lane_set(self, proc: etree._Element, key: str | None) -> None:
        lanes = [ln for ln in self.flow.lanes if self.lane_pool(ln.id) == key]
        if not lanes:
            return
        mine = {ln.id for ln in lanes}
        kids: dict[str | None, list[str]] = {}
        for ln in lanes:
            parent = ln.parent if ln.parent in mine else None
            kids.setdefault(parent, []).append(ln.id)
        members: dict[str, list[str]] = {}
        for n, d in self.g.nodes(data=True):
            lane = d.get("lane_id")
            while lane in mine:
                members.setdefault(lane, []).append(n)
                lane = self.lanes[lane].parent
        counter = [0]

        def write(parent_el: etree._Element, parent: str | None) -> None:
            counter[0] += 1
            lane_set = sub(parent_el, "laneSet" if parent is None else "childLaneSet")
            lane_set.set("id", self.ids.fresh(f"LaneSet_{proc.get('id')}_{counter[0]}"))
            for lid in kids.get(parent, []):
                rec = self.lanes[lid]
                xml_id = self.ids("lane", lid)
                el = sub(lane_set, "lane", id=xml_id, name=rec.name or None)
                keep_id(el, xml_id, lid)
                self.placed[("lane", lid)] = el
                for n in members.get(lid, []):
                    sub(el, "flowNodeRef").text = self.ids("node", n)
                if kids.get(lid):
                    write(el, lid)

        write(proc, None)

    def node_parents(self) -> None:
        """Children by sub-process; a parent that is not a sub-process (as
        other formats may give) cannot hold them and is kept in hf:parent."""
        for n, d in self.g.nodes(data=True):
            parent = d.get("parent")
            if parent is not None and (
                parent not in self.g or self.g.nodes[parent]["type"] not in NESTING
            ):
                self.loose_parent[n] = str(parent)
                parent = None
            self.children.setdefault(parent, []).append(n)

    def fill(
        self, container: etree._Element, key: str | None, parent: str | None
    ) -> None:
        """Write the nodes, flows and data objects of one (sub-)process."""
        g, ids = self.g, self.ids
        nodes = [
            n
            for n in self.children.get(parent, [])
            if parent is not None or g.nodes[n].get("pool_id") == key
        ]
        for n in nodes:
            el = self.node(container, n)
            if self.children.get(n):
                self.fill(el, key, n)
        here = set(nodes)
        for u, v, d in g.edges(data=True):
            if d.get("kind", "sequence") != "sequence" or u not in here:
                continue
            for eid in (d["id"], *d.get("duplicates", ())):
                xml_id = ids("edge", eid)
                el = sub(
                    container,
                    "sequenceFlow",
                    id=xml_id,
                    name=d.get("label") or None,
                    sourceRef=ids("node", u),
                    targetRef=ids("node", v),
                )
                keep_id(el, xml_id, eid)
                if d.get("condition"):
                    cond = sub(el, "conditionExpression")
                    cond.set(f"{{{XSI}}}type", "bpmn:tFormalExpression")
                    cond.text = str(d["condition"])
                self.di_edges.append((xml_id, self.lay.edges[eid]))
        for obj in self.flow.data_objects:
            if self.data_home(obj) != (key, parent):
                continue
            xml_id = ids("data", obj.id)
            if obj.kind == "dataStoreReference":
                el = sub(
                    container, "dataStoreReference", id=xml_id, name=obj.label or None
                )
            else:
                ref = ids.fresh(xml_id + "_object")
                sub(container, "dataObject", id=ref, name=obj.label or None)
                el = sub(
                    container,
                    "dataObjectReference",
                    id=xml_id,
                    name=obj.label or None,
                    dataObjectRef=ref,
                )
            keep_id(el, xml_id, obj.id)
            self.placed[("data", obj.id)] = el

    def data_home(self, obj: Any) -> tuple[str | None, str | None]:
        if obj.parent in self.g:
            return (self.g.nodes[obj.parent].get("pool_id"), obj.parent)
        for n in (*obj.inputs, *obj.outputs):
            if n in self.g:
                d = self.g.nodes[n]
                return (d.get("pool_id"), None)
        if obj.lane in self.lanes:
            key = self.lane_pool(obj.lane)
            if key in self.containers:
                return (key, None)
        return (next(iter(self.containers)), None)

    def node(self, container: etree._Element, n: str) -> etree._Element:
        g, ids = self.g, self.ids
        d = g.nodes[n]
        kind = d["type"]
        xml_id = ids("node", n)
        el = sub(container, kind, id=xml_id, name=d.get("label") or None)
        keep_id(el, xml_id, n)
        self.placed[("node", n)] = el
        if n in self.loose_parent:
            el.set(HF + "parent", self.loose_parent[n])
        if kind == "boundaryEvent":
            host = d.get("attached_to")
            if host in g:
                el.set("attachedToRef", ids("node", host))
            if d.get("cancel_activity") is False:
                el.set("cancelActivity", "false")
        if kind in WITH_DEFAULT:
            for _, _, e in g.out_edges(n, data=True):
                if e.get("default") and e.get("kind", "sequence") == "sequence":
                    el.set("default", ids("edge", e["id"]))
                    break
        if d.get("triggered_by_event") and kind in ("subProcess", "adHocSubProcess"):
            el.set("triggeredByEvent", "true")
        called = d.get("called_element")
        if kind == "callActivity" and called and VALID_ID.match(str(called)):
            el.set("calledElement", str(called))
        if d.get("direction") in DIRECTIONS and kind.endswith("Gateway"):
            el.set("gatewayDirection", str(d["direction"]))
        if d.get("documentation"):
            sub(el, "documentation").text = str(d["documentation"])
        self.extensions(el, n, d)
        self.data_links(el, n, kind)
        event_definitions(el, d, kind, ids)
        loop_marker(el, d.get("loop"), kind)
        return el

    def extensions(self, el: etree._Element, n: str, d: dict[str, Any]) -> None:
        from_data = tuple(
            dict.fromkeys(
                obj.label
                for obj in self.flow.data_objects
                if obj.label and n in (*obj.inputs, *obj.outputs)
            )
        )
        hf_extensions(el, d, from_data)

    def data_links(self, el: etree._Element, n: str, kind: str) -> None:
        ids = self.ids
        reads = [o for o in self.flow.data_objects if n in o.inputs]
        writes = [o for o in self.flow.data_objects if n in o.outputs]
        in_ok = kind in ACTIVITY_TYPES or kind in THROW
        out_ok = kind in ACTIVITY_TYPES or kind in CATCH
        if reads and in_ok:
            prop = sub(el, "property", id=ids.fresh(f"{el.get('id')}_input"))
            prop.set("name", "__targetRef_placeholder")
            for obj in reads:
                a = sub(
                    el, "dataInputAssociation", id=ids.fresh(f"{el.get('id')}_read")
                )
                sub(a, "sourceRef").text = ids("data", obj.id)
                sub(a, "targetRef").text = prop.get("id")
                self.di_edges.append(
                    (a.get("id", ""), self.lay.associations[(obj.id, n)])
                )
        elif reads:
            self.loose += [
                (ids("data", o.id), ids("node", n), (o.id, n)) for o in reads
            ]
        if writes and out_ok:
            for obj in writes:
                a = sub(
                    el, "dataOutputAssociation", id=ids.fresh(f"{el.get('id')}_write")
                )
                sub(a, "targetRef").text = ids("data", obj.id)
                self.di_edges.append(
                    (a.get("id", ""), self.lay.associations[(obj.id, n)])
                )
        elif writes:
            self.loose += [
                (ids("node", n), ids("data", o.id), (o.id, n)) for o in writes
            ]

    def artifacts(self) -> None:
        """Annotations, their associations, and directed data associations."""
        ids, g = self.ids, self.g

        def home(targets: Iterable[str]) -> etree._Element:
            for t in targets:
                if t in g:
                    return self.containers[g.nodes[t].get("pool_id")]
            if self.collab is not None:
                return self.collab
            return next(iter(self.containers.values()))

        for src, dst, key in self.loose:
            node = key[1]
            box = home([node])
            a = sub(box, "association", id=ids.fresh(f"{src}_{dst}"))
            a.set("sourceRef", src)
            a.set("targetRef", dst)
            a.set("associationDirection", "One")
            self.di_edges.append((a.get("id", ""), self.lay.associations[key]))
        for ann in self.flow.annotations:
            box = home(ann.targets)
            xml_id = ids("ann", ann.id)
            el = sub(box, "textAnnotation", id=xml_id)
            keep_id(el, xml_id, ann.id)
            self.placed[("ann", ann.id)] = el
            sub(el, "text").text = ann.text
            for t in ann.targets:
                ref = self.any_id(t)
                if ref is None or (ann.id, t) not in self.lay.associations:
                    continue
                a = sub(box, "association", id=ids.fresh(f"{xml_id}_assoc"))
                a.set("sourceRef", ref)
                a.set("targetRef", xml_id)
                self.di_edges.append(
                    (a.get("id", ""), self.lay.associations[(ann.id, t)])
                )
        for aid, src, dst in self.flow.meta.get("associations", ()):
            if src in g and dst in g:
                a = sub(home([src]), "association", id=ids.fresh(str(aid)))
                a.set("sourceRef", ids("node", src))
                a.set("targetRef", ids("node", dst))
                line = self.lay.edges.get(aid) or _centre(
                    self.lay.nodes[src], self.lay.nodes[dst]
                )
                self.di_edges.append((a.get("id", ""), line))

    def any_id(self, ref: str) -> str | None:
        for kind in ("node", "data", "ann", "lane", "pool", "edge"):
            if (kind, ref) in self.ids.table:
                return self.ids(kind, ref)
        return None

    # -- diagram interchange ---------------------------------------------

    def diagram(self, root: etree._Element, plane_ref: str) -> None:
        ids, lay, g = self.ids, self.lay, self.g
        shapes: list[tuple[str, Any, dict[str, str]]] = []
        for p in self.flow.pools:
            shapes.append(
                (ids("pool", p.id), lay.pools[p.id], {"isHorizontal": "true"})
            )
        for ln in self.flow.lanes:
            shapes.append(
                (ids("lane", ln.id), lay.lanes[ln.id], {"isHorizontal": "true"})
            )
        for n in g:
            attrs = {}
            if g.nodes[n]["type"] in NESTING:
                attrs["isExpanded"] = "true" if self.children.get(n) else "false"
            shapes.append((ids("node", n), lay.nodes[n], attrs))
        for obj in self.flow.data_objects:
            shapes.append((ids("data", obj.id), lay.data_objects[obj.id], {}))
        for ann in self.flow.annotations:
            shapes.append((ids("ann", ann.id), lay.annotations[ann.id], {}))
        write_diagram(root, plane_ref, ids, shapes, self.di_edges)


def _centre(a: Any, b: Any) -> tuple[tuple[float, float], ...]:
    return ((a[0] + a[2] / 2, a[1] + a[3] / 2), (b[0] + b[2] / 2, b[1] + b[3] / 2))


def write_bpmn(flow: Flow, dest: Any = None, **options: Any) -> bytes | None:
    """Write a flow as BPMN 2.0 XML with complete diagram interchange.

    Parameters
    ----------
    flow : Flow
        The flow to write.
    dest : path, binary file or None
        Where to write; None returns the bytes.
    **options
        None are defined; unknown options are refused.

    Returns
    -------
    bytes or None
        The document when ``dest`` is None. The same flow always gives the
        same bytes.

    Examples
    --------
    >>> from harpflow.model import Flow
    >>> flow = Flow("印鑑登録")
    >>> flow.add_pool("city", "市役所")
    Pool(id='city', name='市役所', process=None, bounds=None)
    >>> _ = flow.add_node("a", type="startEvent", pool_id="city")
    >>> _ = flow.add_node("b", type="userTask", label="審査", pool_id="city")
    >>> _ = flow.add_edge("a", "b", id="f")
    >>> data = write_bpmn(flow)
    >>> data.count(b"<bpmndi:BPMNShape"), data.count(b"<bpmndi:BPMNEdge")
    (3, 1)
    >>> '<bpmn:participant id="city" name="市役所" processRef="Process_city"/>' in (
    ...     data.decode("utf-8")
    ... )
    True
    """
    if options:
        raise TypeError(f"write_bpmn: unknown options {sorted(options)}")
    root = _Writer(flow).build()
    data = etree.tostring(
        root, xml_declaration=True, encoding="UTF-8", pretty_print=True
    )
    return emit(data, dest)
