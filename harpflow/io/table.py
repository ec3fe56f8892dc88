"""Step tables (業務要件定義表 style): harpflow's own authoring format.

A step table lists the steps of one flow, one row each, with who does it
(担当), what is done (作業), what kind of step it is (種別) and what comes
next (次). The same table is read and written as YAML (with the flow's
metadata), CSV and XLSX.

Columns -- Japanese or English headers, both accepted, in any order (case,
full width and surrounding spaces do not matter):

========  ============  ==================================================
Japanese  English       meaning
========  ============  ==================================================
番号      id            step id, unique in the flow (``1``, ``5c``, ``S``)
担当      lane          lane (住民, 窓口, 担当, 審査, 決裁, システム, ...)
作業      label         the step's label as written (``-``: deliberately
                        none, for an unnamed task)
種別      type          Japanese kind or BPMN element name; empty = task
次        next          successors: ``id`` or ``id:条件`` (the condition
                        becomes the edge label); ``*id`` marks the default
                        flow; ``-`` = none; empty = the following row
連携      messages      message flows: ``id`` or ``id:label``; the target
                        is a step, or an 組織 (a whole pool)
組織      pool          the organisation; empty = the flow's own
帳票      forms         forms and ledgers (list)
システム  system        the system used (node attribute ``system``)
機能ID    function_ids  機能ID references (list)
媒体      medium        紙, 画面, システム, ファイル, 電話, FAX, 郵送,
                        オンライン, or the English names
場所      location      本庁, 支所, or an outside body
備考      note          free text (node documentation)
========  ============  ==================================================

Extension columns, written only when a flow needs them (flows read from
BPMN): 親/parent (id of the enclosing sub-process), 付属/attached_to (the
activity a boundary event sits on), 契機/trigger (event trigger:
``timer``, ``message``, ... or タイマー, メッセージ, シグナル, エラー, 条件),
繰返し/loop (loop marker).

種別 values: 開始→startEvent, 終了→endEvent, 作業→task,
手作業→manualTask, システム→serviceTask, 入力→userTask, 送信→sendTask,
受信→receiveTask, 判断 or 分岐→exclusiveGateway, 並行 or
並列→parallelGateway, 包含→inclusiveGateway, 中間→intermediateCatchEvent,
タイマー→intermediateCatchEvent with trigger ``timer``,
通知→intermediateThrowEvent, サブプロセス→subProcess, 呼出→callActivity,
and every BPMN element name of :data:`harpflow.model.NODE_TYPES` as is.

List cells (次, 連携, 帳票, 機能ID): in YAML a list (or one value, split as
in CSV); in CSV and XLSX one cell whose entries are separated by ``,``
``、`` ``;`` or line breaks, ``：`` accepted for ``:``. Text between 「 and
」 is never split, and one layer of 「」 around a whole entry (or around the
text after ``id:``) is removed, in every format: ``5:「不備あり、補正」`` is
one entry with the condition ``不備あり、補正``. Writers wrap an entry in
「」 when it holds a separator, starts with 「, or has white space at an
end.
Entries are stripped; 作業, 備考, 担当 and 組織 cells are kept as written
(a label with a trailing space keeps it), other cells are stripped.

Order: an empty 次 means the following row with the same 親 (so the rows of
a sub-process listed after it are not its successor), except on end
events, which have none; on the last row it means none.

Metadata: in YAML the top-level keys besides ``steps`` (``name``,
``area``, ``procedure``, ``town`` go to the flow, everything else to
``flow.meta``); in CSV leading ``# key: value`` lines; in XLSX a sheet
named ``meta`` with key/value rows. CSV and XLSX values are read as
one-line YAML (``[a, b]`` is a list, ``'01'`` a string). Three keys shape
the flow: ``lanes`` (lane order; entries are names, or mappings ``{id,
name, pool, parent}`` for lanes in a pool, nested or unnamed lanes),
``pools`` (names, or ``{id, name, process}``) and ``pool_messages``
(``{id, source, target, label}`` for message flows that start at a whole
pool). A 担当 or 組織 cell names a lane or pool by its name, or by its id
when the name is empty or shared.

Reading YAML: :func:`yaml.safe_load` semantics (no arbitrary tags), and
aliases (``*name``) refused outright, which rules out expansion bombs; see
:mod:`harpflow.io.table_meta`. Step cells are taken as written (``01``
stays ``"01"``, ``yes`` stays ``"yes"``). CSV: encoding detected among
UTF-8, UTF-8 with BOM, UTF-16 with BOM, cp932 and EUC-JP (see
:mod:`harpflow.io.table_csv`); ``,``, tab and ``;`` delimiters. XLSX: the
sheet named 業務フロー or ``steps``, else the first sheet other than
``meta``; the header is the first row (among the first 20) with a 番号/id
column; zip members are checked against a size limit before the workbook
is opened (see :mod:`harpflow.io.table_xlsx`).

Errors name the row and the column: ``ParseError(line=<file line of the
row>, element="row 4, column 次")``, where row 4 is the fourth step row
(header not counted) and the column is named as its header was written.

Writing: a message flow from a step to a whole pool goes into the step's
連携 (naming the pool, or its id when the name cannot stand in a list
cell) unless its order would then change; the rest go to
``pool_messages``. Rows come in node order, with Japanese headers, 種別 and
媒体 by default (``headers="en"`` for English headers, BPMN element names
and English media); a successor is left implicit only when it is the sole unlabelled
one and the following row; ``-`` is written where a step has no successor
but rows follow. Output is deterministic: the same flow gives the same
bytes (XLSX included: fixed document timestamps and zip entry times). CSV
is written in UTF-8 with BOM by default (``encoding=`` to change), so that
Excel opens it correctly.

Notes
-----
What a table cannot hold and is dropped on writing: diagram bounds and
waypoints, edge ids (regenerated as ``source__target``), formal condition
expressions (a condition without a label is written as the label), a
second sequence flow between the same two nodes, data object and data
store records (their labels stay in the steps' 帳票), text annotations,
source positions and node attributes outside the columns above. Flow
metadata values that are not plain data are written as text.

A message flow and a sequence flow between the same two steps cannot
both be held by the model (one edge per pair); reading such a table warns
and keeps the sequence flow.

Known limits: an 作業 of exactly ``-`` reads as no label; a form name or
condition wrapped in 「」 as a whole loses that outer pair (write
「「x」」); a list entry that must be quoted (it holds a separator or
starts with 「) needs its 「 and 」 to pair up; step ids cannot hold
``:``, separators or a leading ``*``. CSV cells starting with ``=`` are
written as they are (spreadsheet programs may take them for formulas;
XLSX cells are always written as text).

Examples
--------
>>> from harpflow.io.table import read_yaml, write_csv
>>> flow = read_yaml('''
... name: 例
... steps:
...   - {番号: S, 担当: 住民, 種別: 開始}
...   - {番号: 1, 担当: 住民, 作業: 届出}
...   - {番号: G, 担当: 窓口, 作業: 不備？, 種別: 判断, 次: ["1:不備あり", "E:なし"]}
...   - {番号: E, 担当: 窓口, 種別: 終了}
... ''')
>>> [(e.source, e.target, e.label) for e in flow.sequence_edges()]
[('S', '1', ''), ('1', 'G', ''), ('G', '1', '不備あり'), ('G', 'E', 'なし')]
>>> print(write_csv(flow, headers="en").decode("utf-8-sig").splitlines()[2])
id,lane,label,type,next,messages,pool,forms,system,function_ids,medium,location,note
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import IO, Any

import yaml

from harpflow.errors import FormatError, HarpflowWarning, ParseError
from harpflow.io.source import DEFAULT_MAX_BYTES, Input, Source, emit, open_input
from harpflow.io.table_build import build_flow
from harpflow.io.table_csv import decode_text, parse_csv, render_csv
from harpflow.io.table_meta import load_yaml
from harpflow.io.table_rows import RawRow, column_key, header_name, wrap_entry
from harpflow.io.table_write import flow_to_table
from harpflow.io.table_xlsx import DEFAULT_MAX_UNZIPPED, parse_xlsx, render_xlsx
from harpflow.model import Flow

__all__ = [
    "DEFAULT_MAX_UNZIPPED",
    "read_csv",
    "read_xlsx",
    "read_yaml",
    "write_csv",
    "write_xlsx",
    "write_yaml",
]

Dest = str | Any | IO[bytes] | None


def _input(inp: Input | Source, max_bytes: int) -> Input:
    if isinstance(inp, Input):
        return inp
    return open_input(inp, max_bytes=max_bytes)


# -- YAML ---------------------------------------------------------------------


def _scalar(node: yaml.Node) -> str | None:
    if node.tag.endswith(":null"):
        return None
    return str(node.value)


def _yaml_rows(steps: yaml.Node, source: str) -> list[RawRow]:
    if not isinstance(steps, yaml.SequenceNode):
        raise ParseError(
            "steps must be a list of mappings",
            source=source,
            line=steps.start_mark.line + 1,
            element="steps",
        )
    rows: list[RawRow] = []
    ignored: dict[str, None] = {}
    for index, item in enumerate(steps.value, 1):
        line = item.start_mark.line + 1
        if not isinstance(item, yaml.MappingNode):
            raise ParseError(
                "a step must be a mapping of column: value",
                source=source,
                line=line,
                element=f"row {index}",
            )
        names: dict[str, str] = {}
        row = RawRow(index, line, {}, names)
        for key_node, value_node in item.value:
            header = str(key_node.value).strip()
            key = column_key(header) if isinstance(key_node, yaml.ScalarNode) else None
            if key is None:
                ignored.setdefault(header)
                continue
            if key in names:
                raise ParseError(
                    f"{names[key]!r} and {header!r} are the same column",
                    source=source,
                    line=key_node.start_mark.line + 1,
                    element=f"row {index}, column {header}",
                )
            names[key] = header
            if isinstance(value_node, yaml.ScalarNode):
                row.cells[key] = _scalar(value_node)
            elif isinstance(value_node, yaml.SequenceNode) and all(
                isinstance(v, yaml.ScalarNode) for v in value_node.value
            ):
                row.cells[key] = [
                    s for s in (_scalar(v) for v in value_node.value) if s is not None
                ]
            else:
                raise ParseError(
                    "expected a value or a list of values",
                    source=source,
                    line=value_node.start_mark.line + 1,
                    element=f"row {index}, column {header}",
                )
        rows.append(row)
    if ignored:
        warnings.warn(
            f"{source}: step keys ignored: {', '.join(ignored)}",
            HarpflowWarning,
            stacklevel=3,
        )
    return rows


def read_yaml(
    inp: Input | Source, *, max_bytes: int = DEFAULT_MAX_BYTES, **options: Any
) -> Flow:
    """Read a step table in YAML: flow metadata plus a ``steps:`` list.

    Parameters
    ----------
    inp : Input, path, file, bytes or str
        The YAML file or its content.
    max_bytes : int
        Largest accepted input.

    Returns
    -------
    Flow

    Raises
    ------
    ParseError
        Naming file, line, row and column.

    Examples
    --------
    >>> flow = read_yaml("steps: [{番号: 1, 作業: 受付}, {番号: 2, 作業: 審査}]\\n")
    >>> [(e.source, e.target) for e in flow.edges]
    [('1', '2')]
    """
    _no_options(options)
    src = _input(inp, max_bytes)
    text, _enc = decode_text(src.data, src.name)
    root, data = load_yaml(text, src.name)
    if root is None:
        raise ParseError("empty file", source=src.name)
    meta: dict[str, Any] = {}
    if isinstance(root, yaml.SequenceNode):
        steps_node: yaml.Node | None = root
    elif isinstance(root, yaml.MappingNode):
        steps_node = None
        values = list(data.values()) if isinstance(data, dict) else []
        if len(values) != len(root.value):
            raise ParseError(
                "a top-level key repeats, or a merge key (<<) is used",
                source=src.name,
                line=root.start_mark.line + 1,
            )
        for (key_node, value_node), value in zip(root.value, values, strict=True):
            key = str(key_node.value)
            if key == "steps":
                steps_node = value_node
            elif key in ("name", "procedure", "town", "area") and isinstance(
                value_node, yaml.ScalarNode
            ):
                meta[key] = _scalar(value_node)
            else:
                meta[key] = value
        if steps_node is None:
            raise ParseError(
                "no steps: list (a step table needs one)",
                source=src.name,
                line=root.start_mark.line + 1,
            )
    else:
        raise ParseError(
            "not a step table: expected a mapping with steps: or a list of steps",
            source=src.name,
            line=root.start_mark.line + 1,
        )
    rows: list[RawRow] = []
    if steps_node is not None and not (
        isinstance(steps_node, yaml.ScalarNode) and _scalar(steps_node) is None
    ):
        rows = _yaml_rows(steps_node, src.name)
    return build_flow(rows, meta, src.name)


class _FlowMap(dict[str, Any]):
    """A mapping dumped in flow style: one step on one line."""


class _Dumper(yaml.SafeDumper):
    pass


def _represent_flow_map(dumper: yaml.SafeDumper, data: _FlowMap) -> yaml.Node:
    return dumper.represent_mapping(
        "tag:yaml.org,2002:map", data.items(), flow_style=True
    )


_Dumper.add_representer(_FlowMap, _represent_flow_map)


def write_yaml(
    flow: Flow, dest: Dest = None, *, headers: str = "ja", **options: Any
) -> bytes | None:
    """Write a flow as a YAML step table (UTF-8).

    Parameters
    ----------
    flow : Flow
    dest : path, binary file or None
        Where to write; None returns the bytes.
    headers : {"ja", "en"}
        Step keys and 種別 in Japanese (default) or English.

    Examples
    --------
    >>> flow = read_yaml("steps: [{番号: 1, 作業: 受付}, {番号: 2, 作業: 審査}]\\n")
    >>> print(write_yaml(flow).decode())
    name: null
    area: null
    procedure: null
    town: null
    steps:
    - {番号: '1', 作業: 受付}
    - {番号: '2', 作業: 審査}
    <BLANKLINE>
    """
    _no_options(options)
    table = flow_to_table(flow, headers)
    doc: dict[str, Any] = dict(table.meta)
    lanes = doc.get("lanes")
    if isinstance(lanes, list):
        doc["lanes"] = [_FlowMap(x) if isinstance(x, Mapping) else x for x in lanes]
    pools = doc.get("pools")
    if isinstance(pools, list):
        doc["pools"] = [_FlowMap(x) if isinstance(x, Mapping) else x for x in pools]
    if isinstance(doc.get("pool_messages"), list):
        doc["pool_messages"] = [_FlowMap(x) for x in doc["pool_messages"]]
    steps = []
    for row in table.rows:
        step = _FlowMap()
        for key in table.keys:
            value = row.get(key)
            if isinstance(value, list):
                links = key in ("next", "messages")
                value = [wrap_entry(v, links=links, separators=False) for v in value]
            if value:
                step[header_name(key, headers)] = value
        steps.append(step)
    doc["steps"] = steps
    text = yaml.dump(
        doc,
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=None,
        width=1_000_000,
    )
    return emit(text.encode("utf-8"), dest)


# -- CSV ----------------------------------------------------------------------


def read_csv(
    inp: Input | Source, *, max_bytes: int = DEFAULT_MAX_BYTES, **options: Any
) -> Flow:
    """Read a step table in CSV (UTF-8 with or without BOM, UTF-16, cp932, EUC-JP).

    Metadata comes from leading ``# key: value`` lines.

    Examples
    --------
    >>> text = "番号,担当,作業,種別,次\\n1,窓口,受付,,\\n2,担当,審査,,-\\n"
    >>> data = text.encode("cp932")
    >>> flow = read_csv(data)
    >>> [n.lane for n in flow.nodes.values()], len(flow.edges)
    (['窓口', '担当'], 1)
    """
    _no_options(options)
    src = _input(inp, max_bytes)
    text, _enc = decode_text(src.data, src.name)
    meta, rows = parse_csv(text, src.name)
    return build_flow(rows, meta, src.name)


def write_csv(
    flow: Flow,
    dest: Dest = None,
    *,
    headers: str = "ja",
    encoding: str = "utf-8-sig",
    **options: Any,
) -> bytes | None:
    """Write a flow as a CSV step table with ``# key: value`` metadata lines.

    Parameters
    ----------
    headers : {"ja", "en"}
        Japanese (default) or English headers, 種別 and 媒体.
    encoding : str
        ``"utf-8-sig"`` (default, UTF-8 with BOM), ``"utf-8"`` or ``"cp932"``.

    Raises
    ------
    FormatError
        When a character cannot be written in the encoding.
    """
    _no_options(options)
    table = flow_to_table(flow, headers)
    return emit(render_csv(table, headers, encoding), dest)


# -- XLSX ---------------------------------------------------------------------


def read_xlsx(
    inp: Input | Source,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_unzipped: int = DEFAULT_MAX_UNZIPPED,
    sheet: str | None = None,
    **options: Any,
) -> Flow:
    """Read a step table from an Excel workbook.

    Parameters
    ----------
    max_unzipped : int
        Largest total uncompressed size of the workbook's zip members
        (default 100 MB), checked before the workbook is opened.
    sheet : str, optional
        The sheet holding the table (default: 業務フロー or ``steps``, else
        the first sheet other than ``meta``).

    Raises
    ------
    LimitError
        When the zip members declare more than ``max_unzipped`` bytes.
    ParseError
        Naming the sheet row and the column.
    """
    _no_options(options)
    src = _input(inp, max_bytes)
    meta, rows = parse_xlsx(src.data, src.name, max_unzipped=max_unzipped, sheet=sheet)
    return build_flow(rows, meta, src.name)


def write_xlsx(
    flow: Flow, dest: Dest = None, *, headers: str = "ja", **options: Any
) -> bytes | None:
    """Write a flow as an Excel step table (sheet 業務フロー or steps, plus meta).

    The workbook's created/modified properties and the zip entry times are
    fixed, so the same flow always gives the same bytes.
    """
    _no_options(options)
    table = flow_to_table(flow, headers)
    return emit(render_xlsx(table, headers), dest)


def _no_options(options: Mapping[str, Any]) -> None:
    if options:
        raise FormatError(f"unknown option(s): {', '.join(sorted(options))}")
