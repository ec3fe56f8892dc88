"""Mermaid flowcharts: hand-written fixtures, Markdown blocks, errors, writing."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import DATA

from harpflow.cli import main
from harpflow.errors import FormatError, HarpflowWarning, ParseError
from harpflow.io import read, write
from harpflow.io.mermaid import mermaid_blocks, read_mermaid, write_mermaid
from harpflow.io.mermaid_parse import label_text
from harpflow.io.mermaid_write import mermaid_ids, mermaid_label
from harpflow.model import Flow

M = DATA / "mermaid"


def summary(flow: Flow) -> dict[str, tuple[str, str, str | None]]:
    return {n.id: (n.type, n.label, n.lane) for n in flow.nodes.values()}


def edges(flow: Flow) -> set[tuple[str, str, str, str]]:
    return {(e.source, e.target, e.kind, e.label) for e in flow.edges}


def mermaid(text: str) -> bytes:
    out = write_mermaid(read_mermaid(text))
    assert out is not None
    return out


# -- the hand-written fixtures -------------------------------------------------


def test_all_shapes_nested_subgraphs_and_ignored_statements() -> None:
    flow = read(M / "tennyu.mmd")
    assert flow.name == "tennyu"
    assert summary(flow) == {
        "start": ("startEvent", "転入の届出", "住民"),
        "fill": ("task", "転入届を記入", "住民"),
        "recv": ("task", "届出を\n受付", "窓口係"),
        "check": ("exclusiveGateway", "本人確認\nOK?", "窓口係"),
        "ask": ("task", "補正を依頼", "窓口係"),
        "make": ("callActivity", "住民票を作成", "記録係"),
        "notify": ("callActivity", "マイナンバー\n通知", "記録係"),
        "done": ("endEvent", "完了", "記録係"),
        "review": ("task", "異動を審査", "記録係"),
        "manual": ("manualTask", "台帳に手書き", None),
        "outside": ("task", "転出元へ通知", None),
    }
    assert [(la.id, la.name, la.parent) for la in flow.lanes] == [
        ("住民", "住民", None),
        ("shiminka", "市民課", None),
        ("madoguchi", "窓口係", "shiminka"),
        ("kiroku", "記録係", "shiminka"),
    ]
    assert edges(flow) == {
        ("start", "fill", "sequence", ""),
        ("fill", "recv", "sequence", ""),
        ("recv", "check", "sequence", ""),
        ("check", "ask", "sequence", "不備あり"),
        ("ask", "fill", "sequence", ""),
        # A & B --> C
        ("make", "done", "sequence", ""),
        ("notify", "done", "sequence", ""),
        ("review", "make", "sequence", ""),  # --- is a flow as written
        ("check", "review", "sequence", "OK"),  # -- OK -->
        ("check", "notify", "sequence", "OK"),
        ("review", "manual", "sequence", ""),  # ==>
        ("manual", "outside", "message", ""),  # -.->
    }
    stores = {d.id: (d.kind, d.label, d.inputs, d.outputs) for d in flow.data_objects}
    assert stores == {
        "ledger": ("dataStoreReference", "住民基本台帳", (), ("make",)),
        "paper": ("dataObjectReference", "転入届書", ("recv",), ()),
    }
    assert flow.node("recv").forms == ("転入届書",)


def test_front_matter_semicolons_quotes_and_text_links() -> None:
    flow = read(M / "jidou_teate.mermaid")
    assert flow.name == "児童手当 認定請求"
    window = "子育て支援課 窓口"
    assert summary(flow) == {
        "s": ("startEvent", "出生・転入", "請求者"),
        "a1": ("task", "認定請求書を提出 (様式第1号)", "請求者"),
        "a2": ("task", "請求書を受付・\n本人確認", window),
        "d1": ("exclusiveGateway", "所得制限内?", window),
        "a3": ("task", "認定通知書を発送", "給付係"),
        "a4": ("task", "却下通知書を発送", "給付係"),
        "e": ("endEvent", "終了", "給付係"),
        "s2": ("task", "請求者へ連絡", None),
    }
    stats = flow.stats()
    assert (stats["sequence_flows"], stats["message_flows"]) == (8, 1)
    assert (stats["lanes"], stats["data_objects"]) == (3, 1)
    assert ("a3", "s2", "message", "電話連絡") in edges(flow)  # -. text .->
    (system,) = flow.data_objects
    assert (system.kind, system.inputs, system.lane) == (
        "dataStoreReference",
        ("d1",),
        "給付係",
    )


def test_markdown_first_flowchart_block() -> None:
    flow = read(M / "gyomu.md")
    assert summary(flow) == {
        "A": ("startEvent", "請求", "住民"),
        "B": ("task", "請求書を記入", "住民"),
        "C": ("task", "受付", "窓口"),
        "D": ("exclusiveGateway", "本人?", "窓口"),
        "E": ("task", "写しを交付", "窓口"),
        "F": ("task", "委任状を確認", "窓口"),
        "G": ("endEvent", "終了", "窓口"),
    }
    assert flow.stats()["sequence_flows"] == 7
    third = read(M / "gyomu.md", block=2)  # a ~~~ fence
    assert [(n.id, n.type) for n in third.nodes.values()] == [
        ("P", "task"),
        ("Q", "task"),
        ("R", "task"),
    ]
    assert third.lanes == []


def test_markdown_block_errors_name_the_file_line() -> None:
    with pytest.raises(ParseError, match="not a Mermaid flowchart") as info:
        read(M / "gyomu.md", block=0)
    assert info.value.line == 6  # the sequenceDiagram line of the file
    with pytest.raises(FormatError, match="no Mermaid block 3"):
        read(M / "gyomu.md", block=3)
    assert [line for line, _ in mermaid_blocks((M / "gyomu.md").read_text())] == [
        6,
        14,
        31,
    ]


def test_harpflow_classes_pools_sub_process_and_boundary_event() -> None:
    flow = read(M / "kotei_shisan.mmd")
    facts = {n.id: (n.type, n.lane, n.pool, n.parent) for n in flow.nodes.values()}
    town = "○○町役場"
    assert facts == {
        "n1": ("startEvent", "窓口係", town, None),
        "n2": ("userTask", "窓口係", town, None),
        "sp": ("subProcess", "記録係", town, None),
        "c1": ("startEvent", None, town, "sp"),
        "c2": ("userTask", None, town, "sp"),
        "c3": ("endEvent", None, town, "sp"),
        "b1": ("boundaryEvent", "記録係", town, None),
        "n3": ("task", "記録係", town, None),
        "n4": ("serviceTask", "税務課", town, None),
        "n5": ("endEvent", "税務課", town, None),
    }
    assert [p.name for p in flow.pools] == [town, "県"]
    assert [(la.name, la.parent) for la in flow.lanes] == [
        ("住民課", None),
        ("窓口係", "jumin"),
        ("記録係", "jumin"),
        ("税務課", None),
    ]
    b1 = flow.node("b1")
    assert (b1.attached_to, b1.trigger, b1.attrs["cancel_activity"]) == (
        "sp",
        "timer",
        False,
    )
    assert flow.node("n1").trigger == "message"
    assert ("n2", "sp", "sequence", "") in edges(flow)  # a link to a subgraph
    (msg,) = flow.pool_messages
    assert (msg.source, msg.target, msg.label) == ("n4", "ken", "課税通知")
    assert [(a.text, a.targets) for a in flow.annotations] == [
        ("年度末は翌年度課税に反映", ("n4",))
    ]


# -- smaller rules -------------------------------------------------------------


def test_chains_ampersands_and_link_forms() -> None:
    flow = read_mermaid(
        "graph RL\n"
        "A & B --> C --> D & E\n"
        "D <--> F\n"
        "E --x G\n"
        "G ---o H\n"
        "H -- 長い説明 ---> I\n"
        "I == 強調 === J\n"
        "J ~~~ K\n"
        "K e1@--> L\n"
    )
    assert edges(flow) == {
        ("A", "C", "sequence", ""),
        ("B", "C", "sequence", ""),
        ("C", "D", "sequence", ""),
        ("C", "E", "sequence", ""),
        ("D", "F", "sequence", ""),
        ("F", "D", "sequence", ""),
        ("E", "G", "sequence", ""),
        ("G", "H", "sequence", ""),
        ("H", "I", "sequence", "長い説明"),
        ("I", "J", "sequence", "強調"),
        ("K", "L", "sequence", ""),
    }
    assert flow.edge("e1").source == "K"
    assert "K" in flow  # ~~~ places nodes but is no flow


def test_statements_on_the_header_line() -> None:
    flow = read_mermaid(b"graph TD;A-->B;B-->C;")
    assert edges(flow) == {("A", "B", "sequence", ""), ("B", "C", "sequence", "")}


def test_stadium_and_circle_by_their_edges() -> None:
    flow = read_mermaid(
        "flowchart LR\n"
        "a([開始]) --> b([途中]) --> c([終了])\n"
        "d((丸)) --> e((つなぎ)) --> f((丸))\n"
        "g(((二重)))\n"
    )
    types = {n.id: n.type for n in flow.nodes.values()}
    assert types == {
        "a": "startEvent",
        "b": "task",
        "c": "endEvent",
        "d": "startEvent",
        "e": "intermediateThrowEvent",
        "f": "endEvent",
        "g": "endEvent",
    }


def test_node_redefinition_and_bare_ids() -> None:
    flow = read_mermaid("flowchart TD\nA --> B\nB[審査] --> C\nA[受付]")
    assert summary(flow) == {
        "A": ("task", "受付", None),
        "B": ("task", "審査", None),
        "C": ("task", "C", None),
    }


def test_new_shape_syntax() -> None:
    flow = read_mermaid(
        'flowchart LR\nA@{ shape: stadium, label: "開始" } --> B@{ shape: diam }\n'
        'B --> C@{ shape: doc, label: "帳票" }'
    )
    assert [(n.id, n.type) for n in flow.nodes.values()] == [
        ("A", "startEvent"),
        ("B", "exclusiveGateway"),
    ]
    assert flow.data_objects[0].label == "帳票"
    with pytest.warns(HarpflowWarning, match="unknown shape 'bolt'"):
        read_mermaid("flowchart LR\nA@{ shape: bolt } --> B")


def test_label_decoding() -> None:
    assert label_text('"1行目\\n2行目"') == "1行目\n2行目"
    assert label_text("<b>太字</b>と<i>斜体</i>") == "太字と斜体"
    assert label_text('"`**Markdown**`"') == "**Markdown**"
    assert label_text("#9829; #lt;x#gt; #unknown;") == "♥ <x> #unknown;"


def test_a_link_to_a_lane_is_skipped_with_a_warning() -> None:
    with pytest.warns(HarpflowWarning, match="line 5: skipped a link to a lane"):
        flow = read_mermaid("flowchart LR\nsubgraph 窓口\nA\nend\nB --> 窓口")
    assert flow.stats()["sequence_flows"] == 0


# -- errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("flowchart LR\nA --> B\nC[閉じない\n", 3, "not closed with ']'"),
        ("flowchart LR\nA --> B\nend\n", 3, "'end' without a subgraph"),
        ("flowchart LR\nA --> B\nsubgraph 窓口\nC\n", 3, "never closed"),
        ("sequenceDiagram\nA->>B: hi\n", 1, "not a Mermaid flowchart"),
        ("flowchart LR\nA --> B\nC -->\n", 3, "expected a node id"),
        ("flowchart LR\nA --> B\n  C D\n", 3, "expected a link"),
        ('flowchart LR\nA["開く] --> B\n', 2, "quoted label is not closed"),
        ("flowchart LR\nA -->|ラベル B\n", 2, "not closed with '|'"),
        ("%% 何もない\n\n", 1, "no flowchart"),
    ],
)
def test_malformed_mermaid_names_its_line(text: str, line: int, message: str) -> None:
    with pytest.raises(ParseError, match=message) as info:
        read_mermaid(text)
    assert info.value.line == line
    assert info.value.source == "<string>"


def test_error_element_shows_the_statement() -> None:
    with pytest.raises(ParseError) as info:
        read_mermaid("flowchart LR\n    A --> B ; B --> C[[x\n")
    assert info.value.element == "B --> C[[x"
    assert str(info.value).startswith("<string>:2: B --> C[[x: ")


def test_cli_stats_on_broken_mermaid_exits_2_with_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "broken.mmd"
    broken.write_text("flowchart LR\n  A --> B\n  B --> C{閉じない\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["stats", str(broken)])
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"harpflow: error: {broken}:3: ")
    ok = CliRunner().invoke(main, ["stats", "--json", str(M / "tennyu.mmd")])
    assert ok.exit_code == 0, ok.output
    assert '"nodes": 11' in ok.output


# -- writing -------------------------------------------------------------------


def test_labels_are_quoted_safely() -> None:
    nasty = '申請書"様式1"を#受付; A|B & <C>\n2行目 `x` \\n'
    assert label_text(mermaid_label(nasty)) == nasty
    flow = Flow("記号")
    flow.add_node("t", label=nasty, lane="窓口; 2")
    flow.add_node("end", type="endEvent", label="end")
    flow.add_edge("t", "end", label='"はい" | yes')
    back = read_mermaid(mermaid_flow(flow))
    ids = mermaid_ids(flow)
    assert ids[("node", "end")] == "n2"  # a keyword is renamed
    assert back.node("t").label == nasty
    assert back.node("t").lane == "窓口; 2"
    assert back.edge("t__n2").label == '"はい" | yes'


def lane_facts(flow: Flow) -> list[tuple[str, str | None, str | None]]:
    names = {la.id: la.name for la in flow.lanes}
    pools = {p.id: p.name for p in flow.pools}
    return [
        (la.name, names.get(la.parent or ""), pools.get(la.pool or ""))
        for la in flow.lanes
    ]


def mermaid_flow(flow: Flow) -> bytes:
    data = write_mermaid(flow)
    assert data is not None
    assert data == write_mermaid(flow)  # deterministic
    return data


@pytest.mark.parametrize(
    "name", ["tennyu.mmd", "jidou_teate.mermaid", "gyomu.md", "kotei_shisan.mmd"]
)
def test_fixtures_write_and_read_back(name: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    flow = read(M / name)
    out = tmp_path / "back.mmd"
    write(flow, out)
    back = read(out)
    assert summary(back) == summary(flow)
    assert edges(back) == edges(flow)
    assert back.stats() == flow.stats()
    assert lane_facts(back) == lane_facts(flow)
    assert out.read_bytes() == mermaid_flow(back)  # a fixed point


def test_losses_of_node_attributes_and_flow_details() -> None:
    flow = Flow("転入届", area="01")
    flow.add_node(
        "t",
        type="userTask",
        label="受付",
        lane="窓口",
        function_ids=["0010001"],
        medium="paper",
        location="本庁",
        documentation="本人確認",
        bounds=(0, 0, 100, 80),
    )
    flow.add_node("g", type="exclusiveGateway")
    flow.add_node("e", type="endEvent")
    flow.add_edge("t", "g", id="f1")
    flow.add_edge("g", "e", id="f2", label="可", condition="ok == true", default=True)
    back = read_mermaid(mermaid_flow(flow))
    t = back.node("t")
    assert (t.type, t.label, t.lane) == ("userTask", "受付", "窓口")
    # What Mermaid cannot carry:
    assert (t.function_ids, t.medium, t.location, t.documentation) == (
        (),
        None,
        None,
        "",
    )
    assert t.bounds is None
    assert back.area is None
    (edge,) = [e for e in back.edges if e.source == "g"]
    assert (edge.label, edge.condition, edge.default) == ("可", None, False)
    assert edge.id == "g__e"  # edge ids are not written


# -- MIWG reference models -----------------------------------------------------


def test_miwg_references_through_mermaid() -> None:
    from conftest import corpus

    pytest.importorskip("harpflow.io.bpmn")
    paths = sorted(corpus("miwg", "Reference").glob("*.bpmn"))
    assert len(paths) == 21
    lost_defaults = lost_conditions = lost_docs = lost_assocs = renamed = 0
    for path in paths:
        flow = read(path)
        back = read_mermaid(mermaid_flow(flow))
        ids = mermaid_ids(flow)
        node = {k[1]: v for k, v in ids.items() if k[0] == "node"}
        renamed += sum(1 for k, v in node.items() if k != v)

        def m(x: str | None) -> str | None:
            return node.get(x, x) if x else x  # noqa: B023

        assert back.stats() == flow.stats(), path.name
        for n in flow.nodes.values():
            b = back.node(node[n.id])
            assert (b.type, b.label, b.lane, b.pool) == (
                n.type,
                n.label,
                n.lane,
                n.pool,
            ), (path.name, n.id)
            assert (b.parent, b.trigger, b.attached_to, b.loop) == (
                m(n.parent),
                n.trigger,
                m(n.attached_to),
                n.loop,
            ), (path.name, n.id)
            assert b.attrs.get("cancel_activity") == n.attrs.get("cancel_activity")
            assert bool(b.attrs.get("triggered_by_event")) == bool(
                n.attrs.get("triggered_by_event")
            )
            assert b.bounds is None
            lost_docs += bool(n.documentation)
        assert {(m(e.source), m(e.target), e.kind, e.label) for e in flow.edges} == {
            (e.source, e.target, e.kind, e.label) for e in back.edges
        }, path.name
        assert not any(e.default or e.condition for e in back.edges)
        lost_defaults += sum(e.default for e in flow.edges)
        lost_conditions += sum(bool(e.condition) for e in flow.edges)
        assert [(p.name) for p in back.pools] == [p.name for p in flow.pools]
        assert lane_facts(back) == lane_facts(flow)
        data = {k[1]: v for k, v in ids.items() if k[0] in ("data", "annotation")}
        assert sorted(
            (
                data[d.id],
                d.label,
                d.kind,
                sorted(map(m, d.inputs)),
                sorted(map(m, d.outputs)),
            )
            for d in flow.data_objects
        ) == sorted(
            (d.id, d.label, d.kind, sorted(d.inputs), sorted(d.outputs))
            for d in back.data_objects
        )
        assert sorted(
            (a.text, sorted(map(m, a.targets))) for a in flow.annotations
        ) == (sorted((a.text, sorted(a.targets)) for a in back.annotations))
        pool = {k[1]: v for k, v in ids.items() if k[0] == "pool"}
        assert sorted(
            (
                node.get(p.source) or pool[p.source],
                node.get(p.target) or pool[p.target],
                p.label,
            )
            for p in flow.pool_messages
        ) == sorted((p.source, p.target, p.label) for p in back.pool_messages)
        lost_assocs += len(flow.meta.get("associations", ()))
        assert "associations" not in back.meta
    # The documented losses really occur in the reference models.
    assert lost_defaults > 0 and lost_conditions > 0 and lost_docs > 0
    assert lost_assocs > 0 and renamed > 0


def test_cli_converts_between_diagrams_net_and_mermaid(tmp_path) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    mmd = tmp_path / "tennyu.mmd"
    result = runner.invoke(
        main, ["convert", str(DATA / "drawio" / "bpmn_pool.drawio"), str(mmd)]
    )
    assert result.exit_code == 0, result.output
    from_mermaid = read(mmd)
    original = read(DATA / "drawio" / "bpmn_pool.drawio")
    ids = mermaid_ids(original)
    assert ids[("node", "end")] == "n1"  # "end" is a Mermaid keyword
    renamed = {ids[("node", k)]: v for k, v in summary(original).items()}
    assert summary(from_mermaid) == renamed
    assert len(edges(from_mermaid)) == len(edges(original)) == 9
    drawio = tmp_path / "back.drawio"
    result = runner.invoke(main, ["convert", str(mmd), str(drawio)])
    assert result.exit_code == 0, result.output
    assert summary(read(drawio)) == renamed


def test_deep_subgraph_nesting_stops_at_a_limit() -> None:
    from harpflow.errors import LimitError

    text = "flowchart LR\n" + "".join(f"subgraph s{i}\n" for i in range(300))
    with pytest.raises(LimitError, match="nested more than 200 levels") as info:
        read_mermaid(text)
    assert info.value.line == 202


def test_write_to_markdown_is_a_fenced_block_that_reads_back(tmp_path) -> None:
    town = DATA.parent.parent / "processes" / "towns" / "F" / "01-jumin" / "tennyu.mmd"
    out = tmp_path / "flow.md"
    result = CliRunner().invoke(main, ["convert", str(town), str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("```mermaid\n") and text.endswith("\n```\n")
    assert read(out).stats() == read(town).stats()
    assert not write_mermaid(read(town)).startswith(b"```")
