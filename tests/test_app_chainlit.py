"""The Chainlit handlers themselves, called directly with a recording emitter and the real composer
over the in-memory test retriever (extractive, no language model, no browser)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

import app_env  # noqa: F401  (must precede chainlit)
import chainlit as cl
import chainlit.data as cl_data
from chainlit.config import config as cl_config
from chainlit.context import ChainlitContext, context_var
from chainlit.emitter import BaseChainlitEmitter
from chainlit.session import HTTPSession, WebsocketSession
from chainlit.user import PersistedUser
from fakes import FakeRetriever
from fastapi import HTTPException

from assistant import app
from assistant import handlers as h
from assistant.auth import UserStore
from assistant.compose import AUDIENCES, Composer
from assistant.datalayer import build_data_layer, ensure_schema
from assistant.notes import NoteStore
from assistant.settings import Settings

FREEDONIA_NOTE = (
    "# Freedonia country notes\n\n"
    "The Freedonian planning ministry wants a stakeholder map before any dialogue session starts.\n"
    "Freedonia's parliament budget committee meets every Tuesday.\n"
)


class RecordingEmitter(BaseChainlitEmitter):
    """Keeps what the app would show, and answers its questions from a script."""

    def __init__(self, session, replies=()):
        super().__init__(session)
        self.steps: dict[str, dict] = {}
        self.order: list[str] = []
        self.elements: list[dict] = []
        self.tokens: list[str] = []
        self.asked: list[dict] = []
        self.replies = list(replies)

    def _keep(self, step_dict):
        if step_dict["id"] not in self.steps:
            self.order.append(step_dict["id"])
        self.steps[step_dict["id"]] = step_dict

    async def send_step(self, step_dict):
        self._keep(step_dict)

    async def update_step(self, step_dict):
        self._keep(step_dict)

    async def stream_start(self, step_dict):
        self._keep(step_dict)

    async def send_token(self, id, token, is_sequence=False, is_input=False):
        self.tokens.append(token)

    async def send_element(self, element_dict):
        self.elements.append(element_dict)

    async def send_ask_user(self, step_dict, spec, raise_on_timeout=False):
        self.asked.append({"question": step_dict["output"], "spec": spec.to_dict()})
        return self.replies.pop(0) if self.replies else None

    def set_chat_settings(self, settings):  # synchronous in Chainlit's real emitter
        self.session.chat_settings = settings

    def messages(self) -> list[dict]:
        return [self.steps[i] for i in self.order if self.steps[i]["type"] == "assistant_message"]

    def step_named(self, name: str) -> dict:
        return next(self.steps[i] for i in self.order if self.steps[i]["name"] == name)


class NotesIndex:
    """The note side of the index, feeding the in-memory retriever."""

    def __init__(self, retriever: FakeRetriever):
        self.retriever = retriever

    def add_note_chunks(self, owner, note_id, chunks):
        for chunk in chunks:
            self.retriever.add_note(chunk.model_copy(update={"owner": owner, "source_kind": "note"}))
        return len(chunks)

    def delete_note(self, owner, note_id):
        raise NotImplementedError


@pytest.fixture
def settings(tmp_path):
    return Settings(_env_file=None, data_dir=tmp_path / "data", requests_per_minute=100)


@pytest.fixture
def services(settings, monkeypatch):
    retriever = FakeRetriever()
    services = h.Services(settings=settings, composer=Composer(settings, retriever), notes=NoteStore(settings, NotesIndex(retriever)))
    monkeypatch.setattr(h, "get_services", lambda: services)
    monkeypatch.setattr(app, "settings", settings)
    monkeypatch.setattr(app, "limiter", h.RateLimiter(settings.requests_per_minute))
    return services


@pytest.fixture
def no_persistence(monkeypatch):
    monkeypatch.setattr(cl_data, "_data_layer", None)
    monkeypatch.setattr(cl_data, "_data_layer_initialized", True)


def open_session(profile: str | None = None, replies=(), user: str = "amina") -> RecordingEmitter:
    session = HTTPSession(
        id=str(uuid.uuid4()), client_type="webapp", thread_id=str(uuid.uuid4()), user=cl.User(identifier=user)
    )
    session.chat_profile = profile
    emitter = RecordingEmitter(session, replies)
    context_var.set(ChainlitContext(session, emitter=emitter))
    return emitter


async def say(text: str, elements=()) -> None:
    await app.on_message(cl.Message(content=text, type="user_message", elements=list(elements)))


# -- starting, settings, profiles -------------------------------------------------------------


async def test_profiles_are_the_four_modes_with_their_starters():
    profiles = await app.chat_profiles(None)
    assert [p.name for p in profiles] == h.MODE_NAMES
    assert profiles[0].default and not any(p.default for p in profiles[1:])
    assert [s.message for s in profiles[1].starters] == [s.message for s in h.MODES[1].starters]


async def test_chat_start_offers_length_and_language_but_no_model_switch_without_a_model(services, no_persistence):
    emitter = open_session()
    await app.start()
    assert emitter.session.chat_settings == {"length": "normal", "language": "auto"}
    assert cl.user_session.get("history") == []


async def test_model_switch_appears_when_a_model_is_configured(services, no_persistence, monkeypatch):
    monkeypatch.setattr(app, "settings", services.settings.model_copy(update={"llm": "ollama:tiny"}))
    assert [w.id for w in app.settings_widgets(h.ChatPreferences(use_llm=False))] == ["length", "use_llm", "language"]


# -- answering --------------------------------------------------------------------------------


async def test_question_is_answered_with_a_search_step_citations_side_panels_and_sources(services, no_persistence):
    emitter = open_session(h.ASK)
    # Through the handler Chainlit registered, which wraps ours in a run step as the server does.
    question = cl.Message(content="How do parliaments take part in the dialogue and why invite committee chairs early?", type="user_message")
    await cl_config.code.on_message(question)

    search = emitter.step_named("Searching the guide")
    assert "| 1 | Parliaments |" in search["output"]
    [reply] = emitter.messages()
    # Both under Chainlit's run for the message, in that order: the search shows above the answer.
    assert reply["parentId"] and search["parentId"] == reply["parentId"]
    assert emitter.order.index(search["id"]) < emitter.order.index(reply["id"])
    assert emitter.tokens and "".join(emitter.tokens).strip()  # streamed before the final text
    assert "[1]" in reply["output"] and "**Sources**" in reply["output"]
    assert "no language model used" in reply["output"]  # extractive mode is labelled
    panels = [e for e in emitter.elements if e["display"] == "side"]
    assert panels and panels[0]["name"] == "[1]" and all(p["forId"] == reply["id"] for p in panels)
    assert reply["metadata"]["question"].startswith("How do parliaments")
    assert cl.user_session.get("history")[0][0].startswith("How do parliaments")


async def test_a_misspelt_question_is_answered_under_the_words_it_was_read_as(services, no_persistence):
    emitter = open_session(h.ASK)
    await say("How do parliaments take part in the dialogue and why invite committee chiars early?")
    [reply] = emitter.messages()
    assert reply["output"].startswith("*Read as: “How do parliaments take part in the dialogue and why invite committee chairs early?”*")
    assert "| 1 | Parliaments |" in emitter.step_named("Searching the guide")["output"]


async def test_chat_settings_and_history_reach_the_composer(services, no_persistence, monkeypatch):
    calls = []
    real = services.composer.astream_ask

    def spy(question, history, **kwargs):
        calls.append((question, list(history), kwargs))
        return real(question, history, **kwargs)

    monkeypatch.setattr(services.composer, "astream_ask", spy)
    emitter = open_session(h.ASK)
    emitter.session.chat_settings = {"length": "long", "language": "es"}
    await say("What does the roadmap for reform list?")
    await say("And who monitors it?")
    assert calls[0][2] == {"owner": "amina", "length": "long", "language": "es", "use_llm": False}
    assert calls[1][1] == [("What does the roadmap for reform list?", emitter.messages()[0]["metadata"]["answer"])]


async def test_overlong_question_gets_a_clear_message_and_no_search(services, no_persistence):
    emitter = open_session(h.ASK)
    await say("why " * 2000)
    [reply] = emitter.messages()
    assert "keep it under" in reply["output"]
    assert not any(s["name"] == "Searching the guide" for s in emitter.steps.values())


# -- drafts -----------------------------------------------------------------------------------


async def test_briefing_asks_only_for_missing_details_and_offers_downloads(services, no_persistence):
    emitter = open_session(h.BRIEFING, replies=[{"output": "skip"}, {"output": "the planning ministry and parliament"}])
    await say("I'm going to Freedonia to get a stalled roadmap for reform moving again.")

    questions = [a["question"] for a in emitter.asked]
    assert len(questions) == 2 and "Who is travelling" in questions[0] and "Whom will you meet" in questions[1]
    briefing = emitter.messages()[-1]
    assert "Freedonia" in briefing["output"] and "planning ministry" in briefing["output"]
    files = sorted(e["name"] for e in emitter.elements if e["type"] == "file")
    assert files == ["briefing-freedonia.docx", "briefing-freedonia.md"]
    assert any(e["display"] == "side" for e in emitter.elements)


async def test_briefing_stops_politely_when_a_required_answer_never_comes(services, no_persistence):
    emitter = open_session(h.BRIEFING, replies=[])
    await say("Brief me please")
    assert "stopped here" in emitter.messages()[-1]["output"]
    assert not [e for e in emitter.elements if e["type"] == "file"]


async def test_talking_points_ask_for_the_audience_with_buttons_when_the_message_names_none(services, no_persistence):
    emitter = open_session(h.POINTS, replies=[{"name": "audience", "payload": {"key": "parliaments"}, "label": "Parliaments"}])
    await say("Help me prepare for Tuesday")

    [asked] = emitter.asked
    assert asked["spec"]["type"] == "action" and len(asked["spec"]["keys"]) == len(AUDIENCES)
    points = emitter.messages()[-1]["output"]
    assert "parliaments" in points.lower()
    assert sorted(e["name"] for e in emitter.elements if e["type"] == "file") == [
        "talking-points-parliaments.docx", "talking-points-parliaments.md",
    ]


async def test_talking_points_take_the_audience_from_the_message(services, no_persistence):
    emitter = open_session(h.POINTS)
    await say("What should I tell donors about aligning their funding with the roadmap?")
    assert not emitter.asked
    assert "donors" in emitter.messages()[-1]["output"].lower()


async def test_misspelt_drafting_requests_are_read_as_meant(services, no_persistence):
    emitter = open_session(h.POINTS)
    await say("What should I tell jornalists about the roadmap?")
    assert not emitter.asked  # "jornalists" named the media: no question about the audience
    assert "Talking points for media" in emitter.messages()[-1]["output"]
    emitter = open_session(h.BRIEFING, replies=[{"output": "skip"}])
    await say("Brief a former presdent going to Freedonia to get a stalled roadmap moving again.")
    assert ["Whom will you meet" in a["question"] for a in emitter.asked] == [True]  # the traveller was understood
    assert "Mission briefing: A former president" in emitter.messages()[-1]["output"]


async def test_talking_points_asked_for_in_question_mode_are_drafted_with_their_downloads(services, no_persistence):
    emitter = open_session(h.ASK)
    await say("Talking points for donors on lining up their funding behind the roadmap.")
    assert not emitter.asked
    assert sorted(e["name"] for e in emitter.elements if e["type"] == "file") == [
        "talking-points-donors.docx", "talking-points-donors.md",
    ]


async def test_which_tool_lists_tools_with_sources(services, no_persistence):
    emitter = open_session(h.TOOLS)
    await say("We need to understand who shapes this policy and how the stakeholders are connected.")
    advice = emitter.messages()[-1]["output"]
    assert "**Tool " in advice and "**Sources**" in advice


# -- country notes ----------------------------------------------------------------------------


def uploaded(tmp_path, name: str, text: str) -> cl.File:
    path = tmp_path / f"upload-{uuid.uuid4().hex}"
    path.write_text(text)
    return cl.File(name=name, path=str(path), mime="text/markdown", display="inline")


async def test_uploaded_note_is_stored_for_its_owner_and_cited_as_your_notes(services, no_persistence, tmp_path):
    emitter = open_session(h.ASK)
    await say("Notes on Freedonia", [uploaded(tmp_path, "freedonia.md", FREEDONIA_NOTE)])

    assert not emitter.asked  # the country came with the message
    assert "Added “freedonia.md” to your notes about Freedonia" in emitter.messages()[-1]["output"]
    [record] = services.notes.list("amina")
    assert record.country == "Freedonia" and record.original_name == "freedonia.md"

    await say("What does the Freedonian planning ministry want before any dialogue session?")
    answer = emitter.messages()[-1]["output"]
    assert "*your notes*" in answer
    note_panel = next(e for e in emitter.elements if e["display"] == "side" and e["forId"] == emitter.messages()[-1]["id"])
    assert note_panel["name"].startswith("[")


async def test_notes_of_one_user_are_never_cited_to_another(services, no_persistence, tmp_path):
    open_session(h.ASK, user="amina")
    await say("Notes on Freedonia", [uploaded(tmp_path, "freedonia.md", FREEDONIA_NOTE)])
    emitter = open_session(h.ASK, user="bruno")
    await say("What does the Freedonian planning ministry want before any dialogue session?")
    assert "your notes" not in emitter.messages()[-1]["output"]


async def test_country_is_asked_for_when_the_message_does_not_say(services, no_persistence, tmp_path):
    emitter = open_session(h.ASK, replies=[{"output": "ok"}])
    await say("", [uploaded(tmp_path, "freedonia-notes.md", FREEDONIA_NOTE)])
    assert "Freedonia" in emitter.asked[0]["question"]
    assert services.notes.list("amina")[0].country == "Freedonia"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [("tool.exe", "MZ", "can't be used as a note"), ("empty.md", "", "is empty")],
)
async def test_bad_uploads_get_a_clear_message_and_store_nothing(services, no_persistence, tmp_path, name, text, message):
    emitter = open_session(h.ASK)
    await say("Notes on Freedonia", [uploaded(tmp_path, name, text)])
    assert message in emitter.messages()[-1]["output"]
    assert services.notes.list("amina") == []


# -- login, persistence, resume, element files -----------------------------------------------


async def test_login_accepts_known_users_and_refuses_everything_else(tmp_path, monkeypatch):
    users = UserStore(tmp_path / "users.json")
    users.add("amina", "a long passphrase", role="admin")
    monkeypatch.setattr(app, "users", users)
    user = await app.login("amina", "a long passphrase")
    assert user.identifier == "amina" and user.metadata["role"] == "admin"
    assert await app.login("amina", "wrong passphrase") is None
    assert await app.login("mallory", "a long passphrase") is None


async def test_answer_is_persisted_and_a_resumed_thread_continues_with_its_history(services, settings, monkeypatch):
    settings.data_dir.mkdir(parents=True)
    layer = build_data_layer(settings, environ={})
    await ensure_schema(layer.engine)
    monkeypatch.setattr(cl_data, "_data_layer", layer)
    monkeypatch.setattr(cl_data, "_data_layer_initialized", True)

    emitter = open_session(h.ASK)
    await say("What does the roadmap for reform list?")
    await asyncio.sleep(0.2)  # the data layer writes in background tasks
    thread = await layer.get_thread(emitter.session.thread_id)
    assert any("**Sources**" in (s["output"] or "") for s in thread["steps"])
    assert "[1]" in [e["name"] for e in thread["elements"]]

    resumed = open_session(h.ASK)
    await app.resume(thread)
    assert cl.user_session.get("history") == [("What does the roadmap for reform list?", emitter.messages()[-1]["metadata"]["answer"])]
    assert resumed.session.chat_settings["length"] == "normal"
    await layer.close()


async def test_a_message_sent_while_its_thread_is_restored_waits_for_the_threads_history(services, no_persistence, monkeypatch):
    calls = []
    real = services.composer.astream_ask

    def spy(question, history, **kwargs):
        calls.append(list(history))
        return real(question, history, **kwargs)

    monkeypatch.setattr(services.composer, "astream_ask", spy)
    session = WebsocketSession(
        id=str(uuid.uuid4()), socket_id=str(uuid.uuid4()), emit=None, emit_call=None, user_env={},
        client_type="webapp", thread_id=str(uuid.uuid4()), user=cl.User(identifier="amina"),
    )
    session.chat_profile = h.ASK
    emitter = RecordingEmitter(session)
    context_var.set(ChainlitContext(session, emitter=emitter))
    earlier = {"question": "What does the roadmap for reform list?", "answer": "It lists reforms [1]."}
    thread = {"id": session.thread_id, "steps": [{"type": "assistant_message", "createdAt": "1", "metadata": earlier}]}

    message = asyncio.create_task(say("And who monitors it?"))
    await asyncio.sleep(0.3)  # Chainlit is still reading the thread from its store
    assert not calls and not emitter.messages()
    await app.resume(thread)
    await message
    assert calls == [[(earlier["question"], earlier["answer"])]]
    assert "**Sources**" in emitter.messages()[-1]["output"]
    await app.end()
    assert session.id not in app.settled_sessions
    await session.delete()


async def test_element_files_are_served_to_their_owner_only(tmp_path, monkeypatch):
    storage = app.LocalStorageClient(tmp_path / "elements")
    await storage.upload_file("owner-id/element-id/[1]", "A passage.")
    monkeypatch.setattr(app, "element_files", storage)
    owner = PersistedUser(id="owner-id", identifier="amina", createdAt="2025-01-01")
    other = PersistedUser(id="other-id", identifier="bruno", createdAt="2025-01-01")
    response = await app.element_file("owner-id/element-id/[1]", user=owner)
    assert Path(response.path).read_text() == "A passage."
    with pytest.raises(HTTPException) as refused:
        await app.element_file("owner-id/element-id/[1]", user=other)
    assert refused.value.status_code == 404


def test_element_file_route_wins_over_chainlits_catch_all_and_needs_a_login():
    from fastapi.testclient import TestClient

    response = TestClient(app.server_app).get("/inspired/files/someone/element/[1]")  # no lifespan: no server start
    assert response.status_code == 401
    assert "html" not in response.headers["content-type"]


async def test_drafts_still_arrive_when_another_server_removed_the_files_folder(services, no_persistence, tmp_path, monkeypatch):
    import chainlit.config

    gone = tmp_path / "removed-by-another-server" / ".files"  # Chainlit deletes its folder when a server stops
    monkeypatch.setattr(chainlit.config, "FILES_DIRECTORY", gone)
    monkeypatch.setattr(app, "FILES_DIRECTORY", gone, raising=False)
    emitter = open_session(h.POINTS, replies=[{"name": "audience", "payload": {"key": "parliaments"}, "label": "Parliaments"}])
    await say("Help me prepare for Tuesday")
    assert "parliaments" in emitter.messages()[-1]["output"].lower()
    assert len([e for e in emitter.elements if e["type"] == "file"]) == 2 and gone.is_dir()
