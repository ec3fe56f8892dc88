"""The processes/ tree: standard flows, the sample survey and its gold.

The checks are plain functions that return a list of problems, one line
each, so that the same code judges the shipped tree and a deliberately
broken copy of it. A flow is well formed when

- every node is reachable from a start event (along sequence flows, or
  along a message flow for the steps of an outside body that a hand-off
  starts),
- every node reaches an end event along sequence flows; a node of a pool
  that has no end event at all may end its path implicitly, as BPMN 2.0
  allows (section 10.5.3), but the flow's own pool must end explicitly,
- nothing refers to a node, lane or pool that is not there, and
- every outgoing flow of an exclusive or inclusive decision that splits
  carries a label (the condition in words) or a condition expression.
"""

from __future__ import annotations

import csv
import hashlib
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest
from conftest import PROCESSES

import harpflow
from harpflow.diff import CHANGE_KINDS
from harpflow.io import format_for
from harpflow.model import ACTIVITY_TYPES, Flow

#: The 27 business areas (code-slug), as in ``harpflow.areas``.
AREA_FOLDERS = [
    "01-jumin",
    "02-inkan",
    "03-gaikokujin",
    "04-senkyo",
    "05-kotei-shisan",
    "06-kojin-juminzei",
    "07-hojin-juminzei",
    "08-kei-jidosha",
    "09-shuno",
    "10-kokuho",
    "11-nenkin",
    "12-shogai",
    "13-koki-korei",
    "14-kaigo",
    "15-seiho",
    "16-nyuyoji-iryo",
    "17-hitorioya-iryo",
    "18-kenko",
    "19-shugaku",
    "20-koseki",
    "21-kodomo-teate",
    "22-jutogai",
    "23-zaimu",
    "24-jinji",
    "25-bunsho",
    "26-judo-iryo",
    "27-kokaikei",
]
#: Procedures every surveyed town must have: (area folder, procedure).
REQUIRED_PROCEDURES = (
    ("01-jumin", "tennyu"),
    ("02-inkan", "toroku"),
    ("05-kotei-shisan", "toshokazei"),
    ("10-kokuho", "shikaku-shutoku"),
    ("14-kaigo", "nintei"),
    ("23-zaimu", "buppin-shishutsu"),
)
GOLD_COLUMNS = ["standard", "town", "relation", "kind", "code", "note"]
TOWN_COLUMNS = ["id", "name", "kind", "population", "region"]
#: Hokkaido's 14 振興局, by the short names survey reports use.
REGIONS = frozenset(
    [
        "空知",
        "石狩",
        "後志",
        "胆振",
        "日高",
        "渡島",
        "檜山",
        "上川",
        "留萌",
        "宗谷",
        "オホーツク",
        "十勝",
        "釧路",
        "根室",
    ]
)
DECISIONS = frozenset({"exclusiveGateway", "inclusiveGateway"})
V_CODE = re.compile(r"V(0[1-9]|1[0-7])")


# ---------------------------------------------------------------- the tree


def flow_files(folder: Path) -> list[Path]:
    """Every flow file under a folder, sorted (towns.csv is not a flow)."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.name != "towns.csv"
        and p.suffix != ".md"
        and format_for(p) is not None
    )


def gold_files(root: Path) -> list[Path]:
    folder = root / "gold"
    return sorted(folder.rglob("*.csv")) if folder.is_dir() else []


def _key(path: Path, base: Path) -> tuple[str, ...]:
    """(town, area, procedure) or (area, procedure) of a file below base."""
    rel = path.relative_to(base)
    return (*rel.parts[:-1], rel.name.split(".")[0])


_READ: dict[tuple[str, str], Flow] = {}


def read(path: Path) -> Flow:
    """harpflow.read, cached by content so that copies of the tree are cheap."""
    key = (hashlib.sha256(path.read_bytes()).hexdigest(), path.suffix)
    if key not in _READ:
        _READ[key] = harpflow.read(path)
    return _READ[key]


def standard_for(root: Path, area: str, procedure: str) -> Path | None:
    for path in flow_files(root / "standard" / area):
        if path.parent.name == area and path.name.split(".")[0] == procedure:
            return path
    return None


# ------------------------------------------------------------ well formed


def flow_problems(flow: Flow, where: str) -> list[str]:
    """Problems that make a flow ill formed (empty when it is sound)."""
    problems: list[str] = []
    nodes = flow.nodes
    lane_names = {lane.name for lane in flow.lanes}
    pool_names = {pool.name for pool in flow.pools} | {p.id for p in flow.pools}

    # References: edges, lanes, pools, parents and data associations.
    for edge in flow.edges:
        for end in (edge.source, edge.target):
            if end not in nodes:
                problems.append(f"{where}: flow {edge.id} refers to missing {end}")
    for node in nodes.values():
        if lane_names and node.lane is not None and node.lane not in lane_names:
            problems.append(f"{where}: {node.id} is in unknown lane {node.lane}")
        if node.pool is not None and node.pool not in pool_names:
            problems.append(f"{where}: {node.id} is in unknown pool {node.pool}")
        for ref in (node.parent, node.attached_to):
            if ref is not None and ref not in nodes:
                problems.append(f"{where}: {node.id} refers to missing {ref}")
    for obj in flow.data_objects:
        for ref in (*obj.inputs, *obj.outputs):
            if ref not in nodes:
                problems.append(f"{where}: data object {obj.id} refers to {ref}")
    for msg in flow.pool_messages:
        for ref in (msg.source, msg.target):
            if ref not in nodes and ref not in pool_names:
                problems.append(f"{where}: message {msg.id} refers to {ref}")

    # Reachability: from start events along sequence and message flows.
    starts = [n.id for n in nodes.values() if n.type == "startEvent"]
    if not starts:
        problems.append(f"{where}: no start event")
    reached = set(starts)
    todo = list(starts)
    while todo:
        current = todo.pop()
        for nxt in flow.graph.successors(current):
            if nxt not in reached:
                reached.add(nxt)
                todo.append(nxt)
    for node_id in sorted(set(nodes) - reached):
        if nodes[node_id].type != "boundaryEvent":
            problems.append(f"{where}: {node_id} is not reachable from a start")

    # Completion: every node reaches an end event along sequence flows.
    seq = flow.sequence_graph()
    ends = {n.id for n in nodes.values() if n.type == "endEvent"}
    pools_with_end = {nodes[e].pool for e in ends}
    pools_with_start = {nodes[s].pool for s in starts}
    finishing = set(ends)
    todo = list(ends)
    while todo:
        current = todo.pop()
        for prev in seq.predecessors(current):
            if prev not in finishing:
                finishing.add(prev)
                todo.append(prev)
    for node_id, node in sorted(nodes.items()):
        if node_id in finishing:
            continue
        implicit_end = (
            node.pool not in pools_with_end
            and node.pool not in pools_with_start
            and seq.out_degree(node_id) == 0
        )
        if not implicit_end:
            problems.append(f"{where}: {node_id} does not reach an end event")

    # Decisions: every branch of a splitting decision says its condition.
    for node in nodes.values():
        if node.type not in DECISIONS:
            continue
        out = [e for e in flow.sequence_edges() if e.source == node.id]
        if len(out) < 2:
            continue
        for edge in out:
            if not (edge.label.strip() or (edge.condition or "").strip()):
                problems.append(
                    f"{where}: branch {node.id}->{edge.target} has no label"
                )
    return problems


def standard_problems(flow: Flow, path: Path) -> list[str]:
    """Metadata and size rules for a standard flow."""
    problems = []
    where = str(path)
    meta = {
        "name": flow.name,
        "area": flow.area,
        "procedure": flow.procedure,
        **flow.meta,
    }
    for key in ("name", "area", "procedure", "legal_basis", "status"):
        if not str(meta.get(key) or "").strip():
            problems.append(f"{where}: metadata {key!r} is missing")
    if str(meta.get("status")) not in {"S", "I", "mixed"}:
        problems.append(f"{where}: status must be S, I or mixed")
    if str(meta.get("area")) != path.parent.name[:2]:
        problems.append(f"{where}: area {meta.get('area')!r} is not its folder's")
    if str(meta.get("procedure")) != path.name.split(".")[0]:
        problems.append(f"{where}: procedure does not match the file name")
    activities = sum(1 for n in flow.nodes.values() if n.type in ACTIVITY_TYPES)
    if not 10 <= activities <= 30:
        problems.append(f"{where}: {activities} activities (10-30 wanted)")
    return problems


# ------------------------------------------------------------------- gold


def read_gold(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def gold_problems(path: Path, standard: Flow, town: Flow) -> list[str]:
    """Problems of one gold file against its standard and town flows."""
    problems: list[str] = []
    header, rows = read_gold(path)
    if header != GOLD_COLUMNS:
        return [f"{path}: columns {header} (wanted {GOLD_COLUMNS})"]
    pairs = 0
    for line, row in enumerate(rows, start=2):
        where = f"{path}:{line}"
        std, twn = row["standard"].strip(), row["town"].strip()
        relation, kind = row["relation"].strip(), row["kind"].strip()
        code = row["code"].strip()
        if std and std not in standard.nodes:
            problems.append(f"{where}: standard id {std!r} not in the standard flow")
        if twn and twn not in town.nodes:
            problems.append(f"{where}: town id {twn!r} not in the town flow")
        if not (std or twn):
            problems.append(f"{where}: a row needs a standard or a town id")
        if code and not V_CODE.fullmatch(code):
            problems.append(f"{where}: code {code!r} is not V01-V17")
        if relation == "=":
            pairs += 1
            if kind:
                problems.append(f"{where}: a '=' row carries no change kind")
            if not (std and twn):
                problems.append(f"{where}: a '=' row pairs two ids")
            for flow, ref in ((standard, std), (town, twn)):
                if ref in flow.nodes and not flow.nodes[ref].is_activity:
                    problems.append(f"{where}: {ref!r} is not an activity")
        elif relation:
            problems.append(f"{where}: relation {relation!r} (only '=' or empty)")
        elif kind not in CHANGE_KINDS:
            problems.append(f"{where}: change kind {kind!r} is not in DESIGN.md")
    if pairs == 0:
        problems.append(f"{path}: no '=' correspondence at all")
    return problems


# ------------------------------------------------------------------ towns


def towns_problems(root: Path) -> list[str]:
    path = root / "towns" / "towns.csv"
    if not path.is_file():
        return [f"{path}: missing"]
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        header, rows = list(reader.fieldnames or []), list(reader)
    problems = []
    if header != TOWN_COLUMNS:
        problems.append(f"{path}: columns {header} (wanted {TOWN_COLUMNS})")
        return problems
    kinds = {"市": 0, "町": 0, "村": 0}
    for row in rows:
        pop = int(row["population"])
        kind = row["kind"]
        if row["name"] != f"{row['id']}{kind}":
            problems.append(f"{path}: {row['id']} is named {row['name']}")
        if row["region"] not in REGIONS:
            problems.append(f"{path}: {row['id']}: unknown region {row['region']}")
        ok = {
            "市": pop > 100_000,
            "町": 5_000 <= pop <= 30_000,
            "村": pop < 5_000,
        }.get(kind, False)
        if not ok:
            problems.append(f"{path}: {row['id']} {kind} of {pop} people")
        kinds[kind] = kinds.get(kind, 0) + 1
    if len(rows) != 12 or kinds != {"市": 2, "町": 5, "村": 5}:
        problems.append(f"{path}: {len(rows)} towns {kinds} (wanted 2 市, 5 町, 5 村)")
    if len({r["id"] for r in rows}) != len(rows):
        problems.append(f"{path}: duplicate ids")
    if len({r["region"] for r in rows}) < 8:
        problems.append(f"{path}: towns crowd into few regions")
    return problems


def town_ids(root: Path) -> list[str]:
    with (root / "towns" / "towns.csv").open(encoding="utf-8-sig") as fh:
        return [row["id"] for row in csv.DictReader(fh)]


# ------------------------------------------------------------- everything


def tree_problems(root: Path) -> list[str]:
    """Every problem of a processes tree, in a stable order."""
    problems: list[str] = []
    standard = root / "standard"
    for area in AREA_FOLDERS:
        if not flow_files(standard / area):
            problems.append(f"{standard / area}: no standard flow")
    for extra in sorted(p.name for p in standard.iterdir() if p.is_dir()):
        if extra not in AREA_FOLDERS:
            problems.append(f"{standard / extra}: not one of the 27 areas")

    problems += towns_problems(root)
    flows: dict[Path, Flow] = {}
    for path in flow_files(standard) + flow_files(root / "towns"):
        try:
            flows[path] = read(path)
        except harpflow.HarpflowError as exc:
            problems.append(f"{path}: does not read: {exc}")
    for path, flow in flows.items():
        problems += flow_problems(flow, str(path))
        if path.is_relative_to(standard):
            problems += standard_problems(flow, path)

    # Town flows <-> gold <-> standard.
    towns = root / "towns"
    known = set(town_ids(root)) if (towns / "towns.csv").is_file() else set()
    town_flows = {_key(p, towns): p for p in flow_files(towns)}
    golds = {_key(p, root / "gold"): p for p in gold_files(root)}
    for key, path in sorted(town_flows.items()):
        if key[0] not in known:
            problems.append(f"{path}: town {key[0]} is not in towns.csv")
        if key not in golds:
            problems.append(f"{path}: no gold file")
        if standard_for(root, key[1], key[2]) is None:
            problems.append(f"{path}: no standard flow for {key[1]}/{key[2]}")
    for key, path in sorted(golds.items()):
        if key not in town_flows:
            problems.append(f"{path}: gold without a town flow")
            continue
        std_path = standard_for(root, key[1], key[2])
        town_path = town_flows[key]
        if std_path in flows and town_path in flows:
            problems += gold_problems(path, flows[std_path], flows[town_path])
    for town in sorted(known):
        for area, procedure in REQUIRED_PROCEDURES:
            if (town, area, procedure) not in town_flows:
                problems.append(f"{towns / town}: no {area}/{procedure} flow")
    return problems


# ------------------------------------------------------------------ tests

STANDARD_FILES = flow_files(PROCESSES / "standard")
TOWN_FILES = flow_files(PROCESSES / "towns")


def _ids(paths: Iterable[Path]) -> list[str]:
    return [str(p.relative_to(PROCESSES)) for p in paths]


def test_all_27_areas_have_a_standard_flow() -> None:
    missing = [a for a in AREA_FOLDERS if not flow_files(PROCESSES / "standard" / a)]
    assert missing == []
    assert len(STANDARD_FILES) >= 40


def test_area_folders_match_harpflow_areas() -> None:
    areas = pytest.importorskip("harpflow.areas")
    assert sorted(f"{a.code}-{a.slug}" for a in areas.AREAS) == AREA_FOLDERS


@pytest.mark.parametrize("path", STANDARD_FILES, ids=_ids(STANDARD_FILES))
def test_standard_flow(path: Path) -> None:
    flow = read(path)
    assert flow_problems(flow, str(path)) + standard_problems(flow, path) == []


@pytest.mark.parametrize("path", TOWN_FILES, ids=_ids(TOWN_FILES))
def test_town_flow(path: Path) -> None:
    assert flow_problems(read(path), str(path)) == []


def test_towns_csv() -> None:
    assert towns_problems(PROCESSES) == []


def test_survey_formats_are_mixed() -> None:
    formats = {format_for(p) for p in TOWN_FILES}
    assert len(formats) >= 3


def test_whole_tree() -> None:
    assert tree_problems(PROCESSES) == []


# ------------------------------------------------------ a broken tree fails


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    root = tmp_path / "processes"
    shutil.copytree(PROCESSES, root)
    return root


def _a_gold(root: Path) -> Path:
    """The first gold file whose town flow exists."""
    towns = {_key(p, root / "towns") for p in flow_files(root / "towns")}
    for gold in gold_files(root):
        if _key(gold, root / "gold") in towns:
            return gold
    pytest.fail("the tree has no gold file with its town flow")


def test_dangling_gold_id_is_caught(tree_copy: Path) -> None:
    gold = _a_gold(tree_copy)
    with gold.open("a", encoding="utf-8", newline="") as fh:
        fh.write("1,no-such-step,=,,,dangling\n")
    problems = tree_problems(tree_copy)
    assert any("no-such-step" in p and "not in the town flow" in p for p in problems)


def test_gold_without_town_flow_is_caught(tree_copy: Path) -> None:
    gold = _a_gold(tree_copy)
    orphan = gold.with_name("no-such-procedure.csv")
    shutil.copy(gold, orphan)
    problems = tree_problems(tree_copy)
    assert f"{orphan}: gold without a town flow" in problems


def test_town_flow_without_gold_is_caught(tree_copy: Path) -> None:
    gold = _a_gold(tree_copy)
    gold.unlink()
    assert any(p.endswith(": no gold file") for p in tree_problems(tree_copy))


BROKEN = """\
name: 壊れた転入届
area: "01"
procedure: tennyu
legal_basis: 住民基本台帳法第22条
status: I
steps:
  - {番号: S, 担当: 住民, 作業: 開始, 種別: 開始, 次: [1]}
  - {番号: 1, 担当: 住民, 作業: 届出, 次: [G]}
  - {番号: G, 担当: 窓口, 作業: 不備？, 種別: 判断, 次: ["2:不備なし", "3"]}
  - {番号: 2, 担当: 窓口, 作業: 受付, 次: [E]}
  - {番号: 3, 担当: 窓口, 作業: 補正, 次: ["-"]}
  - {番号: 4, 担当: 窓口, 作業: 宙に浮いた作業, 次: [E]}
  - {番号: E, 担当: 窓口, 作業: 終了, 種別: 終了}
"""


def test_ill_formed_flow_is_caught(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    problems = flow_problems(harpflow.read(path), "broken")
    assert "broken: 4 is not reachable from a start" in problems
    assert "broken: 3 does not reach an end event" in problems
    assert "broken: branch G->3 has no label" in problems
    assert len(problems) == 3


def test_standard_rules_are_enforced(tmp_path: Path) -> None:
    path = tmp_path / "01-jumin" / "tennyu.yaml"
    path.parent.mkdir()
    path.write_text(BROKEN.replace("status: I", "status: maybe"), encoding="utf-8")
    problems = standard_problems(harpflow.read(path), path)
    assert f"{path}: status must be S, I or mixed" in problems
    assert any("activities (10-30 wanted)" in p for p in problems)
