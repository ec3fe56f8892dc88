"""Every limit of :class:`harpflow.io.limits.Limits`: default, and refusal.

Each test builds an input just past one limit (the limit lowered so the
input stays small), reads it through :func:`harpflow.io.read`, and checks
that a :class:`LimitError` names the file and the parameter to raise; the
same input under the default limits reads.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from conftest import DATA, corpus

from harpflow.errors import HarpflowError, LimitError, ParseError
from harpflow.io import read, write
from harpflow.io.limits import DEFAULT_LIMITS, MAX_ZIP_MEMBERS, Limits, check_zip
from harpflow.model import Flow

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def chain(n: int) -> str:
    """A Mermaid flowchart of ``n`` steps in a row (``n - 1`` flows)."""
    lines = ["flowchart LR"] + [
        f"  t{i}[手順{i}] --> t{i + 1}[手順{i + 1}]" for i in range(n - 1)
    ]
    return "\n".join(lines) + "\n"


def nested_subprocesses(depth: int) -> bytes:
    """BPMN with one task inside ``depth`` nested sub-processes."""
    inner = '<task id="t" name="受付"/>'
    for level in range(depth, 0, -1):
        inner = f'<subProcess id="sp{level}" name="段{level}">{inner}</subProcess>'
    return (
        f'<definitions xmlns="{BPMN_NS}" id="d" targetNamespace="x">'
        f'<process id="p">{inner}</process></definitions>'
    ).encode()


def nested_lanes(depth: int) -> bytes:
    """BPMN with one task in a lane nested ``depth`` levels below the top."""
    lanes = "<flowNodeRef>t</flowNodeRef>"
    for level in range(depth, -1, -1):
        child = (
            f"<childLaneSet id='cls{level}'>{lanes}</childLaneSet>"
            if level < depth
            else lanes
        )
        lanes = f'<lane id="l{level}" name="係{level}">{child}</lane>'
    return (
        f'<definitions xmlns="{BPMN_NS}" id="d" targetNamespace="x">'
        f'<process id="p"><laneSet id="ls">{lanes}</laneSet>'
        '<task id="t" name="受付"/></process></definitions>'
    ).encode()


def test_defaults_are_documented_values() -> None:
    assert (
        Limits(
            max_bytes=50_000_000,
            max_decompressed=100_000_000,
            max_nodes=50_000,
            max_edges=100_000,
            max_depth=32,
            max_label=10_000,
        )
        == DEFAULT_LIMITS
    )


@pytest.mark.parametrize("field", ["max_bytes", "max_nodes", "max_label"])
@pytest.mark.parametrize("value", [0, -1, 1.5, True])
def test_limits_must_be_positive_integers(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        Limits(**{field: value})  # type: ignore[arg-type]


def test_max_bytes() -> None:
    text = chain(20)
    assert len(read(text, format="mermaid").nodes) == 20
    with pytest.raises(LimitError, match="max_bytes") as info:
        read(text, format="mermaid", limits=Limits(max_bytes=100))
    assert info.value.source == "<string>"
    # The older keyword still works, and wins over limits.max_bytes.
    with pytest.raises(LimitError, match="100 bytes"):
        read(text, format="mermaid", max_bytes=100)
    with pytest.raises(LimitError):
        read(text, format="mermaid", max_bytes=100, limits=Limits(max_bytes=10**6))


def test_max_bytes_on_a_path(tmp_path: pytest.TempPathFactory) -> None:
    path = tmp_path / "big.mmd"  # type: ignore[operator]
    path.write_text(chain(50), encoding="utf-8")
    with pytest.raises(LimitError) as info:
        read(path, limits=Limits(max_bytes=200))
    assert info.value.source == str(path)


def xlsx_bytes(n: int) -> bytes:
    flow = read(chain(n), format="mermaid")
    data = write(flow, format="xlsx")
    assert data is not None
    return data


def test_max_decompressed_xlsx() -> None:
    data = xlsx_bytes(5)
    assert len(read(data, format="xlsx").nodes) == 5
    with pytest.raises(LimitError, match="max_decompressed"):
        read(data, format="xlsx", limits=Limits(max_decompressed=2_000))


def test_max_decompressed_zip_bomb_is_refused_before_unpacking() -> None:
    # One member declaring 200 MB of zeros: a classic zip bomb (~200 kB).
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            block = b"\0" * 1_000_000
            for _ in range(200):
                fh.write(block)
    with pytest.raises(LimitError, match="max_decompressed") as info:
        read(buf.getvalue(), format="xlsx")
    assert info.value.element == "xl/worksheets/sheet1.xml"


def test_too_many_zip_members() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for i in range(MAX_ZIP_MEMBERS + 1):
            zf.writestr(f"m{i}", b"")
    with pytest.raises(LimitError, match="members"):
        check_zip(buf.getvalue(), DEFAULT_LIMITS, "many.xlsx")


def test_max_decompressed_vsdx() -> None:
    path = corpus("miwg-vsdx") / "itp-commerce_A.1.0.vsdx"
    if not path.exists():
        path = sorted(corpus("miwg-vsdx").glob("*.vsdx"))[0]
    with pytest.raises(LimitError, match="max_decompressed") as info:
        read(path, limits=Limits(max_decompressed=10_000))
    assert info.value.source == str(path)


def test_max_decompressed_drawio_page() -> None:
    path = DATA / "drawio" / "flowchart_compressed.drawio"
    assert len(read(path).nodes) > 0
    with pytest.raises(
        LimitError, match=r"inflates to more than.*max_decompressed"
    ) as info:
        read(path, limits=Limits(max_decompressed=200))
    assert str(path) in str(info.value)


def test_max_nodes() -> None:
    text = chain(30)
    assert len(read(text, format="mermaid", limits=Limits(max_nodes=30)).nodes) == 30
    with pytest.raises(
        LimitError, match=r"30 nodes; the limit is 29 \(raise max_nodes"
    ):
        read(text, format="mermaid", limits=Limits(max_nodes=29))


def test_max_edges() -> None:
    text = chain(30)
    read(text, format="mermaid", limits=Limits(max_edges=29))
    with pytest.raises(
        LimitError, match=r"29 flows; the limit is 28 \(raise max_edges"
    ):
        read(text, format="mermaid", limits=Limits(max_edges=28))


def test_max_depth_of_sub_processes() -> None:
    data = nested_subprocesses(5)
    flow = read(data, format="bpmn", limits=Limits(max_depth=5))
    assert flow.nodes["t"].parent == "sp5"
    with pytest.raises(LimitError, match="max_depth") as info:
        read(data, format="bpmn", limits=Limits(max_depth=4))
    assert info.value.element == "task id='t'"
    assert info.value.line == 1


def test_default_max_depth_refuses_deep_nesting() -> None:
    read(nested_subprocesses(32), format="bpmn")
    with pytest.raises(LimitError, match="max_depth"):
        read(nested_subprocesses(40), format="bpmn")


def test_max_depth_of_lanes() -> None:
    data = nested_lanes(4)
    flow = read(data, format="bpmn", limits=Limits(max_depth=4))
    assert flow.nodes["t"].lane == "係4"
    with pytest.raises(LimitError, match="lanes nested") as info:
        read(data, format="bpmn", limits=Limits(max_depth=3))
    assert info.value.element == "lane id='l4'"


def test_max_label() -> None:
    yaml = "name: 長い\nsteps:\n  - id: a\n    label: " + "あ" * 300 + "\n"
    assert read(yaml, format="yaml", limits=Limits(max_label=300)).nodes["a"].label
    with pytest.raises(LimitError, match="label of 300 characters") as info:
        read(yaml, format="yaml", limits=Limits(max_label=299))
    assert info.value.element is not None and "id='a'" in info.value.element


def test_max_label_of_a_lane_name() -> None:
    flow = Flow("f")
    flow.add_node("a", lane="係" * 50)
    from harpflow.io.limits import check

    with pytest.raises(LimitError, match="name of 50 characters"):
        check(flow, Limits(max_label=49), "x.yaml")


def test_parent_loop_is_a_parse_error_not_a_hang() -> None:
    flow = Flow("f")
    flow.add_node("a", type="subProcess")
    flow.add_node("b", type="subProcess", parent="a")
    flow.update_node("a", parent="b")
    from harpflow.io.limits import check

    with pytest.raises(ParseError, match="loop"):
        check(flow, DEFAULT_LIMITS, "x.bpmn")


def test_limit_error_is_a_harpflow_error() -> None:
    assert issubclass(LimitError, HarpflowError)
