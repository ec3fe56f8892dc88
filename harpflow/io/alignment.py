"""Correspondences between two flows: Alignment API RDF and CSV.

Gold standards and matcher output are exchanged in two formats:

* the **Alignment API** RDF/XML format [1]_, used by the process model
  matching contests [2]_: one ``Cell`` per pair of nodes, with
  ``entity1``/``entity2`` URIs ending in ``#<node id>``, a ``relation``
  (``=``) and a ``measure`` (the confidence);
* the **correspondence CSV** of harpflow, columns
  ``standard,town,relation,kind,code,note``: a row with relation ``=``
  pairs a node of the first flow (``standard``) with one of the second
  (``town``), several rows making a one-to-many pair; a row with a change
  ``kind`` records an expected change (either id may be empty) and its
  deviation ``code``. Leading ``# key: value`` lines are metadata (e.g.
  ``# a: path`` and ``# b: path`` naming the two flows). harpflow writes an
  extra ``score`` column with matcher output.

Both readers return a list of :class:`GoldRow`; :func:`to_matching` turns
the ``=`` rows into a :class:`~harpflow.match.Matching` of two flows. Both
writers take a :class:`~harpflow.match.Matching` or a list of rows.

Examples
--------
>>> from harpflow.io.alignment import GoldRow, read_alignment, write_alignment
>>> rows = [GoldRow("t1", "x1"), GoldRow("t2", "x2", score=0.8)]
>>> data = write_alignment(rows)
>>> [(r.standard, r.town, r.score) for r in read_alignment(data)]
[('t1', 'x1', 1.0), ('t2', 'x2', 0.8)]

Notes
-----
Only ``=`` cells are read from RDF; cells with another relation (``<``,
``>``, ``%``) raise a :class:`~harpflow.errors.ParseError`, since harpflow
has no use for subsumption. Entity URIs keep the node id after the last
``#`` (or the last ``/`` when there is no ``#``).

References
----------
.. [1] J. David, J. Euzenat, F. Scharffe, C. Trojahn dos Santos, "The
   Alignment API 4.0", *Semantic Web* 2(1), pp. 3-10, 2011.
.. [2] G. Antunes et al., "The process model matching contest 2015",
   EMISA 2015, LNI P-248, pp. 127-155.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import IO, TYPE_CHECKING
from urllib.parse import quote, unquote

from lxml import etree

from harpflow.diff_change import CHANGE_KINDS
from harpflow.errors import ParseError
from harpflow.io.source import DEFAULT_MAX_BYTES, Source, emit, open_input
from harpflow.io.xml import describe, local_name, parse_xml

if TYPE_CHECKING:
    from harpflow.match import Matching
    from harpflow.model import Flow

__all__ = [
    "COLUMNS",
    "GoldRow",
    "csv_metadata",
    "read_alignment",
    "read_correspondences_csv",
    "to_matching",
    "write_alignment",
    "write_correspondences_csv",
]

#: Columns of the correspondence CSV.
COLUMNS = ("standard", "town", "relation", "kind", "code", "note")
_ALIGN = "http://knowledgeweb.semanticweb.org/heterogeneity/alignment#"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_XSD_FLOAT = "http://www.w3.org/2001/XMLSchema#float"
_KINDS = frozenset(CHANGE_KINDS)

Dest = str | os.PathLike[str] | IO[bytes] | None


@dataclass(frozen=True)
class GoldRow:
    """One row of a correspondence file.

    ``standard`` and ``town`` are node ids of the first and second flow
    (empty when absent); ``relation`` is ``"="`` for a pair and empty on a
    change row; ``kind`` and ``code`` describe an expected change; ``score``
    is the confidence when one was given.
    """

    standard: str
    town: str
    relation: str = "="
    kind: str = ""
    code: str = ""
    note: str = ""
    score: float | None = None


def _rows_of(data: Matching | Sequence[GoldRow]) -> list[GoldRow]:
    from harpflow.match import Matching

    if not isinstance(data, Matching):
        return list(data)
    rows = []
    for c in data.pairs:
        for x, y in c.member_pairs():
            note = f"{data.a.nodes[x].label} = {data.b.nodes[y].label}"
            rows.append(GoldRow(x, y, "=", "", "", " ".join(note.split()), c.score))
    return rows


# -- Alignment API RDF ------------------------------------------------------


def write_alignment(
    data: Matching | Sequence[GoldRow],
    dest: Dest = None,
    *,
    onto1: str = "http://harpflow.example/a",
    onto2: str = "http://harpflow.example/b",
) -> bytes | None:
    """Write ``=`` pairs in the Alignment API RDF/XML format.

    Parameters
    ----------
    data : Matching or list of GoldRow
        The pairs; change rows (without relation) are skipped.
    dest : path, binary file or None
        Where to write; None returns the bytes.
    onto1, onto2 : str
        URIs of the two flows; entities are ``<onto>#<node id>``.
    """
    nsmap = {None: _ALIGN, "rdf": _RDF}
    root = etree.Element(f"{{{_RDF}}}RDF", nsmap=nsmap)  # type: ignore[arg-type]
    alignment = etree.SubElement(root, f"{{{_ALIGN}}}Alignment")
    for tag, text in (("xml", "yes"), ("level", "0"), ("type", "**")):
        etree.SubElement(alignment, f"{{{_ALIGN}}}{tag}").text = text
    for tag, uri in (("onto1", onto1), ("onto2", onto2)):
        holder = etree.SubElement(alignment, f"{{{_ALIGN}}}{tag}")
        onto = etree.SubElement(holder, f"{{{_ALIGN}}}Ontology")
        onto.set(f"{{{_RDF}}}about", uri)
        etree.SubElement(onto, f"{{{_ALIGN}}}location").text = uri
    for row in _rows_of(data):
        if row.relation != "=" or not row.standard or not row.town:
            continue
        cell = etree.SubElement(
            etree.SubElement(alignment, f"{{{_ALIGN}}}map"), f"{{{_ALIGN}}}Cell"
        )
        for tag, uri, node in (
            ("entity1", onto1, row.standard),
            ("entity2", onto2, row.town),
        ):
            entity = etree.SubElement(cell, f"{{{_ALIGN}}}{tag}")
            entity.set(f"{{{_RDF}}}resource", f"{uri}#{quote(node, safe='')}")
        etree.SubElement(cell, f"{{{_ALIGN}}}relation").text = "="
        measure = etree.SubElement(cell, f"{{{_ALIGN}}}measure")
        measure.set(f"{{{_RDF}}}datatype", _XSD_FLOAT)
        measure.text = repr(float(1.0 if row.score is None else row.score))
    out = etree.tostring(
        root, xml_declaration=True, encoding="utf-8", pretty_print=True
    )
    return emit(out, dest)


def _entity_id(uri: str) -> str:
    tail = uri.rsplit("#", 1)[1] if "#" in uri else uri.rstrip("/").rsplit("/", 1)[-1]
    return unquote(tail)


def _cell_error(name: str, cell: etree._Element, what: str) -> ParseError:
    line = cell.sourceline
    return ParseError(
        what,
        source=name,
        line=int(line) if isinstance(line, int) else None,
        element=describe(cell),
    )


def read_alignment(
    source: Source, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[GoldRow]:
    """Read the ``=`` cells of an Alignment API RDF/XML file.

    Raises
    ------
    ParseError
        Malformed XML, a cell without both entities, another relation or a
        measure that is not a number; the error names file, line and cell.
    """
    inp = open_input(source, max_bytes=max_bytes)
    tree = parse_xml(inp, max_bytes=max_bytes)
    rows: list[GoldRow] = []
    for cell in tree.iter(f"{{{_ALIGN}}}Cell"):
        found: dict[str, str] = {}
        for child in cell:
            name = local_name(child.tag)
            if name in ("entity1", "entity2"):
                uri = child.get(f"{{{_RDF}}}resource") or child.get(f"{{{_RDF}}}about")
                if uri:
                    found[name] = uri
            elif name in ("relation", "measure"):
                found[name] = (child.text or "").strip()

        if "entity1" not in found or "entity2" not in found:
            raise _cell_error(inp.name, cell, "a Cell needs entity1 and entity2")
        relation = found.get("relation", "=") or "="
        if relation != "=":
            raise _cell_error(
                inp.name, cell, f"unsupported relation {relation!r} (only '=')"
            )
        try:
            score = float(found.get("measure") or 1.0)
        except ValueError:
            raise _cell_error(
                inp.name, cell, f"measure {found['measure']!r} is not a number"
            ) from None
        rows.append(
            GoldRow(_entity_id(found["entity1"]), _entity_id(found["entity2"]), "=",
                    score=score)
        )  # fmt: skip
    return rows


# -- CSV ---------------------------------------------------------------------


def _decode(data: bytes, name: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ParseError("not UTF-8, UTF-16 or cp932 text", source=name)


def csv_metadata(
    source: Source, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> dict[str, str]:
    """The ``# key: value`` lines at the head of a correspondence CSV.

    Examples
    --------
    >>> csv_metadata("# a: x.bpmn\\n# b: y.bpmn\\nstandard,town\\n")
    {'a': 'x.bpmn', 'b': 'y.bpmn'}
    """
    inp = open_input(source, max_bytes=max_bytes)
    meta: dict[str, str] = {}
    for line in _decode(inp.data, inp.name).splitlines():
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        key, sep, value = line[1:].partition(":")
        if sep:
            meta.setdefault(key.strip(), value.strip())
    return meta


def read_correspondences_csv(
    source: Source, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[GoldRow]:
    """Read a correspondence CSV (UTF-8, UTF-8 with BOM, UTF-16, cp932).

    Raises
    ------
    ParseError
        A missing ``standard`` or ``town`` column, an unknown relation or
        change kind, a pair without both ids, a row with neither, or a
        score that is not a number; the error names file, line and row.

    Examples
    --------
    >>> text = "standard,town,relation,kind,code,note\\n2,3,=,,,\\n4,,,missing,V01,\\n"
    >>> [(r.standard, r.town, r.kind) for r in read_correspondences_csv(text)]
    [('2', '3', ''), ('4', '', 'missing')]
    """
    inp = open_input(source, max_bytes=max_bytes)
    text = _decode(inp.data, inp.name)
    lines = text.splitlines()
    skip = 0
    while skip < len(lines) and (
        lines[skip].startswith("#") or not lines[skip].strip()
    ):
        skip += 1
    reader = csv.DictReader(io.StringIO("\n".join(lines[skip:])))
    header = [h.strip() for h in reader.fieldnames or ()]
    reader.fieldnames = header
    for column in ("standard", "town"):
        if column not in header:
            raise ParseError(
                f"no {column!r} column (columns are {', '.join(COLUMNS)})",
                source=inp.name,
                line=skip + 1,
                element="header",
            )
    rows: list[GoldRow] = []
    for record in reader:
        line = skip + reader.line_num
        values = {k: (v or "").strip() for k, v in record.items() if k}
        if not any(values.values()):
            continue

        def fail(what: str, line: int = line) -> ParseError:
            return ParseError(what, source=inp.name, line=line, element=f"row {line}")

        row = GoldRow(
            values.get("standard", ""),
            values.get("town", ""),
            values.get("relation", ""),
            values.get("kind", ""),
            values.get("code", ""),
            values.get("note", ""),
        )
        if row.relation not in ("", "="):
            raise fail(f"unknown relation {row.relation!r} (use '=' or leave empty)")
        if row.kind and row.kind not in _KINDS:
            raise fail(f"unknown change kind {row.kind!r}")
        if row.relation == "=" and not (row.standard and row.town):
            raise fail("a '=' row needs both a standard and a town id")
        if not row.relation and not row.kind:
            if not (row.standard and row.town):
                raise fail("a row needs relation '=' or a change kind")
            row = GoldRow(row.standard, row.town, "=", "", row.code, row.note)
        if values.get("score"):
            try:
                score = float(values["score"])
            except ValueError:
                raise fail(f"score {values['score']!r} is not a number") from None
            row = replace(row, score=score)
        rows.append(row)
    return rows


def write_correspondences_csv(
    data: Matching | Sequence[GoldRow],
    dest: Dest = None,
    *,
    meta: dict[str, str] | None = None,
) -> bytes | None:
    """Write a correspondence CSV (UTF-8), one row per member pair.

    A ``score`` column follows the six standard ones when any row has a
    score. ``meta`` is written as leading ``# key: value`` lines.

    Examples
    --------
    >>> from harpflow.io.alignment import GoldRow, write_correspondences_csv
    >>> print(write_correspondences_csv([GoldRow("1", "a", note="受付")]).decode())
    standard,town,relation,kind,code,note
    1,a,=,,,受付
    <BLANKLINE>
    """
    rows = _rows_of(data)
    out = io.StringIO()
    for key, value in (meta or {}).items():
        out.write(f"# {key}: {value}\n")
    scored = any(r.score is not None for r in rows)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*COLUMNS, "score"] if scored else COLUMNS)
    for r in rows:
        values = [r.standard, r.town, r.relation, r.kind, r.code, r.note]
        if scored:
            values.append("" if r.score is None else f"{r.score:.4f}")
        writer.writerow(values)
    return emit(out.getvalue().encode("utf-8"), dest)


def to_matching(rows: Sequence[GoldRow], a: Flow, b: Flow) -> Matching:
    """A :class:`~harpflow.match.Matching` of the ``=`` rows.

    Pairs that share a node form one correspondence (connected components
    of the pairs), so a one-to-many pair written as several rows comes back
    as one. Its score is the mean of the rows' scores (1.0 when none).

    Raises
    ------
    ParseError
        When a row names a node that is not in its flow.
    """
    from harpflow.match import Correspondence, Matching

    pairs = [(r.standard, r.town, r.score) for r in rows if r.relation == "="]
    for x, y, _ in pairs:
        for node, flow, side in ((x, a, "standard"), (y, b, "town")):
            if node not in flow:
                raise ParseError(
                    f"{side} id {node!r} is not a node of {flow.name or side}"
                )
    parent: dict[tuple[int, str], tuple[int, str]] = {}

    def find(k: tuple[int, str]) -> tuple[int, str]:
        while parent.setdefault(k, k) != k:
            k = parent[k]
        return k

    for x, y, _ in pairs:
        parent[find((0, x))] = find((1, y))
    groups: dict[tuple[int, str], list[tuple[str, str, float | None]]] = {}
    for pair in pairs:
        groups.setdefault(find((0, pair[0])), []).append(pair)
    result = []
    for members in groups.values():
        scores = [s if s is not None else 1.0 for _, _, s in members]
        result.append(
            Correspondence(
                tuple(sorted({x for x, _, _ in members})),
                tuple(sorted({y for _, y, _ in members})),
                round(sum(scores) / len(scores), 4),
            )
        )
    return Matching(a, b, result)
