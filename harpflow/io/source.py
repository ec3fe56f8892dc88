"""Inputs and outputs shared by every reader and writer.

A reader accepts a path, an open binary or text file, ``bytes`` or a
``str`` holding the content. :func:`open_input` turns each of these into an
:class:`Input`: the bytes (read at most up to a size limit) and a name for
messages. :func:`emit` writes a writer's bytes to a path atomically (a
temporary file in the same folder, then a rename), to an open file, or
returns them. :func:`write_folder` writes a whole folder of files so that
it replaces the previous one in one step.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from harpflow.errors import HarpflowError, LimitError, ParseError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "Input",
    "Source",
    "atomic_write",
    "emit",
    "open_input",
    "umask",
    "write_folder",
]

#: Default limit on the size of one input file: 50 MB.
DEFAULT_MAX_BYTES = 50_000_000

Source = str | bytes | bytearray | os.PathLike[str] | IO[bytes] | IO[str]


@dataclass(frozen=True)
class Input:
    """The bytes of one input and the name used in messages.

    ``path`` is set when the input came from a file on disk.
    """

    data: bytes
    name: str
    path: Path | None = None

    @property
    def suffix(self) -> str:
        """Lower-cased suffix of the file name, or ``""``."""
        return Path(self.name).suffix.lower() if self.path or "." in self.name else ""


def _looks_like_content(text: str) -> bool:
    stripped = text.lstrip("\ufeff \t\r\n")
    return "\n" in text or stripped.startswith("<") or len(text) > 4096


def open_input(
    source: Source, *, max_bytes: int = DEFAULT_MAX_BYTES, name: str | None = None
) -> Input:
    """Read ``source`` into an :class:`Input`, refusing more than ``max_bytes``.

    A ``str`` is a path unless it holds a line break or starts with ``<``,
    in which case it is the content itself.

    Raises
    ------
    LimitError
        If the input is larger than ``max_bytes``.
    ParseError
        If the path cannot be opened.

    Examples
    --------
    >>> open_input(b"<a/>").name
    '<bytes>'
    >>> open_input("<a/>").data
    b'<a/>'
    """
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
        label = name or "<bytes>"
        _check_size(len(data), max_bytes, label)
        return Input(data, label)
    if isinstance(source, str) and _looks_like_content(source):
        data = source.encode("utf-8")
        label = name or "<string>"
        _check_size(len(data), max_bytes, label)
        return Input(data, label)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        label = name or str(path)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise ParseError(f"cannot open: {exc.strerror}", source=label) from None
        if path.is_dir():
            raise ParseError("is a folder, not a file", source=label)
        _check_size(size, max_bytes, label)
        try:
            with path.open("rb") as fh:
                # Read what the file holds (plus one byte to see growth),
                # never more than the limit allows.
                data = fh.read(min(size, max_bytes) + 1)
        except OSError as exc:
            raise ParseError(f"cannot read: {exc.strerror}", source=label) from None
        _check_size(len(data), max_bytes, label)
        return Input(data, label, path)
    if hasattr(source, "read"):
        label = name or str(getattr(source, "name", "<file>"))
        chunk: Any = source.read(max_bytes + 1)
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8")
        _check_size(len(chunk), max_bytes, label)
        return Input(bytes(chunk), label)
    raise TypeError(f"cannot read from {type(source).__name__}")


def _check_size(size: int, max_bytes: int, label: str) -> None:
    if size > max_bytes:
        raise LimitError(
            f"file is larger than the limit of {max_bytes:,} bytes "
            "(raise max_bytes to read it)",
            source=label,
        )


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    A reader of ``path`` sees either the old content or the new, never a
    half-written file; the folder is created when missing. The file gets
    the permissions of the file it replaces, or, for a new file, those a
    plain ``open`` would give it (``0o666`` less the umask), not the
    owner-only mode of a temporary file.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), _mode_for(target))
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mode_for(target: Path) -> int:
    """Permission bits for a file written to ``target``."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        return 0o666 & ~umask()


def umask() -> int:
    """The process's umask, read without changing it where Linux tells it
    (``os.umask`` can only be read by setting it, which races with other
    threads).

    Examples
    --------
    >>> 0 <= umask() <= 0o777
    True
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def emit(data: bytes, dest: str | os.PathLike[str] | IO[bytes] | None) -> bytes | None:
    """Deliver a writer's output: to a path (atomically), a file, or back.

    Returns the bytes when ``dest`` is None, else None.
    """
    if dest is None:
        return data
    if isinstance(dest, (str, os.PathLike)):
        atomic_write(dest, data)
        return None
    dest.write(data)
    return None


def write_folder(folder: str | os.PathLike[str], files: Mapping[str, bytes]) -> Path:
    """Write ``files`` (relative path to bytes) into ``folder`` as a whole.

    The files, and every file already in ``folder`` that they do not
    replace, go into a new folder beside it (the kept files as hard
    links, or copies where the file system has none); that folder then
    takes the place of ``folder``. Until then ``folder`` is untouched, so
    an interrupted write -- an exception, a signal, a killed process --
    leaves it as it was, and a folder that was never complete is never
    seen under its name.

    Parameters
    ----------
    folder : path
        The destination folder; created when missing.
    files : mapping of str to bytes
        Paths relative to ``folder`` (``/`` separators, no ``..``).

    Returns
    -------
    Path
        The folder.

    Raises
    ------
    HarpflowError
        For a path that would leave the folder, or a destination that is
        a file.

    Notes
    -----
    Where the operating system can exchange two names in one step (Linux,
    ``renameat2`` with ``RENAME_EXCHANGE``), the old folder is replaced
    atomically. Elsewhere it is first renamed aside, as
    ``.<name>.old-*``, and the new folder renamed into place: a process
    killed between the two renames leaves the previous report whole under
    that name. Leftovers of writes that were killed (``.<name>.new-*``,
    ``.<name>.old-*``) are removed by the next write.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> out = Path(tempfile.mkdtemp()) / "report"
    >>> _ = write_folder(out, {"a.txt": b"1", "sub/b.txt": b"2"})
    >>> _ = write_folder(out, {"a.txt": b"3"})
    >>> (out / "a.txt").read_bytes(), (out / "sub" / "b.txt").read_bytes()
    (b'3', b'2')
    """
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise HarpflowError(f"{target}: the report folder is a file")
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    for rel in files:
        parts = rel.split("/")
        if rel.startswith("/") or ".." in parts or "" in parts:
            raise HarpflowError(f"{rel!r}: a report file must stay in its folder")
    _remove_leftovers(target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=parent))
    try:
        os.chmod(staging, 0o777 & ~umask())
        for rel, data in sorted(files.items()):
            path = staging.joinpath(*rel.split("/"))
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        if target.is_dir():
            _keep_others(target, staging, set(files))
        _swap_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _remove_leftovers(target: Path) -> None:
    for pattern in (f".{target.name}.new-*", f".{target.name}.old-*"):
        for leftover in target.parent.glob(pattern):
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)


def _keep_others(old: Path, new: Path, replaced: set[str]) -> None:
    """Link (or copy) the files of ``old`` that the new report does not
    replace into ``new``."""
    for dirpath, _dirnames, filenames in os.walk(old):
        for name in sorted(filenames):
            src = Path(dirpath, name)
            rel = src.relative_to(old).as_posix()
            if rel in replaced:
                continue
            dest = new / rel
            if dest.exists():  # a folder of the new report has this name
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(src, dest, follow_symlinks=False)
            except OSError:
                shutil.copy2(src, dest, follow_symlinks=False)


def _swap_into_place(new: Path, target: Path) -> None:
    if not target.exists():
        os.rename(new, target)
        return
    if _exchange(new, target):
        shutil.rmtree(new, ignore_errors=True)  # now the previous report
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    aside.rmdir()
    os.rename(target, aside)
    os.rename(new, target)
    shutil.rmtree(aside, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Exchange two paths in one step (Linux ``renameat2``); False where
    the system cannot."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(
        at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange
    )
    return bool(result == 0)
