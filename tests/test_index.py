import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from assistant.index import GuideIndex
from assistant.models import Page


@pytest.fixture
def fake_index(settings):
    return GuideIndex(settings, embeddings=DeterministicFakeEmbedding(size=16))


def pages_with(*overrides):
    base = {
        "https://guide.test/a": "# A\n\nThe host convenes the partners.",
        "https://guide.test/b": "# B\n\nThe donor funds the roadmap.",
        "https://guide.test/c": "# C\n\nMedia report on the dialogue.",
    }
    for change in overrides:
        base = change(dict(base))
    return [Page(url=url, title=url[-1].upper(), markdown=text) for url, text in base.items()]


def stored_texts(index):
    return sorted(chunk.text for chunk in index.all_chunks())


def test_first_ingest_adds_every_page(fake_index):
    report = fake_index.ingest(pages_with())
    assert (report.added, report.updated, report.removed, report.unchanged) == (3, 0, 0, 0)
    assert report.chunks == 3 == fake_index.count()


def test_second_ingest_with_nothing_changed_touches_nothing(fake_index):
    fake_index.ingest(pages_with())
    before = fake_index.active_name()
    report = fake_index.ingest(pages_with())
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 3)
    assert fake_index.active_name() == before


def test_changed_page_is_replaced_removed_page_deleted_new_page_added(fake_index):
    fake_index.ingest(pages_with())

    def edit(pages):
        pages["https://guide.test/b"] = "# B\n\nThe donor now also trains officials."
        del pages["https://guide.test/c"]
        pages["https://guide.test/d"] = "# D\n\nParliaments scrutinise the reform."
        return pages

    report = fake_index.ingest(pages_with(edit))
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 1, 1, 1)
    assert stored_texts(fake_index) == [
        "Parliaments scrutinise the reform.",
        "The donor now also trains officials.",
        "The host convenes the partners.",
    ]


def test_unchanged_pages_are_not_re_embedded(settings):
    class CountingEmbedding(DeterministicFakeEmbedding):
        calls: int = 0

        def embed_documents(self, texts):
            self.calls += len(texts)
            return super().embed_documents(texts)

    counting = CountingEmbedding(size=16)
    index = GuideIndex(settings, embeddings=counting)
    index.ingest(pages_with())
    counting.calls = 0
    index.ingest(pages_with(lambda p: {**p, "https://guide.test/a": "# A\n\nThe host convenes everyone."}))
    assert counting.calls == 1


def test_an_ingest_killed_midway_leaves_the_previous_index_whole(settings, fake_index):
    fake_index.ingest(pages_with())
    before = stored_texts(fake_index)

    class Exploding(DeterministicFakeEmbedding):
        def embed_documents(self, texts):
            raise KeyboardInterrupt  # as if the process were stopped while embedding

    crashing = GuideIndex(settings, embeddings=Exploding(size=16))
    with pytest.raises(KeyboardInterrupt):
        crashing.ingest(pages_with(lambda p: {**p, "https://guide.test/a": "# A\n\nRewritten."}))

    reopened = GuideIndex(settings, embeddings=DeterministicFakeEmbedding(size=16))
    assert stored_texts(reopened) == before
    report = reopened.ingest(pages_with(lambda p: {**p, "https://guide.test/a": "# A\n\nRewritten."}))
    assert report.updated == 1
    leftovers = [n for n in reopened._collection_names() if n.startswith("guide_")]
    assert leftovers == [reopened.active_name()]


def test_rebuild_re_embeds_everything(fake_index):
    fake_index.ingest(pages_with())
    report = fake_index.ingest(pages_with(), rebuild=True)
    assert report.added == 3 and fake_index.count() == 3


def test_notes_are_kept_apart_per_owner(fake_index):
    from assistant.models import Chunk

    note = Chunk(id="n1", url="note://moldova.md", title="Moldova notes", text="The ministry reshuffle is expected.")
    fake_index.add_note_chunks("alice", "note-1", [note])
    stored = fake_index.notes_collection().get(where={"owner": "alice"})
    assert len(stored["ids"]) == 1 and stored["metadatas"][0]["source_kind"] == "note"
    assert fake_index.notes_collection().get(where={"owner": "bob"})["ids"] == []
    fake_index.delete_note("alice", "note-1")
    assert fake_index.notes_collection().get(where={"owner": "alice"})["ids"] == []
    assert fake_index.count() == 0  # the guide collection never receives notes
