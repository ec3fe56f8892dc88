"""BPMN 2.0 XML: read a file into a :class:`~harpflow.model.Flow`.

:func:`read_bpmn` reads the semantic model of a BPMN 2.0 file -- every
process, collaboration, lane set and sub-process -- and the coordinates of
its diagram interchange (DI). :func:`write_bpmn` (in
:mod:`harpflow.io.bpmn_write`, re-exported here) writes a flow back with
complete DI.

Elements are dispatched by their namespaced tag (``{namespace}localName``),
never by prefix, so ``bpmn:task``, ``bpmn2:task``, ``semantic:task`` and an
unprefixed ``task`` in the BPMN 2.0 model namespace all read alike.

What is read
    - every flow node: tasks of every kind, sub-processes (also triggered
      by an event, transactions, ad hoc), call activities, every event
      (boundary events with ``attached_to`` and ``cancel_activity``; the
      trigger from the event definition in ``trigger``), every gateway;
    - sequence flows with name (``label``), condition expression
      (``condition``) and default flows (``default``); message flows
      between nodes as edges of kind ``"message"``, and message flows that
      end on a participant as :meth:`~harpflow.model.Flow.pool_messages`;
    - participants as pools (a node's pool is the participant whose
      ``processRef`` is the node's process), lane sets with nested lanes (a
      node's lane is its innermost lane), sub-process nesting (``parent``);
    - data object and data store references with their data associations
      (they become the steps' ``forms``), text annotations with their
      associations, loop and multi-instance markers (``loop``) and
      ``documentation``;
    - DI: node ``bounds``, edge ``waypoints``, lane and pool bounds, from
      the first diagram that shows each element.

Attributes in the harpflow namespace ``https://harpflow.dev/schema/1``
(written by :func:`write_bpmn`) restore what BPMN cannot say: original ids
that are not valid XML ids (``hf:id``), medium, location, function ids and
other step attributes, the order of nodes and lanes (``hf:seq``) and the
flow's metadata (``hf:meta``).

Errors
    A root that is not ``definitions`` in the BPMN 2.0 model namespace, two
    flow elements with one id, and a flow with one end missing raise
    :class:`~harpflow.errors.ParseError` naming file, line and element. Ids
    inside ``extensionElements`` and in other namespaces are vendor data:
    they are never read, so repeating them is not an error.

Notes
-----
- Groups, categories, choreographies and conversations are not represented;
  each kind met inside a process gives one warning.
- A flow *neither* of whose ends is an element of the file (tools leave
  such orphans when they drop an element on export) is ignored with a
  warning; a flow with one end present and the other missing is an error.
- Execution details (input/output specifications, properties, resource
  roles, timer expressions, ``isInterrupting`` of event sub-process starts)
  are not kept.
- Associations that join two flow nodes (compensation) are kept in
  ``flow.meta["associations"]`` as ``(id, source, target)`` triples.
- A DiGraph holds one edge per ordered pair: a second flow between the same
  two nodes is kept in the edge's ``duplicates`` (see
  :class:`~harpflow.model.Flow`); its own name, condition and waypoints
  are not kept. A message flow that parallels a sequence
  flow between the same two nodes cannot be a second edge; it is kept as a
  :class:`~harpflow.model.PoolMessage` between the two nodes.

Examples
--------
>>> from harpflow.io.bpmn import read_bpmn
>>> flow = read_bpmn('''<definitions
...   xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
...  <process id="p" name="転入届">
...   <startEvent id="s"/>
...   <userTask id="t" name="受付"/>
...   <sequenceFlow id="f" sourceRef="s" targetRef="t"/>
...  </process>
... </definitions>''')
>>> flow.name, flow.nodes["t"].type, flow.nodes["t"].label
('転入届', 'userTask', '受付')
>>> flow.nodes["t"].source.line
5
"""

from __future__ import annotations

import warnings
from typing import Any

from harpflow.errors import HarpflowWarning, ParseError
from harpflow.io.bpmn_build import build
from harpflow.io.bpmn_parse import (
    BPMN_NS,
    BPMNDI_NS,
    DC_NS,
    DI_NS,
    HF_NS,
    STANDARD_NS,
    M,
    State,
    gather,
    line_of,
)
from harpflow.io.source import DEFAULT_MAX_BYTES, Input, Source, open_input
from harpflow.io.xml import describe, parse_xml
from harpflow.model import Flow

__all__ = [
    "BPMNDI_NS",
    "BPMN_NS",
    "DC_NS",
    "DI_NS",
    "HF_NS",
    "STANDARD_NS",
    "read_bpmn",
    "write_bpmn",
]


def write_bpmn(flow: Flow, dest: Any = None, **options: Any) -> bytes | None:
    """Write a flow as BPMN 2.0 XML; see :func:`harpflow.io.bpmn_write.write_bpmn`."""
    from harpflow.io.bpmn_write import write_bpmn as _write

    return _write(flow, dest, **options)


def read_bpmn(
    inp: Input | Source, *, max_bytes: int = DEFAULT_MAX_BYTES, **options: Any
) -> Flow:
    """Read a BPMN 2.0 XML file into a :class:`~harpflow.model.Flow`.

    Parameters
    ----------
    inp : Input, path, file, bytes or str
        The BPMN document.
    max_bytes : int
        Largest accepted input in bytes.
    **options
        None are defined; unknown options are refused.

    Returns
    -------
    Flow
        Named after the collaboration, else the first named process, else
        the definitions, else the file's stem.

    Raises
    ------
    ParseError
        Malformed or hostile XML; a root that is not BPMN ``definitions``;
        a flow to a missing id; two flow elements with one id. The error
        names file, line and element.

    Warns
    -----
    HarpflowWarning
        For elements inside a process that harpflow does not represent, and
        for flows neither of whose ends is in the file.

    Examples
    --------
    >>> flow = read_bpmn('''<bpmn:definitions
    ...   xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">
    ...  <bpmn:collaboration id="c">
    ...   <bpmn:participant id="city" name="市役所" processRef="p"/>
    ...  </bpmn:collaboration>
    ...  <bpmn:process id="p">
    ...   <bpmn:laneSet id="ls"><bpmn:lane id="w" name="窓口">
    ...    <bpmn:flowNodeRef>t</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    ...   <bpmn:task id="t" name="受付"/>
    ...  </bpmn:process>
    ... </bpmn:definitions>''')
    >>> node = flow.nodes["t"]
    >>> node.lane, node.pool, flow.name
    ('窓口', '市役所', None)
    >>> read_bpmn("<definitions/>")
    Traceback (most recent call last):
    ...
    harpflow.errors.ParseError: <string>:1: definitions: not a BPMN 2.0 file: ...
    """
    if options:
        raise TypeError(f"read_bpmn: unknown options {sorted(options)}")
    if not isinstance(inp, Input):
        inp = open_input(inp, max_bytes=max_bytes)
    root = parse_xml(inp, max_bytes=max_bytes).getroot()
    if root.tag != M + "definitions":
        raise ParseError(
            "not a BPMN 2.0 file: the root element is not definitions in the "
            f"namespace {BPMN_NS}",
            source=inp.name,
            line=line_of(root),
            element=describe(root) if isinstance(root.tag, str) else None,
        )
    st = State(inp.name, has_hf=HF_NS.encode() in inp.data)
    processes, collaborations, participants = gather(st, root)
    flow = build(st, inp, root, processes, collaborations, participants)
    for name, (count, line) in sorted(st.unknown.items()):
        times = f"{count} elements" if count > 1 else "element"
        warnings.warn(
            f"{inp.name}:{line}: {name}: {times} not represented, ignored",
            HarpflowWarning,
            stacklevel=2,
        )
    return flow
