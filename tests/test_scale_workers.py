"""Two `inspired serve` workers sharing one Chroma server and one PostgreSQL database, as behind a
load balancer: sessions on both answer at once without cross-talk, and a conversation held on one
worker is listed and opened on the other."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from services import chroma_server, free_port, postgres_server, stop_process, wait_until  # noqa: F401

from benchmarks.chat_client import ChatSession, login
from benchmarks.server import healthy

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
GUIDE = Path(__file__).parent / "fixtures" / "guide"
INSPIRED = Path(sys.executable).with_name("inspired")
PASSWORD = "workers-share-everything"
USERS = ["amara", "bruno"]
QUESTIONS = [
    "How should a dialogue host prepare the first session?",
    "Which stakeholders belong in a policy dialogue?",
]


def shared_env(data_dir: Path, chroma, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INSPIRED_", "CHAINLIT_")) and k != "DATABASE_URL"}
    env.update(
        INSPIRED_DATA_DIR=str(data_dir),
        INSPIRED_SOURCE=str(GUIDE),
        INSPIRED_LLM="",
        INSPIRED_CHROMA_MODE="server",
        INSPIRED_CHROMA_HOST=chroma.host,
        INSPIRED_CHROMA_PORT=str(chroma.port),
        DATABASE_URL=database_url,
        HF_HUB_OFFLINE="1",
    )
    return env


def inspired(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(INSPIRED), *args], env=env, cwd=REPO, check=True, capture_output=True, timeout=600)


@contextmanager
def worker(env: dict[str, str], log: Path) -> Iterator[str]:
    base = f"http://127.0.0.1:{free_port()}"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [str(INSPIRED), "serve", "--host", "127.0.0.1", "--port", base.rsplit(":", 1)[1]],
            env=env, cwd=REPO, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    try:
        wait_until(lambda: healthy(base), f"the worker logging to {log.name}", process, timeout_s=180)
        yield base
    finally:
        stop_process(process)


@pytest.fixture(scope="module")
def workers(tmp_path_factory, chroma_server, postgres_server):  # noqa: F811
    chroma_server.wipe()
    database = f"workers_{uuid.uuid4().hex[:8]}"
    url = asyncio.run(postgres_server.create_database(database))
    data_dir = tmp_path_factory.mktemp("workers")
    env = shared_env(data_dir, chroma_server, url)
    inspired(env, "ingest")
    for name in USERS:
        inspired(env, "users", "add", name, "--password", PASSWORD)
    try:
        with ExitStack() as stack:
            bases = [stack.enter_context(worker(env, data_dir / f"worker-{n}.log")) for n in (1, 2)]
            yield bases
            # History went to PostgreSQL: no worker fell back to a SQLite file of its own.
            assert not list(data_dir.glob("*.db")), sorted(p.name for p in data_dir.iterdir())
    finally:
        asyncio.run(postgres_server.drop_database(database))


async def converse(base: str, user: str, questions: list[str]) -> list:
    session = ChatSession(base, await asyncio.to_thread(login, base, user, PASSWORD))
    await session.connect()
    try:
        return [await session.ask(question) for question in questions]
    finally:
        await session.close()


def threads_of(base: str, user: str) -> list[dict]:
    cookies = {"access_token": login(base, user, PASSWORD)}
    listing = httpx.post(
        f"{base}/project/threads", cookies=cookies, timeout=30,
        json={"pagination": {"first": 50, "cursor": None}, "filter": {"search": None, "feedback": None}},
    )
    listing.raise_for_status()
    return [
        httpx.get(f"{base}/project/thread/{thread['id']}", cookies=cookies, timeout=30).raise_for_status().json()
        for thread in listing.json()["data"]
    ]


def outputs(thread: dict) -> str:
    return "\n".join(str(step.get("output") or "") for step in thread.get("steps") or [])


def test_sessions_on_both_workers_answer_at_once_each_their_own_questions(workers):
    tagged = {
        (base, user): [f"{question} (asked by {user} on worker {n})" for question in QUESTIONS]
        for n, base in enumerate(workers, 1)
        for user in USERS
    }

    async def everyone():
        return await asyncio.gather(*(converse(base, user, asked) for (base, user), asked in tagged.items()))

    for asked, replies in zip(tagged.values(), asyncio.run(everyone())):
        assert [reply.error for reply in replies] == [None] * len(asked)
        assert [reply.answered_question for reply in replies] == asked  # no reply meant for another session
        assert all("[1]" in reply.text for reply in replies)  # answered from the shared index, cited


def test_a_conversation_held_on_one_worker_is_opened_on_the_other(workers):
    first, second = workers
    marker = f"a question only worker one heard {uuid.uuid4().hex[:6]}"
    asyncio.run(converse(first, "amara", [f"How do I invite stakeholders to a dialogue? ({marker})"]))

    def seen_on_second():
        return [thread for thread in threads_of(second, "amara") if marker in outputs(thread)]

    # Chainlit writes history in background tasks: give them a moment.
    wait_until(lambda: bool(seen_on_second()), "worker two to list worker one's thread", timeout_s=30)
    assert "[1]" in outputs(seen_on_second()[0])  # the reply was stored with the question, not just the question
    assert not any(marker in outputs(thread) for thread in threads_of(second, "bruno"))
