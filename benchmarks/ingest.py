"""Ingest of the guide: a first full run and a run with nothing changed; model loading timed apart."""

from __future__ import annotations

from .common import timed
from .workspace import Workspace, ingest_guide, real_embeddings


def load_model(workspace: Workspace) -> float:
    """Seconds to load the embedding model and run it once (its first call does lazy set-up)."""
    _, seconds = timed(lambda: real_embeddings(workspace.guide).embed_query("warm up"))
    return seconds


def run(workspace: Workspace) -> dict:
    model_load_s = load_model(workspace)
    first, full_s = timed(lambda: ingest_guide(workspace.guide))
    second, nochange_s = timed(lambda: ingest_guide(workspace.guide))
    if second.changed:
        raise RuntimeError(f"a second ingest of an unchanged guide changed the index: {second}")
    return {
        "model_load_s": round(model_load_s, 2),
        "ingest_full_s": round(full_s, 2),
        "ingest_nochange_s": round(nochange_s, 2),
        "guide_pages": first.fetched,
        "guide_chunks": first.chunks,
    }
