"""Speed of :func:`harpflow.layout.layout` as flows grow.

Times the layout of chains (one step after another, in two alternating
lanes) and of random sparse flows (every node joined to one of the few
nodes before it, some extra joins and a few rework loops back, in four
lanes, with exclusive and parallel gateways among the tasks) of 100, 1,000
and 5,000 nodes, and prints the CPU time with its growth over the size
before: about 10x for each 10x of nodes is linear, 100x quadratic. Writing
BPMN of the largest flows (no coordinates, so the layout is computed) is
timed too.

Run: ``python benchmarks/bench_layout.py [--sizes 100 1000 5000]``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time

from harpflow.io.bpmn import write_bpmn
from harpflow.layout import layout
from harpflow.model import Flow

LANES = ("窓口", "担当", "審査", "決裁")


def chain(n: int) -> Flow:
    """A chain of ``n`` tasks in two alternating lanes."""
    flow = Flow(f"chain{n}")
    previous = None
    for i in range(n):
        node = f"n{i}"
        flow.add_node(node, label=f"作業{i}", lane=LANES[i % 2])
        if previous is not None:
            flow.add_edge(previous, node)
        previous = node
    return flow


def sparse(n: int, seed: int = 0) -> Flow:
    """A random sparse flow of ``n`` nodes (about 1.2 edges a node)."""
    rng = random.Random(seed)
    flow = Flow(f"sparse{n}")
    flow.add_node("n0", type="startEvent", label="開始", lane=LANES[0])
    ids = ["n0"]
    kinds = ["task"] * 6 + ["exclusiveGateway", "parallelGateway"]
    for k in range(1, n):
        node = f"n{k}"
        flow.add_node(
            node, type=rng.choice(kinds), label=f"作業{k}", lane=rng.choice(LANES)
        )
        source = ids[max(0, len(ids) - 1 - int(rng.expovariate(0.5)))]
        flow.add_edge(source, node)
        if rng.random() < 0.2 and len(ids) > 3:
            other = ids[max(0, len(ids) - 2 - int(rng.expovariate(0.2)))]
            if other != source:
                flow.add_edge(other, node)
        if rng.random() < 0.03 and len(ids) > 3:
            back = ids[max(0, len(ids) - 2 - int(rng.expovariate(0.2)))]
            if not flow.graph.has_edge(node, back):
                flow.add_edge(node, back)
        ids.append(node)
    return flow


def cpu_seconds(func: object, *args: object) -> float:
    start = time.process_time()
    func(*args)  # type: ignore[operator]
    return time.process_time() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    args = parser.parse_args(argv)
    print(f"{'flow':<8} {'nodes':>6} {'edges':>6} {'layout s':>9} {'growth':>7}")
    for name, make in (("chain", chain), ("sparse", sparse)):
        before = None
        for n in args.sizes:
            flow = make(n)
            took = cpu_seconds(layout, flow)
            growth = f"{took / before:6.1f}x" if before else ""
            edges = flow.graph.number_of_edges()
            print(f"{name:<8} {n:>6} {edges:>6} {took:9.3f} {growth:>7}")
            before = max(took, 1e-6)
        biggest = make(max(args.sizes))
        took = cpu_seconds(write_bpmn, biggest)
        print(f"{name:<8} write_bpmn of {max(args.sizes)} nodes: {took:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
