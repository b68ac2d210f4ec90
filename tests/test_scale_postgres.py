"""Chat history on a real PostgreSQL server (DATABASE_URL) through the same data layer as SQLite.

The SQLite tests of test_datalayer.py run here again unchanged, with `layer` on PostgreSQL (a fresh
database per test), plus what only a real server can show: many users writing at once.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

import app_env  # noqa: F401  (must precede chainlit)
from chainlit.context import ChainlitContext, context_var
from chainlit.session import HTTPSession
from chainlit.types import Feedback, Pagination, ThreadFilter
from services import postgres_server  # noqa: F401  (session fixture)
from test_datalayer import (  # noqa: F401  (collected again, here against PostgreSQL)
    start_thread,
    test_citation_panel_is_persisted_as_a_file_only_its_owner_can_read,
    test_feedback_is_kept_against_the_step,
    test_one_user_never_lists_or_opens_another_users_thread,
    test_schema_creation_is_idempotent,
    test_thread_with_tags_and_step_with_modes_are_stored_and_read_back_decoded,
)

from assistant.datalayer import build_data_layer, ensure_schema


@pytest.fixture
async def database_url(postgres_server):  # noqa: F811
    name = f"chat_{uuid.uuid4().hex[:12]}"
    url = await postgres_server.create_database(name)
    yield url
    await postgres_server.drop_database(name)


@pytest.fixture
async def layer(settings, database_url):
    settings.data_dir.mkdir(parents=True)
    # The plain spelling people paste; the data layer must pick the async driver itself.
    layer = build_data_layer(settings, environ={"DATABASE_URL": database_url.replace("postgresql+asyncpg://", "postgres://")})
    await ensure_schema(layer.engine)
    context_var.set(ChainlitContext(HTTPSession(id=str(uuid.uuid4()), client_type="webapp")))
    yield layer
    await layer.close()


async def test_the_layer_really_talks_to_postgres(layer):
    assert layer.engine.dialect.name == "postgresql" and layer.engine.dialect.driver == "asyncpg"
    [row] = await layer.execute_sql("SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'steps'", {})
    assert row["n"] == 1


async def test_twenty_users_writing_at_once_each_see_only_their_own_threads(layer):
    names = [f"user{n:02d}" for n in range(20)]
    started = await asyncio.gather(*(start_thread(layer, name, f"Question from {name}") for name in names))
    for name, (user_id, thread_id) in zip(names, started):
        listed = await layer.list_threads(Pagination(first=50), ThreadFilter(userId=user_id))
        assert [t["id"] for t in listed.data] == [thread_id]
        assert listed.data[0]["name"] == f"Question from {name}"


async def test_feedback_can_be_changed_and_read_back(layer):
    _, thread_id = await start_thread(layer, "amina", "A question")
    step_id = (await layer.get_thread(thread_id))["steps"][0]["id"]
    feedback_id = await layer.upsert_feedback(Feedback(forId=step_id, threadId=thread_id, value=1))
    await layer.upsert_feedback(Feedback(id=feedback_id, forId=step_id, threadId=thread_id, value=0, comment="too long"))
    step = (await layer.get_thread(thread_id))["steps"][0]
    assert step["feedback"]["value"] == 0 and step["feedback"]["comment"] == "too long"


async def test_deleting_a_thread_removes_its_steps(layer):
    _, thread_id = await start_thread(layer, "amina", "A question to forget")
    await layer.delete_thread(thread_id)
    assert await layer.get_thread(thread_id) is None
    rows = await layer.execute_sql('SELECT count(*) AS n FROM steps WHERE "threadId" = :t', {"t": thread_id})
    assert rows == [{"n": 0}]
