"""Country notes: each user's own documents, kept in their own folder and searchable only by them."""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, TypeAdapter

from .chunking import chunk_page
from .models import Chunk
from .safety import valid_unicode
from .settings import Settings
from .sources import SourceError, read_note_file
from .sources.common import slugify

METADATA_FILE = "notes.json"
MAX_NAME_CHARS = 80


class NoteError(SourceError):
    """A notes problem the user can fix; str(e) is the message to show."""


class NoteIndex(Protocol):
    def add_note_chunks(self, owner: str, note_id: str, chunks: list[Chunk]) -> int: ...

    def delete_note(self, owner: str, note_id: str) -> None: ...


class NoteRecord(BaseModel):
    id: str
    owner: str
    original_name: str
    stored_name: str
    title: str
    country: str | None = None
    size_bytes: int
    sha256: str
    chunks: int
    added_at: datetime


_RECORDS = TypeAdapter(list[NoteRecord])


def safe_filename(name: str) -> str:
    """A bare, harmless file name: folders ("../../x.md", "C:\\x.md") and odd characters removed."""
    base = Path(name.replace("\\", "/")).name
    stem, suffix = os.path.splitext(base)
    stem = slugify(stem)[:MAX_NAME_CHARS] or "note"
    suffix = "." + slugify(suffix) if slugify(suffix) else ""
    return f"{stem}{suffix}"


def owner_folder_name(owner: str) -> str:
    """Readable and collision-free: "ana.silva@x.org" → "ana-silva-x-org-1a2b3c4d"."""
    digest = hashlib.sha256(owner.encode()).hexdigest()[:8]
    return f"{slugify(owner)[:40] or 'user'}-{digest}"


class NoteStore:
    """Files under ``settings.uploads_dir/<owner>/``, metadata in a JSON file beside them, chunks in the index."""

    def __init__(self, settings: Settings, index: NoteIndex):
        self.settings = settings
        self.index = index
        self._lock = threading.Lock()

    @property
    def max_bytes(self) -> int:
        return int(self.settings.max_upload_mb * 1024 * 1024)

    def folder(self, owner: str) -> Path:
        if not owner or not owner.strip():
            raise NoteError("Notes need an owner (a user name).")
        return self.settings.uploads_dir / owner_folder_name(owner.strip())

    def add(self, owner: str, path: Path, *, country: str | None = None, original_name: str | None = None) -> NoteRecord:
        folder = self.folder(owner)
        path = Path(path)
        display_name = Path(valid_unicode(original_name or path.name).replace("\\", "/")).name or "note"
        if not path.is_file():
            raise NoteError(f"{display_name} was not found.")
        size = path.stat().st_size
        if size > self.max_bytes:
            raise NoteError(f"{display_name} is {size / 1048576:.1f} MB; notes can be at most {self.settings.max_upload_mb:g} MB.")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        with self._lock:
            records = self._load(folder)
            same = next((r for r in records if r.sha256 == digest), None)
            if same is not None:
                return same  # the same file again: nothing new to index
            record = self._store_and_index(owner, folder, path, display_name, country, size, digest)
            self._save(folder, [*records, record])
        return record

    def _store_and_index(
        self, owner: str, folder: Path, path: Path, display_name: str, country: str | None, size: int, digest: str
    ) -> NoteRecord:
        note_id = uuid.uuid4().hex[:12]
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{note_id}-{safe_filename(display_name)}"
        if target.resolve().parent != folder.resolve():  # safe_filename already prevents this; belt and braces
            raise NoteError(f"{display_name} has a name that cannot be stored.")
        shutil.copyfile(path, target)
        try:
            page = read_note_file(target, max_bytes=self.max_bytes, name=display_name)
            country = valid_unicode(country or "").strip() or None
            chunks = [c.model_copy(update={"source_kind": "note", "owner": owner, "country": country}) for c in chunk_page(page, self.settings)]
            if not chunks:
                raise NoteError(
                    f"{display_name} has no text to search (only headings, template tags or control characters); it was not added."
                )
            self.index.add_note_chunks(owner, note_id, chunks)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return NoteRecord(
            id=note_id, owner=owner, original_name=display_name, stored_name=target.name, title=page.title, country=country,
            size_bytes=size, sha256=digest, chunks=len(chunks), added_at=datetime.now(timezone.utc),
        )

    def list(self, owner: str) -> list[NoteRecord]:
        return sorted(self._load(self.folder(owner)), key=lambda r: r.added_at)

    def delete(self, owner: str, note_id: str) -> None:
        folder = self.folder(owner)
        with self._lock:
            records = self._load(folder)
            record = next((r for r in records if r.id == note_id), None)
            if record is None:
                raise NoteError(f"You have no note with id {note_id!r}.")
            self.index.delete_note(owner, note_id)
            (folder / record.stored_name).unlink(missing_ok=True)
            self._save(folder, [r for r in records if r.id != note_id])

    def _load(self, folder: Path) -> list[NoteRecord]:
        path = folder / METADATA_FILE
        if not path.exists():
            return []
        return _RECORDS.validate_json(path.read_bytes())

    def _save(self, folder: Path, records: list[NoteRecord]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{METADATA_FILE}.tmp"
        temporary.write_bytes(_RECORDS.dump_json(records, indent=2))
        temporary.replace(folder / METADATA_FILE)  # atomic: a crash never leaves half a file
