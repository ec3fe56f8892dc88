"""Tests of harpflow.unify: the recommended flow from many towns."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import PROCESSES, corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

import harpflow
from harpflow.behaviour import profile, soundness
from harpflow.cli import main
from harpflow.errors import ModelError
from harpflow.requirements import BIOC_NS, COLOR_NS
from harpflow.score import score
from harpflow.synth import OPERATORS, variant, variants
from harpflow.unify import medoid, unify
from harpflow.unify_build import sound_check

STANDARD = """
name: 転入届
area: "01"
procedure: tennyu
steps:
  - {番号: S, 作業: 開始, 種別: 開始}
  - {番号: 1, 担当: 窓口, 作業: 届出の受付, 機能ID: ["0010001"]}
  - {番号: 2, 担当: 窓口, 作業: 本人確認}
  - {番号: G, 担当: 窓口, 作業: 特例転入か？, 種別: 判断, 次: ["3:特例", "4:通常"]}
  - {番号: 3, 担当: 窓口, 作業: 転出証明書情報を受信, 種別: 受信, 次: [4]}
  - {番号: 4, 担当: 担当, 作業: 届書審査}
  - {番号: 5, 担当: 担当, 作業: 異動入力, 種別: システム, 機能ID: ["0010002"]}
  - {番号: 6, 担当: 決裁, 作業: 決裁}
  - {番号: 7, 担当: システム, 作業: 庁内連携, 種別: 送信, 媒体: システム}
  - {番号: 8, 担当: 窓口, 作業: 関連手続の案内}
  - {番号: 9, 担当: 窓口, 作業: 住民票の写しを交付}
  - {番号: E, 作業: 終了, 種別: 終了}
"""


@pytest.fixture(scope="module")
def std() -> harpflow.Flow:
    flow = harpflow.read(STANDARD, format="yaml")
    assert soundness(flow).sound
    return flow


def _towns(std: harpflow.Flow, op: str, shared: int, total: int) -> list[harpflow.Flow]:
    """``shared`` towns with operator ``op``, the rest with none."""
    return [
        variant(std, [op] if i < shared else [], seed=i, town=f"T{i:02d}").flow
        for i in range(total)
    ]


# -- the Done-when cases ------------------------------------------------------


def test_rare_deviations_give_the_standard(std: harpflow.Flow) -> None:
    ops = sorted(OPERATORS)
    made = [
        variant(std, [ops[i % len(ops)]], seed=i, town=f"T{i:02d}", synonyms=0.2)
        for i in range(len(ops))
    ]
    assert sum(bool(v.truth) for v in made) >= len(ops) - 2  # they did deviate
    rec = unify([v.flow for v in made], standard=std)
    assert score(std, rec.flow).total == 0.0
    assert rec.sound
    assert {o.kind for o in rec.options} >= {"practice"}


@pytest.mark.parametrize(
    ("op", "kind", "expect"),
    [
        ("V01", "missing", "6"),  # 決裁 left out by most towns
        ("V10", "missing", "8"),  # no guidance step in most towns
        ("V15", "loop_added", None),  # a rework loop after the check
        ("V06", "extra", None),  # a daily batch wait before the entry
        ("V04", "lane_changed", "6"),  # one-person section
        ("V03", "reordered", "6"),  # 後閲: approval after the output
    ],
)
def test_shared_deviation_appears(
    std: harpflow.Flow, op: str, kind: str, expect: str | None
) -> None:
    rec = unify(_towns(std, op, 7, 10), standard=std)
    d = score(std, rec.flow)
    assert d.total > 0
    found = [c for c in d.diff if c.kind == kind]
    assert found, d.diff.counts()
    if expect is not None:
        assert any(expect in c.standard for c in found)
    assert rec.sound and sound_check(rec.flow).sound


def test_under_threshold_the_same_deviation_stays_an_option(std: harpflow.Flow) -> None:
    rec = unify(_towns(std, "V15", 4, 10), standard=std)
    assert score(std, rec.flow).total == 0.0
    practice = [o for o in rec.options if o.kind == "practice"]
    assert practice and practice[0].support == pytest.approx(0.4)
    assert len(practice[0].towns) == 4


def test_loop_practice_is_rebuilt_with_its_decision(std: harpflow.Flow) -> None:
    rec = unify(_towns(std, "V15", 7, 10), standard=std)
    practice = [n for n in rec.flow.nodes.values() if n.attrs.get("practice")]
    assert {n.type for n in practice} == {"exclusiveGateway", "task"}
    gateway = next(n for n in practice if n.is_gateway)
    labels = {e.label for e in rec.flow.edges if e.source == gateway.id}
    assert labels == {"不備あり", "不備なし"}
    assert rec.flow.nodes[gateway.id].attrs["support"] == pytest.approx(0.7)
    assert gateway.id in profile(rec.flow).loops


def test_required_steps_stay(std: harpflow.Flow) -> None:
    towns = _towns(std, "V01", 7, 10)
    assert "6" not in unify(towns, standard=std).flow
    assert "6" in unify(towns, standard=std, required=["6"]).flow
    assert "6" in unify(towns, standard=std, required=lambda n: n.label == "決裁").flow
    marked = std.copy()
    marked.update_node("6", required="必須")
    rec = unify(towns, standard=marked)
    assert "6" in rec.flow
    row = rec.requirements().set_index("step").loc["6"]
    assert row["class"] == "必須" and row["support"] == pytest.approx(0.3)


def test_min_support_is_the_threshold(std: harpflow.Flow) -> None:
    towns = _towns(std, "V01", 6, 10)
    assert "6" not in unify(towns, standard=std, min_support=0.5).flow
    assert "6" in unify(towns, standard=std, min_support=0.4).flow
    with pytest.raises(ModelError, match="min_support"):
        unify(towns, standard=std, min_support=0)
    with pytest.raises(ModelError, match="at least one"):
        unify([], standard=std)
    with pytest.raises(ModelError, match="not in the base"):
        unify(towns, standard=std, required=["nope"])


# -- support, fit-gap, requirements ------------------------------------------


def test_support_and_fit_gap(std: harpflow.Flow) -> None:
    towns = _towns(std, "V01", 7, 10)
    rec = unify(towns, standard=std)
    assert rec.support["1"] == 1.0
    assert rec.supporters("1") == rec.towns
    frame = rec.support_frame()
    assert set(frame["element"]) == {"node", "sequence"}
    assert frame["support"].between(0, 1).all()
    fit = rec.fit_gap_frame().set_index("town")
    # Towns without 決裁 are the recommended flow; the others give it up.
    assert fit.loc["T00", "after"] == pytest.approx(0.0, abs=1e-9)
    assert fit.loc["T00", "before"] > 0
    assert fit.loc["T09", "before"] == pytest.approx(0.0, abs=1e-9)
    assert fit.loc["T09", "drop"] == 1
    gap = rec.fit_gap("T09").to_frame()
    assert gap["action"].tolist() == ["drop"]
    assert rec.fit_gap(9).town == "T09"
    with pytest.raises(ModelError, match="no town"):
        rec.fit_gap("nowhere")


def test_requirements_table(std: harpflow.Flow) -> None:
    rec = unify(_towns(std, "V15", 3, 10), standard=std)
    req = rec.requirements()
    assert list(req.columns) == [
        "step", "label", "lane", "function_ids", "class", "support", "towns",
        "origin", "note",
    ]  # fmt: skip
    steps = req[req["class"] == "必須"]
    assert steps["step"].tolist() == ["1", "2", "3", "4", "5", "6", "7", "8", "9"]
    assert steps.set_index("step").loc["5", "function_ids"] == "0010002"
    option = req[req["class"] == "標準オプション"]
    assert len(option) == 1 and option["support"].iloc[0] == pytest.approx(0.3)


def test_xlsx_is_deterministic_and_readable(std: harpflow.Flow) -> None:
    towns = _towns(std, "V15", 3, 6)
    one = unify(towns, standard=std).to_xlsx()
    two = unify(towns, standard=std).to_xlsx()
    assert one is not None and one == two
    ws = openpyxl.load_workbook(io.BytesIO(one)).active
    assert [c.value for c in ws[1]][:5] == ["番号", "作業", "担当", "機能ID", "区分"]
    assert ws.cell(3, 2).value == "届出の受付"


def _schema() -> etree.XMLSchema:
    import SpiffWorkflow as spiff

    folder = Path(spiff.__file__).parent / "bpmn" / "parser" / "schema"
    return etree.XMLSchema(etree.parse(str(folder / "BPMN20.xsd")))


def test_bpmn_is_coloured_documented_and_valid(std: harpflow.Flow) -> None:
    rec = unify(_towns(std, "V15", 7, 10), standard=std, required=["6"])
    data = rec.to_bpmn()
    assert data is not None
    root = etree.fromstring(data)
    _schema().assertValid(root)
    shapes = root.findall(".//{*}BPMNShape")
    coloured = [s for s in shapes if s.get(f"{{{BIOC_NS}}}fill")]
    assert len(coloured) == len(rec.flow)
    assert all(s.get(f"{{{COLOR_NS}}}background-color") for s in coloured)
    edges = root.findall(".//{*}BPMNEdge")
    assert all(e.get(f"{{{BIOC_NS}}}stroke") for e in edges)
    docs = [d.text for d in root.iter("{*}documentation")]
    assert any(d and d.startswith("支持 10/10 団体") for d in docs)
    assert any(d and "support 7 of 10 towns" in d for d in docs)
    back = harpflow.read(data, format="bpmn")
    assert score(rec.flow, back).total == pytest.approx(0.0, abs=1e-9)


def test_deterministic(std: harpflow.Flow) -> None:
    towns = [v.flow for v in variants(std, 8, seed=4)]
    a, b = unify(towns, standard=std), unify(towns, standard=std)
    assert a.to_bpmn() == b.to_bpmn()
    assert a.to_dict() == b.to_dict()
    assert a.requirements().equals(b.requirements())


# -- without a standard -------------------------------------------------------


def test_medoid_base(std: harpflow.Flow) -> None:
    towns = _towns(std, "V01", 2, 5)
    index, means = medoid(towns)
    assert index == 2  # the first town without a change
    assert means[index] == min(means)
    rec = unify(towns)
    assert rec.base_kind == "medoid" and rec.base is towns[2]
    assert score(towns[2], rec.flow).total == pytest.approx(0.0, abs=1e-9)
    assert rec.fit_gap_frame().set_index("town").loc["T02", "before"] == 0.0


def test_hdbpmn_exercise_without_standard() -> None:
    folder = corpus("hdbpmn", "data", "annotations", "ex04")
    flows = []
    for path in sorted(folder.glob("*.bpmn")):
        flow = harpflow.read(path)
        flow.town = path.stem
        flows.append(flow)
    rec = unify(flows)
    assert rec.base_kind == "medoid" and rec.sound
    fit = rec.fit_gap_frame()
    assert len(fit) == len(flows)
    assert fit["before"].min() == 0.0  # the medoid itself
    assert fit["after"].mean() < fit["before"].mean()  # a consensus, not the medoid
    assert rec.label_changes  # worded as the writers word the steps


def test_refine_keeps_edits_that_bring_the_towns_closer(std: harpflow.Flow) -> None:
    towns = _towns(std, "V01", 7, 10)
    plain = unify(towns, standard=std)
    refined = unify(towns, standard=std, refine=True)
    assert refined.to_dict() == plain.to_dict()  # leaving 決裁 out helps
    fit = refined.fit_gap_frame()
    assert fit["after"].mean() < fit["before"].mean()
    # Without a standard the medoid (a town without 決裁) stays as it is.
    rec = unify(towns)
    assert "決裁" not in [n.label for n in rec.flow.steps()]
    assert not rec.kept


def test_steps_are_worded_as_most_towns_word_them(std: harpflow.Flow) -> None:
    # Each town words at most two of three steps as the others mostly do:
    # the medoid is one town, the consensus takes the majority wording of
    # every step and is closer to the towns on average.
    alt = {"1": "転入届を受け付ける", "4": "届書の内容を審査", "8": "他の手続きを案内"}
    plan = [("1", "4"), ("1", "8"), ("4", "8"), ("1",), ("4", "8")]
    towns = []
    for i, steps in enumerate(plan):
        flow = std.copy()
        flow.town = f"T{i}"
        for b in steps:
            flow.update_node(b, label=alt[b])
        towns.append(flow)
    rec = unify(towns)
    assert rec.base is towns[1]
    assert rec.label_changes == [("4", "届書審査", "届書の内容を審査")]
    assert {rec.flow.nodes[b].label for b in alt} == set(alt.values())
    fit = rec.fit_gap_frame()
    assert fit["after"].mean() < fit["before"].mean()
    assert rec.sound
    # With a standard the standard's wording stays.
    assert not unify(towns, standard=std).label_changes


def test_medoid_is_chosen_among_sound_flows(std: harpflow.Flow) -> None:
    broken = []
    for i in range(2):
        flow = std.copy()
        flow.town = f"U{i}"
        _ = flow.add_node("dangling", label="どこにもつながらない作業")
        broken.append(flow)
    sound = _towns(std, "V01", 1, 1)[0]
    flows = [*broken, sound]
    assert medoid(flows)[0] == 0
    index, means = medoid(flows, among=[2])
    assert index == 2 and means[0] != means[0]  # nan for non-candidates
    rec = unify(flows)
    assert rec.base is sound and rec.sound


# -- soundness ----------------------------------------------------------------


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    seed=st.integers(0, 10_000),
    count=st.integers(2, 7),
    ops=st.lists(st.sampled_from(sorted(OPERATORS)), min_size=1, max_size=5),
    min_support=st.sampled_from([0.2, 0.34, 0.5, 0.75]),
    medoid_base=st.booleans(),
)
def test_always_sound(
    std: harpflow.Flow,
    seed: int,
    count: int,
    ops: list[str],
    min_support: float,
    medoid_base: bool,
) -> None:
    made = variants(std, count, seed=seed, operators=ops, per_variant=(1, 4))
    flows = [v.flow for v in made]
    rec = unify(flows, standard=None if medoid_base else std, min_support=min_support)
    assert soundness(rec.flow).sound, soundness(rec.flow).problems


@pytest.fixture(scope="module")
def tennyu() -> harpflow.Flow:
    return harpflow.read(PROCESSES / "standard" / "01-jumin" / "tennyu.yaml")


def test_outside_bodies_are_checked_as_their_own_instances(
    tennyu: harpflow.Flow,
) -> None:
    assert not soundness(tennyu).sound  # J-LIS etc. start only on a message
    assert sound_check(tennyu).sound
    ops = sorted(OPERATORS)
    made = [variant(tennyu, [op], seed=i, town=f"T{i:02d}") for i, op in enumerate(ops)]
    rec = unify([v.flow for v in made], standard=tennyu)
    assert rec.sound and sound_check(rec.flow).sound
    assert score(tennyu, rec.flow).total == 0.0


def test_handoff_most_towns_lack_is_dropped_with_its_receiver(
    tennyu: harpflow.Flow,
) -> None:
    towns = []
    for i in range(10):
        town = tennyu.copy()
        town.town = f"T{i:02d}"
        if i < 7:  # no 附票 notice to the 本籍地
            town.remove_edge("13", "H1")
        towns.append(town)
    rec = unify(towns, standard=tennyu)
    assert "H1" not in rec.flow and "HE" not in rec.flow
    assert "13" in rec.flow  # the step itself stays: all towns perform it
    handoff = [o for o in rec.options if o.kind == "handoff"]
    assert [o.id for o in handoff] == ["13->H1"]
    assert handoff[0].towns == ("T07", "T08", "T09")
    assert rec.sound
    kept = unify(towns, standard=tennyu, min_support=0.3)
    assert "H1" in kept.flow
    assert kept.support[kept.flow.graph.edges["13", "H1"]["id"]] == pytest.approx(0.3)


def test_sample_survey_procedure() -> None:
    std = harpflow.read(PROCESSES / "standard" / "02-inkan" / "toroku.yaml")
    paths = sorted((PROCESSES / "towns").glob("*/02-inkan/toroku.*"))
    assert len(paths) >= 8
    towns = []
    for path in paths:
        flow = harpflow.read(path)
        flow.town = flow.town or path.parts[-3]
        towns.append(flow)
    rec = unify(towns, standard=std)
    assert rec.sound
    req = rec.requirements()
    assert (req["class"] == "必須").sum() >= 10
    assert set(req["class"]) <= {"必須", "標準オプション", "対象外"}
    fit = rec.fit_gap_frame()
    assert fit["after"].mean() <= fit["before"].mean() + 1e-9


# -- command line -------------------------------------------------------------


def test_cli(std: harpflow.Flow, tmp_path: Path) -> None:
    std_path = tmp_path / "std.yaml"
    std_path.write_text(STANDARD, encoding="utf-8")
    paths = []
    for i, flow in enumerate(_towns(std, "V01", 2, 3)):
        path = tmp_path / f"town{i}.bpmn"
        harpflow.write(flow, path)
        paths.append(str(path))
    out, req = tmp_path / "rec.bpmn", tmp_path / "req.xlsx"
    runner = CliRunner()
    args = ["unify", "--standard", str(std_path), *paths, "-o", str(out)]
    result = runner.invoke(main, [*args, "--requirements", str(req), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["sound"] is True and data["base"] == "standard"
    assert [row["town"] for row in data["fit_gap"]] == ["T00", "T01", "T02"]
    assert "6" not in {n["id"] for n in data["nodes"]}
    _schema().assertValid(etree.parse(str(out)))
    assert req.read_bytes()[:2] == b"PK"
    text = runner.invoke(main, [*args, "--min-support", "0.3"])
    assert text.exit_code == 0
    assert "決裁" in text.output and "fit-gap" in text.output
    bad = runner.invoke(main, [*args, "--min-support", "0"])
    assert bad.exit_code == 2
    broken = tmp_path / "broken.bpmn"
    broken.write_text("<definitions", encoding="utf-8")
    failed = runner.invoke(main, ["unify", str(broken), "-o", str(out)])
    assert failed.exit_code == 2 and "harpflow: error:" in failed.output
    assert runner.invoke(main, ["unify", "--help"]).exit_code == 0


def test_matchings_already_made_give_the_same_recommendation(
    std: harpflow.Flow,
) -> None:
    from harpflow.match import match

    towns = _towns(std, "V01", 7, 10)
    made = [match(std, t) for t in towns]
    again = unify(towns, standard=std, matchings=made)
    fresh = unify(towns, standard=std)
    assert harpflow.write(again.flow, format="bpmn") == harpflow.write(
        fresh.flow, format="bpmn"
    )
    assert again.support_frame().equals(fresh.support_frame())
    with pytest.raises(ModelError, match="matchings"):
        unify(towns, standard=std, matchings=made[::-1])
    with pytest.raises(ModelError, match="matchings"):
        unify(towns, matchings=made)
