"""Speed and quality of unify.

1. Speed: unify 179 seeded variants (:func:`harpflow.synth.variants`) of a
   30-step flow with a standard; goal 10 s.
2. hdBPMN: every exercise's models unified without a standard (on their
   medoid). Per exercise: models read (and those that could not be read),
   the size of the medoid and of the result, and the mean divergence of
   the models to the result versus to their medoid (goal: the result is
   closer on average), with the number of models closer to the result;
   the same with ``min_support=0.3``; the steps worded as most models
   word them; the seconds of both runs (medoid, unify and fit-gap). A
   model whose behavioural profile needs the state-space method costs
   seconds in every comparison it is in (ex10, writer0012).

Run: ``python benchmarks/bench_unify.py [--quick] [--skip-hdbpmn]``.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import harpflow
from harpflow.errors import HarpflowError
from harpflow.model import Flow
from harpflow.synth import variants
from harpflow.unify import unify

ROOT = Path(__file__).resolve().parents[1]
HDBPMN = ROOT.parent / "shared" / "corpora" / "hdbpmn" / "data" / "annotations"

_STEPS = [
    ("窓口", "申請書の受付"),
    ("窓口", "本人確認 (運転免許証・マイナンバーカード)"),
    ("窓口", "申請書の記載内容の確認"),
    ("窓口", "手数料の収納"),
    ("担当", "住民記録の照会"),
    ("担当", "税情報の照会"),
    ("担当", "資格の審査"),
    ("担当", "所得の確認"),
    ("担当", "世帯構成の確認"),
    ("担当", "申請内容を入力"),
    ("担当", "確認用帳票を照合・修正"),
    ("審査", "審査"),
    ("決裁", "決裁"),
    ("システム", "資格情報を登録"),
    ("システム", "被保険者番号の付番"),
    ("担当", "保険料の算定"),
    ("担当", "賦課額の確定"),
    ("システム", "庁内連携 (国保・介護・税)"),
    ("担当", "通知書の作成"),
    ("担当", "被保険者証の作成"),
    ("窓口", "被保険者証の交付"),
    ("窓口", "関連手続の案内"),
    ("担当", "通知書の発送"),
    ("担当", "口座振替依頼書の受付"),
    ("システム", "口座情報の登録"),
    ("担当", "国保連合会へ資格情報を送付"),
    ("担当", "受給者台帳への記載"),
    ("担当", "統計資料の作成"),
    ("担当", "書類の保存"),
    ("担当", "事務処理の完了確認"),
]


def thirty_steps() -> Flow:
    """A 30-step flow with an intake decision and a parallel block."""
    flow = Flow("国保 資格取得 (30 steps)", area="10", procedure="bench")
    flow.add_node("s", type="startEvent", label="開始")
    for i, (lane, label) in enumerate(_STEPS, 1):
        typ = "serviceTask" if lane == "システム" else "task"
        flow.add_node(str(i), type=typ, label=label, lane=lane)
    flow.add_node("e", type="endEvent", label="終了")
    flow.add_node("x", type="exclusiveGateway", label="不備がある？", lane="窓口")
    flow.add_node("r", type="task", label="補正を依頼", lane="窓口")
    flow.add_node("p", type="parallelGateway", lane="担当")
    flow.add_node("j", type="parallelGateway", lane="担当")
    chain = ["s", *[str(i) for i in range(1, 31)], "e"]
    for u, v in itertools.pairwise(chain):
        if (u, v) in (("3", "4"), ("4", "5"), ("7", "8"), ("8", "9"), ("9", "10")):
            continue
        flow.add_edge(u, v)
    flow.add_edge("3", "x")
    flow.add_edge("x", "4", label="不備なし")
    flow.add_edge("x", "r", label="不備あり")
    flow.add_edge("r", "3")
    flow.add_edge("4", "5")
    flow.add_edge("7", "p")
    for b in ("8", "9"):
        flow.add_edge("p", b)
        flow.add_edge(b, "j")
    flow.add_edge("j", "10")
    return flow


def speed(count: int) -> tuple[float, int, int]:
    std = thirty_steps()
    towns = [v.flow for v in variants(std, count, seed=7, synonyms=0.1)]
    unify(towns[:2], standard=std)  # warm caches (tokenizer, glossary)
    t0 = time.perf_counter()
    rec = unify(towns, standard=std)
    elapsed = time.perf_counter() - t0
    assert rec.sound
    return elapsed, len(rec.flow.steps()), len(rec.options)


def hdbpmn(limit: int | None) -> Iterator[dict[str, object]]:
    for folder in sorted(p for p in HDBPMN.iterdir() if p.is_dir()):
        flows, unread = [], 0
        for path in sorted(folder.glob("*.bpmn"))[:limit]:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    flow = harpflow.read(path)
            except HarpflowError:
                unread += 1
                continue
            flow.town = path.stem.split("_")[-1]
            flows.append(flow)
        row: dict[str, object] = {"exercise": folder.name, "models": len(flows)}
        row["unread"] = unread
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rec = unify(flows)
                fit = rec.fit_gap_frame()
        except HarpflowError as exc:
            row["error"] = str(exc)
            yield row
            continue
        # The same medoid with a lower threshold (refined as without a standard).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            low = unify(flows, standard=rec.base, min_support=0.3, refine=True)
            low_fit = low.fit_gap_frame()
        row.update(
            low_steps=len(low.flow.steps()),
            to_low=float(low_fit["after"].mean()),
            medoid_steps=len(rec.base.steps()),
            result_steps=len(rec.flow.steps()),
            result_nodes=len(rec.flow),
            to_medoid=float(fit["before"].mean()),
            to_result=float(fit["after"].mean()),
            closer=int((fit["after"] < fit["before"] - 1e-9).sum()),
            farther=int((fit["after"] > fit["before"] + 1e-9).sum()),
            sound=rec.sound,
            relabelled=len(rec.label_changes),
            seconds=time.perf_counter() - t0,
        )
        yield row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer models")
    parser.add_argument("--skip-hdbpmn", action="store_true")
    args = parser.parse_args(argv)
    count = 40 if args.quick else 179
    elapsed, steps, options = speed(count)
    print(
        f"unify {count} variants of a 30-step flow: {elapsed:.2f} s "
        f"(goal 10 s; result {steps} steps, {options} options)"
    )
    if args.skip_hdbpmn or not HDBPMN.exists():
        return 0
    print()
    print(
        "| exercise | models | unread | medoid steps | result steps (nodes) "
        "| mean div. to medoid | mean div. to result | closer / farther | sound "
        "| min_support 0.3: steps, mean div. | relabelled | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|", flush=True)
    rows = []
    for r in hdbpmn(8 if args.quick else None):
        rows.append(r)
        if "error" in r:
            head = f"| {r['exercise']} | {r['models']} | {r['unread']}"
            print(f"{head} | error: {r['error']} |", flush=True)
            continue
        print(
            f"| {r['exercise']} | {r['models']} | {r['unread']} | {r['medoid_steps']} "
            f"| {r['result_steps']} ({r['result_nodes']}) | {r['to_medoid']:.3f} "
            f"| {r['to_result']:.3f} | {r['closer']} / {r['farther']} | {r['sound']} "
            f"| {r['low_steps']}, {r['to_low']:.3f} | {r['relabelled']} "
            f"| {r['seconds']:.0f} |",
            flush=True,
        )
    ok = [r for r in rows if "error" not in r]
    if ok:
        med = statistics.mean(float(r["to_medoid"]) for r in ok)  # type: ignore[arg-type]
        res = statistics.mean(float(r["to_result"]) for r in ok)  # type: ignore[arg-type]
        wins = sum(float(r["to_result"]) < float(r["to_medoid"]) for r in ok)  # type: ignore[arg-type]
        print(
            f"\nmean over exercises: to medoid {med:.3f}, to result {res:.3f}; "
            f"result closer on average in {wins} of {len(ok)} exercises"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
