"""Survey benchmark: Hokkaido-sized surveys built with ``harpflow synth``.

Hokkaido has 179 municipalities. For every standard flow of
``processes/standard`` this writes 179 seeded town variants with
``harpflow synth`` (the same seeds every run), then lays out processes
trees of the first 45, 90 and 179 towns (hard links, no copies) and runs
``harpflow survey TREE -o OUT --jobs N`` on each, end to end: start-up,
reading, matching, diffing, scoring, recommended flows, town distances and
the whole report. For each size it prints wall time, peak memory of the
survey and all its worker processes (resident set sizes summed, sampled
every 0.1 s from ``/proc``; ``psutil`` when installed elsewhere), flows
per second, and the growth exponent ``b`` of ``time ~ towns ** b`` between
consecutive sizes (1 is linear).

Goals: the 179-town survey (one flow per town and standard procedure,
7,000 or more flows) in at most 120 s with 2 workers and under 2 GB peak
memory; growth close to linear.

Usage::

    python benchmarks/bench_survey.py                    # 45, 90, 179 towns
    python benchmarks/bench_survey.py --towns 10,20 --procedures 6
    python benchmarks/bench_survey.py --jobs 2 --keep /tmp/bench-survey

The machine should be otherwise idle; the figures are for the machine it
runs on.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STANDARDS = ROOT / "processes" / "standard"
HARPFLOW = Path(sys.executable).with_name("harpflow")


def synthesise(args: tuple[str, int, int, str]) -> str:
    """Write ``count`` variants of one standard with ``harpflow synth``."""
    from harpflow.cli import main

    standard, count, seed, out = args
    main.main(
        ["synth", standard, "--towns", str(count), "--seed", str(seed), "-o", out],
        standalone_mode=False,
    )
    return out


def build_variants(work: Path, towns: int, procedures: int, jobs: int) -> list[Path]:
    """Variants of every standard under ``work/variants/<area>/<proc>/``."""
    standards = sorted(STANDARDS.glob("*/*.yaml"))[: procedures or None]
    tasks = []
    for seed, std in enumerate(standards, start=1):
        out = work / "variants" / std.parent.name / std.stem
        if len(list(out.glob("T*.bpmn"))) >= towns:
            continue
        tasks.append((str(std), towns, seed, str(out)))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(synthesise, tasks))
    return standards


def lay_out(work: Path, standards: list[Path], towns: int) -> Path:
    """A processes tree of the first ``towns`` variants (hard links)."""
    tree = work / f"tree-{towns}"
    if tree.exists():
        shutil.rmtree(tree)
    for std in standards:
        area, proc = std.parent.name, std.stem
        target = tree / "standard" / area / std.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(std, target)
        for i in range(1, towns + 1):
            town = f"T{i:03d}"
            src = work / "variants" / area / proc / f"{town}.bpmn"
            dest = tree / "towns" / town / area / f"{proc}.bpmn"
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.link(src, dest)
    return tree


def _rss_tree(pid: int) -> int:
    """Resident bytes of a process and all its descendants (Linux /proc)."""
    try:
        import psutil

        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
        total = 0
        for p in procs:
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
        return total
    except ImportError:
        pass
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children", encoding="ascii") as fh:
                    stack += [int(c) for c in fh.read().split()]
        except (OSError, ValueError):
            continue
    return total


def run_survey(tree: Path, out: Path, jobs: int) -> tuple[float, int, dict]:
    """Run ``harpflow survey`` and return wall time, peak memory, summary."""
    cmd = [str(HARPFLOW), "survey", str(tree), "-o", str(out), "--jobs", str(jobs)]
    cmd += ["--json", "--no-progress"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss_tree(proc.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"survey failed ({proc.returncode}):\n{stderr.decode()}")
    return wall, peak, json.loads(stdout)["summary"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--towns", default="45,90,179", help="Survey sizes.")
    parser.add_argument("--jobs", type=int, default=2, help="Worker processes.")
    parser.add_argument(
        "--procedures", type=int, default=0, help="Use the first N standards (0: all)."
    )
    parser.add_argument("--keep", type=Path, default=None, help="Work folder to keep.")
    args = parser.parse_args()
    sizes = sorted(int(t) for t in args.towns.split(","))

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-survey-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        start = time.perf_counter()
        standards = build_variants(work, max(sizes), args.procedures, args.jobs)
        print(
            f"built {len(standards)} standards x {max(sizes)} towns with harpflow "
            f"synth in {time.perf_counter() - start:.0f} s ({work})"
        )
        print(
            f"{'towns':>6} {'flows':>6} {'wall s':>8} {'peak MB':>8} "
            f"{'flows/s':>8} {'ms/flow':>8} {'growth':>7}  (jobs {args.jobs})"
        )
        previous: tuple[int, float] | None = None
        for towns in sizes:
            tree = lay_out(work, standards, towns)
            wall, peak, summary = run_survey(tree, work / f"report-{towns}", args.jobs)
            flows = summary["flows"]
            growth = ""
            if previous is not None:
                b = math.log(wall / previous[1]) / math.log(towns / previous[0])
                growth = f"{b:.2f}"
            print(
                f"{towns:>6} {flows:>6} {wall:>8.1f} {peak / 2**20:>8.0f} "
                f"{flows / wall:>8.1f} {1000 * wall * args.jobs / flows:>8.1f} "
                f"{growth:>7}  errors {summary['errors']}",
                flush=True,
            )
            previous = (towns, wall)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
