"""Running a survey's tasks: in this process, local processes or Dask.

:func:`run_tasks` applies one task function to a list of argument tuples
and returns the results in the order of the arguments, whatever ran them
and in whatever order they finished, with an optional progress bar.

A worker process that dies under a task (killed, out of memory, a crash in
a compiled library) does not end the run. With local processes, the tasks
that had not finished are run again in a fresh pool; after a second loss
each of them runs alone in a pool of its own, so that the one that kills
its worker is told apart from those that merely shared the pool with it.
Dask reschedules a task whose worker died by itself and gives up after
its ``distributed.scheduler.allowed-failures`` (``KilledWorker``). A task
lost either way gets the result of the ``lost`` callback, or raises
:class:`~harpflow.errors.WorkerLostError` without one. Exceptions that a
task raises are not retried: they are the task's own and are raised.

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
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from harpflow.errors import WorkerLostError

__all__ = ["progress_enabled", "run_tasks"]

#: A task's args and why it was lost, to the result standing in for it.
Lost = Callable[[tuple[Any, ...], str], Any]

#: Pools (of all the workers) a task may lose before it is run alone.
SHARED_ATTEMPTS = 2

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
    lost: Lost | None = None,
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
    lost : callable, optional
        ``lost(args, reason)`` gives the result of a task whose worker
        process died each time it ran (see the module notes).

    Returns
    -------
    list
        The results, in the order of ``tasks``.

    Raises
    ------
    WorkerLostError
        A task's worker died each time it ran, and no ``lost`` was given.
    """
    bar = _bar(len(tasks), progress)
    try:
        if client is not None:
            return _on_dask(client, func, tasks, bar, lost)
        workers = min(jobs or os.cpu_count() or 1, max(1, len(tasks)))
        if workers <= 1:
            out = []
            for args in tasks:
                out.append(func(*args))
                bar.update(1)
            return out
        return _on_processes(workers, func, tasks, bar, lost)
    finally:
        bar.close()


def _give_up(args: tuple[Any, ...], reason: str, lost: Lost | None) -> Any:
    if lost is None:
        raise WorkerLostError(f"task {args!r}: {reason}")
    return lost(args, reason)


def _on_processes(
    workers: int,
    func: Callable[..., T],
    tasks: Sequence[tuple[Any, ...]],
    bar: Any,
    lost: Lost | None,
) -> list[T]:
    results: dict[int, T] = {}
    pending = list(range(len(tasks)))
    for _ in range(SHARED_ATTEMPTS):
        if pending:
            pending = _pool_round(workers, func, tasks, pending, results, bar)
    # Each task that is left runs alone: only the one that kills its worker
    # is lost.
    for i in pending:
        if _pool_round(1, func, tasks, [i], results, bar):
            reason = "its worker process died each time it ran, the last time alone"
            results[i] = _give_up(tasks[i], reason, lost)
            bar.update(1)
    return [results[i] for i in range(len(tasks))]


def _pool_round(
    workers: int,
    func: Callable[..., T],
    tasks: Sequence[tuple[Any, ...]],
    indices: list[int],
    results: dict[int, T],
    bar: Any,
) -> list[int]:
    """Run ``indices`` in one pool; the indices left when a worker died."""
    with ProcessPoolExecutor(max_workers=min(workers, len(indices))) as pool:
        futures = {pool.submit(func, *tasks[i]): i for i in indices}
        try:
            for fut in as_completed(futures):
                results[futures[fut]] = fut.result()
                bar.update(1)
        except BrokenProcessPool:
            return [i for i in indices if i not in results]
    return []


def _on_dask(
    client: Any,
    func: Callable[..., T],
    tasks: Sequence[tuple[Any, ...]],
    bar: Any,
    lost: Lost | None,
) -> list[T]:
    from distributed import as_completed as dask_completed
    from distributed.scheduler import KilledWorker

    futures = [client.submit(func, *args, pure=False) for args in tasks]
    index = {f.key: i for i, f in enumerate(futures)}
    results: dict[int, T] = {}
    for fut in dask_completed(futures):
        i = index[fut.key]
        try:
            results[i] = fut.result()
        except KilledWorker as exc:
            results[i] = _give_up(tasks[i], f"Dask lost its workers: {exc}", lost)
        bar.update(1)
        fut.release()
    return [results[i] for i in range(len(tasks))]
