"""Encodings: every accepted one reads to the same flow; contradictions fail.

The files in tests/data/encodings/ hold one step table (CSV), one Mermaid
chart and one BPMN file, each saved in every accepted encoding, plus files
whose bytes contradict their declared encoding or fit none. A file that
reads must give exactly the labels of its UTF-8 twin (no mojibake); a file
that does not must say why, with file and line.
"""

from __future__ import annotations

import pytest
from conftest import DATA

from harpflow.errors import ParseError
from harpflow.io import read
from harpflow.io.encoding import decode_text, japanese_order, normalise_xml_encoding
from harpflow.model import Flow

ENC = DATA / "encodings"


def labels(flow: Flow) -> list[tuple[str, str, str | None]]:
    return [(n.id, n.label, n.lane) for n in flow.nodes.values()]


@pytest.mark.parametrize("suffix", ["csv", "mmd"])
@pytest.mark.parametrize("encoding", ["utf8bom", "utf16", "cp932", "eucjp"])
def test_text_formats_read_in_every_encoding(suffix: str, encoding: str) -> None:
    expected = read(ENC / f"tennyu_utf8.{suffix}")
    flow = read(ENC / f"tennyu_{encoding}.{suffix}")
    assert labels(flow) == labels(expected)
    assert flow.lane_names() == expected.lane_names()


def test_utf8_twins_hold_the_japanese_labels() -> None:
    csv = read(ENC / "tennyu_utf8.csv")
    assert csv.nodes["2"].label == "受付・本人確認（ﾏｲﾅﾝﾊﾞｰｶｰﾄﾞ）"
    mmd = read(ENC / "tennyu_utf8.mmd")
    assert mmd.nodes["a"].label == "転入届を受付"
    assert mmd.lane_names() == ["窓口", "記録係"]


def test_cp932_windows_extensions() -> None:
    flow = read(ENC / "tennyu_cp932_ext.csv")
    assert flow.nodes["4"].label == "髙橋①さんへ通知"


@pytest.mark.parametrize(
    "name", ["utf8bom", "utf16", "shiftjis", "windows31j", "eucjp"]
)
def test_xml_reads_in_its_declared_encoding(name: str) -> None:
    expected = read(ENC / "tennyu_utf8.bpmn")
    flow = read(ENC / f"tennyu_{name}.bpmn")
    assert labels(flow) == labels(expected)
    assert flow.nodes["t"].label == "受付・本人確認"


def test_shift_jis_declared_xml_may_hold_windows_extensions() -> None:
    # libxml2 knows strict Shift_JIS only; 髙 and ① are cp932.
    text = (
        '<?xml version="1.0" encoding="Shift_JIS"?>\n'
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">\n'
        '<process id="p"><task id="t" name="髙橋①"/></process></definitions>\n'
    )
    flow = read(text.encode("cp932"), format="bpmn")
    assert flow.nodes["t"].label == "髙橋①"


#: file -> (line, words the message must hold)
CONTRADICTIONS = {
    "bad_shiftjis_declared_utf8_bytes.bpmn": (3, "declares encoding 'Shift_JIS' but"),
    "bad_eucjp_declared_utf8_bytes.bpmn": (3, "its bytes are UTF-8"),
    "bad_latin1_declared_utf8_bytes.bpmn": (3, "declares encoding 'ISO-8859-1'"),
    "bad_utf8_declared_cp932_bytes.bpmn": (3, "the bytes look like cp932"),
    "bad_undeclared_eucjp_bytes.bpmn": (2, "the bytes look like euc_jp"),
    "bad_bom_declared_shiftjis.bpmn": (1, "UTF-8 byte order mark"),
    "bad_eucjp_declared_cp932_bytes.bpmn": (3, "not valid there"),
    "bad_shiftjis_declared_eucjp_bytes.bpmn": (4, "not valid there"),
    "bad_no_encoding.csv": (2, "decode as none of"),
    "bad_no_encoding.mmd": (4, "decode as none of"),
}


@pytest.mark.parametrize("name", sorted(CONTRADICTIONS))
def test_contradicting_bytes_are_refused_with_file_and_line(name: str) -> None:
    line, words = CONTRADICTIONS[name]
    path = ENC / name
    with pytest.raises(ParseError) as info:
        read(path)
    assert info.value.source == str(path)
    assert info.value.line == line
    assert words in info.value.message


def test_japanese_order_prefers_the_plausible_reading() -> None:
    # Both decodings succeed here; only one is Japanese.
    text = "ｱｲｳｴｵ届出"
    assert japanese_order(text.encode("cp932"))[0] == "cp932"
    assert japanese_order("届出書を受付".encode("euc_jp"))[0] == "euc_jp"


def test_decode_text_of_ascii_is_utf8() -> None:
    assert decode_text(b"flowchart LR", "a.mmd") == ("flowchart LR", "utf-8")


def test_xml_declared_japanese_is_handed_on_as_utf8_with_the_same_lines() -> None:
    data = '<?xml version="1.0" encoding="EUC-JP"?>\n<a>\n受付</a>'.encode("euc_jp")
    out = normalise_xml_encoding(data, "a.xml")
    assert (
        out.decode("utf-8") == '<?xml version="1.0" encoding="UTF-8"?>\n<a>\n受付</a>'
    )


def test_xml_in_utf8_or_ascii_is_passed_through_unchanged() -> None:
    data = '<?xml version="1.0"?><a>受付</a>'.encode()
    assert normalise_xml_encoding(data, "a.xml") is data
    latin = b'<?xml version="1.0" encoding="ISO-8859-1"?><a>caf\xe9</a>'
    assert normalise_xml_encoding(latin, "a.xml") is latin
