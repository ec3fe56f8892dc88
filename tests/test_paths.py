"""Paths inside inputs are never followed: links, imports and zip members.

A flow file can name other files: a BPMN ``import`` ``location``, a
``callActivity`` calling another process, a diagrams.net ``link`` or image,
a Mermaid ``click`` target, a zip member called ``../x``. harpflow reads
the one file it is given and nothing else. Each test puts a secret file
beside the input and another outside its folder, names both in the input,
reads it while a Python audit hook records every file opened, every folder
listed and every network connection, and checks that only the input was
touched and no secret reached the flow.
"""

from __future__ import annotations

import io
import sys
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from conftest import corpus

from harpflow.errors import HarpflowError, ParseError
from harpflow.io import formats, read, write

SECRET = "SECRET-9b1e-住民票コード"

#: While a list, every audited file, folder and socket event is appended.
_EVENTS: list[tuple[str, str]] | None = None


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if _EVENTS is None:
        return
    if event in ("open", "os.listdir", "os.scandir", "shutil.copyfile"):
        target = args[0] if args else None
        if isinstance(target, (str, bytes, Path)):
            _EVENTS.append((event, str(target)))
    elif event.startswith(("socket.", "urllib.", "subprocess.", "os.system")):
        _EVENTS.append((event, repr(args)[:100]))


sys.addaudithook(_hook)


@contextmanager
def recording() -> Iterator[list[tuple[str, str]]]:
    global _EVENTS
    # Import every reader first: importing opens module files.
    for fmt in formats():
        if fmt.reader:
            with suppress(HarpflowError):
                fmt.load(fmt.reader)
    events: list[tuple[str, str]] = []
    _EVENTS = events
    try:
        yield events
    finally:
        _EVENTS = None


@pytest.fixture
def place(tmp_path: Path) -> tuple[Path, Path]:
    """A folder for the input with a secret beside it, and one outside."""
    inside = tmp_path / "town"
    inside.mkdir()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    for folder in (inside, outside):
        for name in ("secret.bpmn", "secret.drawio", "secret.png", "secret.xml"):
            (folder / name).write_text(SECRET, encoding="utf-8")
    return inside, outside


def read_recorded(path: Path, **options: Any) -> tuple[Any, list[tuple[str, str]]]:
    with warnings.catch_warnings(), recording() as events:
        warnings.simplefilter("ignore")
        try:
            flow: Any = read(path, **options)
        except HarpflowError as exc:
            flow = exc
    return flow, events


def assert_only_input_touched(path: Path, events: list[tuple[str, str]]) -> None:
    root = path.parent.parent
    touched = [
        (event, target)
        for event, target in events
        if event.startswith(("socket.", "urllib.", "subprocess.", "os.system"))
        or (target.startswith(str(root)) and target != str(path))
    ]
    assert not touched, touched


def assert_no_secret(result: Any) -> None:
    if isinstance(result, HarpflowError):
        assert SECRET not in str(result)
        return
    text = repr(
        [dict(result.graph.nodes[n]) for n in result.graph.nodes]
        + [result.meta, result.graph.graph]
    )
    assert SECRET not in text


def test_bpmn_imports_and_call_activities_are_not_followed(
    place: tuple[Path, Path],
) -> None:
    inside, outside = place
    path = inside / "flow.bpmn"
    path.write_text(
        f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="urn:x {outside}/secret.xml"
    id="d" targetNamespace="x">
  <import importType="http://www.omg.org/spec/BPMN/20100524/MODEL"
      location="secret.bpmn" namespace="a"/>
  <import importType="http://www.omg.org/spec/BPMN/20100524/MODEL"
      location="../elsewhere/secret.bpmn" namespace="b"/>
  <import importType="http://www.w3.org/2001/XMLSchema"
      location="file://{outside}/secret.xml" namespace="c"/>
  <process id="p">
    <startEvent id="s"/>
    <callActivity id="c" name="外部" calledElement="../elsewhere/secret.bpmn"/>
    <endEvent id="e"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="c"/>
    <sequenceFlow id="f2" sourceRef="c" targetRef="e"/>
  </process>
</definitions>
""",
        encoding="utf-8",
    )
    flow, events = read_recorded(path)
    assert not isinstance(flow, HarpflowError), flow
    assert flow.nodes["c"].type == "callActivity"
    assert (("open", str(path))) in events
    assert_only_input_touched(path, events)
    assert_no_secret(flow)


def test_drawio_links_and_images_are_not_followed(place: tuple[Path, Path]) -> None:
    inside, outside = place
    path = inside / "flow.drawio"
    path.write_text(
        f"""<mxfile><diagram id="d" name="p"><mxGraphModel><root>
<mxCell id="0"/><mxCell id="1" parent="0"/>
<UserObject id="a" label="受付" link="file://{outside}/secret.drawio">
  <mxCell style="rounded=1;" vertex="1" parent="1">
    <mxGeometry x="0" y="0" width="80" height="40" as="geometry"/></mxCell>
</UserObject>
<UserObject id="b" label="審査" link="../elsewhere/secret.drawio">
  <mxCell style="shape=image;image=file://{outside}/secret.png;" vertex="1"
      parent="1"><mxGeometry x="200" y="0" width="80" height="40"
      as="geometry"/></mxCell>
</UserObject>
<mxCell id="c" value="通知" style="image=secret.png;" vertex="1" parent="1">
  <mxGeometry x="400" y="0" width="80" height="40" as="geometry"/></mxCell>
<mxCell id="e1" edge="1" parent="1" source="a" target="b">
  <mxGeometry relative="1" as="geometry"/></mxCell>
</root></mxGraphModel></diagram>
</mxfile>
""",
        encoding="utf-8",
    )
    flow, events = read_recorded(path, page=0)
    assert not isinstance(flow, HarpflowError), flow
    assert_only_input_touched(path, events)
    assert_no_secret(flow)


def test_mermaid_click_targets_are_not_followed(place: tuple[Path, Path]) -> None:
    inside, outside = place
    path = inside / "flow.mmd"
    path.write_text(
        "flowchart LR\n  a[受付] --> b[審査]\n"
        f'  click a href "file://{outside}/secret.xml"\n'
        '  click b "../elsewhere/secret.xml"\n',
        encoding="utf-8",
    )
    flow, events = read_recorded(path)
    assert not isinstance(flow, HarpflowError), flow
    assert_only_input_touched(path, events)
    assert_no_secret(flow)


def _with_member(data: bytes, member: str, body: bytes) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr(member, body)
    return out.getvalue()


@pytest.mark.parametrize(
    "member", ["../escape.xml", "/tmp/escape.xml", "a/../../x.xml"]
)
def test_xlsx_members_never_leave_the_package(
    place: tuple[Path, Path], member: str
) -> None:
    inside, _ = place
    flow = read("flowchart LR\n  a[受付] --> b[審査]\n", format="mermaid")
    data = write(flow, format="xlsx")
    assert data is not None
    path = inside / "flow.xlsx"
    path.write_bytes(_with_member(data, member, SECRET.encode()))
    before = sorted(p for p in path.parent.parent.rglob("*"))
    result, events = read_recorded(path)
    assert not isinstance(result, HarpflowError), result
    assert [n.label for n in result.nodes.values()] == ["受付", "審査"]
    assert sorted(p for p in path.parent.parent.rglob("*")) == before
    assert_only_input_touched(path, events)
    assert not any(t.endswith(("escape.xml", "x.xml")) for _, t in events)


@pytest.mark.parametrize("member", ["../escape.xml", "/abs.xml", "visio/../../x.xml"])
def test_vsdx_member_escaping_the_package_is_refused(
    place: tuple[Path, Path], member: str
) -> None:
    inside, _ = place
    source = sorted(corpus("miwg-vsdx").glob("*.vsdx"))[0]
    path = inside / "flow.vsdx"
    path.write_bytes(_with_member(source.read_bytes(), member, b"<a/>"))
    before = sorted(p for p in path.parent.parent.rglob("*"))
    with pytest.raises(ParseError, match="escapes the package") as info:
        read(path)
    assert info.value.element == member
    assert sorted(p for p in path.parent.parent.rglob("*")) == before


def test_vsdx_is_unpacked_in_memory_or_a_private_temporary_folder(
    place: tuple[Path, Path],
) -> None:
    inside, _ = place
    source = sorted(corpus("miwg-vsdx").glob("*.vsdx"))[0]
    path = inside / "flow.vsdx"
    path.write_bytes(source.read_bytes())
    result, events = read_recorded(path, page=0)
    assert not isinstance(result, HarpflowError), result
    assert_only_input_touched(path, events)
    # Nothing is written beside the input.
    assert sorted(p.name for p in inside.iterdir()) == sorted(
        ["flow.vsdx", "secret.bpmn", "secret.drawio", "secret.png", "secret.xml"]
    )
