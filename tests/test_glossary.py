"""The glossary: coarse and fine clusters, lanes, areas, confusables."""

from __future__ import annotations

from pathlib import Path

import pytest

from harpflow.errors import FormatError
from harpflow.glossary import Glossary, default_glossary, word_key


@pytest.fixture(scope="module")
def g() -> Glossary:
    return default_glossary()


@pytest.mark.parametrize(
    ("words", "head"),
    [
        (("受付", "受理", "受領", "収受", "受け取り", "受付け"), "受付"),
        (("届出", "申請", "申出", "申込み", "請求"), "届出"),
        (("交付", "発行", "発給"), "交付"),
        (("決裁", "承認", "専決", "供覧"), "決裁"),
        (("入力", "登録", "記載", "パンチ"), "入力"),
        (("審査", "確認", "照合", "突合", "チェック"), "審査"),
        (("照会", "問合せ", "問い合わせ"), "照会"),
        (("督促", "催告"), "督促"),
        (("消除", "抹消", "削除"), "消除"),
    ],
)
def test_coarse_clusters(g: Glossary, words: tuple[str, ...], head: str) -> None:
    assert {g.canonical(w) for w in words} == {head}
    for w in words:
        assert w in g.synonyms(w)
        assert g.synonyms(w) == tuple(sorted(g.synonyms(w)))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("受付", "受理"),
        ("受付", "受領"),
        ("交付", "発行"),
        ("決裁", "供覧"),
        ("申請", "届出"),
    ],
)
def test_fine_level_keeps_legal_distinctions(g: Glossary, a: str, b: str) -> None:
    assert g.canonical(a) == g.canonical(b)
    assert g.canonical(a, "fine") != g.canonical(b, "fine")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("受付", "受付け"),
        ("受付", "受け取り"),
        ("申込", "申し込み"),
        ("確認", "チェック"),
    ],
)
def test_fine_level_joins_true_equivalents(g: Glossary, a: str, b: str) -> None:
    assert g.canonical(a, "fine") == g.canonical(b, "fine")


def test_fine_synonyms_are_a_subset_of_coarse(g: Glossary) -> None:
    assert set(g.synonyms("受付", "fine")) < set(g.synonyms("受付"))
    assert "受理" not in g.synonyms("受付", "fine")


@pytest.mark.parametrize(
    ("words", "head"),
    [
        (("receive", "accept", "get", "received", "getting"), "receive"),
        (("check", "verify", "review", "validate", "checking", "reviewed"), "check"),
        (("send", "forward", "submit", "sent"), "send"),
        (("notify", "inform", "informs"), "notify"),
        (("pay", "settle"), "pay"),
        (("approve", "authorize", "approved"), "approve"),
    ],
)
def test_english_process_verbs(g: Glossary, words: tuple[str, ...], head: str) -> None:
    assert all(head in g.concepts(w) for w in words), [g.concepts(w) for w in words]


def test_words_in_two_clusters(g: Glossary) -> None:
    assert g.concepts("決定") == {"決裁", "賦課"}
    assert g.concepts("送付") == {"交付", "通知"}
    assert g.canonical("unknownword") == "unknownword"
    assert g.concepts("unknownword") == frozenset()


@pytest.mark.parametrize(
    ("name", "lane"),
    [
        ("受付窓口", "窓口"),
        ("総合窓口", "窓口"),
        ("市民課窓口", "窓口"),
        ("担当係", "担当"),
        ("所管課", "担当"),
        ("課長", "決裁"),
        ("町長", "決裁"),
        ("出張所", "支所"),
        ("申請者", "住民"),
        ("ｼｽﾃﾑ", "システム"),
        ("法務局", "法務局"),
    ],
)
def test_lane_synonyms(g: Glossary, name: str, lane: str) -> None:
    assert g.lane(name) == lane


@pytest.mark.parametrize(
    ("alias", "code"),
    [
        ("住基", "01"),
        ("住民記録", "01"),
        ("国保", "10"),
        ("後期", "13"),
        ("生保", "15"),
        ("児手", "21"),
        ("固資", "05"),
        ("こども医療費助成", "16"),
        ("ｶﾗｵｹ", None),
    ],
)
def test_area_aliases(g: Glossary, alias: str, code: str | None) -> None:
    assert g.area(alias) == code


@pytest.mark.parametrize(
    ("wrong", "right"),
    [
        ("決済", "決裁"),
        ("公布", "交付"),
        ("紹介", "照会"),
        ("移動", "異動"),
        ("付票", "附票"),
    ],
)
def test_confusables(g: Glossary, wrong: str, right: str) -> None:
    assert g.confusable(wrong) == right
    assert g.confusable(right) is None


def test_orthographic_variants(g: Glossary) -> None:
    assert g.variants("申込") == ("申し込み", "申込", "申込み")
    assert g.variants("取扱い") == tuple(sorted(("取扱", "取扱い", "取り扱い")))
    assert g.variants("未知語") == ("未知語",)


def test_word_key_uses_normalised_forms() -> None:
    assert word_key("申込み") == word_key("申し込み")
    assert word_key("ＣＨＥＣＫＩＮＧ") == "check"


def test_load_and_merge(tmp_path: Path, g: Glossary) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "clusters:\n"
        "  - canonical: 受付\n"
        "    coarse: [受け入れ]\n"
        "  - canonical: 起票\n"
        "    coarse: [起票, 伝票作成]\n"
        "lanes:\n"
        "  窓口: [ワンストップ窓口]\n"
        "areas:\n"
        '  "01": [住記]\n'
        "confusables:\n"
        "  起表: 起票\n",
        encoding="utf-8",
    )
    mine = Glossary.load(path)
    merged = g.merge(mine)
    assert merged.canonical("受け入れ") == "受付"
    assert merged.canonical("受理") == "受付"  # the bundled members stay
    assert merged.canonical("伝票作成") == "起票"
    assert merged.lane("ワンストップ窓口") == "窓口"
    assert merged.area("住記") == "01" and merged.area("住基") == "01"
    assert merged.confusable("起表") == "起票"
    # merging leaves both inputs as they were
    assert g.canonical("受け入れ") == "受け入れ"
    assert mine.canonical("受理") == "受理"


def test_from_dict_rejects_malformed_data() -> None:
    with pytest.raises(FormatError, match="malformed glossary"):
        Glossary.from_dict({"clusters": [{"coarse": ["a"]}]})
    with pytest.raises(FormatError, match="mapping"):
        Glossary.from_dict(["not", "a", "mapping"])  # type: ignore[arg-type]


def test_load_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("clusters: [\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"bad\.yaml"):
        Glossary.load(path)
