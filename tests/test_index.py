import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from assistant import index as index_module
from assistant.index import GuideIndex, IndexUnavailable, passage_sentences
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


def test_a_page_with_nothing_to_index_is_named_in_the_report(fake_index):
    headings = Page(url="https://guide.test/headings", title="H", markdown="# H\n\n## Only headings\n")
    report = fake_index.ingest([*pages_with(), headings])
    assert report.warnings == ["https://guide.test/headings: skipped, the page has no text to index"]
    assert report.added == 3 and "https://guide.test/headings" not in fake_index.page_hashes()


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
    assert counting.calls == 2  # the changed chunk and its one sentence


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


def test_sentences_split_on_stops_and_lines_without_markup_or_scraps():
    text = "**Note:** the host invites every ministry early.\n- Donors fund the dialogue, not the parties. Who chairs?\n| a | b |"
    assert passage_sentences(text) == ["the host invites every ministry early.", "Donors fund the dialogue, not the parties."]


def test_stored_sentences_serve_the_composer_without_the_model(settings, guide_index, monkeypatch):
    """The composer's candidate sentences are the index's own: an extract embeds nothing but the question."""
    from assistant.compose import Composer
    from assistant.retrieval import HybridRetriever

    retriever = HybridRetriever(settings, guide_index)
    composer = Composer(settings, retriever)
    question = "How should the host prepare the first dialogue session?"
    retriever._query_vector(question)  # the question itself is the one thing a search embeds
    embedded: list[str] = []
    original = guide_index.embeddings.embed_documents
    monkeypatch.setattr(type(guide_index.embeddings), "embed_documents", lambda self, texts: embedded.extend(texts) or original(texts))
    answer = composer.ask(question)
    assert answer.citations and not answer.abstained
    assert retriever.known_sentences  # the search mapped its passages' sentences to their stored rows
    for text, row in list(retriever.known_sentences.items())[:5]:  # and to the right rows
        assert float(retriever.sentence_vectors[row].astype("float32") @ original([text])[0]) > 0.99
    assert not [text for text in embedded if text in retriever.known_sentences]
    assert any(sentence in answer.markdown for sentence in retriever.known_sentences)  # it did quote the guide


def test_each_version_keeps_its_sentences_and_loses_them_with_it(fake_index):
    fake_index.ingest(pages_with())
    first = fake_index.active_name()
    stored = fake_index.sentence_collection().get(include=["metadatas"])
    assert sorted(m["url"] for m in stored["metadatas"]) == ["https://guide.test/a", "https://guide.test/b", "https://guide.test/c"]

    fake_index.ingest(pages_with(lambda p: {**p, "https://guide.test/c": "# C\n\nMedia report on the dialogue. Editors follow the talks."}))
    sentences = fake_index.sentence_collection().get()["documents"]
    assert "The host convenes the partners." in sentences and "Editors follow the talks." in sentences
    assert "Media report on the dialogue." in sentences
    assert not any(first in name for name in fake_index._collection_names())


def test_an_index_without_sentence_vectors_is_rebuilt_by_the_next_ingest(fake_index):
    fake_index.ingest(pages_with())
    fake_index.client.delete_collection(f"sentences_{fake_index.active_name()}")
    assert fake_index.sentence_collection() is None
    report = fake_index.ingest(pages_with())
    assert report.added == 3 and fake_index.sentence_collection().count() == 3


def test_an_index_cut_by_an_earlier_version_is_rebuilt(fake_index, monkeypatch):
    fake_index.ingest(pages_with())
    assert fake_index.text_version() == index_module.TEXT_VERSION
    assert fake_index.ingest(pages_with()).unchanged == 3
    monkeypatch.setattr(index_module, "TEXT_VERSION", index_module.TEXT_VERSION + 1)
    report = fake_index.ingest(pages_with())
    assert report.added == 3 and fake_index.text_version() == index_module.TEXT_VERSION
    assert fake_index.ingest(pages_with()).unchanged == 3


def sentence_files(index):
    folder = index.settings.data_dir / "sentence-vectors"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_the_active_versions_sentence_vectors_are_a_mapped_file_and_old_versions_files_go(fake_index):
    import numpy as np

    fake_index.ingest(pages_with())
    first = sentence_files(fake_index)
    assert first == [f"sentences_{fake_index.active_name()}.npy", f"sentences_{fake_index.active_name()}.spans.json"]
    vectors, spans = fake_index.sentence_vectors()
    assert isinstance(vectors, np.memmap) and vectors.dtype == np.float16 and vectors.shape == (3, 16)
    chunk = next(c for c in fake_index.all_chunks() if c.url.endswith("/b"))
    begin, end = spans[chunk.id]
    expected = DeterministicFakeEmbedding(size=16).embed_documents(["The donor funds the roadmap."])[0]
    assert end - begin == 1 and np.allclose(vectors[begin].astype(np.float32), expected, atol=1e-2)

    fake_index.ingest(pages_with(lambda p: {**p, "https://guide.test/a": "# A\n\nThe host convenes the partners. Later the finance ministry joins them."}))
    assert sentence_files(fake_index) != first and len(sentence_files(fake_index)) == 2
    vectors, spans = fake_index.sentence_vectors()
    assert vectors.shape[0] == 4 and sorted(end - begin for begin, end in spans.values()) == [1, 1, 2]


def test_a_reader_that_finds_the_file_missing_writes_it_again(fake_index):
    import shutil

    fake_index.ingest(pages_with())
    before = fake_index.sentence_vectors()[0].copy()
    shutil.rmtree(fake_index.settings.data_dir / "sentence-vectors")
    after, _ = fake_index.sentence_vectors()
    assert (after == before).all() and len(sentence_files(fake_index)) == 2


def test_changing_the_embedding_model_re_embeds_the_guide_and_the_notes_on_the_next_ingest(settings, fake_index):
    from assistant.models import Chunk
    from assistant.retrieval import HybridRetriever

    fake_index.ingest(pages_with())
    note = Chunk(id="n1", url="note://moldova.md", title="Moldova notes", text="The ministry reshuffle is expected.")
    fake_index.add_note_chunks("alice", "note-1", [note])
    assert fake_index.embedding_model() == settings.embedding_model and fake_index.outdated() is None

    other = settings.model_copy(update={"embedding_model": "/models/multilingual-minilm"})
    switched = GuideIndex(other, embeddings=DeterministicFakeEmbedding(size=24))
    assert "embedded with sentence-transformers/all-MiniLM-L6-v2" in switched.outdated()
    with pytest.raises(IndexUnavailable, match="run `inspired ingest`"):
        HybridRetriever(other, switched)  # never a search across two models' vectors

    report = switched.ingest(pages_with())
    assert report.added == 3 and switched.embedding_model() == "/models/multilingual-minilm"
    assert switched.outdated() is None and switched.ingest(pages_with()).unchanged == 3
    stored = switched.notes_collection().get(where={"owner": "alice"}, include=["embeddings", "metadatas"])
    assert len(stored["embeddings"][0]) == 24 and stored["metadatas"][0]["embedding_model"] == "/models/multilingual-minilm"
    assert HybridRetriever(other, switched).search("ministry reshuffle", owner="alice")[0].chunk.source_kind == "note"


def test_an_index_from_before_the_model_was_recorded_counts_as_the_default_models(fake_index):
    fake_index.ingest(pages_with())
    fake_index._meta.upsert(ids=[index_module.ACTIVE_KEY], documents=[fake_index.active_name()], embeddings=[[0.0]],
                            metadatas=[{"text_version": index_module.TEXT_VERSION}])
    assert fake_index.embedding_model() == "sentence-transformers/all-MiniLM-L6-v2"
    assert fake_index.outdated() is None and fake_index.ingest(pages_with()).unchanged == 3


def test_notes_embedded_again_but_stopped_before_the_swap_are_not_lost(fake_index):
    from assistant.models import Chunk

    note = Chunk(id="n1", url="note://moldova.md", title="Moldova notes", text="The ministry reshuffle is expected.")
    fake_index.add_note_chunks("alice", "note-1", [note])
    stored = fake_index.notes_collection().get(include=["embeddings", "metadatas", "documents"])
    # As an interrupted re-embedding leaves it: the new collection full, the old one deleted, no rename yet.
    fake_index._collection(index_module.NOTES_NEXT).add(
        ids=stored["ids"], embeddings=stored["embeddings"], metadatas=stored["metadatas"], documents=stored["documents"]
    )
    fake_index.client.delete_collection(index_module.NOTES_COLLECTION)
    reopened = GuideIndex(fake_index.settings, client=fake_index.client, embeddings=DeterministicFakeEmbedding(size=16))
    assert reopened.notes_collection().get(where={"owner": "alice"})["ids"] == stored["ids"]
    assert index_module.NOTES_NEXT not in reopened._collection_names()
