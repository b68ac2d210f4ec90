"""The Chainlit app: Chainlit's features wired to handlers.py, auth.py and datalayer.py, and no more.

Run it with `inspired serve`, which prepares Chainlit's working folder, the first user and the
login secret. Chainlit loads this file by path, hence the absolute imports.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path
from typing import Any

import chainlit as cl
from chainlit.auth import get_current_user
from chainlit.config import FILES_DIRECTORY
from chainlit.data import get_data_layer
from chainlit.input_widget import InputWidget, Select, Switch
from chainlit.server import app as server_app
from chainlit.session import WebsocketSession
from fastapi import Depends, HTTPException
from fastapi.responses import FileResponse

from assistant import handlers as h
from assistant.auth import AuthError, UserStore
from assistant.compose import AUDIENCES, ComposeError, audience_named_in
from assistant.datalayer import FILES_ROUTE, LocalStorageClient, build_data_layer, elements_dir, ensure_schema
from assistant.export import briefing_to_docx, briefing_to_markdown, points_to_docx, points_to_markdown
from assistant.index import IndexUnavailable
from assistant.models import Answer, Citation
from assistant.safety import inert_markdown, valid_unicode
from assistant.settings import get_settings
from assistant.sources import SourceError

log = logging.getLogger(__name__)
settings = get_settings()
users = UserStore.from_settings(settings)
limiter = h.RateLimiter(settings.requests_per_minute)
element_files = LocalStorageClient(elements_dir(settings))

ASK_TIMEOUT_S = 600
RESTORE_WAIT_S = 15
RESTORE_POLL_S = 0.05
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
USER_ERRORS = (ComposeError, SourceError, IndexUnavailable, h.FlowCancelled, h.UploadProblem)


# -- storage, login, element files --------------------------------------------------------------


@cl.data_layer
def data_layer():
    return build_data_layer(settings)


@cl.on_app_startup
async def startup() -> None:
    await ensure_schema(get_data_layer().engine)
    asyncio.get_running_loop().run_in_executor(None, h.warm_up)


@cl.password_auth_callback
async def login(username: str, password: str) -> cl.User | None:
    try:
        record = await asyncio.to_thread(users.verify, username, password)  # bcrypt is deliberately slow
    except AuthError as exc:
        log.error("login refused: %s", exc)
        return None
    if record is None:
        return None
    return cl.User(identifier=username, metadata={"role": record.role, "provider": "credentials"})


async def element_file(object_key: str, user=Depends(get_current_user)) -> FileResponse:
    """Persisted elements (citation panels, downloads) for resumed threads; owners only."""
    path = element_files.owned_path(object_key, getattr(user, "id", ""))
    if path is None:
        raise HTTPException(status_code=404, detail="File not found")
    return FileResponse(path)


def add_first_route(path: str, endpoint) -> None:
    """Chainlit's last route answers every GET with the UI page, so ours goes first."""
    server_app.add_api_route(path, endpoint, methods=["GET"])
    routes = server_app.router.routes
    routes.insert(0, routes.pop())


add_first_route(FILES_ROUTE + "/{object_key:path}", element_file)


# -- modes, starters, settings ------------------------------------------------------------------


@cl.set_chat_profiles
async def chat_profiles(user: cl.User | None = None, language: str | None = None) -> list[cl.ChatProfile]:
    return [
        cl.ChatProfile(
            name=mode.name,
            markdown_description=mode.description,
            icon=mode.icon,
            default=index == 0,
            starters=[cl.Starter(label=s.label, message=s.message, icon=mode.icon) for s in mode.starters],
        )
        for index, mode in enumerate(h.MODES)
    ]


def settings_widgets(preferences: h.ChatPreferences) -> list[InputWidget]:
    widgets: list[InputWidget] = [
        Select(id="length", label="Answer length", items=h.LENGTHS, initial_value=preferences.length),
        Select(
            id="language", label="Answer language", items=h.LANGUAGES, initial_value=preferences.language or "auto"
        ),
    ]
    if settings.llm:
        widgets.insert(
            1,
            Switch(
                id="use_llm", label="Write answers with the language model", initial=preferences.use_llm,
                description="Off: answers quote the guide's passages directly (extractive mode).",
            ),
        )
    return widgets


def current_preferences() -> h.ChatPreferences:
    return h.preferences_from_values(cl.user_session.get("chat_settings"))


def current_owner() -> str | None:
    user = cl.user_session.get("user")
    return user.identifier if user else None


# Sessions whose start or resume has run. Chainlit lets a message in while an old thread is still
# being restored; that restore then redraws the chat over the streaming answer, and the message
# would miss the thread's history. Not kept in user_session: Chainlit persists it into the thread.
settled_sessions: set[str] = set()


@cl.on_chat_start
async def start() -> None:
    cl.user_session.set("history", [])
    await cl.ChatSettings(settings_widgets(current_preferences())).send()
    settled_sessions.add(cl.context.session.id)


@cl.on_chat_resume
async def resume(thread: dict[str, Any]) -> None:
    cl.user_session.set("history", h.history_from_thread(thread))
    await cl.ChatSettings(settings_widgets(current_preferences())).send()
    settled_sessions.add(cl.context.session.id)


@cl.on_chat_end
async def end() -> None:
    settled_sessions.discard(cl.context.session.id)


async def wait_for_restore() -> None:
    """Hold a message sent while its thread is still being restored until the restore is shown."""
    session = cl.context.session
    if not isinstance(session, WebsocketSession) or not session.thread_id_to_resume or session.id in settled_sessions:
        return
    deadline = asyncio.get_running_loop().time() + RESTORE_WAIT_S
    while session.id not in settled_sessions and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(RESTORE_POLL_S)
    await asyncio.sleep(RESTORE_POLL_S)  # Chainlit sends the restored thread right after resume() returns


# -- messages -----------------------------------------------------------------------------------


@cl.on_message
async def on_message(message: cl.Message) -> None:
    text = valid_unicode(message.content).strip()  # a JSON "\ud800" escape arrives as a lone surrogate
    owner = current_owner()
    await wait_for_restore()
    try:
        uploads = [element for element in message.elements if element.path]
        if uploads:
            await add_notes(uploads, text, owner)
            if "?" not in text:  # text sent with a file describes the file unless it asks something
                return
        if not text:
            return
        if problem := h.request_problem(text, settings) or rate_problem(owner):
            await warn(problem)
            return
        services = await asyncio.to_thread(h.get_services)
        mode = h.mode_for(cl.user_session.get("chat_profile"), text)
        await MODE_HANDLERS[mode](services, text, owner)
    except USER_ERRORS as exc:
        await warn(exc)


async def warn(problem: str | Exception) -> None:
    """One line in the chat; a message may quote a file name or the user's own text."""
    await cl.Message(content=f"⚠️ {inert_markdown(str(problem))}").send()


def rate_problem(owner: str | None) -> str | None:
    if limiter.allow(owner or "anonymous"):
        return None
    return f"That is more than {settings.requests_per_minute} requests in a minute; please wait a moment."


def citation_elements(citations: list[Citation]) -> list[cl.Text]:
    return [cl.Text(name=p.name, content=p.content, display="side") for p in h.citation_panels(citations)]


async def answer_question(services: h.Services, question: str, owner: str | None) -> None:
    history = cl.user_session.get("history") or []
    arguments = h.ask_arguments(current_preferences(), owner, services.llm_configured)
    stream = services.composer.astream_ask(question, history, **arguments)
    reply = cl.Message(content="")
    # Under the reply's parent (Chainlit's hidden run for this message), so the search shows above the answer.
    step = cl.Step(name="Searching the guide", type="retrieval", show_input=False, parent_id=reply.parent_id)
    await step.send()
    item = await anext(stream)  # the composer retrieves before it yields anything
    while not isinstance(item, Answer):
        await reply.stream_token(inert_markdown(item))
        item = await anext(stream)
    answer = item
    # The answer carries its own retrieval: nothing shared between sessions.
    step.output = h.retrieval_summary(answer.retrieved, owner)
    await step.update()
    # Said above the answer, as a search engine shows what it searched for: the user sees how their typos were read.
    read_as = h.read_as_note(question, answer.question)
    reply.content = (f"*{inert_markdown(read_as)}*\n\n" if read_as else "") + h.answer_markdown(answer)
    reply.elements = citation_elements(answer.citations)
    reply.metadata = {"question": question, "answer": answer.markdown}
    await reply.send()
    cl.user_session.set("history", h.remember(history, question, answer.markdown))


async def ask_text(prompt: str) -> str | None:
    reply = await cl.AskUserMessage(content=prompt, timeout=ASK_TIMEOUT_S).send()
    return valid_unicode(reply["output"]) if reply else None


async def drafted(composer, method: str, *args, **kwargs):
    """Run a (blocking) composer call off the event loop, showing what it retrieved."""
    async with cl.Step(name="Searching the guide", type="retrieval", show_input=False) as step:
        result = await asyncio.to_thread(getattr(composer, method), *args, **kwargs)
        step.output = h.retrieval_summary(result.retrieved, current_owner())
    return result


def downloads(stem: str, draft, to_docx, to_markdown) -> list[cl.File]:
    # Chainlit keeps sent files under FILES_DIRECTORY, made at import and removed when a server stops: another
    # server stopping on the same data folder would otherwise make this reply fail and be lost.
    FILES_DIRECTORY.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="inspired-export-") as folder:
        docx_path = Path(folder) / f"{stem}.docx"
        to_docx(draft, docx_path)
        docx_bytes = docx_path.read_bytes()
    return [
        cl.File(name=f"{stem}.docx", content=docx_bytes, mime=DOCX_MIME, display="inline"),
        cl.File(name=f"{stem}.md", content=to_markdown(draft).encode("utf-8"), mime="text/markdown", display="inline"),
    ]


async def write_briefing(services: h.Services, text: str, owner: str | None) -> None:
    # Read with its typos put right, so "Moldava" is not asked about as an unknown country.
    spelled = services.composer.retriever.corrected_query(text)
    request = await h.complete_briefing_request(h.parse_briefing_request(spelled), ask_text)
    briefing = await drafted(services.composer, "brief", request, owner=owner)
    files = downloads(h.download_stem("briefing", request.country), briefing, briefing_to_docx, briefing_to_markdown)
    content = inert_markdown(briefing_to_markdown(briefing)) + "\n**Download:** Word or Markdown, below."
    await cl.Message(content=content, elements=citation_elements(h.briefing_citations(briefing)) + files).send()


async def choose_audience() -> str:
    actions = [cl.Action(name="audience", payload={"key": key}, label=label) for key, label in AUDIENCES.items()]
    choice = await cl.AskActionMessage(content="Who will you be talking to?", actions=actions, timeout=ASK_TIMEOUT_S).send()
    if not choice:
        raise h.FlowCancelled("No audience was chosen, so I stopped here. Send your request again whenever you are ready.")
    return choice["payload"]["key"]


async def draft_points(services: h.Services, text: str, owner: str | None) -> None:
    audience = audience_named_in(services.composer.retriever.corrected_query(text)) or await choose_audience()
    topic = h.topic_from_text(text)
    points = await drafted(services.composer, "points", audience, topic, owner=owner)
    files = downloads(h.download_stem("talking-points", AUDIENCES[audience]), points, points_to_docx, points_to_markdown)
    content = inert_markdown(points_to_markdown(points)) + "\n**Download:** Word or Markdown, below."
    await cl.Message(content=content, elements=citation_elements(h.points_citations(points)) + files).send()


async def advise_tools(services: h.Services, text: str, owner: str | None) -> None:
    advice = await drafted(services.composer, "tools", text)
    await cl.Message(content=h.tools_markdown(advice), elements=citation_elements(h.tools_citations(advice))).send()


MODE_HANDLERS = {h.ASK: answer_question, h.BRIEFING: write_briefing, h.POINTS: draft_points, h.TOOLS: advise_tools}


async def add_notes(uploads: list, text: str, owner: str | None) -> None:
    """Keep uploaded files as the user's country notes; one clear message per file."""
    accepted = []
    for upload in uploads:
        try:
            h.check_note_upload(upload.name, Path(upload.path).stat().st_size, settings.max_upload_mb)
            accepted.append(upload)
        except h.UploadProblem as problem:
            await warn(problem)
    if not accepted:
        return
    country = h.country_from_text(text)
    if country is None:
        country = h.country_from_reply(await ask_text(h.country_question(accepted[0].name)), accepted[0].name)
    services = await asyncio.to_thread(h.get_services)
    for upload in accepted:
        try:
            await asyncio.to_thread(services.notes.add, owner, Path(upload.path), country=country, original_name=upload.name)
        except SourceError as problem:
            await warn(problem)
            continue
        where = f" about {country}" if country else ""
        added = f"📎 Added “{upload.name}” to your notes{where}. Only you can see it; answers cite it as *your notes*."
        await cl.Message(content=inert_markdown(added)).send()
