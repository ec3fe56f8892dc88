"""The survey report: Markdown, one offline HTML page, XLSX, CSV and BPMN.

:func:`write_report` writes, under one folder:

``README.md``
    Markdown that renders on a code host: summary, divergence table,
    figures, per procedure the recommended flow drawing and the towns
    furthest from it, and every input that could not be read;
``index.html``
    the same as one page that works offline (no scripts, no fonts or
    styles from the network; the figures are the SVG files beside it);
``figures/*.svg``
    the plots (:mod:`harpflow.render.plots`) and the recommended flows
    drawn coloured by support (:mod:`harpflow.render.overlay`);
``survey.xlsx``
    sheets ``divergence``, ``changes``, ``fit-gap`` (per town) and
    ``requirements`` (per procedure);
``*.csv``
    every table of the :class:`~harpflow.survey.SurveyResult`;
``flows/*.bpmn``
    the recommended flows, coloured by support.

The report is written as a whole
(:func:`harpflow.io.source.write_folder`): every file goes into a new
folder beside the destination, which then takes the destination's place
in one rename, so an interrupted write leaves the previous report as it
was. Every file is byte-identical for the same
survey: no timestamps, fixed XLSX document and zip member times, SVG ids
from a fixed salt.

Examples
--------
>>> markdown_table(["town", "divergence"], [["A市", "0.25"], ["B|市", "0.5"]])
'| town | divergence |\\n|---|---:|\\n| A市 | 0.25 |\\n| B\\\\|市 | 0.5 |\\n'
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harpflow.io.source import write_folder

if TYPE_CHECKING:
    import pandas as pd

    from harpflow.survey import SurveyResult

__all__ = [
    "CSV_TABLES",
    "Table",
    "divergence_pivot",
    "html_table",
    "markdown_table",
    "procedure_title",
    "write_report",
]

#: Tables written as CSV files, by file stem.
CSV_TABLES = (
    "flows",
    "divergence",
    "changes",
    "town_distances",
    "recommendations",
    "fit_gap",
    "requirements",
    "errors",
)

#: Towns listed under each recommended flow.
FURTHEST = 3

_NUMBER = re.compile(r"^-?\d+(\.\d+)?%?$")


class Table:
    """Headers and rows of text, for the Markdown and HTML templates."""

    def __init__(self, headers: list[str], rows: list[list[str]]) -> None:
        self.headers = headers
        self.rows = rows

    def numeric(self, column: int) -> bool:
        """Whether every non-empty cell of a column is a number."""
        cells = [r[column] for r in self.rows if r[column]]
        return bool(cells) and all(_NUMBER.match(c) for c in cells)


def _md_cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table; numeric columns align right."""
    table = Table(headers, rows)
    align = ["---:" if i and table.numeric(i) else "---" for i in range(len(headers))]
    lines = ["| " + " | ".join(_md_cell(h) for h in headers) + " |"]
    lines.append("|" + "|".join(align) + "|")
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def html_table(headers: list[str], rows: list[list[str]]) -> str:
    """An HTML table; numeric columns get the class ``num``."""
    table = Table(headers, rows)
    num = [bool(i) and table.numeric(i) for i in range(len(headers))]
    out = ["<table>", "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers)]
    out[-1] += "</tr>"
    for row in rows:
        cells = "".join(
            f'<td class="num">{html.escape(c)}</td>'
            if num[i]
            else f"<td>{html.escape(c)}</td>"
            for i, c in enumerate(row)
        )
        out.append(f"<tr>{cells}</tr>")
    out.append("</table>")
    return "\n".join(out)


def procedure_title(area: str, procedure: str) -> str:
    """``"01 住民基本台帳 転入届 (01-jumin/tennyu)"`` from the area table.

    Examples
    --------
    >>> procedure_title("01-jumin", "tennyu")
    '01 住民基本台帳 転入届 (01-jumin/tennyu)'
    >>> procedure_title("99-x", "y")
    '99-x/y'
    """
    from harpflow import areas

    try:
        area_rec = areas.get(area.split("-", 1)[0])
        name = area_rec.procedure(procedure).name_ja
    except KeyError:
        return f"{area}/{procedure}"
    return f"{area_rec.code} {area_rec.name_ja} {name} ({area}/{procedure})"


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _town_name(result: SurveyResult, town: str) -> str:
    t = result.towns.get(town)
    return t.name if t is not None else town


def _short_name(area: str, procedure: str) -> str:
    from harpflow import areas

    try:
        return areas.get(area.split("-", 1)[0]).procedure(procedure).name_ja
    except KeyError:
        return procedure


def divergence_pivot(result: SurveyResult) -> pd.DataFrame:
    """Town (rows, display names) × procedure (columns) divergence, with a
    ``mean`` column; the frame the heatmap and the table show."""
    div = result.divergence
    if div.empty:
        import pandas as pd

        return pd.DataFrame()
    frame = div.assign(
        column=[
            _short_name(a, p)
            for a, p in zip(div["area"], div["procedure"], strict=True)
        ],
        row=[_town_name(result, t) for t in div["town"]],
    )
    order = list(dict.fromkeys(frame.sort_values(["area", "procedure"])["column"]))
    towns = list(dict.fromkeys(_town_name(result, t) for t in sorted(result.towns)))
    pivot = frame.pivot_table(
        index="row", columns="column", values="divergence", aggfunc="mean", sort=False
    )
    pivot = pivot.reindex(index=[t for t in towns if t in pivot.index], columns=order)
    pivot.index.name, pivot.columns.name = "town", "procedure"
    return pivot


def _divergence_table(pivot: pd.DataFrame) -> Table:
    headers = ["団体 (town)", *[str(c) for c in pivot.columns], "平均 (mean)"]
    rows = []
    for town, values in pivot.iterrows():
        cells = [_fmt(v) for v in values]
        rows.append([str(town), *cells, _fmt(float(values.mean()))])
    return Table(headers, rows)


def _furthest(result: SurveyResult, area: str, procedure: str) -> Table | None:
    fit = result.divergence[
        (result.divergence["area"] == area)
        & (result.divergence["procedure"] == procedure)
    ]
    if fit.empty or fit["to_recommended"].isna().all():
        return None
    fit = fit.sort_values(["to_recommended", "town"], ascending=[False, True])
    rows = [
        [
            _town_name(result, r["town"]),
            _fmt(r["to_recommended"]),
            _fmt(r["divergence"]),
            _fmt(r["changes"]),
        ]
        for r in fit.head(FURTHEST).to_dict("records")
    ]
    headers = [
        "団体 (town)",
        "推奨との乖離度 (to recommended)",
        "標準との乖離度 (to standard)",
        "変更 (changes)",
    ]
    return Table(headers, rows)


def _errors_table(result: SurveyResult) -> Table | None:
    if result.errors.empty:
        return None
    rows = [
        [r["file"], r["stage"], r["message"]] for r in result.errors.to_dict("records")
    ]
    return Table(["ファイル (file)", "段階 (stage)", "理由 (reason)"], rows)


_FILES = [
    ("index.html", "この報告書の HTML 版 (this report as one HTML page)"),
    ("survey.xlsx", "乖離度・変更・フィットギャップ・要件 "
                    "(divergence, changes, fit-gap, requirements)"),
    *[(f"{name}.csv", f"表 {name} (the {name} table)") for name in CSV_TABLES],
]  # fmt: skip


def write_report(
    result: SurveyResult, out: str | os.PathLike[str], *, title: str | None = None
) -> Path:
    """Write the survey report into the folder ``out``.

    Parameters
    ----------
    result : SurveyResult
    out : path
        The folder; created when missing. Files of an earlier report with
        the same names are replaced.
    title : str, optional
        The report's heading (default ``業務フロー調査 (survey of business
        flows)``).

    Returns
    -------
    Path
        The folder.
    """
    from harpflow.render.report_assets import figures, write_csv, write_xlsx

    folder = Path(out)
    written: dict[str, bytes] = {}

    for name in CSV_TABLES:
        written[f"{name}.csv"] = write_csv(getattr(result, name))
    written["survey.xlsx"] = write_xlsx(result)
    for (area, proc), rec in sorted(result.recommended.items()):
        written[f"flows/{area}--{proc}.bpmn"] = rec["bpmn"]
        if rec.get("svg"):
            written[f"figures/flow-{area}--{proc}.svg"] = rec["svg"]
    pivot = divergence_pivot(result)
    plots = figures(result, pivot)
    written.update({f"figures/{name}.svg": data for name, data in plots.items()})

    context = _context(result, pivot, {k: f"figures/{k}.svg" for k in plots}, title)
    written["README.md"] = _render("README.md.j2", context, markdown=True)
    written["index.html"] = _render("index.html.j2", context, markdown=False)
    return write_folder(folder, written)


def _context(
    result: SurveyResult, pivot: pd.DataFrame, figs: dict[str, str], title: str | None
) -> dict[str, Any]:
    summary = result.summary()
    summary["mean_divergence_text"] = _fmt(summary["mean_divergence"])
    recs = {
        (r["area"], r["procedure"]): r
        for r in result.recommendations.to_dict("records")
    }
    keys = sorted(
        {
            *recs,
            *zip(
                result.divergence["area"], result.divergence["procedure"], strict=True
            ),
        }
    )
    procedures = []
    for area, proc in keys:
        row = recs.get((area, proc))
        if row is not None:
            row = {**row, "support_text": f"{row['mean_support']:.0%}"}
        svg = f"figures/flow-{area}--{proc}.svg"
        has_svg = bool(result.recommended.get((area, proc), {}).get("svg"))
        procedures.append(
            {
                "title": procedure_title(area, proc),
                "anchor": f"{area}--{proc}",
                "row": row,
                "svg": svg if has_svg else None,
                "furthest": _furthest(result, area, proc),
            }
        )
    return {
        "title": title or "業務フロー調査 (survey of business flows)",
        "summary": summary,
        "divergence_table": _divergence_table(pivot)
        if not pivot.empty
        else Table([], []),
        "figures": {
            "heatmap": figs.get("divergence-heatmap"),
            "kinds": figs.get("change-kinds"),
            "areas": figs.get("divergence-by-area"),
            "dendrogram": figs.get("town-dendrogram"),
        },
        "procedures": procedures,
        "errors": _errors_table(result),
        "files": [{"name": n, "what": w} for n, w in _FILES],
    }


def _render(template: str, context: dict[str, Any], *, markdown: bool) -> bytes:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("harpflow", "render/templates"),
        autoescape=not markdown,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["md_table"] = lambda t: markdown_table(t.headers, t.rows)
    env.filters["html_table"] = lambda t: jinja2.utils.markupsafe.Markup(
        html_table(t.headers, t.rows)
    )
    text = env.get_template(template).render(**context)
    return text.encode("utf-8")
