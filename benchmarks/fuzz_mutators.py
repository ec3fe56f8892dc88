"""Mutations for fuzzing harpflow's readers: bytes, text lines, XML, zip.

Every mutator takes a :class:`random.Random` and the bytes of a seed input
and returns new bytes; :func:`mutate` picks mutators by reader kind, so
XML formats also get element and attribute surgery, text formats line
surgery and token insertion, and zip packages member-level mutation.
Randomness comes only from the given generator, so a run is reproducible
from its seed.

References
----------
.. [1] M. Zalewski, "american fuzzy lop: technical details" (2014):
   bit and byte flips, interesting values, block deletion, duplication and
   splicing of two inputs.
.. [2] C. Holler, K. Herzig, A. Zeller, "Fuzzing with code fragments",
   USENIX Security 2012: recombining fragments of valid inputs at the
   level of their grammar (here: XML elements and text lines).
"""

from __future__ import annotations

import base64
import io
import random
import urllib.parse
import warnings
import zipfile
import zlib
from collections.abc import Callable, Sequence

from lxml import etree

__all__ = ["INTERESTING", "KIND", "mutate"]

#: Values that break numbers, lengths and text handling.
INTERESTING: tuple[str, ...] = (
    "",
    "0",
    "-1",
    "1e308",
    "-1e308",
    "NaN",
    "inf",
    "99999999999999999999999999999999",
    "4294967296",
    "-2147483649",
    "0x7fffffff",
    "\x00",
    "\ufeff",
    "\u202e",  # right-to-left override
    "\u200b",  # zero-width space
    "e\u0301\u0301\u0301",  # stacked combining marks
    "\U0001f600",
    "\ud800",  # lone surrogate (written with surrogatepass)
    "ｶﾞｷﾞ",
    "髙﨑",
    "①②③",
    "\r",
    "\r\n",
    "\u2028",
    "\t",
    "A" * 5000,
    "あ" * 3000,
    "&amp;",
    "&#0;",
    "&#xD800;",
    "]]>",
    "<",
    "%",
    "%%",
    '"',
    "'",
    "\\",
    "../../../../etc/passwd",
    "file:///etc/passwd",
    "http://127.0.0.1:9/x",
)

#: What each reader reads: ``xml``, ``text`` or ``zip``.
KIND: dict[str, str] = {
    "bpmn": "xml",
    "drawio": "xml",
    "pnml": "xml",
    "epml": "xml",
    "yaml": "text",
    "csv": "text",
    "mermaid": "text",
    "xlsx": "zip",
    "vsdx": "zip",
}

#: Tokens inserted into text formats.
TOKENS: dict[str, tuple[str, ...]] = {
    "mermaid": (
        "flowchart LR\n",
        "graph TD\n",
        "subgraph ",
        "subgraph a[x]\n",
        "\nend\n",
        " --> ",
        " -.-> ",
        " ==> ",
        " --- ",
        " -->|",
        "|",
        " & ",
        ":::",
        "classDef x fill:#f00\n",
        "class a,b x\n",
        "style a fill:#f00\n",
        "click a call x()\n",
        "[",
        "]",
        "((",
        "))",
        "{{",
        "}}",
        "[(",
        ")]",
        "[/",
        "/]",
        ">",
        '["',
        '"]',
        "#35;",
        "#quot;",
        "%%",
        "```mermaid\n",
        "```\n",
        "direction TB\n",
        "@{ shape: rect }",
        "\n",
        ";",
    ),
    "yaml": (
        "steps:\n",
        "  - id: ",
        "    next: ",
        "    label: ",
        "    type: ",
        "    lane: ",
        "&a ",
        "*a",
        "!!python/object/apply:os.system ['echo']",
        "!!binary ",
        "<<: *a\n",
        "{",
        "}",
        "[",
        "]",
        ": ",
        "- ",
        "\n  ",
        "? ",
        "|\n",
        ">\n",
        "---\n",
        "...\n",
        "%YAML 1.1\n",
        "'",
        '"',
        "#",
        "null",
        "~",
        "2020-01-01",
        "0o777",
        ".inf",
    ),
    "csv": (
        ",",
        '"',
        '""',
        "\n",
        "\r\n",
        "\t",
        ";",
        "# name: ",
        "# area: ",
        "番号,担当,作業,種別,次\n",
        "id,lane,label,type,next\n",
        ":",
        "x:条件",
        "gateway",
        "startEvent",
        "=cmd|'/c calc'!A1",
        "、",
        ",,,,,,,,,,,,,,,,,,,,",
    ),
}


def _interesting(rng: random.Random) -> bytes:
    return rng.choice(INTERESTING).encode("utf-8", "surrogatepass")


# -- byte level (AFL-style) -----------------------------------------------


def flip_bits(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if buf:
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
    return bytes(buf)


def set_bytes(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if buf:
            buf[rng.randrange(len(buf))] = rng.choice(
                [0, 0xFF, 0x7F, 0x80, 0x3C, 0x3E, 0x22, 0x26, 0x0A, rng.randrange(256)]
            )
    return bytes(buf)


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def delete_block(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    start = rng.randrange(len(data))
    return data[:start] + data[start + rng.randint(1, 256) :]


def duplicate_block(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    start = rng.randrange(len(data))
    block = data[start : start + rng.randint(1, 512)]
    at = rng.randrange(len(data) + 1)
    return data[:at] + block * rng.randint(1, 8) + data[at:]


def insert_interesting(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + _interesting(rng) + data[at:]


def splice(rng: random.Random, data: bytes, other: bytes) -> bytes:
    a = rng.randrange(len(data) + 1)
    b = rng.randrange(len(other) + 1)
    return data[:a] + other[b:]


BYTE_MUTATORS: tuple[Callable[[random.Random, bytes], bytes], ...] = (
    flip_bits,
    set_bytes,
    truncate,
    delete_block,
    duplicate_block,
    insert_interesting,
)


# -- text level -----------------------------------------------------------


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [b""]


def text_mutation(rng: random.Random, data: bytes, reader: str) -> bytes:
    lines = _lines(data)
    choice = rng.randrange(7)
    i = rng.randrange(len(lines))
    if choice == 0:
        del lines[i]
    elif choice == 1:
        lines.insert(rng.randrange(len(lines) + 1), lines[i])
    elif choice == 2:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif choice == 3:
        token = rng.choice(TOKENS[reader]).encode("utf-8")
        line = lines[i]
        at = rng.randrange(len(line) + 1)
        lines[i] = line[:at] + token + line[at:]
    elif choice == 4:
        # Deep nesting: many indented or opened blocks.
        depth = rng.choice([50, 200, 1000, 5000])
        opener = {
            "mermaid": b"subgraph s%d\n",
            "yaml": b"- ",
            "csv": b'"',
        }[reader]
        block = b"".join(
            (opener % k) if b"%d" in opener else opener for k in range(depth)
        )
        lines.insert(i, block + b"\n")
    elif choice == 5:
        line = lines[i]
        at = rng.randrange(len(line) + 1)
        lines[i] = line[:at] + _interesting(rng) + line[at:]
    else:
        # Re-encode the whole text in another encoding.
        text = data.decode("utf-8", "replace")
        encoding = rng.choice(["cp932", "euc_jp", "utf-16", "utf-8-sig", "latin-1"])
        return text.encode(encoding, "replace")
    return b"".join(lines)


# -- XML level ------------------------------------------------------------

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
)


def _elements(root: etree._Element) -> list[etree._Element]:
    return [el for el in root.iter() if isinstance(el.tag, str)]


def xml_mutation(rng: random.Random, data: bytes, pool: Sequence[bytes]) -> bytes:
    try:
        root = etree.fromstring(data, _PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return rng.choice(BYTE_MUTATORS)(rng, data)
    elements = _elements(root)
    el = rng.choice(elements)
    choice = rng.randrange(9)
    parent = el.getparent()
    if choice == 0 and parent is not None:
        parent.remove(el)
    elif choice == 1 and parent is not None:
        import copy

        parent.insert(parent.index(el) + 1, copy.deepcopy(el))
    elif choice == 2 and el.attrib:
        del el.attrib[rng.choice(sorted(el.attrib))]
    elif choice == 3 and el.attrib:
        key = rng.choice(sorted(el.attrib))
        value = rng.choice(INTERESTING).replace("\ud800", "?").replace("\x00", "")
        el.set(key, value)
    elif choice == 4:
        # Point an attribute at another element's id (dangling, self, cycles).
        ids = [e.get("id") for e in elements if e.get("id")]
        keys = [k for k in el.attrib if k != "id"] or ["id"]
        if ids:
            el.set(rng.choice(sorted(keys)), rng.choice(ids))
    elif choice == 5 and parent is not None:
        # Move the element under another one (odd containment).
        target = rng.choice(elements)
        if el not in list(target.iterancestors()) and target is not el:
            parent.remove(el)
            target.append(el)
    elif choice == 6:
        # Deep nesting of copies of this element.
        import copy

        depth = rng.choice([10, 40, 100, 250])
        inner = copy.deepcopy(el)
        for k in range(depth):
            outer = etree.Element(el.tag, {"id": f"nest{k}"})
            outer.append(inner)
            inner = outer
        el.append(inner)
    elif choice == 7:
        el.text = rng.choice(INTERESTING).replace("\ud800", "?").replace("\x00", "")
    else:
        # Graft an element from another seed of the same format.
        other_data = rng.choice(pool)
        try:
            other = etree.fromstring(other_data, _PARSER)
            graft = rng.choice(_elements(other))
            import copy

            el.append(copy.deepcopy(graft))
        except (etree.XMLSyntaxError, ValueError):
            pass
    out: bytes = etree.tostring(root, encoding="utf-8", xml_declaration=True)
    return out


def drawio_page_mutation(rng: random.Random, data: bytes) -> bytes:
    """Mutate the XML inside a compressed diagrams.net page, then recompress."""
    try:
        root = etree.fromstring(data, _PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return data
    diagrams = [d for d in root.iter("diagram") if (d.text or "").strip()]
    if not diagrams:
        return data
    diagram = rng.choice(diagrams)
    try:
        raw = base64.b64decode(diagram.text or "")
        inner = urllib.parse.unquote(zlib.decompress(raw, -15).decode("utf-8"))
    except (ValueError, zlib.error, UnicodeDecodeError):
        return data
    mutated = xml_mutation(rng, inner.encode("utf-8"), [inner.encode("utf-8")])
    if rng.random() < 0.3:
        mutated = rng.choice(BYTE_MUTATORS)(rng, mutated)
    quoted = urllib.parse.quote(mutated.decode("utf-8", "replace"), safe="")
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = compressor.compress(quoted.encode()) + compressor.flush()
    diagram.text = base64.b64encode(packed).decode("ascii")
    if rng.random() < 0.2:
        diagram.text = diagram.text[: rng.randrange(len(diagram.text) + 1)]
    out: bytes = etree.tostring(root, encoding="utf-8", xml_declaration=True)
    return out


# -- zip level ------------------------------------------------------------


def zip_mutation(rng: random.Random, data: bytes) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _zip_mutation(rng, data)


def _zip_mutation(rng: random.Random, data: bytes) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = [(info.filename, zf.read(info)) for info in zf.infolist()]
    except (
        zipfile.BadZipFile,
        OSError,
        ValueError,
        RuntimeError,
        EOFError,
        NotImplementedError,
        zlib.error,
    ):
        return rng.choice(BYTE_MUTATORS)(rng, data)
    if not members:
        return data
    choice = rng.randrange(6)
    i = rng.randrange(len(members))
    name, body = members[i]
    if choice == 0:
        del members[i]
    elif choice == 1:
        members.append((name, body))  # a duplicate member name
    elif choice == 2:
        members.append((rng.choice(["../evil.xml", "/abs.xml", "a/../../b"]), body))
    elif choice in (3, 4) and name.endswith((".xml", ".rels")):
        members[i] = (name, xml_mutation(rng, body, [b for _, b in members]))
    else:
        members[i] = (name, rng.choice(BYTE_MUTATORS)(rng, body))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, content in members:
            info = zipfile.ZipInfo(member, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, content)
    return out.getvalue()


def mutate(
    rng: random.Random, reader: str, data: bytes, pool: Sequence[bytes]
) -> bytes:
    """Apply one to three mutations suited to ``reader`` to ``data``."""
    kind = KIND[reader]
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        roll = rng.random()
        if roll < 0.08 and len(pool) > 1:
            data = splice(rng, data, rng.choice(pool))
        elif kind == "xml" and roll < 0.6:
            if reader == "drawio" and roll < 0.3:
                data = drawio_page_mutation(rng, data)
            else:
                data = xml_mutation(rng, data, pool)
        elif kind == "text" and roll < 0.6:
            data = text_mutation(rng, data, reader)
        elif kind == "zip" and roll < 0.85:
            data = zip_mutation(rng, data)
        else:
            data = rng.choice(BYTE_MUTATORS)(rng, data)
    return data
