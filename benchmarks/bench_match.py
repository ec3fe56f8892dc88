"""Quality and speed of harpflow's step matcher, against baselines.

Quality: micro precision, recall and F1 over correspondences (a one-to-many
pair counts as its member pairs), per gold file and overall, for harpflow's
matcher, two ablations of it (``hf-labels-only``: no neighbourhood, no
groups; ``hf-no-glossary``: no synonym clusters) and two label-only
baselines run on the same data:

* ``greedy-lev``: the greedy label matcher of Dijkman et al. (2009) without
  its structural part -- pairs of activities in descending order of the
  Levenshtein similarity of their lower-cased labels, each node used once,
  down to a threshold of 0.5;
* ``exact``: activities whose lower-cased, whitespace-collapsed labels are
  identical (the trivial baseline of the process model matching contests).

Gold pairs cover activities (tasks, sub-processes, call activities), so
predictions are scored on activity pairs only.

A gold folder is either laid out like ``processes/gold``
(``<town>/<area>/<procedure>.csv``, the standard flow found under
``processes/standard/<area>/<procedure>.*`` and the town flow under
``processes/towns/<town>/<area>/<procedure>.*``), or holds CSV files whose
``# a:`` and ``# b:`` header lines name the two flow files (relative to the
CSV, the project, or the shared corpora folder).

Speed: median wall time of ``match`` on generated flows of 30 and 100
steps (real labels of the standard flows, reworded with glossary synonyms
and okurigana variants, steps dropped and merged), with the label caches
cleared before every run.

Usage::

    python benchmarks/bench_match.py [GOLD_FOLDER ...] [--json] [--errors]

With no folder, ``processes/gold`` and ``benchmarks/gold/hdbpmn`` (the
development sets the matcher's constants were set on) and
``benchmarks/gold/hdbpmn-test`` (six more hdBPMN pairs written afterwards,
never tuned on) are used.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rapidfuzz.distance import Levenshtein  # noqa: E402

import harpflow  # noqa: E402
from harpflow.glossary import Glossary  # noqa: E402
from harpflow.io import format_for  # noqa: E402
from harpflow.io.alignment import csv_metadata, read_correspondences_csv  # noqa: E402
from harpflow.match import match  # noqa: E402
from harpflow.model import Flow  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora"
DEFAULT_FOLDERS = [
    ROOT / "processes" / "gold",
    ROOT / "benchmarks" / "gold" / "hdbpmn",
    ROOT / "benchmarks" / "gold" / "hdbpmn-test",
]
Pair = tuple[str, str]


# -- baselines ----------------------------------------------------------------


def _plain(label: str) -> str:
    return re.sub(r"\s+", " ", label).strip().lower()


def baseline_greedy_lev(a: Flow, b: Flow, threshold: float = 0.5) -> set[Pair]:
    """Greedy label matching (Dijkman et al. 2009, label similarity only)."""
    acts_a = [n for n in a.steps()]
    acts_b = [n for n in b.steps()]
    scored = sorted(
        (
            (Levenshtein.normalized_similarity(_plain(x.label), _plain(y.label)), i, j)
            for i, x in enumerate(acts_a)
            for j, y in enumerate(acts_b)
        ),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    out: set[Pair] = set()
    for score, i, j in scored:
        if score < threshold:
            break
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        out.add((acts_a[i].id, acts_b[j].id))
    return out


def baseline_exact(a: Flow, b: Flow) -> set[Pair]:
    """Activities with identical lower-cased labels."""
    by_label: dict[str, list[str]] = {}
    for n in b.steps():
        by_label.setdefault(_plain(n.label), []).append(n.id)
    return {
        (n.id, m) for n in a.steps() for m in by_label.get(_plain(n.label), ()) if m
    }


def harpflow_pairs(a: Flow, b: Flow) -> set[Pair]:
    """harpflow's matcher, member pairs of activities."""
    return match(a, b).member_pairs()


def harpflow_labels_only(a: Flow, b: Flow) -> set[Pair]:
    """Ablation: harpflow's label similarity and assignment only."""
    return match(a, b, structure=0.0, iterations=0, one_to_many=False).member_pairs()


def harpflow_no_glossary(a: Flow, b: Flow) -> set[Pair]:
    """Ablation: harpflow without synonym clusters."""
    return match(a, b, glossary=Glossary()).member_pairs()


METHODS = {
    "harpflow": harpflow_pairs,
    "greedy-lev": baseline_greedy_lev,
    "exact": baseline_exact,
    "hf-labels-only": harpflow_labels_only,
    "hf-no-glossary": harpflow_no_glossary,
}
BASELINES = ("greedy-lev", "exact")


# -- gold ----------------------------------------------------------------------


@dataclass
class Case:
    name: str
    gold_file: Path
    a: Flow
    b: Flow
    gold: set[Pair]


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


def _find_flow(folder: Path, stem: str) -> Path | None:
    if not folder.is_dir():
        return None
    for path in sorted(folder.iterdir()):
        if path.stem == stem and format_for(path) is not None:
            return path
    return None


def _resolve(ref: str, csv_path: Path) -> Path | None:
    for base in (csv_path.parent, ROOT, CORPORA):
        candidate = (base / ref).resolve()
        if candidate.exists():
            return candidate
    return None


def load_cases(folder: Path) -> tuple[list[Case], list[str]]:
    """The gold cases of a folder, and messages for files that were skipped."""
    cases: list[Case] = []
    skipped: list[str] = []
    for gold_file in sorted(folder.rglob("*.csv")):
        meta = csv_metadata(gold_file)
        if "a" in meta and "b" in meta:
            path_a, path_b = (
                _resolve(meta["a"], gold_file),
                _resolve(meta["b"], gold_file),
            )
            name = gold_file.stem
        else:
            rel = gold_file.relative_to(folder).parts
            if len(rel) != 3:
                skipped.append(f"{gold_file}: not <town>/<area>/<procedure>.csv")
                continue
            town, area, procedure = rel[0], rel[1], Path(rel[2]).stem
            processes = folder.parent
            path_a = _find_flow(processes / "standard" / area, procedure)
            path_b = _find_flow(processes / "towns" / town / area, procedure)
            name = f"{town}/{area}/{procedure}"
        if path_a is None or path_b is None:
            skipped.append(f"{gold_file}: flow files not found")
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                a, b = harpflow.read(path_a), harpflow.read(path_b)
            rows = read_correspondences_csv(gold_file)
        except harpflow.HarpflowError as exc:
            skipped.append(f"{gold_file}: {exc}")
            continue
        gold = {
            (r.standard, r.town)
            for r in rows
            if r.relation == "="
            and r.standard in a
            and r.town in b
            and a.nodes[r.standard].is_activity
            and b.nodes[r.town].is_activity
        }
        cases.append(Case(name, gold_file, a, b, gold))
    return cases, skipped


def evaluate(
    cases: list[Case], method: str, *, errors: bool = False
) -> dict[str, Score]:
    scores: dict[str, Score] = {}
    for case in cases:
        predicted = {
            (x, y)
            for x, y in METHODS[method](case.a, case.b)
            if case.a.nodes[x].is_activity and case.b.nodes[y].is_activity
        }
        s = Score(
            len(predicted & case.gold),
            len(predicted - case.gold),
            len(case.gold - predicted),
        )
        if errors:
            la = {n: " ".join(case.a.nodes[n].label.split()) for n in case.a.nodes}
            lb = {n: " ".join(case.b.nodes[n].label.split()) for n in case.b.nodes}
            for x, y in sorted(predicted - case.gold):
                s.errors.append(f"  FP {x}={y}: {la[x]} = {lb[y]}")
            for x, y in sorted(case.gold - predicted):
                s.errors.append(f"  FN {x}={y}: {la[x]} = {lb[y]}")
        scores[case.name] = s
    return scores


# -- speed ---------------------------------------------------------------------


def _label_pool() -> list[str]:
    labels: list[str] = []
    for path in sorted((ROOT / "processes" / "standard").rglob("*.yaml")):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                flow = harpflow.read(path)
        except harpflow.HarpflowError:
            continue
        labels.extend(n.label for n in flow.steps() if n.label)
    return sorted(set(labels)) or [f"作業{i}" for i in range(200)]


_REWORD = [("受付", "受理"), ("確認", "審査"), ("入力", "登録"), ("通知", "送付"),
           ("申込", "申し込み"), ("決裁", "承認"), ("届出", "届け出")]  # fmt: skip


def synthetic_pair(steps: int, seed: int) -> tuple[Flow, Flow]:
    """A flow of ``steps`` activities and a reworded, perturbed variant."""
    rng = random.Random(seed)
    pool = _label_pool()
    labels = [pool[rng.randrange(len(pool))] for _ in range(steps)]
    lanes = ["住民", "窓口", "担当", "審査", "決裁", "システム"]

    def build(name: str, items: list[tuple[str, str]]) -> Flow:
        flow = Flow(name)
        flow.add_node("s", type="startEvent", label="開始")
        prev = "s"
        for k, (label, lane) in enumerate(items):
            node = f"{name}{k}"
            flow.add_node(node, label=label, lane=lane)
            if k % 7 == 6:  # a decision every few steps, with a rework loop
                gw = f"{name}g{k}"
                flow.add_node(gw, type="exclusiveGateway", label="可否")
                flow.add_edge(prev, gw)
                flow.add_edge(gw, node, label="可")
                flow.add_edge(gw, prev, label="否") if prev != "s" else None
            else:
                flow.add_edge(prev, node)
            prev = node
        flow.add_node("e", type="endEvent", label="終了")
        flow.add_edge(prev, "e")
        return flow

    items = [(lab, lanes[rng.randrange(len(lanes))]) for lab in labels]
    variant: list[tuple[str, str]] = []
    for lab, lane in items:
        r = rng.random()
        if r < 0.1:
            continue  # dropped step
        for old, new in _REWORD:
            if old in lab and rng.random() < 0.5:
                lab = lab.replace(old, new)
        if r > 0.92 and variant:
            prev_lab, prev_lane = variant.pop()
            lab = f"{prev_lab}・{lab}"
            lane = prev_lane
        variant.append((f"（{len(variant) + 1}）{lab}", lane))
    return build("a", items), build("b", variant)


def speed(steps: int, runs: int = 15) -> tuple[float, float, int, int]:
    """Median wall and CPU milliseconds of one match; the two flows' sizes."""
    from harpflow import text

    a, b = synthetic_pair(steps, seed=steps)
    match(a, b)  # tokenizer and glossary loaded once per process
    wall, cpu = [], []
    for _ in range(runs):
        text._normalise_cached.cache_clear()
        text.tokens_ja.cache_clear()
        start, start_cpu = time.perf_counter(), time.process_time()
        match(a, b)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return (
        statistics.median(wall) * 1000.0,
        statistics.median(cpu) * 1000.0,
        len(a.steps()),
        len(b.steps()),
    )


# -- report ---------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--errors", action="store_true", help="list FP and FN")
    parser.add_argument("--no-speed", action="store_true")
    args = parser.parse_args(argv)
    folders = args.folders or DEFAULT_FOLDERS
    report: dict[str, object] = {"sets": {}}
    lines: list[str] = []
    for folder in folders:
        cases, skipped = load_cases(folder)
        results = {m: evaluate(cases, m, errors=args.errors) for m in METHODS}
        overall = {}
        for method, per_file in results.items():
            total = Score()
            for s in per_file.values():
                total.add(s)
            overall[method] = total
        report["sets"][str(folder)] = {  # type: ignore[index]
            "files": len(cases),
            "skipped": skipped,
            "overall": {m: s.as_dict() for m, s in overall.items()},
            "per_file": {
                c.name: {m: results[m][c.name].as_dict() for m in METHODS}
                for c in cases
            },
        }
        lines.append(f"== {folder} ({len(cases)} files, {len(skipped)} skipped)")
        lines.append(f"{'file':44s} " + "  ".join(f"{m:>18s}" for m in METHODS))
        for c in cases:
            cells = "  ".join(
                f"{f'P{s.precision:.2f} R{s.recall:.2f} F{s.f1:.2f}':>18s}"
                for s in (results[m][c.name] for m in METHODS)
            )
            lines.append(f"{c.name:44s} {cells}")
            if args.errors:
                lines.extend(results["harpflow"][c.name].errors)
        lines.append("overall (micro):")
        for m, s in overall.items():
            lines.append(
                f"  {m:15s} P {s.precision:.3f}  R {s.recall:.3f}  F1 {s.f1:.3f}"
                f"  (tp {s.tp}, fp {s.fp}, fn {s.fn})"
            )
        best = max((overall[m].f1 for m in BASELINES), default=0)
        lines.append(
            f"  harpflow F1 - best baseline F1 = {overall['harpflow'].f1 - best:+.3f}"
        )
        lines.extend(f"  skipped: {msg}" for msg in skipped)
    if not args.no_speed:
        timing = {}
        for n, goal in ((30, 20), (100, 200)):
            wall, cpu, size_a, size_b = speed(n)
            timing[f"{n} steps"] = {"wall_ms": round(wall, 2), "cpu_ms": round(cpu, 2)}
            lines.append(
                f"speed, {n} steps ({size_a} and {size_b} activities, label "
                f"caches cleared): median {wall:.1f} ms wall, {cpu:.1f} ms CPU "
                f"(goal {goal} ms)"
            )
        report["speed_ms_median"] = timing
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
