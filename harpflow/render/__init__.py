"""Pictures of flows and survey results.

:mod:`harpflow.render.drawing` draws flows as swimlane diagrams (graphviz)
in the BPMN and 業務流れ図 styles; :mod:`harpflow.render.overlay` draws a
town's flow against its standard and a recommended flow coloured by
support; :mod:`harpflow.render.plots` makes the survey plots (matplotlib);
:mod:`harpflow.render.notebook` gives the rich displays used in Jupyter.
"""

from __future__ import annotations

from harpflow.render.drawing import STYLES, draw, pipe, sketch, to_dot, wrap
from harpflow.render.overlay import KIND_COLOURS, draw_diff, draw_support

__all__ = [
    "KIND_COLOURS",
    "STYLES",
    "draw",
    "draw_diff",
    "draw_support",
    "pipe",
    "sketch",
    "to_dot",
    "wrap",
]
