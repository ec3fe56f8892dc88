"""Label normalisation: one test group per rule, with real label variants."""

from __future__ import annotations

import pytest

from harpflow.glossary import default_glossary
from harpflow.text import Label, normalise, parse_number, stem, tokens_ja


@pytest.mark.parametrize(
    ("label", "number", "text"),
    [
        ("①転入届の受付", "1", "転入届の受付"),
        ("⑫ 決裁", "12", "決裁"),
        ("⑴受付", "1", "受付"),
        ("(1) 受付", "1", "受付"),
        ("（１）受付", "1", "受付"),
        ("（12）住民票の写しを交付", "12", "住民票の写しを交付"),
        ("1-① 本人確認", "1-1", "本人確認"),
        ("１－②　本人確認", "1-2", "本人確認"),
        ("2-3-1 税額計算", "2-3-1", "税額計算"),
        ("ア 審査", "ア", "審査"),
        ("イ．審査", "イ", "審査"),
        ("(ｱ)審査", "ア", "審査"),
        ("（イ）審査", "イ", "審査"),
        ("第1 受付", "1", "受付"),
        ("第１段階　受付", "1", "受付"),
        ("1. 受付", "1", "受付"),
        ("１．受付", "1", "受付"),
        ("3) 受付", "3", "受付"),
        ("(1)① 受付", "1-1", "受付"),
        ("Step 3: Check order", "3", "check order"),
    ],
)
def test_step_numbers_are_parsed_and_removed(
    label: str, number: str, text: str
) -> None:
    result = normalise(label)
    assert (result.number, result.text) == (number, text)
    assert result.original == label


@pytest.mark.parametrize(
    "label",
    [
        "アンケート送付",
        "イベント案内",
        "1.5倍の計算",
        "1月分の賦課",
        "第三者照会",
        "10月1日基準",
    ],
)
def test_text_that_only_looks_like_a_number_is_kept(label: str) -> None:
    assert normalise(label).number is None
    assert parse_number(label) == (None, label)


def test_numbers_are_parsed_before_nfkc() -> None:
    # NFKC alone would turn ① into 1 and glue it to the text
    assert normalise("①受付").text == "受付"
    assert normalise("⑩審査").tokens == normalise("審査").tokens


@pytest.mark.parametrize(
    ("label", "text"),
    [
        ("ｼｽﾃﾑ入力", "システム入力"),
        ("ＣＳへ送信", "CSへ送信"),
        ("住民票\u3000交付", "住民票 交付"),
        ("審査\n（窓口）", "審査 (窓口)"),
    ],
)
def test_nfkc_and_spaces(label: str, text: str) -> None:
    assert normalise(label).text == text


@pytest.mark.parametrize(
    ("label", "text"),
    [
        ("受付を行う", "受付"),
        ("本人確認を行なう", "本人確認"),
        ("審査する", "審査"),
        ("入力処理", "入力"),
        ("入力作業", "入力"),
        ("審査の実施", "審査"),
        ("書類等", "書類"),
        ("確認作業を行う", "確認"),
        ("現地調査を実施する", "現地調査"),
    ],
)
def test_filler_suffixes_are_dropped(label: str, text: str) -> None:
    assert normalise(label).text == text


def test_a_filler_alone_is_kept() -> None:
    assert normalise("処理").text == "処理"
    assert normalise("作業").tokens == ("作業",)


@pytest.mark.parametrize(
    ("label", "text"),
    [
        ("「住民異動届」の受付", "住民異動届の受付"),
        ("『納税通知書』を発送", "納税通知書を発送"),
        ("【転出証明書】確認", "転出証明書確認"),
    ],
)
def test_brackets_around_form_names(label: str, text: str) -> None:
    assert normalise(label).text == text


@pytest.mark.parametrize(
    "variants",
    [
        ("申込", "申込み", "申し込み"),
        ("取扱", "取扱い", "取り扱い"),
        ("受付", "受付け", "受け付け"),
        ("手続", "手続き"),
        ("届出", "届け出"),
        ("問合せ", "問い合わせ"),
        ("振込み", "振り込み"),
        ("差押え", "差し押さえ"),
        ("申出", "申し出"),
        ("繰越し", "繰り越し"),
    ],
)
def test_okurigana_variants_collapse(variants: tuple[str, ...]) -> None:
    tokens = {normalise(v).tokens for v in variants}
    assert len(tokens) == 1, tokens


def test_width_variants_collapse_in_tokens() -> None:
    assert normalise("ｼｽﾃﾑ登録").tokens == normalise("システム登録").tokens


def test_particles_and_light_verbs_are_not_tokens() -> None:
    assert tokens_ja("申請書を受け付けする") == ("申請", "書", "受け付け")
    assert normalise("台帳に記入し保管").tokens == ("台帳", "記入", "保管")


def test_latin_script_is_lower_cased_and_stemmed() -> None:
    result = normalise("2. Checking the Orders")
    assert result.text == "checking the orders"
    assert result.tokens == ("check", "order")
    assert result.language == "en"
    assert normalise("Receive\nInvoice").tokens == normalise("receive invoices").tokens


def test_latin_words_inside_japanese_labels_are_kept() -> None:
    result = normalise("本人確認情報をCSへ送信")
    assert result.language == "ja"
    assert "cs" in result.tokens


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        # examples from Porter (1980)
        ("caresses", "caress"),
        ("ponies", "poni"),
        ("cats", "cat"),
        ("agreed", "agre"),
        ("plastered", "plaster"),
        ("motoring", "motor"),
        ("conflated", "conflat"),
        ("hopping", "hop"),
        ("filing", "file"),
        ("happy", "happi"),
        ("relational", "relat"),
        ("conditional", "condit"),
        ("digitizer", "digit"),
        ("vietnamization", "vietnam"),
        ("hopefulness", "hope"),
        ("sensitiviti", "sensit"),
        ("triplicate", "triplic"),
        ("electrical", "electr"),
        ("allowance", "allow"),
        ("adjustment", "adjust"),
        ("adoption", "adopt"),
        ("effective", "effect"),
        ("probate", "probat"),
        ("controll", "control"),
    ],
)
def test_porter_stemmer(word: str, expected: str) -> None:
    assert stem(word) == expected


def test_glossary_option_maps_tokens_to_clusters() -> None:
    g = default_glossary()
    assert normalise("受理", glossary=g).tokens == normalise("受付", glossary=g).tokens
    assert normalise("verify claim", glossary=g).tokens == ("check", "claim")


def test_label_is_frozen_and_keeps_the_original() -> None:
    label = normalise("  ③ 受付を行う ")
    assert isinstance(label, Label)
    assert label.original == "  ③ 受付を行う "
    with pytest.raises(AttributeError):
        label.text = "x"  # type: ignore[misc]


def test_empty_label() -> None:
    assert normalise("") == Label("", None, "", (), "en")


def test_a_glossary_word_the_dictionary_splits_is_one_token() -> None:
    from harpflow.glossary import default_glossary
    from harpflow.text import normalise

    tokens = normalise("賦課の後閲").tokens
    assert tokens[-1] == "後閲"
    assert default_glossary().concepts(tokens[-1]) == {"決裁"}
    assert normalise("封入封緘").tokens == ("封入", "封緘")
