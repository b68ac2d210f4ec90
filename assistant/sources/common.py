"""What every source shares: the user-facing error, URL → language/section rules, GitBook clean-up."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import urlsplit

from bs4 import BeautifulSoup
from markdownify import markdownify

# A page bigger than this is almost certainly not prose (an embedded blob, a runaway export).
MAX_PAGE_BYTES = 2 * 1024 * 1024

LANGUAGE_PREFIXES = {"portugues": "pt", "espanol": "es", "russkii": "ru"}
# What a language tag looks like ("en", "pt-BR"); anything else in a page's front matter is a mistake.
LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*", re.IGNORECASE)

# Translated trees use their own slugs for the sections the English site calls guide/toolkit.
SECTION_ALIASES = {
    "guia": "guide",
    "o-conjunto-de-ferramentas-inspired": "toolkit",
    "el-conjunto-de-herramientas-inspired": "toolkit",
    "index": "home",
    "readme": "home",
}

# Top-level titles whose slug differs from the section's URL segment (beyond SECTION_ALIASES).
SECTION_TITLES = {"the-inspired-toolkit": "toolkit", "the-toolkit": "toolkit"}


class SourceError(Exception):
    """A problem the user can fix; str(e) is the one clear message to show (no traceback)."""


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def humanise_slug(slug: str) -> str:
    return slug.replace("-", " ").replace("_", " ").strip().capitalize()


def path_segments(url: str) -> list[str]:
    return [segment for segment in urlsplit(url).path.split("/") if segment]


def lang_for_url(url: str) -> str:
    segments = path_segments(url)
    return LANGUAGE_PREFIXES.get(segments[0], "en") if segments else "en"


def content_segments(url: str) -> list[str]:
    """Path segments after any language prefix."""
    segments = path_segments(url)
    if segments and segments[0] in LANGUAGE_PREFIXES:
        return segments[1:]
    return segments


def section_for_url(url: str) -> str:
    segments = content_segments(url)
    if not segments:
        return "home"
    return SECTION_ALIASES.get(segments[0].lower(), segments[0].lower())


def section_for_title(title: str) -> str:
    """Section of a page known only by its top ancestor's title (a scraped page without URL)."""
    slug = slugify(title)
    return SECTION_TITLES.get(slug, SECTION_ALIASES.get(slug, slug or "home"))


def normalise_page_url(url: str) -> str:
    """Scheme + host + path without trailing slash, query, fragment or ``.md`` suffix."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    if path.endswith(".md"):
        path = path[: -len(".md")]
    return f"{parts.scheme}://{parts.netloc}{path or '/'}"


def first_heading(markdown: str) -> str | None:
    match = re.search(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", markdown, flags=re.MULTILINE)
    return match.group(1).strip() if match else None


def truncate_to_bytes(text: str, limit: int = MAX_PAGE_BYTES) -> str:
    """Cut at the last line break that fits in ``limit`` UTF-8 bytes (mid-line if none is near)."""
    head = text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")
    cut = head.rfind("\n")
    return head[:cut] if cut > len(head) // 2 else head


def read_capped(path: Path) -> tuple[bytes, bool]:
    """At most MAX_PAGE_BYTES, cut at a line break, so a huge file never fills memory. (bytes, was cut)."""
    with path.open("rb") as handle:
        raw = handle.read(MAX_PAGE_BYTES + 1)
    if len(raw) <= MAX_PAGE_BYTES:
        return raw, False
    cut = raw.rfind(b"\n", 0, MAX_PAGE_BYTES) + 1
    if cut < MAX_PAGE_BYTES // 2:  # no line break near the limit: cut mid-line, but not mid-character
        cut = MAX_PAGE_BYTES
        while cut > 0 and raw[cut] & 0xC0 == 0x80:
            cut -= 1
    return raw[:cut], True


def decode_text(raw: bytes) -> tuple[str, str | None]:
    """Decode bytes as UTF-8; fall back to Windows-1252 (then lossy UTF-8). Returns (text, problem)."""
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "is not UTF-8; read it as Windows-1252"
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace"), "is not UTF-8; unreadable characters were replaced"


# GitBook appends this to its .md pages; it addresses AI agents, so it is never guide content.
_AGENT_INSTRUCTIONS = re.compile(r"^(?:---[ \t]*\n\s*)?#{1,6}[ \t]*Agent Instructions\b.*\Z", re.MULTILINE | re.DOTALL)
_TRAILING_RULE = re.compile(r"\n\s*-{3,}\s*\Z")
# GitBook also prepends a quoted note pointing at llms.txt.
_LLMS_PREAMBLE = re.compile(r"\A\s*>[^\n]*llms\.txt[^\n]*\n+")
def strip_gitbook_chrome(markdown: str) -> str:
    """The page's own Markdown: GitBook's llms.txt note and agent-instruction tail removed.

    GitBook's template tags (hints, tabs) stay: chunking turns them into text.
    """
    text = _AGENT_INSTRUCTIONS.sub("", markdown)
    text = _TRAILING_RULE.sub("", text)
    text = _LLMS_PREAMBLE.sub("", text)
    return tidy_markdown(text)


def tidy_markdown(markdown: str) -> str:
    lines = [line.rstrip() for line in markdown.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def looks_like_html(text: str) -> bool:
    return re.search(r"<(?:!doctype|html|head|body|main|article|div|p|h[1-6])\b", text[:5000], re.IGNORECASE) is not None


_CHROME_TAGS = ["nav", "header", "footer", "aside", "script", "style", "noscript", "svg", "button", "form", "iframe"]


def html_to_markdown(html: str) -> tuple[str | None, list[str], str, str | None]:
    """(title, breadcrumb, markdown, canonical url) of an HTML page, keeping only its main content."""
    soup = BeautifulSoup(html, "html.parser")
    breadcrumb = _html_breadcrumb(soup)
    canonical = _canonical_url(soup)
    page_title = soup.title.get_text(" ", strip=True) if soup.title else None
    body = soup.find("main") or soup.find("article") or soup.find(attrs={"role": "main"}) or soup.body or soup
    for tag in body.find_all(_CHROME_TAGS):
        tag.decompose()
    markdown = tidy_markdown(markdownify(str(body), heading_style="ATX", bullets="-"))
    h1 = body.find("h1")
    title = h1.get_text(" ", strip=True) if h1 else _strip_site_suffix(page_title)
    return title or None, breadcrumb, markdown, canonical


def _html_breadcrumb(soup: BeautifulSoup) -> list[str]:
    trail = soup.find(attrs={"aria-label": re.compile("breadcrumb", re.IGNORECASE)})
    if trail is None:
        return []
    items = trail.find_all("li") or trail.find_all("a")
    return [text for item in items if (text := item.get_text(" ", strip=True))]


def _canonical_url(soup: BeautifulSoup) -> str | None:
    link = soup.find("link", rel="canonical")
    if link and link.get("href", "").startswith("http"):
        return link["href"]
    meta = soup.find("meta", property="og:url")
    if meta and meta.get("content", "").startswith("http"):
        return meta["content"]
    return None


def _strip_site_suffix(title: str | None) -> str | None:
    # "<page> | <site>" — the site name adds nothing to a page title.
    return re.split(r"\s+[|–—]\s+", title)[0].strip() if title else None
