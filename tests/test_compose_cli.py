"""`inspired ask | brief | points | tools | notes` with the composer over the fake retriever."""

from __future__ import annotations

import json

import pytest
from docx import Document
from fakes import FAKE_ABSTAIN_THRESHOLD, FakeRetriever
from typer.testing import CliRunner

from assistant import cli_compose
from assistant.cli import app
from assistant.compose import Composer
from assistant.notes import NoteStore


class RetrieverNoteIndex:
    """The note API of the index, feeding the fake retriever so added notes are searchable."""

    def __init__(self, retriever: FakeRetriever):
        self.retriever = retriever

    def add_note_chunks(self, owner, note_id, chunks):
        for chunk in chunks:
            self.retriever.add_note(chunk.model_copy(update={"id": f"{note_id}:{chunk.id}"}))
        return len(chunks)

    def delete_note(self, owner, note_id):
        self.retriever.notes = [n for n in self.retriever.notes if not n.id.startswith(f"{note_id}:")]


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setenv("INSPIRED_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("INSPIRED_LLM", "")
    monkeypatch.chdir(tmp_path)  # no stray .env
    retriever = FakeRetriever()

    def make_composer(settings):
        composer = Composer(settings, retriever)
        composer.abstain_threshold = FAKE_ABSTAIN_THRESHOLD
        return composer

    monkeypatch.setattr(cli_compose, "make_composer", make_composer)
    monkeypatch.setattr(cli_compose, "make_note_store", lambda settings: NoteStore(settings, RetrieverNoteIndex(retriever)))
    return CliRunner()


def test_ask_json(runner):
    result = runner.invoke(app, ["ask", "What are the risks of a high-level mission?", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert set(payload) >= {"answer", "citations", "abstained", "mode"}
    assert payload["mode"] == "extractive" and not payload["abstained"]
    assert [c["n"] for c in payload["citations"]] == list(range(1, len(payload["citations"]) + 1))
    assert all(f"[{c['n']}]" in payload["answer"] for c in payload["citations"])
    assert payload["citations"][0]["title"] == "11. High-level missions"


def test_ask_plain_prints_answer_and_sources(runner):
    result = runner.invoke(app, ["ask", "What are the risks of a high-level mission?"])
    assert result.exit_code == 0
    assert "Sources" in result.output and "https://inspired.epd.eu/toolkit/the-tools/11-high-level-missions" in result.output


def test_ask_says_how_it_read_a_misspelt_question(runner):
    typed = runner.invoke(app, ["ask", "What are the riskss of a high-level mision?"])
    assert typed.exit_code == 0, typed.output
    assert "Read as: “What are the risks of a high-level mission?”" in typed.output
    assert "11-high-level-missions" in typed.output
    assert "Read as" not in runner.invoke(app, ["ask", "What are the risks of a high-level mission?"]).output


def test_brief_with_notes_to_docx(runner, tmp_path):
    notes = tmp_path / "moldova.md"
    notes.write_text("# Moldova\n\nThe energy reform talks in Moldova paused after the budget vote in parliament last spring.\n")
    out = tmp_path / "brief.docx"
    result = runner.invoke(app, ["brief", "--request", "Brief a former head of state visiting Moldova to meet the minister",
                                 "--notes", str(notes), "--out", str(out)])
    assert result.exit_code == 0, result.output
    document = Document(str(out))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "From your notes:" in text and "paused after the budget vote" in text
    assert sum(p.style.name.startswith("Heading") for p in document.paragraphs) >= 4
    assert "Still to be supplied" in result.output


def test_points_for_an_audience_named_in_the_users_words(runner, tmp_path):
    out = tmp_path / "points.md"
    result = runner.invoke(app, ["points", "--audience", "university researchers", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("# Talking points for academia")


def test_points_to_markdown_file(runner, tmp_path):
    out = tmp_path / "points.md"
    result = runner.invoke(app, ["points", "--audience", "parliaments", "--topic", "budget", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("# Talking points for parliaments: budget")


@pytest.mark.parametrize("name", ["brief.md", "brief.docx"])
def test_a_draft_that_cannot_be_written_is_printed_instead(runner, tmp_path, name):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder was expected")
    result = runner.invoke(app, ["brief", "--request", "Brief a former head of state visiting Moldova", "--out", str(blocker / name)])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "could not write" in result.output and "printed above instead" in result.output
    assert "Mission briefing" in result.output  # the draft itself, not lost


def test_tools(runner):
    result = runner.invoke(app, ["tools", "A stakeholder refuses to share a table with its rivals"])
    assert result.exit_code == 0
    assert "Tool 9. Bilateral meetings" in result.output


def test_notes_add_and_list(runner, tmp_path):
    notes = tmp_path / "kenya.txt"
    notes.write_text("Kenya's county governments are preparing a new health financing law this year.")
    added = runner.invoke(app, ["notes", "add", str(notes), "--owner", "ana", "--country", "Kenya"])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["notes", "list", "--owner", "ana"])
    assert "kenya.txt" in listed.output and "Kenya" in listed.output


@pytest.mark.parametrize("args, words", [
    (["points", "--audience", "astronauts"], "Unknown audience"),
    (["brief", "--request", "x", "--out", "brief.pdf"], ".docx or .md"),
    (["brief", "--request", "x", "--out", "b.md", "--notes", "missing.md"], "not found"),
    (["notes", "add", "missing.md"], "not found"),
    (["ask", "   "], "empty"),
    (["ask", "What is it?", "--length", "epic"], "length"),
])
def test_bad_input_is_one_red_line_and_exit_2(runner, args, words):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert words in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not an uncaught error
