"""Search latency of the real HybridRetriever, warm, over distinct questions: on the guide and on a
synthetic guide of 10,000 pages."""

from __future__ import annotations

from assistant.index import GuideIndex
from assistant.retrieval import HybridRetriever

from .common import milliseconds, questions, timed
from .workspace import Workspace, build_synthetic_index, ensure_guide_index

WARM_UP = ["warm up the retriever", "how does the dialogue start"]


def search_latencies(retriever: HybridRetriever, queries: list[str]) -> dict[str, float]:
    for query in WARM_UP:
        retriever.search(query)
    return milliseconds([timed(lambda q=query: retriever.search(q))[1] for query in queries])


def embedding_latencies(retriever: HybridRetriever, queries: list[str]) -> dict[str, float]:
    """The model's share of a search: one question embedded on its own (the retriever's cache bypassed)."""
    model = retriever.index.embeddings
    return milliseconds([timed(lambda q=query: model.embed_query(q))[1] for query in queries])


def on_guide(workspace: Workspace, queries: list[str]) -> dict:
    settings = ensure_guide_index(workspace)
    retriever = HybridRetriever(settings, GuideIndex(settings))
    latency = search_latencies(retriever, queries)
    return {
        "retrieval_p50_ms": latency["p50"],
        "retrieval_p95_ms": latency["p95"],
        "query_embed_p50_ms": embedding_latencies(retriever, queries)["p50"],
    }


def on_synthetic(workspace: Workspace, queries: list[str]) -> dict:
    report, ingest_s = timed(lambda: build_synthetic_index(workspace))
    settings = workspace.synthetic
    retriever, load_s = timed(lambda: HybridRetriever(settings, GuideIndex(settings)))
    latency = search_latencies(retriever, queries)
    return {
        "retrieval_10k_p50_ms": latency["p50"],
        "retrieval_10k_p95_ms": latency["p95"],
        "synthetic_pages": report.fetched,
        "synthetic_chunks": report.chunks,
        "ingest_10k_random_vectors_s": round(ingest_s, 2),
        "retriever_load_10k_s": round(load_s, 2),
    }


def run(workspace: Workspace) -> dict:
    queries = questions()
    return {"retrieval_queries": len(queries), **on_guide(workspace, queries), **on_synthetic(workspace, queries)}
