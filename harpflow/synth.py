"""Seeded town variants of a standard flow, with their ground truth.

:func:`variant` applies deviation operators of the domain taxonomy to a
copy of a standard flow and records every change it made (kind, deviation
code, standard ids, town ids), so that :func:`harpflow.diff.diff` can be
measured against a known answer, and surveys of any size can be built
(:func:`variants`, ``harpflow synth``).

Operators (each acts on steps no earlier operator touched):

====  =====================================================================
V01   remove an approval step (審査/決裁) -> ``missing``
V02   add an approval step after one (副町長決裁, 事前合議) -> ``extra``
V03   move an approval step after the output step that follows it
      -> ``reordered``
V04   give a review step to the lane of the step before it -> ``lane_changed``
V05   do a system step by hand on paper -> ``type_changed`` (and
      ``attribute_changed`` when the standard names a medium), or add a
      paper ledger step -> ``extra``
V06   wait for a daily batch before an entry step -> ``extra`` (timer)
V07   take the intake at a branch office, which forwards the papers
      -> ``lane_changed`` and ``extra``
V08   add a confirmation call after a step -> ``extra``
V09   replace a system hand-off by a paper slip -> ``handoff_missing`` and
      ``extra``
V10   drop the guidance step, or a hand-off -> ``missing`` or
      ``handoff_missing``
V11   give an intake or entry step to a contractor -> ``lane_changed``
V14   swap two consecutive steps -> ``reordered``
V15   add a rework loop after a check -> ``loop_added`` and ``extra``
====  =====================================================================

Besides, every step's label may be rewritten orthographically (okurigana
and width variants, step numbers, filler suffixes), which is no change at
all, or with a coarse glossary synonym, which is ``relabelled``. Node ids
are replaced by fresh ones, so nothing can be matched by id.

Examples
--------
>>> import harpflow
>>> std = harpflow.read('''
... name: 転入届
... steps:
...   - {番号: S, 作業: 開始, 種別: 開始}
...   - {番号: 1, 担当: 窓口, 作業: 届出の受付}
...   - {番号: 2, 担当: 担当, 作業: 異動入力, 種別: システム}
...   - {番号: 3, 担当: 審査, 作業: 審査}
...   - {番号: 4, 担当: 決裁, 作業: 決裁}
...   - {番号: 5, 担当: 窓口, 作業: 住民票の写しを交付}
...   - {番号: E, 作業: 終了, 種別: 終了}
... ''', format="yaml")
>>> v = variant(std, ["V01", "V08"], seed=3)
>>> sorted((t.kind, t.code) for t in v.truth)
[('extra', 'V08'), ('missing', 'V01')]
>>> variant(std, ["V01", "V08"], seed=3).flow.stats() == v.flow.stats()
True
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from harpflow.diff import lanes_differ, same_wording
from harpflow.errors import ModelError
from harpflow.glossary import Glossary, default_glossary
from harpflow.model import ACTIVITY_TYPES, Flow, Node

__all__ = [
    "OPERATORS",
    "TruthChange",
    "Variant",
    "relabel",
    "variant",
    "variants",
]


@dataclass(frozen=True)
class TruthChange:
    """One change a generator made, in the vocabulary of the diff."""

    kind: str
    code: str | None
    standard: tuple[str, ...]
    town: tuple[str, ...]
    operator: str

    def to_dict(self) -> dict[str, Any]:
        """Stable keys: operator, kind, code, standard, town."""
        return {
            "operator": self.operator,
            "kind": self.kind,
            "code": self.code,
            "standard": list(self.standard),
            "town": list(self.town),
        }


@dataclass
class Variant:
    """A generated town flow and the ground truth of how it was made."""

    flow: Flow
    truth: list[TruthChange]
    operators: list[str]
    seed: int
    mapping: dict[str, str] = field(default_factory=dict)
    """Standard node id -> town node id, for every standard node kept."""

    def to_dict(self) -> dict[str, Any]:
        """``{"seed", "operators", "changes"}`` for ``truth.json``."""
        return {
            "seed": self.seed,
            "operators": list(self.operators),
            "changes": [t.to_dict() for t in self.truth],
        }


@dataclass
class _Work:
    """A flow being edited, its touched nodes, and the truth so far."""

    flow: Flow
    rng: random.Random
    touched: set[str] = field(default_factory=set)
    truth: list[TruthChange] = field(default_factory=list)
    fresh: int = 0

    def new_id(self) -> str:
        self.fresh += 1
        return f"new{self.fresh}"

    def record(
        self,
        kind: str,
        code: str | None,
        std: Sequence[str],
        town: Sequence[str],
        op: str,
    ) -> None:
        self.truth.append(TruthChange(kind, code, tuple(std), tuple(town), op))
        self.touched.update(std)
        self.touched.update(town)

    def steps(self, predicate: Callable[[Node], bool] = lambda n: True) -> list[Node]:
        """Untouched activities of the original flow that satisfy a test."""
        return [
            n
            for n in self.flow.nodes.values()
            if n.type in ACTIVITY_TYPES
            and n.id not in self.touched
            and not n.id.startswith("new")
            and predicate(n)
        ]

    def pick(self, candidates: list[Node]) -> Node | None:
        return self.rng.choice(candidates) if candidates else None

    def remove(self, node_id: str, op: str | None = None) -> None:
        """Remove a node, joining its predecessors to its successors.

        With ``op``, the hand-offs lost with the node are recorded.
        """
        flow = self.flow
        if op is not None:
            for e in flow.message_edges():
                if node_id in (e.source, e.target):
                    self.record("handoff_missing", None, [e.source, e.target], [], op)
        preds = [
            (u, dict(flow.graph.edges[u, node_id])) for u in flow.predecessors(node_id)
        ]
        succs = flow.successors(node_id)
        flow.remove_node(node_id)
        for u, data in preds:
            for v in succs:
                if u != v and not flow.graph.has_edge(u, v):
                    flow.add_edge(u, v, label=data.get("label", ""))

    def move_after(self, node: Node, anchor: str) -> None:
        """Take a node out of its place and put it right after ``anchor``,
        keeping its hand-offs (message flows)."""
        flow = self.flow
        messages = [
            (e.source, e.target, dict(e.attrs))
            for e in flow.message_edges()
            if node.id in (e.source, e.target)
        ]
        self.remove(node.id)
        flow.add_node(node.id, **_attrs(node))
        self.insert_after(anchor, node.id)
        for u, v, data in messages:
            data.pop("id", None)
            data.pop("kind", None)
            flow.add_edge(u, v, kind="message", **data)

    def insert_after(self, anchor: str, new: str) -> None:
        """Put an existing unconnected node between ``anchor`` and its
        successors."""
        flow = self.flow
        for v in flow.successors(anchor):
            data = dict(flow.graph.edges[anchor, v])
            flow.remove_edge(anchor, v)
            flow.add_edge(new, v, label="")
            if data.get("label"):
                flow.update_edge(new, v, label=data["label"])
        flow.add_edge(anchor, new)

    def add_step(self, anchor: Node, label: str, lane: str | None, **attrs: Any) -> str:
        new = self.new_id()
        attrs.setdefault("type", "task")
        self.flow.add_node(new, label=label, lane=lane, **attrs)
        self.insert_after(anchor.id, new)
        return new


def _text(node: Node) -> str:
    return unicodedata.normalize("NFKC", node.label)


def _is_approval(node: Node, gloss: Glossary) -> bool:
    return gloss.lane(node.lane or "") in ("審査", "決裁") or any(
        w in _text(node) for w in ("決裁", "審査", "承認")
    )


def _linear(flow: Flow, node: Node) -> bool:
    return len(flow.successors(node.id)) == 1 and len(flow.predecessors(node.id)) == 1


# -- operators ------------------------------------------------------------------


def _v01(w: _Work, gloss: Glossary) -> bool:
    node = w.pick(w.steps(lambda n: _is_approval(n, gloss) and _linear(w.flow, n)))
    if node is None:
        return False
    w.remove(node.id, "V01")
    w.record("missing", "V01", [node.id], [], "V01")
    return True


def _v02(w: _Work, gloss: Glossary) -> bool:
    anchor = w.pick(w.steps(lambda n: _is_approval(n, gloss) and _linear(w.flow, n)))
    if anchor is None:
        anchor = w.pick(w.steps(lambda n: _linear(w.flow, n)))
    if anchor is None:
        return False
    label = w.rng.choice(["副町長決裁", "町長決裁", "財政課へ事前合議", "課長回議"])
    new = w.add_step(anchor, label, "決裁")
    w.record("extra", "V02", [], [new], "V02")
    return True


_OUTPUT_WORDS = ("交付", "通知", "発送", "送付", "発行")


def _v03(w: _Work, gloss: Glossary) -> bool:
    for node in w.steps(lambda n: _is_approval(n, gloss) and _linear(w.flow, n)):
        # Follow the chain after the approval to an output step.
        chain, current = [], node.id
        while True:
            succ = w.flow.successors(current)
            if len(succ) != 1:
                break
            current = succ[0]
            nxt = w.flow.nodes[current]
            if nxt.type not in ACTIVITY_TYPES or nxt.id in w.touched:
                break
            if len(w.flow.predecessors(current)) != 1:
                break
            chain.append(current)
            if any(word in _text(nxt) for word in _OUTPUT_WORDS):
                w.move_after(node, current)
                w.record("reordered", "V03", [node.id], [node.id], "V03")
                w.touched.update(chain)
                return True
    return False


def _attrs(node: Node) -> dict[str, Any]:
    data = dict(node.attrs)
    data.pop("lane_id", None)
    data.pop("pool_id", None)
    return data


def _v04(w: _Work, gloss: Glossary) -> bool:
    def fits(n: Node) -> bool:
        if not _is_approval(n, gloss) or not _linear(w.flow, n):
            return False
        prev = w.flow.nodes[w.flow.predecessors(n.id)[0]]
        return (
            bool(prev.lane)
            and gloss.lane(prev.lane or "") in ("担当", "窓口")
            and lanes_differ(n.lane, prev.lane, gloss)
        )

    node = w.pick(w.steps(fits))
    if node is None:
        return False
    prev = w.flow.nodes[w.flow.predecessors(node.id)[0]]
    w.flow.update_node(node.id, lane=prev.lane)
    w.record("lane_changed", "V04", [node.id], [node.id], "V04")
    return True


def _v05(w: _Work, gloss: Glossary) -> bool:
    node = w.pick(w.steps(lambda n: n.type in ("serviceTask", "userTask")))
    if node is not None:
        had_medium = node.medium in ("system", "screen")
        w.flow.update_node(node.id, type="manualTask", medium="paper")
        w.record("type_changed", "V05", [node.id], [node.id], "V05")
        if had_medium:
            w.record("attribute_changed", "V05", [node.id], [node.id], "V05")
        return True
    anchor = w.pick(w.steps(lambda n: _linear(w.flow, n)))
    if anchor is None:
        return False
    new = w.add_step(
        anchor, "紙の台帳に記入", anchor.lane, type="manualTask", medium="paper"
    )
    w.record("extra", "V05", [], [new], "V05")
    return True


def _v06(w: _Work, gloss: Glossary) -> bool:
    def entry(n: Node) -> bool:
        return _linear(w.flow, n) and any(
            word in _text(n) for word in ("入力", "登録", "記載", "取込", "更新")
        )

    node = w.pick(w.steps(entry))
    if node is None:
        return False
    prev = w.flow.predecessors(node.id)[0]
    new = w.new_id()
    w.flow.add_node(
        new,
        type="intermediateCatchEvent",
        trigger="timer",
        label=w.rng.choice(["翌日まとめて入力", "日次でまとめて処理", "夜間バッチ"]),
        lane=node.lane,
    )
    w.insert_after(prev, new)
    w.record("extra", "V06", [], [new], "V06")
    w.touched.add(node.id)
    return True


def _v07(w: _Work, gloss: Glossary) -> bool:
    node = w.pick(
        w.steps(lambda n: gloss.lane(n.lane or "") == "窓口" and _linear(w.flow, n))
    )
    if node is None:
        return False
    w.flow.update_node(node.id, lane="支所")
    w.record("lane_changed", "V07", [node.id], [node.id], "V07")
    new = w.add_step(
        w.flow.nodes[node.id],
        w.rng.choice(["本庁へ逓送", "本庁へFAXで送付", "書類を本庁へ回送"]),
        "支所",
    )
    w.record("extra", "V07", [], [new], "V07")
    return True


def _v08(w: _Work, gloss: Glossary) -> bool:
    anchor = w.pick(w.steps(lambda n: _linear(w.flow, n)))
    if anchor is None:
        return False
    label = w.rng.choice(
        [
            "電話で本人に確認",
            "勤務先へ電話で照会",
            "届書を読み合わせで確認",
            "入力結果を別の職員がダブルチェック",
        ]
    )
    new = w.add_step(anchor, label, anchor.lane)
    w.record("extra", "V08", [], [new], "V08")
    return True


def _message_edges(w: _Work) -> list[tuple[str, str]]:
    return [
        (e.source, e.target)
        for e in w.flow.message_edges()
        if e.source not in w.touched and e.target not in w.touched
    ]


def _v09(w: _Work, gloss: Glossary) -> bool:
    edges = _message_edges(w)
    if not edges:
        return False
    u, v = w.rng.choice(edges)
    w.flow.remove_edge(u, v)
    w.record("handoff_missing", "V09", [u, v], [u], "V09")
    sender = w.flow.nodes[u]
    if sender.type not in ACTIVITY_TYPES or not w.flow.successors(u):
        return True
    new = w.add_step(
        sender, "異動連絡票を作成し関係課へ送付", sender.lane, type="manualTask"
    )
    w.record("extra", "V09", [], [new], "V09")
    return True


def _v10(w: _Work, gloss: Glossary) -> bool:
    node = w.pick(w.steps(lambda n: "案内" in _text(n) and _linear(w.flow, n)))
    if node is not None:
        w.remove(node.id, "V10")
        w.record("missing", "V10", [node.id], [], "V10")
        return True
    edges = _message_edges(w)
    if not edges:
        return False
    u, v = w.rng.choice(edges)
    w.flow.remove_edge(u, v)
    w.record("handoff_missing", "V10", [u, v], [u], "V10")
    return True


def _v11(w: _Work, gloss: Glossary) -> bool:
    def fits(n: Node) -> bool:
        return gloss.lane(n.lane or "") in ("窓口", "担当") and not _is_approval(
            n, gloss
        )

    node = w.pick(w.steps(fits))
    if node is None:
        return False
    w.flow.update_node(node.id, lane="委託業者")
    w.record("lane_changed", "V11", [node.id], [node.id], "V11")
    return True


def _v14(w: _Work, gloss: Glossary) -> bool:
    def first(n: Node) -> bool:
        if not _linear(w.flow, n):
            return False
        nxt = w.flow.nodes[w.flow.successors(n.id)[0]]
        return (
            nxt.type in ACTIVITY_TYPES
            and nxt.id not in w.touched
            and _linear(w.flow, nxt)
            and not nxt.id.startswith("new")
        )

    a = w.pick(w.steps(first))
    if a is None:
        return False
    b = w.flow.successors(a.id)[0]
    w.move_after(a, b)
    w.record("reordered", "V14", [a.id, b], [a.id, b], "V14")
    return True


def _v15(w: _Work, gloss: Glossary) -> bool:
    def fits(n: Node) -> bool:
        if not _linear(w.flow, n):
            return False
        prev = w.flow.nodes[w.flow.predecessors(n.id)[0]]
        return prev.type in ACTIVITY_TYPES and any(
            word in _text(n) for word in ("審査", "確認", "点検", "照合", "検査")
        )

    node = w.pick(w.steps(fits))
    if node is None:
        return False
    prev = w.flow.predecessors(node.id)[0]
    gateway, fix = w.new_id(), w.new_id()
    w.flow.add_node(
        gateway, type="exclusiveGateway", label="不備の有無", lane=node.lane
    )
    w.flow.add_node(fix, label="補正依頼・差戻し", lane=node.lane)
    succ = w.flow.successors(node.id)[0]
    label = w.flow.graph.edges[node.id, succ].get("label", "")
    w.flow.remove_edge(node.id, succ)
    w.flow.add_edge(node.id, gateway)
    w.flow.add_edge(gateway, succ, label="不備なし")
    if label:
        w.flow.update_edge(gateway, succ, label=label)
    w.flow.add_edge(gateway, fix, label="不備あり")
    w.flow.add_edge(fix, prev)
    w.record("loop_added", "V15", [prev, node.id], [prev, node.id, fix], "V15")
    w.record("extra", "V15", [], [fix], "V15")
    return True


#: Deviation operators by code.
OPERATORS: dict[str, Callable[[_Work, Glossary], bool]] = {
    "V01": _v01,
    "V02": _v02,
    "V03": _v03,
    "V04": _v04,
    "V05": _v05,
    "V06": _v06,
    "V07": _v07,
    "V08": _v08,
    "V09": _v09,
    "V10": _v10,
    "V11": _v11,
    "V14": _v14,
    "V15": _v15,
}


# -- labels -------------------------------------------------------------------

_FILLERS = ("を行う", "処理", "の実施", "作業")
_HALF = str.maketrans("0123456789", "０１２３４５６７８９")


def relabel(label: str, rng: random.Random, glossary: Glossary | None = None) -> str:
    """An orthographic variant of a label: the same words, written otherwise.

    Okurigana variants from the glossary, full-width digits, a step number
    in front or a filler suffix behind.

    Examples
    --------
    >>> import random
    >>> relabel("申込の受付", random.Random(1))
    '申込の受け付け'
    """
    gloss = glossary or default_glossary()
    out = label
    for word in _variant_words(gloss):
        if word in out:
            choices = [v for v in gloss.variants(word) if v != word]
            if choices:
                out = out.replace(word, rng.choice(choices), 1)
                break
    roll = rng.random()
    if roll < 0.25:
        out = f"{rng.choice(['①', '(1)', '1.', 'ア'])} {out}"
    elif roll < 0.5 and not out.endswith(_FILLERS):
        out += rng.choice(_FILLERS)
    return out.translate(_HALF) if rng.random() < 0.3 else out


def _variant_words(gloss: Glossary) -> list[str]:
    words = {word for group in gloss.orthography for word in group}
    return sorted(words, key=lambda w: (-len(w), w))


def _synonym(label: str, rng: random.Random, gloss: Glossary) -> str | None:
    for head in ("受付", "交付", "審査", "入力", "通知"):
        if head in label:
            # Another word, not the same word written otherwise (受付け).
            choices = [
                s
                for s in gloss.synonyms(head, "coarse")
                if len(s) > 1 and not same_wording(s, head)
            ]
            if choices:
                return label.replace(head, rng.choice(choices), 1)
    return None


# -- variants -------------------------------------------------------------------


def variant(
    standard: Flow,
    operators: Sequence[str],
    *,
    seed: int = 0,
    orthography: float = 0.5,
    synonyms: float = 0.0,
    town: str | None = None,
    glossary: Glossary | None = None,
) -> Variant:
    """Apply deviation operators to a copy of a standard flow.

    Parameters
    ----------
    standard : Flow
    operators : sequence of str
        Codes from :data:`OPERATORS`, applied in order. An operator that
        finds nothing to act on is skipped (it is not in
        ``Variant.operators``).
    seed : int
        Seed of every random choice: the same seed gives the same variant.
    orthography : float
        Share of steps whose label gets an orthographic variant.
    synonyms : float
        Share of steps whose label gets a coarse synonym (``relabelled``).
    town : str, optional
        Town name for the variant's metadata.
    glossary : Glossary, optional

    Returns
    -------
    Variant
        The town flow with fresh ids, and its ground truth in those ids.

    Raises
    ------
    ModelError
        For an unknown operator code.
    """
    unknown = [op for op in operators if op not in OPERATORS]
    if unknown:
        raise ModelError(f"unknown deviation operators: {', '.join(unknown)}")
    gloss = glossary or default_glossary()
    rng = random.Random(seed)
    work = _Work(standard.copy(), rng)
    work.flow.town = town
    applied = [op for op in operators if OPERATORS[op](work, gloss)]
    # Labels: orthography (no change) and synonyms (relabelled).
    for node in list(work.flow.nodes.values()):
        if node.type not in ACTIVITY_TYPES or node.id.startswith("new"):
            continue
        if node.id not in work.touched and rng.random() < synonyms:
            new_label = _synonym(node.label, rng, gloss)
            if new_label is not None:
                work.flow.update_node(node.id, label=new_label)
                work.record("relabelled", None, [node.id], [node.id], "relabel")
                continue
        if rng.random() < orthography:
            work.flow.update_node(node.id, label=relabel(node.label, rng, gloss))
    flow, mapping = _renumber(work.flow, rng)
    truth = [
        TruthChange(
            t.kind,
            t.code,
            tuple(i for i in t.standard if i in standard),
            tuple(mapping[i] for i in t.town if i in mapping),
            t.operator,
        )
        for t in work.truth
    ]
    kept = {old: new for old, new in mapping.items() if old in standard}
    return Variant(flow, truth, applied, seed, kept)


def _renumber(flow: Flow, rng: random.Random) -> tuple[Flow, dict[str, str]]:
    """Copy a flow with fresh node ids in a shuffled numbering."""
    ids = list(flow.graph)
    numbers = list(range(1, len(ids) + 1))
    rng.shuffle(numbers)
    mapping = {old: f"n{num:03d}" for old, num in zip(ids, numbers, strict=True)}
    out = Flow(
        flow.name,
        area=flow.area,
        procedure=flow.procedure,
        town=flow.town,
        **dict(flow.meta),
    )
    for pool in flow.pools:
        out.add_pool(pool.id, pool.name, process=pool.process)
    for lane in flow.lanes:
        out.add_lane(lane.id, lane.name, pool=lane.pool, parent=lane.parent)
    for old in ids:
        data = dict(flow.graph.nodes[old])
        data.pop("lane", None)
        data.pop("pool", None)
        data.pop("bounds", None)
        data.pop("source", None)
        if data.get("parent") in mapping:
            data["parent"] = mapping[data["parent"]]
        if data.get("attached_to") in mapping:
            data["attached_to"] = mapping[data["attached_to"]]
        out.add_node(mapping[old], **data)
    for u, v, data in flow.graph.edges(data=True):
        attrs = {k: val for k, val in data.items() if k not in ("id", "waypoints")}
        attrs.pop("duplicates", None)
        out.add_edge(mapping[u], mapping[v], **attrs)
    for msg in flow.pool_messages:
        out.add_pool_message(
            msg.id,
            mapping.get(msg.source, msg.source),
            mapping.get(msg.target, msg.target),
        )
    for obj in flow.data_objects:
        out.add_data_object(
            obj.id,
            obj.label,
            kind=obj.kind,
            inputs=[mapping[i] for i in obj.inputs if i in mapping],
            outputs=[mapping[i] for i in obj.outputs if i in mapping],
        )
    return out, mapping


def variants(
    standard: Flow,
    count: int,
    *,
    seed: int = 0,
    operators: Sequence[str] | None = None,
    per_variant: tuple[int, int] = (1, 3),
    orthography: float = 0.5,
    synonyms: float = 0.0,
    glossary: Glossary | None = None,
) -> list[Variant]:
    """Many variants of one standard, each with its own operators.

    Variant ``i`` uses seed ``seed * 100003 + i`` and draws between
    ``per_variant[0]`` and ``per_variant[1]`` operators from ``operators``
    (all of :data:`OPERATORS` by default).

    Examples
    --------
    >>> from harpflow.model import Flow
    >>> std = Flow("f")
    >>> for n, t, lane in [("s", "startEvent", None), ("a", "userTask", "窓口"),
    ...                    ("b", "task", "審査"), ("e", "endEvent", None)]:
    ...     _ = std.add_node(n, type=t, label=n, lane=lane)
    >>> for u, v in [("s", "a"), ("a", "b"), ("b", "e")]:
    ...     _ = std.add_edge(u, v)
    >>> [v.flow.town for v in variants(std, 3, seed=1)]
    ['T001', 'T002', 'T003']
    """
    pool = sorted(operators or OPERATORS)
    out = []
    for i in range(count):
        rng = random.Random(seed * 100003 + i)
        k = rng.randint(*per_variant)
        chosen = rng.sample(pool, min(k, len(pool)))
        out.append(
            variant(
                standard,
                chosen,
                seed=seed * 100003 + i,
                orthography=orthography,
                synonyms=synonyms,
                town=f"T{i + 1:03d}",
                glossary=glossary,
            )
        )
    return out
