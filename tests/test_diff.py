"""Tests of diff, score and the variant generator."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import PROCESSES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import harpflow
from harpflow.cli import main
from harpflow.diff import CHANGE_KINDS, diff
from harpflow.errors import MatchError, ModelError
from harpflow.match import Correspondence, Matching
from harpflow.model import Flow
from harpflow.score import COMPONENTS, score
from harpflow.synth import OPERATORS, Variant, variant, variants

STANDARDS = sorted((PROCESSES / "standard").glob("*/*.yaml"))


@cache
def standard(index: int) -> Flow:
    return harpflow.read(STANDARDS[index % len(STANDARDS)])


@cache
def tennyu() -> Flow:
    return harpflow.read(PROCESSES / "standard" / "01-jumin" / "tennyu.yaml")


def test_the_standards_are_there() -> None:
    assert len(STANDARDS) >= 6


indices = st.integers(min_value=0, max_value=max(len(STANDARDS) - 1, 0))
seeds = st.integers(min_value=0, max_value=10_000)
slow = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@slow
@given(indices)
def test_a_flow_against_itself_has_no_change(index: int) -> None:
    flow = standard(index)
    d = diff(flow, flow)
    assert list(d) == []
    assert score(flow, flow).total == 0.0


@slow
@given(indices, seeds)
def test_ids_layout_and_orthography_make_no_difference(index: int, seed: int) -> None:
    flow = standard(index)
    other = variant(flow, [], seed=seed, orthography=1.0).flow
    assert set(other.graph).isdisjoint(flow.graph)
    d = diff(flow, other)
    assert {c.kind for c in d} <= {"relabelled"}
    assert score(flow, other, flow_diff=d).total == pytest.approx(0.0, abs=1e-9)


@slow
@given(indices, seeds, st.lists(st.sampled_from(sorted(OPERATORS)), max_size=4))
def test_divergence_lies_in_the_unit_interval(
    index: int, seed: int, ops: list[str]
) -> None:
    flow = standard(index)
    v = variant(flow, ops, seed=seed, synonyms=0.2)
    d = score(flow, v.flow)
    assert 0.0 <= d.total <= 1.0
    for name in COMPONENTS:
        assert 0.0 <= d.components[name] <= 1.0
    assert d.explain()["total"].sum() == pytest.approx(d.total, abs=1e-9)


@slow
@given(
    indices,
    seeds,
    st.lists(st.sampled_from(sorted(OPERATORS)), min_size=1, max_size=4, unique=True),
)
def test_one_more_deviation_never_lowers_the_divergence(
    index: int, seed: int, ops: list[str]
) -> None:
    # Scored under the true alignment, which the generator knows: the
    # property belongs to the score. (Under the matcher, an added check
    # step can be taken for a removed review step -- 審査 and 確認 are one
    # coarse cluster -- which is a matching question, measured by
    # benchmarks/bench_match.py.)
    flow = standard(index)
    before = variant(flow, ops[:-1], seed=seed, orthography=0.0)
    after = variant(flow, ops, seed=seed, orthography=0.0)
    if after.operators == before.operators:
        return  # the last operator found nothing to act on

    def true_score(v: Variant) -> float:
        pairs = [Correspondence((a,), (b,), 1.0) for a, b in v.mapping.items()]
        return score(flow, v.flow, matching=Matching(flow, v.flow, pairs)).total

    assert true_score(after) >= true_score(before) - 1e-9


@pytest.mark.parametrize("op", sorted(OPERATORS))
def test_each_operator_is_detected_with_its_code(op: str) -> None:
    flow = tennyu()  # has approvals, hand-offs and guidance
    found_any = False
    for seed in range(3):
        v = variant(flow, [op], seed=seed, orthography=0.5)
        if not v.operators:
            continue
        found_any = True
        changes = list(diff(flow, v.flow))
        for truth in v.truth:
            hits = [
                c
                for c in changes
                if c.kind == truth.kind
                and (
                    set(c.standard) & set(truth.standard)
                    or set(c.town) & set(truth.town)
                )
            ]
            assert hits, (truth, changes)
            if truth.code:
                assert truth.code in {c.code for c in hits}, (truth, hits)
    assert found_any


def test_variants_are_reproducible() -> None:
    flow = tennyu()
    a = variants(flow, 3, seed=5)
    b = variants(flow, 3, seed=5)
    assert [v.to_dict() for v in a] == [v.to_dict() for v in b]
    assert [sorted(v.flow.graph.edges) for v in a] == [
        sorted(v.flow.graph.edges) for v in b
    ]
    with pytest.raises(ModelError, match="unknown deviation operators"):
        variant(flow, ["V99"])


def test_changes_carry_notes_costs_and_frames() -> None:
    flow = tennyu()
    v = variant(flow, ["V01", "V07", "V08"], seed=2)
    d = diff(flow, v.flow)
    assert all(c.kind in CHANGE_KINDS and c.note for c in d)
    frame = d.to_frame()
    assert list(frame.columns)[:4] == ["kind", "code", "standard", "town"]
    assert len(frame) == len(d)
    div = score(flow, v.flow, flow_diff=d)
    assert sum(c.cost for c in d) <= div.total + 1e-9
    assert div.explain()["total"].sum() == pytest.approx(div.total)
    # Japanese labels give Japanese notes.
    assert any("支所" in c.note or "逓送" in c.note for c in d)
    data = div.to_dict()
    assert set(data) == {"divergence", "components", "changes"}
    assert set(data["changes"][0]) == {
        "kind",
        "code",
        "standard",
        "town",
        "cost",
        "note",
    }


def test_weights_are_parameters() -> None:
    flow = tennyu()
    v = variant(flow, ["V11"], seed=1)
    lanes_only = score(
        flow, v.flow, weights={"node": 0, "structure": 0, "behaviour": 0}
    )
    assert lanes_only.total == pytest.approx(lanes_only.responsibility)
    assert lanes_only.responsibility > 0
    with pytest.raises(MatchError, match="unknown weights"):
        score(flow, v.flow, weights={"colour": 1.0})
    with pytest.raises(MatchError, match="non-negative"):
        score(flow, v.flow, weights={"node": -1.0})


def test_english_flows_get_english_notes() -> None:
    a, b = Flow("a"), Flow("b")
    for flow, labels in (
        (a, ["receive order", "check stock", "ship goods"]),
        (b, ["receive order", "ship goods"]),
    ):
        flow.add_node("s", type="startEvent")
        prev = "s"
        for i, label in enumerate(labels):
            flow.add_node(f"t{i}", label=label)
            flow.add_edge(prev, f"t{i}")
            prev = f"t{i}"
        flow.add_node("e", type="endEvent")
        flow.add_edge(prev, "e")
    d = diff(a, b)
    assert [c.kind for c in d] == ["missing"]
    assert d[0].note == "standard step 'check stock' is not done"


def test_cli_diff_and_synth(tmp_path: Path) -> None:
    runner = CliRunner()
    std = STANDARDS[0]
    out = tmp_path / "synth"
    result = runner.invoke(
        main, ["synth", str(std), "--towns", "3", "--seed", "4", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    assert sorted(truth) == ["T001", "T002", "T003"]
    result = runner.invoke(main, ["diff", str(std), str(out / "T001.bpmn"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"divergence", "components", "changes"}
    assert set(data["components"]) == set(COMPONENTS)
    assert 0 <= data["divergence"] <= 1
    result = runner.invoke(main, ["diff", str(std), str(out / "T001.bpmn")])
    assert result.exit_code == 0 and "divergence" in result.output


def _pair(std_step: str, town_step: str, extra: str = "") -> tuple[Flow, Flow]:
    """A three-step standard and a town flow whose middle steps differ."""
    head = "steps:\n  - {番号: S, 作業: 開始, 種別: 開始}\n"
    tail = "  - {番号: E, 作業: 終了, 種別: 終了}\n"
    std = harpflow.read(
        head
        + "  - {番号: 1, 担当: 窓口, 作業: 届出の受付}\n"
        + std_step
        + "  - {番号: 3, 担当: 決裁, 作業: 決裁}\n"
        + tail,
        format="yaml",
    )
    town = harpflow.read(
        head
        + "  - {番号: a, 担当: 窓口, 作業: 届出の受付}\n"
        + town_step
        + "  - {番号: c, 担当: 決裁, 作業: 決裁}\n"
        + extra
        + tail,
        format="yaml",
    )
    return std, town


def _kinds(std: Flow, town: Flow) -> list[tuple[str, str | None]]:
    return [(c.kind, c.code) for c in diff(std, town) if c.kind != "relabelled"]


def test_forms_named_another_way_are_no_change() -> None:
    std, town = _pair(
        "  - {番号: 2, 担当: 担当, 作業: 作成, 帳票: [介護認定審査会資料, 意見書]}\n",
        "  - {番号: b, 担当: 担当, 作業: 作成, 帳票: [審査会資料]}\n",
    )
    assert _kinds(std, town) == []
    std, town = _pair(
        "  - {番号: 2, 担当: 担当, 作業: 資料を作成, 帳票: [審査会資料]}\n",
        "  - {番号: b, 担当: 担当, 作業: 資料を作成, 帳票: [独自の点検表]}\n",
    )
    assert _kinds(std, town) == [("attribute_changed", "V16")]


def test_screen_is_the_system_and_paper_departs_from_it() -> None:
    std, town = _pair(
        "  - {番号: 2, 担当: 担当, 作業: 住民票に記載, 媒体: system}\n",
        "  - {番号: b, 担当: 担当, 作業: 住民票に記載, 媒体: screen}\n",
    )
    assert _kinds(std, town) == []
    std, town = _pair(
        "  - {番号: 2, 担当: 担当, 作業: 起案}\n",
        "  - {番号: b, 担当: 担当, 作業: 起案, 媒体: paper}\n",
    )
    assert _kinds(std, town) == [("attribute_changed", "V05")]
    std, town = _pair(
        "  - {番号: 2, 担当: 担当, 作業: 通知書を受ける, 媒体: file}\n",
        "  - {番号: b, 担当: 担当, 作業: 通知書を受ける, 媒体: paper}\n",
    )
    assert _kinds(std, town) == [("attribute_changed", "V05")]


def test_outside_parties_worded_otherwise_are_the_same() -> None:
    from harpflow.diff import lanes_differ
    from harpflow.glossary import default_glossary

    g = default_glossary()
    assert not lanes_differ("金融機関", "指定金融機関", g)
    assert not lanes_differ("住民", "納税者", g)
    assert not lanes_differ("関係課", "会計課", g)
    assert not lanes_differ("関係課", "収納係", g)
    assert lanes_differ("担当", "委託業者", g)
    assert lanes_differ("介護認定審査会", "広域連合", g)
    # A section's staff does the counter's work only where no counter is.
    assert lanes_differ("窓口", "市民課担当", g)
    assert not lanes_differ("窓口", "市民課担当", g, counter=False)


def test_a_system_step_done_by_hand_is_a_lane_change_without_role_merging() -> None:
    std, town = _pair(
        "  - {番号: 2, 担当: システム, 作業: 庁内連携, 種別: 送信}\n",
        "  - {番号: b, 担当: 担当係, 作業: 庁内連携, 種別: 送信}\n",
    )
    assert ("lane_changed", "V09") in _kinds(std, town)
    std, town = _pair(
        "  - {番号: 2, 担当: システム, 作業: 資格を登録}\n",
        "  - {番号: b, 担当: 係員, 作業: 資格を登録}\n",
    )
    assert _kinds(std, town) == [("lane_changed", None)]


def test_a_merge_keeps_its_lane_change() -> None:
    std = harpflow.read(
        """
steps:
  - {番号: S, 作業: 開始, 種別: 開始}
  - {番号: 1, 担当: 窓口, 作業: 受付}
  - {番号: 2, 担当: 窓口, 作業: 本人確認}
  - {番号: 3, 担当: 担当, 作業: 住民票に記載}
  - {番号: E, 作業: 終了, 種別: 終了}
""",
        format="yaml",
    )
    town = harpflow.read(
        """
steps:
  - {番号: s, 作業: 開始, 種別: 開始}
  - {番号: a, 担当: 担当, 作業: 受付・本人確認}
  - {番号: b, 担当: 担当, 作業: 住民票に記載}
  - {番号: e, 作業: 終了, 種別: 終了}
""",
        format="yaml",
    )
    m = Matching(
        std,
        town,
        [
            Correspondence(("S",), ("s",), 1.0),
            Correspondence(("1", "2"), ("a",), 1.0),
            Correspondence(("3",), ("b",), 1.0),
            Correspondence(("E",), ("e",), 1.0),
        ],
    )
    found = {(c.kind, c.standard, c.town) for c in diff(std, town, matching=m)}
    assert ("merged", ("1", "2"), ("a",)) in found
    assert ("lane_changed", ("1", "2"), ("a",)) in found


def test_an_added_loop_names_its_deciding_gateway() -> None:
    std, town = _pair(
        "  - {番号: 2, 担当: 担当, 作業: 内容を審査}\n",
        "  - {番号: b, 担当: 担当, 作業: 内容を審査, 次: [g]}\n"
        "  - {番号: g, 担当: 担当, 作業: 不備？, 種別: 判断, 次: [c:なし, f:あり]}\n"
        "  - {番号: f, 担当: 担当, 作業: 補正を依頼, 次: [b]}\n",
    )
    loops = [c for c in diff(std, town) if c.kind == "loop_added"]
    assert len(loops) == 1 and loops[0].code == "V15"
    assert "g" in loops[0].town and "b" in loops[0].town


def test_a_synonym_variant_uses_another_word_not_another_spelling() -> None:
    import random

    from harpflow.diff import same_wording
    from harpflow.glossary import default_glossary
    from harpflow.synth import _synonym

    gloss = default_glossary()
    for seed in range(40):
        new = _synonym("届出の受付", random.Random(seed), gloss)
        assert new is not None and not same_wording(new, "届出の受付")


def test_steps_that_take_each_others_place_are_paired() -> None:
    std, town = _pair(
        "  - {番号: 2, 担当: 担当, 作業: 補正を依頼}\n",
        "  - {番号: b, 担当: 担当, 作業: 直してもらう}\n",
    )
    assert _kinds(std, town) == []
    assert [(c.kind, c.standard, c.town) for c in diff(std, town)] == [
        ("relabelled", ("2",), ("b",))
    ]
    # Not when another lane does the step in its place.
    std, town = _pair(
        "  - {番号: 2, 担当: 審査, 作業: 登録内容の確認}\n",
        "  - {番号: b, 担当: 担当, 作業: 紙の印鑑票を綴りに保管}\n",
    )
    assert "missing" in [kind for kind, _ in _kinds(std, town)]


def test_an_approval_moved_after_the_output_is_a_reordering() -> None:
    std = harpflow.read(
        """
steps:
  - {番号: S, 作業: 開始, 種別: 開始}
  - {番号: 1, 担当: 窓口, 作業: 申請の受付}
  - {番号: 2, 担当: 決裁, 作業: 要介護状態区分を認定}
  - {番号: 3, 担当: 担当, 作業: 結果通知書を発送}
  - {番号: E, 作業: 終了, 種別: 終了}
""",
        format="yaml",
    )
    town = harpflow.read(
        """
steps:
  - {番号: s, 作業: 開始, 種別: 開始}
  - {番号: a, 担当: 窓口, 作業: 申請の受付}
  - {番号: c, 担当: 担当, 作業: 結果通知書を発送}
  - {番号: b, 担当: 課長, 作業: まとめて後閲}
  - {番号: e, 作業: 終了, 種別: 終了}
""",
        format="yaml",
    )
    found = [(c.kind, c.code, c.standard, c.town) for c in diff(std, town)]
    assert ("reordered", "V03", ("2",), ("b",)) in found
    assert not [f for f in found if f[0] in ("missing", "extra")]


def test_codes_of_a_joint_form_merge_and_a_batch_split() -> None:
    from harpflow.deviations import classify
    from harpflow.diff import Change

    std, town = Flow("s"), Flow("t")
    std.add_node("3", label="支出負担行為決議書を作成", lane="担当")
    std.add_node("10", label="支出命令書を作成", lane="担当")
    std.add_node("9", label="決裁・本登録", lane="決裁")
    town.add_node("H", label="支出負担行為兼支出命令書を入力", lane="担当")
    town.add_node("n11", label="決裁", lane="課長")
    town.add_node("n12", label="本登録（日次一括更新）", lane="システム")
    merged = Change("merged", ("3", "10"), ("H",), "")
    split = Change("split", ("9",), ("n11", "n12"), "")
    assert classify(merged, std, town) == "V01"
    assert classify(split, std, town) == "V06"


def _steps(rows: str) -> Flow:
    return harpflow.read("steps:\n" + rows, format="yaml")


def test_of_two_swapped_steps_the_one_moved_is_not_the_intake() -> None:
    std = _steps(
        "  - {番号: S, 作業: 開始, 種別: 開始}\n"
        "  - {番号: 1, 担当: 住民, 作業: 転入届を提出}\n"
        "  - {番号: 2, 担当: 窓口, 作業: 受付・届出年月日の記録}\n"
        "  - {番号: 3, 担当: 窓口, 作業: 本人確認}\n"
        "  - {番号: 4, 担当: 担当, 作業: 異動入力}\n"
        "  - {番号: E, 作業: 終了, 種別: 終了}\n"
    )
    town = _steps(
        "  - {番号: s, 作業: 開始, 種別: 開始}\n"
        "  - {番号: a, 担当: 住民, 作業: 転入届を提出}\n"
        "  - {番号: c, 担当: 窓口, 作業: 本人確認}\n"
        "  - {番号: b, 担当: 窓口, 作業: 受付・届出年月日記録}\n"
        "  - {番号: d, 担当: 担当, 作業: 異動入力}\n"
        "  - {番号: e, 作業: 終了, 種別: 終了}\n"
    )
    found = [(c.standard, c.town, c.code) for c in diff(std, town).of_kind("reordered")]
    assert found == [(("3",), ("c",), "V14")]


def test_a_stated_after_the_fact_approval_is_the_step_moved() -> None:
    std = _steps(
        "  - {番号: S, 作業: 開始, 種別: 開始}\n"
        "  - {番号: 7, 担当: 担当, 作業: 保険税の遡及賦課}\n"
        "  - {番号: 8, 担当: 審査, 作業: 賦課内容の審査}\n"
        "  - {番号: 9, 担当: 決裁, 作業: 賦課の決裁}\n"
        "  - {番号: 10, 担当: システム, 作業: 納税通知書の発送, 種別: システム}\n"
        "  - {番号: E, 作業: 終了, 種別: 終了}\n"
    )
    town = _steps(
        "  - {番号: s, 作業: 開始, 種別: 開始}\n"
        "  - {番号: k7, 担当: 担当係, 作業: 保険税の遡及賦課}\n"
        "  - {番号: k8, 担当: システム, 作業: 納税通知書の発送, 種別: システム}\n"
        "  - {番号: k9, 担当: 係長, 作業: 賦課の審査（後閲）}\n"
        "  - {番号: k10, 担当: 課長, 作業: 賦課の決裁（後閲）}\n"
        "  - {番号: e, 作業: 終了, 種別: 終了}\n"
    )
    found = [(c.standard, c.town, c.code) for c in diff(std, town).of_kind("reordered")]
    assert found == [(("8",), ("k9",), "V03"), (("9",), ("k10",), "V03")]


def test_a_step_sent_in_the_nightly_batch_is_a_batch_reordering() -> None:
    std = _steps(
        "  - {番号: S, 作業: 開始, 種別: 開始}\n"
        "  - {番号: 4, 担当: 担当, 作業: 資格取得の入力}\n"
        "  - {番号: 5, 担当: システム, 作業: 国保連へ資格情報を送信, 種別: 送信}\n"
        "  - {番号: 6, 担当: 窓口, 作業: 資格確認書の交付}\n"
        "  - {番号: E, 作業: 終了, 種別: 終了}\n"
    )
    town = _steps(
        "  - {番号: s, 作業: 開始, 種別: 開始}\n"
        "  - {番号: a, 担当: 担当, 作業: 資格取得の入力}\n"
        "  - {番号: c, 担当: 窓口, 作業: 資格確認書の交付}\n"
        "  - {番号: b, 担当: システム, 作業: 国保連へ（夜間バッチ）, 種別: 送信}\n"
        "  - {番号: e, 作業: 終了, 種別: 終了}\n"
    )
    found = [(c.standard, c.code) for c in diff(std, town).of_kind("reordered")]
    assert found == [(("5",), "V06")]


def test_a_certification_surveyor_is_the_section_s_staff() -> None:
    from harpflow.diff import lanes_differ
    from harpflow.glossary import default_glossary

    g = default_glossary()
    assert not lanes_differ("担当", "認定調査員", g)
    assert not lanes_differ("情報提供ネットワークシステム", "情報提供ＮＷ", g)
    assert lanes_differ("担当", "委託事業所", g)


def test_a_decision_inside_a_rework_loop_is_still_a_decision_of_its_own() -> None:
    std = _steps(
        "  - {番号: S, 作業: 開始, 種別: 開始}\n"
        "  - {番号: 1, 担当: 住民, 作業: 転入届を提出}\n"
        "  - {番号: 2, 担当: 窓口, 作業: 受付}\n"
        "  - {番号: 6, 担当: 窓口, 作業: 届書の審査}\n"
        "  - {番号: G6, 担当: 窓口, 作業: 不備がある？, 種別: 判断,"
        " 次: ['7:不備あり', '8:不備なし']}\n"
        "  - {番号: 7, 担当: 窓口, 作業: 補正を依頼, 次: [1]}\n"
        "  - {番号: 8, 担当: 担当, 作業: 異動入力}\n"
        "  - {番号: E, 作業: 終了, 種別: 終了}\n"
    )
    town = _steps(
        "  - {番号: s, 作業: 開始, 種別: 開始}\n"
        "  - {番号: a, 担当: 住民, 作業: 転入届を提出}\n"
        "  - {番号: g1, 担当: 住民, 作業: 届出先, 種別: 判断,"
        " 次: ['b:本庁', 'b2:支所']}\n"
        "  - {番号: b, 担当: 窓口, 作業: 受付, 次: [c]}\n"
        "  - {番号: b2, 担当: 支所, 作業: 支所で受付し本庁へFAX, 次: [c]}\n"
        "  - {番号: c, 担当: 窓口, 作業: 届書の審査}\n"
        "  - {番号: g6, 担当: 窓口, 作業: 不備？, 種別: 判断,"
        " 次: ['d:不備あり', 'f:不備なし']}\n"
        "  - {番号: d, 担当: 窓口, 作業: 補正を依頼, 次: [a]}\n"
        "  - {番号: f, 担当: 担当, 作業: 異動入力}\n"
        "  - {番号: e, 作業: 終了, 種別: 終了}\n"
    )
    found = [(c.town, c.code) for c in diff(std, town).of_kind("gateway_changed")]
    assert found == [(("g1",), "V07")]


def test_codes_of_decisions_on_an_approval_and_on_parallel_work() -> None:
    from harpflow.deviations import classify
    from harpflow.diff import Change

    std = _steps(
        "  - {番号: S, 作業: 開始, 種別: 開始}\n"
        "  - {番号: 4, 担当: 決裁, 作業: 支出負担行為を決裁}\n"
        "  - {番号: G5, 担当: 決裁, 作業: 事前合議を要する金額か, 種別: 判断,"
        " 次: ['5:一定額以上', '6:一定額未満']}\n"
        "  - {番号: 5, 担当: 会計課, 作業: 支出負担行為の事前合議, 次: [6]}\n"
        "  - {番号: 6, 担当: 担当, 作業: 業者へ発注}\n"
        "  - {番号: E, 作業: 終了, 種別: 終了}\n"
    )
    removed = Change("gateway_changed", ("G5",), (), "")
    assert classify(removed, std, Flow("t")) == "V01"
    assert classify(Change("gateway_changed", (), ("G5",), ""), Flow(), std) == "V02"


def test_a_move_notification_on_the_generic_form_and_a_batch_timing() -> None:
    std = _steps(
        "  - {番号: S, 作業: 開始, 種別: 開始}\n"
        "  - {番号: 1, 担当: 住民, 作業: 転入届の提出, 帳票: [転入届書, 転出証明書]}\n"
        "  - {番号: 2, 担当: 窓口, 作業: 受付, 帳票: [転入届書]}\n"
        "  - {番号: 14, 担当: システム, 作業: 庁内連携, 種別: システム}\n"
        "  - {番号: E, 作業: 終了, 種別: 終了}\n"
    )
    town = _steps(
        "  - {番号: s, 作業: 開始, 種別: 開始}\n"
        "  - {番号: a, 担当: 住民, 作業: 転入届提出, 帳票: [住民異動届, 転出証明書]}\n"
        "  - {番号: b, 担当: 窓口, 作業: 受付, 帳票: [住民異動届, 転出証明書]}\n"
        "  - {番号: c, 担当: システム, 作業: 庁内連携（夜間バッチ）, 種別: システム}\n"
        "  - {番号: e, 作業: 終了, 種別: 終了}\n"
    )
    found = [(c.town, c.code) for c in diff(std, town).of_kind("attribute_changed")]
    assert found == [(("c",), "V06")]


def test_a_receiving_step_the_town_enters_by_hand_in_its_own_flow() -> None:
    std = _steps(
        "  - {番号: S, 作業: 開始, 種別: 開始}\n"
        "  - {番号: 10, 担当: 担当, 作業: 保険税の賦課}\n"
        "  - {番号: 11, 担当: 担当, 作業: 調定を収滞納管理へ連携, 種別: 送信,"
        " 連携: ['K1:調定']}\n"
        "  - {番号: E, 作業: 終了, 種別: 終了}\n"
        "  - {番号: K1, 担当: 関係課, 組織: 関係課, 作業: 収滞納管理で調定,"
        " 種別: 受信, 次: [KE]}\n"
        "  - {番号: KE, 担当: 関係課, 組織: 関係課, 作業: 完了, 種別: 終了}\n"
    )
    town = _steps(
        "  - {番号: s, 作業: 開始, 種別: 開始}\n"
        "  - {番号: k10, 担当: 担当係, 作業: 保険税の賦課}\n"
        "  - {番号: k11, 担当: 担当係, 作業: 調定連絡票を収納係へ回付, 種別: 手作業,"
        " 媒体: 紙}\n"
        "  - {番号: k12, 担当: 収納係, 作業: 連絡票から調定を入力, 種別: 入力}\n"
        "  - {番号: e, 作業: 終了, 種別: 終了}\n"
    )
    d = diff(std, town)
    assert ("K1",) in [p.a for p in d.matching.pairs if p.b == ("k12",)]
    found = [(c.kind, c.code) for c in d if c.standard == ("K1",)]
    assert ("lane_changed", "V09") in found
    assert not [k for k, _ in found if k in ("missing", "type_changed")]


FOLDED = """
steps:
  - {番号: S, 作業: 開始, 種別: 開始}
  - {番号: 1, 担当: 窓口, 作業: 届出の受付}
  - {番号: 2, 担当: 担当, 作業: 異動入力 (仮登録)}
  - {番号: 3, 担当: 担当, 作業: 確認用帳票を照合}
  - {番号: 4, 担当: 審査, 作業: 審査}
  - {番号: 5, 担当: 決裁, 作業: 決裁・本登録}
  - {番号: 6, 担当: 窓口, 作業: 住民票の写しを交付}
  - {番号: E, 作業: 終了, 種別: 終了}
"""


@pytest.mark.parametrize(
    ("entry", "check", "merged", "missing"),
    [
        # the inputter registers for good: 決裁・本登録 is folded into entry
        ("異動入力し本登録", "確認用帳票を照合", ("2", "5"), ("4",)),
        # the inputter checks their own work: 審査 is folded into the check
        ("異動入力 (仮登録)", "帳票を照合（自己点検）", ("3", "4"), ("5",)),
    ],
)
def test_an_approval_folded_into_the_inputter_s_step_is_a_merge(
    entry: str, check: str, merged: tuple[str, ...], missing: tuple[str, ...]
) -> None:
    std = harpflow.read(FOLDED, format="yaml")
    town = harpflow.read(
        f"""
steps:
  - {{番号: s, 作業: 開始, 種別: 開始}}
  - {{番号: a, 担当: 係員, 作業: 届出の受付}}
  - {{番号: b, 担当: 係員, 作業: {entry}}}
  - {{番号: c, 担当: 係員, 作業: {check}}}
  - {{番号: d, 担当: 係員, 作業: 住民票の写しを交付}}
  - {{番号: e, 作業: 終了, 種別: 終了}}
""",
        format="yaml",
    )
    found = {(c.kind, c.standard): c.code for c in diff(std, town)}
    assert found[("merged", merged)] == "V01"
    assert found[("missing", missing)] == "V01"
    # The inputter now does the approval: its lane changed, not the entry's.
    assert ("lane_changed", merged[1:]) in found
    assert ("lane_changed", merged[:1]) not in found
    # A step that does not say so leaves the approval missing.
    plain = town.copy()
    plain.update_node("b", label="異動入力")
    plain.update_node("c", label="帳票を照合")
    kinds = {(c.kind, c.standard) for c in diff(std, plain)}
    assert ("missing", ("4",)) in kinds and ("missing", ("5",)) in kinds
