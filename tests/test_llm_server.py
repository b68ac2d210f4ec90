"""The real langchain-openai client, built by build_chat_model, against a fake OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fakes import FAKE_ABSTAIN_THRESHOLD, FakeRetriever, offline_settings

from assistant.compose import Composer, build_chat_model
from assistant.compose.citations import cited_numbers
from assistant.compose.llm import UNREACHABLE_NOTICE
from assistant.models import Answer

REPLY = "Prominent visitors cut both ways, so plan each visit with care [1]. Visitors must know the local situation [1]. A made-up claim [8]."
RISKS = "What are the risks of a high-level mission?"


class FakeOpenAI(BaseHTTPRequestHandler):
    """Plays a script of behaviours, one per request: ok, 429, 500, slow, malformed."""

    script: list[str] = []
    seen: list[dict] = []

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append(body)
        behaviour = type(self).script.pop(0) if type(self).script else "ok"
        if behaviour == "429":
            self._send(429, {"error": {"message": "slow down"}}, {"retry-after-ms": "10"})
        elif behaviour == "500":
            self._send(500, {"error": {"message": "boom"}}, {"retry-after-ms": "10"})
        elif behaviour == "slow":
            time.sleep(1.5)
            self._send(200, completion(REPLY))
        elif behaviour == "malformed":
            self._raw(200, b'{"id": "x", "choices": [', "application/json")
        elif body.get("stream"):
            self._stream(REPLY)
        else:
            self._send(200, completion(REPLY))

    def _send(self, status, payload, headers=None):
        self._raw(status, json.dumps(payload).encode(), "application/json", headers)

    def _raw(self, status, data: bytes, content_type: str, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (the timeout test), as intended

    def _stream(self, text: str):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for word in text.split(" "):
            chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "fake",
                     "choices": [{"index": 0, "delta": {"role": "assistant", "content": word + " "}, "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


def completion(text: str) -> dict:
    return {
        "id": "c1", "object": "chat.completion", "created": 0, "model": "fake",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


@pytest.fixture
def server():
    FakeOpenAI.script, FakeOpenAI.seen = [], []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def composer_for(tmp_path, base_url: str, **settings) -> Composer:
    values = {"llm": "openai:fake", "llm_base_url": base_url, "llm_api_key": "x", "llm_timeout_s": 5, "llm_max_retries": 2, **settings}
    configured = offline_settings(tmp_path, **values)
    composer = Composer(configured, FakeRetriever(), chat_model=build_chat_model(configured))
    composer.abstain_threshold = FAKE_ABSTAIN_THRESHOLD
    return composer


def url(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/v1"


def assert_llm_answer(answer: Answer) -> None:
    assert answer.mode == "llm" and answer.notice is None
    assert "[8]" not in answer.markdown and answer.dropped_citations == 1
    assert set(cited_numbers(answer.markdown)) == {c.n for c in answer.citations} == {1}


async def test_streamed_answer_through_the_openai_client(server, tmp_path):
    items = [item async for item in composer_for(tmp_path, url(server)).astream_ask(RISKS)]
    assert len(items) > 5 and "".join(items[:-1]).strip() == REPLY
    assert_llm_answer(items[-1])
    request = FakeOpenAI.seen[0]
    assert request["stream"] is True and request["model"] == "fake"
    assert [m["role"] for m in request["messages"]] == ["system", "user"]


def test_plain_answer_through_the_openai_client(server, tmp_path):
    assert_llm_answer(composer_for(tmp_path, url(server)).ask(RISKS))


def test_429_is_retried_then_succeeds(server, tmp_path):
    FakeOpenAI.script = ["429"]
    assert_llm_answer(composer_for(tmp_path, url(server)).ask(RISKS))
    assert len(FakeOpenAI.seen) == 2


def test_persistent_500_falls_back_after_the_retries(server, tmp_path):
    FakeOpenAI.script = ["500", "500"]
    answer = composer_for(tmp_path, url(server), llm_max_retries=1).ask(RISKS)
    assert answer.mode == "extractive" and answer.notice == UNREACHABLE_NOTICE and answer.citations
    assert len(FakeOpenAI.seen) == 2


def test_timeout_falls_back_quickly(server, tmp_path):
    FakeOpenAI.script = ["slow"]
    started = time.monotonic()
    answer = composer_for(tmp_path, url(server), llm_timeout_s=0.3, llm_max_retries=0).ask(RISKS)
    assert time.monotonic() - started < 1.4
    assert answer.notice == UNREACHABLE_NOTICE and answer.mode == "extractive"


def test_malformed_json_falls_back(server, tmp_path):
    FakeOpenAI.script = ["malformed"]
    answer = composer_for(tmp_path, url(server), llm_max_retries=0).ask(RISKS)
    assert answer.mode == "extractive" and answer.notice is not None and answer.citations


async def test_refused_connection_falls_back_while_streaming(tmp_path):
    with ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI) as closed:
        port = closed.server_address[1]  # bound then closed: nothing listens there any more
    items = [item async for item in composer_for(tmp_path, f"http://127.0.0.1:{port}/v1", llm_max_retries=0).astream_ask(RISKS)]
    assert items[-1].notice == UNREACHABLE_NOTICE and items[-1].citations
