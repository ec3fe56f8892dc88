"""Survey plots: what each one draws, its Japanese text, its errors."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from harpflow.errors import HarpflowError
from harpflow.render import plots
from harpflow.render.overlay import KIND_COLOURS

TOWNS = ["A市", "B町", "C村"]


@pytest.fixture
def divergences() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "town": ["A市", "A市", "B町", "B町", "C村"],
            "area": ["01", "02", "01", "02", "01"],
            "procedure": ["転入届", "印鑑登録", "転入届", "印鑑登録", "転入届"],
            "divergence": [0.2, 0.1, 0.4, 0.3, 0.7],
        }
    )


def japanese_renders(fig: object) -> None:
    """Draw to PNG and check that no text fell back to a font without kana."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font" is a warning
        fig.savefig(io.BytesIO(), format="png")  # type: ignore[attr-defined]


def test_heatmap_cells_and_labels(divergences: pd.DataFrame) -> None:
    fig = plots.divergence_heatmap(divergences)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == TOWNS
    assert [t.get_text() for t in ax.get_xticklabels()] == ["転入届", "印鑑登録"]
    image = ax.get_images()[0].get_array()
    assert image.shape == (3, 2)
    assert image[2, 0] == pytest.approx(0.7) and np.ma.is_masked(image[2, 1])
    cells = sorted(t.get_text() for t in ax.texts)
    assert cells == ["0.10", "0.20", "0.30", "0.40", "0.70"]
    japanese_renders(fig)


def test_dendrogram_joins_the_closest_towns_first() -> None:
    d = pd.DataFrame(
        [[0, 0.1, 0.8], [0.1, 0, 0.7], [0.8, 0.7, 0]], index=TOWNS, columns=TOWNS
    )
    fig = plots.town_dendrogram(d)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert sorted(labels) == sorted(TOWNS)
    # A市 and B町 are neighbours in the leaf order; C村 is at an end.
    assert abs(labels.index("A市") - labels.index("B町")) == 1
    # The last merge happens at the average distance of C村 to the pair.
    xs = [
        x
        for col in ax.collections
        for path in col.get_paths()
        for x in path.vertices[:, 0]
    ]
    assert max(xs) == pytest.approx(0.75)
    japanese_renders(fig)


@pytest.mark.parametrize(
    "bad",
    [
        pd.DataFrame([[0, 1], [2, 0]], index=["a", "b"], columns=["a", "b"]),
        pd.DataFrame([[0, 1], [1, 0]], index=["a", "b"], columns=["b", "a"]),
        pd.DataFrame([[0]], index=["a"], columns=["a"]),
    ],
)
def test_dendrogram_rejects_bad_matrices(bad: pd.DataFrame) -> None:
    with pytest.raises(HarpflowError):
        plots.town_dendrogram(bad)


def test_change_bars_stack_in_overlay_colours() -> None:
    changes = pd.DataFrame(
        {
            "town": ["A市", "A市", "A市", "B町"],
            "kind": ["missing", "extra", "missing", "reordered"],
        }
    )
    fig = plots.change_kind_bars(changes)
    ax = fig.axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["欠落 (missing)", "追加 (extra)", "順序変更 (reordered)"]
    bars = {}
    for container, kind in zip(
        ax.containers, ["missing", "extra", "reordered"], strict=True
    ):
        bars[kind] = [p.get_height() for p in container]
        assert to_hex(container[0].get_facecolor()) == KIND_COLOURS[kind][0]
    assert bars == {"missing": [2, 0], "extra": [1, 0], "reordered": [0, 1]}
    japanese_renders(fig)


def test_change_bars_from_counts_and_unknown_kinds() -> None:
    counted = pd.DataFrame({"town": ["A市"], "kind": ["split"], "n": [3]})
    fig = plots.change_kind_bars(counted, count="n")
    assert [p.get_height() for p in fig.axes[0].containers[0]] == [3]
    with pytest.raises(HarpflowError, match="unknown change kinds"):
        plots.change_kind_bars(pd.DataFrame({"town": ["A"], "kind": ["moved"]}))
    with pytest.raises(HarpflowError, match="lacks the column"):
        plots.change_kind_bars(pd.DataFrame({"town": ["A"]}))


def test_divergence_by_area(divergences: pd.DataFrame) -> None:
    fig = plots.divergence_by_area(divergences)
    ax = fig.axes[0]
    names = [t.get_text() for t in ax.get_xticklabels()]
    assert names == ["01 住民基本台帳", "02 印鑑登録"]
    dots = sorted(float(y) for c in ax.collections for y in c.get_offsets()[:, 1])
    assert dots == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.7])
    japanese_renders(fig)


def test_plots_draw_on_a_given_axes(divergences: pd.DataFrame) -> None:
    from matplotlib.figure import Figure

    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert plots.divergence_heatmap(divergences, ax=left) is fig
    assert plots.divergence_by_area(divergences, ax=right) is fig


def test_same_table_same_png(divergences: pd.DataFrame) -> None:
    def png() -> bytes:
        buf = io.BytesIO()
        plots.divergence_heatmap(divergences).savefig(
            buf, format="png", metadata={"Software": None}
        )
        return buf.getvalue()

    assert png() == png()


def test_japanese_font_is_registered() -> None:
    from matplotlib import font_manager

    family = plots.japanese_font()
    path = font_manager.findfont(family, fallback_to_default=False)
    assert path
