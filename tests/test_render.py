"""Swimlane drawings, diff overlays and support colouring: the SVG structure."""

from __future__ import annotations

import itertools
import re

import pytest
from click.testing import CliRunner
from conftest import DATA, PROCESSES
from lxml import etree

import harpflow
from harpflow.cli import main
from harpflow.diff import diff
from harpflow.errors import HarpflowError
from harpflow.render import draw, draw_diff, draw_support, sketch, to_dot, wrap
from harpflow.render.drawing import pipe, text_width
from harpflow.render.overlay import (
    KIND_COLOURS,
    SUPPORT_SCALE,
    diff_sketch,
    support_sketch,
)

SVG = "{http://www.w3.org/2000/svg}"
RENDER = DATA / "render"


@pytest.fixture(scope="module")
def standard() -> harpflow.Flow:
    return harpflow.read(RENDER / "standard.yaml")


@pytest.fixture(scope="module")
def town() -> harpflow.Flow:
    return harpflow.read(RENDER / "town.yaml")


def parse(svg: bytes) -> etree._Element:
    return etree.fromstring(svg)


def groups(root: etree._Element, cls: str) -> list[etree._Element]:
    return [g for g in root.iter(f"{SVG}g") if cls in (g.get("class") or "").split()]


def texts(el: etree._Element) -> list[str]:
    return [t.text or "" for t in el.iter(f"{SVG}text")]


def outline_of(g: etree._Element) -> etree._Element | None:
    """The first path or polygon of a node group: its outline."""
    return next((c for c in g if c.tag in (f"{SVG}path", f"{SVG}polygon")), None)


def box(el: etree._Element) -> tuple[float, float, float, float]:
    """Bounding box (x0, y0, x1, y1) of a cluster's outline polygon."""
    poly = el.find(f"{SVG}polygon")
    assert poly is not None
    pts = [tuple(map(float, p.split(","))) for p in poly.get("points", "").split()]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return min(xs), min(ys), max(xs), max(ys)


# -- wrapping ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "width"),
    [
        ("住民異動届の受付および本人確認書類（運転免許証等）の確認", 18),
        ("Check the application form and the applicant's identity", 20),
        ("マイナンバーカードの継続利用処理・券面記載事項の変更", 12),
        ("CSへ本人確認情報を送信", 10),
    ],
)
def test_wrap_keeps_every_character_within_width(text: str, width: int) -> None:
    lines = wrap(text, width)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for line in lines:
        # A closing mark may hang one character past the width (禁則).
        assert text_width(line) <= width + 2
    assert not any(line[0] in "、。）」・" for line in lines[1:])
    assert not any(line[-1] in "（「" for line in lines)


def test_wide_characters_count_two_columns() -> None:
    assert text_width("受付ＡA") == 7
    assert wrap("受付受付受付", 4) == ["受付", "受付", "受付"]


# -- plain drawings --------------------------------------------------------------


@pytest.mark.parametrize("style", ["bpmn", "wfa"])
def test_one_cluster_per_lane_in_lane_order(
    standard: harpflow.Flow, style: str
) -> None:
    root = parse(draw(standard, style=style))
    lanes = groups(root, "hf_lane")
    assert [" ".join(texts(g)[:1]) for g in lanes] == standard.lane_names()
    assert all("cluster" in g.get("class", "") for g in lanes)


@pytest.mark.parametrize("style", ["bpmn", "wfa"])
def test_lanes_are_bands_that_do_not_overlap(
    standard: harpflow.Flow, style: str
) -> None:
    boxes = [box(g) for g in groups(parse(draw(standard, style=style)), "hf_lane")]
    if style == "bpmn":
        # Horizontal bands from top to bottom, each as wide as the drawing.
        spans = [(b[1], b[3]) for b in boxes]
        widths = [b[2] - b[0] for b in boxes]
        assert max(widths) - min(widths) < 0.05 * max(widths)
    else:
        # Columns from left to right.
        spans = [(b[0], b[2]) for b in boxes]
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end <= start


@pytest.mark.parametrize("style", ["bpmn", "wfa"])
def test_every_label_is_text_in_its_node(standard: harpflow.Flow, style: str) -> None:
    root = parse(draw(standard, style=style))
    nodes = {g.get("id"): g for g in groups(root, "hf_node")}
    assert len(nodes) == len(standard.nodes)
    for node in standard.nodes.values():
        g = nodes[f"hf_{node.id}"]
        shown = "".join(texts(g)).replace(" ", "")
        assert node.label.replace(" ", "") in shown
    assert 'font-family="Noto Sans CJK JP"' in etree.tostring(root, encoding="unicode")


def test_bpmn_shapes(standard: harpflow.Flow) -> None:
    root = parse(draw(standard, style="bpmn"))
    by_id = {g.get("id"): g for g in groups(root, "hf_node")}
    start, end = (
        by_id["hf_S"].find(f"{SVG}ellipse"),
        by_id["hf_E"].find(f"{SVG}ellipse"),
    )
    assert start is not None and end is not None
    assert (
        float(end.get("stroke-width", "1")) >= 3 > float(start.get("stroke-width", "1"))
    )
    assert "×" in texts(by_id["hf_G"])
    assert by_id["hf_G"].find(f"{SVG}polygon") is not None  # a diamond
    assert by_id["hf_1"].find(f"{SVG}path") is not None  # rounded task
    assert "システム" not in "".join(texts(by_id["hf_3"]))


def test_wfa_tells_system_manual_and_paper_apart(standard: harpflow.Flow) -> None:
    root = parse(draw(standard, style="wfa"))
    by_id = {g.get("id"): g for g in groups(root, "hf_node")}
    # System work: a double border; manual work: a single box.
    assert len(by_id["hf_3"].findall(f"{SVG}polygon")) == 2
    assert "システム" in texts(by_id["hf_3"])
    assert len(by_id["hf_2"].findall(f"{SVG}polygon")) == 1
    # Paper forms: document shapes with the form's name.
    forms = ["".join(texts(g)) for g in groups(root, "hf_form")]
    assert sorted(forms) == ["交付申請書", "証明書"]
    # Start and end are terminals (rounded boxes), not circles.
    assert by_id["hf_S"].find(f"{SVG}ellipse") is None


def test_output_is_deterministic_and_clean(standard: harpflow.Flow) -> None:
    first = draw(standard)
    assert first == draw(standard.copy())
    text = first.decode("utf-8")
    assert text.startswith("<svg") and "<!--" not in text and "<?xml" not in text
    png = draw(standard, style="wfa", format="png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png == draw(
        standard, style="wfa", format="png"
    )


def test_unknown_style_and_format(standard: harpflow.Flow) -> None:
    with pytest.raises(HarpflowError, match="style"):
        draw(standard, style="uml")
    with pytest.raises(HarpflowError, match="format"):
        pipe(to_dot(sketch(standard)), "gif")


# -- diff overlay --------------------------------------------------------------


def legend_swatches(root: etree._Element) -> dict[str, tuple[str, str]]:
    """Legend text -> (fill, stroke) of the swatch on the same row."""
    graph = root.find(f"{SVG}g")
    assert graph is not None
    out: dict[str, tuple[str, str]] = {}
    children = list(graph)
    for i, el in enumerate(children):
        if el.tag == f"{SVG}text" and "(" in (el.text or "") and i >= 2:
            fill, stroke = children[i - 2], children[i - 1]
            if fill.tag == stroke.tag == f"{SVG}polygon":
                out[el.text or ""] = (fill.get("fill", ""), stroke.get("stroke", ""))
    return out


@pytest.mark.parametrize("style", ["bpmn", "wfa"])
def test_overlay_colours_each_change_kind_as_the_legend_says(
    standard: harpflow.Flow, town: harpflow.Flow, style: str
) -> None:
    fd = diff(standard, town)
    kinds = set(fd.counts())
    assert {"missing", "extra", "lane_changed", "type_changed", "reordered"} <= kinds
    root = parse(draw_diff(fd, style=style))
    legend = legend_swatches(root)
    for kind in kinds:
        stroke, fill = KIND_COLOURS[kind]
        assert any(k.endswith(f"({kind})") for k in legend), kind
        assert legend[next(k for k in legend if k.endswith(f"({kind})"))] == (
            fill,
            stroke,
        )
        marked = groups(root, f"hf_{kind}")
        assert marked, kind
    # A node takes the colour of its most telling change, drawn as the legend.
    expect = {"x": "extra", "d": "lane_changed", "c": "type_changed", "b": "reordered"}
    by_id = {g.get("id"): g for g in groups(root, "hf_node")}
    for node_id, kind in expect.items():
        outline = outline_of(by_id[f"hf_{node_id}"])
        assert outline is not None
        assert (outline.get("fill"), outline.get("stroke")) == (
            KIND_COLOURS[kind][1],
            KIND_COLOURS[kind][0],
        )


def test_missing_step_is_a_dashed_red_ghost_in_its_standard_lane(
    standard: harpflow.Flow, town: harpflow.Flow
) -> None:
    fd = diff(standard, town)
    root = parse(draw_diff(fd))
    ghosts = groups(root, "hf_ghost")
    assert ["".join(texts(g)) for g in ghosts] == ["決裁V01 欠落"]
    outline = ghosts[0].find(f"{SVG}path")
    assert outline is not None
    assert outline.get("stroke") == KIND_COLOURS["missing"][0]
    assert outline.get("stroke-dasharray")
    # The town has no 課長 lane: it is drawn dashed, in the standard's place.
    ghost_lanes = groups(root, "hf_lane_ghost")
    assert [texts(g)[0] for g in ghost_lanes] == ["課長"]
    assert [texts(g)[0] for g in groups(root, "hf_lane")] == [
        "住民",
        "窓口",
        "担当",
        "課長",
    ]
    # Linked with dashed edges to the counterparts of its standard neighbours.
    sk = diff_sketch(fd)
    ghost_links = {(lk.source, lk.target) for lk in sk.links if lk.dashed}
    assert ghost_links == {("c", "ghost:4"), ("ghost:4", "d")}
    assert len(groups(root, "hf_ghost_link")) == 2


def test_deviation_codes_are_tags(standard: harpflow.Flow, town: harpflow.Flow) -> None:
    fd = diff(standard, town)
    shown = texts(parse(draw_diff(fd)))
    for change in fd:
        if change.code:
            assert any(t.startswith(change.code) for t in shown), change


def test_overlay_of_a_real_town_marks_every_kind(tmp_path: object) -> None:
    std = harpflow.read(PROCESSES / "standard/01-jumin/tennyu.yaml")
    town = harpflow.read(PROCESSES / "towns/D/01-jumin/tennyu.drawio")
    fd = diff(std, town)
    root = parse(draw_diff(fd, style="wfa"))
    for kind in fd.counts():
        assert groups(root, f"hf_{kind}"), kind
    lanes = [texts(g)[0] for g in groups(root, "hf_lane")]
    assert set(town.lane_names()) <= set(lanes)


# -- support colouring -----------------------------------------------------------


def test_support_colours_and_legend(standard: harpflow.Flow) -> None:
    support = {"1": 1.0, "2": 0.5, "3": 0.1}
    root = parse(draw_support(standard, support, edge_support={("1", "2"): 1.0}))
    by_id = {g.get("id"): g for g in groups(root, "hf_node")}
    fills = {}
    for node_id in support:
        outline = by_id[f"hf_{node_id}"].find(f"{SVG}path")
        assert outline is not None
        fills[node_id] = outline.get("fill")
    assert fills == {"1": "#08519c", "2": "#6baed6", "3": "#eff3ff"}
    assert "支持 50%" in texts(by_id["hf_2"])
    assert len(groups(root, "hf_support")) == 4  # three nodes and one edge
    legend = [t for t in texts(root) if "%–" in t]
    assert legend == ["0%–20%", "20%–40%", "40%–60%", "60%–80%", "80%–100%"]
    assert {fill for _, fill in SUPPORT_SCALE} <= set(
        re.findall(r'fill="(#[0-9a-f]{6})"', etree.tostring(root, encoding="unicode"))
    )


def test_support_by_edge_id(standard: harpflow.Flow) -> None:
    edge = standard.sequence_edges()[0]
    sk = support_sketch(standard, {"1": 0.5, edge.id: 0.25})
    link = next(
        lk for lk in sk.links if (lk.source, lk.target) == (edge.source, edge.target)
    )
    assert link.width == pytest.approx(0.8 + 3.0 * 0.25)
    assert "hf_support" in link.classes


def test_support_out_of_range(standard: harpflow.Flow) -> None:
    with pytest.raises(HarpflowError, match="not in"):
        draw_support(standard, {"1": 1.5})


# -- notebook displays and the command line ------------------------------------------


def test_rich_displays(standard: harpflow.Flow, town: harpflow.Flow) -> None:
    from harpflow.score import score

    dv = score(standard, town)
    for obj in (standard, dv, dv.diff, dv.diff.matching):
        html_text, svg = obj._repr_html_(), obj._repr_svg_()
        assert svg.startswith("<svg") and "<svg" in html_text
        assert "0x" not in html_text  # no memory addresses
    assert f"{dv.total:.3f}" in dv._repr_html_()
    assert "証明書交付" in standard._repr_html_()


def test_cli_render(tmp_path: object) -> None:
    from pathlib import Path

    out = Path(str(tmp_path))
    runner = CliRunner()
    town, std = str(RENDER / "town.yaml"), str(RENDER / "standard.yaml")
    result = runner.invoke(main, ["render", town, "-o", str(out / "t.svg")])
    assert result.exit_code == 0, result.output
    assert groups(parse((out / "t.svg").read_bytes()), "hf_lane")
    result = runner.invoke(
        main,
        ["render", town, "--against", std, "--style", "wfa", "-o", str(out / "d.png")],
    )
    assert result.exit_code == 0, result.output
    assert (out / "d.png").read_bytes()[:4] == b"\x89PNG"
    result = runner.invoke(main, ["render", town, "-o", str(out / "t.pdf")])
    assert result.exit_code == 2
    assert "harpflow: error:" in result.output and ".svg or .png" in result.output


def test_recommendation_display(standard: harpflow.Flow, town: harpflow.Flow) -> None:
    from harpflow.render.notebook import recommendation_html, recommendation_svg
    from harpflow.unify import unify

    rec = unify([town, standard.copy()], standard=standard, min_support=0.5)
    root = parse(recommendation_svg(rec).encode("utf-8"))
    shown = {g.get("id"): "".join(texts(g)) for g in groups(root, "hf_support")}
    for node_id, share in rec.support.items():
        if node_id in rec.flow.graph:
            assert f"支持 {share:.0%}" in shown[f"hf_{node_id}"]
    assert "<svg" in recommendation_html(rec)


def test_cli_render_english_flow_in_english(tmp_path: object) -> None:
    from pathlib import Path

    from conftest import corpus

    ex01 = corpus("hdbpmn", "data", "annotations", "ex01")
    std, town = ex01 / "ex01_writer0001.bpmn", ex01 / "ex01_writer0005.bpmn"
    out = Path(str(tmp_path)) / "d.svg"
    result = CliRunner().invoke(
        main, ["render", str(town), "--against", str(std), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    words = " ".join(texts(parse(out.read_bytes())))
    assert "relabelled" in words and "legend" in words
    assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", words), words
    notes = CliRunner().invoke(main, ["diff", str(std), str(town)]).stdout
    assert "is called" in notes and not re.search(r"[\u3040-\u9fff]", notes)
