"""Synonym clusters for step labels, at a coarse and a fine level.

Towns word the same step differently: 受付, 受理 and 受領 all take something
in; 決裁, 承認 and 専決 all approve. The *coarse* level treats such words as
one concept and is what the matcher uses. The *fine* level keeps the
distinctions that matter when reporting (in 戸籍, 受付 is physical intake and
受理 the legal acceptance; they are different steps of one procedure).

The bundled glossary (``harpflow/data/glossary.yaml``) holds the municipal
vocabulary -- clusters of step verbs, lane synonyms, area aliases,
confusable words and orthographic variants -- and a small cluster set of
English process verbs (receive ≈ accept ≈ get, check ≈ verify ≈ review ...).
Users load their own YAML in the same layout and merge it.

A glossary YAML file has five optional keys::

    clusters:                      # coarse clusters with fine groups
      - canonical: 受付
        coarse: [受付, 受理, 受領]
        fine: [[受付, 受け取り]]     # 受理 and 受領 stay fine clusters of their own
        note: 受理 is the legal acceptance
    lanes: {窓口: [受付窓口, 総合窓口]}
    areas: {"01": [住基, 住民記録]}
    confusables: {決済: 決裁}
    variants: [[申込み, 申込, 申し込み]]

Lookups accept a word as written or in the normalised form that
:func:`harpflow.text.normalise` produces (Sudachi normalised form for
Japanese, Porter stem for English), so 受付け, 受け付け and 受付 find the
same cluster, as do ``checking`` and ``check``.

Examples
--------
>>> from harpflow.glossary import default_glossary
>>> g = default_glossary()
>>> g.canonical("受理"), g.canonical("受理", "fine")
('受付', '受理')
>>> g.canonical("verify")
'check'
>>> g.lane("受付窓口"), g.lane("課長"), g.area("住基"), g.confusable("決済")
('窓口', '決裁', '01', '決裁')
>>> g.variants("申込")
('申し込み', '申込', '申込み')
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from harpflow.errors import FormatError

__all__ = ["Cluster", "Glossary", "default_glossary", "word_key"]

Level = Literal["coarse", "fine"]
_LATIN = re.compile(r"^[A-Za-z][A-Za-z0-9' -]*$")


def word_key(word: str) -> str:
    """The lookup key of a word: its normalised form.

    Japanese words are joined Sudachi normalised forms; Latin words are
    lower-cased Porter stems.

    Examples
    --------
    >>> word_key("受付け") == word_key("受付")
    True
    >>> word_key("Checking")
    'check'
    """
    from harpflow.text import stem, tokens_ja

    text = unicodedata.normalize("NFKC", word).strip()
    if not text:
        return text
    if _LATIN.match(text):
        return " ".join(stem(w) for w in text.lower().split())
    joined = "".join(tokens_ja(text))
    return joined or text


@dataclass(frozen=True)
class Cluster:
    """One coarse synonym cluster and its fine groups."""

    canonical: str
    members: tuple[str, ...]
    fine: tuple[tuple[str, ...], ...] = ()
    note: str = ""


@dataclass
class Glossary:
    """Synonym clusters, lane synonyms, area aliases and confusables.

    Build one with :meth:`from_dict` or :meth:`load`; combine with
    :meth:`merge`. See the module docstring for the YAML layout.
    """

    clusters: tuple[Cluster, ...] = ()
    lanes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    areas: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    confusables: Mapping[str, str] = field(default_factory=dict)
    orthography: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        self._memo: dict[tuple[str, str], Any] = {}
        self._coarse: dict[str, list[int]] = {}
        self._fine: dict[str, str] = {}
        for index, cluster in enumerate(self.clusters):
            for word in (cluster.canonical, *cluster.members):
                for key in {word, word_key(word)}:
                    ids = self._coarse.setdefault(key, [])
                    if index not in ids:
                        ids.append(index)
            for group in cluster.fine:
                for word in group:
                    for key in {word, word_key(word)}:
                        self._fine.setdefault(key, group[0])
        self._lanes: dict[str, str] = {}
        for head, names in self.lanes.items():
            for name in (head, *names):
                self._lanes.setdefault(unicodedata.normalize("NFKC", name), head)
        self._lane_suffixes = sorted(self._lanes, key=lambda s: (-len(s), s))
        self._areas = {
            unicodedata.normalize("NFKC", a): code
            for code, aliases in sorted(self.areas.items())
            for a in aliases
        }
        self._variants: dict[str, tuple[str, ...]] = {}
        for group in self.orthography:
            for word in group:
                self._variants[word] = tuple(sorted(set(group)))

    # -- construction -----------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Glossary:
        """Build a glossary from the mapping a glossary YAML holds.

        Raises
        ------
        FormatError
            When the mapping does not have the glossary's layout.

        Examples
        --------
        >>> g = Glossary.from_dict({"clusters": [
        ...     {"canonical": "交付", "coarse": ["交付", "発行"]}]})
        >>> g.synonyms("発行")
        ('交付', '発行')
        """
        if not isinstance(data, Mapping):
            raise FormatError("a glossary is a mapping with 'clusters', 'lanes', ...")
        try:
            clusters = tuple(
                Cluster(
                    canonical=str(c["canonical"]),
                    members=tuple(str(w) for w in c.get("coarse", ())),
                    fine=tuple(tuple(str(w) for w in g) for g in (c.get("fine") or ())),
                    note=str(c.get("note", "") or ""),
                )
                for c in data.get("clusters") or ()
            )
            lanes = {
                str(k): tuple(str(n) for n in v or ())
                for k, v in (data.get("lanes") or {}).items()
            }
            areas = {
                str(k): tuple(str(n) for n in v or ())
                for k, v in (data.get("areas") or {}).items()
            }
            confusables = {
                str(k): str(v) for k, v in (data.get("confusables") or {}).items()
            }
            orthography = tuple(
                tuple(str(w) for w in group) for group in data.get("variants") or ()
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise FormatError(f"malformed glossary: {exc!r}") from None
        return cls(clusters, lanes, areas, confusables, orthography)

    @classmethod
    def load(cls, path: str | Path) -> Glossary:
        """Read a glossary from a YAML file.

        Raises
        ------
        FormatError
            When the file is not YAML or not in the glossary's layout.
        """
        try:
            with open(path, encoding="utf-8") as fh:
                data = yaml.safe_load(fh)
        except (OSError, yaml.YAMLError) as exc:
            raise FormatError(f"{path}: cannot read glossary: {exc}") from None
        try:
            return cls.from_dict(data or {})
        except FormatError as exc:
            raise FormatError(f"{path}: {exc}") from None

    def merge(self, other: Glossary) -> Glossary:
        """A new glossary with ``other``'s entries added to these.

        Clusters with the same canonical word are united; for lanes, areas
        and confusables ``other`` wins on conflicts.

        Examples
        --------
        >>> extra = Glossary.from_dict({"clusters": [
        ...     {"canonical": "受付", "coarse": ["受け入れ"]}]})
        >>> default_glossary().merge(extra).canonical("受け入れ")
        '受付'
        """
        clusters = {c.canonical: c for c in self.clusters}
        order = [c.canonical for c in self.clusters]
        for c in other.clusters:
            if c.canonical in clusters:
                old = clusters[c.canonical]
                members = tuple(dict.fromkeys(old.members + c.members))
                clusters[c.canonical] = Cluster(
                    c.canonical, members, old.fine + c.fine, old.note or c.note
                )
            else:
                clusters[c.canonical] = c
                order.append(c.canonical)
        lanes = dict(self.lanes)
        for head, names in other.lanes.items():
            lanes[head] = tuple(dict.fromkeys(lanes.get(head, ()) + tuple(names)))
        areas = dict(self.areas)
        for code, aliases in other.areas.items():
            areas[code] = tuple(dict.fromkeys(areas.get(code, ()) + tuple(aliases)))
        return Glossary(
            tuple(clusters[k] for k in order),
            lanes,
            areas,
            {**self.confusables, **other.confusables},
            self.orthography + other.orthography,
        )

    # -- lookups ----------------------------------------------------------

    def _clusters_of(self, word: str) -> list[int]:
        found = self._coarse.get(word)
        if found is None:
            found = self._coarse.get(word_key(word), [])
        return found

    def concepts(self, word: str) -> frozenset[str]:
        """Canonical words of every coarse cluster the word belongs to.

        Examples
        --------
        >>> sorted(default_glossary().concepts("決定"))
        ['決裁', '賦課']
        """
        key = ("concepts", word)
        found = self._memo.get(key)
        if found is None:
            found = frozenset(
                self.clusters[i].canonical for i in self._clusters_of(word)
            )
            self._memo[key] = found
        return found

    def canonical(self, word: str, level: Level = "coarse") -> str:
        """The head of the word's cluster, or the word itself when unknown.

        At the fine level, a member in no fine group is its own head.
        """
        if level == "fine":
            key = ("fine", word)
            if key not in self._memo:
                fine = self._fine.get(word) or self._fine.get(word_key(word))
                self._memo[key] = word if fine is None else fine
            return self._memo[key]
        ids = self._clusters_of(word)
        return self.clusters[ids[0]].canonical if ids else word

    def synonyms(self, word: str, level: Level = "coarse") -> tuple[str, ...]:
        """Every word of the word's cluster at this level, sorted, with the word."""
        out = {word}
        if level == "coarse":
            for i in self._clusters_of(word):
                out.update(self.clusters[i].members)
                out.add(self.clusters[i].canonical)
        else:
            head = self.canonical(word, "fine")
            for cluster in self.clusters:
                for group in cluster.fine:
                    if group[0] == head:
                        out.update(group)
        return tuple(sorted(out))

    def variants(self, word: str) -> tuple[str, ...]:
        """Orthographic variants of the word (okurigana, 公用文 forms), sorted.

        Known variants come from the glossary's ``variants`` list; any other
        word has itself as its only variant.
        """
        return self._variants.get(word, (word,))

    def lane(self, name: str) -> str:
        """The canonical lane for a lane name, or the name itself (NFKC).

        Exact names are looked up first, then the longest known name the
        lane name ends with (市民課窓口 → 窓口).
        """
        text = unicodedata.normalize("NFKC", name or "").strip()
        head = self._lanes.get(text)
        if head is not None:
            return head
        for known in self._lane_suffixes:
            if len(known) >= 2 and text.endswith(known):
                return self._lanes[known]
        return text

    def area(self, alias: str) -> str | None:
        """The area code (``"01"``-``"27"``) an alias names, or None."""
        return self._areas.get(unicodedata.normalize("NFKC", alias).strip())

    def confusable(self, word: str) -> str | None:
        """The intended word when ``word`` is a known confusable, else None."""
        return self.confusables.get(word)

    def head_words(self) -> Iterable[str]:
        """Every key under which a coarse cluster can be found, sorted."""
        return sorted(self._coarse)


@lru_cache(maxsize=1)
def default_glossary() -> Glossary:
    """The bundled Japanese municipal and English process-verb glossary."""
    text = resources.files("harpflow").joinpath("data/glossary.yaml").read_text("utf-8")
    return Glossary.from_dict(yaml.safe_load(text))
