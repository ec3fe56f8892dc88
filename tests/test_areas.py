"""The 27 business areas, their status under the 2021 law, and lookups."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import PROCESSES

from harpflow import areas
from harpflow.areas import AREAS, STANDARDISED_20, STATUSES, UnknownAreaError, get
from harpflow.cli import main
from harpflow.errors import HarpflowError

SLUGS = [
    "01-jumin",
    "02-inkan",
    "03-gaikokujin",
    "04-senkyo",
    "05-kotei-shisan",
    "06-kojin-juminzei",
    "07-hojin-juminzei",
    "08-kei-jidosha",
    "09-shuno",
    "10-kokuho",
    "11-nenkin",
    "12-shogai",
    "13-koki-korei",
    "14-kaigo",
    "15-seiho",
    "16-nyuyoji-iryo",
    "17-hitorioya-iryo",
    "18-kenko",
    "19-shugaku",
    "20-koseki",
    "21-kodomo-teate",
    "22-jutogai",
    "23-zaimu",
    "24-jinji",
    "25-bunsho",
    "26-judo-iryo",
    "27-kokaikei",
]


def test_twenty_seven_areas_in_order_with_their_slugs() -> None:
    assert len(AREAS) == 27
    assert [a.folder for a in AREAS] == SLUGS
    assert [a.code for a in AREAS] == [f"{i:02d}" for i in range(1, 28)]
    assert all(a.folder == f"{a.code}-{a.slug}" for a in AREAS)


def test_every_area_is_complete() -> None:
    for a in AREAS:
        assert a.name_ja and a.name_en, a.code
        assert a.status in STATUSES, a.code
        assert a.provenance in ("S", "I") and a.status_provenance in ("S", "I")
        assert len(a.procedures) >= 3, a.code
        keys = [p.key for p in a.procedures]
        assert len(set(keys)) == len(keys), a.code
        for p in a.procedures:
            assert p.key == p.key.lower() and " " not in p.key and p.key.isascii()
            assert p.name_ja and p.name_en
        if a.status == "standardised":
            names = {s.name_ja for s in STANDARDISED_20}
            assert a.standard_area in names, a.code
        if a.status == "merged":
            assert a.merged_into, a.code
        if a.status == "abolished":
            assert a.abolished and a.replaced_by, a.code


def test_statuses_follow_the_domain_notes() -> None:
    by_status: dict[str, list[str]] = {}
    for a in AREAS:
        by_status.setdefault(a.status, []).append(a.code)
    assert by_status["abolished"] == ["03"]
    assert by_status["merged"] == ["09", "22"]
    assert by_status["not_standardised"] == ["16", "17", "23", "24", "25", "26", "27"]
    assert len(by_status["standardised"]) == 17
    assert get("03").abolished == "2012-07"
    assert get("21").standard_area == "児童手当"
    assert get("09").status_provenance == "I"


def test_standardised_twenty() -> None:
    assert len(STANDARDISED_20) == 20
    assert [s.number for s in STANDARDISED_20] == list(range(1, 21))
    missing = [s.name_ja for s in STANDARDISED_20 if s.harp_code is None]
    assert missing == ["児童扶養手当", "子ども・子育て支援", "戸籍の附票"]
    # every standardised HARP area appears once among the 20
    linked = sorted(s.harp_code for s in STANDARDISED_20 if s.harp_code)
    assert linked == sorted(a.code for a in AREAS if a.status == "standardised")
    for s in STANDARDISED_20:
        if s.harp_code:
            assert get(s.harp_code).standard_area == s.name_ja


@pytest.mark.parametrize(
    ("key", "code"),
    [
        ("01", "01"),
        ("1", "01"),
        (1, "01"),
        ("jumin", "01"),
        ("01-jumin", "01"),
        ("住民基本台帳", "01"),
        ("住基", "01"),
        ("住民記録", "01"),
        ("国保", "10"),
        ("後期", "13"),
        ("生保", "15"),
        ("住民税", "06"),
        ("法人市民税", "07"),
        ("固資", "05"),
        ("軽自", "08"),
        ("児手", "21"),
        ("子ども医療", "16"),
        ("母子医療", "17"),
        ("重心医療", "26"),
        ("National Health Insurance", "10"),
        ("national health insurance", "10"),
        ("１４", "14"),
        (" kaigo ", "14"),
    ],
)
def test_lookups(key: str | int, code: str) -> None:
    assert get(key).code == code


@pytest.mark.parametrize("key", ["28", "00", "児扶", "戸籍の附票", "", "jumin2"])
def test_unknown_area(key: str) -> None:
    with pytest.raises(UnknownAreaError, match="no business area"):
        get(key)
    with pytest.raises(HarpflowError):
        get(key)
    with pytest.raises(KeyError):
        get(key)


@pytest.mark.parametrize(
    ("code", "key", "name"),
    [
        ("01", "tennyu", "転入届"),
        ("02", "toroku", "印鑑登録申請"),
        ("05", "toshokazei", "固定資産税 当初課税"),
        ("10", "shikaku-shutoku", "国保 資格取得"),
        ("14", "nintei", "要介護認定"),
        ("23", "buppin-shishutsu", "物品購入の支出"),
    ],
)
def test_procedures_used_by_processes(code: str, key: str, name: str) -> None:
    assert get(code).procedure(key).name_ja == name


def test_unknown_procedure() -> None:
    with pytest.raises(KeyError, match="no procedure"):
        get("01").procedure("nothing")


def test_every_standard_flow_names_a_known_area_and_procedure() -> None:
    folders = {a.folder: a for a in AREAS}
    files = sorted((PROCESSES / "standard").glob("*/*.*"))
    assert files
    for path in files:
        area = folders[path.parent.name]
        assert path.stem in {p.key for p in area.procedures}, path


def test_to_dict_is_json() -> None:
    data = json.loads(json.dumps([a.to_dict() for a in AREAS], ensure_ascii=False))
    assert data[0]["folder"] == "01-jumin"
    assert data[0]["procedures"][0] == {
        "key": "tennyu",
        "name_ja": "転入届",
        "name_en": "Moving-in notification",
    }
    assert STANDARDISED_20[14].to_dict()["harp_code"] is None


def test_cli_areas_json() -> None:
    result = CliRunner().invoke(main, ["areas", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 27
    assert [r["code"] + "-" + r["slug"] for r in rows] == SLUGS
    assert {r["status"] for r in rows} == set(STATUSES)
    assert rows[2]["abolished"] == "2012-07"


def test_cli_areas_table() -> None:
    result = CliRunner().invoke(main, ["areas"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == 1 + 27  # a header, then one line per area
    assert lines[0].split() == ["code", "slug", "status", "name", "English", "name"]
    assert lines[1].startswith("01    jumin") and "住民基本台帳" in lines[1]


def test_module_all() -> None:
    assert set(areas.__all__) <= set(dir(areas))
