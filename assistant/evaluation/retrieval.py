"""Retrieval metrics (hit@k, MRR, recall@5, nDCG@10, latency) and the baseline comparison."""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from pathlib import Path

from ..settings import Settings
from . import EvalItem, percentile, warm_up

METRICS = ("hit_at_1", "hit_at_5", "recall_at_5", "mrr", "ndcg_at_10")


def ranked_pages(retriever, question: str, k: int) -> list[str]:
    """Unique page URLs in the order their best chunk was retrieved."""
    urls: list[str] = []
    for hit in retriever.search(question, k * 3):
        if hit.chunk.url not in urls:
            urls.append(hit.chunk.url)
    return urls[:k]


def score_ranking(pages: list[str], expected: set[str]) -> dict[str, float]:
    first = next((rank for rank, url in enumerate(pages, 1) if url in expected), None)
    dcg = sum(1 / math.log2(rank + 1) for rank, url in enumerate(pages[:10], 1) if url in expected)
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(len(expected), 10) + 1))
    return {
        "hit_at_1": float(first == 1),
        "hit_at_5": float(first is not None and first <= 5),
        "recall_at_5": len(expected & set(pages[:5])) / len(expected),
        "mrr": 1 / first if first else 0.0,
        "ndcg_at_10": dcg / ideal if ideal else 0.0,
    }


def evaluate_retrieval(retriever, items: list[EvalItem], k: int = 10) -> dict:
    graded = [item for item in items if item.kind == "qa" and item.answerable and item.expected_urls]
    rows, latencies = [], []
    warm_up(retriever)
    for item in graded:
        started = time.perf_counter()
        pages = ranked_pages(retriever, item.question, k)
        latencies.append((time.perf_counter() - started) * 1000)
        rows.append({"id": item.id, "persona": item.persona, "pages": pages, **score_ranking(pages, set(item.expected_urls))})
    result = {"n": len(rows), **average(rows)}
    result["p50_ms"] = round(percentile(latencies, 0.5), 2)
    result["p95_ms"] = round(percentile(latencies, 0.95), 2)
    by_persona = defaultdict(list)
    for row in rows:
        by_persona[row["persona"]].append(row)
    result["by_persona"] = {persona: {"n": len(group), **average(group)} for persona, group in sorted(by_persona.items())}
    result["misses"] = [{"id": r["id"], "top": r["pages"][:3]} for r in rows if not r["hit_at_5"]]
    return result


def average(rows: list[dict]) -> dict[str, float]:
    return {m: round(sum(r[m] for r in rows) / len(rows), 4) if rows else 0.0 for m in METRICS}


class NaiveRAG:
    """Baseline: LangChain's textbook RAG — 1000/200 character splits of plain page text, dense only."""

    def __init__(self, settings: Settings, pages, embeddings):
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
        texts, metadatas = [], []
        for page in pages:
            for piece in splitter.split_text(page.markdown):
                texts.append(piece)
                metadatas.append({"url": page.url, "title": page.title})
        client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
        self.store = Chroma.from_texts(
            texts, embeddings, metadatas=metadatas, client=client, collection_name=f"naive_{time.time_ns()}"
        )

    def search(self, query: str, k: int | None = None, **_):
        from ..models import Chunk, SearchHit

        docs = self.store.similarity_search_with_score(query, k=k or 10)
        return [
            SearchHit(chunk=Chunk(id=str(n), url=d.metadata["url"], title=d.metadata["title"], text=d.page_content), score=-s)
            for n, (d, s) in enumerate(docs)
        ]


def compare_retrievers(settings: Settings, full, items: list[EvalItem], k: int, out_dir: Path) -> dict[str, dict]:
    from ..retrieval import HybridRetriever
    from ..sources import load_pages

    pages = load_pages(settings)
    contenders = {
        "naive": NaiveRAG(settings, pages, full.index.embeddings),
        "bm25": HybridRetriever(settings, full.index, channels=frozenset({"lexical"})),
        "dense": HybridRetriever(settings, full.index, channels=frozenset({"dense"})),
        "full": full,
    }
    results = {name: evaluate_retrieval(retriever, items, k) for name, retriever in contenders.items()}
    write_comparison(results, out_dir)
    return results


def write_comparison(results: dict[str, dict], out_dir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    slim = {name: {key: value for key, value in r.items() if key != "misses"} for name, r in results.items()}
    (out_dir / "retrieval-compare.json").write_text(json.dumps(slim, indent=2))
    lines = ["# Retrieval: baselines vs. full pipeline", "", "| retriever | n | " + " | ".join(METRICS) + " | p50 ms | p95 ms |",
             "|---|---|" + "---|" * (len(METRICS) + 2)]
    for name, r in results.items():
        lines.append(f"| {name} | {r['n']} | " + " | ".join(f"{r[m]:.3f}" for m in METRICS) + f" | {r['p50_ms']} | {r['p95_ms']} |")
    (out_dir / "retrieval-compare.md").write_text("\n".join(lines) + "\n\n![chart](retrieval-compare.png)\n")
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.8 / len(results)
    for offset, (name, r) in enumerate(results.items()):
        ax.bar([i + offset * width for i in range(len(METRICS))], [r[m] for m in METRICS], width, label=name)
    ax.set_xticks([i + width * (len(results) - 1) / 2 for i in range(len(METRICS))], METRICS)
    ax.set_ylim(0, 1)
    ax.legend()
    ax.set_title("Retrieval on the public set")
    fig.tight_layout()
    fig.savefig(out_dir / "retrieval-compare.png", dpi=110)
    plt.close(fig)


def print_retrieval(console, results: dict[str, dict]) -> None:
    from rich.table import Table

    table = Table(title="Retrieval")
    for column in ("retriever", "n", *METRICS, "p50 ms", "p95 ms"):
        table.add_column(column)
    for name, r in results.items():
        table.add_row(name, str(r["n"]), *(f"{r[m]:.3f}" for m in METRICS), str(r["p50_ms"]), str(r["p95_ms"]))
    console.print(table)
