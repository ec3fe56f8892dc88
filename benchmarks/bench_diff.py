"""Quality and speed of diff and score.

1. Synthetic variants: every operator of :mod:`harpflow.synth` applied
   alone to every standard flow under ``processes/standard`` (a few seeds
   each, with orthographic relabelling and some coarse synonyms), and
   variants with two to four operators at once. Detected changes are
   compared with the ground truth: a detected change is right when its
   kind equals a true change's kind and they share a standard or town id
   (one-to-one, as many pairs as possible, the best-agreeing ids first:
   see :func:`compare`). Codes are compared on the pairs so found, for
   true changes that carry a code.
2. The hand-written gold of ``processes/gold``: the same figures against
   its change rows (``relabelled`` left out on both sides: the gold
   writers noted wording differences only now and then).
3. The structure component against an exact graph edit distance
   (``networkx.graph_edit_distance``) with the same costs
   (:func:`harpflow.score.substitution_cost`): a hand-made 10-node flow
   and every standard flow of ``processes/`` (17 to 36 nodes), against
   variants with one, two and three deviations. A pair exact GED does
   not finish within the timeout (30 s) is left out and counted. Per
   group and over all pairs: mean and worst absolute difference (both
   normalised to [0, 1]), the mean relative difference, and the time of
   exact GED against a fresh matching plus the structure component (the
   ratio of the mean times, and the median of the pairs' ratios) and
   against the whole diff and score; every timed run starts with the
   labels tokenised. Exact GED is exponential in the
   size of the edit, so the ratio grows quickly with the number of
   deviations: on flows that differ in one step it finishes in tens of
   milliseconds. networkx's search is not always exact on directed graphs
   with unequal node costs (``tests/test_ged.py`` compares with an
   enumeration instead); a pair where ours is lower by more than 0.001 is
   counted ("ours lower").
4. Speed: median time of diff plus score of two 30-step flows.

Run: ``python benchmarks/bench_diff.py [--quick] [--misses]`` (``--misses``
lists every synthetic miss and every disagreement with the gold).
"""

from __future__ import annotations

import argparse
import csv
import gc
import statistics
import sys
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

import networkx as nx

import harpflow
from harpflow.diff import Change, diff
from harpflow.glossary import default_glossary
from harpflow.model import Flow
from harpflow.score import (
    score,
    substitution_cost,
)
from harpflow.synth import OPERATORS, TruthChange, variant

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = ROOT / "processes"


class Tally:
    """Counts of found, true and right changes and codes."""

    def __init__(self) -> None:
        self.detected = 0
        self.truth = 0
        self.hits = 0
        self.coded_truth = 0
        self.coded_detected = 0
        self.code_hits = 0

    def add(self, other: Tally) -> None:
        for key in vars(self):
            setattr(self, key, getattr(self, key) + getattr(other, key))

    @staticmethod
    def _ratio(a: int, b: int) -> float:
        return a / b if b else 1.0

    def row(self, name: str) -> str:
        kp = self._ratio(self.hits, self.detected)
        kr = self._ratio(self.hits, self.truth)
        cp = self._ratio(self.code_hits, self.coded_detected)
        cr = self._ratio(self.code_hits, self.coded_truth)
        return (
            f"{name:<14} {self.truth:>6} {self.detected:>6}   "
            f"{kp:6.3f} {kr:6.3f}   {cp:6.3f} {cr:6.3f}"
        )


HEADER = (
    f"{'':<14} {'true':>6} {'found':>6}   {'kind P':>6} {'kind R':>6}   "
    f"{'code P':>6} {'code R':>6}"
)


def compare(
    detected: Sequence[Change],
    truth: Sequence[TruthChange],
    paired: list[tuple[int, int]] | None = None,
) -> Tally:
    """Pair detected and true changes by kind and place; count codes.

    A detected change may stand for a true one when their kinds are equal
    and they share a standard or a town id. Among such pairs, as many as
    possible are made (an assignment, not a greedy pass in row order), and
    among the largest sets of pairs, the one whose ids agree best (the
    Jaccard index of their id sets): so a change that merely overlaps a
    true change never takes the place of one that names it exactly. The
    pairs made (index into ``truth``, index into ``detected``) are added to
    ``paired`` when given.
    """
    from scipy.optimize import linear_sum_assignment

    tally = Tally()
    tally.detected = len(detected)
    tally.truth = len(truth)
    tally.coded_truth = sum(1 for t in truth if t.code)
    weight = [[0.0] * len(detected) for _ in truth]
    for i, t in enumerate(truth):
        ids_t = {("s", x) for x in t.standard} | {("t", x) for x in t.town}
        for j, c in enumerate(detected):
            if c.kind != t.kind:
                continue
            if not (set(c.standard) & set(t.standard) or set(c.town) & set(t.town)):
                continue
            ids_c = {("s", x) for x in c.standard} | {("t", x) for x in c.town}
            # one more pair always outweighs better agreement of the ids
            weight[i][j] = 10.0 + len(ids_t & ids_c) / len(ids_t | ids_c)
    used: set[int] = set()
    if truth and detected:
        rows, cols = linear_sum_assignment(weight, maximize=True)
        for i, j in zip(rows, cols, strict=True):
            if weight[i][j] <= 0.0:
                continue
            used.add(int(j))
            tally.hits += 1
            if paired is not None:
                paired.append((int(i), int(j)))
            t, c = truth[i], detected[j]
            if t.code:
                if c.code:
                    tally.coded_detected += 1
                if c.code == t.code:
                    tally.code_hits += 1
    # Codes given to changes that are not true changes count against precision.
    tally.coded_detected += sum(
        1 for j, c in enumerate(detected) if c.code and j not in used
    )
    return tally


def standards() -> list[tuple[str, Flow]]:
    out = []
    for path in sorted((PROCESSES / "standard").glob("*/*.yaml")):
        out.append((str(path.relative_to(PROCESSES)), harpflow.read(path)))
    return out


def synthetic(quick: bool) -> tuple[Tally, dict[str, Tally], int, list[str]]:
    """Single-operator and multi-operator variants of every standard."""
    per_op: dict[str, Tally] = defaultdict(Tally)
    overall = Tally()
    count = 0
    misses: list[str] = []
    seeds = 1 if quick else 2
    flows = standards()
    for index, (name, std) in enumerate(flows):
        plans: list[list[str]] = [[op] for op in sorted(OPERATORS)] * seeds
        import random

        rng = random.Random(index)
        for _ in range(2 if quick else 4):
            plans.append(rng.sample(sorted(OPERATORS), rng.randint(2, 4)))
        for j, ops in enumerate(plans):
            v = variant(std, ops, seed=1000 * index + j, orthography=0.5, synonyms=0.1)
            if not v.operators:
                continue
            count += 1
            d = diff(std, v.flow)
            tally = compare(list(d), v.truth)
            overall.add(tally)
            if len(ops) == 1:
                per_op[ops[0]].add(tally)
                if tally.hits < tally.truth or tally.hits < tally.detected:
                    misses.append(
                        f"{name} {ops[0]} seed {v.seed}: true "
                        f"{[(t.kind, t.code) for t in v.truth]} found "
                        f"{[(c.kind, c.code) for c in d]}"
                    )
    return overall, dict(per_op), count, misses


def gold_changes(path: Path) -> list[TruthChange]:
    rows = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            kind = (row.get("kind") or "").strip()
            if not kind:
                continue
            std = tuple(i for i in (row.get("standard") or "").split() if i)
            town = tuple(i for i in (row.get("town") or "").split() if i)
            code = (row.get("code") or "").strip() or None
            rows.append(TruthChange(kind, code, std, town, "gold"))
    # One merge or split is written as one row per member: join them.
    joined: list[TruthChange] = []
    for row in rows:
        for i, prev in enumerate(joined):
            if (
                row.kind == prev.kind
                and row.kind in ("merged", "split")
                and (
                    set(row.standard) & set(prev.standard)
                    if row.kind == "split"
                    else set(row.town) & set(prev.town)
                )
            ):
                joined[i] = TruthChange(
                    prev.kind,
                    prev.code,
                    tuple(dict.fromkeys(prev.standard + row.standard)),
                    tuple(dict.fromkeys(prev.town + row.town)),
                    "gold",
                )
                break
        else:
            joined.append(row)
    return joined


class KindTally:
    """Per change kind: right, missed and wrongly reported changes."""

    def __init__(self) -> None:
        self.right: Counter[str] = Counter()
        self.missed: Counter[str] = Counter()
        self.wrong: Counter[str] = Counter()

    def rows(self) -> list[str]:
        kinds = sorted(set(self.right) | set(self.missed) | set(self.wrong))
        out = [f"{'kind':<18} {'right':>6} {'missed':>6} {'wrong':>6}"]
        for k in kinds:
            out.append(
                f"{k:<18} {self.right[k]:>6} {self.missed[k]:>6} {self.wrong[k]:>6}"
            )
        return out


def gold(
    misses: list[str] | None = None, kinds: KindTally | None = None
) -> tuple[Tally, Counter[str], int]:
    """The hand-written gold of processes/gold; every disagreement is
    added to ``misses`` and counted by kind in ``kinds`` when given."""
    overall = Tally()
    per_kind: Counter[str] = Counter()
    files = 0
    for path in sorted((PROCESSES / "gold").glob("*/*/*.csv")):
        town_id, area, proc = path.parts[-3], path.parts[-2], path.stem
        std_path = PROCESSES / "standard" / area / f"{proc}.yaml"
        town_files = sorted((PROCESSES / "towns" / town_id / area).glob(f"{proc}.*"))
        if not std_path.exists() or not town_files:
            continue
        std, town = harpflow.read(std_path), harpflow.read(town_files[0])
        # The gold records wording differences only now and then, so
        # relabelled changes are left out on both sides.
        truth = [t for t in gold_changes(path) if t.kind != "relabelled"]
        found = [c for c in diff(std, town) if c.kind != "relabelled"]
        paired: list[tuple[int, int]] = []
        overall.add(compare(found, truth, paired))
        per_kind.update(t.kind for t in truth)
        files += 1
        hit_truth, hit_found = {i for i, _ in paired}, {j for _, j in paired}
        where = f"{town_id}/{area}/{proc}"
        for i, t in enumerate(truth):
            if kinds is not None:
                (kinds.right if i in hit_truth else kinds.missed)[t.kind] += 1
            if misses is not None and i not in hit_truth:
                misses.append(
                    f"missed {where} {t.kind} {t.code} "
                    f"standard={list(t.standard)} town={list(t.town)}"
                )
        for j, c in enumerate(found):
            if j in hit_found:
                continue
            if kinds is not None:
                kinds.wrong[c.kind] += 1
            if misses is not None:
                misses.append(
                    f"wrong  {where} {c.kind} {c.code} "
                    f"standard={list(c.standard)} town={list(c.town)} {c.note}"
                )
    return overall, per_kind, files


def _ged_costs(a: Flow, b: Flow) -> dict[str, object]:
    """The structure component's costs (:func:`substitution_cost`); a
    substitution it never makes costs 100, so that exact GED never makes
    it either (at 2, the price of a deletion and an insertion, it would
    still keep the node's flows)."""
    gloss = default_glossary()

    def subst(x: dict[str, object], y: dict[str, object]) -> float:
        cost = substitution_cost(
            str(x["type"]), str(x["label"]), str(y["type"]), str(y["label"]), gloss
        )
        return 100.0 if cost is None else cost

    return {
        "node_subst_cost": subst,
        "node_del_cost": lambda x: 1.0,
        "node_ins_cost": lambda x: 1.0,
        "edge_subst_cost": lambda x, y: 0.0,
        "edge_del_cost": lambda x: 1.0,
        "edge_ins_cost": lambda x: 1.0,
    }


def small_flows(count: int, deviations: int = 1) -> list[tuple[Flow, Flow]]:
    """Pairs of a small hand-made standard (10 nodes) and a variant of it
    with ``deviations`` operators."""
    std = harpflow.read(
        """
steps:
  - {番号: S, 作業: 開始, 種別: 開始}
  - {番号: 1, 担当: 窓口, 作業: 申請書の受付}
  - {番号: 2, 担当: 窓口, 作業: 本人確認}
  - {番号: 3, 担当: 担当, 作業: 内容審査, 次: ["4:適正", "1:不備あり"]}
  - {番号: 4, 担当: 担当, 作業: 台帳に入力, 種別: システム}
  - {番号: 5, 担当: 審査, 作業: 係長審査}
  - {番号: 6, 担当: 決裁, 作業: 課長決裁}
  - {番号: 7, 担当: 窓口, 作業: 証明書を交付}
  - {番号: 8, 担当: 窓口, 作業: 関連手続の案内}
  - {番号: E, 作業: 終了, 種別: 終了}
""",
        format="yaml",
    )
    return [(std, v) for v in _variants(std, count, 0, deviations)]


def _variants(std: Flow, count: int, salt: int, deviations: int = 1) -> list[Flow]:
    """Variants of ``std`` with ``deviations`` operators each (operators
    that keep the flow within one pool, so that exact GED stays within
    reach)."""
    ops = sorted(op for op in OPERATORS if op not in ("V09", "V10", "V15"))
    out = []
    for i in range(count):
        chosen = [ops[(i + 5 * j) % len(ops)] for j in range(deviations)]
        v = variant(std, chosen, seed=salt + i, orthography=0.5, synonyms=0.2)
        if v.operators:
            out.append(v.flow)
    return out


def standard_pairs(every: int, deviations: int) -> list[tuple[Flow, Flow]]:
    """One variant with ``deviations`` operators of every ``every``-th
    standard flow of ``processes/`` (17 to 36 nodes)."""
    pairs = []
    for index, (_name, std) in enumerate(standards()):
        if index % every == 0:
            pairs.extend((std, v) for v in _variants(std, 1, 100 * index, deviations))
    return pairs


def _structure_only(a: Flow, b: Flow) -> float:
    """The structure component from a fresh matching, nothing else."""
    from harpflow.match import match
    from harpflow.score import _Ledger, _Owners, _pair_sims, _structure_ledger

    m = match(a, b)
    gloss = default_glossary()
    ledger = _Ledger()
    _structure_ledger(a, b, m, _pair_sims(a, b, m, gloss), _Owners([]), ledger, gloss)
    return ledger.value


class GedFigures:
    """The structure component against exact GED on one group of pairs."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.nodes: list[int] = []
        self.diffs: list[float] = []
        self.rel: list[float] = []
        self.fast: list[float] = []
        self.full: list[float] = []
        self.slow: list[float] = []
        self.unfinished = 0
        self.unfinished_not_above = 0
        self.below = 0

    def add(self, other: GedFigures) -> None:
        for name in ("nodes", "diffs", "rel", "fast", "full", "slow"):
            getattr(self, name).extend(getattr(other, name))
        self.unfinished += other.unfinished
        self.unfinished_not_above += other.unfinished_not_above
        self.below += other.below

    def row(self) -> str:
        ratios = [s / f for s, f in zip(self.slow, self.fast, strict=True)]
        return (
            f"{self.name:<28} {len(self.diffs):>5} "
            f"{min(self.nodes):>3}-{max(self.nodes):<3} "
            f"{statistics.mean(self.diffs):>8.4f} {max(self.diffs):>7.4f} "
            f"{statistics.mean(self.rel) if self.rel else 0.0:>7.1%} "
            f"{statistics.mean(self.slow) * 1000:>9.1f} "
            f"{statistics.mean(self.fast) * 1000:>8.2f} "
            f"{statistics.mean(self.slow) / statistics.mean(self.fast):>7.1f}x "
            f"{statistics.median(ratios):>7.1f}x "
            f"{statistics.mean(self.slow) / statistics.mean(self.full):>7.1f}x"
            + (f"  (ours lower in {self.below})" if self.below else "")
            + (
                f"  ({self.unfinished} not finished in time, left out; ours at "
                f"or below its best edit path in {self.unfinished_not_above})"
                if self.unfinished
                else ""
            )
        )


GED_HEADER = (
    f"{'pairs':<28} {'n':>5} {'nodes':>7} {'mean|d|':>8} {'worst':>7} "
    f"{'rel.':>7} {'GED ms':>9} {'ours ms':>8} {'ratio':>8} {'median':>8} "
    f"{'vs diff':>8}"
)


def ged_check(
    name: str, pairs: list[tuple[Flow, Flow]], timeout: float = 60.0
) -> GedFigures:
    """Structure component against exact GED: differences and time ratios.

    The difference is that of the score's structure component (on the
    diff's matching, which pairs a few steps more than the matcher alone:
    steps that take each other's place). ``ours ms`` times the matcher
    plus the structure component; ``vs diff`` compares GED with the whole
    diff and score. Exact GED runs with a
    timeout; a pair it did not finish in time is left out and counted.
    """
    fig = GedFigures(name)
    score(*pairs[0])  # load the tokenizer and glossary before timing
    for a, b in pairs:
        g1, g2 = a.sequence_graph(), b.sequence_graph()
        _fresh(a, b)
        t0 = time.perf_counter()
        exact = nx.graph_edit_distance(g1, g2, **_ged_costs(a, b), timeout=timeout)
        slow = time.perf_counter() - t0
        norm = (
            g1.number_of_nodes()
            + g2.number_of_nodes()
            + g1.number_of_edges()
            + g2.number_of_edges()
        )
        if slow >= timeout or exact is None:
            # networkx returns the best edit path found so far.
            fig.unfinished += 1
            best = float(exact) / norm if exact is not None else 1.0
            fig.unfinished_not_above += score(a, b).structure <= best + 1e-9
            continue
        _fresh(a, b)
        t0 = time.perf_counter()
        ours = score(a, b).structure
        fig.full.append(time.perf_counter() - t0)
        _fresh(a, b)
        t0 = time.perf_counter()
        _structure_only(a, b)
        fig.fast.append(time.perf_counter() - t0)
        fig.slow.append(slow)
        fig.nodes.append(max(g1.number_of_nodes(), g2.number_of_nodes()))
        fig.diffs.append(abs(ours - float(exact) / norm))
        # networkx misses the optimum on some directed graphs with unequal
        # node costs; ours is then the lower, a better edit path.
        fig.below += ours < float(exact) / norm - 1e-3
        if exact:
            fig.rel.append(abs(ours - float(exact) / norm) / (float(exact) / norm))
    return fig


def _fresh(a: Flow, b: Flow) -> None:
    """The same start for every timed run: the labels tokenised (a cache
    both sides share)."""
    from harpflow.text import normalise

    for flow in (a, b):
        for node in flow.nodes.values():
            normalise(node.label)


def chain_flow(n: int, prefix: str, labels: Iterable[str]) -> Flow:
    flow = Flow(prefix)
    flow.add_node("s", type="startEvent", label="開始")
    previous = "s"
    for i, label in enumerate(labels):
        node = f"{prefix}{i}"
        lane = ["窓口", "担当", "審査", "決裁"][i % 4]
        flow.add_node(node, label=label, lane=lane)
        flow.add_edge(previous, node)
        previous = node
        if len(flow.steps()) >= n:
            break
    flow.add_node("e", type="endEvent", label="終了")
    flow.add_edge(previous, "e")
    return flow


def speed(repeats: int) -> float:
    words = ["受付", "本人確認", "審査", "入力", "照合", "決裁", "交付", "通知", "案内"]
    labels = [f"{words[i % len(words)]}{i}" for i in range(30)]
    a = chain_flow(30, "a", labels)
    b_labels = list(labels)
    b_labels[3], b_labels[4] = b_labels[4], b_labels[3]
    b = chain_flow(30, "b", [lab.replace("受付", "受理") for lab in b_labels])
    score(a, b)  # warm caches (tokenizer, glossary)
    gc.collect()  # not the garbage of the sections before
    times = []
    for _ in range(repeats):
        _fresh(a, b)
        t0 = time.perf_counter()
        score(a, b)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer variants")
    parser.add_argument(
        "--misses", action="store_true", help="list misses (synthetic and gold)"
    )
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")

    t0 = time.perf_counter()
    overall, per_op, count, misses = synthetic(args.quick)
    print(f"synthetic variants: {count} ({time.perf_counter() - t0:.1f} s)")
    print(HEADER)
    for op in sorted(per_op):
        print(per_op[op].row(f"{op} alone"))
    print(overall.row("all variants"))
    if args.misses:
        print("\n".join(misses))

    gold_misses: list[str] = []
    kinds = KindTally()
    g, per_kind, files = gold(gold_misses, kinds)
    print(f"\nhand-written gold: {files} town flows, changes {dict(per_kind)}")
    print(HEADER)
    print(g.row("gold"))
    print("\n".join(kinds.rows()))
    if args.misses:
        print("\n".join(gold_misses))

    print(
        "\nstructure component vs exact graph edit distance "
        "(networkx.graph_edit_distance, same costs), normalised by the sizes:"
    )
    print(GED_HEADER)
    timeout = 10.0 if args.quick else 30.0
    if args.quick:
        groups = [
            ("10-node flow, 1 deviation", small_flows(8)),
            ("10-node flow, 2 deviations", small_flows(4, 2)),
            ("standards, 1 deviation", standard_pairs(8, 1)),
        ]
    else:
        groups = [
            ("10-node flow, 1 deviation", small_flows(26)),
            ("10-node flow, 2 deviations", small_flows(13, 2)),
            ("10-node flow, 3 deviations", small_flows(13, 3)),
            ("standards, 1 deviation", standard_pairs(1, 1)),
            ("standards, 2 deviations", standard_pairs(3, 2)),
            ("standards, 3 deviations", standard_pairs(3, 3)),
        ]
    every = GedFigures("all pairs")
    for name, pairs in groups:
        fig = ged_check(name, pairs, timeout)
        every.add(fig)
        print(fig.row())
    print(every.row())
    print(f"diff + score of two 30-step flows: median {speed(20):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
