"""The files of a survey report besides its pages: CSV, XLSX and figures.

Each function returns bytes that depend on the survey alone: CSV with
``\\n`` line ends in UTF-8; XLSX with fixed document times and zip member
times (:mod:`harpflow.render.report_xlsx`); SVG plots saved with a fixed
hash salt and no date.

Examples
--------
>>> import pandas as pd
>>> write_csv(pd.DataFrame({"town": ["A"], "divergence": [0.25]}))
b'town,divergence\\nA,0.25\\n'
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from harpflow.survey import SurveyResult

__all__ = [
    "HEATMAP_TOWNS",
    "SHEETS",
    "figures",
    "mean_distances",
    "save_svg",
    "write_csv",
    "write_xlsx",
]

#: Sheets of ``survey.xlsx``: sheet name -> table of the result.
SHEETS = {
    "divergence": "divergence",
    "changes": "changes",
    "fit-gap": "fit_gap",
    "requirements": "requirements",
}

#: Most towns drawn in the heatmap (those furthest from the standard).
HEATMAP_TOWNS = 50

_SALT = "harpflow"


def write_csv(frame: pd.DataFrame) -> bytes:
    """A table as UTF-8 CSV without the index."""
    text = frame.to_csv(index=False, lineterminator="\n")
    return text.encode("utf-8")


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def write_xlsx(result: SurveyResult) -> bytes:
    """The sheets of :data:`SHEETS` in one workbook, byte-identical for the
    same result (:func:`harpflow.render.report_xlsx.workbook_bytes`)."""
    from harpflow.render.report_xlsx import workbook_bytes

    sheets = {}
    for sheet, table in SHEETS.items():
        frame: pd.DataFrame = getattr(result, table)
        rows = (
            [_cell(v) for v in row] for row in frame.itertuples(index=False, name=None)
        )
        sheets[sheet] = ([str(c) for c in frame.columns], rows)
    return workbook_bytes(sheets)


def save_svg(fig: Any) -> bytes:
    """A matplotlib figure as SVG bytes that do not change between runs.

    Text stays text (``svg.fonttype`` ``none``): small files, fast to write,
    drawn by the viewer's fonts (any Japanese font).
    """
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": _SALT, "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return buf.getvalue()


def figures(result: SurveyResult, pivot: pd.DataFrame) -> dict[str, bytes]:
    """The report's plots (:mod:`harpflow.render.plots`) as SVG, by stem.

    ``divergence-heatmap`` (town × procedure, the frame of
    :func:`harpflow.render.report.divergence_pivot`; at most
    :data:`HEATMAP_TOWNS` towns, those with the highest mean divergence),
    ``change-kinds``
    (changes of each town by kind), ``divergence-by-area`` (spread of the
    divergence per area) and ``town-dendrogram`` (towns clustered by their
    mean distance over the procedures they share). A plot without data is
    left out.
    """
    from harpflow.render import plots

    out: dict[str, bytes] = {}
    if pivot.empty:
        return out
    shown, title = pivot, "標準フローとの乖離度 (divergence)"
    if len(pivot) > HEATMAP_TOWNS:
        # the towns furthest from the standard; the table has them all
        order = pivot.mean(axis=1).sort_values(ascending=False, kind="stable")
        shown = pivot.loc[
            sorted(order.index[:HEATMAP_TOWNS], key=list(pivot.index).index)
        ]
        title = (
            f"乖離度の大きい {HEATMAP_TOWNS} 団体 "
            f"(the {HEATMAP_TOWNS} towns furthest from the standard)"
        )
    long = shown.reset_index().melt(id_vars="town", var_name="procedure")
    long = long.rename(columns={"value": "divergence"}).dropna()
    out["divergence-heatmap"] = save_svg(plots.divergence_heatmap(long, title=title))
    names = {t: town.name for t, town in result.towns.items()}
    if not result.changes.empty:
        changes = result.changes.assign(town=result.changes["town"].map(names))
        out["change-kinds"] = save_svg(plots.change_kind_bars(changes))
    div = result.divergence
    by_area = div.assign(area=div["area"].str.split("-").str[0])
    out["divergence-by-area"] = save_svg(plots.divergence_by_area(by_area))
    matrix = mean_distances(result.town_distances)
    if len(matrix) >= 2:
        matrix.index = matrix.columns = [names.get(t, t) for t in matrix.index]
        title = "団体の近さ (towns clustered by mean distance)"
        out["town-dendrogram"] = save_svg(plots.town_dendrogram(matrix, title=title))
    return out


def mean_distances(distances: pd.DataFrame) -> pd.DataFrame:
    """Square town × town matrix of the mean distance over procedures.

    A pair of towns that share no procedure gets the largest mean found.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"town_a": ["A", "A", "A"], "town_b": ["B", "B", "C"],
    ...                   "distance": [0.2, 0.4, 0.5]})
    >>> mean_distances(d).values.tolist()
    [[0.0, 0.3, 0.5], [0.3, 0.0, 0.5], [0.5, 0.5, 0.0]]
    """
    import numpy as np
    import pandas as pd

    towns = sorted(set(distances["town_a"]) | set(distances["town_b"]))
    if not towns:
        return pd.DataFrame()
    mean = distances.groupby(["town_a", "town_b"])["distance"].mean()
    index = {t: i for i, t in enumerate(towns)}
    matrix = np.full((len(towns), len(towns)), np.nan)
    for a, b, v in zip(
        mean.index.get_level_values(0),
        mean.index.get_level_values(1),
        mean,
        strict=True,
    ):
        matrix[index[a], index[b]] = matrix[index[b], index[a]] = round(float(v), 6)
    fill = float(np.nanmax(matrix)) if np.isfinite(matrix).any() else 1.0
    matrix = np.where(np.isnan(matrix), fill, matrix)
    np.fill_diagonal(matrix, 0.0)
    return pd.DataFrame(matrix, index=towns, columns=towns)
