"""The ``harpflow`` command.

Subcommands mirror the API. Every subcommand that reports takes ``--json``
(stable keys) and prints a readable table otherwise. Exit status: 0 on
success, 2 on bad input or usage -- a missing or unreadable input, an
output that cannot be written or whose suffix names no format, a bad
option -- with one line ``harpflow: error: <file>:<line>: <what>`` on
stderr and no traceback, 1 on an unexpected failure.
"""

from __future__ import annotations

import errno
import json
import os
import sys
import unicodedata
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from harpflow.errors import HarpflowError, HarpflowWarning

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str) -> NoReturn:
    click.echo(f"harpflow: error: {_one_line(message)}", err=True)
    sys.exit(2)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False))


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide and full-width characters
    (漢字, かな, 全角) take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _echo_table(headers: list[str], rows: list[list[str]]) -> None:
    """Print rows under a header, each column as wide as its widest cell
    (by terminal width, so Japanese text lines up); the last column is
    left as it is."""
    table = [headers, *rows]
    widths = [max(_width(r[i]) for r in table) for i in range(len(headers) - 1)]
    for row in table:
        cells = [c + " " * (w - _width(c)) for c, w in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]).rstrip())


def _show_warnings(caught: list[warnings.WarningMessage]) -> None:
    for w in caught:
        click.echo(f"harpflow: warning: {_one_line(str(w.message))}", err=True)


def _os_message(exc: OSError) -> str:
    what = exc.strerror or str(exc)
    return f"{exc.filename}: {what}" if exc.filename else what


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Report a file or folder that cannot be written by its own name (not by
    the temporary file beside it)."""
    try:
        yield
    except OSError as exc:
        if exc.errno == errno.EPIPE:
            raise
        _fail(f"{path}: cannot write: {exc.strerror or exc}")


class _BadInput(click.UsageError):
    """A usage error that is already one line naming the file."""

    def format_message(self) -> str:
        return self.message


class _InputPath(click.Path):
    """An existing input path, reported as ``<path>: <what>``."""

    def __init__(self, *, file_okay: bool = True, dir_okay: bool = True) -> None:
        super().__init__(
            exists=True, file_okay=file_okay, dir_okay=dir_okay, path_type=Path
        )

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        path = Path(os.fsdecode(value))
        if not path.exists():
            raise _BadInput(f"{path}: no such file or folder", ctx)
        if not self.dir_okay and path.is_dir():
            raise _BadInput(f"{path}: is a folder, not a file", ctx)
        if not self.file_okay and not path.is_dir():
            raise _BadInput(f"{path}: is not a folder", ctx)
        return super().convert(value, param, ctx)


def _suffix_check(path: Path, suffixes: tuple[str, ...], what: str) -> None:
    name = path.name.lower()
    if not any(name.endswith(s) for s in suffixes):
        _fail(f"{path}: {what} must end in {' or '.join(suffixes)}")


class _Group(click.Group):
    """Turns every HarpflowError, unreadable or unwritable file and usage
    error into exit 2 and one line on stderr."""

    def main(
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            message = exc.format_message()
            if not isinstance(exc, _BadInput) and exc.ctx is not None:
                message += f" (see '{exc.ctx.command_path} --help')"
            _fail(message)
        except click.ClickException as exc:
            click.echo(f"harpflow: error: {_one_line(exc.format_message())}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("harpflow: error: interrupted", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", HarpflowWarning)
                result = super().invoke(ctx)
            _show_warnings(caught)
            return result
        except HarpflowError as exc:
            _fail(str(exc))
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise
            _fail(_os_message(exc))


@click.group(
    "harpflow", cls=_Group, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(package_name="harpflow")
def main() -> None:
    """Business-process gap analysis for local government (業務フロー)."""


def _flow_files(path: Path) -> Iterator[Path]:
    from harpflow.io import format_for

    if path.is_dir():
        for p in sorted(path.rglob("*")):
            # A survey tree also holds tables that are not flows: the towns
            # list and the gold correspondences.
            if p.name == "towns.csv" or "gold" in p.relative_to(path).parts[:-1]:
                continue
            if p.is_file() and format_for(p) is not None and p.suffix != ".md":
                yield p
    else:
        yield path


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def areas(as_json: bool) -> None:
    """List the 27 business areas and their status today."""
    from harpflow import areas as areas_mod

    rows = [a.to_dict() for a in areas_mod.AREAS]
    if as_json:
        _emit_json(rows)
        return
    _echo_table(
        ["code", "slug", "status", "name", "English name"],
        [[a.code, a.slug, a.status, a.name_ja, a.name_en] for a in areas_mod.AREAS],
    )


@main.command()
@click.argument("file", type=_InputPath())
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--format", "fmt", default=None, help="Input format (default: by suffix)."
)
def stats(file: Path, as_json: bool, fmt: str | None) -> None:
    """Count the elements of a flow file (or of every flow in a folder)."""
    from harpflow.io import format_for, read, sniff

    results = []
    for path in _flow_files(file):
        flow = read(path, format=fmt)
        name = fmt or format_for(path) or sniff(path.read_bytes()[:65536]) or "?"
        results.append({"file": str(path), "format": name, **flow.stats()})
    if as_json:
        if file.is_dir():
            _emit_json(results)
        else:
            _emit_json({k: v for k, v in results[0].items() if k != "file"})
        return
    for r in results:
        kinds = ", ".join(f"{k} {v}" for k, v in r["by_type"].items())
        click.echo(
            f"{r['file']}: {r['format']}, {r['nodes']} nodes ({kinds}), "
            f"{r['sequence_flows']} sequence flows, {r['message_flows']} message "
            f"flows, {r['lanes']} lanes, {r['pools']} pools, "
            f"{r['data_objects']} data objects"
        )


@main.command()
@click.argument("src", type=_InputPath())
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--to", "to_fmt", default=None, help="Output format for a folder.")
@click.option("--from", "from_fmt", default=None, help="Input format.")
def convert(src: Path, dest: Path, to_fmt: str | None, from_fmt: str | None) -> None:
    """Convert SRC to DEST, formats by suffix.

    With a folder as SRC, every flow in it is written under the folder DEST
    in the format given by --to, keeping relative paths.
    """
    from harpflow.io import format_for, formats, read, write

    if src.is_dir():
        writable = {f.name: f.suffixes[0] for f in formats() if f.writer}
        if to_fmt is None:
            _fail("converting a folder needs --to FORMAT")
        if to_fmt not in writable:
            _fail(
                f"--to {to_fmt}: not a format harpflow writes "
                f"(one of {', '.join(writable)})"
            )
        if dest.exists() and not dest.is_dir():
            _fail(f"{dest}: is a file; a folder is converted into a folder")
        for path in _flow_files(src):
            rel = path.relative_to(src)
            out = dest / rel.with_name(_flow_stem(rel.name) + writable[to_fmt])
            flow = read(path, format=from_fmt)
            with _writing(out):
                write(flow, out, format=to_fmt)
            click.echo(f"{path} -> {out}")
        return
    if dest.is_dir():
        _fail(f"{dest}: is a folder; name the output file")
    if to_fmt is None and format_for(dest) is None:
        _fail(f"{dest}: cannot tell the output format by the suffix (give --to FORMAT)")
    flow = read(src, format=from_fmt)
    with _writing(dest):
        write(flow, dest, format=to_fmt)


def _flow_stem(name: str) -> str:
    """A flow file's name without its format suffix, a double one
    (``.drawio.xml``, ``.bpmn20.xml``) included."""
    for double in (".drawio.xml", ".bpmn20.xml", ".bpmn.xml"):
        if name.lower().endswith(double):
            return name[: -len(double)]
    return Path(name).stem


_ALIGNMENT_SUFFIXES = {".rdf": "rdf", ".xml": "rdf", ".csv": "csv"}


@main.command("match")
@click.argument("file_a", type=_InputPath())
@click.argument("file_b", type=_InputPath())
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--format",
    "out_fmt",
    type=click.Choice(["rdf", "csv"]),
    default=None,
    help="Write the pairs as Alignment API RDF or correspondence CSV.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Write to this file instead: RDF, CSV or JSON by --format, --json "
    "or the suffix (.rdf/.xml, .csv, .json).",
)
@click.option(
    "--threshold", type=float, default=0.5, show_default=True, help="Smallest score."
)
@click.option(
    "--glossary",
    "glossary_path",
    type=_InputPath(),
    default=None,
    help="A glossary YAML merged into the bundled one.",
)
def match_cmd(
    file_a: Path,
    file_b: Path,
    as_json: bool,
    out_fmt: str | None,
    output: Path | None,
    threshold: float,
    glossary_path: Path | None,
) -> None:
    """Match the steps of flow A with those of flow B."""
    from urllib.parse import quote

    from harpflow.glossary import Glossary, default_glossary
    from harpflow.io import read
    from harpflow.io.alignment import write_alignment, write_correspondences_csv
    from harpflow.io.source import atomic_write
    from harpflow.match import match

    if as_json and out_fmt is not None:
        _fail("--json and --format are two different outputs; give one of them")
    glossary = default_glossary()
    if glossary_path is not None:
        glossary = glossary.merge(Glossary.load(glossary_path))
    a, b = read(file_a), read(file_b)
    result = match(a, b, threshold=threshold, glossary=glossary)
    if output is not None:
        if as_json or (out_fmt is None and output.suffix.lower() == ".json"):
            text = json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n"
            with _writing(output):
                atomic_write(output, text.encode("utf-8"))
            return
        if out_fmt is None:
            out_fmt = _ALIGNMENT_SUFFIXES.get(output.suffix.lower())
        if out_fmt is None:
            _fail(
                f"{output}: cannot tell the output format by the suffix "
                "(.rdf, .xml, .csv or .json; or give --format rdf|csv)"
            )
    if out_fmt is not None:
        with _writing(output or Path("-")):
            if out_fmt == "rdf":
                data = write_alignment(
                    result,
                    output,
                    onto1=quote(file_a.as_posix()),
                    onto2=quote(file_b.as_posix()),
                )
            else:
                data = write_correspondences_csv(
                    result, output, meta={"a": str(file_a), "b": str(file_b)}
                )
        if output is None and data is not None:
            click.echo(data.decode("utf-8"), nl=False)
        return
    if as_json:
        _emit_json(result.to_dict())
        return
    _echo_table(
        ["score", "a", "b", "a label = b label"],
        [
            [
                f"{pair['score']:.2f}",
                "+".join(pair["a"]),
                "+".join(pair["b"]),
                " ".join(pair["a_label"].split())
                + "  =  "
                + " ".join(pair["b_label"].split()),
            ]
            for pair in result.to_dict()["pairs"]
        ],
    )


@main.command("diff")
@click.argument("standard", type=_InputPath())
@click.argument("town", type=_InputPath())
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def diff_cmd(standard: Path, town: Path, as_json: bool) -> None:
    """Changes from STANDARD to TOWN, and the divergence with its components."""
    from harpflow.io import read
    from harpflow.score import score

    result = score(read(standard), read(town))
    if as_json:
        _emit_json(result.to_dict())
        return
    parts = ", ".join(f"{k} {v:.3f}" for k, v in result.components.items())
    click.echo(f"divergence {result.total:.3f} ({parts})")
    _echo_table(
        ["kind", "code", "standard", "town", "cost", "note"],
        [
            [
                c.kind,
                c.code or "-",
                ",".join(c.standard) or "-",
                ",".join(c.town) or "-",
                f"{c.cost:.3f}",
                c.note,
            ]
            for c in result.diff
        ],
    )


@main.command()
@click.argument("standard", type=_InputPath())
@click.option("--towns", "count", type=click.IntRange(1), default=10, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--operators",
    default=None,
    help="Comma-separated deviation codes to draw from (default: all).",
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), required=True, help="Folder."
)
@click.option("--json", "as_json", is_flag=True, help="Print the truth as JSON.")
def synth(
    standard: Path,
    count: int,
    seed: int,
    operators: str | None,
    output: Path,
    as_json: bool,
) -> None:
    """Write N seeded town variants of STANDARD as BPMN, with truth.json."""
    from harpflow.io import read, write
    from harpflow.io.source import atomic_write
    from harpflow.synth import variants

    if output.exists() and not output.is_dir():
        _fail(f"{output}: is a file; the variants go into a folder")
    ops = [o.strip() for o in operators.split(",")] if operators else None
    made = variants(read(standard), count, seed=seed, operators=ops)
    truth = {}
    for v in made:
        name = v.flow.town or "town"
        with _writing(output / f"{name}.bpmn"):
            write(v.flow, output / f"{name}.bpmn")
        truth[name] = v.to_dict()
    text = json.dumps(truth, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    with _writing(output / "truth.json"):
        atomic_write(output / "truth.json", text.encode("utf-8"))
    if as_json:
        _emit_json(truth)
    else:
        click.echo(f"wrote {len(made)} variants and truth.json to {output}")


@main.command()
@click.argument("file", type=_InputPath())
@click.option(
    "--against",
    "standard",
    type=_InputPath(),
    default=None,
    help="Draw FILE as a town flow against this standard flow.",
)
@click.option(
    "--style",
    type=click.Choice(["bpmn", "wfa"]),
    default="bpmn",
    show_default=True,
    help="bpmn: lanes as rows; wfa: 業務流れ図, lanes as columns.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="OUT.svg or OUT.png.",
)
def render(file: Path, standard: Path | None, style: str, output: Path) -> None:
    """Draw FILE with its lanes as swimlanes (SVG or PNG by the suffix)."""
    from harpflow.io import read
    from harpflow.io.source import emit
    from harpflow.render import draw, draw_diff

    fmt = output.suffix.lower().lstrip(".")
    if fmt not in ("svg", "png"):
        _fail(f"{output}: the picture's name must end in .svg or .png")
    flow = read(file)
    if standard is None:
        data = draw(flow, style=style, format=fmt)
    else:
        from harpflow.diff import diff

        data = draw_diff(diff(read(standard), flow), style=style, format=fmt)
    with _writing(output):
        emit(data, output)


def _town_names(paths: tuple[Path, ...]) -> list[str]:
    """File stems, or the first folder that tells the files apart when the
    stems repeat (``towns/B/01-jumin/tennyu.drawio`` -> ``B``)."""
    stems = [p.stem for p in paths]
    if len(set(stems)) == len(stems):
        return stems
    parts = [p.resolve().parts for p in paths]
    for i in range(min(len(x) for x in parts)):
        column = [x[i] for x in parts]
        if len(set(column)) == len(column):
            return column
    return [str(p) for p in paths]


@main.command("unify")
@click.argument("towns", nargs=-1, required=True, type=_InputPath())
@click.option("--standard", type=_InputPath(), default=None,
              help="Standard flow to align to (default: the medoid town).")  # fmt: skip
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Recommended flow as BPMN, coloured by support.")  # fmt: skip
@click.option("--requirements", type=click.Path(path_type=Path), default=None,
              help="Requirements table (機能要件定義表) as XLSX.")  # fmt: skip
@click.option("--min-support", default=0.5, show_default=True,
              type=click.FloatRange(0, 1, min_open=True),
              help="Share of towns an element needs.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def unify_cmd(
    towns: tuple[Path, ...],
    standard: Path | None,
    output: Path,
    requirements: Path | None,
    min_support: float,
    as_json: bool,
) -> None:
    """Recommended flow (推奨フロー) of the TOWN flows, with support and fit-gap."""
    from harpflow.io import read
    from harpflow.unify import unify

    _suffix_check(output, (".bpmn", ".bpmn2", ".bpmn20.xml"), "the recommended flow")
    if requirements is not None:
        _suffix_check(requirements, (".xlsx",), "the requirements table")
    flows = [read(path) for path in towns]
    for flow, name in zip(flows, _town_names(towns), strict=True):
        flow.town = flow.town or name
    std = read(standard) if standard else None
    rec = unify(flows, standard=std, min_support=min_support)
    with _writing(output):
        rec.to_bpmn(output)
    if requirements:
        with _writing(requirements):
            rec.to_xlsx(requirements)
    fit = rec.fit_gap_frame()
    if as_json:
        data = rec.to_dict()
        data["fit_gap"] = [
            {k: (round(v, 6) if isinstance(v, float) else v) for k, v in row.items()}
            for row in fit.to_dict("records")
        ]
        _emit_json(data)
        return
    click.echo(
        f"recommended flow: {len(rec.flow.steps())} steps from {len(rec.towns)} towns "
        f"({rec.base_kind}{': ' + str(rec.base.town) if rec.base.town else ''}), "
        f"{len(rec.options)} options, sound: {rec.sound}"
    )
    _echo_table(
        ["step", "class", "support", "label"],
        [
            [str(row["step"]), str(row["class"]), f"{row['support']:.0%}", row["label"]]
            for row in rec.requirements().to_dict("records")
        ],
    )
    click.echo("fit-gap (divergence before -> after):")
    for rec_row in fit.to_dict("records"):
        click.echo(
            f"  {rec_row['town']:<12} {rec_row['before']:.3f} -> {rec_row['after']:.3f}"
        )


@main.command("survey")
@click.argument("tree", type=_InputPath(file_okay=False))
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), required=True, help="Folder."
)
@click.option(
    "--jobs",
    type=click.IntRange(1),
    default=None,
    help="Local worker processes [default: the CPU count].",
)
@click.option(
    "--scheduler", default=None, help="Address of a Dask scheduler to run on."
)
@click.option(
    "--min-support",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=0.5,
    show_default=True,
    help="Share of towns a step needs to enter a recommended flow.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar [default: on a terminal].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def survey_cmd(
    tree: Path,
    output: Path,
    jobs: int | None,
    scheduler: str | None,
    min_support: float,
    progress: bool | None,
    as_json: bool,
) -> None:
    """Survey a processes TREE and write the report to OUTPUT.

    Inputs that cannot be read are listed in the report; they do not stop
    the survey.
    """
    from harpflow.survey import Survey

    if output.exists() and not output.is_dir():
        _fail(f"{output}: is a file; the report goes into a folder")
    survey = Survey.load(tree)
    if scheduler is not None:
        try:
            from distributed import Client
        except ImportError:
            _fail("--scheduler needs Dask: pip install 'harpflow[dask]'")
        try:
            client = Client(scheduler, timeout=30)
        except OSError as exc:
            _fail(f"cannot reach the Dask scheduler at {scheduler}: {exc}")
        with client:
            result = survey.run(
                client=client, min_support=min_support, progress=progress
            )
    else:
        result = survey.run(jobs=jobs, min_support=min_support, progress=progress)
    with _writing(output):
        result.report(output)
    if as_json:
        _emit_json(result.to_dict())
        return
    s = result.summary()
    click.echo(
        f"{s['towns']} towns, {s['procedures']} procedures, {s['flows']} flows, "
        f"{s['changes']} changes, {s['errors']} inputs not read; "
        f"report in {output}"
    )
    for row in result.errors.itertuples(index=False):
        click.echo(f"not read: {row.file}: {row.message}")


if __name__ == "__main__":  # pragma: no cover
    main()
