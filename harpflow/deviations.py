"""Rules that name the deviation behind a change (codes V01-V17).

The domain taxonomy lists the typical ways a town departs from the
standard flow, from approval compression (V01) to non-standard add-ons
(V17). :func:`classify` looks at one :class:`~harpflow.diff.Change` with
the two flows and returns the code a rule recognises, or None. The rules
read the kind of change, the lanes (through the glossary's lane synonyms),
the step types and media, and key words of the labels:

====  ====================================  ===================================
code  deviation                             recognised as
====  ====================================  ===================================
V01   approval compression                  a missing or merged 審査/決裁 step,
                                            steps merged into one 兼 form
V02   approval inflation                    an extra 審査/決裁/合議 step
V03   後閲 (approval after the output)      an approval moved after 交付/通知
V04   role merging                          a 審査/決裁 step done by 担当/窓口,
                                            merged steps of several lanes
V05   paper instead of system               paper medium, manual for system,
                                            ledgers, hand-written, Excel
V06   batch instead of immediate            timers, まとめ/一括/日次/夜間 steps,
                                            a step split off into a batch
V07   支所 intake                           steps in a branch lane or location,
                                            transfer (逓送, FAX) steps
V08   extra confirmation                    extra 確認/照合/電話/検算 steps
V09   manual hand-off                       連絡票/電話 steps, or a missing
                                            hand-off replaced by one
V10   missing hand-off or guidance          missing 案内, a missing hand-off
V11   outsourcing                           contractor (委託/受託/業者) lanes
V12   wide-area bodies                      steps moved to 広域連合, 組合, 共同
                                            設置 審査会, 道/県
V13   channel differences                   an extra start (オンライン, 郵送)
V14   order changes                         other reorderings
V15   rework loops                          added loops
V16   schedule/parameter variants           other attribute changes
V17   non-standard add-ons                  extra system steps with no 機能ID
====  ====================================  ===================================

Notes
-----
The rules are heuristics over words and lanes; they name the most likely
deviation and leave the code empty where none fits. A town whose wording
avoids every key word (an approval step called only by a person's title,
for instance) is classified by its lane alone.

Examples
--------
>>> from harpflow.diff import Change
>>> from harpflow.model import Flow
>>> std, town = Flow(), Flow()
>>> _ = std.add_node("9", label="決裁", lane="決裁")
>>> classify(Change("missing", ("9",), (), ""), std, town)
'V01'
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

import networkx as nx

from harpflow.flowcache import sequence_graph
from harpflow.glossary import Glossary, default_glossary
from harpflow.model import Flow, Node

if TYPE_CHECKING:
    from collections.abc import Callable

    from harpflow.diff import Change
    from harpflow.match import Matching

__all__ = [
    "DEVIATIONS",
    "classify",
    "is_approval",
    "is_batched",
    "is_output",
    "is_visit_anchor",
    "reordering_code",
    "says_approval",
    "says_self_check",
    "states_late_approval",
]

#: The deviation codes and their short names.
DEVIATIONS = {
    "V01": "approval compression",
    "V02": "approval inflation",
    "V03": "approval after the output (後閲)",
    "V04": "role merging",
    "V05": "paper instead of system",
    "V06": "batch instead of immediate",
    "V07": "branch-office intake",
    "V08": "extra confirmation",
    "V09": "manual inter-section hand-off",
    "V10": "missing hand-off or guidance",
    "V11": "outsourcing",
    "V12": "shared or wide-area body",
    "V13": "channel difference",
    "V14": "order change",
    "V15": "rework loop",
    "V16": "schedule or parameter variant",
    "V17": "non-standard add-on",
}

_APPROVAL = ("決裁", "承認", "専決", "回議", "合議", "稟議", "伺い", "供覧", "approv")
_REVIEW = ("審査",)
_OUTPUT = ("交付", "発行", "通知", "送付", "発送", "手交", "issue", "send", "notif")
_CONFIRM = (
    "確認",
    "照合",
    "電話",
    "ダブルチェック",
    "検算",
    "読み合わせ",
    "点検",
    "突合",
    "check",
    "verif",
)
_TRANSFER = (
    "逓送",
    "回送",
    "転送",
    "FAX",
    "ファクス",
    "持参",
    "送付",
    "引継",
    "引き継",
)
_BRANCH = ("支所", "出張所", "行政センター", "連絡所", "総合支所")
_PAPER = (
    "紙",
    "手書",
    "台帳",
    "Excel",
    "エクセル",
    "控え",
    "綴",
    "ファイリング",
    "paper",
)
_BATCH = (
    "まとめ",
    "一括",
    "日次",
    "週次",
    "月次",
    "夜間",
    "バッチ",
    "翌日",
    "翌開庁日",
    "翌営業日",
    "後日",
    "batch",
)
_MANUAL_HANDOFF = ("連絡票", "電話連絡", "連絡", "回覧", "メモ")
_GUIDE = ("案内", "guid")
_JOINT_FORM = ("兼",)
# the doer checks their own work: a review folded into their step (V01)
_SELF_CHECK = ("自己点検", "自己審査", "自己確認", "セルフチェック", "self-check")
_OUTSOURCE = ("委託", "受託", "業者", "派遣", "contractor")
_WIDE = ("広域", "共同設置", "組合", "審査会", "連合", "振興局", "道", "県")
_REWORK = ("補正", "差戻", "差し戻", "返戻", "再提出", "やり直")
_ELECTRONIC = ("system", "screen", "file", "online")
_SEND = ("連携", "送信", "通知", "send")
_LATE = ("後閲", "事後")
_PLACE = ("届出先", "提出先", "申請先", "申請窓口", "受付場所", "執行場所", "交付場所")
_CHANNEL = (
    "オンライン",
    "マイナポータル",
    "ぴったり",
    "電子申請",
    "予約",
    "eLTAX",
    "online",
)
_ANCHOR = ("受付", "受理", "受領", "交付", "手交")
_ADDON = ("EUC", "Excel", "エクセル", "独自", "マクロ", "手作り")


def _text(node: Node) -> str:
    return unicodedata.normalize("NFKC", node.label or "")


def _has(text: str, words: tuple[str, ...]) -> bool:
    folded = text.lower()
    return any(w.lower() in folded for w in words)


def _lane(node: Node, gloss: Glossary) -> str:
    return gloss.lane(node.lane or "")


def _is_approval(node: Node, gloss: Glossary) -> bool:
    lane = _lane(node, gloss)
    return lane in ("審査", "決裁") or says_approval(_text(node))


def says_approval(text: str) -> bool:
    """True when the text names a review or an approval (審査, 決裁, 回議 ...).

    Examples
    --------
    >>> says_approval("課長決裁"), says_approval("台帳に入力")
    (True, False)
    """
    return _has(text, _APPROVAL + _REVIEW)


def says_self_check(text: str) -> bool:
    """True when the text says the doer checks their own work (自己点検)."""
    return _has(text, _SELF_CHECK)


def _in_branch(node: Node, gloss: Glossary) -> bool:
    return _has(f"{node.lane or ''} {node.location or ''}", _BRANCH) or _lane(
        node, gloss
    ) in ("支所",)


def _extra_code(node: Node, town: Flow, gloss: Glossary) -> str | None:
    text = _text(node)
    lane = f"{node.lane or ''} {node.pool or ''}"
    if node.type == "startEvent":
        return "V13"
    if _has(text, _REWORK):
        return "V15"
    if node.trigger == "timer" or _has(text, _BATCH):
        return "V06"
    if _has(lane, _OUTSOURCE):
        return "V11"
    if _in_branch(node, gloss) or _has(text, ("逓送", "回送", "FAX", "ファクス")):
        return "V07"
    neighbours = [town.nodes[n] for n in town.predecessors(node.id)]
    if _has(text, _TRANSFER) and any(_in_branch(n, gloss) for n in neighbours):
        return "V07"
    if _has(text, _MANUAL_HANDOFF) and not _has(text, ("確認",)):
        return "V09"
    if _is_approval(node, gloss) and not _has(text, _CONFIRM[1:]):
        return "V02"
    if _has(text, _CONFIRM):
        return "V08"
    if node.medium == "paper" or _has(text, _PAPER):
        return "V05"
    if node.type in ("serviceTask", "scriptTask") and not node.function_ids:
        return "V17" if _has(text, _ADDON) else None
    return None


def is_approval(node: Node, glossary: Glossary | None = None) -> bool:
    """True when the step reviews or approves (by its lane or its words)."""
    return _is_approval(node, glossary or default_glossary())


def is_output(node: Node) -> bool:
    """True when the step hands the result out (交付, 通知, 発送 ...)."""
    return _has(_text(node), _OUTPUT)


def states_late_approval(node: Node) -> bool:
    """True when the step's label says it approves afterwards (後閲, 事後決裁)."""
    return _has(_text(node), _LATE)


def is_visit_anchor(node: Node) -> bool:
    """True for the intake (受付, 受理) or the hand-over (交付) of a visit.

    A counter visit opens with 受付 and closes with 交付; the order changes
    the taxonomy names are of other steps moved around them (本人確認
    before or after 受付, 手数料収納 before 証明書の交付, 決裁 after the
    交付: V03, V14 of ``shared/domain/deviations.md``), so when either of
    two swapped steps could be the one moved, it is not the anchor.
    """
    return _has(_text(node), _ANCHOR)


def is_batched(node: Node) -> bool:
    """True when the step's label says it is done in a batch or later.

    まとめて, 一括, 日次, 夜間バッチ, 翌日 ...; 取りまとめ (compiling the
    results) is not batching.
    """
    text = _text(node).replace("取りまとめ", "").replace("とりまとめ", "")
    return _has(text, _BATCH)


def _batched(flow: Flow, n: str) -> bool:
    node = flow.nodes[n]
    return node.trigger == "timer" or is_batched(node)


def reordering_code(
    standard: Flow, town: Flow, m: Matching, moved: str, partners: list[str]
) -> str | None:
    """V03 or V06 for a reordering, read from the town steps it involves.

    ``moved`` is the town step reported as moved and ``partners`` the town
    steps it changed places with. A stated after-the-fact approval (後閲,
    事後) among them, or right after the moved step (the 決議書 drafted for
    it), makes the order change a 後閲 (V03); a batched step among them, or
    right after a timer or a batch step (本登録（日次一括更新）, 夜間バッチ),
    makes it a batch instead of immediate work (V06). A step counts only
    where the town says so and its standard counterpart does not. None
    otherwise: the other rules of :func:`classify` then apply.
    """

    def town_only(n: str, test: Callable[[Flow, str], bool]) -> bool:
        if n not in town or not test(town, n):
            return False
        pair = m.pair_of_b(n)
        return not any(test(standard, a) for a in (pair.a if pair else ()))

    def late(flow: Flow, n: str) -> bool:
        return states_late_approval(flow.nodes[n])

    def batched(flow: Flow, n: str) -> bool:
        return _batched(flow, n) or any(_batched(flow, p) for p in flow.predecessors(n))

    involved = [moved, *partners]
    if any(town_only(n, late) for n in [*involved, *town.successors(moved)]):
        return "V03"
    if any(town_only(n, batched) for n in involved):
        return "V06"
    return None


def _after_output(standard: Flow, town: Flow, s_id: str, t_id: str) -> bool:
    """True when the town does an output step before this approval step."""
    graph = sequence_graph(town)
    before = nx.ancestors(graph, t_id) - nx.descendants(graph, t_id)
    return any(_has(_text(town.nodes[n]), _OUTPUT) for n in before)


def _gateway_code(node: Node, flow: Flow, gloss: Glossary, added: bool) -> str | None:
    """The code of a decision added (``added``) or removed.

    A decision between the main office and a branch (届出先, 申請窓口: a
    branch leads to a 支所 step) is branch-office intake (V07); one on the
    channel (転入予約 through マイナポータル, オンライン申請) a channel
    difference (V13); one whose
    branch is an approval (合議を要する金額か, 50万円以上か → 部長決裁) adds
    or drops that approval (V02, V01); a removed parallel split does in
    sequence what the standard does side by side (V14).
    """
    succs = [flow.nodes[n] for n in flow.successors(node.id) if n in flow]
    if _has(_text(node), _PLACE) or any(
        _in_branch(n, gloss) or _has(_text(n), _BRANCH) for n in succs
    ):
        return "V07"
    if any(_has(_text(n), _CHANNEL) for n in [node, *succs]):
        return "V13"
    if any(_lane(n, gloss) == "決裁" or _has(_text(n), _APPROVAL) for n in succs):
        return "V02" if added else "V01"
    if not added and node.type == "parallelGateway":
        return "V14"
    return None


def classify(
    change: Change, standard: Flow, town: Flow, glossary: Glossary | None = None
) -> str | None:
    """The deviation code a rule recognises in a change, or None.

    Parameters
    ----------
    change : Change
    standard, town : Flow
        The flows the change's ids refer to.
    glossary : Glossary, optional
        For lane synonyms; the bundled glossary by default.
    """
    gloss = glossary or default_glossary()
    std = [standard.nodes[i] for i in change.standard if i in standard]
    twn = [town.nodes[i] for i in change.town if i in town]
    kind = change.kind
    if kind == "missing" and std:
        if _is_approval(std[0], gloss):
            return "V01"
        if _has(_text(std[0]), _GUIDE):
            return "V10"
        return None
    if kind == "extra" and twn:
        return _extra_code(twn[0], town, gloss)
    if kind == "merged":
        if any(_is_approval(n, gloss) for n in std):
            return "V01"
        if any(_has(_text(n), _JOINT_FORM) for n in twn):
            # one form doing for two (負担行為兼支出命令書) is approved once
            return "V01"
        if len({_lane(n, gloss) for n in std}) > 1:
            return "V04"
        return None
    if kind == "split":
        if any(n.medium == "paper" or _has(_text(n), _PAPER) for n in twn):
            return "V05"
        if any(_has(_text(n), _CONFIRM) for n in twn):
            return "V08"
        if any(n.trigger == "timer" or _has(_text(n), _BATCH) for n in twn):
            return "V06"
        return None
    if kind == "lane_changed" and std and twn:
        if std[0].pool and not twn[0].pool and std[0].type == "receiveTask":
            # the receiver enters by hand what no 連携 brings (a message
            # into the town step is the 連携 drawn without a pool)
            messages = town.graph.pred[twn[0].id].values() if twn[0].id in town else ()
            if not any(d.get("kind") == "message" for d in messages):
                return "V09"
        town_lane = f"{twn[0].lane or ''} {twn[0].pool or ''}"
        if _has(town_lane, _OUTSOURCE):
            return "V11"
        if _has(town_lane, _WIDE):
            return "V12"
        if _in_branch(twn[0], gloss):
            return "V07"
        if _lane(twn[0], gloss) == "システム":
            return None  # the system does what a person does in the standard
        if _lane(std[0], gloss) == "システム":
            # What the system does, a person does: by hand when it hands
            # over to another body or section, else no taxonomy case.
            handoff = std[0].type == "sendTask" or _has(_text(std[0]), _SEND)
            return "V09" if handoff else None
        return "V04"
    if kind == "type_changed" and std and twn:
        if twn[0].type == "manualTask" and std[0].type in (
            "serviceTask",
            "userTask",
            "scriptTask",
        ):
            return "V05"
        return None
    if kind == "attribute_changed" and std and twn:
        if twn[0].medium == "paper" and (
            std[0].medium in _ELECTRONIC or not std[0].medium
        ):
            return "V05"
        if _in_branch(twn[0], gloss) and not _in_branch(std[0], gloss):
            return "V07"
        if is_batched(twn[0]) and not is_batched(std[0]):
            return "V06"
        return "V16"
    if kind == "reordered" and std and twn:
        if _is_approval(std[0], gloss) and _after_output(
            standard, town, std[0].id, twn[0].id
        ):
            return "V03"
        return "V14"
    if kind == "gateway_changed" and (std or twn):
        return _gateway_code(
            std[0] if std else twn[0], standard if std else town, gloss, bool(twn)
        )
    if kind == "loop_added":
        return "V15"
    if kind == "handoff_missing":
        manual = [
            n
            for n in town.nodes.values()
            if n.is_activity and _has(_text(n), _MANUAL_HANDOFF)
        ]
        return "V09" if manual else "V10"
    return None
