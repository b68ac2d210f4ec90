"""`inspired ingest` and `inspired search` as a user runs them (real model, fixture guide)."""

import json
import shutil

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from conftest import GUIDE_FIXTURE


@pytest.fixture
def run(settings, monkeypatch, embeddings):
    monkeypatch.setenv("INSPIRED_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("INSPIRED_SOURCE", str(GUIDE_FIXTURE))
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_ingest_reports_every_page_then_nothing_changed(run):
    first = run("ingest")
    assert first.exit_code == 0, first.output
    assert "added" in first.output and "│ 6 " in first.output
    second = run("ingest")
    assert second.exit_code == 0
    assert "unchanged │ 6" in second.output.replace("  ", " ").replace("  ", " ")


def test_search_json_lists_best_first_with_the_promised_fields(run):
    run("ingest")
    result = run("search", "can a retired prime minister unblock stuck talks", "--k", "3", "--json")
    rows = json.loads(result.output)
    assert [set(row) for row in rows] == [{"url", "title", "heading", "score", "text"}] * 3
    assert rows[0]["url"].endswith("/11-high-level-missions")
    assert rows[0]["score"] >= rows[1]["score"] >= rows[2]["score"]


def test_search_says_what_it_searched_for_when_it_put_typos_right(run):
    run("ingest")
    typed = run("search", "high-level misions", "--k", "1")
    assert "Searched for: high-level missions" in typed.output and "11-high-level-missions" in typed.output
    assert "Searched for" not in run("search", "high-level missions", "--k", "1").output


def test_unreachable_site_is_one_message_and_the_index_stays(run, settings):
    run("ingest")
    before = run("search", "stakeholder mapping", "--json").output
    result = run("ingest", "--source", "http://127.0.0.1:9")
    assert result.exit_code == 2
    assert "could not be reached" in result.output and "INSPIRED_SOURCE" in result.output
    assert "Traceback" not in result.output
    assert run("search", "stakeholder mapping", "--json").output == before


def test_page_removed_from_the_source_is_removed_from_the_index(run, tmp_path):
    copy = tmp_path / "guide"
    shutil.copytree(GUIDE_FIXTURE, copy)
    run("ingest", "--source", str(copy))
    (copy / "toolkit/the-tools/3-stakeholder-mapping.md").unlink()
    result = run("ingest", "--source", str(copy))
    assert "removed   │ 1" in result.output
    urls = [row["url"] for row in json.loads(run("search", "stakeholder mapping", "--k", "10", "--json").output)]
    assert not any(url.endswith("3-stakeholder-mapping") for url in urls)


def test_search_before_any_ingest_says_what_to_do(run):
    result = run("search", "anything")
    assert result.exit_code == 2 and "inspired ingest" in result.output


def test_invalid_setting_stops_with_one_line(run, monkeypatch):
    monkeypatch.setenv("INSPIRED_CHUNK_SIZE", "lots")
    result = run("search", "x")
    assert result.exit_code == 2
    assert "INSPIRED_CHUNK_SIZE" in result.output and "Traceback" not in result.output


def test_ingest_if_empty_skips_an_existing_index(run):
    run("ingest")
    result = run("ingest", "--if-empty")
    assert result.exit_code == 0 and "skipping ingest" in result.output


def test_ingest_if_empty_rebuilds_an_index_cut_by_an_earlier_version(run, monkeypatch):
    from assistant import index

    run("ingest")
    monkeypatch.setattr(index, "TEXT_VERSION", index.TEXT_VERSION + 1)  # as after an upgrade
    result = run("ingest", "--if-empty")
    said = " ".join(result.output.split())
    assert result.exit_code == 0 and "earlier version: rebuilding it." in said
    assert "skipping" not in said and "added │ 6" in said
    assert "skipping ingest" in run("ingest", "--if-empty").output


def test_eval_retrieval_can_measure_robustness_to_typos(run, tmp_path):
    run("ingest")
    dataset = tmp_path / "set.jsonl"
    dataset.write_text(json.dumps({"id": "q1", "question": "Can a retired prime minister help unblock stuck negotiations?",
                                   "expected_urls": ["https://guide.test/toolkit/the-tools/11-high-level-missions"]}) + "\n")
    out = tmp_path / "typos.json"
    result = run("eval", "retrieval", "--dataset", str(dataset), "--typos", "2", "--json", str(out))
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["hit_at_5"] == 1.0
