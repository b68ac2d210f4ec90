"""Chat history on SQLite through Chainlit's own data layer: schema, lost-write gotchas, per-user isolation.
(test_scale_postgres.py runs these tests again on a real PostgreSQL server.)"""

from __future__ import annotations

import uuid

import pytest

import app_env  # noqa: F401  (must precede chainlit)
import chainlit.data.acl as acl
from chainlit.context import ChainlitContext, context_var
from chainlit.element import Text
from chainlit.session import HTTPSession
from chainlit.types import Feedback, Pagination, ThreadFilter
from chainlit.user import User
from fastapi import HTTPException

from assistant.datalayer import LocalStorageClient, build_data_layer, database_url, ensure_schema
from assistant.settings import Settings


@pytest.fixture
def settings(tmp_path):
    return Settings(_env_file=None, data_dir=tmp_path / "data")


@pytest.fixture
async def layer(settings):
    settings.data_dir.mkdir(parents=True)
    layer = build_data_layer(settings, environ={})
    await ensure_schema(layer.engine)
    # The data layer's writes need a Chainlit context; an HTTP session writes at once (no queueing).
    context_var.set(ChainlitContext(HTTPSession(id=str(uuid.uuid4()), client_type="webapp")))
    yield layer
    await layer.close()


async def start_thread(layer, identifier: str, first_words: str, tags=None) -> tuple[str, str]:
    """A thread as Chainlit writes it: the user, then the thread (with tags), then a message step."""
    user = await layer.create_user(User(identifier=identifier))
    thread_id = str(uuid.uuid4())
    await layer.update_thread(thread_id, name=first_words, user_id=user.id, tags=tags)
    await layer.create_step(
        {
            "id": str(uuid.uuid4()),
            "name": identifier,
            "type": "user_message",
            "threadId": thread_id,
            "output": first_words,
            "createdAt": "2025-01-01T10:00:00Z",
            "modes": {"profile": "Ask the guide"},  # a dict: lost on SQLite without JSON encoding
            "metadata": {"question": first_words, "answer": "An answer [1]."},
            "streaming": False,
        }
    )
    return user.id, thread_id


def test_sqlite_is_the_default_and_postgres_urls_get_the_async_driver(settings):
    assert database_url(settings, {}) == f"sqlite+aiosqlite:///{(settings.data_dir / 'chainlit.db').resolve()}"
    for given in ("postgres://u:p@db/chat", "postgresql://u:p@db/chat", "postgresql+psycopg2://u:p@db/chat"):
        assert database_url(settings, {"DATABASE_URL": given}) == "postgresql+asyncpg://u:p@db/chat"


async def test_schema_creation_is_idempotent(layer):
    await ensure_schema(layer.engine)  # a second start must not fail
    assert await layer.execute_sql("SELECT count(*) AS n FROM threads", {}) == [{"n": 0}]


async def test_thread_with_tags_and_step_with_modes_are_stored_and_read_back_decoded(layer):
    _, thread_id = await start_thread(layer, "amina", "How do I open a dialogue?", tags=["Ask the guide"])
    thread = await layer.get_thread(thread_id)
    assert thread["tags"] == ["Ask the guide"]
    assert thread["userIdentifier"] == "amina"
    [step] = thread["steps"]
    assert step["output"] == "How do I open a dialogue?"
    assert step["metadata"] == {"question": "How do I open a dialogue?", "answer": "An answer [1]."}
    assert step["streaming"] is False


async def test_one_user_never_lists_or_opens_another_users_thread(layer, monkeypatch):
    amina_id, amina_thread = await start_thread(layer, "amina", "Amina's private question")
    bruno_id, bruno_thread = await start_thread(layer, "bruno", "Bruno's question")

    listed = await layer.list_threads(Pagination(first=20), ThreadFilter(userId=bruno_id))
    assert [t["id"] for t in listed.data] == [bruno_thread]
    listed = await layer.list_threads(Pagination(first=20), ThreadFilter(userId=amina_id))
    assert [t["id"] for t in listed.data] == [amina_thread]

    # Chainlit's own access check, as used by GET /project/thread/<id> and on resume.
    monkeypatch.setattr(acl, "get_data_layer", lambda: layer)
    assert await acl.is_thread_author("amina", amina_thread)
    with pytest.raises(HTTPException) as refused:
        await acl.is_thread_author("bruno", amina_thread)
    assert refused.value.status_code == 401


async def test_feedback_is_kept_against_the_step(layer):
    _, thread_id = await start_thread(layer, "amina", "A question")
    step_id = (await layer.get_thread(thread_id))["steps"][0]["id"]
    await layer.upsert_feedback(Feedback(forId=step_id, threadId=thread_id, value=1, comment="useful"))
    step = (await layer.get_thread(thread_id))["steps"][0]
    assert step["feedback"]["value"] == 1 and step["feedback"]["comment"] == "useful"


async def test_citation_panel_is_persisted_as_a_file_only_its_owner_can_read(layer, settings):
    user_id, thread_id = await start_thread(layer, "amina", "A question")
    panel = Text(name="[1]", content="> A quoted passage.", display="side", thread_id=thread_id, for_id=str(uuid.uuid4()))
    await layer.create_element(panel)

    [element] = (await layer.get_thread(thread_id))["elements"]
    assert element["name"] == "[1]" and element["display"] == "side"
    assert element["url"].startswith("/inspired/files/")
    storage = layer.storage_provider
    assert storage.owned_path(element["objectKey"], user_id).read_text() == "> A quoted passage."
    assert storage.owned_path(element["objectKey"], "someone-else") is None


async def test_a_panel_stored_before_the_thread_has_its_user_still_belongs_to_the_session_user(layer):
    user = await layer.create_user(User(identifier="amina"))
    thread_id = str(uuid.uuid4())
    await layer.update_thread(thread_id)  # Chainlit records the thread's user in a separate task
    context_var.set(ChainlitContext(HTTPSession(id=str(uuid.uuid4()), client_type="webapp", user=user)))
    await layer.create_element(Text(name="[1]", content="Quoted.", display="side", thread_id=thread_id, for_id="m"))
    [element] = (await layer.get_thread(thread_id))["elements"]
    assert element["objectKey"].startswith(f"{user.id}/")
    assert layer.storage_provider.owned_path(element["objectKey"], user.id) is not None


@pytest.mark.parametrize("key", ["../outside", "/etc/passwd", "user/../../x", ""])
def test_storage_refuses_keys_that_leave_its_folder(tmp_path, key):
    storage = LocalStorageClient(tmp_path / "elements")
    with pytest.raises(ValueError):
        storage.path_for(key)
    assert storage.owned_path(key, "user") is None
