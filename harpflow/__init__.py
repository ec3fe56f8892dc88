"""harpflow: business-process gap analysis for local government.

harpflow reads the business flows (業務フロー) of many municipalities in the
formats they really use, lines each up against a standard flow, explains
every difference, scores how far each town is from the standard, and
proposes one recommended flow the towns could share.

The package root keeps a small public surface; heavier parts are imported
on first use.

Examples
--------
>>> import harpflow
>>> flow = harpflow.read('''
... steps:
...   - {番号: S, 作業: 開始, 種別: 開始, 次: [1]}
...   - {番号: 1, 担当: 窓口, 作業: 受付, 次: [E]}
...   - {番号: E, 作業: 終了, 種別: 終了}
... ''', format="yaml")
>>> flow.stats()["nodes"]
3
"""

from __future__ import annotations

from typing import Any

from harpflow.diff import FlowDiff, diff
from harpflow.errors import (
    FormatError,
    HarpflowError,
    HarpflowWarning,
    LimitError,
    MatchError,
    ModelError,
    ParseError,
)
from harpflow.io import read, write
from harpflow.match import Matching, match
from harpflow.model import Edge, Flow, Node
from harpflow.score import Divergence, score
from harpflow.unify import Recommendation, unify

__version__ = "0.1.0"

__all__ = [
    "Divergence",
    "Edge",
    "Flow",
    "FlowDiff",
    "FormatError",
    "HarpflowError",
    "HarpflowWarning",
    "LimitError",
    "MatchError",
    "Matching",
    "ModelError",
    "Node",
    "ParseError",
    "Recommendation",
    "__version__",
    "diff",
    "match",
    "read",
    "score",
    "unify",
    "write",
]

# Names served lazily from their modules (heavy imports wait for first use).
# The functions named like their modules (match, diff, score, unify) are imported
# above: importing a submodule binds its name on the package, which would
# otherwise hide the function behind the module.
_LAZY = {
    "Survey": "harpflow.survey",
    "areas": "harpflow.areas",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'harpflow' has no attribute {name!r}")
    import importlib

    mod = importlib.import_module(module)
    return mod if name == "areas" else getattr(mod, name)
