"""The live-site loader against a fake GitBook site served on 127.0.0.1 from tests/fixtures/site."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.settings import Settings
from assistant.sources import SourceError, load_pages, load_pages_with_report
from assistant.sources import gitbook

SITE = Path(__file__).parent / "fixtures" / "site"
CONTENT_TYPES = {".md": "text/markdown; charset=utf-8", ".txt": "text/plain; charset=utf-8", ".xml": "application/xml", ".html": "text/html; charset=utf-8"}


@dataclass
class SeenRequest:
    path: str
    headers: dict[str, str]
    status: int = 0  # set once answered


@dataclass
class FakeGitBook:
    """Serves tests/fixtures/site like GitBook: ``/page.md`` as Markdown, ``/page`` as HTML, with ETags and 304s."""

    url: str = ""
    requests: list[SeenRequest] = field(default_factory=list)
    slow_paths: dict[str, float] = field(default_factory=dict)  # path -> seconds to wait before answering
    failures: dict[str, int] = field(default_factory=dict)  # path -> how many 503s to answer first

    def seen(self, path: str) -> list[SeenRequest]:
        return [request for request in self.requests if request.path == path]

    def respond(self, path: str, headers: dict[str, str]) -> tuple[int, str, bytes, str | None]:
        """(status, content type, body, etag)."""
        time.sleep(self.slow_paths.get(path, 0))
        if self.failures.get(path, 0) > 0:
            self.failures[path] -= 1
            return 503, "text/plain", b"busy", None
        file = _fixture_file(path)
        if file is None:
            return 404, "text/plain", b"not found", None
        body = file.read_text(encoding="utf-8").replace("BASE", self.url).encode("utf-8")
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if headers.get("if-none-match") == etag:
            return 304, "", b"", etag
        return 200, CONTENT_TYPES[file.suffix], body, etag


def _fixture_file(path: str) -> Path | None:
    relative = path.strip("/")
    candidate = SITE / relative if Path(relative).suffix else SITE / f"{relative}.html"
    if candidate.is_file() and SITE in candidate.resolve().parents:
        return candidate
    return None


@pytest.fixture
def fake_gitbook():
    site = FakeGitBook()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            headers = {key.lower(): value for key, value in self.headers.items()}
            seen = SeenRequest(self.path, headers)
            site.requests.append(seen)
            status, content_type, body, etag = site.respond(self.path, headers)
            seen.status = status
            try:
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                if etag:
                    self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up on a slow page
                pass

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    site.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield site
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    monkeypatch.setattr(gitbook, "BACKOFF_S", 0.01)


def site_settings(tmp_path: Path, site: FakeGitBook, languages=("en",)) -> Settings:
    return Settings(
        _env_file=None,
        source=site.url,
        data_dir=tmp_path / "data",
        languages=list(languages),
        fetch_timeout_s=0.3,
        fetch_retries=1,
        fetch_concurrency=3,
    )


EXPECTED_EN = {"/guide/getting-started", "/guide/getting-started/choosing-a-plot", "/guide/watering", "/toolkit/the-tools", "/toolkit/the-tools/1-soil-testing"}


def by_path(pages, site):
    return {page.url.removeprefix(site.url): page for page in pages}


def test_page_list_is_the_union_of_llms_txt_and_sitemap_on_the_same_host(tmp_path, fake_gitbook):
    fake_gitbook.slow_paths["/guide/slow-page.md"] = 1.0
    pages, warnings = load_pages_with_report(site_settings(tmp_path, fake_gitbook))
    assert set(by_path(pages, fake_gitbook)) == EXPECTED_EN
    assert all(page.lang == "en" for page in pages)
    assert not fake_gitbook.seen("/llms-full.txt.md"), "llms.txt links to non-page files are not pages"
    assert any("/guide/retired-page" in w and "404" in w for w in warnings)
    assert any("/guide/slow-page" in w and "timed out" in w for w in warnings)


def test_slow_page_is_retried_before_it_is_skipped(tmp_path, fake_gitbook):
    fake_gitbook.slow_paths["/guide/slow-page.md"] = 1.0
    started = time.monotonic()
    load_pages(site_settings(tmp_path, fake_gitbook))
    assert len(fake_gitbook.seen("/guide/slow-page.md")) == 2  # first try + fetch_retries=1
    assert time.monotonic() - started < 3


def test_markdown_page_keeps_its_content_and_loses_gitbook_additions(tmp_path, fake_gitbook):
    pages = by_path(load_pages(site_settings(tmp_path, fake_gitbook)), fake_gitbook)
    page = pages["/guide/getting-started"]
    assert page.title == "Getting started"
    assert page.section == "guide"
    assert page.markdown.startswith("# Getting started")
    assert "Walk the whole site twice" in page.markdown and '{% hint style="info" %}' in page.markdown
    assert "## Meet your neighbours" in page.markdown
    assert "Agent Instructions" not in page.markdown and "`ask`" not in page.markdown
    assert "llms.txt" not in page.markdown
    assert not page.markdown.rstrip().endswith("---")


def test_lastmod_comes_from_the_sitemap_and_breadcrumb_from_known_titles(tmp_path, fake_gitbook):
    pages = by_path(load_pages(site_settings(tmp_path, fake_gitbook)), fake_gitbook)
    assert pages["/guide/getting-started"].lastmod == datetime(2024, 3, 18, 9, 30, tzinfo=timezone.utc)
    assert pages["/guide/getting-started/choosing-a-plot"].lastmod == datetime(2024, 2, 1, tzinfo=timezone.utc)
    assert pages["/toolkit/the-tools"].lastmod is None
    assert pages["/guide/getting-started/choosing-a-plot"].breadcrumb == ["Guide", "Getting started"]
    assert pages["/toolkit/the-tools/1-soil-testing"].breadcrumb == ["Toolkit", "The tools"]
    assert pages["/guide/watering"].title == "Watering"  # listed only in the sitemap: title from its heading


def test_markdown_with_embedded_html_is_still_taken_as_markdown(tmp_path, fake_gitbook):
    pages = by_path(load_pages(site_settings(tmp_path, fake_gitbook)), fake_gitbook)
    assert "<figcaption>" in pages["/guide/getting-started/choosing-a-plot"].markdown
    assert not fake_gitbook.seen("/guide/getting-started/choosing-a-plot")  # no HTML fallback needed


def test_page_without_markdown_is_converted_from_its_html(tmp_path, fake_gitbook):
    pages = by_path(load_pages(site_settings(tmp_path, fake_gitbook)), fake_gitbook)
    page = pages["/toolkit/the-tools/1-soil-testing"]
    assert [r.status for r in fake_gitbook.seen("/toolkit/the-tools/1-soil-testing.md")] == [404]
    assert page.title == "1. Soil testing" and page.section == "toolkit"
    assert "## Purpose" in page.markdown and "Take five small samples" in page.markdown
    for chrome in ("trackVisit", "font-family", "Search", "Watering", "Related pages", "Powered by"):
        assert chrome not in page.markdown


def test_language_trees_are_fetched_only_when_asked_for(tmp_path, fake_gitbook):
    load_pages(site_settings(tmp_path, fake_gitbook, languages=["en"]))
    assert not fake_gitbook.seen("/portugues/guia/primeiros-passos.md")

    pages = by_path(load_pages(site_settings(tmp_path, fake_gitbook, languages=["pt"])), fake_gitbook)
    assert set(pages) == {"/portugues/guia/primeiros-passos"}
    page = pages["/portugues/guia/primeiros-passos"]
    assert (page.lang, page.section, page.title) == ("pt", "guide", "Primeiros passos")
    assert page.lastmod is not None


def test_second_load_revalidates_with_etags_and_gets_identical_pages(tmp_path, fake_gitbook):
    settings = site_settings(tmp_path, fake_gitbook)
    first = load_pages(settings)
    fake_gitbook.requests.clear()
    second = load_pages(settings)
    revalidated = fake_gitbook.seen("/guide/getting-started.md")
    assert revalidated and revalidated[0].headers.get("if-none-match") and revalidated[0].status == 304
    assert sum(r.status == 304 for r in fake_gitbook.requests) >= len(EXPECTED_EN)
    assert [p.model_dump() for p in first] == [p.model_dump() for p in second]


def test_requests_name_the_assistant(tmp_path, fake_gitbook):
    load_pages(site_settings(tmp_path, fake_gitbook))
    assert {r.headers["user-agent"] for r in fake_gitbook.requests} == {gitbook.USER_AGENT}


def test_server_errors_are_retried(tmp_path, fake_gitbook):
    fake_gitbook.failures["/guide/watering.md"] = 1
    pages = by_path(load_pages(site_settings(tmp_path, fake_gitbook)), fake_gitbook)
    assert "/guide/watering" in pages
    assert [r.status for r in fake_gitbook.seen("/guide/watering.md")] == [503, 200]


def test_progress_reports_every_page(tmp_path, fake_gitbook):
    calls = []
    load_pages(site_settings(tmp_path, fake_gitbook), progress=lambda done, total: calls.append((done, total)))
    total = len(EXPECTED_EN) + 2  # the missing and the slow page count too
    assert calls[-1] == (total, total) and len(calls) == total


def test_unreachable_site_raises_a_source_error_pointing_at_a_local_copy(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(_env_file=None, data_dir=tmp_path, fetch_retries=1, fetch_timeout_s=0.5)
    with pytest.raises(SourceError) as raised:
        load_pages(settings, f"http://127.0.0.1:{port}")
    assert "could not be reached" in str(raised.value)
    assert "INSPIRED_SOURCE=" in str(raised.value)


def test_site_without_page_list_raises_a_source_error(tmp_path, fake_gitbook):
    settings = site_settings(tmp_path, fake_gitbook)
    with pytest.raises(SourceError, match="lists no pages"):
        load_pages(settings, fake_gitbook.url + "/no-such-space")


def test_llms_txt_parsing_keeps_same_host_pages_only():
    text = "# Site\n\n- [One](https://a.test/one.md): first\n- [Two](https://b.test/two.md)\n- [Full](https://a.test/llms-full.txt)"
    refs = gitbook.parse_llms_txt(text, "a.test")
    assert [(r.url, r.title) for r in refs] == [("https://a.test/one", "One")]
