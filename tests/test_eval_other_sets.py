"""Other teams' eval sets: read as meant when they spell the shared format their own way, a bad line skipped with a
warning instead of costing every other line's figures, and latency reported warm however small the set."""

from __future__ import annotations

import json
import time

import pytest
from fakes import GUIDE_CHUNKS
from typer.testing import CliRunner

from assistant import cli
from assistant.evaluation import DatasetError, EvalItem, load_dataset
from assistant.evaluation.retrieval import evaluate_retrieval
from assistant.models import SearchHit

MISSIONS = GUIDE_CHUNKS[0]


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({"kind": "Talking-points"}, "talking_points"),
        ({"kind": "talking points"}, "talking_points"),
        ({"kind": "QA"}, "qa"),
        ({"kind": "Q&A"}, "qa"),
        ({"kind": "Briefing note"}, "briefing"),
        ({"type": "briefing"}, "briefing"),
        ({"task": "talking_points"}, "talking_points"),
        ({}, "qa"),
    ],
)
def test_a_kind_spelt_another_way_is_the_kind_it_names(fields, kind):
    assert EvalItem.model_validate({"id": "x1", "question": "What do envoys do?", **fields}).kind == kind


def test_a_drafting_task_written_as_a_question_is_drafted_from_it():
    item = EvalItem.model_validate({"id": "x1", "kind": "briefing", "question": "Brief the envoy on the roadmap."})
    assert item.request == "Brief the envoy on the roadmap."
    qa = EvalItem.model_validate({"id": 7, "query": "What is a working group?"})
    assert qa.id == "7" and qa.question == "What is a working group?"


def test_a_page_url_with_http_www_or_as_a_bare_path_names_the_indexed_page():
    item = EvalItem.model_validate({"id": "x1", "question": "?", "expected_url": [
        "http://www.Inspired.EPD.eu/toolkit/the-tools/11-high-level-missions/",
        "/toolkit/the-tools/9-bilateral-meetings",
        "https://guide.test/toolkit#tools",
    ]})
    assert item.expected_urls == [
        "https://inspired.epd.eu/toolkit/the-tools/11-high-level-missions",
        "https://inspired.epd.eu/toolkit/the-tools/9-bilateral-meetings",
        "https://guide.test/toolkit",
    ]


def test_a_bad_line_is_skipped_with_a_warning_naming_it_and_the_others_are_read(tmp_path):
    dataset = tmp_path / "theirs.jsonl"
    dataset.write_text("\n".join([
        json.dumps({"id": "a", "question": "Who hosts the dialogue?"}),
        json.dumps({"id": "b", "kind": "speech", "request": "Write a speech."}),
        "{not json",
        json.dumps({"question": "What is a study visit?"}),
    ]) + "\n")
    warnings: list[str] = []
    items = load_dataset(dataset, warnings.append)
    assert [item.id for item in items] == ["a", "line 4"]
    assert len(warnings) == 2
    assert "theirs.jsonl:2" in warnings[0] and "kind" in warnings[0] and "skipped" in warnings[0]
    assert "theirs.jsonl:3" in warnings[1]


def test_a_set_with_no_readable_line_is_one_clear_error(tmp_path):
    dataset = tmp_path / "theirs.jsonl"
    dataset.write_text("[1, 2]\n{\"id\": \"b\", \"kind\": \"speech\"}\n")
    with pytest.raises(DatasetError, match=r"theirs.jsonl:1: .*\(and 1 more unreadable lines\)"):
        load_dataset(dataset, lambda _: None)


def test_the_eval_command_scores_the_readable_lines_and_warns_of_the_others(tmp_path, monkeypatch, settings, retriever):
    monkeypatch.setenv("INSPIRED_DATA_DIR", str(settings.data_dir))
    monkeypatch.setattr(cli, "open_retriever", lambda _settings: retriever)
    dataset = tmp_path / "theirs.jsonl"
    dataset.write_text("\n".join([
        json.dumps({"id": "q1", "kind": "QA", "question": "Can a retired prime minister help unblock stuck negotiations?",
                    "expected_urls": "https://guide.test/toolkit/the-tools/11-high-level-missions/"}),
        json.dumps({"id": "q2", "kind": "poem", "question": "Write a poem."}),
    ]) + "\n")
    out = tmp_path / "r.json"
    result = CliRunner().invoke(cli.app, ["eval", "retrieval", "--dataset", str(dataset), "--json", str(out)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "Warning:" in said and "theirs.jsonl:2" in said and "skipped" in said
    metrics = json.loads(out.read_text())
    assert metrics["n"] == 1 and metrics["hit_at_5"] == 1.0


class ColdRetriever:
    """The first search loads a model; the rest are quick."""

    def __init__(self):
        self.searches = 0

    def search(self, query: str, k: int | None = None, **_) -> list[SearchHit]:
        self.searches += 1
        if self.searches == 1:
            time.sleep(0.5)
        return [SearchHit(chunk=MISSIONS, score=1.0)]


def test_retrieval_latency_is_measured_warm_even_on_a_small_set():
    items = [EvalItem(id=f"q{n}", question=f"question {n}", expected_urls=[MISSIONS.url]) for n in range(3)]
    result = evaluate_retrieval(ColdRetriever(), items)
    assert result["n"] == 3 and result["hit_at_1"] == 1.0
    assert result["p95_ms"] < 250  # the half-second model load is not one of the timed queries
