"""Coverage-guided fuzzing of one reader with atheris (libFuzzer).

Usage::

    python benchmarks/fuzz_atheris.py mermaid -runs=20000 -timeout=2

atheris is optional (``pip install atheris``); this script is the
coverage-guided complement of ``fuzz_readers.py``. The harpflow reader
modules are instrumented, the seeds of ``fuzz_readers`` are written to a
temporary corpus folder, and libFuzzer mutates towards new coverage. Any
exception other than a HarpflowError is a crash: libFuzzer stops and
writes the input as ``crash-<sha1>`` in the working folder; ``-timeout=2``
makes a case over 2 s a failure too. Copy a crash into
``tests/data/regressions/<reader>-<hash>.<ext>`` to keep it.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import warnings
from pathlib import Path

import atheris

# Instrument harpflow before anything imports it, readers included (read()
# imports them lazily, which would leave them uninstrumented).
with atheris.instrument_imports(include=["harpflow"]):
    import importlib

    from harpflow.errors import HarpflowError
    from harpflow.io import formats, read

    for _fmt in formats():
        if _fmt.name != "vsdx" or importlib.util.find_spec("vsdx"):
            importlib.import_module(_fmt.module)

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fuzz_readers


def main() -> None:
    reader = sys.argv[1]
    if reader not in fuzz_readers.READERS:
        raise SystemExit(f"unknown reader {reader!r}")

    def one(data: bytes) -> None:
        with warnings.catch_warnings(), contextlib.suppress(HarpflowError):
            warnings.simplefilter("ignore")
            read(data, format=reader)

    with tempfile.TemporaryDirectory(prefix=f"harpflow-fuzz-{reader}-") as corpus:
        for i, seed in enumerate(fuzz_readers.seeds(reader)):
            Path(corpus, f"seed{i:04d}").write_bytes(seed)
        args = [sys.argv[0], *sys.argv[2:], "-max_len=200000", corpus]
        atheris.Setup(args, one)
        atheris.Fuzz()


if __name__ == "__main__":
    main()
