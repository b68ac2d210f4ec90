"""NoteStore: per-owner files, safe names, size limit, indexing through the index's note API."""

from __future__ import annotations

import json

import pytest
from fakes import offline_settings

from assistant.notes import NoteError, NoteStore, owner_folder_name, safe_filename
from assistant.sources import SourceError

NOTE = "# Moldova notes\n\nThe energy reform talks paused after the budget vote. Civil society wants them back before winter.\n"


class FakeNoteIndex:
    def __init__(self, fail: bool = False):
        self.added: dict[tuple[str, str], list] = {}
        self.fail = fail

    def add_note_chunks(self, owner, note_id, chunks):
        if self.fail:
            raise RuntimeError("index down")
        self.added[(owner, note_id)] = chunks
        return len(chunks)

    def delete_note(self, owner, note_id):
        self.added.pop((owner, note_id))


@pytest.fixture
def index():
    return FakeNoteIndex()


@pytest.fixture
def store(tmp_path, index):
    return NoteStore(offline_settings(tmp_path, max_upload_mb=0.01), index)


@pytest.fixture
def note_file(tmp_path):
    path = tmp_path / "incoming" / "moldova.md"
    path.parent.mkdir()
    path.write_text(NOTE, encoding="utf-8")
    return path


def test_add_stores_the_file_and_indexes_note_chunks(store, index, note_file):
    record = store.add("ana", note_file, country="Moldova")
    stored = store.folder("ana") / record.stored_name
    assert stored.read_text(encoding="utf-8") == NOTE
    assert record.title == "Moldova notes" and record.country == "Moldova" and record.chunks >= 1
    chunks = index.added[("ana", record.id)]
    assert all(c.source_kind == "note" and c.owner == "ana" and c.country == "Moldova" for c in chunks)
    assert "energy reform" in chunks[0].text
    assert [r.id for r in store.list("ana")] == [record.id]
    assert store.list("bob") == []


def test_the_same_file_twice_is_one_note(store, index, note_file):
    first = store.add("ana", note_file)
    assert store.add("ana", note_file).id == first.id
    assert len(index.added) == 1


def test_path_traversal_in_the_name_stays_in_the_owner_folder(store, note_file, tmp_path):
    record = store.add("ana", note_file, original_name="../../../escape.md")
    folder = store.folder("ana").resolve()
    assert (folder / record.stored_name).resolve().parent == folder
    assert not (tmp_path / "escape.md").exists() and not (tmp_path / "data" / "escape.md").exists()
    assert record.original_name == "escape.md"
    assert safe_filename("..\\..\\windows\\x.md") == "x.md"
    assert safe_filename("../") == "note"


def test_owner_names_cannot_escape_the_uploads_folder(store):
    assert store.folder("../../etc").resolve().parent == store.settings.uploads_dir.resolve()
    assert owner_folder_name("a.b") != owner_folder_name("a-b")
    with pytest.raises(NoteError):
        store.folder("  ")


def test_oversized_missing_and_unsupported_files_get_clear_errors(store, tmp_path):
    big = tmp_path / "big.md"
    big.write_text("word " * 5000)
    with pytest.raises(NoteError, match="at most"):
        store.add("ana", big)
    with pytest.raises(NoteError, match="not found"):
        store.add("ana", tmp_path / "missing.md")
    odd = tmp_path / "tool.exe"
    odd.write_bytes(b"MZ")
    with pytest.raises(SourceError, match="notes can be"):
        store.add("ana", odd)
    assert list(store.folder("ana").glob("*.exe")) == []


def test_a_note_with_nothing_to_search_is_refused_and_not_kept(store, index, tmp_path):
    headings = tmp_path / "headings.md"
    headings.write_text("# Moldova\n\n## Energy\n\n{% tabs %}\n{% endtabs %}\n", encoding="utf-8")
    with pytest.raises(NoteError, match="no text to search"):
        store.add("ana", headings)
    assert store.list("ana") == [] and index.added == {}
    assert list(store.folder("ana").glob("*headings*")) == []


def test_a_failed_indexing_leaves_no_file_behind(tmp_path, note_file):
    store = NoteStore(offline_settings(tmp_path), FakeNoteIndex(fail=True))
    with pytest.raises(RuntimeError):
        store.add("ana", note_file)
    assert store.list("ana") == []
    assert [p.name for p in store.folder("ana").iterdir()] == []


def test_delete_removes_file_record_and_chunks(store, index, note_file):
    record = store.add("ana", note_file)
    store.delete("ana", record.id)
    assert store.list("ana") == [] and index.added == {}
    assert not (store.folder("ana") / record.stored_name).exists()
    with pytest.raises(NoteError):
        store.delete("ana", record.id)


def test_metadata_survives_a_new_store(store, index, note_file, tmp_path):
    record = store.add("ana", note_file)
    again = NoteStore(store.settings, index)
    assert again.list("ana")[0].id == record.id
    assert json.loads((store.folder("ana") / "notes.json").read_text())[0]["original_name"] == "moldova.md"
