"""Structured fuzzing: hypothesis builds well-formed but odd inputs.

Mutating real files mostly yields broken syntax, which a reader refuses
early. These strategies build inputs that parse -- charts, step tables,
BPMN processes, diagrams.net models, Petri nets, EPCs, workbooks -- with
odd content: unicode labels, ids that repeat or point nowhere, self
loops, nested containers, unknown types. Each generated input is read by
``fuzz_readers.run_case``; failures are collected, never raised, so a run
covers its whole budget.
"""

from __future__ import annotations

import io
import time
from typing import Any
from xml.sax.saxutils import quoteattr

import fuzz_readers
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

__all__ = ["STRATEGIES", "generated"]

_ids = st.one_of(
    st.sampled_from(["a", "b", "c", "d", "e", "f", "g", "h", "1", "2", "x_1", "受付"]),
    st.sampled_from(["a b", "", "-", "end", "subgraph"]),  # odd ids, less often
)
_plain = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn")),
    min_size=1,
    max_size=12,
)
_text = st.one_of(
    *([_plain] * 6),
    st.sampled_from(["受付", "審査・決裁", "①申請", "ｶﾞ", "転入届を受付"]),
    st.text(max_size=12),
    st.sampled_from(["a|b", "[x]", '"', "\\n", "\u202e", "e\u0301\u0301"]),
)
_valid_types = [
    "task",
    "userTask",
    "serviceTask",
    "subProcess",
    "startEvent",
    "endEvent",
    "exclusiveGateway",
    "parallelGateway",
    "intermediateCatchEvent",
]
_node_types = st.one_of(
    st.sampled_from(_valid_types),
    st.sampled_from(_valid_types),
    st.sampled_from(_valid_types),
    st.sampled_from(["boundaryEvent", "callActivity", "dataObjectReference", "x", ""]),
)


def _attr(value: str) -> str:
    return quoteattr("".join(ch for ch in value if ch.isprintable()))


@st.composite
def mermaid(draw: Any) -> bytes:
    shapes = [
        "[{}]",
        "({})",
        "([{}])",
        "(({}))",
        "{{{}}}",
        "{{{{{}}}}}",
        "[({})]",
        ">{}]",
    ]
    arrows = ["-->", "---", "-.->", "==>", "--o", "--x", "<-->", "~~~", "-->|{}|"]
    lines = [draw(st.sampled_from(["flowchart LR", "graph TD", "flowchart"]))]
    depth = 0
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.integers(0, 6))
        a, b = draw(_ids), draw(_ids)
        if kind <= 2:
            shape = draw(st.sampled_from(shapes)).format(draw(_text))
            arrow = draw(st.sampled_from(arrows)).format(draw(_text))
            lines.append(f"  {a or 'n'}{shape} {arrow} {b or 'm'}")
        elif kind == 3:
            lines.append(f"  subgraph {a or 's'}[{draw(_text)}]")
            depth += 1
        elif kind == 4 and depth:
            lines.append("  end")
            depth -= 1
        elif kind == 5:
            lines.append(f"  class {a or 'n'} {draw(_node_types) or 'x'}")
        else:
            lines.append(f"  {a or 'n'} & {b or 'm'} --> {draw(_ids) or 'k'}")
    lines += ["  end"] * draw(st.integers(0, depth))
    return "\n".join(lines).encode("utf-8", "surrogatepass")


@st.composite
def _rows(draw: Any) -> list[dict[str, str]]:
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        nxt = draw(st.lists(st.tuples(_ids, st.one_of(st.just(""), _text)), max_size=3))
        rows.append(
            {
                "id": draw(_ids),
                "lane": draw(_text),
                "label": draw(_text),
                "type": draw(_node_types),
                "next": " ".join(f"{i}:{c}" if c else i for i, c in nxt),
            }
        )
    return rows


@st.composite
def yaml_table(draw: Any) -> bytes:
    lines = [f"name: {draw(_text)!r}", "steps:"]
    for row in draw(_rows()):
        lines.append(f"  - id: {row['id']!r}")
        for key in ("lane", "label", "type", "next"):
            if draw(st.booleans()):
                lines.append(f"    {key}: {row[key]!r}")
    return "\n".join(lines).encode("utf-8", "surrogatepass")


@st.composite
def csv_table(draw: Any) -> bytes:
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    header = draw(
        st.sampled_from(
            [
                ["番号", "担当", "作業", "種別", "次"],
                ["id", "lane", "label", "type", "next"],
            ]
        )
    )
    writer.writerow(header)
    for row in draw(_rows()):
        writer.writerow(
            [row["id"], row["lane"], row["label"], row["type"], row["next"]]
        )
    encoding = draw(
        st.sampled_from(["utf-8", "utf-8-sig", "cp932", "euc_jp", "utf-16"])
    )
    return out.getvalue().encode(encoding, "replace")


@st.composite
def xlsx_table(draw: Any) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = draw(st.sampled_from(["steps", "Sheet", "業務フロー"]))
    ws.append(["番号", "担当", "作業", "種別", "次"])
    cell = st.one_of(
        _text, st.integers(-(10**12), 10**12), st.floats(allow_nan=True), st.none()
    )
    for row in draw(_rows()):
        values: list[Any] = [
            row["id"],
            row["lane"],
            row["label"],
            row["type"],
            row["next"],
        ]
        if draw(st.booleans()):
            values[draw(st.integers(0, 4))] = draw(cell)
        values = [
            "".join(ch for ch in v if ch.isprintable()) if isinstance(v, str) else v
            for v in values
        ]
        ws.append(values)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@st.composite
def bpmn(draw: Any) -> bytes:
    parts = []
    ids = draw(st.lists(_ids, min_size=0, max_size=10, unique=draw(st.booleans())))
    for i in ids:
        kind = draw(_node_types) or "task"
        inner = ""
        if kind == "subProcess" and draw(st.booleans()):
            inner = f"<task id={_attr(i + 'in')} name={_attr(draw(_text))}/>"
        extra = f" attachedToRef={_attr(draw(_ids))}" if kind == "boundaryEvent" else ""
        parts.append(
            f"<{kind} id={_attr(i)} name={_attr(draw(_text))}{extra}>{inner}</{kind}>"
        )
    for n in range(draw(st.integers(0, 12))):
        parts.append(
            f"<sequenceFlow id='f{n}' sourceRef={_attr(draw(_ids))} "
            f"targetRef={_attr(draw(_ids))} name={_attr(draw(_text))}/>"
        )
    if draw(st.booleans()):
        refs = "".join(f"<flowNodeRef>{i}</flowNodeRef>" for i in draw(st.lists(_ids)))
        parts.insert(
            0,
            f"<laneSet id='ls'><lane id='l' name={_attr(draw(_text))}>{refs}"
            "</lane></laneSet>",
        )
    body = "".join(parts)
    return (
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">'
        f"<process id='p'>{body}</process></definitions>"
    ).encode()


@st.composite
def drawio(draw: Any) -> bytes:
    styles = st.sampled_from(
        [
            "rounded=1;",
            "rhombus;",
            "ellipse;",
            "swimlane;",
            "shape=mxgraph.bpmn.task;taskMarker=user;",
            "shape=mxgraph.bpmn.event;outline=end;",
            "shape=mxgraph.bpmn.gateway2;gwType=parallel;",
            "edgeStyle=orthogonalEdgeStyle;",
            "text;",
            "group;",
            "",
        ]
    )
    cells = ['<mxCell id="0"/>', '<mxCell id="1" parent="0"/>']
    for n in range(draw(st.integers(0, 12))):
        parent = draw(
            st.one_of(
                st.just("1"),
                st.just("1"),
                st.sampled_from(["0", "v0", "v1", "missing", f"v{n}"]),
            )
        )
        if draw(st.integers(0, 2)):
            cells.append(
                f"<mxCell id='v{n}' value={_attr(draw(_text))} "
                f"style={_attr(draw(styles))} vertex='1' parent='{parent}'>"
                f"<mxGeometry x='{draw(st.integers(-9, 999))}' "
                "y='1' width='80' height='40' as='geometry'/></mxCell>"
            )
        else:
            cells.append(
                f"<mxCell id='e{n}' value={_attr(draw(_text))} edge='1' parent='1' "
                f"source='v{draw(st.integers(0, 12))}' "
                f"target='v{draw(st.integers(0, 12))}'>"
                "<mxGeometry relative='1' as='geometry'/></mxCell>"
            )
    model = f"<mxGraphModel><root>{''.join(cells)}</root></mxGraphModel>"
    return f"<mxfile><diagram id='d' name='p'>{model}</diagram></mxfile>".encode()


@st.composite
def pnml(draw: Any) -> bytes:
    items = []
    for n in range(draw(st.integers(0, 8))):
        tag = draw(st.sampled_from(["place", "transition"]))
        items.append(
            f"<{tag} id='n{n}'><name><text>{_attr(draw(_text))[1:-1]}</text>"
            f"</name></{tag}>"
        )
    for n in range(draw(st.integers(0, 10))):
        items.append(
            f"<arc id='a{n}' source='n{draw(st.integers(0, 9))}' "
            f"target='n{draw(st.integers(0, 9))}'/>"
        )
    return (
        "<pnml><net id='net' type='http://www.pnml.org/version-2009/grammar/ptnet'>"
        f"<page id='pg'>{''.join(items)}</page></net></pnml>"
    ).encode()


@st.composite
def epml(draw: Any) -> bytes:
    items = []
    for n in range(draw(st.integers(0, 8))):
        tag = draw(
            st.sampled_from(
                ["event", "function", "and", "xor", "or", "processInterface"]
            )
        )
        items.append(f"<{tag} id='{n}'><name>{_attr(draw(_text))[1:-1]}</name></{tag}>")
    for n in range(draw(st.integers(0, 10))):
        items.append(
            f"<arc id='{100 + n}'><flow source='{draw(st.integers(0, 9))}' "
            f"target='{draw(st.integers(0, 9))}'/></arc>"
        )
    return f"<epml><epc epcId='1' name='x'>{''.join(items)}</epc></epml>".encode()


STRATEGIES: dict[str, Any] = {
    "mermaid": mermaid(),
    "yaml": yaml_table(),
    "csv": csv_table(),
    "xlsx": xlsx_table(),
    "bpmn": bpmn(),
    "drawio": drawio(),
    "pnml": pnml(),
    "epml": epml(),
}


def generated(reader: str, n: int, seed: int = 0) -> fuzz_readers.Report:
    """Read ``n`` generated inputs as ``reader``; collect the failures.

    Visio drawings are not generated (the only inputs are mutated files).
    """
    report = fuzz_readers.Report(reader)
    strategy = STRATEGIES.get(reader)
    if strategy is None or n <= 0:
        return report

    @settings(
        max_examples=n,
        database=None,
        deadline=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def one(data: bytes) -> None:
        t0 = time.process_time()
        result = fuzz_readers.run_case(reader, data)
        report.slowest = max(report.slowest, time.process_time() - t0)
        report.cases += 1
        if result is None:
            report.read += 1
        elif not result[0]:
            report.refused += 1
        elif result[0] in report.failures:
            report.failures[result[0]].count += 1
        else:
            report.failures[result[0]] = fuzz_readers.Failure(
                reader, result[0], result[1], data
            )

    import signal

    previous = signal.signal(signal.SIGALRM, fuzz_readers._on_alarm)
    start = time.perf_counter()
    try:
        one()
    finally:
        signal.signal(signal.SIGALRM, previous)
    report.seconds = time.perf_counter() - start
    return report
