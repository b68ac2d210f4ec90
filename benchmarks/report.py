"""Write results.json (merged with earlier runs, so `--only` keeps the other parts' figures) and results.md, a Markdown table."""

from __future__ import annotations

import json
from pathlib import Path

# Metric -> (unit or kind, what it measures). Metrics missing here are still reported, unexplained.
DESCRIPTIONS: dict[str, str] = {
    "model_load_s": "load the embedding model and run it once (excluded from the ingest times)",
    "ingest_full_s": "first ingest of the guide: read, chunk, embed, store",
    "ingest_nochange_s": "second ingest, nothing changed",
    "guide_pages": "pages in the guide",
    "guide_chunks": "chunks in the guide's index",
    "retrieval_queries": "distinct eval questions searched (warm)",
    "retrieval_p50_ms": "search latency on the guide, median (query embedding included)",
    "retrieval_p95_ms": "search latency on the guide, 95th percentile",
    "query_embed_p50_ms": "embedding one question alone, median (the model's share of a search)",
    "retrieval_10k_p50_ms": "search latency on the 10k-page synthetic index, median",
    "retrieval_10k_p95_ms": "search latency on the 10k-page synthetic index, 95th percentile",
    "synthetic_pages": "pages in the synthetic index",
    "synthetic_chunks": "chunks in the synthetic index",
    "ingest_10k_random_vectors_s": "ingest of the synthetic pages with random vectors (chunk + store, no model)",
    "retriever_load_10k_s": "building the retriever over the synthetic index (chunks + BM25)",
    "first_answer_after_start_s": "first answer after `inspired serve` starts (models and index load)",
    "ttft_ms": "time to first streamed token through the chat server, median (extractive mode)",
    "ttft_p95_ms": "time to first streamed token, 95th percentile",
    "ttft_unstreamed": "replies that arrived without any streamed token",
    "concurrent_sessions": "chat sessions at once, one user each",
    "concurrent_questions": "questions asked in total across those sessions",
    "concurrent_errors": "questions that failed, timed out or were refused",
    "concurrent_p50_ms": "question-to-full-answer latency under that load, median",
    "concurrent_p95_ms": "question-to-full-answer latency under that load, 95th percentile",
    "cross_talk": "sessions that received an answer to another session's question",
    "history_lost_messages": "questions and replies of those sessions missing from the chat history (SQLite)",
    "history_write_failures": "history writes the data layer reported as failed (logged as warnings)",
    "rss_guide_mb": "peak RSS of the chat server on the guide",
    "server_log_errors": "ERROR lines or tracebacks in the server log during those runs",
    "first_answer_after_start_10k_s": "first answer after start on the 10k index",
    "ttft_10k_ms": "time to first streamed token on the 10k index, median",
    "ttft_10k_p95_ms": "time to first streamed token on the 10k index, 95th percentile",
    "ttft_10k_unstreamed": "replies on the 10k index without any streamed token",
    "rss_mb": "peak RSS of the chat server holding the 10k index (after answering)",
}


def merged(path: Path, results: dict) -> dict:
    previous = json.loads(path.read_text()) if path.exists() else {}
    combined = {**previous.get("metrics", {}), **results["metrics"]}
    return {**previous, **results, "metrics": combined, "parts": {**previous.get("parts", {}), **results["parts"]}}


def markdown(results: dict) -> str:
    lines = ["| Metric | Value | What it measures |", "|---|---:|---|"]
    for name, value in results["metrics"].items():
        lines.append(f"| `{name}` | {value} | {DESCRIPTIONS.get(name, '')} |")
    notes = [f"- **{part}**: {note}" for part, run in results.get("parts", {}).items() for note in run.get("notes", [])]
    machine = results.get("machine", {})
    runs = [
        f"- `{part}`: finished {run['finished_at']}, {run['seconds']} s, load average {run.get('load_average_at_start')} at its start"
        for part, run in results.get("parts", {}).items()
    ]
    header = f"Machine: {machine.get('cpus')} CPUs. Guide: {machine.get('source')}. Parts measured:"
    return "\n".join([header, *runs, "", *lines, "", *notes]) + "\n"


def write(folder: Path, results: dict) -> dict:
    combined = merged(folder / "results.json", results)
    (folder / "results.json").write_text(json.dumps(combined, indent=2) + "\n")
    (folder / "results.md").write_text("# Benchmark results\n\n" + markdown(combined))
    return combined
