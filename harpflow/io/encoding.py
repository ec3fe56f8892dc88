"""Text encodings of inputs: detection for plain text, checks for XML.

Japanese municipal files arrive as UTF-8, UTF-8 with a byte order mark
(Excel's "CSV UTF-8"), UTF-16 with a byte order mark (Excel's "Unicode
text"), cp932 (Windows Shift_JIS, Excel's default CSV) and EUC-JP (older
Unix systems). harpflow never passes mojibake on silently: text whose bytes
fit no encoding, or contradict the encoding an XML file declares, is a
:class:`~harpflow.errors.ParseError` that says so.

Plain text (CSV, Mermaid) -- :func:`decode_text`
    1. a UTF-8 byte order mark: UTF-8; a UTF-16 one (either byte order):
       UTF-16;
    2. bytes that are valid UTF-8: UTF-8 (Japanese text in cp932 or EUC-JP
       is almost never valid UTF-8);
    3. bytes valid in cp932, EUC-JP, or both: the one whose text reads as
       more plausible Japanese (:func:`plausibility`: kana, common kanji and
       ASCII count for, half-width katakana, private-use and C1 control
       characters count against -- the marks of EUC-JP read as cp932 and
       the reverse);
    4. otherwise an error naming the line of the first byte UTF-8 refused.

XML -- :func:`normalise_xml_encoding`
    The XML parser decodes by the declaration (``<?xml ... encoding="…"?>``)
    and raises on bytes invalid in it. What it cannot see is bytes valid in
    the declared encoding that were written in another one. A file declaring
    a Japanese encoding (Shift_JIS, Windows-31J, cp932, EUC-JP and their
    aliases) is decoded here, as cp932 or EUC-JP, which hold the Windows
    extensions (髙, ①) that strict Shift_JIS lacks, and handed to the parser
    as UTF-8. Before parsing, a file is refused when

    - it declares an encoding other than UTF-8/16/32 or ASCII, yet its bytes
      are valid UTF-8 holding non-ASCII characters (a file saved as UTF-8
      by an editor that kept the old declaration; Shift_JIS or EUC-JP text
      is almost never valid UTF-8, so real files in those encodings pass);
    - it starts with a UTF-8 byte order mark and declares another encoding;
    - it declares a Japanese encoding (Shift_JIS, cp932, EUC-JP) and its
      bytes are invalid there, or decode markedly less plausibly than in
      the other one;
    - it declares UTF-8, or nothing (which means UTF-8), and its bytes are
      not UTF-8: the message names the line and, where one fits, the
      encoding the bytes appear to be in.

Examples
--------
>>> decode_text("番号,作業".encode("euc_jp"), "t.csv")
('番号,作業', 'euc_jp')
>>> normalise_xml_encoding('<?xml version="1.0" encoding="Shift_JIS"?><a>受付</a>'
...                    .encode("utf-8"), "a.bpmn")
Traceback (most recent call last):
...
harpflow.errors.ParseError: a.bpmn:1: xml declaration: declares encoding 'Shift_JIS' ...

Notes
-----
A short text can be valid, and equally plausible, in cp932 and EUC-JP;
ties go to cp932, the more common of the two. Single-byte encodings other
than ASCII (Latin-1 and the like) are never guessed for plain text: such
bytes are refused. An XML file declaring a single-byte encoding is read as
declared unless its bytes are valid UTF-8 with non-ASCII characters.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from harpflow.errors import ParseError

__all__ = [
    "JAPANESE",
    "decode_text",
    "japanese_order",
    "normalise_xml_encoding",
    "plausibility",
]

#: The legacy Japanese encodings recognised, most common first.
JAPANESE = ("cp932", "euc_jp")

_UNICODE = {"utf_8", "utf_16", "utf_16_le", "utf_16_be", "utf_32", "ascii"}
#: Declared names of the Japanese encodings (lower case, no ``-`` or ``_``),
#: each read with the superset Windows and Unix tools really write.
_JAPANESE_NAMES = {
    **dict.fromkeys(
        (
            "shiftjis",
            "sjis",
            "xsjis",
            "csshiftjis",
            "mskanji",
            "windows31j",
            "ms932",
            "cp932",
            "shiftjis2004",
            "shiftjisx0213",
        ),
        "cp932",
    ),
    **dict.fromkeys(
        ("eucjp", "xeucjp", "ujis", "cseucpkdfmtjapanese", "eucjis2004", "eucjisx0213"),
        "euc_jp",
    ),
}
_DECLARATION = re.compile(
    rb"^<\?xml[^>]*?\bencoding\s*=\s*([\"'])([A-Za-z][A-Za-z0-9._-]*)\1"
)


def plausibility(text: str) -> float:
    """How much ``text`` reads like real Japanese or ASCII, from -1 to 1.

    Examples
    --------
    >>> plausibility("転入届を受け付ける") > plausibility("ﾅﾆﾇﾈﾉ")
    True
    """
    if not text:
        return 0.0
    score = 0
    for ch in text:
        code = ord(ch)
        if code < 0x80 or 0x3000 <= code <= 0x30FF or 0xFF01 <= code <= 0xFF5E:
            score += 1  # ASCII, CJK punctuation, kana, full-width forms
        elif 0x4E00 <= code <= 0x9FFF:
            score += 1  # unified ideographs
        elif (
            0xFF61 <= code <= 0xFF9F
            or 0xE000 <= code <= 0xF8FF
            or 0x80 <= code <= 0x9F
            or unicodedata.category(ch) in ("Co", "Cn", "Cc")
        ):
            score -= 2  # half-width katakana, private use, C1 controls
    return max(-1.0, min(1.0, score / len(text)))


def japanese_order(data: bytes) -> list[str]:
    """The legacy Japanese encodings, the most plausible for ``data`` first.

    Encodings that cannot decode ``data`` go last.

    Examples
    --------
    >>> japanese_order("受付".encode("euc_jp"))
    ['euc_jp', 'cp932']
    >>> japanese_order("受付".encode("cp932"))
    ['cp932', 'euc_jp']
    """
    scored: list[tuple[float, int, str]] = []
    for rank, encoding in enumerate(JAPANESE):
        try:
            score = plausibility(data.decode(encoding))
        except UnicodeDecodeError:
            score = -2.0
        scored.append((-score, rank, encoding))
    return [encoding for _, _, encoding in sorted(scored)]


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode_text(data: bytes, source: str) -> tuple[str, str]:
    """Decode a text file; return the text and the encoding found.

    Raises
    ------
    ParseError
        When the bytes decode as none of the accepted encodings.

    Examples
    --------
    >>> decode_text("\\ufeffflowchart LR".encode("utf-16"), "a.mmd")
    ('flowchart LR', 'utf-16')
    >>> decode_text(b"a\\x81 b", "a.mmd")
    Traceback (most recent call last):
    ...
    harpflow.errors.ParseError: a.mmd:1: the bytes decode as none of UTF-8, ...
    """
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", *japanese_order(data)]
    first: UnicodeDecodeError | None = None
    for encoding in candidates:
        try:
            return data.decode(encoding).lstrip("\ufeff"), encoding
        except UnicodeDecodeError as exc:
            first = first or exc
    assert first is not None
    names = {"utf-8": "UTF-8", "cp932": "cp932 (Shift_JIS)", "euc_jp": "EUC-JP"}
    tried = ", ".join(names.get(c, c) for c in candidates)
    raise ParseError(
        f"the bytes decode as none of {tried} (first bad byte at offset "
        f"{first.start}); save the file as UTF-8",
        source=source,
        line=_line_of(data, first.start),
    )


_DECLARED_VALUE = re.compile(rb"encoding\s*=\s*([\"'])[A-Za-z0-9._-]+\1")


def _declared(data: bytes) -> str | None:
    match = _DECLARATION.match(data.lstrip(b"\xef\xbb\xbf")[:512])
    return match.group(2).decode("ascii") if match else None


def _codec(name: str) -> str | None:
    japanese = _JAPANESE_NAMES.get(re.sub(r"[-_.]", "", name.lower()))
    if japanese is not None:
        return japanese
    try:
        return codecs.lookup(name).name.replace("-", "_")
    except LookupError:
        return None


def normalise_xml_encoding(data: bytes, source: str) -> bytes:
    """Refuse XML whose bytes contradict its declared encoding; return the bytes.

    See the module notes for the rules. A file declaring a Japanese
    encoding comes back re-encoded in UTF-8, its declaration changed to
    match and its lines unchanged: the XML parser knows strict Shift_JIS
    only, while real files hold the Windows extensions (髙, ①). Any other
    file comes back as it is. UTF-16 and UTF-32 files (with a byte order
    mark or NUL bytes at the start) are left to the parser.

    Raises
    ------
    ParseError
        Naming the declared encoding, the line, and the encoding the bytes
        appear to be in.

    Examples
    --------
    >>> normalise_xml_encoding('<?xml version="1.0" encoding="EUC-JP"?><a>受付</a>'
    ...                        .encode("euc_jp"), "a.bpmn").decode()
    '<?xml version="1.0" encoding="UTF-8"?><a>受付</a>'
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00", b"<\x00")):
        return data
    if not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return data  # not XML at all: the parser says so
    declared = _declared(data)
    codec = _codec(declared) if declared else "utf_8"
    if codec is None:
        return data  # an unknown encoding: the parser says so
    bom = data.startswith(b"\xef\xbb\xbf")
    if bom and codec != "utf_8":
        raise ParseError(
            f"declares encoding {declared!r} but starts with a UTF-8 byte order "
            "mark; fix the declaration",
            source=source,
            line=1,
            element="xml declaration",
        )
    try:
        data.decode("utf-8")
        utf8 = True
    except UnicodeDecodeError as exc:
        utf8 = False
        utf8_error = exc
    if codec in _UNICODE:
        if codec == "utf_8" and not utf8:
            guess = japanese_order(data)[0]
            try:
                data.decode(guess)
                hint = f"; the bytes look like {guess}"
            except UnicodeDecodeError:
                hint = ""
            said = (
                f"declares encoding {declared!r}"
                if declared
                else "declares no encoding (so UTF-8)"
            )
            raise ParseError(
                f"{said} but its bytes are not UTF-8 (offset "
                f"{utf8_error.start}){hint}; fix the declaration or the file",
                source=source,
                line=_line_of(data, utf8_error.start),
                element="xml declaration" if declared else None,
            )
        return data
    if utf8 and not data.isascii():
        offset = next(i for i, b in enumerate(data) if b >= 0x80)
        raise ParseError(
            f"declares encoding {declared!r} but its bytes are UTF-8 (the first "
            f"non-ASCII character is at offset {offset}); fix the declaration",
            source=source,
            line=_line_of(data, offset),
            element="xml declaration",
        )
    family = codec if codec in JAPANESE else None
    if family is None:
        return data
    try:
        text = data.decode(family)
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"declares encoding {declared!r} but its bytes are not valid there "
            f"(offset {exc.start})",
            source=source,
            line=_line_of(data, exc.start),
            element="xml declaration",
        ) from None
    other = next(e for e in JAPANESE if e != family)
    try:
        better = plausibility(data.decode(other)) - plausibility(text) > 0.2
    except UnicodeDecodeError:
        better = False
    if better:
        raise ParseError(
            f"declares encoding {declared!r} but its bytes read as {other}; "
            "fix the declaration",
            source=source,
            line=1,
            element="xml declaration",
        )
    start = data.index(b"encoding", 0, 512)
    head = data[:start] + _DECLARED_VALUE.sub(b'encoding="UTF-8"', data[start:512], 1)
    return (head + data[512:]).decode(family).encode("utf-8")
