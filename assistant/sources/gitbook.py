"""The live GitBook site: page list from llms.txt and the sitemap, each page as Markdown (HTML as fallback).

Requests are polite (bounded concurrency, a named User-Agent, retries with backoff) and conditional:
an on-disk cache keeps each body with its ETag/Last-Modified, so a re-ingest mostly gets 304s.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import os
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Coroutine
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel

from assistant.models import Page
from assistant.settings import Settings
from assistant.sources.common import (
    LANGUAGE_PREFIXES,
    MAX_PAGE_BYTES,
    SourceError,
    strip_gitbook_chrome,
    content_segments,
    first_heading,
    html_to_markdown,
    humanise_slug,
    lang_for_url,
    normalise_page_url,
    section_for_url,
    truncate_to_bytes,
)

USER_AGENT = "INSPIRED-Assistant/0.1 (+https://inspired.epd.eu)"
BACKOFF_S = 0.5  # first retry delay; doubles on each further attempt
MAX_RETRY_AFTER_S = 60.0
RETRYABLE_STATUS = {429, 500, 502, 503, 504}
LOCAL_COPY_HINT = (
    "Check your internet connection, or point INSPIRED_SOURCE at a local copy of the guide, "
    "e.g. INSPIRED_SOURCE=../shared/corpus/inspired-guide"
)

_MARKDOWN_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")


class CacheEntry(BaseModel):
    url: str
    body: str
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None

    def validators(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


class HttpCache:
    """One JSON file per URL under ``folder``; only responses with a validator are worth keeping."""

    def __init__(self, folder: Path):
        self.folder = folder

    def _path(self, url: str) -> Path:
        return self.folder / f"{hashlib.sha256(url.encode()).hexdigest()}.json"

    def get(self, url: str) -> CacheEntry | None:
        path = self._path(url)
        try:
            return CacheEntry.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # missing or damaged entry: just fetch afresh
            return None

    def put(self, entry: CacheEntry) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(entry.url)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(entry.model_dump_json(), encoding="utf-8")
        partial.replace(path)


class Fetched(BaseModel):
    status: int
    text: str = ""
    content_type: str = ""


class Fetcher:
    """GET with retries on connection errors, 429 and 5xx, and revalidation against the cache."""

    def __init__(self, client: httpx.AsyncClient, cache: HttpCache, *, retries: int, concurrency: int):
        self.client = client
        self.cache = cache
        self.retries = retries
        self.slots = asyncio.Semaphore(concurrency)

    async def get(self, url: str) -> Fetched:
        """Raises httpx.HTTPError when the server could not be reached after all retries."""
        cached = self.cache.get(url)
        headers = cached.validators() if cached else {}
        attempt = 0
        while True:
            last_attempt = attempt == self.retries
            try:
                async with self.slots:
                    response = await self.client.get(url, headers=headers)
            except httpx.TransportError:
                if last_attempt:
                    raise
                response = None
            else:
                if last_attempt or response.status_code not in RETRYABLE_STATUS:
                    return self._settle(url, response, cached)
            await asyncio.sleep(_retry_delay(attempt, response))
            attempt += 1

    def _settle(self, url: str, response: httpx.Response, cached: CacheEntry | None) -> Fetched:
        if response.status_code == 304 and cached is not None:
            return Fetched(status=200, text=cached.body, content_type=cached.content_type)
        fetched = Fetched(status=response.status_code, text=response.text, content_type=response.headers.get("content-type", ""))
        etag, last_modified = response.headers.get("etag"), response.headers.get("last-modified")
        if response.status_code == 200 and (etag or last_modified):
            self.cache.put(CacheEntry(url=url, body=fetched.text, content_type=fetched.content_type, etag=etag, last_modified=last_modified))
        return fetched


def _retry_delay(attempt: int, response: httpx.Response | None) -> float:
    retry_after = response.headers.get("retry-after", "") if response is not None else ""
    if retry_after.isdigit():
        return min(float(retry_after), MAX_RETRY_AFTER_S)
    return BACKOFF_S * 2**attempt


class PageRef(BaseModel):
    url: str
    title: str | None = None
    lastmod: datetime | None = None


class SiteLoad(BaseModel):
    pages: list[Page] = []
    warnings: list[str] = []


def load_site(
    settings: Settings, site: str, *, progress: Callable[[int, int], None] | None = None
) -> tuple[list[Page], list[str]]:
    result = _run(_load_site(settings, site.rstrip("/"), progress))
    return result.pages, result.warnings


def _run(coroutine: Coroutine[None, None, SiteLoad]) -> SiteLoad:
    """asyncio.run, also when called from inside a running event loop (e.g. a Chainlit handler)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, coroutine).result()


async def _load_site(settings: Settings, site: str, progress: Callable[[int, int], None] | None) -> SiteLoad:
    client = httpx.AsyncClient(
        headers={"User-Agent": USER_AGENT},
        timeout=httpx.Timeout(settings.fetch_timeout_s),
        follow_redirects=True,
    )
    async with client:
        fetcher = Fetcher(client, HttpCache(settings.http_cache_dir), retries=settings.fetch_retries, concurrency=settings.fetch_concurrency)
        result = SiteLoad()
        refs = await discover_pages(fetcher, site, settings.languages, result.warnings)
        titles = {ref.url: ref.title for ref in refs if ref.title}
        done = 0

        async def fetch_and_count(ref: PageRef) -> Page | None:
            nonlocal done
            page = await fetch_page(fetcher, ref, result.warnings)
            done += 1
            if progress:
                progress(done, len(refs))
            return page

        fetched = [page for page in await asyncio.gather(*(fetch_and_count(ref) for ref in refs)) if page is not None]
    titles.update({page.url: page.title for page in fetched})
    result.pages = [page.model_copy(update={"breadcrumb": breadcrumb_for(page.url, titles)}) for page in fetched]
    return result


async def discover_pages(fetcher: Fetcher, site: str, languages: list[str], warnings: list[str]) -> list[PageRef]:
    """Pages listed by llms.txt (titles) and the sitemap (lastmod), on the site's host, in the wanted languages."""
    llms_urls = [f"{site}/llms.txt"] + [f"{site}/{prefix}/llms.txt" for prefix, lang in LANGUAGE_PREFIXES.items() if lang in languages]
    answers = await asyncio.gather(*(fetcher.get(url) for url in [f"{site}/sitemap.xml", *llms_urls]), return_exceptions=True)
    for answer in answers:
        if isinstance(answer, Exception) and not isinstance(answer, httpx.HTTPError):
            raise answer
    sitemap_answer, main_llms_answer = answers[0], answers[1]
    if isinstance(sitemap_answer, Exception) and isinstance(main_llms_answer, Exception):
        raise SourceError(f"The guide's site {site} could not be reached ({_describe(main_llms_answer)}). {LOCAL_COPY_HINT}")
    refs: dict[str, PageRef] = {}
    host = urlsplit(site).netloc
    for answer in answers[1:]:
        if isinstance(answer, Fetched) and answer.status == 200:
            for ref in parse_llms_txt(answer.text, host):
                refs.setdefault(ref.url, ref)
    if isinstance(sitemap_answer, Fetched) and sitemap_answer.status == 200:
        for ref in await read_sitemap(fetcher, sitemap_answer.text, host, warnings):
            refs[ref.url] = refs[ref.url].model_copy(update={"lastmod": ref.lastmod}) if ref.url in refs else ref
    if not refs:
        raise SourceError(f"{site} lists no pages (no usable /llms.txt or /sitemap.xml). {LOCAL_COPY_HINT}")
    return [ref for ref in refs.values() if lang_for_url(ref.url) in languages]


def parse_llms_txt(text: str, host: str) -> list[PageRef]:
    return [
        PageRef(url=normalise_page_url(url), title=title.strip())
        for title, url in _MARKDOWN_LINK.findall(text)
        if urlsplit(url).netloc == host and not url.endswith(".txt")
    ]


async def read_sitemap(fetcher: Fetcher, xml_text: str, host: str, warnings: list[str], depth: int = 0) -> list[PageRef]:
    """Page URLs with lastmod from a sitemap, following a sitemap index (one level is what GitBook uses)."""
    try:
        root = ElementTree.fromstring(xml_text)
    except ElementTree.ParseError:
        warnings.append("sitemap: not valid XML; ignored")
        return []
    refs = [
        PageRef(url=normalise_page_url(loc), lastmod=_parse_lastmod(_child_text(entry, "lastmod")))
        for entry in root
        if _local_name(entry.tag) == "url" and (loc := _child_text(entry, "loc")) and urlsplit(loc).netloc == host
    ]
    children = [loc for entry in root if _local_name(entry.tag) == "sitemap" and (loc := _child_text(entry, "loc"))]
    for child in children:
        if depth >= 2 or urlsplit(child).netloc != host:
            continue
        try:
            answer = await fetcher.get(child)
        except httpx.HTTPError as error:
            warnings.append(f"{child}: could not be fetched ({_describe(error)}); its pages may be missing")
            continue
        if answer.status == 200:
            refs.extend(await read_sitemap(fetcher, answer.text, host, warnings, depth + 1))
        else:
            warnings.append(f"{child}: HTTP {answer.status}; its pages may be missing")
    return refs


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child_text(element: ElementTree.Element, name: str) -> str | None:
    for child in element:
        if _local_name(child.tag) == name and child.text:
            return child.text.strip()
    return None


def _parse_lastmod(value: str | None) -> datetime | None:
    """Sitemap dates may lack a zone ("2024-02-01"); they are read as UTC so all lastmods compare."""
    try:
        parsed = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    return parsed.replace(tzinfo=timezone.utc) if parsed and parsed.tzinfo is None else parsed


def markdown_url(page_url: str) -> str:
    at_root = urlsplit(page_url).path in ("", "/")
    return page_url.rstrip("/") + ("/index.md" if at_root else ".md")


class PageMissing(Exception):
    """The site answered, but not with the page (404, an error status)."""


async def fetch_page(fetcher: Fetcher, ref: PageRef, warnings: list[str]) -> Page | None:
    """The page as Markdown (``<url>.md``, else its HTML converted); None, with a warning, when it cannot be had."""
    try:
        title, markdown = await _fetch_markdown(fetcher, ref)
    except httpx.HTTPError as error:
        warnings.append(f"{ref.url}: skipped, could not be fetched ({_describe(error)})")
        return None
    except PageMissing as missing:
        warnings.append(f"{ref.url}: skipped ({missing})")
        return None
    if len(markdown.encode("utf-8")) > MAX_PAGE_BYTES:
        markdown = truncate_to_bytes(markdown)
        warnings.append(f"{ref.url}: larger than {MAX_PAGE_BYTES // (1024 * 1024)} MB; only the beginning was kept")
    if not markdown.strip():
        warnings.append(f"{ref.url}: skipped, the page has no text")
        return None
    return Page(
        url=ref.url,
        title=title or ref.title or humanise_slug((content_segments(ref.url) or ["home"])[-1]),
        lang=lang_for_url(ref.url),
        section=section_for_url(ref.url),
        markdown=markdown,
        lastmod=ref.lastmod,
    )


async def _fetch_markdown(fetcher: Fetcher, ref: PageRef) -> tuple[str | None, str]:
    answer = await fetcher.get(markdown_url(ref.url))
    if answer.status == 200 and _is_markdown(answer):
        markdown = strip_gitbook_chrome(answer.text)
        return first_heading(markdown), markdown
    answer = await fetcher.get(ref.url)
    if answer.status != 200:
        raise PageMissing(f"HTTP {answer.status}")
    title, _breadcrumb, markdown, _canonical = html_to_markdown(answer.text)
    return title, strip_gitbook_chrome(markdown)


def _is_markdown(answer: Fetched) -> bool:
    # GitBook's Markdown may embed HTML (<figure>, card tables), so only a whole HTML document counts as HTML.
    content_type = answer.content_type.lower()
    if "markdown" in content_type or "html" in content_type:
        return "markdown" in content_type
    return not answer.text.lstrip()[:100].lower().startswith(("<!doctype", "<html"))


def breadcrumb_for(url: str, titles: dict[str, str]) -> list[str]:
    """Ancestor titles, top first: known page titles, else the path segment made readable."""
    parts = urlsplit(url)
    segments = [segment for segment in parts.path.split("/") if segment]
    skip = 1 if segments and segments[0] in LANGUAGE_PREFIXES else 0
    crumbs = []
    for depth in range(skip + 1, len(segments)):
        ancestor = f"{parts.scheme}://{parts.netloc}/{'/'.join(segments[:depth])}"
        crumbs.append(titles.get(ancestor) or humanise_slug(segments[depth - 1]))
    return crumbs


def _describe(error: BaseException) -> str:
    if isinstance(error, httpx.TimeoutException):
        return "timed out"
    if isinstance(error, httpx.ConnectError):
        return "connection failed"
    return str(error) or type(error).__name__
