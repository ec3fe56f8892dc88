"""Speed of the BPMN reader against a bare lxml parse of the same files.

Times ``harpflow.read`` over the 274 ``.bpmn`` files of the MIWG corpus
(``../shared/corpora/miwg``) and, in the same run and the same process,
``lxml.etree.parse`` of the same files with lxml's default parser. Each is
repeated a few times (interleaved, after one warm-up pass that also fills
the OS file cache) and the median total is reported, with the ratio of the
two. The goal is a ratio of at most 3: reading a flow (hardened parse,
model, lanes, DI) should cost no more than three bare parses.

Two IBM files declare a namespace URI containing a space, which lxml's
default parser rejects; the bare parse of those is timed up to that error,
and harpflow reads them through its documented fallback.

Run: ``python benchmarks/bench_read.py [--repeat N] [--corpus DIR]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

from lxml import etree

import harpflow
from harpflow.errors import HarpflowWarning
from harpflow.io.bpmn import read_bpmn
from harpflow.io.source import Input, open_input
from harpflow.io.xml import parse_xml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "corpora" / "miwg"


def bare(files: list[Path]) -> int:
    """Parse every file with lxml's default parser; count the failures."""
    failed = 0
    for path in files:
        try:
            etree.parse(str(path))
        except etree.XMLSyntaxError:
            failed += 1
    return failed


def full(files: list[Path]) -> int:
    """Read every file with harpflow; return the number of nodes read."""
    nodes = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HarpflowWarning)
        for path in files:
            nodes += len(harpflow.read(path))
    return nodes


def hardened(inputs: list[Input]) -> int:
    """Only the hardened parse every XML reader goes through."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HarpflowWarning)
        for inp in inputs:
            parse_xml(inp)
    return len(inputs)


def reader(inputs: list[Input]) -> int:
    """Only the BPMN reader, from bytes already read."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HarpflowWarning)
        return sum(len(read_bpmn(inp)) for inp in inputs)


def timed(fn: object, files: object) -> float:
    start = time.perf_counter()
    fn(files)  # type: ignore[operator]
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--corpus", type=Path, default=DEFAULT)
    args = parser.parse_args(argv)
    files = sorted(args.corpus.rglob("*.bpmn"))
    if not files:
        print(f"no .bpmn files under {args.corpus}", file=sys.stderr)
        return 1
    size = sum(p.stat().st_size for p in files)
    failed = bare(files)
    nodes = full(files)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HarpflowWarning)
        inputs = [open_input(p) for p in files]
    times: dict[str, list[float]] = {"lxml": [], "read": [], "parse": [], "bpmn": []}
    for _ in range(args.repeat):
        times["lxml"].append(timed(bare, files))
        times["read"].append(timed(full, files))
        times["parse"].append(timed(hardened, inputs))
        times["bpmn"].append(timed(reader, inputs))
    med = {k: statistics.median(v) for k, v in times.items()}
    t_lxml, t_read = med["lxml"], med["read"]
    print(f"files: {len(files)} ({size / 1e6:.1f} MB), nodes read: {nodes}")
    print(f"lxml.etree.parse: {t_lxml * 1000:8.1f} ms  ({failed} files rejected)")
    print(f"harpflow.read:    {t_read * 1000:8.1f} ms")
    print("  of which, from bytes already read:")
    print(f"  parse_xml:      {med['parse'] * 1000:8.1f} ms  (hardened parse)")
    print(f"  read_bpmn:      {med['bpmn'] * 1000:8.1f} ms  (parse and model)")
    print(
        f"ratio:            {t_read / t_lxml:8.2f}"
        f"  (goal <= 3, median of {args.repeat})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
