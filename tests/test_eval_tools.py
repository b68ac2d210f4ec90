"""`inspired eval tools`: the "Which tool?" advice graded against the tools each situation calls for."""

from __future__ import annotations

import json
from pathlib import Path

from fakes import FakeRetriever
from typer.testing import CliRunner

from assistant import cli
from assistant.evaluation import load_dataset
from assistant.evaluation.tools import score_advice

SITUATIONS = [
    # The fake guide's bilateral meetings page speaks of a stakeholder that refuses to share a table with its rivals.
    {"id": "t1", "kind": "tools", "request": "One stakeholder distrusts the process and refuses to share a table with its rivals",
     "expected_tools": [9]},
    {"id": "t2", "kind": "tools", "request": "We need to know who holds a stake in the policy and how much influence each actor has",
     "expected_tools": [3]},
    {"id": "t3", "kind": "tools", "request": "The parties need a space to draft detailed proposals", "expected_tools": [17]},
    {"id": "q1", "kind": "qa", "question": "What is a roadmap?"},  # other kinds are left to their own runners
]


def test_advice_is_scored_on_its_first_tool_and_on_all_it_names():
    assert score_advice([9, 3], {9}) == {"tool_hit_rate": 1.0, "top_tool_rate": 1.0, "tool_recall": 1.0}
    assert score_advice([3, 9], {9, 6}) == {"tool_hit_rate": 1.0, "top_tool_rate": 0.0, "tool_recall": 0.5}
    assert score_advice([], {9}) == {"tool_hit_rate": 0.0, "top_tool_rate": 0.0, "tool_recall": 0.0}


def test_eval_tools_command_grades_each_situation(tmp_path, monkeypatch, settings):
    monkeypatch.setenv("INSPIRED_DATA_DIR", str(settings.data_dir))
    monkeypatch.setattr(cli, "open_retriever", lambda _settings: FakeRetriever())
    dataset = tmp_path / "tools.jsonl"
    dataset.write_text("\n".join(json.dumps(line) for line in SITUATIONS) + "\n")
    out = tmp_path / "tools.json"
    run = CliRunner().invoke(cli.app, ["eval", "tools", "--dataset", str(dataset), "--json", str(out)])
    assert run.exit_code == 0, run.output
    metrics = json.loads(out.read_text())
    assert metrics["n"] == 3
    # Two situations find their tool first; the fake guide has no tool 17, so the third misses and is listed.
    assert metrics["top_tool_rate"] == round(2 / 3, 4) and metrics["tool_hit_rate"] == round(2 / 3, 4)
    assert [miss["id"] for miss in metrics["misses"]] == ["t3"]
    assert 2 <= metrics["tools_named"] <= 5


def test_eval_tools_says_so_when_a_file_has_no_tools_lines(tmp_path, monkeypatch, settings):
    monkeypatch.setenv("INSPIRED_DATA_DIR", str(settings.data_dir))
    monkeypatch.setattr(cli, "open_retriever", lambda _settings: FakeRetriever())
    dataset = tmp_path / "qa.jsonl"
    dataset.write_text(json.dumps(SITUATIONS[-1]) + "\n")
    run = CliRunner().invoke(cli.app, ["eval", "tools", "--dataset", str(dataset)])
    assert run.exit_code != 0 and "holds no tools lines" in run.output and "Traceback" not in run.output


def test_the_shipped_tools_set_names_real_tools():
    items = load_dataset(Path(__file__).resolve().parents[1] / "evals" / "tools.jsonl")
    assert len(items) >= 15 and all(item.kind == "tools" for item in items)
    assert all(item.expected_tools and set(item.expected_tools) <= set(range(1, 20)) for item in items)
