"""How a diff compares wording, lanes and task types.

:func:`same_wording` tells whether two labels say the same once
orthography is set aside; :func:`lanes_differ` whether two lanes are
different performers (a section named after itself does the work of the
counter or the back office where the flow has no such lane; two parties
outside the municipality are one party worded two ways unless one is a
contractor or a shared body); :func:`type_class` groups BPMN task types
by who or what performs them. :mod:`harpflow.diff` re-exports the three.

Examples
--------
>>> same_wording("申込みの受付", "申し込みの受付")
True
>>> type_class("serviceTask")
'system'
"""

from __future__ import annotations

import unicodedata

from harpflow.flowcache import memo
from harpflow.glossary import Glossary, default_glossary
from harpflow.model import Flow
from harpflow.text import Label, normalise

__all__ = [
    "has_counter",
    "lanes_differ",
    "same_wording",
    "type_class",
]


_TYPE_CLASS = {
    "task": None,
    "userTask": "screen",
    "manualTask": "manual",
    "serviceTask": "system",
    "scriptTask": "system",
    "businessRuleTask": "system",
    "sendTask": "send",
    "receiveTask": "receive",
    "subProcess": "composite",
    "transaction": "composite",
    "adHocSubProcess": "composite",
    "callActivity": "call",
}


def same_wording(a: str, b: str) -> bool:
    """True when two labels are the same up to numbering and orthography.

    Equal normalised text, or equal normalised tokens (okurigana and width
    variants collapse there) and, when both labels have a remark in
    brackets, equal words in the remarks.

    Examples
    --------
    >>> same_wording("① 申込みの受付", "申し込みの受付け"), same_wording("受付", "受理")
    (True, False)
    >>> same_wording("点検（入力内容の照合）", "点検（登録内容の照合）")
    False
    >>> same_wording("点検（入力内容の照合）", "点検")
    True
    """
    la, lb = normalise(a), normalise(b)
    if _same_words(la, lb):
        return True
    fa, fb = _fold_variants(a), _fold_variants(b)
    if (fa, fb) == (a, b):
        return False
    return _same_words(normalise(fa), normalise(fb))


def _same_words(la: Label, lb: Label) -> bool:
    # Remarks in brackets qualify the step: when both labels have one, its
    # words count too (入力内容の照合 is not 登録内容の照合); a remark one
    # label leaves out is no different wording.
    if la.text == lb.text:
        return True
    if not la.tokens or la.tokens != lb.tokens:
        return False
    return not (la.aside and lb.aside) or la.aside == lb.aside


def _fold_variants(label: str) -> str:
    """Write every orthographic variant the glossary knows in one form."""
    gloss = default_glossary()
    for word in _variant_words(gloss):
        if word in label:
            label = label.replace(word, gloss.variants(word)[0])
    return label


# Derived from a glossary once, by its id; the glossary is kept with what was
# derived from it, so that its id cannot pass to another glossary.
_VARIANT_WORDS: dict[int, tuple[Glossary, tuple[str, ...]]] = {}


def _variant_words(gloss: Glossary) -> tuple[str, ...]:
    hit = _VARIANT_WORDS.get(id(gloss))
    if hit is None or hit[0] is not gloss:
        found = {w for group in gloss.orthography for w in group}
        hit = _VARIANT_WORDS[id(gloss)] = (
            gloss,
            tuple(sorted(found, key=lambda w: (-len(w), w))),
        )
    return hit[1]


_SECTION_SUFFIXES = ("係", "課", "担当", "班", "室", "グループ", "チーム")

_SECTION_ROLES = ("窓口", "担当")

#: Canonical lanes of the municipality's own staff and systems; every other
#: lane is a party outside it (住民, 医療機関, 金融機関, 法務局 ...).
_INSIDE = ("窓口", "支所", "担当", "審査", "決裁", "システム", "関係課", "会計")

#: The standard's lane for "another section of the same municipality".
_OTHER_SECTION = "関係課"

#: Words that make an outside party a deviation of its own: a contractor or
#: a body shared with other municipalities.
_SHARED_OR_CONTRACTED = ("広域", "組合", "共同", "連合", "委託", "受託", "派遣")

_KNOWN_LANES: dict[int, tuple[Glossary, frozenset[str]]] = {}


def _known_lanes(glossary: Glossary) -> frozenset[str]:
    hit = _KNOWN_LANES.get(id(glossary))
    if hit is None or hit[0] is not glossary:
        found = {unicodedata.normalize("NFKC", head) for head in glossary.lanes}
        for group in glossary.lanes.values():
            found.update(unicodedata.normalize("NFKC", n) for n in group)
        hit = _KNOWN_LANES[id(glossary)] = (glossary, frozenset(found))
    return hit[1]


def _is_section(name: str, glossary: Glossary, counter: bool = True) -> bool:
    """A lane named after a section (住民係, 税務課), not after a role.

    A section's staff (住民担当, known to the glossary as 担当 by its
    ending) counts as the whole section when the flow has no counter lane.
    """
    if (
        not name.endswith(_SECTION_SUFFIXES)
        or name in _SECTION_SUFFIXES
        or name in _known_lanes(glossary)
    ):
        return False
    role = glossary.lane(name)
    return role == name or (not counter and role in _SECTION_ROLES)


def _is_outside(name: str, glossary: Glossary) -> bool:
    return glossary.lane(name) not in _INSIDE and not _is_section(name, glossary)


def lanes_differ(
    a: str | None, b: str | None, glossary: Glossary, *, counter: bool = True
) -> bool:
    """True when two lanes name different roles or bodies.

    Lanes are compared through the glossary's lane synonyms, and then:

    * a lane named after a section (住民係, 税務課) does the work of both
      the counter (窓口) and the back office (担当) of that section, as
      small towns do, so it differs from neither; so does a lane named
      after a section's staff (住民担当) in a flow without a counter lane
      (``counter=False``);
    * the standard's 関係課 stands for any other section, so it differs
      from no section and not from the accounts office (会計);
    * two parties outside the municipality (住民 and 納税者, 医療機関 and
      主治医, 金融機関 and 指定金融機関) are the same party worded two ways,
      unless exactly one of them is a contractor or a body shared with other
      municipalities (委託業者, 広域連合).

    Examples
    --------
    >>> g = default_glossary()
    >>> lanes_differ("担当", "担当係", g), lanes_differ("窓口", "住民係", g)
    (False, False)
    >>> lanes_differ("窓口", "住民担当", g, counter=False)
    False
    >>> lanes_differ("窓口", "住民担当", g), lanes_differ("関係課", "収納係", g)
    (True, False)
    >>> lanes_differ("医療機関", "主治医", g), lanes_differ("審査会", "広域連合", g)
    (False, True)
    >>> lanes_differ("窓口", "担当", g)
    True
    >>> lanes_differ("担当", "決裁", g), lanes_differ("担当", None, g)
    (True, False)
    """
    if not a or not b:
        return False
    a = unicodedata.normalize("NFKC", a).strip()
    b = unicodedata.normalize("NFKC", b).strip()
    ca, cb = glossary.lane(a), glossary.lane(b)
    if ca == cb:
        return False
    section_a = _is_section(a, glossary, counter)
    section_b = _is_section(b, glossary, counter)
    for role, section, other in ((ca, section_b, cb), (cb, section_a, ca)):
        if section and role in _SECTION_ROLES:
            return False
        if role == _OTHER_SECTION and (section or other == "会計"):
            return False
    if _is_outside(a, glossary) and _is_outside(b, glossary):
        marked_a = any(w in a for w in _SHARED_OR_CONTRACTED)
        marked_b = any(w in b for w in _SHARED_OR_CONTRACTED)
        return marked_a != marked_b
    return True


def type_class(node_type: str) -> str | None:
    """The kind of work a node type stands for; None for an unspecified task.

    Examples
    --------
    >>> type_class("serviceTask"), type_class("manualTask"), type_class("task")
    ('system', 'manual', None)
    """
    return _TYPE_CLASS.get(node_type, node_type)


def has_counter(flow: Flow, gloss: Glossary) -> bool:
    """True when some step of the flow is done by a counter (窓口) lane."""
    return memo(
        flow,
        "has_counter",
        lambda f: any(
            gloss.lane(n.lane or "") == "窓口" for n in f.nodes.values() if n.lane
        ),
    )
