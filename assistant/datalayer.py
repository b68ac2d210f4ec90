"""Chat history for Chainlit's community SQLAlchemy data layer: SQLite by default, PostgreSQL via DATABASE_URL.

Chainlit ships the data layer but not its schema, and on SQLite it silently loses any write that
carries a list or dict (thread tags, step modes). This module adds both, plus a storage client
that keeps elements (citation panels, downloads) as files under the data dir so resumed threads
still show them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from chainlit.context import ChainlitContextException, context
from chainlit.data.sql_alchemy import SQLAlchemyDataLayer
from chainlit.data.storage_clients.base import BaseStorageClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from .settings import Settings

FILES_ROUTE = "/inspired/files"

# Every key the data layer puts in an INSERT must be a column. Types are portable between
# SQLite and PostgreSQL; JSON values are stored as text on both so one encoding path serves both.
SCHEMA = [
    """CREATE TABLE IF NOT EXISTS users (
        "id" TEXT PRIMARY KEY,
        "identifier" TEXT NOT NULL UNIQUE,
        "metadata" TEXT NOT NULL DEFAULT '{}',
        "createdAt" TEXT)""",
    """CREATE TABLE IF NOT EXISTS threads (
        "id" TEXT PRIMARY KEY,
        "createdAt" TEXT,
        "name" TEXT,
        "userId" TEXT,
        "userIdentifier" TEXT,
        "tags" TEXT,
        "metadata" TEXT,
        FOREIGN KEY ("userId") REFERENCES users("id") ON DELETE CASCADE)""",
    """CREATE TABLE IF NOT EXISTS steps (
        "id" TEXT PRIMARY KEY,
        "name" TEXT NOT NULL,
        "type" TEXT NOT NULL,
        "threadId" TEXT NOT NULL,
        "parentId" TEXT,
        "streaming" BOOLEAN NOT NULL DEFAULT FALSE,
        "waitForAnswer" BOOLEAN,
        "isError" BOOLEAN,
        "metadata" TEXT,
        "tags" TEXT,
        "input" TEXT,
        "output" TEXT,
        "createdAt" TEXT,
        "command" TEXT,
        "modes" TEXT,
        "start" TEXT,
        "end" TEXT,
        "generation" TEXT,
        "showInput" TEXT,
        "language" TEXT,
        "indent" INTEGER,
        "defaultOpen" BOOLEAN,
        "autoCollapse" BOOLEAN,
        "icon" TEXT,
        FOREIGN KEY ("threadId") REFERENCES threads("id") ON DELETE CASCADE)""",
    """CREATE TABLE IF NOT EXISTS elements (
        "id" TEXT PRIMARY KEY,
        "threadId" TEXT,
        "type" TEXT,
        "url" TEXT,
        "chainlitKey" TEXT,
        "name" TEXT NOT NULL,
        "display" TEXT,
        "objectKey" TEXT,
        "size" TEXT,
        "page" INTEGER,
        "language" TEXT,
        "forId" TEXT,
        "mime" TEXT,
        "props" TEXT,
        "autoPlay" BOOLEAN,
        "playerConfig" TEXT,
        FOREIGN KEY ("threadId") REFERENCES threads("id") ON DELETE CASCADE)""",
    """CREATE TABLE IF NOT EXISTS feedbacks (
        "id" TEXT PRIMARY KEY,
        "forId" TEXT NOT NULL,
        "threadId" TEXT NOT NULL,
        "value" INTEGER NOT NULL,
        "comment" TEXT,
        FOREIGN KEY ("threadId") REFERENCES threads("id") ON DELETE CASCADE)""",
    'CREATE INDEX IF NOT EXISTS threads_user_idx ON threads ("userId")',
    'CREATE INDEX IF NOT EXISTS steps_thread_idx ON steps ("threadId")',
    'CREATE INDEX IF NOT EXISTS elements_thread_idx ON elements ("threadId")',
]

STEP_BOOLEANS = ("streaming", "waitForAnswer", "isError")
SQLITE_BUSY_TIMEOUT_S = 30
STEP_JSON = ("metadata", "generation", "tags")


def database_url(settings: Settings, environ: dict[str, str] | None = None) -> str:
    """PostgreSQL when DATABASE_URL is set (any of the usual spellings), else SQLite in the data dir."""
    env = os.environ if environ is None else environ
    url = env.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite+aiosqlite:///{(settings.data_dir / 'chainlit.db').resolve()}"
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    return url


async def ensure_schema(engine: AsyncEngine) -> None:
    """Create the tables the data layer writes to (idempotent)."""
    async with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            # Readers no longer block the writer; the setting stays with the database file.
            await connection.execute(text("PRAGMA journal_mode=WAL"))
        for statement in SCHEMA:
            await connection.execute(text(statement))


def _decode_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _encode_json(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else value


class InspiredDataLayer(SQLAlchemyDataLayer):
    """Chainlit's SQLAlchemy data layer with JSON-encoded list/dict parameters and decoded reads."""

    async def execute_sql(self, query: str, parameters: dict):
        encoded = {key: _encode_json(value) for key, value in parameters.items()}
        return await super().execute_sql(query, encoded)

    async def _get_user_id_by_thread(self, thread_id: str) -> str | None:
        """The thread's owner, or the current session's user while Chainlit has not yet recorded one.

        A first message's citation panels can be stored before the thread gets its user (the two
        happen in concurrent tasks); without the fallback their files would belong to no one.
        """
        return await super()._get_user_id_by_thread(thread_id) or session_user_id()

    async def get_all_user_threads(self, user_id: str | None = None, thread_id: str | None = None):
        threads = await super().get_all_user_threads(user_id=user_id, thread_id=thread_id)
        for thread in threads or []:
            thread["tags"] = _decode_json(thread.get("tags"))
            thread["metadata"] = _decode_json(thread.get("metadata")) or {}
            for step in thread.get("steps", []):
                for key in STEP_JSON:
                    step[key] = _decode_json(step.get(key))
                for key in STEP_BOOLEANS:
                    if step.get(key) is not None:
                        step[key] = bool(step[key])
            for element in thread.get("elements", []):
                element["props"] = _decode_json(element.get("props")) or {}
        return threads


def session_user_id() -> str | None:
    try:
        return getattr(context.session.user, "id", None)
    except ChainlitContextException:
        return None


class LocalStorageClient(BaseStorageClient):
    """Element files under one folder, served back by the app at ``FILES_ROUTE`` to their owner only.

    Object keys are ``<user id>/<element id>/<file name>`` (chosen by the data layer), so the first
    part says whose file it is.
    """

    def __init__(self, root: Path):
        self.root = root.resolve()

    def path_for(self, object_key: str) -> Path:
        parts = PurePosixPath(object_key).parts
        if not parts or any(part in ("", ".", "..") for part in parts) or object_key.startswith("/"):
            raise ValueError(f"Unsafe object key: {object_key!r}")
        path = (self.root / Path(*parts)).resolve()
        if self.root not in path.parents:
            raise ValueError(f"Unsafe object key: {object_key!r}")
        return path

    def owned_path(self, object_key: str, user_id: str) -> Path | None:
        """The file for ``object_key`` if it exists and belongs to ``user_id``."""
        try:
            path = self.path_for(object_key)
        except ValueError:
            return None
        if PurePosixPath(object_key).parts[0] != user_id or not path.is_file():
            return None
        return path

    @staticmethod
    def url_for(object_key: str) -> str:
        return f"{FILES_ROUTE}/{quote(object_key)}"

    async def upload_file(
        self,
        object_key: str,
        data: bytes | str,
        mime: str = "application/octet-stream",
        overwrite: bool = True,
        content_disposition: str | None = None,
    ) -> dict[str, Any]:
        path = self.path_for(object_key)
        if path.exists() and not overwrite:
            return {"object_key": object_key, "url": self.url_for(object_key)}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return {"object_key": object_key, "url": self.url_for(object_key)}

    async def delete_file(self, object_key: str) -> bool:
        try:
            self.path_for(object_key).unlink(missing_ok=True)
        except ValueError:
            return False
        return True

    async def get_read_url(self, object_key: str) -> str:
        return self.url_for(object_key)

    async def close(self) -> None:
        return None


def elements_dir(settings: Settings) -> Path:
    return settings.data_dir / "elements"


def build_data_layer(settings: Settings, environ: dict[str, str] | None = None) -> InspiredDataLayer:
    url = database_url(settings, environ)
    # Many sessions write at once: SQLite waits for the lock instead of failing the write.
    connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_S} if url.startswith("sqlite") else None
    return InspiredDataLayer(
        conninfo=url, connect_args=connect_args, storage_provider=LocalStorageClient(elements_dir(settings)),
    )
