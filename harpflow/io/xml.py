"""One hardened XML parser for every XML format harpflow reads.

Every XML reader (BPMN, diagrams.net, PNML, EPML, Visio parts) parses
through :func:`parse_xml`, which

- never touches the network and never loads a DTD;
- never resolves external entities, and refuses any document type
  declaration at all: none of the formats harpflow reads uses one, and a
  DOCTYPE is how external-entity and entity-expansion ("billion laughs")
  attacks are carried;
- refuses input larger than a size limit (``max_bytes``, default 50 MB)
  before parsing it;
- turns every syntax error into a :class:`~harpflow.errors.ParseError`
  naming the source and line;
- refuses bytes that contradict the declared encoding, and reads the
  Japanese encodings with their Windows extensions (see
  :func:`harpflow.io.encoding.normalise_xml_encoding`), so mojibake never
  passes silently.

Namespace URIs that contain a space
    Some exports (IBM Process Designer) declare namespaces such as
    ``xmlns:Process="http://A.3.0/Initial Import/Process"``; libxml2 rejects
    them as invalid URIs. When, and only when, parsing fails on such a
    declaration, the spaces inside ``xmlns`` values are percent-encoded
    (``%20``) and the file is parsed again, with a
    :class:`~harpflow.errors.HarpflowWarning`. Elements in those namespaces
    then carry the encoded URI; no BPMN element is affected.

Examples
--------
>>> root = parse_xml(b"<a><b/></a>").getroot()
>>> root.tag
'a'
>>> parse_xml(b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')
Traceback (most recent call last):
...
harpflow.errors.ParseError: <bytes>:1: DOCTYPE: document type declarations ...
"""

from __future__ import annotations

import re
import warnings
from typing import Any

from lxml import etree

from harpflow.errors import HarpflowWarning, ParseError
from harpflow.io.encoding import normalise_xml_encoding
from harpflow.io.source import DEFAULT_MAX_BYTES, Input, Source, open_input

__all__ = ["describe", "local_name", "namespace", "parse_xml"]

_NS_WITH_SPACE = re.compile(rb'(xmlns(?::[\w.-]+)?\s*=\s*)(["\'])([^"\']*\s[^"\']*)\2')


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


def parse_xml(
    source: Source | Input,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    name: str | None = None,
) -> etree._ElementTree:
    """Parse XML safely and return the lxml tree.

    Parameters
    ----------
    source : path, file, bytes, str or Input
        The XML document.
    max_bytes : int
        Largest accepted input in bytes.
    name : str, optional
        Name used in error messages instead of the path.

    Raises
    ------
    ParseError
        Malformed XML, a DOCTYPE declaration, or an empty input.
    LimitError
        Input over ``max_bytes``.
    """
    inp = (
        source
        if isinstance(source, Input)
        else open_input(source, max_bytes=max_bytes, name=name)
    )
    if len(inp.data) > max_bytes:
        from harpflow.errors import LimitError

        raise LimitError(
            f"file is larger than the limit of {max_bytes:,} bytes", source=inp.name
        )
    if not inp.data.strip():
        raise ParseError("empty file", source=inp.name)
    data = normalise_xml_encoding(inp.data, inp.name)
    if data is not inp.data:
        inp = Input(data, inp.name, inp.path)
    try:
        tree = etree.ElementTree(etree.fromstring(inp.data, _parser()))
    except etree.XMLSyntaxError as exc:
        if _NS_WITH_SPACE.search(inp.data) and "URI" in str(exc):
            tree = _parse_with_encoded_namespaces(inp)
        else:
            raise _syntax_error(exc, inp.name) from None
    except ValueError as exc:  # e.g. a str with an encoding declaration
        raise ParseError(str(exc), source=inp.name) from None
    _refuse_doctype(tree, inp.name)
    return tree


def _parse_with_encoded_namespaces(inp: Input) -> etree._ElementTree:
    def encode(match: re.Match[bytes]) -> bytes:
        uri = re.sub(rb"\s", b"%20", match.group(3))
        return match.group(1) + match.group(2) + uri + match.group(2)

    data = _NS_WITH_SPACE.sub(encode, inp.data)
    try:
        tree = etree.ElementTree(etree.fromstring(data, _parser()))
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc, inp.name) from None
    warnings.warn(
        f"{inp.name}: namespace URIs containing spaces were read with the "
        "spaces percent-encoded",
        HarpflowWarning,
        stacklevel=3,
    )
    return tree


def _syntax_error(exc: etree.XMLSyntaxError, name: str) -> ParseError:
    msg = exc.msg or str(exc)
    # lxml appends "(file, line N)"; the ParseError says where already.
    msg = re.sub(r"\s*\([^()]*line \d+\)\s*$", "", msg)
    line = exc.lineno if exc.lineno and exc.lineno > 0 else None
    return ParseError(f"malformed XML: {msg}", source=name, line=line)


def _refuse_doctype(tree: etree._ElementTree, name: str) -> None:
    info: Any = tree.docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise ParseError(
            "document type declarations are refused (they carry external "
            "entities and entity expansion)",
            source=name,
            line=1,
            element="DOCTYPE",
        )
    entity: Any
    for entity in tree.iter(etree.Entity):
        raise ParseError(
            "entity references are refused",
            source=name,
            line=entity.sourceline,
            element=f"&{entity.name};",
        )


def local_name(tag: object) -> str:
    """The tag without its namespace: ``'{ns}task'`` -> ``'task'``."""
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def namespace(tag: object) -> str | None:
    """The namespace URI of a tag, or None."""
    return etree.QName(tag).namespace if isinstance(tag, str) else None


def describe(element: etree._Element) -> str:
    """A short description for messages: ``task id='t1'``."""
    name = local_name(element.tag) or str(element.tag)
    elem_id = element.get("id")
    return f"{name} id={elem_id!r}" if elem_id else name
