"""Persistent Chroma index of guide chunks and their sentences' vectors (swapped in whole on each change) and of users' notes."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from .chunking import chunk_page
from .models import Chunk, Page
from .settings import HUB_EMBEDDING_MODEL, Settings

log = logging.getLogger(__name__)

META_COLLECTION = "inspired_meta"
ACTIVE_KEY = "active_guide_collection"
GUIDE_PREFIX = "guide_"
SENTENCES_PREFIX = "sentences_"  # + a guide version's name: the sentence vectors of its chunks
NOTES_COLLECTION = "inspired_notes"
NOTES_NEXT = "inspired_notes_next"  # the notes being embedded again by another model
BATCH = 256
READ_PAGE = 5000
MIN_SENTENCE = 25  # shorter lines (labels) say too little to match a question on their own
# Bumped whenever pages are cut differently, into chunks (chunk_page) or sentences (passage_sentences): an index
# built by another version is rebuilt, since unchanged pages would otherwise keep the old cut.
# 2: table rows are sentences; 3: bold lines nest under the heading they stand under; 4: chunks know their position.
TEXT_VERSION = 4


def passage_sentences(text: str) -> list[str]:
    """A chunk's sentences and list items as the extractive composer splits them: their stored vectors
    serve both the sentence-level dense match and the composer, which then embeds nothing but the question."""
    from .compose.text import prose_blocks, split_sentences  # here, not on top: compose imports this module

    return [s for block in prose_blocks(text) for s in split_sentences(block) if len(s) >= MIN_SENTENCE]


class IndexUnavailable(Exception):
    """An index problem the user can fix; str(e) is the message to show."""


class IngestReport(BaseModel):
    fetched: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks: int = 0
    seconds: float = 0.0
    warnings: list[str] = Field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


_MODEL_LOCK = threading.Lock()


def load_embeddings(model: str, device: str = "cpu", threads: int | None = None):
    """sentence-transformers through LangChain, loaded once per process even when callers race.

    ``threads`` sets torch's intra-op threads for the whole process (None leaves torch's default).
    """
    with _MODEL_LOCK:
        if threads:
            import torch

            torch.set_num_threads(threads)
        return _load_embeddings(model, device)


@lru_cache(maxsize=4)
def _load_embeddings(model: str, device: str):
    """A local folder never touches the hub."""
    from langchain_huggingface import HuggingFaceEmbeddings
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # a weights-loading bar on every CLI call is noise
    if os.path.isdir(model):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return HuggingFaceEmbeddings(
        model_name=model,
        model_kwargs={"device": device},
        encode_kwargs={"normalize_embeddings": True, "batch_size": 64},
    )


def chroma_client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_mode == "server":
        try:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        except Exception as exc:  # chromadb raises a bare ValueError/ConnectError when the server is down
            raise IndexUnavailable(
                f"Could not reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} ({exc}). "
                "Start it with `chroma run --host 127.0.0.1 --port 8001 --path data/chroma-server` "
                "or set INSPIRED_CHROMA_MODE=embedded."
            ) from exc
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


def chunk_metadata(chunk: Chunk) -> dict:
    """Chroma metadata holds scalars only: lists go in as JSON, absent values are left out."""
    meta = {
        "url": chunk.url,
        "title": chunk.title,
        "breadcrumb": json.dumps(chunk.breadcrumb, ensure_ascii=False),
        "heading_path": json.dumps(chunk.heading_path, ensure_ascii=False),
        "section": chunk.section,
        "lang": chunk.lang,
        "source_kind": chunk.source_kind,
        "ordinal": chunk.ordinal,
        "position": chunk.position,
        "page_hash": chunk.page_hash,
        "text": chunk.text,
        "tool_number": chunk.tool_number,
        "tool_type": chunk.tool_type,
        "owner": chunk.owner,
        "country": chunk.country,
    }
    return {key: value for key, value in meta.items() if value is not None}


def chunk_from_record(chunk_id: str, meta: dict) -> Chunk:
    return Chunk(
        id=chunk_id,
        url=meta["url"],
        title=meta["title"],
        breadcrumb=json.loads(meta.get("breadcrumb", "[]")),
        heading_path=json.loads(meta.get("heading_path", "[]")),
        section=meta.get("section", "guide"),
        lang=meta.get("lang", "en"),
        source_kind=meta.get("source_kind", "guide"),
        ordinal=meta.get("ordinal", 0),
        position=meta.get("position", 0),
        page_hash=meta.get("page_hash", ""),
        text=meta.get("text", ""),
        tool_number=meta.get("tool_number"),
        tool_type=meta.get("tool_type"),
        owner=meta.get("owner"),
        country=meta.get("country"),
    )


def read_all(collection, page_size: int = READ_PAGE) -> Iterable[tuple[str, dict]]:
    """(id, metadata) of every record, read in pages: one huge `get` overflows SQLite's variable limit."""
    for offset in range(0, collection.count(), page_size):
        got = collection.get(include=["metadatas"], limit=page_size, offset=offset)
        yield from zip(got["ids"], got["metadatas"])


def read_vectors(collection, page_size: int = READ_PAGE, dtype=np.float32) -> tuple[list[str], np.ndarray]:
    """Ids and vectors of every record, read in pages like `read_all`; each page is converted to ``dtype``
    as it comes, so a float16 read never holds the whole collection in float32."""
    ids: list[str] = []
    vectors: list[np.ndarray] = []
    for offset in range(0, collection.count(), page_size):
        got = collection.get(include=["embeddings"], limit=page_size, offset=offset)
        ids += got["ids"]
        vectors.append(np.asarray(got["embeddings"], dtype=dtype))
    return ids, np.vstack(vectors) if vectors else np.zeros((0, 0), dtype=dtype)


class GuideIndex:
    """The guide lives in a versioned collection; a pointer names the active one.

    An ingest builds the next version beside the active one and only then moves the pointer,
    so a run killed mid-way leaves the previous index whole and answering.
    """

    def __init__(self, settings: Settings, client=None, embeddings=None, bulk: bool = False):
        """``bulk``: this process embeds many pages (ingest), not one question at a time."""
        self.settings = settings
        self.bulk = bulk
        self.client = client or chroma_client(settings)
        self._embeddings = embeddings
        self._meta = self.client.get_or_create_collection(META_COLLECTION, embedding_function=None)
        self._finish_notes_swap()

    @property
    def embeddings(self):
        if self._embeddings is None:
            self._embeddings = load_embeddings(
                self.settings.resolved_embedding_model(),
                self.settings.embedding_device,
                self.settings.torch_threads(bulk=self.bulk),
            )
        return self._embeddings

    # -- the active guide collection --------------------------------------------------------
    def active_name(self) -> str | None:
        got = self._meta.get(ids=[ACTIVE_KEY])
        return got["documents"][0] if got["ids"] else None

    def outdated(self) -> str | None:
        """Why the active index must be rebuilt by the next ingest, or None when it is current (or absent)."""
        if not self.active_name():
            return None
        if self.sentence_collection() is None:
            return "the index predates sentence vectors"
        if self.text_version() != TEXT_VERSION:
            return "the index was cut into chunks and sentences by an earlier version"
        return self.model_mismatch()

    def model_mismatch(self) -> str | None:
        """Vectors of two models cannot be compared: say so when the index was embedded by another model."""
        built_with, configured = self.embedding_model(), self.settings.embedding_model
        if not self.active_name() or built_with == configured:
            return None
        return f"the index was embedded with {built_with}, and the embedding model is now {configured}"

    def _active_metadata(self) -> dict:
        got = self._meta.get(ids=[ACTIVE_KEY], include=["metadatas"])
        return (got["metadatas"][0] or {}) if got["ids"] else {}

    def text_version(self) -> int:
        """The TEXT_VERSION the active version was built with (1: before it was recorded)."""
        return int(self._active_metadata().get("text_version", 1))

    def embedding_model(self) -> str:
        """The model (as configured, not its local path) that embedded the active version; indexes from before
        it was recorded could only have used the default."""
        return str(self._active_metadata().get("embedding_model", HUB_EMBEDDING_MODEL))

    def active_collection(self):
        name = self.active_name()
        return self._collection(name) if name else None

    def _collection(self, name: str):
        # embedding_function=None: we always pass our own vectors, so Chroma never downloads its default model.
        return self.client.get_or_create_collection(name, embedding_function=None, metadata={"hnsw:space": "cosine"})

    def page_hashes(self) -> dict[str, str]:
        collection = self.active_collection()
        if collection is None:
            return {}
        return {m["url"]: m.get("page_hash", "") for _, m in read_all(collection)}

    def count(self) -> int:
        collection = self.active_collection()
        return collection.count() if collection is not None else 0

    def all_chunks(self) -> list[Chunk]:
        collection = self.active_collection()
        if collection is None:
            return []
        return [chunk_from_record(i, m) for i, m in read_all(collection)]

    def sentence_collection(self):
        """The sentence vectors beside the active guide version; None for an index built before they existed."""
        name = f"{SENTENCES_PREFIX}{self.active_name()}"
        return self._collection(name) if self.active_name() and name in self._collection_names() else None

    def sentence_vectors(self) -> tuple[np.ndarray, dict[str, tuple[int, int]]] | None:
        """The active version's sentence vectors (float16, grouped by chunk, each chunk's in its own order)
        and each chunk's rows; None for an index built before sentence vectors existed.

        Read from a file in the data dir, memory-mapped: only the rows a search touches are loaded, and
        Chroma never loads the sentence collection (hundreds of MB on a large guide) in a serving process.
        The file is written from Chroma by the ingest, or by the first reader that finds it missing.
        """
        collection = self.sentence_collection()
        if collection is None:
            return None
        vectors_file, spans_file = self._sentence_files(collection.name)
        if not (vectors_file.exists() and spans_file.exists()):
            self._write_sentence_files(collection, vectors_file, spans_file)
        spans = {chunk_id: (int(begin), int(end)) for chunk_id, (begin, end) in json.loads(spans_file.read_text()).items()}
        return np.load(vectors_file, mmap_mode="r" if spans else None), spans  # an empty file cannot be mapped

    def _sentence_files(self, collection_name: str) -> tuple[Path, Path]:
        folder = self.settings.data_dir / "sentence-vectors"
        return folder / f"{collection_name}.npy", folder / f"{collection_name}.spans.json"

    def _write_sentence_files(self, collection, vectors_file: Path, spans_file: Path) -> None:
        # Ids are "<chunk id>:<n>": they say whose and which sentence each is, no metadata needed.
        ids, vectors = read_vectors(collection, dtype=np.float16)
        keys = [i.rsplit(":", 1) for i in ids]
        order = sorted(range(len(keys)), key=lambda row: (keys[row][0], int(keys[row][1])))
        spans: dict[str, list[int]] = {}
        for row, original in enumerate(order):
            spans.setdefault(keys[original][0], [row, row])[1] = row + 1
        vectors_file.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and moved in whole: a reader never sees half a file.
        partial = vectors_file.with_name(f"{vectors_file.stem}.{uuid.uuid4().hex[:6]}.partial.npy")
        np.save(partial, vectors[order] if len(order) else np.zeros((0, 0), dtype=np.float16))
        os.replace(partial, vectors_file)
        partial = spans_file.with_name(f"{spans_file.name}.{uuid.uuid4().hex[:6]}.partial")
        partial.write_text(json.dumps(spans))
        os.replace(partial, spans_file)

    def _drop_sentence_files(self, keep: str | None) -> None:
        """Files of versions that are no longer active (and half-written ones)."""
        folder = self.settings.data_dir / "sentence-vectors"
        if not folder.exists():
            return
        for path in folder.iterdir():
            if keep is None or not path.name.startswith(f"{keep}.") or ".partial" in path.name:
                path.unlink(missing_ok=True)

    # -- ingest -----------------------------------------------------------------------------
    def ingest(
        self,
        pages: list[Page],
        *,
        rebuild: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> IngestReport:
        started = time.perf_counter()
        if outdated := self.outdated():
            log.info("%s: rebuilding it", outdated)
            rebuild = True
        old = {} if rebuild else self.page_hashes()
        new = {page.url: page for page in pages}
        report = IngestReport(fetched=len(pages))
        chunked = {url: chunk_page(p, self.settings) for url, p in new.items() if old.get(url) != p.content_hash}
        for url in [url for url, chunks in chunked.items() if not chunks]:
            # Only headings, template tags or control characters: nothing to search, so not indexed.
            report.warnings.append(f"{url}: skipped, the page has no text to index")
            del chunked[url], new[url]
        changed = [new[url] for url in chunked]
        report.added = sum(1 for p in changed if p.url not in old)
        report.updated = len(changed) - report.added
        report.removed = len(set(old) - set(new))
        report.unchanged = len(new) - len(changed)
        self._align_notes()
        if not report.changed and self.active_name() and not rebuild:
            self.sentence_vectors()  # an index from before the files existed gets them here
            report.chunks = self.count()
            report.seconds = time.perf_counter() - started
            return report

        self._drop_orphans()
        target = self._collection(f"{GUIDE_PREFIX}{time.strftime('%Y%m%d%H%M%S')}_{uuid.uuid4().hex[:6]}")
        unchanged_urls = [url for url in new if url in old and url not in {p.url for p in changed}]
        sentences = self._collection(f"{SENTENCES_PREFIX}{target.name}")
        self._copy_pages(self.active_collection(), target, unchanged_urls)
        self._copy_pages(self.sentence_collection(), sentences, unchanged_urls)
        self._add_chunks(target, sentences, [c for chunks in chunked.values() for c in chunks], progress)
        self._activate(target.name)
        self.sentence_vectors()  # the file the serving processes map, written while we still have the data at hand
        report.chunks = target.count()
        report.seconds = time.perf_counter() - started
        return report

    def _copy_pages(self, source, target, urls: list[str]) -> None:
        """Unchanged pages keep their vectors: copied, not re-embedded."""
        if source is None or not urls:
            return
        for start in range(0, len(urls), 100):
            got = source.get(where={"url": {"$in": urls[start:start + 100]}}, include=["embeddings", "documents", "metadatas"])
            for i in range(0, len(got["ids"]), BATCH):
                target.add(
                    ids=got["ids"][i:i + BATCH],
                    embeddings=got["embeddings"][i:i + BATCH],
                    documents=got["documents"][i:i + BATCH],
                    metadatas=got["metadatas"][i:i + BATCH],
                )

    def _add_chunks(self, collection, sentences, chunks: list[Chunk], progress=None) -> None:
        for start in range(0, len(chunks), BATCH):
            batch = chunks[start:start + BATCH]
            texts = [c.embed_text for c in batch]
            collection.add(
                ids=[c.id for c in batch],
                embeddings=self.embeddings.embed_documents(texts),
                documents=texts,
                metadatas=[chunk_metadata(c) for c in batch],
            )
            records = [(f"{c.id}:{n}", s, {"chunk_id": c.id, "url": c.url}) for c in batch
                       for n, s in enumerate(passage_sentences(c.text))]
            for at in range(0, len(records), BATCH):
                part = records[at:at + BATCH]
                sentences.add(
                    ids=[i for i, _, _ in part],
                    embeddings=self.embeddings.embed_documents([s for _, s, _ in part]),
                    documents=[s for _, s, _ in part],
                    metadatas=[m for _, _, m in part],
                )
            if progress:
                progress(min(start + BATCH, len(chunks)), len(chunks))

    def _activate(self, name: str) -> None:
        previous = self.active_name()
        self._meta.upsert(
            ids=[ACTIVE_KEY], documents=[name], embeddings=[[0.0]],
            metadatas=[{"text_version": TEXT_VERSION, "embedding_model": self.settings.embedding_model}],
        )
        if previous and previous != name:
            self.client.delete_collection(previous)
            if f"{SENTENCES_PREFIX}{previous}" in self._collection_names():
                self.client.delete_collection(f"{SENTENCES_PREFIX}{previous}")
        self._drop_sentence_files(f"{SENTENCES_PREFIX}{name}")

    def _drop_orphans(self) -> None:
        """Collections left by an ingest that was killed before it could switch over."""
        active = self.active_name()
        self._drop_sentence_files(f"{SENTENCES_PREFIX}{active}" if active else None)
        for name in self._collection_names():
            if name.startswith(GUIDE_PREFIX) and name != active:
                log.info("removing unfinished index version %s", name)
                self.client.delete_collection(name)
            elif name.startswith(SENTENCES_PREFIX) and name != f"{SENTENCES_PREFIX}{active}":
                self.client.delete_collection(name)

    def _collection_names(self) -> Iterable[str]:
        return [c if isinstance(c, str) else c.name for c in self.client.list_collections()]

    # -- users' notes -----------------------------------------------------------------------
    def notes_collection(self):
        return self._collection(NOTES_COLLECTION)

    def _finish_notes_swap(self) -> None:
        """Once per process, not per search: notes re-embedded in full by a run stopped before they took the old
        collection's name are the notes now."""
        names = set(self._collection_names())
        if NOTES_NEXT in names and NOTES_COLLECTION not in names:
            self._collection(NOTES_NEXT).modify(name=NOTES_COLLECTION)

    def add_note_chunks(self, owner: str, note_id: str, chunks: list[Chunk]) -> int:
        for chunk in chunks:
            chunk.source_kind, chunk.owner = "note", owner
        collection = self.notes_collection()
        records = [(f"{owner}:{note_id}:{c.id}", c) for c in chunks]
        for start in range(0, len(records), BATCH):
            batch = records[start:start + BATCH]
            collection.upsert(
                ids=[i for i, _ in batch],
                embeddings=self.embeddings.embed_documents([c.embed_text for _, c in batch]),
                documents=[c.embed_text for _, c in batch],
                metadatas=[{**chunk_metadata(c), "note_id": note_id, "embedding_model": self.settings.embedding_model} for _, c in batch],
            )
        return len(records)

    def _align_notes(self) -> None:
        """Notes embedded by another model than the configured one are embedded again, text unchanged.

        A collection keeps the dimension of its first vectors, so the notes go into a new collection that
        replaces the old one only once it is full: a run stopped half-way loses no note.
        """
        collection = self.notes_collection()
        configured = self.settings.embedding_model
        records = list(read_all(collection))
        if all(m.get("embedding_model", HUB_EMBEDDING_MODEL) == configured for _, m in records):
            return
        if NOTES_NEXT in self._collection_names():
            self.client.delete_collection(NOTES_NEXT)
        fresh = self._collection(NOTES_NEXT)
        for start in range(0, len(records), BATCH):
            batch = records[start:start + BATCH]
            texts = [chunk_from_record(i, m).embed_text for i, m in batch]
            fresh.add(
                ids=[i for i, _ in batch],
                embeddings=self.embeddings.embed_documents(texts),
                documents=texts,
                metadatas=[{**m, "embedding_model": configured} for _, m in batch],
            )
        self.client.delete_collection(NOTES_COLLECTION)
        fresh.modify(name=NOTES_COLLECTION)
        log.info("embedded %d passages of users' notes again with %s", len(records), configured)

    def delete_note(self, owner: str, note_id: str) -> None:
        self.notes_collection().delete(where={"$and": [{"owner": owner}, {"note_id": note_id}]})
