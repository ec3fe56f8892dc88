"""Survey plots with matplotlib, with Japanese text that renders.

Each function takes plain :class:`pandas.DataFrame` objects -- the tables a
survey produces, or tables built by hand -- and returns a
:class:`matplotlib.figure.Figure` (drawn on ``ax`` when one is given). No
pyplot state is touched, so the functions are safe in scripts, tests and
worker processes; in Jupyter the figure shows itself.

- :func:`divergence_heatmap`: divergence of each town (rows) for each
  procedure (columns), values written in the cells;
- :func:`town_dendrogram`: hierarchical clustering of towns from a
  town-to-town distance matrix for one procedure (``scipy.cluster.hierarchy``,
  average linkage by default, i.e. UPGMA [1]_);
- :func:`change_kind_bars`: stacked bars of change kinds per town, in the
  colours of the diff overlay;
- :func:`divergence_by_area`: the spread of divergence per business area,
  a box plot with every town drawn as a point.

Japanese text uses the IPAex Gothic font that ``matplotlib-fontja`` ships;
where that package is missing, Noto Sans CJK JP from the OS (package
``fonts-noto-cjk``) is registered with matplotlib's font manager instead.

Examples
--------
>>> import pandas as pd
>>> table = pd.DataFrame({"town": ["A市", "A市", "B町"],
...                       "procedure": ["転入届", "印鑑登録", "転入届"],
...                       "divergence": [0.2, 0.1, 0.4]})
>>> fig = divergence_heatmap(table)
>>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
['A市', 'B町']

References
----------
.. [1] R. R. Sokal, C. D. Michener, "A statistical method for evaluating
   systematic relationships", University of Kansas Science Bulletin 38
   (1958), pp. 1409-1438.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any

from harpflow.diff import CHANGE_KINDS
from harpflow.errors import HarpflowError
from harpflow.render.overlay import KIND_COLOURS, KIND_NAMES

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "change_kind_bars",
    "divergence_by_area",
    "divergence_heatmap",
    "japanese_font",
    "town_dendrogram",
]


# Kinds that share their colour with the kind before them are hatched.
_SECOND_OF_PAIR = frozenset(
    {"split", "type_changed", "loop_removed", "handoff_missing"}
)


@functools.cache
def japanese_font() -> str:
    """The font family used for Japanese text, registered with matplotlib.

    Returns
    -------
    str
        ``"IPAexGothic"`` (from matplotlib-fontja) or ``"Noto Sans CJK JP"``.

    Raises
    ------
    HarpflowError
        When neither font can be found.
    """
    try:
        import matplotlib_fontja  # noqa: F401  (registers IPAexGothic)

        return "IPAexGothic"
    except ImportError:
        pass
    from matplotlib import font_manager

    for path in sorted(font_manager.findSystemFonts()):
        if "NotoSansCJK" in path or "NotoSansJP" in path:
            font_manager.fontManager.addfont(path)
            return "Noto Sans CJK JP"
    raise HarpflowError(
        "no Japanese font for plots: install matplotlib-fontja or fonts-noto-cjk"
    )


def _figure(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    if ax is not None:
        fig = ax.get_figure()
        assert fig is not None
        return fig, ax  # type: ignore[return-value]
    fig = Figure(figsize=size, dpi=100, layout="constrained")
    return fig, fig.add_subplot()


def _rc() -> Any:
    return {
        "font.family": [japanese_font(), "DejaVu Sans"],
        "axes.unicode_minus": False,
    }


def _need(table: pd.DataFrame, *columns: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise HarpflowError(f"the table lacks the column(s) {', '.join(missing)}")


def divergence_heatmap(
    table: pd.DataFrame,
    *,
    town: str = "town",
    procedure: str = "procedure",
    value: str = "divergence",
    ax: Axes | None = None,
    title: str = "標準フローとの乖離度 (divergence)",
) -> Figure:
    """Heatmap of divergence, towns × procedures.

    Parameters
    ----------
    table : DataFrame
        One row per town and procedure with the columns named by ``town``,
        ``procedure`` and ``value`` (a value in [0, 1]). Rows and columns
        keep their first-seen order; a missing pair is left blank.
    ax : Axes, optional
    title : str

    Returns
    -------
    Figure
    """
    import matplotlib as mpl

    _need(table, town, procedure, value)
    grid = table.pivot_table(index=town, columns=procedure, values=value, sort=False)
    rows, cols = list(grid.index), list(grid.columns)
    values = grid.to_numpy(float)
    with mpl.rc_context(_rc()):
        fig, ax = _figure(ax, (1.6 + 1.1 * len(cols), 1.2 + 0.45 * len(rows)))
        image = ax.imshow(values, cmap="OrRd", vmin=0.0, vmax=1.0, aspect="auto")
        ax.set_xticks(range(len(cols)), [str(c) for c in cols], rotation=30, ha="right")
        ax.set_yticks(range(len(rows)), [str(r) for r in rows])
        for i in range(len(rows)):
            for j in range(len(cols)):
                v = float(values[i, j])
                if not math.isnan(v):
                    ax.text(
                        j,
                        i,
                        f"{v:.2f}",
                        ha="center",
                        va="center",
                        fontsize=8,
                        color="white" if v > 0.6 else "black",
                    )
        fig.colorbar(image, ax=ax, label="乖離度")
        ax.set_title(title)
    return fig


def town_dendrogram(
    distances: pd.DataFrame,
    *,
    method: str = "average",
    ax: Axes | None = None,
    title: str = "町村のクラスタ (dendrogram)",
) -> Figure:
    """Dendrogram of towns from a town-to-town distance matrix.

    Parameters
    ----------
    distances : DataFrame
        Square and symmetric, towns as index and columns in the same order,
        zero diagonal (e.g. the divergence between two towns' flows for one
        procedure).
    method : str
        Linkage method of :func:`scipy.cluster.hierarchy.linkage`
        (``average`` is UPGMA).
    ax : Axes, optional
    title : str

    Raises
    ------
    HarpflowError
        If the matrix is not square and symmetric or has fewer than two
        towns.

    Examples
    --------
    >>> import pandas as pd
    >>> towns = ["A市", "B町", "C村"]
    >>> d = pd.DataFrame([[0, .1, .5], [.1, 0, .4], [.5, .4, 0]],
    ...                  index=towns, columns=towns)
    >>> fig = town_dendrogram(d)
    >>> sorted(t.get_text() for t in fig.axes[0].get_yticklabels())
    ['A市', 'B町', 'C村']
    """
    import matplotlib as mpl
    import numpy as np
    from scipy.cluster.hierarchy import dendrogram, linkage
    from scipy.spatial.distance import squareform

    labels = [str(t) for t in distances.index]
    if list(distances.columns) != list(distances.index) or len(labels) < 2:
        raise HarpflowError(
            "a distance matrix needs the same towns (two or more) "
            "as rows and columns, in the same order"
        )
    matrix = distances.to_numpy(float)
    if not np.allclose(matrix, matrix.T) or np.any(np.diag(matrix) != 0):
        raise HarpflowError("a distance matrix must be symmetric with a zero diagonal")
    tree = linkage(squareform(matrix, checks=False), method=method)
    with mpl.rc_context(_rc()):
        fig, ax = _figure(ax, (6.0, 1.0 + 0.4 * len(labels)))
        dendrogram(
            tree,
            labels=labels,
            orientation="left",
            ax=ax,
            color_threshold=0,
            above_threshold_color="#3182bd",
        )
        ax.set_xlabel("距離 (distance)")
        ax.set_title(title)
        ax.spines[["top", "right"]].set_visible(False)
    return fig


def change_kind_bars(
    changes: pd.DataFrame,
    *,
    town: str = "town",
    kind: str = "kind",
    count: str | None = None,
    ax: Axes | None = None,
    title: str = "町村ごとの変更の種類 (changes by kind)",
) -> Figure:
    """Stacked bars: how many changes of each kind each town has.

    Parameters
    ----------
    changes : DataFrame
        One row per change with the columns ``town`` and ``kind`` (kinds
        from :data:`harpflow.diff.CHANGE_KINDS`), or one row per town and
        kind with a ``count`` column.
    count : str, optional
        Name of the count column, when the rows are already counted.
    ax : Axes, optional
    title : str

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"town": ["A市", "A市", "B町"],
    ...                      "kind": ["missing", "extra", "missing"]})
    >>> fig = change_kind_bars(rows)
    >>> fig.axes[0].get_legend().get_texts()[0].get_text()
    '欠落 (missing)'
    """
    import matplotlib as mpl

    _need(changes, town, kind, *([count] if count else []))
    unknown = sorted(set(changes[kind]) - set(CHANGE_KINDS))
    if unknown:
        raise HarpflowError(f"unknown change kinds: {', '.join(map(str, unknown))}")
    if count is None:
        grid = changes.groupby([town, kind], sort=False).size().unstack(fill_value=0)
    else:
        grid = changes.pivot_table(
            index=town,
            columns=kind,
            values=count,
            aggfunc="sum",
            fill_value=0,
            sort=False,
        )
    kinds = [k for k in CHANGE_KINDS if k in grid.columns]
    towns = list(grid.index)
    with mpl.rc_context(_rc()):
        fig, ax = _figure(ax, (1.5 + 0.6 * len(towns) + 2.5, 4.0))
        bottom = [0.0] * len(towns)
        for k in kinds:
            heights = [float(v) for v in grid[k]]
            ax.bar(
                range(len(towns)),
                heights,
                bottom=bottom,
                label=f"{KIND_NAMES[k]} ({k})",
                color=KIND_COLOURS[k][0],
                edgecolor="white",
                linewidth=0.5,
                hatch="///" if k in _SECOND_OF_PAIR else None,
            )
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        ax.set_xticks(range(len(towns)), [str(t) for t in towns])
        ax.set_ylabel("変更の数 (changes)")
        ax.set_title(title)
        ax.legend(
            loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False
        )
        ax.spines[["top", "right"]].set_visible(False)
    return fig


def divergence_by_area(
    table: pd.DataFrame,
    *,
    area: str = "area",
    value: str = "divergence",
    ax: Axes | None = None,
    title: str = "業務分野ごとの乖離度 (divergence by area)",
) -> Figure:
    """Box plot of divergence per business area, with every value as a dot.

    Parameters
    ----------
    table : DataFrame
        One row per town and procedure with the columns ``area`` (a code
        ``"01"``-``"27"`` is shown with the area's Japanese name) and
        ``value``.
    ax : Axes, optional
    title : str

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"area": ["01", "01", "14"], "divergence": [.1, .3, .2]})
    >>> fig = divergence_by_area(t)
    >>> [x.get_text() for x in fig.axes[0].get_xticklabels()]
    ['01 住民基本台帳', '14 介護保険']
    """
    import matplotlib as mpl

    from harpflow import areas

    _need(table, area, value)
    codes = sorted({str(a) for a in table[area]})
    groups = [
        [float(v) for v in table.loc[table[area].astype(str) == c, value]]
        for c in codes
    ]
    names = []
    for c in codes:
        try:
            names.append(f"{c} {areas.get(c).name_ja}")
        except HarpflowError:
            names.append(c)
    with mpl.rc_context(_rc()):
        fig, ax = _figure(ax, (1.5 + 1.3 * len(codes), 4.0))
        ax.boxplot(
            groups,
            positions=range(len(codes)),
            widths=0.5,
            showfliers=False,
            medianprops={"color": "#d62728"},
        )
        for i, values in enumerate(groups):
            n = len(values)
            # Evenly spread dots (no random jitter: the picture is reproducible).
            offsets = [
                (j - (n - 1) / 2) * min(0.3 / max(n - 1, 1), 0.06) for j in range(n)
            ]
            ax.scatter(
                [i + o for o in offsets],
                values,
                s=14,
                color="#3182bd",
                alpha=0.8,
                zorder=3,
            )
        ax.set_xticks(range(len(codes)), names, rotation=20, ha="right")
        ax.set_ylabel("乖離度 (divergence)")
        ax.set_ylim(0, max([0.1] + [v for g in groups for v in g]) * 1.1)
        ax.set_title(title)
        ax.spines[["top", "right"]].set_visible(False)
    return fig
