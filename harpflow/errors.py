"""Exceptions and warnings raised by harpflow.

Every error harpflow raises derives from :class:`HarpflowError`, so a notebook
user can catch all of them with one ``except HarpflowError``. Subclasses say
what went wrong; :class:`ParseError` also says where.

Examples
--------
>>> from harpflow.errors import HarpflowError, ParseError
>>> err = ParseError("flow to a missing id 'x'", source="a.bpmn", line=12,
...                  element="sequenceFlow id='f1'")
>>> str(err)
"a.bpmn:12: sequenceFlow id='f1': flow to a missing id 'x'"
>>> isinstance(err, HarpflowError)
True
"""

from __future__ import annotations

__all__ = [
    "FormatError",
    "HarpflowError",
    "HarpflowWarning",
    "LimitError",
    "MatchError",
    "MissingDependencyError",
    "ModelError",
    "ParseError",
    "WorkerLostError",
]


class HarpflowError(Exception):
    """Root of every exception harpflow raises."""


class HarpflowWarning(UserWarning):
    """Degraded input that was read anyway (an ignored element, a fallback)."""


class ModelError(HarpflowError, ValueError):
    """An operation that would make a :class:`~harpflow.model.Flow` invalid."""


class FormatError(HarpflowError, ValueError):
    """A format that is unknown, or a flow that a format cannot express."""


class MatchError(HarpflowError):
    """Matching, diffing or scoring could not be carried out."""


class WorkerLostError(HarpflowError):
    """A task's worker process died (killed, out of memory, crashed) each
    time the task was run, so the task has no result."""


class MissingDependencyError(HarpflowError, ImportError):
    """An optional dependency (an *extra*) is needed but not installed."""


class ParseError(HarpflowError, ValueError):
    """Input that cannot be read, with the place where reading stopped.

    Parameters
    ----------
    message : str
        What is wrong, in one line.
    source : str, optional
        The file (or ``"<string>"``, ``"<bytes>"``) being read.
    line : int, optional
        The 1-based line of the offending element or row.
    element : str, optional
        The element, row or cell, e.g. ``"sequenceFlow id='f1'"`` or
        ``"row 4, column 次"``.

    Attributes
    ----------
    message, source, line, element
        As given; all appear in ``str(error)``.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        element: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.element = element
        super().__init__(str(self))

    def __str__(self) -> str:
        place = self.source or "<input>"
        if self.line is not None:
            place = f"{place}:{self.line}"
        if self.element:
            return f"{place}: {self.element}: {self.message}"
        return f"{place}: {self.message}"

    def __reduce__(self) -> tuple[object, ...]:
        # Keep the keyword-only fields when an error crosses a process boundary.
        return (
            _rebuild_parse_error,
            (type(self), self.message, self.source, self.line, self.element),
        )


class LimitError(ParseError):
    """Input larger or deeper than a configured limit allows."""


def _rebuild_parse_error(
    cls: type[ParseError],
    message: str,
    source: str | None,
    line: int | None,
    element: str | None,
) -> ParseError:
    return cls(message, source=source, line=line, element=element)
