"""Element-level pieces of the BPMN writer (:mod:`harpflow.io.bpmn_write`).

Valid and unique XML ids (:class:`Ids`), event definitions, loop markers,
harpflow's own extension attributes, and the diagram interchange plane.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from lxml import etree

from harpflow.io.bpmn_parse import BPMN_NS, BPMNDI_NS, DC_NS, DI_NS, HF_NS
from harpflow.model import ACTIVITY_TYPES

__all__ = [
    "CATCH",
    "DEFINITIONS",
    "DIRECTIONS",
    "EXPRESSED",
    "HF",
    "NESTING",
    "NSMAP",
    "THROW",
    "VALID_ID",
    "WITH_DEFAULT",
    "XSI",
    "Ids",
    "M",
    "event_definitions",
    "hf_extensions",
    "keep_id",
    "loop_marker",
    "num",
    "sub",
    "write_diagram",
]

XSI = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {
    "bpmn": BPMN_NS,
    "bpmndi": BPMNDI_NS,
    "dc": DC_NS,
    "di": DI_NS,
    "hf": HF_NS,
    "xsi": XSI,
}
M, HF = "{" + BPMN_NS + "}", "{" + HF_NS + "}"
VALID_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
SAFE_TAIL = re.compile(r"^[A-Za-z0-9_.\-]+$")
#: Node attributes that the BPMN elements themselves express.
EXPRESSED = frozenset(
    {
        "type",
        "label",
        "lane",
        "lane_id",
        "pool",
        "pool_id",
        "parent",
        "documentation",
        "trigger",
        "attached_to",
        "cancel_activity",
        "loop",
        "bounds",
        "source",
        "triggered_by_event",
        "called_element",
        "direction",
        "forms",
        "link",
    }
)
DEFINITIONS = {
    "cancel": "cancelEventDefinition",
    "compensation": "compensateEventDefinition",
    "conditional": "conditionalEventDefinition",
    "error": "errorEventDefinition",
    "escalation": "escalationEventDefinition",
    "link": "linkEventDefinition",
    "message": "messageEventDefinition",
    "signal": "signalEventDefinition",
    "terminate": "terminateEventDefinition",
    "timer": "timerEventDefinition",
}
CATCH = frozenset({"startEvent", "intermediateCatchEvent", "boundaryEvent"})
THROW = frozenset({"endEvent", "intermediateThrowEvent", "implicitThrowEvent"})
WITH_DEFAULT = ACTIVITY_TYPES | {
    "exclusiveGateway",
    "inclusiveGateway",
    "complexGateway",
}
NESTING = frozenset({"subProcess", "transaction", "adHocSubProcess"})
DIRECTIONS = frozenset({"Unspecified", "Converging", "Diverging", "Mixed"})


class Ids:
    """Valid, unique XML ids for model ids, assigned in a fixed order."""

    def __init__(self) -> None:
        self.taken: set[str] = set()
        self.table: dict[tuple[str, str], str] = {}

    def assign(self, kind: str, model_id: str, prefix: str) -> str:
        if VALID_ID.match(model_id) and model_id not in self.taken:
            xml_id = model_id
        elif SAFE_TAIL.match(model_id):
            xml_id = self.fresh(prefix + model_id)
        else:
            digest = hashlib.sha1(model_id.encode("utf-8")).hexdigest()[:10]
            xml_id = self.fresh(prefix + digest)
        self.taken.add(xml_id)
        self.table[(kind, model_id)] = xml_id
        return xml_id

    def fresh(self, base: str) -> str:
        candidate, n = base, 1
        while candidate in self.taken:
            n += 1
            candidate = f"{base}_{n}"
        self.taken.add(candidate)
        return candidate

    def __call__(self, kind: str, model_id: str) -> str:
        return self.table[(kind, model_id)]


def num(value: float) -> str:
    """A coordinate as text: integers without a point, others exactly."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def sub(parent: etree._Element, tag: str, **attrs: str | None) -> etree._Element:
    el = etree.SubElement(parent, M + tag)
    for key, value in attrs.items():
        if value is not None:
            el.set(key, value)
    return el


def keep_id(el: etree._Element, xml_id: str, model_id: str) -> None:
    if xml_id != model_id:
        el.set(HF + "id", model_id)


def event_definitions(
    el: etree._Element, d: dict[str, Any], kind: str, ids: Ids
) -> None:
    """Event definitions for a node's ``trigger`` (``hf:trigger`` when BPMN
    has no single definition for it)."""
    trigger = d.get("trigger")
    if not trigger or (kind not in CATCH and kind not in THROW):
        return
    xml_id = el.get("id", "")
    names = [DEFINITIONS[trigger]] if trigger in DEFINITIONS else []
    if trigger in ("multiple", "parallelMultiple"):
        names = ["messageEventDefinition", "signalEventDefinition"]
        if trigger == "parallelMultiple" and kind in CATCH:
            el.set("parallelMultiple", "true")
    if not names or trigger in ("multiple", "parallelMultiple"):
        el.set(HF + "trigger", str(trigger))
    for name in names:
        ed = sub(el, name, id=ids.fresh(f"{xml_id}_ed"))
        if name == "conditionalEventDefinition":
            sub(ed, "condition")
        elif name == "linkEventDefinition":
            ed.set("name", str(d.get("link") or d.get("label") or xml_id))


def loop_marker(el: etree._Element, loop: str | None, kind: str) -> None:
    """Standard or multi-instance loop characteristics of an activity."""
    if not loop or kind not in ACTIVITY_TYPES:
        return
    if loop == "standard":
        sub(el, "standardLoopCharacteristics")
        return
    multi = sub(el, "multiInstanceLoopCharacteristics")
    if loop == "sequential":
        multi.set("isSequential", "true")


def hf_extensions(
    el: etree._Element, d: dict[str, Any], from_data: tuple[str, ...]
) -> None:
    """Node attributes BPMN cannot say, as ``hf:`` attributes and elements.

    ``from_data`` are the forms the node's data objects give back on
    reading; the forms are written only when they differ.
    """
    extra: dict[str, Any] = {
        k: v for k, v in d.items() if k not in EXPRESSED and v not in (None, "", ())
    }
    forms = tuple(d.get("forms", ()))
    if forms and forms != from_data:
        extra["forms"] = forms
    items = []
    for key in sorted(extra):
        value = extra[key]
        if key in ("medium", "location") and isinstance(value, str):
            el.set(HF + key, value)
        else:
            items.append((key, value))
    if not items:
        return
    ext = sub(el, "extensionElements")
    for key, value in items:
        attr = etree.SubElement(ext, HF + "attr", name=key)
        if isinstance(value, (list, tuple)):
            for item in value:
                etree.SubElement(attr, HF + "item").text = str(item)
        else:
            attr.text = str(value)


def write_diagram(
    root: etree._Element,
    plane_ref: str,
    ids: Ids,
    shapes: list[tuple[str, Any, dict[str, str]]],
    edges: list[tuple[str, Any]],
) -> None:
    """One BPMN diagram: a shape per ``(id, bounds, attributes)`` and an
    edge per ``(id, waypoints)``."""
    dia = etree.SubElement(
        root, "{" + BPMNDI_NS + "}BPMNDiagram", id=ids.fresh("BPMNDiagram_1")
    )
    plane = etree.SubElement(dia, "{" + BPMNDI_NS + "}BPMNPlane")
    plane.set("id", ids.fresh("BPMNPlane_1"))
    plane.set("bpmnElement", plane_ref)
    for xml_id, box, attrs in shapes:
        s = etree.SubElement(plane, "{" + BPMNDI_NS + "}BPMNShape")
        s.set("id", ids.fresh(f"{xml_id}_di"))
        s.set("bpmnElement", xml_id)
        for k, v in attrs.items():
            s.set(k, v)
        b = etree.SubElement(s, "{" + DC_NS + "}Bounds")
        for k, v in zip(("x", "y", "width", "height"), box, strict=True):
            b.set(k, num(v))
    for xml_id, line in edges:
        e = etree.SubElement(plane, "{" + BPMNDI_NS + "}BPMNEdge")
        e.set("id", ids.fresh(f"{xml_id}_di"))
        e.set("bpmnElement", xml_id)
        for x, y in line:
            w = etree.SubElement(e, "{" + DI_NS + "}waypoint")
            w.set("x", num(x))
            w.set("y", num(y))
