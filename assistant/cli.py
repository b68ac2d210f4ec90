"""The `inspired` command: ingest the guide, search it, evaluate, and (via plug-in modules) ask, brief and serve."""

from __future__ import annotations

import json
import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import click
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer.core import TyperGroup

from .safety import valid_unicode
from .settings import Settings


class RepairedArguments(TyperGroup):
    """Python hands undecodable argv bytes over as lone surrogates; every command gets them repaired.

    An argument naming an existing file is left as it is: those bytes are how its name is spelled.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, [arg if os.path.lexists(arg) else valid_unicode(arg) for arg in args])


app = typer.Typer(
    cls=RepairedArguments,
    help="INSPIRED Assistant: cited answers from the INSPIRED guide on inclusive policy dialogue.",
    no_args_is_help=True,
)
eval_app = typer.Typer(help="Evaluate retrieval, answers and drafts on a dataset.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
console = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]Error:[/] {escape(message)}")
    raise typer.Exit(code)


def warn(message: str) -> None:
    err.print(f"[yellow]Warning:[/] {escape(message)}")


def write_json(path: Path, payload: dict) -> None:
    """The --json file of an eval; one clear line when it cannot be written (the figures are in the table above)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    except OSError as exc:
        fail(f"could not write {path} ({exc.strerror or exc}); the figures are in the table above.")


def load_settings(**overrides) -> Settings:
    """Settings from env/.env; an invalid value stops here with one clear line."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "settings"
        fail(f"invalid setting INSPIRED_{field.upper()}: {first['msg']}")


@contextmanager
def user_errors():
    """Problems the user can fix become one red line and exit code 2, never a traceback."""
    from .index import IndexUnavailable
    from .sources import SourceError

    try:
        yield
    except (SourceError, IndexUnavailable) as exc:
        fail(str(exc))


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what happens.")) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


@app.command()
def ingest(
    source: Optional[str] = typer.Option(None, "--source", "-s", help="URL of the guide or a local folder (default: INSPIRED_SOURCE)."),
    rebuild: bool = typer.Option(False, "--rebuild", help="Re-embed every page even if unchanged."),
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing when an index already exists."),
) -> None:
    """Fetch the guide, chunk it and bring the index up to date (unchanged pages are skipped)."""
    from .index import GuideIndex
    from .sources import load_pages_with_report

    settings = load_settings(source=source)
    if if_empty:
        with user_errors():
            index = GuideIndex(settings)
            if index.count() and not (outdated := index.outdated()):
                console.print("The index is ready; skipping ingest (run `inspired ingest` to refresh it).")
                return
            if index.count():
                console.print(f"{outdated[0].upper()}{outdated[1:]}: rebuilding it.")
    with user_errors(), Progress(
        TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(), console=err, transient=True
    ) as progress:
        loading = progress.add_task(f"Reading {settings.source}", total=None)
        pages, warnings = load_pages_with_report(
            settings, progress=lambda done, total: progress.update(loading, completed=done, total=total)
        )
        if not pages:
            fail(f"No pages found at {settings.source}.")
        index = GuideIndex(settings, bulk=True)
        embedding = progress.add_task("Embedding changed pages", total=None)
        report = index.ingest(
            pages, rebuild=rebuild, progress=lambda done, total: progress.update(embedding, completed=done, total=total)
        )
    for warning in [*warnings, *report.warnings]:
        err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    table = Table(title="Ingest", show_header=False)
    for name in ("fetched", "added", "updated", "removed", "unchanged", "chunks"):
        table.add_row(name, str(getattr(report, name)))
    table.add_row("seconds", f"{report.seconds:.1f}")
    console.print(table)


@app.command()
def search(
    query: str = typer.Argument(..., help="What to look for."),
    k: int = typer.Option(5, "--k", min=1, max=50),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list, best first."),
    section: Optional[str] = typer.Option(None, help="guide, toolkit, …"),
    lang: Optional[str] = typer.Option(None, help="en, pt, es"),
    tool_type: Optional[str] = typer.Option(None, "--tool-type"),
) -> None:
    """Search the indexed guide (hybrid dense + BM25)."""
    from .retrieval import SearchFilters

    if not query.strip():
        fail("the query is empty.")
    retriever = open_retriever(load_settings())
    hits = retriever.search(query, k, filters=SearchFilters(section=section, lang=lang, tool_type=tool_type))
    rows = [
        {"url": h.chunk.url, "title": h.chunk.title, "heading": h.chunk.heading, "score": round(h.score, 5), "text": h.chunk.text}
        for h in hits
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if (searched := retriever.corrected_query(query.strip())) != query.strip():
        console.print(f"[dim]Searched for: {escape(searched)}[/]")
    for n, (hit, row) in enumerate(zip(hits, rows), 1):
        where = f" — {escape(row['heading'])}" if hit.chunk.heading_path else ""
        url = escape(row["url"])
        console.print(f"[bold]{n}. {escape(row['title'])}[/]{where}  [dim]{row['score']}[/]\n   [link={url}]{url}[/link]")


def open_retriever(settings: Settings):
    from .index import GuideIndex
    from .retrieval import HybridRetriever

    with user_errors():
        index = GuideIndex(settings)
        if index.count() == 0:
            fail("the index is empty: run `inspired ingest` first (INSPIRED_SOURCE points at the guide).")
        return HybridRetriever(settings, index)


@eval_app.command("retrieval")
def eval_retrieval(
    dataset: Path = typer.Option(Path("evals/public.jsonl"), "--dataset", "-d", help="JSONL in the shared eval format."),
    k: int = typer.Option(10, "--k", min=1, max=50),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the metrics here."),
    compare: bool = typer.Option(False, "--compare", help="Also run the baselines and write a report under evals/reports/."),
    typos: int = typer.Option(0, "--typos", min=0, max=5, help="Misspell this many words of each question (seeded), to measure robustness to typos."),
) -> None:
    """Hit@k, MRR, recall@5, nDCG@10 and latency for the retrieval pipeline."""
    from .evaluation import DatasetError, load_dataset, with_typos
    from .evaluation.retrieval import compare_retrievers, evaluate_retrieval, print_retrieval

    settings = load_settings()
    try:
        items = with_typos(load_dataset(dataset, warn), typos)
    except DatasetError as exc:
        fail(str(exc))
    retriever = open_retriever(settings)
    if compare:
        results = compare_retrievers(settings, retriever, items, k=k, out_dir=Path("evals/reports"))
        print_retrieval(console, results)
        metrics = results["full"]
    else:
        metrics = evaluate_retrieval(retriever, items, k=k)
        print_retrieval(console, {"full": metrics})
    if json_out:
        write_json(json_out, metrics)


@eval_app.command("answers")
def eval_answers(
    dataset: Path = typer.Option(Path("evals/public.jsonl"), "--dataset", "-d", help="JSONL in the shared eval format."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the metrics here."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first N qa lines (such a run stays out of the history)."),
    calibrate: bool = typer.Option(False, "--calibrate", help="Sweep the abstention threshold instead and print the best one."),
    report_dir: Path = typer.Option(Path("evals/reports"), "--report-dir", help="Where the Markdown/HTML report and charts go."),
    history: Path = typer.Option(Path("evals/history.jsonl"), "--history", help="Run history the trend chart is drawn from."),
    typos: int = typer.Option(0, "--typos", min=0, max=5, help="Misspell this many words of each question (seeded); such a run stays out of the history."),
) -> None:
    """Cited answers on the qa lines: sources, grounding, abstention, injection resistance, latency (+ LLM judge)."""
    from .compose import LLMConfigError
    from .evaluation import DatasetError, load_dataset, with_typos
    from .evaluation.answers import eval_composer, evaluate_answers, print_answers, print_sweep, sweep_abstention
    from .evaluation.judge import SKIPPED, Judge
    from .evaluation.report import write_report

    settings = load_settings()
    try:
        items = with_typos([item for item in load_dataset(dataset, warn) if item.kind == "qa"][:limit], typos)
        if not items:
            fail(f"{dataset} holds no qa lines.")
        composer = eval_composer(settings, open_retriever(settings))
        judge = Judge(composer.chat_model) if composer.chat_model is not None and not calibrate else None
        with user_errors(), Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), console=err, transient=True) as bar:
            task = bar.add_task("Asking", total=len(items))

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done)

            if calibrate:
                sweep = sweep_abstention(composer, items, progress=progress)
            else:
                note = f"{settings.llm} (the composer's own model)" if judge else SKIPPED
                result = evaluate_answers(composer, items, judge=judge, judge_note=note, progress=progress)
    except (DatasetError, LLMConfigError) as exc:
        fail(str(exc))
    if calibrate:
        print_sweep(console, sweep)
        payload = sweep
    else:
        print_answers(console, result)
        written = write_report("answers", result, dataset, report_dir, history=None if limit or typos else history)
        console.print(f"Report: {written[-2]} (and .html); charts in {report_dir}")
        payload = result
    if json_out:
        write_json(json_out, payload)


@eval_app.command("drafts")
def eval_drafts(
    dataset: Path = typer.Option(Path("evals/public.jsonl"), "--dataset", "-d", help="JSONL in the shared eval format."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the metrics here."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first N drafting lines (such a run stays out of the history)."),
    labels: Path = typer.Option(Path("evals/must_cover_labels.jsonl"), "--labels", help="Hand-labelled (phrase, section) pairs."),
    calibrate: bool = typer.Option(False, "--calibrate", help="Find the must-cover threshold that best fits the labels instead."),
    report_dir: Path = typer.Option(Path("evals/reports"), "--report-dir", help="Where the Markdown/HTML report and charts go."),
    history: Path = typer.Option(Path("evals/history.jsonl"), "--history", help="Run history the trend chart is drawn from."),
) -> None:
    """Briefings and talking points: must-cover topics, cited sections, expected pages, unknown facts listed as gaps."""
    from .compose import LLMConfigError
    from .evaluation import DatasetError, load_dataset
    from .evaluation.answers import eval_composer
    from .evaluation.drafts import calibrate_coverage, evaluate_drafts, load_labels, print_drafts
    from .evaluation.report import write_report

    settings = load_settings()
    try:
        tasks = [item for item in load_dataset(dataset, warn) if item.kind in ("briefing", "talking_points")][:limit]
        if not tasks:
            fail(f"{dataset} holds no briefing or talking_points lines.")
        coverage_labels = load_labels(labels) if labels.exists() or calibrate else []
        composer = eval_composer(settings, open_retriever(settings))
        with user_errors(), Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), console=err, transient=True) as bar:
            task = bar.add_task("Drafting", total=len(tasks))

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done)

            if calibrate:
                payload = calibrate_coverage(composer, tasks, coverage_labels, progress=progress)
            else:
                payload = evaluate_drafts(composer, tasks, coverage_labels, progress=progress)
    except (DatasetError, LLMConfigError) as exc:
        fail(str(exc))
    if calibrate:
        console.print(
            f"Best must-cover threshold: {payload['best']} (balanced agreement {payload['agreement']:.3f} with a person's reading "
            f"of {payload['phrases']} phrases); in use: {payload['current']} ({payload['current_agreement']:.3f}; "
            f"{payload['current_pair_accuracy']:.3f} right on {payload['pairs']} labelled pairs)."
        )
    else:
        print_drafts(console, payload)
        written = write_report("drafts", payload, dataset, report_dir, history=None if limit else history)
        console.print(f"Report: {written[-2]} (and .html); charts in {report_dir}")
    if json_out:
        write_json(json_out, payload)


@eval_app.command("tools")
def eval_tools(
    dataset: Path = typer.Option(Path("evals/tools.jsonl"), "--dataset", "-d", help="JSONL lines of kind \"tools\"."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the metrics here."),
) -> None:
    """"Which tool?" advice: a fitting tool among those recommended, a fitting one first, the share of fitting tools named."""
    from .compose import LLMConfigError
    from .evaluation import DatasetError, load_dataset
    from .evaluation.answers import eval_composer
    from .evaluation.tools import evaluate_tools, print_tools

    settings = load_settings()
    try:
        items = [item for item in load_dataset(dataset, warn) if item.kind == "tools"]
        if not items:
            fail(f"{dataset} holds no tools lines.")
        composer = eval_composer(settings, open_retriever(settings))
        with user_errors():
            result = evaluate_tools(composer, items)
    except (DatasetError, LLMConfigError) as exc:
        fail(str(exc))
    print_tools(console, result)
    if json_out:
        write_json(json_out, result)


def register_plugins() -> None:
    """Commands that live beside their stage (compose, chat app) join the same `inspired` app."""
    from . import cli_app, cli_compose

    cli_compose.register(app)
    cli_app.register(app)


register_plugins()
