"""The index and retrieval on a real Chroma server (INSPIRED_CHROMA_MODE=server), and a real `kill -9`
of `inspired ingest` half-way, on the server and on the embedded store.

The index and retrieval tests of test_index.py / test_retrieval.py run here again unchanged: the
`settings` fixture below points them at the server, which is emptied before each test.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from services import chroma_server, free_port, stop_process, wait_until  # noqa: F401  (session fixture)
from test_index import (  # noqa: F401  (collected again, here against the server)
    fake_index,
    test_an_ingest_killed_midway_leaves_the_previous_index_whole,
    test_changed_page_is_replaced_removed_page_deleted_new_page_added,
    test_first_ingest_adds_every_page,
    test_notes_are_kept_apart_per_owner,
    test_rebuild_re_embeds_everything,
    test_second_ingest_with_nothing_changed_touches_nothing,
    test_unchanged_pages_are_not_re_embedded,
)
from test_retrieval import (  # noqa: F401
    test_acronym_in_a_title_is_understood,
    test_empty_index_searches_to_nothing,
    test_filters_restrict_results,
    test_lexical_only_and_dense_only_channels,
    test_notes_only_reach_their_owner,
    test_paraphrased_question_finds_the_tool_page,
    test_spanish_question_finds_the_spanish_page,
    test_tool_number_is_understood,
)

from assistant.index import BATCH, GUIDE_PREFIX, GuideIndex, IndexUnavailable
from assistant.models import Page
from assistant.retrieval import HybridRetriever
from assistant.settings import Settings

INSPIRED = Path(sys.executable).with_name("inspired")
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def settings(settings, chroma_server):  # noqa: F811  (conftest's isolated settings, on the server)
    chroma_server.wipe()
    return settings.model_copy(
        update={"chroma_mode": "server", "chroma_host": chroma_server.host, "chroma_port": chroma_server.port}
    )


def guide_versions(index: GuideIndex) -> list[str]:
    return sorted(name for name in index._collection_names() if name.startswith(GUIDE_PREFIX))


def test_server_mode_keeps_the_index_on_the_server_only(settings, guide_index, chroma_server):  # noqa: F811
    assert guide_index.count() > 0
    assert guide_index.active_name() in [c.name for c in chroma_server.client().list_collections()]
    assert not settings.chroma_dir.exists()


def test_another_client_sees_the_same_index(settings, guide_index, embeddings):
    """Several app processes can share one server: a second client sees the ingested guide at once."""
    other = GuideIndex(settings, embeddings=embeddings)
    assert other.active_name() == guide_index.active_name()
    assert other.count() == guide_index.count()


def test_server_that_is_down_is_reported_clearly(tmp_path):
    down = Settings(_env_file=None, data_dir=tmp_path, chroma_mode="server", chroma_port=free_port())
    with pytest.raises(IndexUnavailable, match="Could not reach the Chroma server"):
        GuideIndex(down)


# -- kill -9 in the middle of `inspired ingest` ---------------------------------------------------

WORDS = (
    "ministry partners reform roadmap donors parliament facilitator evidence consultation budget "
    "trust mission phase assessment network union teachers water health schools mayors councils"
).split()


def synthetic_page(n: int, *, edition: int = 1) -> tuple[str, str]:
    """(relative path, Markdown) of a short page: one chunk, so chunk counts equal page counts."""
    words = " ".join(WORDS[(n * 7 + k) % len(WORDS)] for k in range(24))
    body = f"# Topic {n}\n\nEdition {edition} of a note on topic {n}: {words}.\n"
    return f"topics/topic-{n:04d}.md", f"---\ntitle: Topic {n}\nurl: /topics/topic-{n:04d}\n---\n{body}"


def write_guide(folder: Path, count: int, *, edition: int = 1) -> Path:
    for n in range(count):
        relative, text = synthetic_page(n, edition=edition)
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text)
    return folder


def pages_of(folder: Path) -> list[Page]:
    from assistant.sources import load_pages

    return load_pages(Settings(_env_file=None, source=str(folder)))


def queue_position(settings: Settings) -> int:
    """Highest write sequence number in the embedded store, read without opening it as Chroma (which would write)."""
    db = sqlite3.connect(f"file:{settings.chroma_dir / 'chroma.sqlite3'}?mode=ro", uri=True, timeout=5)
    try:
        return db.execute("SELECT coalesce(max(seq_id), 0) FROM embeddings_queue").fetchone()[0]
    finally:
        db.close()


def unfinished_version_has_records(settings: Settings, active: str, baseline: int) -> bool:
    """True once the running ingest has written its first batch into a new, not yet active version."""
    if settings.chroma_mode == "embedded":
        return queue_position(settings) > baseline
    client = GuideIndex(settings).client
    return any(
        c.name.startswith(GUIDE_PREFIX) and c.name != active and c.count() > 0 for c in client.list_collections()
    )


def release_embedded_store() -> None:
    """Chroma keeps one in-process client per path; drop it so the ingest process has the store to itself."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


def ingest_command_env(settings: Settings, source: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSPIRED_")}
    env.update(
        INSPIRED_SOURCE=str(source),
        INSPIRED_DATA_DIR=str(settings.data_dir),
        INSPIRED_CHROMA_MODE=settings.chroma_mode,
        INSPIRED_CHROMA_HOST=settings.chroma_host,
        INSPIRED_CHROMA_PORT=str(settings.chroma_port),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    return env


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["server", "embedded"])
def test_kill_9_during_ingest_leaves_the_old_index_answering_and_the_next_ingest_cleans_up(
    mode, settings, embeddings, tmp_path
):
    settings = settings.model_copy(update={"chroma_mode": mode})
    old_pages = pages_of(write_guide(tmp_path / "old", 12))
    index = GuideIndex(settings, embeddings=embeddings)
    index.ingest(old_pages)
    active, old_count = index.active_name(), index.count()
    baseline = queue_position(settings) if mode == "embedded" else 0
    del index
    release_embedded_store()

    # Three batches of changed pages: the kill lands after the first write, with time to spare.
    new_source = write_guide(tmp_path / "new", 2 * BATCH + 100, edition=2)
    process = subprocess.Popen(
        [str(INSPIRED), "ingest"], env=ingest_command_env(settings, new_source), cwd=REPO,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        wait_until(lambda: unfinished_version_has_records(settings, active, baseline), "the first batch", process, timeout_s=300)
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        stop_process(process)

    reopened = GuideIndex(settings, embeddings=embeddings)
    assert reopened.active_name() == active and reopened.count() == old_count
    assert len(guide_versions(reopened)) == 2  # the old version and the unfinished one
    hits = HybridRetriever(settings, reopened).search("topic 3 roadmap donors", 3)
    assert hits and all("Edition 1" in h.chunk.text for h in hits)

    report = reopened.ingest(pages_of(new_source))
    assert (report.updated, report.added) == (12, 2 * BATCH + 88)
    assert reopened.count() == 2 * BATCH + 100
    assert guide_versions(reopened) == [reopened.active_name()] != [active]
    assert all("Edition 2" in h.chunk.text for h in HybridRetriever(settings, reopened).search("topic 3 roadmap", 3))
