"""Script in the guide never runs in the chat: a page whose title and text carry HTML payloads is
retrieved, quoted and cited in headless Chromium, and none of the payloads executes."""

from __future__ import annotations

import shutil

import pytest
from test_browser import ANSWER_TIMEOUT_MS, CHROMIUM, CHROMIUM_ARGS, GUIDE, answer_finished, last_message, serving

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# The title is shown as written; in the body, "<<b>img" survives the composer's tag stripping as "<img".
HOSTILE_PAGE = """---
title: "Agenda rules <img src=x onerror=window.__xss=1>"
breadcrumb: ["Guide"]
---
# Agenda rules <img src=x onerror=window.__xss=1>

A dialogue host in Freedonia sends the agenda to every invited group a full week before the session.
The agenda lists each item with the name of the group that asked for it <img src=x onerror=window.__xss=1> and its time.
Late items go to the next session unless every group agrees <<b>img src=x onerror=window.__xss=2> to take them.

<script>window.__xss = 3</script>
<svg onload="window.__xss=4"></svg>
"""


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    data = tmp_path_factory.mktemp("xss-data")
    guide = data / "guide"
    shutil.copytree(GUIDE, guide)
    (guide / "guide" / "agenda-rules.md").write_text(HOSTILE_PAGE, encoding="utf-8")
    with serving(data, guide) as server:
        yield server


def test_html_in_a_cited_page_is_shown_as_text_and_never_runs(hostile_server):
    from playwright.sync_api import expect, sync_playwright

    base, password = hostile_server.base, hostile_server.password
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        page.set_default_timeout(30_000)
        page.goto(base)
        page.fill("#email", "admin")
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.wait_for_selector("#chat-input")

        page.fill("#chat-input", "When does the dialogue host in Freedonia send the agenda to the invited groups?")
        expect(page.locator("#chat-submit")).to_be_enabled()  # Enter before the session is connected is lost
        page.press("#chat-input", "Enter")
        expect(page.get_by_text("Sources", exact=True)).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        expect(answer_finished(page)).to_be_visible()
        expect(last_message(page)).to_contain_text("onerror")  # the payload arrived, as visible text
        page.locator("a.element-link", has_text="[1]").first.click()
        expect(page.locator("#side-view-content")).to_contain_text("Agenda rules")
        page.get_by_text("Searching the guide").click()  # the step's table lists the page title too
        expect(page.get_by_role("table").first).to_contain_text("onerror")
        page.wait_for_timeout(1000)  # an <img onerror> fires as soon as the broken image fails to load

        assert page.evaluate("typeof window.__xss") == "undefined"
        assert page.locator("#side-view-content img, [id^='step-'] .prose img").count() == 0
        browser.close()
