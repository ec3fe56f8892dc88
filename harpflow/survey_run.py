"""Running a survey's tasks: in this process, local processes or Dask.

:func:`run_tasks` applies one task function to a list of argument tuples
and returns the results in the order of the arguments, whatever ran them
and in whatever order they finished, with an optional progress bar.

Examples
--------
>>> run_tasks(divmod, [(7, 2), (9, 4)], jobs=1, progress=False)
[(3, 1), (2, 1)]
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

__all__ = ["progress_enabled", "run_tasks"]

T = TypeVar("T")


def progress_enabled(progress: bool | None) -> bool:
    """Whether to show a progress bar: as asked, else on a terminal or in
    Jupyter.

    Examples
    --------
    >>> progress_enabled(False)
    False
    """
    if progress is not None:
        return progress
    # In a Jupyter kernel (not merely a process that imported ipykernel).
    ipython = sys.modules.get("IPython")
    if ipython is not None:
        shell = ipython.get_ipython()
        if shell is not None and type(shell).__name__ == "ZMQInteractiveShell":
            return True
    stream = sys.stderr
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())


class _NoBar:
    def update(self, n: int = 1) -> None:
        """Nothing to show."""

    def close(self) -> None:
        """Nothing to close."""


def _bar(total: int, progress: bool | None) -> Any:
    if not progress_enabled(progress):
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="harpflow survey", unit="procedure")


def run_tasks(
    func: Callable[..., T],
    tasks: Sequence[tuple[Any, ...]],
    *,
    jobs: int | None = None,
    client: Any = None,
    progress: bool | None = None,
) -> list[T]:
    """``[func(*args) for args in tasks]``, spread over workers.

    Parameters
    ----------
    func : callable
        A module-level function (it is pickled by reference).
    tasks : sequence of tuple
        The arguments of each call.
    jobs : int, optional
        Local worker processes (``os.cpu_count()`` by default); ``1`` runs
        in this process. Ignored when ``client`` is given.
    client : dask.distributed.Client, optional
        Submit the calls to this Dask cluster.
    progress : bool, optional
        Progress bar (see :func:`progress_enabled`).

    Returns
    -------
    list
        The results, in the order of ``tasks``.
    """
    bar = _bar(len(tasks), progress)
    try:
        if client is not None:
            return _on_dask(client, func, tasks, bar)
        workers = min(jobs or os.cpu_count() or 1, max(1, len(tasks)))
        if workers <= 1:
            out = []
            for args in tasks:
                out.append(func(*args))
                bar.update(1)
            return out
        return _on_processes(workers, func, tasks, bar)
    finally:
        bar.close()


def _on_processes(
    workers: int, func: Callable[..., T], tasks: Sequence[tuple[Any, ...]], bar: Any
) -> list[T]:
    results: dict[int, T] = {}
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(func, *args): i for i, args in enumerate(tasks)}
        for fut in as_completed(futures):
            results[futures[fut]] = fut.result()
            bar.update(1)
    return [results[i] for i in range(len(tasks))]


def _on_dask(
    client: Any, func: Callable[..., T], tasks: Sequence[tuple[Any, ...]], bar: Any
) -> list[T]:
    from distributed import as_completed as dask_completed

    futures = [client.submit(func, *args, pure=False) for args in tasks]
    index = {f.key: i for i, f in enumerate(futures)}
    results: dict[int, T] = {}
    for fut in dask_completed(futures):
        results[index[fut.key]] = fut.result()
        bar.update(1)
        fut.release()
    return [results[i] for i in range(len(tasks))]
