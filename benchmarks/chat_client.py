"""A chat client speaking the Chainlit UI's own protocol: password login over HTTP, then socket.io.

It does what the browser does for the "Ask the guide" mode: connect with the login cookie, start
the chat, send a message, read the streamed tokens and the final reply.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

import httpx
import socketio

SOCKET_PATH = "/ws/socket.io"
ASK_PROFILE = "Ask the guide"
ANSWER_TIMEOUT_S = 180  # the first answer after a start waits for the models and the index


class ChatFailure(Exception):
    """The server refused, timed out or answered with an error."""


@dataclass
class Reply:
    question: str
    first_token_s: float | None
    total_s: float
    answered_question: str | None  # the question the server says this reply answers
    text: str
    error: str | None = None


def login(base: str, username: str, password: str) -> str:
    """The JWT of a password login (what the browser keeps in its access_token cookie)."""
    response = httpx.post(f"{base}/login", data={"username": username, "password": password}, timeout=60)
    if response.status_code != 200 or "access_token" not in response.cookies:
        raise ChatFailure(f"login of {username} failed: HTTP {response.status_code} {response.text[:200]}")
    return response.cookies["access_token"]


def user_message(text: str) -> dict:
    return {
        "message": {
            "id": str(uuid.uuid4()),
            "threadId": "",
            "name": "User",
            "type": "user_message",
            "output": text,
            "createdAt": datetime.now(timezone.utc).isoformat(),
        },
        "fileReferences": None,
    }


def is_final_reply(event: str, data) -> bool:
    if event != "new_message" or not isinstance(data, dict) or data.get("type") != "assistant_message":
        return False
    return bool((data.get("metadata") or {}).get("question")) or data.get("isError") or str(data.get("output", "")).startswith("⚠️")


@dataclass
class ChatSession:
    base: str
    token: str
    client: socketio.AsyncClient = field(default_factory=lambda: socketio.AsyncClient(reconnection=False))
    events: asyncio.Queue = field(default_factory=asyncio.Queue)
    answered: list[str] = field(default_factory=list)  # every question a final reply named

    async def connect(self) -> None:
        @self.client.on("*")
        async def keep(event, data=None):
            self.events.put_nowait((time.perf_counter(), event, data))

        await self.client.connect(
            self.base,
            socketio_path=SOCKET_PATH,
            transports=["websocket"],
            headers={"Cookie": f"access_token={self.token}"},
            auth={
                "sessionId": str(uuid.uuid4()),
                "clientType": "webapp",
                "chatProfile": ASK_PROFILE,
                "threadId": None,
                "userEnv": json.dumps({}),
            },
            wait_timeout=30,
        )
        await self.client.emit("connection_successful")

    async def next_event(self, deadline: float):
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise ChatFailure("no reply in time")
        try:
            return await asyncio.wait_for(self.events.get(), remaining)
        except asyncio.TimeoutError:
            raise ChatFailure("no reply in time") from None

    async def ask(self, question: str, timeout_s: float = ANSWER_TIMEOUT_S) -> Reply:
        started = time.perf_counter()
        deadline = started + timeout_s
        first_token = None
        await self.client.emit("client_message", user_message(question))
        while True:
            at, event, data = await self.next_event(deadline)
            # The first piece of a reply comes in `stream_start`, the following ones in `stream_token`.
            if event in ("stream_start", "stream_token") and first_token is None:
                first_token = at - started
            if is_final_reply(event, data):
                break
        answered = (data.get("metadata") or {}).get("question")
        if answered:
            self.answered.append(answered)
        error = None if answered else str(data.get("output", ""))[:200]
        await self.wait_for_task_end(deadline)
        return Reply(question, first_token, at - started, answered, str(data.get("output", "")), error)

    async def wait_for_task_end(self, deadline: float) -> None:
        """The server's end of this message's task, so the next question starts from a quiet session."""
        while (await self.next_event(deadline))[1] != "task_end":
            pass

    async def close(self) -> None:
        await self.client.disconnect()
