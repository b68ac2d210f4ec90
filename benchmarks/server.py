"""The chat server under load: `inspired serve` on a loopback port, driven through the UI's socket.io
protocol. Time to first token, 20 concurrent sessions (errors, latency, cross-talk) and the
server's peak memory, on the guide and on the 10,000-page synthetic index."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from assistant.settings import Settings

from .chat_client import ChatFailure, ChatSession, Reply, login
from .common import LOOPBACK, REPO, free_port, milliseconds, peak_rss_mb, questions
from .workspace import Workspace, ensure_guide_index, ensure_synthetic_index, release_chroma

INSPIRED = Path(sys.executable).with_name("inspired")
START_TIMEOUT_S = 180
SESSIONS = 20
QUESTIONS_PER_SESSION = 5
TTFT_QUESTIONS = 10
CONCURRENT_TIMEOUT_S = 900
SESSION_TAG = "(session "
HISTORY_SETTLE_S = 5  # Chainlit writes history in background tasks


@dataclass
class ChatServer:
    base: str
    pid: int
    log: Path
    password: str


def server_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INSPIRED_", "CHAINLIT_")) and k != "DATABASE_URL"}
    env.update(
        INSPIRED_DATA_DIR=str(settings.data_dir),
        INSPIRED_SOURCE=settings.source,
        INSPIRED_LLM="",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    return env


def add_users(settings: Settings, names: list[str], password: str) -> None:
    """Through `inspired users add`, one at a time (each rewrites the users file)."""
    for name in names:
        subprocess.run(
            [str(INSPIRED), "users", "add", name, "--password", password],
            env=server_env(settings), cwd=REPO, check=True, capture_output=True, timeout=120,
        )


def healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until_healthy(base: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ChatFailure(f"`inspired serve` exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        if healthy(base):
            return
        time.sleep(0.5)
    raise ChatFailure(f"`inspired serve` did not answer within {START_TIMEOUT_S} s")


def stop(process: subprocess.Popen) -> None:
    """serve becomes the Chainlit process, so this PID is the server's own."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


@contextmanager
def running_server(settings: Settings, users: list[str]) -> Iterator[ChatServer]:
    password = secrets.token_urlsafe(12)
    add_users(settings, users, password)
    release_chroma()  # the server opens the same embedded store
    port = free_port()
    log = settings.data_dir / "serve.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [str(INSPIRED), "serve", "--host", LOOPBACK, "--port", str(port)],
            env=server_env(settings), cwd=REPO, stdout=output, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
    try:
        base = f"http://{LOOPBACK}:{port}"
        wait_until_healthy(base, process, log)
        yield ChatServer(base=base, pid=process.pid, log=log, password=password)
    finally:
        stop(process)


def log_lines(log: Path, *needles: str) -> int:
    return sum(1 for line in log.read_text(errors="replace").splitlines() if any(n in line for n in needles))


def persisted_messages(settings: Settings) -> int:
    """Messages of the concurrent sessions (questions and replies) found in the SQLite chat history."""
    database = sqlite3.connect(f"file:{settings.data_dir / 'chainlit.db'}?mode=ro", uri=True, timeout=30)
    try:
        row = database.execute(
            """SELECT
                 (SELECT count(*) FROM steps WHERE type = 'user_message' AND output LIKE ?),
                 (SELECT count(*) FROM steps WHERE type = 'assistant_message' AND metadata LIKE ?)""",
            (f"%{SESSION_TAG}%", f"%{SESSION_TAG}%"),
        ).fetchone()
    finally:
        database.close()
    return row[0] + row[1]


# -- measurements ---------------------------------------------------------------------------------


async def open_session(server: ChatServer, user: str) -> ChatSession:
    token = await asyncio.to_thread(login, server.base, user, server.password)
    session = ChatSession(server.base, token)
    await session.connect()
    return session


async def first_tokens(server: ChatServer, user: str, asked: list[str]) -> tuple[float, list[Reply]]:
    """(seconds to the first answer after start, then one reply per question, asked in turn)."""
    session = await open_session(server, user)
    try:
        started = time.perf_counter()
        await session.ask("How does a dialogue get started?")  # waits for the models and the index to load
        cold_s = time.perf_counter() - started
        return cold_s, [await session.ask(question) for question in asked]
    finally:
        await session.close()


def ttft_figures(replies: list[Reply], prefix: str) -> dict:
    streamed = [r.first_token_s for r in replies if r.first_token_s is not None]
    latency = milliseconds(streamed)
    return {f"{prefix}_ms": latency["p50"], f"{prefix}_p95_ms": latency["p95"], f"{prefix}_unstreamed": len(replies) - len(streamed)}


async def one_session(server: ChatServer, user: str, asked: list[str]) -> tuple[list[Reply], list[str]]:
    """Replies, and every question this session's final replies named (for the cross-talk check)."""
    session = await open_session(server, user)
    try:
        replies = []
        for question in asked:
            try:
                replies.append(await session.ask(question))
            except ChatFailure as failure:
                replies.append(Reply(question, None, 0.0, None, "", error=str(failure)))
        return replies, session.answered
    finally:
        await session.close()


def unique_questions(sessions: int, per_session: int) -> list[list[str]]:
    """Distinct eval questions, each tagged with its session and turn so every reply can be traced."""
    pool = questions()
    return [
        [f"{pool[(s * per_session + t) % len(pool)]} {SESSION_TAG}{s:02d}, turn {t})" for t in range(per_session)]
        for s in range(sessions)
    ]


def cross_talk(asked: list[str], answered: list[str]) -> bool:
    return any(question not in asked for question in answered)


async def concurrent_sessions(server: ChatServer, users: list[str]) -> dict:
    plan = unique_questions(len(users), QUESTIONS_PER_SESSION)
    outcomes = await asyncio.wait_for(
        asyncio.gather(*(one_session(server, user, asked) for user, asked in zip(users, plan)), return_exceptions=True),
        CONCURRENT_TIMEOUT_S,
    )
    errors, latencies, talked = 0, [], 0
    for asked, outcome in zip(plan, outcomes):
        if isinstance(outcome, BaseException):  # the session never got going: all its questions failed
            errors += len(asked)
            continue
        replies, answered = outcome
        errors += sum(1 for r in replies if r.error or r.answered_question != r.question)
        latencies += [r.total_s for r in replies if not r.error]
        talked += cross_talk(asked, answered)
    latency = milliseconds(latencies)
    return {
        "concurrent_sessions": len(users),
        "concurrent_questions": len(users) * QUESTIONS_PER_SESSION,
        "concurrent_errors": errors,
        "concurrent_p50_ms": latency["p50"],
        "concurrent_p95_ms": latency["p95"],
        "cross_talk": talked,
    }


def on_guide(workspace: Workspace) -> dict:
    settings = ensure_guide_index(workspace)
    users = [f"bench{n:02d}" for n in range(SESSIONS)] + ["benchttft"]
    with running_server(settings, users) as server:
        cold_s, replies = asyncio.run(first_tokens(server, "benchttft", questions(TTFT_QUESTIONS)))
        figures = {"first_answer_after_start_s": round(cold_s, 2), **ttft_figures(replies, "ttft")}
        figures.update(asyncio.run(concurrent_sessions(server, users[:SESSIONS])))
        time.sleep(HISTORY_SETTLE_S)
        figures["history_lost_messages"] = 2 * figures["concurrent_questions"] - persisted_messages(settings)
        figures["history_write_failures"] = log_lines(server.log, "An error occurred")
        figures["server_log_errors"] = log_lines(server.log, " - ERROR - ", "Traceback")
        figures["rss_guide_mb"] = peak_rss_mb(server.pid)
    return figures


def on_synthetic(workspace: Workspace) -> dict:
    settings = ensure_synthetic_index(workspace)
    with running_server(settings, ["benchbig"]) as server:
        cold_s, replies = asyncio.run(first_tokens(server, "benchbig", questions(TTFT_QUESTIONS)))
        return {
            "first_answer_after_start_10k_s": round(cold_s, 2),
            **ttft_figures(replies, "ttft_10k"),
            "rss_mb": peak_rss_mb(server.pid),
        }


def run(workspace: Workspace) -> dict:
    return {**on_guide(workspace), **on_synthetic(workspace)}
