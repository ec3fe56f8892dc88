"""Label normalisation: the one place a step label becomes comparable.

:func:`normalise` turns a label as written into a :class:`Label`:

1. the step number in front (①, (1), （１）, 1-①, ア, (ｱ), 第1, 1., １．) is
   parsed and removed *before* NFKC, which would otherwise fold ① into 1
   and make the number indistinguishable from the text;
2. NFKC folds widths (full-width digits and Latin, half-width katakana);
   line breaks and runs of spaces become one space;
3. brackets around form names (「」『』【】) are removed, their content kept;
4. filler suffixes are dropped (を行う, する, 処理, 作業, の実施, 等);
5. Japanese runs are tokenised with Sudachi (SplitMode C, sudachidict-small)
   and each content word is replaced by its ``normalized_form``, so that
   okurigana and spelling variants collapse (申込/申込み/申し込み);
6. Latin runs are lower-cased, split into words, stripped of stop words and
   stemmed with the Porter stemmer [1]_.

Examples
--------
>>> from harpflow.text import normalise
>>> lab = normalise("①転入届の受付を行う")
>>> lab.number, lab.text, lab.tokens
('1', '転入届の受付', ('転入', '届ける', '受け付け'))
>>> normalise("申込み").tokens == normalise("申し込み").tokens
True
>>> normalise("2. Checking the Orders").tokens
('check', 'order')

Notes
-----
The Sudachi tokenizer is created once per process, on first use (about a
tenth of a second). The small dictionary splits some compounds the core
dictionary keeps whole (住民票 becomes 住民 + 票); matching compares
tokens of both sides the same way, so this costs little. Era dates (令和6年)
are kept as written. Sudachi's ``normalized_form`` is not idempotent for a
few words (繰越し → 繰り越し, but 繰り越し → 繰り越す); each word is
normalised until it no longer changes, so both end as 繰り越す.

References
----------
.. [1] M. F. Porter, "An algorithm for suffix stripping", *Program* 14(3),
   pp. 130-137, 1980.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from harpflow.errors import MissingDependencyError

if TYPE_CHECKING:
    from harpflow.glossary import Glossary

__all__ = ["Label", "normalise", "parse_number", "stem", "tokens_ja"]


@dataclass(frozen=True)
class Label:
    """A normalised label.

    Attributes
    ----------
    original : str
        The label as written.
    number : str or None
        The step number parsed from its front, in NFKC form with circled
        numbers as digits (``"1"``, ``"1-1"``, ``"ア"``), or None.
    text : str
        The normalised surface: no number, NFKC, no brackets or fillers,
        Latin lower-cased.
    tokens : tuple of str
        Content words: Sudachi normalised forms for Japanese, Porter stems
        for Latin script.
    language : {"ja", "en"}
        ``"ja"`` when the label holds any kana or kanji.
    core : str
        ``text`` without parenthesised remarks (the step itself).
    aside : tuple of str
        Content words of the parenthesised remarks, e.g. of
        ``(所有権移転・分合筆)``; they qualify the step and count less when
        labels are compared.
    """

    original: str
    number: str | None
    text: str
    tokens: tuple[str, ...]
    language: Literal["ja", "en"]
    core: str = ""
    aside: tuple[str, ...] = ()


# -- step numbers -----------------------------------------------------------

_CIRCLED = {chr(0x2460 + i): str(i + 1) for i in range(20)}  # ①-⑳
_CIRCLED.update({chr(0x3251 + i): str(i + 21) for i in range(15)})  # ㉑-㉟
_CIRCLED.update({chr(0x32B1 + i): str(i + 36) for i in range(15)})  # ㊱-㊿
_CIRCLED.update({chr(0x2474 + i): str(i + 1) for i in range(20)})  # ⑴-⒇
_CIRCLED.update({chr(0x2488 + i): str(i + 1) for i in range(20)})  # ⒈-⒛
_KANA_SEQ = "アイウエオカキクケコサシスセソタチツテトナニヌネノ"
_KANA_SEQ_HALF = "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉ"
_DIGITS = "0-9０-９"
_SEP = r"[ \t\u3000.．、,，:：)）]"
_NUMBER_PATTERNS = (
    # ① or ⑴ possibly followed by a separator
    re.compile("^([" + "".join(_CIRCLED) + "])" + _SEP + "*"),
    # (1) （１） (ｱ) （ア） (a)
    re.compile(
        rf"^[(（]\s*([{_DIGITS}]+|[{_KANA_SEQ}{_KANA_SEQ_HALF}]|[a-zａ-ｚ])\s*[)）]"
        + _SEP
        + "*"
    ),
    # 第1 第１ (with optional 段階/工程/ステップ)
    re.compile(rf"^第([{_DIGITS}]+)(?:段階|工程|ステップ)?(?:{_SEP}+|(?=\S))"),
    # 1-① 1-1 １－１ 2-3-1 (PIA style)
    re.compile(
        rf"^([{_DIGITS}]+(?:[-－‐ー][{_DIGITS}"
        + "".join(_CIRCLED)
        + r"]+)+)"
        + _SEP
        + "*"
    ),
    # 1. １． 1) 1、 1: -- not a decimal such as 1.5
    re.compile(rf"^([{_DIGITS}]+)(?:[.．、:：)）](?![{_DIGITS}])|\s+)" + _SEP + "*"),
    # ア． イ、 ア) ｱ. or ア followed by a space
    re.compile(
        rf"^([{_KANA_SEQ}{_KANA_SEQ_HALF}])(?:[.．、)）]|[ \u3000])" + _SEP + "*"
    ),
    # Step 3: / step 3.
    re.compile(rf"^(?i:step)\s*([{_DIGITS}]+)" + _SEP + "*"),
)


def _fold_number(raw: str) -> str:
    out = "".join(_CIRCLED.get(ch, ch) for ch in raw)
    out = unicodedata.normalize("NFKC", out)
    return re.sub(r"[-‐ー－]", "-", out)


def parse_number(label: str) -> tuple[str | None, str]:
    """Split a leading step number from a label, before any NFKC.

    Returns the number (folded: ① → ``"1"``, 1-① → ``"1-1"``, (ｱ) → ``"ア"``)
    and the rest of the label. Several numbers in a row (``(1)①``) are joined
    with ``-``.

    Examples
    --------
    >>> parse_number("1-① 受付")
    ('1-1', '受付')
    >>> parse_number("（ｱ）審査")
    ('ア', '審査')
    >>> parse_number("アンケート送付")
    (None, 'アンケート送付')
    """
    rest = label.strip()
    parts: list[str] = []
    changed = True
    while changed and rest:
        changed = False
        for pattern in _NUMBER_PATTERNS:
            m = pattern.match(rest)
            if m and m.end() < len(rest):
                parts.append(_fold_number(m.group(1)))
                rest = rest[m.end() :].lstrip(" \t\u3000")
                changed = True
                break
    return ("-".join(parts) if parts else None), rest


# -- surface clean-up -------------------------------------------------------

_PAREN = re.compile(r"\(([^()]*)\)")
_BRACKETS = re.compile(r"[「」『』【】〔〕［］\[\]〈〉《》]")
_SPACE = re.compile(r"\s+")
_FILLERS = (
    "を行うこと",
    "を行います",
    "を行う",
    "を行なう",
    "を実施する",
    "を実施",
    "の実施",
    "をします",
    "をする",
    "します",
    "する",
    "処理",
    "作業",
    "等",
    "など",
)
_JA_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
_LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z0-9'’-]*")


def _strip_fillers(text: str) -> str:
    changed = True
    while changed:
        changed = False
        for suffix in _FILLERS:
            # a filler alone stays: it is the whole label
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)].rstrip(" ・、")
                changed = True
                break
    return text


# -- Japanese tokens --------------------------------------------------------

_tokenizer: Any = None
_lock = threading.Lock()
_DROP_POS = {"助詞", "助動詞", "補助記号", "空白", "記号"}
_DROP_WORDS = {"為る", "する", "行う", "行なう", "等", "など", "こと", "事", "もの"}


def _get_tokenizer() -> Any:
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                try:
                    from sudachipy import dictionary
                except ImportError as exc:  # pragma: no cover - declared dependency
                    raise MissingDependencyError(
                        "Japanese labels need sudachipy and sudachidict-small"
                    ) from exc
                _tokenizer = dictionary.Dictionary(dict="small").tokenizer()
    return _tokenizer


@lru_cache(maxsize=8192)
def _normal_word(word: str) -> str:
    """Sudachi's normalized form, repeated until it is stable (max 3)."""
    from sudachipy import tokenizer as sudachi_tokenizer

    mode = sudachi_tokenizer.Tokenizer.SplitMode.C
    current = word
    for _ in range(3):
        morphemes = _get_tokenizer().tokenize(current, mode)
        if len(morphemes) != 1:
            return current
        nxt = morphemes[0].normalized_form()
        if nxt == current:
            return current
        current = nxt
    return current


@lru_cache(maxsize=16384)
def tokens_ja(text: str) -> tuple[str, ...]:
    """Content words of a Japanese text in Sudachi normalised form.

    Particles, auxiliary verbs, symbols and the light verbs する/行う are
    dropped.

    Examples
    --------
    >>> tokens_ja("受付けを行う")
    ('受け付け',)
    >>> tokens_ja("繰越し") == tokens_ja("繰り越し")
    True
    """
    from sudachipy import tokenizer as sudachi_tokenizer

    mode = sudachi_tokenizer.Tokenizer.SplitMode.C
    out: list[str] = []
    for m in _get_tokenizer().tokenize(text, mode):
        pos = m.part_of_speech()
        if pos[0] in _DROP_POS:
            continue
        norm = _normal_word(m.surface())
        if norm in _DROP_WORDS or m.dictionary_form() in _DROP_WORDS:
            continue
        out.append(norm)
    return tuple(out)


# -- Latin tokens: Porter (1980) --------------------------------------------

_STOP = frozenset((
    "a", "an", "the", "of", "to", "for", "and", "or", "in", "on", "at", "by",
    "with", "from", "into", "via", "be", "is", "are", "was", "if", "then",
    "else", "as", "its", "it", "this", "that", "these", "those", "their",
))  # fmt: skip
_VOWELS = frozenset("aeiou")


def _cons(w: str, i: int) -> bool:
    ch = w[i]
    if ch in _VOWELS:
        return False
    if ch == "y":
        return i == 0 or not _cons(w, i - 1)
    return True


def _m(stem: str) -> int:
    """Porter's measure: the number of VC sequences in ``stem``."""
    n, i, length = 0, 0, len(stem)
    while i < length and _cons(stem, i):
        i += 1
    while i < length:
        while i < length and not _cons(stem, i):
            i += 1
        if i >= length:
            break
        while i < length and _cons(stem, i):
            i += 1
        n += 1
    return n


def _has_vowel(stem: str) -> bool:
    return any(not _cons(stem, i) for i in range(len(stem)))


def _double_c(w: str) -> bool:
    return len(w) >= 2 and w[-1] == w[-2] and _cons(w, len(w) - 1)


def _cvc(w: str) -> bool:
    if len(w) < 3:
        return False
    return (
        _cons(w, len(w) - 3)
        and not _cons(w, len(w) - 2)
        and _cons(w, len(w) - 1)
        and w[-1] not in "wxy"
    )


def _replace(w: str, rules: tuple[tuple[str, str], ...], min_m: int) -> str:
    for suffix, repl in rules:
        if w.endswith(suffix):
            stem = w[: -len(suffix)]
            return stem + repl if _m(stem) > min_m else w
    return w


_STEP2 = (
    ("ational", "ate"), ("tional", "tion"), ("enci", "ence"), ("anci", "ance"),
    ("izer", "ize"), ("abli", "able"), ("alli", "al"), ("entli", "ent"),
    ("eli", "e"), ("ousli", "ous"), ("ization", "ize"), ("ation", "ate"),
    ("ator", "ate"), ("alism", "al"), ("iveness", "ive"), ("fulness", "ful"),
    ("ousness", "ous"), ("aliti", "al"), ("iviti", "ive"), ("biliti", "ble"),
)  # fmt: skip
_STEP3 = (
    ("icate", "ic"), ("ative", ""), ("alize", "al"), ("iciti", "ic"),
    ("ical", "ic"), ("ful", ""), ("ness", ""),
)  # fmt: skip
_STEP4 = (
    "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment",
    "ent", "ion", "ou", "ism", "ate", "iti", "ous", "ive", "ize",
)  # fmt: skip


@lru_cache(maxsize=16384)
def stem(word: str) -> str:
    """Stem an English word with the Porter (1980) algorithm.

    Examples
    --------
    >>> [stem(w) for w in ("checking", "checked", "checks", "relational")]
    ['check', 'check', 'check', 'relat']
    >>> stem("payment"), stem("invoices"), stem("approval")
    ('payment', 'invoic', 'approv')
    """
    w = word.lower()
    if len(w) <= 2:
        return w
    # step 1a
    if w.endswith("sses") or w.endswith("ies"):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith("ss"):
        w = w[:-1]
    # step 1b
    extra = False
    if w.endswith("eed"):
        if _m(w[:-3]) > 0:
            w = w[:-1]
    elif w.endswith("ed") and _has_vowel(w[:-2]):
        w, extra = w[:-2], True
    elif w.endswith("ing") and _has_vowel(w[:-3]):
        w, extra = w[:-3], True
    if extra:
        if w.endswith(("at", "bl", "iz")):
            w += "e"
        elif _double_c(w) and w[-1] not in "lsz":
            w = w[:-1]
        elif _m(w) == 1 and _cvc(w):
            w += "e"
    # step 1c
    if w.endswith("y") and _has_vowel(w[:-1]):
        w = w[:-1] + "i"
    # steps 2 and 3
    w = _replace(w, _STEP2, 0)
    w = _replace(w, _STEP3, 0)
    # step 4
    for suffix in sorted(_STEP4, key=len, reverse=True):
        if w.endswith(suffix):
            stem_ = w[: -len(suffix)]
            if _m(stem_) > 1 and (suffix != "ion" or stem_.endswith(("s", "t"))):
                w = stem_
            break
    # step 5a, 5b
    if w.endswith("e"):
        stem_ = w[:-1]
        if _m(stem_) > 1 or (_m(stem_) == 1 and not _cvc(stem_)):
            w = stem_
    if _m(w) > 1 and _double_c(w) and w.endswith("l"):
        w = w[:-1]
    return w


def _tokens_latin(text: str) -> list[str]:
    words = [m.group(0).strip("'’-").lower() for m in _LATIN_RUN.finditer(text)]
    return [stem(w) for w in words if w and w not in _STOP]


# -- the whole pipeline -----------------------------------------------------


@lru_cache(maxsize=16384)
def _tokens(text: str, language: str) -> list[str]:
    if language != "ja":
        return _tokens_latin(text)
    # Latin runs inside Japanese labels (CS, J-LIS, e-Tax) stay as words
    tokens: list[str] = []
    pos = 0
    for m in _LATIN_RUN.finditer(text):
        tokens.extend(tokens_ja(text[pos : m.start()]))
        tokens.append(m.group(0).lower())
        pos = m.end()
    tokens.extend(tokens_ja(text[pos:]))
    return tokens


@lru_cache(maxsize=16384)
def _normalise_cached(label: str) -> Label:
    number, rest = parse_number(label)
    text = unicodedata.normalize("NFKC", rest)
    text = _SPACE.sub(" ", text).strip()
    text = _BRACKETS.sub("", text).strip()
    # a parenthesised remark qualifies the step: kept apart as the aside
    asides = [m.group(1).strip() for m in _PAREN.finditer(text)]
    core = _SPACE.sub(" ", _PAREN.sub(" ", text)).strip()
    if not core:
        core, asides = " ".join(asides), []
    core = _strip_fillers(core)
    text = core + "".join(f" ({a})" for a in asides if a)
    language: Literal["ja", "en"] = "ja" if _JA_CHAR.search(text) else "en"
    if language == "en":
        text, core = text.lower(), core.lower()
    tokens = _tokens(core, language)
    aside = [t for a in asides for t in _tokens(a, language)]
    if language == "ja":
        tokens, aside = _join_glossary_words(tokens), _join_glossary_words(aside)
    return Label(label, number, text, tuple(tokens), language, core, tuple(aside))


def _join_glossary_words(tokens: list[str]) -> list[str]:
    """Join two adjacent tokens that together are a word of the glossary.

    The small Sudachi dictionary splits some words of administrative
    writing (後閲 → 後 + 閲), so the glossary never sees them; two tokens
    are joined when neither is a glossary word on its own and together
    they are one (of the bundled glossary).
    """
    from harpflow.glossary import default_glossary

    if len(tokens) < 2:
        return tokens
    gloss = default_glossary()
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if i + 1 < len(tokens):
            a, b = tokens[i], tokens[i + 1]
            if (
                not gloss.concepts(a)
                and not gloss.concepts(b)
                and gloss.concepts(a + b)
            ):
                out.append(a + b)
                i += 2
                continue
        out.append(tokens[i])
        i += 1
    return out


def normalise(label: str, *, glossary: Glossary | None = None) -> Label:
    """Normalise a step label for comparison.

    Parameters
    ----------
    label : str
        The label as written.
    glossary : Glossary, optional
        When given, each token is replaced by its coarse cluster head
        (:meth:`~harpflow.glossary.Glossary.canonical`), so 受理 and 受付
        give the same token.

    Returns
    -------
    Label

    Examples
    --------
    >>> normalise("（１）「住民異動届」の受付").text
    '住民異動届の受付'
    >>> normalise("ｼｽﾃﾑ入力作業").tokens
    ('システム', '入力')
    >>> from harpflow.glossary import default_glossary
    >>> normalise("届出の受理", glossary=default_glossary()).tokens
    ('届出', '受付')
    """
    result = _normalise_cached(label if isinstance(label, str) else str(label))
    if glossary is None:
        return result
    return replace(
        result,
        tokens=tuple(glossary.canonical(t) for t in result.tokens),
        aside=tuple(glossary.canonical(t) for t in result.aside),
    )
