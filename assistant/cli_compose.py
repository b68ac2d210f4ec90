"""`inspired ask | brief | points | tools | notes …`: the composer from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.markdown import Markdown
from rich.markup import escape

from .compose import AUDIENCES, ComposeError, Composer, LLMConfigError, find_audience
from .handlers import read_as_note
from .models import Citation
from .settings import Settings

DRAFT_SUFFIXES = (".docx", ".md")
CLI_OWNER = "cli"


def make_composer(settings: Settings) -> Composer:
    from .cli import open_retriever

    return Composer(settings, open_retriever(settings))


def make_note_store(settings: Settings):
    from .index import GuideIndex
    from .notes import NoteStore

    return NoteStore(settings, GuideIndex(settings))


def _sources_text(citations: list[Citation]) -> str:
    lines = []
    for c in citations:
        where = " › ".join([c.title, *c.heading_path])
        lines.append(f"[{c.n}] {where} ({c.label}) — {c.url}")
    return "\n".join(lines)


def _checked_out(path: Path | None, fail) -> None:
    if path is not None and path.suffix.lower() not in DRAFT_SUFFIXES:
        fail(f"--out must end in .docx or .md, not {path.name!r}.")


def _save_draft(draft, out: Path, to_docx, to_markdown, fail) -> None:
    """Write the draft; when the file cannot be written, print it instead and say why: nothing is lost."""
    from .cli import console

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() == ".docx":
            to_docx(draft, out)
        else:
            out.write_text(to_markdown(draft), encoding="utf-8")
    except OSError as exc:
        console.print(Markdown(to_markdown(draft)))
        fail(f"could not write {out} ({exc.strerror or exc}): the draft is printed above instead.")


def _checked_files(paths: list[Path], fail) -> None:
    for path in paths:
        if not path.is_file():
            fail(f"notes file not found: {path}")


def register(app: typer.Typer) -> None:
    from .cli import console, fail, load_settings, user_errors

    notes_app = typer.Typer(help="Your country notes: documents the assistant searches for you alone.", no_args_is_help=True)
    app.add_typer(notes_app, name="notes")

    def composer_or_fail(settings: Settings) -> Composer:
        try:
            return make_composer(settings)
        except LLMConfigError as exc:
            fail(str(exc))

    @app.command()
    def ask(
        question: str = typer.Argument(..., help="Your question about the guide."),
        as_json: bool = typer.Option(False, "--json", help="Print the answer and its citations as JSON."),
        length: str = typer.Option("normal", "--length", help="short, normal or long."),
        language: Optional[str] = typer.Option(None, "--language", help="Answer language (en, pt, es); default: the question's."),
        no_llm: bool = typer.Option(False, "--no-llm", help="Quote the guide even if a language model is configured."),
        owner: Optional[str] = typer.Option(None, "--owner", help="Also search this user's notes."),
    ) -> None:
        """Answer a question from the guide, with numbered citations."""
        settings = load_settings()
        composer = composer_or_fail(settings)
        with user_errors():
            try:
                answer = composer.ask(question, owner=owner, length=length, language=language, use_llm=not no_llm)
            except ComposeError as exc:
                fail(str(exc))
        if as_json:
            payload = {
                "answer": answer.markdown,
                "citations": [{"n": c.n, "url": c.url, "title": c.title} for c in answer.citations],
                "abstained": answer.abstained,
                "mode": answer.mode,
                "notice": answer.notice,
            }
            typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
            return
        if read_as := read_as_note(question, answer.question):
            console.print(f"[dim]{escape(read_as)}[/]")
        console.print(Markdown(answer.markdown))
        if answer.citations:
            console.print("\n[bold]Sources[/]")
            console.print(escape(_sources_text(answer.citations)), highlight=False)

    @app.command()
    def brief(
        request: str = typer.Option(..., "--request", "-r", help="The mission in your words: who travels, where, to meet whom, why."),
        out: Path = typer.Option(..., "--out", "-o", help="Where to write the briefing: a .docx or .md file."),
        country: Optional[str] = typer.Option(None, "--country"),
        purpose: Optional[str] = typer.Option(None, "--purpose"),
        travellers: Optional[str] = typer.Option(None, "--travellers"),
        meeting: Optional[list[str]] = typer.Option(None, "--meeting", help="A planned meeting (repeat the option for several)."),
        notes: Optional[list[Path]] = typer.Option(None, "--notes", help="Country notes to add first (.md, .txt, .pdf, .docx); repeatable."),
        owner: str = typer.Option(CLI_OWNER, "--owner", help="Whose notes to use."),
    ) -> None:
        """Write a mission briefing (Word or Markdown) with cited sections and a list of gaps to fill."""
        from .export import briefing_to_docx, briefing_to_markdown
        from .models import BriefingRequest

        _checked_out(out, fail)
        _checked_files(notes or [], fail)
        settings = load_settings()
        composer = composer_or_fail(settings)
        with user_errors():
            if notes:
                store = make_note_store(settings)
                for path in notes:
                    store.add(owner, path, country=country)
            briefing = composer.brief(
                BriefingRequest(request=request, country=country, purpose=purpose, travellers=travellers, meetings=meeting or []),
                owner=owner,
            )
        _save_draft(briefing, out, briefing_to_docx, briefing_to_markdown, fail)
        console.print(f"Briefing written to [bold]{escape(str(out))}[/] ({briefing.mode} mode).")
        if briefing.notice:
            console.print(f"[yellow]{escape(briefing.notice)}[/]")
        if briefing.gaps:
            console.print("[bold]Still to be supplied:[/]\n" + "\n".join(f"- {escape(gap)}" for gap in briefing.gaps), highlight=False)

    @app.command()
    def points(
        audience: str = typer.Option(..., "--audience", "-a", help=f"One of: {', '.join(AUDIENCES)}."),
        topic: Optional[str] = typer.Option(None, "--topic", "-t"),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write to a .docx or .md file instead of the screen."),
        owner: Optional[str] = typer.Option(None, "--owner", help="Also use this user's notes."),
    ) -> None:
        """Talking points for one audience, each with a rationale and a citation."""
        from .export import points_to_docx, points_to_markdown

        _checked_out(out, fail)
        settings = load_settings()
        composer = composer_or_fail(settings)
        try:
            key = find_audience(audience)
        except ComposeError as exc:
            try:  # "jornalists": as typed, then with its typos put right
                key = find_audience(composer.retriever.corrected_query(audience))
            except ComposeError:
                fail(str(exc))
        with user_errors():
            talking_points = composer.points(key, topic, owner=owner)
        if out is None:
            console.print(Markdown(points_to_markdown(talking_points)))
        else:
            _save_draft(talking_points, out, points_to_docx, points_to_markdown, fail)
            console.print(f"Talking points written to [bold]{escape(str(out))}[/].")

    @app.command()
    def tools(situation: str = typer.Argument(..., help="The situation you face, in a sentence or two.")) -> None:
        """Which of the toolkit's 19 tools fit a situation, and why."""
        settings = load_settings()
        composer = composer_or_fail(settings)
        with user_errors():
            try:
                advice = composer.tools(situation)
            except ComposeError as exc:
                fail(str(exc))
        if advice.notice:
            console.print(f"[yellow]{escape(advice.notice)}[/]")
        for tool in advice.tools:
            console.print(f"[bold]Tool {tool.number}. {escape(tool.name)}[/] — {escape(tool.tool_type)}", highlight=False)
            console.print(f"  {escape(tool.why)}", highlight=False)
        citations = {c.n: c for tool in advice.tools for c in tool.citations}
        if citations:
            console.print("\n[bold]Sources[/]")
            console.print(escape(_sources_text([citations[n] for n in sorted(citations)])), highlight=False)

    @notes_app.command("add")
    def notes_add(
        file: Path = typer.Argument(..., help="A .md, .txt, .pdf or .docx file."),
        owner: str = typer.Option(CLI_OWNER, "--owner", help="Whose notes these are."),
        country: Optional[str] = typer.Option(None, "--country", help="The country the notes are about."),
    ) -> None:
        """Add a document to a user's country notes."""
        _checked_files([file], fail)
        with user_errors():
            record = make_note_store(load_settings()).add(owner, file, country=country)
        console.print(f"Added [bold]{escape(record.original_name)}[/] as note {record.id} ({record.chunks} passages).")

    @notes_app.command("list")
    def notes_list(owner: str = typer.Option(CLI_OWNER, "--owner")) -> None:
        """List a user's notes."""
        with user_errors():
            records = make_note_store(load_settings()).list(owner)
        if not records:
            console.print(f"No notes for {escape(owner)}.")
        for r in records:
            console.print(escape(f"{r.id}  {r.original_name}  {r.country or '—'}  {r.added_at:%Y-%m-%d}"), highlight=False)

    @notes_app.command("delete")
    def notes_delete(note_id: str = typer.Argument(...), owner: str = typer.Option(CLI_OWNER, "--owner")) -> None:
        """Remove one note (its file and its passages)."""
        with user_errors():
            make_note_store(load_settings()).delete(owner, note_id)
        console.print(f"Deleted note {escape(note_id)}.")
