"""The scratch data dirs the benchmarks share: the real guide's index and the synthetic one's."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assistant.index import GuideIndex, IngestReport, load_embeddings
from assistant.settings import Settings
from assistant.sources import load_pages

from .common import bench_settings
from .corpus import RandomUnitEmbeddings, synthetic_pages


@dataclass
class Workspace:
    root: Path
    synthetic_count: int = 10_000

    @property
    def guide(self) -> Settings:
        return bench_settings(self.root / "guide")

    @property
    def synthetic(self) -> Settings:
        return bench_settings(self.root / "synthetic")


def real_embeddings(settings: Settings, bulk: bool = False):
    """With the threads the product uses: `inspired ingest`'s for bulk, the chat server's for questions."""
    return load_embeddings(settings.resolved_embedding_model(), settings.embedding_device, settings.torch_threads(bulk))


def ingest_guide(settings: Settings) -> IngestReport:
    return GuideIndex(settings, embeddings=real_embeddings(settings, bulk=True)).ingest(load_pages(settings))


def ensure_guide_index(workspace: Workspace) -> Settings:
    settings = workspace.guide
    if GuideIndex(settings).count() == 0:
        ingest_guide(settings)
    return settings


def build_synthetic_index(workspace: Workspace) -> IngestReport:
    """The synthetic guide through the real ingest, with random vectors standing in for the model's."""
    settings = workspace.synthetic
    dimensions = len(real_embeddings(settings).embed_query("size"))
    index = GuideIndex(settings, embeddings=RandomUnitEmbeddings(dimensions))
    return index.ingest(synthetic_pages(workspace.synthetic_count), rebuild=True)


def ensure_synthetic_index(workspace: Workspace) -> Settings:
    settings = workspace.synthetic
    if GuideIndex(settings).count() == 0:
        build_synthetic_index(workspace)
    return settings


def release_chroma() -> None:
    """Drop this process's embedded Chroma clients before a server process opens the same folders."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
