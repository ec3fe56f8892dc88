"""Safe YAML for step tables, and metadata values in CSV comments and XLSX cells.

Every piece of YAML a step table holds -- a whole ``.yaml`` file, or one
metadata value in a CSV ``# key: value`` line or an XLSX ``meta`` sheet --
goes through :func:`load_yaml`: PyYAML's safe loader (no arbitrary tags,
so no object construction; libyaml's C implementation when PyYAML has it),
with aliases refused outright (a first pass over the parse events),
timestamps kept as text, and too deep nesting turned into a
:class:`LimitError`.

Refusing aliases (``*name``) closes the "billion laughs" expansion bomb
at the root: without aliases every node of the document is read from the
file, so the parsed data can never be much larger than the file, which is
itself bounded by ``max_bytes``. Anchors alone (``&name``) are harmless
and allowed. Step tables have no use for aliases.

Examples
--------
>>> load_yaml("a: [1, 2]", "<string>")[1]
{'a': [1, 2]}
>>> parse_meta_value("[住民, 窓口]"), parse_meta_value("01")
(['住民', '窓口'], 1)
>>> parse_meta_value("期限: 14日")
'期限: 14日'
>>> dump_meta_value("01"), dump_meta_value(["住民", "窓口"]), dump_meta_value("転入届")
("'01'", '[住民, 窓口]', '転入届')
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from harpflow.errors import LimitError, ParseError

__all__ = ["dump_meta_value", "load_yaml", "parse_meta_value"]


class _StrictLoader(yaml.SafeLoader):
    """The safe loader, refusing aliases and keeping timestamps as strings."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _AliasRefused(event.anchor, event.start_mark.line + 1)
        return super().compose_node(parent, index)


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if not tag.endswith(":timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _c_loader() -> Any:
    """libyaml's safe loader with the same resolvers, or None without libyaml.

    It cannot refuse aliases while composing; :func:`load_yaml` refuses
    them in a pass over the parse events first.
    """
    base: Any = getattr(yaml, "CSafeLoader", None)
    if base is None:  # pragma: no cover - PyYAML built without libyaml
        return None
    return type(
        "_CStrictLoader",
        (base,),
        {"yaml_implicit_resolvers": _StrictLoader.yaml_implicit_resolvers},
    )


_CStrictLoader: Any = _c_loader()


class _AliasRefused(Exception):
    def __init__(self, anchor: str, line: int) -> None:
        self.anchor = anchor
        self.line = line


def load_yaml(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    """Parse one YAML document; return its node tree and its data.

    The node tree keeps line numbers (``node.start_mark.line`` is 0-based)
    and the text of every scalar as written.

    Raises
    ------
    ParseError
        On a syntax error, an alias, an unknown tag or several documents.
    LimitError
        On nesting too deep to parse.
    """
    loader: Any = None
    try:
        if _CStrictLoader is not None:
            for event in yaml.parse(text, Loader=_CStrictLoader):
                if isinstance(event, yaml.AliasEvent):
                    mark = event.start_mark
                    line = mark.line + 1 if mark is not None else 0
                    raise _AliasRefused(str(event.anchor), line)
            loader = _CStrictLoader(text)
        else:  # pragma: no cover
            loader = _StrictLoader(text)
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except _AliasRefused as exc:
        raise ParseError(
            "YAML aliases are not accepted in step tables",
            source=source,
            line=exc.line,
            element=f"alias *{exc.anchor}",
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise ParseError(
            f"YAML: {what or exc}",
            source=source,
            line=mark.line + 1 if mark is not None else None,
        ) from None
    except yaml.YAMLError as exc:
        raise ParseError(f"YAML: {exc}", source=source) from None
    except RecursionError:
        raise LimitError("YAML nested too deeply", source=source) from None
    finally:
        if loader is not None:
            loader.dispose()
    return node, data


def parse_meta_value(text: str) -> Any:
    """Read a metadata value written in one cell or comment line.

    The text is read as YAML (so ``[a, b]`` is a list and ``'01'`` a
    string); a text that YAML would read as a block mapping, or cannot read
    at all, stays the text as written. Empty means None.
    """
    stripped = text.strip()
    if not stripped:
        return None
    try:
        _node, value = load_yaml(stripped, "<value>")
    except ParseError:
        return stripped
    if isinstance(value, (dict, list)) and not stripped.startswith(("[", "{")):
        return stripped
    return value


def dump_meta_value(value: Any) -> str:
    """Write a metadata value in one line that :func:`parse_meta_value` reads back."""
    if value is None:
        return ""
    if (
        isinstance(value, str)
        and "\n" not in value
        and parse_meta_value(value) == value
    ):
        return value
    text: str = yaml.safe_dump(
        value, default_flow_style=True, allow_unicode=True, width=1_000_000
    ).strip()
    if text.endswith("\n..."):
        text = text[: -len("\n...")].strip()
    elif text.endswith("..."):
        text = text[:-3].strip()
    if "\n" in text:
        text = json.dumps(value, ensure_ascii=False)
    return text
