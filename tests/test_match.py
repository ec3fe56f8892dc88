"""The matcher: identity, invariance, symmetry, one-to-many, API and CLI."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import PROCESSES, corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import harpflow
from harpflow.cli import main
from harpflow.errors import MatchError
from harpflow.match import Correspondence, Matching, match
from harpflow.model import Flow


def chain(
    name: str,
    labels: list[str],
    *,
    lanes: list[str] | None = None,
    ids: list[str] | None = None,
) -> Flow:
    """start -> labels... -> end, one task per label."""
    flow = Flow(name)
    ids = ids or [f"{name}{i}" for i in range(len(labels))]
    flow.add_node(f"{name}_s", type="startEvent", label="開始")
    prev = f"{name}_s"
    for i, (node, label) in enumerate(zip(ids, labels, strict=True)):
        flow.add_node(node, label=label, lane=(lanes[i] if lanes else None))
        flow.add_edge(prev, node)
        prev = node
    flow.add_node(f"{name}_e", type="endEvent", label="終了")
    flow.add_edge(prev, f"{name}_e")
    return flow


def standard_flows() -> list[Path]:
    return sorted((PROCESSES / "standard").rglob("*.yaml"))


def read_quiet(path: Path) -> Flow:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return harpflow.read(path)


# -- identity and invariance ---------------------------------------------------


@pytest.mark.parametrize("path", standard_flows()[:8], ids=lambda p: p.stem)
def test_identity_on_standard_flows(path: Path) -> None:
    flow = read_quiet(path)
    m = match(flow, flow)
    assert len(m.pairs) == len(flow)
    for c in m.pairs:
        assert c.a == c.b and len(c.a) == 1
        assert c.score == 1.0
    assert m.unmatched_a() == [] and m.unmatched_b() == []


def test_identity_on_a_corpus_model() -> None:
    folder = corpus("hdbpmn", "data", "annotations", "ex03")
    flow = read_quiet(sorted(folder.glob("*.bpmn"))[0])
    m = match(flow, flow)
    assert {(c.a, c.b) for c in m.pairs} == {((n,), (n,)) for n in flow.nodes}
    assert all(c.score == 1.0 for c in m.pairs)


def test_identity_with_repeated_labels() -> None:
    flow = chain("f", ["受付", "審査", "受付", "審査", "決裁"])
    m = match(flow, flow)
    assert all(c.a == c.b for c in m.pairs) and len(m.pairs) == len(flow)


def renamed(flow: Flow, prefix: str) -> Flow:
    """The same flow with every id changed and the layout moved."""
    out = Flow(flow.name)
    for node in flow.nodes.values():
        attrs = {k: v for k, v in node.attrs.items() if k not in ("lane_id", "pool_id")}
        attrs["bounds"] = (1000.0, 1000.0, 10.0, 10.0)
        out.add_node(prefix + node.id, **attrs)
    for edge in flow.edges:
        out.add_edge(prefix + edge.source, prefix + edge.target, kind=edge.kind)
    return out


@pytest.mark.parametrize("path", standard_flows()[:4], ids=lambda p: p.stem)
def test_invariant_to_ids_and_layout(path: Path) -> None:
    town = next(
        (
            p
            for p in sorted((PROCESSES / "towns").rglob(f"{path.stem}.*"))
            if p.parent.name == path.parent.name
        ),
        None,
    )
    a = read_quiet(path)
    b = read_quiet(town) if town is not None else renamed(a, "t")
    plain = match(a, b)
    moved = match(renamed(a, "x_"), renamed(b, "y_"))
    strip = {
        (tuple(x[2:] for x in c.a), tuple(y[2:] for y in c.b), c.score)
        for c in moved.pairs
    }
    assert strip == {(c.a, c.b, c.score) for c in plain.pairs}


# -- symmetry --------------------------------------------------------------------

LABELS = [
    "受付", "受理", "申請書の受付", "本人確認", "資格確認", "審査", "内容確認",
    "決裁", "課長決裁", "入力", "システム入力", "通知書発送", "交付", "発行",
    "check order", "verify order", "send invoice", "receive payment", "",
]  # fmt: skip
LANES = ["窓口", "担当", "決裁", "システム", None]


@st.composite
def flows(draw: st.DrawFn, name: str) -> Flow:
    size = draw(st.integers(min_value=1, max_value=7))
    labels = draw(st.lists(st.sampled_from(LABELS), min_size=size, max_size=size))
    lanes = draw(st.lists(st.sampled_from(LANES), min_size=size, max_size=size))
    flow = chain(name, labels, lanes=lanes)  # type: ignore[arg-type]
    # a few extra edges: decisions, rework loops, parallel paths
    extra = draw(
        st.lists(
            st.tuples(st.integers(0, size - 1), st.integers(0, size - 1)), max_size=3
        )
    )
    for i, j in extra:
        if i != j and not flow.graph.has_edge(f"{name}{i}", f"{name}{j}"):
            flow.add_edge(f"{name}{i}", f"{name}{j}")
    if draw(st.booleans()):
        flow.add_node(f"{name}_g", type="exclusiveGateway", label="可否")
        flow.add_edge(f"{name}0", f"{name}_g")
        flow.add_edge(f"{name}_g", f"{name}_e")
    return flow


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=flows("a"), b=flows("b"))
def test_symmetric(a: Flow, b: Flow) -> None:
    forward = match(a, b)
    backward = match(b, a)
    assert backward == forward.swapped()
    assert forward == backward.swapped()


@settings(max_examples=30, deadline=None)
@given(a=flows("a"))
def test_identity_property(a: Flow) -> None:
    m = match(a, a)
    assert {(c.a, c.b) for c in m.pairs} == {((n,), (n,)) for n in a.nodes}
    assert all(c.score == 1.0 for c in m.pairs)


@settings(max_examples=30, deadline=None)
@given(a=flows("a"), b=flows("b"))
def test_deterministic_and_well_formed(a: Flow, b: Flow) -> None:
    first, second = match(a, b), match(a, b)
    assert first == second
    seen_a = [x for c in first.pairs for x in c.a]
    seen_b = [y for c in first.pairs for y in c.b]
    assert len(seen_a) == len(set(seen_a)) and len(seen_b) == len(set(seen_b))
    for c in first.pairs:
        assert 0.0 <= c.score <= 1.0
        assert not (len(c.a) > 1 and len(c.b) > 1)
        kinds_a = {a.nodes[x].is_activity for x in c.a}
        kinds_b = {b.nodes[y].is_activity for y in c.b}
        assert kinds_a == kinds_b


# -- behaviour on real wording ---------------------------------------------------


def test_synonyms_and_orthography_are_matched() -> None:
    std = chain("s", ["申込みの受付", "本人確認", "システム入力", "課長決裁", "交付"])
    town = chain(
        "t", ["申し込み受理", "本人確認を行う", "ｼｽﾃﾑ登録作業", "決裁", "交付する"]
    )
    m = match(std, town)
    pairs = {(c.a, c.b) for c in m.pairs}
    for i in range(5):
        assert ((f"s{i}",), (f"t{i}",)) in pairs


def test_one_to_many_with_adjacent_steps() -> None:
    std = chain("s", ["申請書の受付", "資格確認", "台帳入力", "決裁"])
    town = chain("t", ["受付・資格確認", "台帳入力", "決裁"])
    m = match(std, town)
    merged = m.pair_of_b("t0")
    assert merged is not None
    assert merged.a == ("s0", "s1") and merged.b == ("t0",)
    assert m.pair_of_a("s1") is merged
    assert ("s0", "t0") in m.member_pairs() and ("s1", "t0") in m.member_pairs()
    # and the same seen from the town
    assert match(town, std).pair_of_a("t0") == merged.swapped()


def test_no_group_with_a_step_that_is_not_adjacent() -> None:
    std = chain("s", ["受付", "台帳入力", "資格確認", "決裁"])
    town = chain("t", ["受付・資格確認", "台帳入力", "決裁"])
    m = match(std, town)
    assert all(len(c.a) == 1 for c in m.pairs)


def test_a_step_past_a_timer_joins_the_group() -> None:
    # 決裁・本登録 done as 決裁, then 本登録 in the nightly batch
    std = chain("s", ["受付", "決裁・本登録", "関連手続の案内"])
    town = chain("t", ["受付", "決裁", "関連手続の案内"])
    town.add_node("timer", type="intermediateCatchEvent", label="夜間")
    town.add_node("t9", label="本登録（日次一括更新）")
    town.add_edge("t2", "timer")
    town.add_edge("timer", "t9")
    town.add_edge("t9", "t_e")
    m = match(std, town)
    split = m.pair_of_a("s1")
    assert split is not None and split.b == ("t1", "t9")
    assert match(town, std) == m.swapped()


def test_a_step_that_says_it_serves_as_two_gathers_both() -> None:
    # 支出負担行為兼支出命令書: one form for two standard steps far apart
    std = chain(
        "s", ["支出負担行為決議書を作成", "物品を発注", "検収", "支出命令書を作成"]
    )
    town = chain("t", ["物品を発注", "検収", "支出負担行為兼支出命令書を入力"])
    m = match(std, town)
    merged = m.pair_of_b("t2")
    assert merged is not None and merged.a == ("s0", "s3")
    # without the 兼 the far step stays apart
    plain = chain("t", ["物品を発注", "検収", "支出負担行為と支出命令書を入力"])
    assert match(std, plain).pair_of_a("s0") is None


def test_paper_and_system_entry_of_one_thing_are_a_split() -> None:
    std = chain("s", ["受付", "支出負担行為決議書を作成", "決裁"])
    lanes = ["担当", "担当", "担当", "課長"]
    town = chain(
        "t",
        [
            "受付",
            "決議書を手書きで作成",
            "決議書の内容を財務会計システムへ入力",
            "決裁",
        ],
        lanes=lanes,
    )
    m = match(std, town)
    split = m.pair_of_a("s1")
    assert split is not None and split.b == ("t1", "t2")
    # a paper ledger of something else is an extra step, not a split
    other = chain(
        "t",
        ["受付", "支出負担行為決議書の作成", "進捗管理表（Excel）へ記入", "決裁"],
        lanes=lanes,
    )
    assert match(std, other).pair_of_b("t2") is None


def test_a_step_between_matched_steps_is_paired_at_a_lower_bar() -> None:
    std = chain(
        "s",
        [
            "申請書の受付",
            "審査判定結果を入力",
            "要介護状態区分を認定",
            "結果通知書を送付",
        ],
    )
    town = chain(
        "t", ["申請の受付", "判定結果の入力", "認定の決裁", "結果通知書の発送"]
    )
    m = match(std, town, threshold=0.7, structure=0.0)
    gap = m.pair_of_a("s2")
    assert gap is not None and gap.b == ("t2",) and gap.score < 0.7
    # without the surrounding pairs the same two labels stay apart
    alone = match(chain("x", ["要介護状態区分を認定"]), chain("y", ["認定の決裁"]))
    assert alone.pair_of_a("x0") is None


def test_events_and_gateways_pair_only_with_their_kind() -> None:
    a = chain("a", ["受付", "審査"])
    b = chain("b", ["受付", "審査"])
    m = match(a, b)
    assert m.pair_of_a("a_s") == Correspondence(
        ("a_s",), ("b_s",), m.pair_of_a("a_s").score
    )  # type: ignore[union-attr]
    assert m.pair_of_a("a_e").b == ("b_e",)  # type: ignore[union-attr]


def test_unrelated_steps_stay_unmatched() -> None:
    a = chain("a", ["住民票の写しを交付", "手数料を収納"])
    b = chain("b", ["予算要求", "監査委員へ報告"])
    m = match(a, b)
    assert m.pair_of_a("a0") is None and m.pair_of_a("a1") is None
    assert "a0" in m.unmatched_a() and "b1" in m.unmatched_b()


def test_threshold_controls_what_is_paired() -> None:
    a = chain("a", ["受付", "審査"])
    b = chain("b", ["受理", "点検"])
    assert len(match(a, b, threshold=0.99).pairs) < len(
        match(a, b, threshold=0.3).pairs
    )


@pytest.mark.parametrize(
    "kwargs", [{"threshold": 1.5}, {"structure": -0.1}, {"iterations": -1}]
)
def test_bad_parameters(kwargs: dict[str, float]) -> None:
    a = chain("a", ["受付"])
    with pytest.raises(MatchError):
        match(a, a, **kwargs)  # type: ignore[arg-type]


def test_empty_flows() -> None:
    m = match(Flow("x"), chain("b", ["受付"]))
    assert m.pairs == () and m.unmatched_b() == ["b_s", "b0", "b_e"]


# -- API ---------------------------------------------------------------------------


def test_matching_api() -> None:
    a = chain("a", ["申請書の受付", "資格確認", "決裁"])
    b = chain("b", ["受付・資格確認", "決裁"])
    m = match(a, b)
    assert isinstance(m, Matching) and len(m) == len(m.pairs)
    frame = m.to_frame()
    assert list(frame.columns) == ["a", "b", "a_label", "b_label", "score"]
    assert "a0+a1" in set(frame["a"])
    data = m.to_dict()
    row = next(p for p in data["pairs"] if p["b"] == ["b0"])
    assert row == {
        "a": ["a0", "a1"],
        "b": ["b0"],
        "a_label": "申請書の受付 + 資格確認",
        "b_label": "受付・資格確認",
        "score": row["score"],
    }
    order = [c.a[0] for c in m.pairs]
    assert order == sorted(order, key=list(a.nodes).index)
    assert m.swapped().swapped() == m


# -- CLI ---------------------------------------------------------------------------


@pytest.fixture
def two_files(tmp_path: Path) -> tuple[Path, Path]:
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    a.write_text(
        "name: 標準\nsteps:\n"
        "  - {番号: S, 作業: 開始, 種別: 開始, 次: [1]}\n"
        "  - {番号: 1, 担当: 窓口, 作業: 申請書の受付, 次: [2]}\n"
        "  - {番号: 2, 担当: 担当, 作業: 審査, 次: [E]}\n"
        "  - {番号: E, 作業: 終了, 種別: 終了}\n",
        encoding="utf-8",
    )
    b.write_text(
        "name: 町\nsteps:\n"
        "  - {番号: s, 作業: 開始, 種別: 開始, 次: [a]}\n"
        "  - {番号: a, 担当: 受付窓口, 作業: 申請の受理, 次: [b]}\n"
        "  - {番号: b, 担当: 担当係, 作業: 内容審査, 次: [e]}\n"
        "  - {番号: e, 作業: 終了, 種別: 終了}\n",
        encoding="utf-8",
    )
    return a, b


def test_cli_json(two_files: tuple[Path, Path]) -> None:
    a, b = two_files
    result = CliRunner().invoke(main, ["match", str(a), str(b), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    pairs = {(tuple(p["a"]), tuple(p["b"])) for p in data["pairs"]}
    assert {(("1",), ("a",)), (("2",), ("b",)), (("S",), ("s",))} <= pairs
    assert set(data["pairs"][0]) == {"a", "b", "a_label", "b_label", "score"}


def test_cli_table_and_files(two_files: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = two_files
    result = CliRunner().invoke(main, ["match", str(a), str(b)])
    assert result.exit_code == 0 and "申請書の受付" in result.output
    out = tmp_path / "pairs.rdf"
    result = CliRunner().invoke(main, ["match", str(a), str(b), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert b"<Cell>" in out.read_bytes()
    result = CliRunner().invoke(main, ["match", str(a), str(b), "--format", "csv"])
    assert result.output.splitlines()[2].startswith("standard,town,relation")


def test_cli_bad_input(tmp_path: Path, two_files: tuple[Path, Path]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps: [\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["match", str(bad), str(two_files[0])])
    assert result.exit_code == 2
    assert result.output.startswith("harpflow: error:")
