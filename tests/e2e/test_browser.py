"""The chat as a facilitator uses it, in headless Chromium: `inspired ingest` of four small pages,
`inspired serve` on a free port (first start: admin password from the console), then log in, ask,
open a citation, upload notes, get a briefing, come back to an old thread. Screenshots for the
README land in evals/reports/screenshots/."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
GUIDE = Path(__file__).parent / "guide"
INSPIRED = Path(sys.executable).with_name("inspired")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = REPO / "evals" / "reports" / "screenshots"
ANSWER_TIMEOUT_MS = 180_000  # the first answer may wait for the models to load

FREEDONIA_NOTE = """# Freedonia: notes from the March visit

The Freedonian planning ministry wants a stakeholder map before any dialogue session starts.
The budget committee of the Freedonian parliament meets on Tuesdays and likes short written briefs.
"""


@dataclass
class Server:
    base: str
    password: str
    env: dict[str, str]
    log: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def serving(data: Path, guide: Path) -> Iterator[Server]:
    """`inspired ingest` of ``guide``, then `inspired serve` on a free port, stopped on the way out."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("INSPIRED_", "CHAINLIT_")) and key != "DATABASE_URL"}
    env.update(INSPIRED_DATA_DIR=str(data), INSPIRED_SOURCE=str(guide), INSPIRED_LLM="")
    subprocess.run([str(INSPIRED), "ingest"], env=env, cwd=REPO, check=True, timeout=600, capture_output=True)

    base = f"http://127.0.0.1:{free_port()}"
    log_path = data / "serve.log"
    with open(log_path, "w") as log:
        # serve becomes the Chainlit process, so this PID is the server's.
        process = subprocess.Popen(
            [str(INSPIRED), "serve", "--port", base.rsplit(":", 1)[1]],
            env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        wait_for(lambda: healthy(base) or process.poll() is not None, 120, "the server to start")
        assert process.poll() is None, log_path.read_text()
        banner = re.search(r"password\s+(\S+)\s+It is shown only this once", log_path.read_text())
        assert banner, log_path.read_text()
        yield Server(base=base, password=banner.group(1), env=env, log=log_path)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("e2e-data"), GUIDE) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(800)  # let the side panel finish sliding in
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


@contextmanager
def evidence_on_failure(page, server: Server):
    """A failing browser step leaves a screenshot and the server's log behind."""
    try:
        yield
    except Exception:
        shot = server.log.with_name("failure.png")
        page.screenshot(path=str(shot))
        print(f"screenshot: {shot}\nserver log (end):\n{server.log.read_text()[-4000:]}")
        raise


def socket_events(page) -> list[str]:
    """Names of the Socket.IO events the server sends this page, as they arrive."""
    names: list[str] = []

    def watch(socket) -> None:
        def received(payload) -> None:
            if isinstance(payload, str) and (found := re.match(r'42(?:/[^,]*,)?\["([^"]+)"', payload)):
                names.append(found.group(1))

        socket.on("framereceived", received)

    page.on("websocket", watch)
    return names


def wait_for_event(page, events: list[str], name: str, seen_before: int) -> None:
    """Until the server has sent ``name`` once more; Playwright delivers frames only while the page is waited on."""
    deadline = time.monotonic() + ANSWER_TIMEOUT_MS / 1000
    while events.count(name) <= seen_before:
        assert time.monotonic() < deadline, f"the server never sent {name}"
        page.wait_for_timeout(200)


def last_message(page):
    return page.locator("[id^='step-'] .prose").last


def send(page, text: str) -> None:
    """Type and press Enter: clicking could hit the stop button that replaces "send" while a task runs."""
    page.fill("#chat-input", text)
    page.press("#chat-input", "Enter")


def answer_finished(page):
    """Feedback buttons appear once the whole run is over, when the page stops re-arranging steps."""
    return page.locator(".positive-feedback-off").last


def test_a_facilitators_session(server, browser, tmp_path):
    from playwright.sync_api import expect

    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.set_default_timeout(30_000)
    events = socket_events(page)

    with evidence_on_failure(page, server):
        # Never open without a login: the first start printed the admin password once.
        page.goto(server.base)
        page.wait_for_selector("#email")
        expect(page.get_by_text("Log in to INSPIRED Assistant")).to_be_visible()
        shoot(page, "01-login")
        page.fill("#email", "admin")
        page.fill("#password", server.password)
        page.click("button[type=submit]")
        page.wait_for_selector("#chat-input")
        expect(page.get_by_text("Getting everyone to the table")).to_be_visible()
        page.click("#chat-profiles")
        expect(page.get_by_role("option", name=re.compile("Which tool"))).to_be_visible()
        shoot(page, "02-modes-and-starters")
        page.get_by_role("option", name=re.compile("Ask the guide")).click()  # keep the mode, close the list

        # A starter in the default mode: a streamed, cited answer with a search step and a sources list.
        page.get_by_text("Getting everyone to the table").click()
        expect(page.get_by_text("Sources", exact=True)).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        expect(answer_finished(page)).to_be_visible()
        # The sources panel waits for a click (Chainlit 2.11+ would open it with every source at once).
        page.wait_for_timeout(1000)
        expect(page.locator("#side-view-title")).to_have_count(0)
        page.get_by_text("Searching the guide").click()  # the step lists what the search found
        expect(page.get_by_role("table").first).to_contain_text("Bringing civil society in")
        page.locator("a.element-link", has_text="[1]").first.click()
        expect(page.locator("#side-view-title")).to_have_text("[1]")
        expect(page.locator("#side-view-content")).to_contain_text("Open this page in the live guide")
        shoot(page, "03-answer-with-citation")

        # Country notes: upload through the paper clip's file input, say which country, then ask.
        note = tmp_path / "freedonia-notes.md"
        note.write_text(FREEDONIA_NOTE)
        page.set_input_files("#upload-button-input", str(note))
        expect(page.locator("#chat-submit")).to_be_enabled()
        send(page, "Notes on Freedonia")
        expect(page.get_by_text("to your notes about Freedonia")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        send(page, "What does the Freedonian planning ministry want before any dialogue session?")
        expect(last_message(page)).to_contain_text("your notes", timeout=ANSWER_TIMEOUT_MS)
        last_message(page).locator("a.element-link", has_text="[1]").first.click()
        expect(page.locator("#side-view-content")).to_contain_text("From your notes")
        shoot(page, "04-your-notes-cited")

        # Another mode: a briefing from a starter, with Word and Markdown downloads.
        page.click("#chat-profiles")
        page.get_by_role("option", name=re.compile("Mission briefing")).click()
        page.get_by_role("button", name="Confirm").click()  # a new mode starts a new chat
        page.get_by_text("Restarting a stalled dialogue").click()
        expect(page.get_by_text("briefing-mozambique.docx")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        expect(page.get_by_text("briefing-mozambique.md")).to_be_visible()
        page.get_by_text("briefing-mozambique.md").scroll_into_view_if_needed()
        shoot(page, "05-briefing-with-downloads")

        # Back to the first thread: history, citations (served from the element store) and a follow-up.
        resumed_before = events.count("resume_thread")
        page.locator("#thread-history li", has_text="How do I get civil society").click()
        expect(page.get_by_text("Sources", exact=True).first).to_be_visible()
        page.locator("a.element-link", has_text="[1]").first.click()
        expect(page.locator("#side-view-content")).to_contain_text("Open this page in the live guide")
        # The page shows the old thread from HTTP at once; a message typed before the socket has resumed it would
        # start a new thread, as it would for a person typing that fast on a busy server.
        wait_for_event(page, events, "resume_thread", resumed_before)
        send(page, "And who should chair the sessions?")
        expect(last_message(page)).to_contain_text("Sources", timeout=ANSWER_TIMEOUT_MS)
        shoot(page, "06-resumed-thread")


def test_another_user_sees_none_of_it(server, browser):
    subprocess.run(
        [str(INSPIRED), "users", "add", "bruno", "--password", "bruno's passphrase"],
        env=server.env, cwd=REPO, check=True, timeout=60, capture_output=True,
    )
    admin, bruno = browser.new_context(), browser.new_context()
    assert admin.request.post(f"{server.base}/login", form={"username": "admin", "password": server.password}).ok
    assert bruno.request.post(f"{server.base}/login", form={"username": "bruno", "password": "bruno's passphrase"}).ok
    wrong = browser.new_context().request.post(f"{server.base}/login", form={"username": "bruno", "password": "guess"})
    assert wrong.status == 401

    listing = {"pagination": {"first": 20}, "filter": {}}
    admin_threads = admin.request.post(f"{server.base}/project/threads", data=listing).json()["data"]
    assert admin_threads, "the first test leaves threads behind"
    assert bruno.request.post(f"{server.base}/project/threads", data=listing).json()["data"] == []
    assert bruno.request.get(f"{server.base}/project/thread/{admin_threads[0]['id']}").status == 401
