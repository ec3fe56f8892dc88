"""Shared fixtures: where the project, its processes and the corpora are.

Test data is found relative to this file, never the working directory. The
corpora (``../shared/corpora`` beside the project) are not part of the
project: a test that needs them skips where they are absent, except under
CI (``CI=true``), where their absence fails the run so that the corpus is
really exercised.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
PROCESSES = ROOT / "processes"
SHARED = ROOT.parent / "shared"
CORPORA = SHARED / "corpora"
#: The keys of ``harpflow stats --json``, exactly and in this order.
STATS_KEYS = [
    "format",
    "nodes",
    "by_type",
    "sequence_flows",
    "message_flows",
    "lanes",
    "pools",
    "data_objects",
]


def corpus(*parts: str) -> Path:
    """Path to a corpus folder; skip (or fail under CI) when it is absent."""
    path = CORPORA.joinpath(*parts)
    if not path.exists():
        message = f"corpus folder {path} is absent"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (required under CI)")
        pytest.skip(message)
    return path


@contextmanager
def dask_cluster(**config: object) -> Iterator[tuple[Any, Any]]:
    """A local Dask cluster of two single-threaded worker processes and a
    client of it, with ``config`` set (``distributed.scheduler.…`` keys);
    skips where ``distributed`` is not installed."""
    distributed = pytest.importorskip("distributed")
    import dask

    with (
        dask.config.set(config),
        distributed.LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield cluster, client
