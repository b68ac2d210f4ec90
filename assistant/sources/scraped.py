"""A guide page scraped from the live site (copied text or saved HTML): GitBook's chrome removed, structure kept."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from assistant.models import Page
from assistant.sources.common import (
    MAX_PAGE_BYTES,
    SourceError,
    decode_text,
    html_to_markdown,
    lang_for_url,
    looks_like_html,
    read_capped,
    section_for_title,
    section_for_url,
    slugify,
    tidy_markdown,
)

SCRAPED_SUFFIXES = {".txt", ".html", ".htm"}

# GitBook's page chrome, as it appears in text copied from the site.
_HEADER_MARKERS = ("On this page", "Powered by GitBook")
_LOGO = re.compile(r"^(?:Logo)+$")
_LANGUAGE_SWITCHER = {"english": "en", "português": "pt", "portugues": "pt", "español": "es", "espanol": "es", "русский": "ru"}
_NAV_BULLET = re.compile(r"^\s*•")
_BULLET = re.compile(r"^(\s*)[•▪◦‣]\s*(.*)$")
_NUMBERED = re.compile(r"^(\s*)(\d+)\.\s+(.+)$")
_FOOTER = re.compile(r"^(?:Previous(?:\s*$|\S)|Next(?:\s*$|\S)|Last (?:updated|modified)\b|Was this helpful\b)", re.IGNORECASE)
# Copied text loses bold; the tool pages' "Type of tool:" label is restored so it reads as on the site.
_TOOL_TYPE_LABEL = re.compile(r"^(Type of tool|Tipo de ferramenta|Tipo de herramienta):\s*", re.IGNORECASE)
_FOOTER_WINDOW = 6  # the footer sits in the last few non-blank lines
_HEADING_MAX_CHARS = 80
_HEADING_MAX_WORDS = 12


class ScrapedParts(BaseModel):
    title: str
    breadcrumb: list[str] = []
    markdown: str
    lang: str | None = None
    canonical_url: str | None = None


def parse_scraped_page(text: str, *, url: str | None = None) -> Page:
    """A Page from a scraped page. Without ``url`` the HTML's canonical link or ``scraped://<title-slug>`` is used."""
    parts = _parts_from_html(text) if looks_like_html(text) else _parts_from_text(text)
    page_url = url or parts.canonical_url or f"scraped://{slugify(parts.title)}"
    on_site = page_url.startswith(("http://", "https://"))
    return Page(
        url=page_url,
        title=parts.title,
        breadcrumb=parts.breadcrumb,
        lang=lang_for_url(page_url) if on_site else parts.lang or "en",
        section=section_for_url(page_url) if on_site else section_for_title((parts.breadcrumb or [parts.title])[0]),
        markdown=parts.markdown,
    )


def load_scraped_file(path: Path, *, progress: Callable[[int, int], None] | None = None) -> tuple[list[Page], list[str]]:
    raw, oversized = read_capped(path)
    text, decode_problem = decode_text(raw)
    warnings = [f"{path.name}: {decode_problem}"] if decode_problem else []
    if oversized:
        warnings.append(f"{path.name}: is larger than {MAX_PAGE_BYTES // (1024 * 1024)} MB; only the beginning was kept")
    page = parse_scraped_page(text)
    if page.url.startswith("scraped://"):
        page = page.model_copy(update={"url": path.resolve().as_uri()})
    if progress:
        progress(1, 1)
    return [page], warnings


def _parts_from_html(html: str) -> ScrapedParts:
    title, breadcrumb, markdown, canonical = html_to_markdown(html)
    lines = _without_footer(markdown.splitlines())
    if not title:
        raise SourceError("The scraped HTML page has no title (no <h1> or <title>).")
    body = "\n".join(lines)
    if not re.search(r"^#\s", body, re.MULTILINE):
        body = f"# {title}\n\n{body}"
    return ScrapedParts(title=title, breadcrumb=breadcrumb, markdown=tidy_markdown(body), canonical_url=canonical)


def _parts_from_text(text: str) -> ScrapedParts:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    content_start = _end_of_header(lines)
    lang = _switcher_language(lines[:content_start])
    lines = _without_footer(lines[content_start:])
    position = _skip_blank_and_logo(lines, 0)
    breadcrumb, position = _breadcrumb(lines, position)
    position = _skip_blank_and_logo(lines, position)
    if position >= len(lines):
        raise SourceError("The scraped page has no text we could recognise once the site's menus are removed.")
    title = lines[position].strip()
    body = _text_to_markdown(lines[position + 1 :])
    return ScrapedParts(title=title, breadcrumb=breadcrumb, markdown=tidy_markdown(f"# {title}\n\n{body}"), lang=lang)


def _end_of_header(lines: list[str]) -> int:
    """Index of the first line after GitBook's logo, language switcher and navigation tree."""
    for marker in _HEADER_MARKERS:
        for index, line in enumerate(lines):
            if line.strip() == marker:
                return index + 1
    # No marker: the header is whatever chrome comes before the first real line.
    index = 0
    while index < len(lines) and _is_header_chrome(lines[index]):
        index += 1
    return index


def _is_header_chrome(line: str) -> bool:
    stripped = line.strip()
    return not stripped or bool(_LOGO.match(stripped)) or stripped.lower() in _LANGUAGE_SWITCHER or bool(_NAV_BULLET.match(line))


def _switcher_language(header: list[str]) -> str | None:
    # The switcher shows the current language first.
    for line in header:
        if (lang := _LANGUAGE_SWITCHER.get(line.strip().lower())) is not None:
            return lang
    return None


def _skip_blank_and_logo(lines: list[str], position: int) -> int:
    while position < len(lines) and (not lines[position].strip() or _LOGO.match(lines[position].strip())):
        position += 1
    return position


def _breadcrumb(lines: list[str], position: int) -> tuple[list[str], int]:
    """GitBook's breadcrumb is a numbered list (1., 2., …) right above the title, ended by a blank line."""
    crumbs: list[str] = []
    indented = False
    index = position
    while index < len(lines) and (match := _NUMBERED.match(lines[index])) and int(match.group(2)) == len(crumbs) + 1:
        crumbs.append(match.group(3).strip())
        indented = indented or bool(match.group(1))
        index += 1
    ends_with_blank = index < len(lines) and not lines[index].strip()
    # A lone unindented "1. Something" is more likely the title of a numbered page than a breadcrumb.
    if crumbs and ends_with_blank and (indented or len(crumbs) > 1):
        return crumbs, index
    return [], position


def _without_footer(lines: list[str]) -> list[str]:
    """Drop "Previous/Next" links, "Last updated …" and "Was this helpful?" from the end of the page."""
    non_blank = [index for index, line in enumerate(lines) if line.strip()]
    for index in non_blank[-_FOOTER_WINDOW:]:
        if _FOOTER.match(lines[index].strip()):
            return lines[:index]
    return lines


def _text_to_markdown(lines: list[str]) -> str:
    blocks = _blocks(lines)
    rendered: list[str] = []
    for number, block in enumerate(blocks):
        markdown = _render_block(block, is_last=number == len(blocks) - 1)
        # Items of one list arrive as separate blocks; keep them together as one list.
        if rendered and _is_list_item(block[0]) and _is_list_item(blocks[number - 1][-1]):
            rendered[-1] += "\n" + markdown
        else:
            rendered.append(markdown)
    return "\n\n".join(rendered)


def _blocks(lines: list[str]) -> list[list[str]]:
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            blocks[-1].append(line.rstrip())
        elif blocks[-1]:
            blocks.append([])
    return [block for block in blocks if block]


def _render_block(block: list[str], *, is_last: bool) -> str:
    if len(block) == 1 and not is_last and _looks_like_heading(block[0]):
        return f"## {block[0].strip()}"
    return "\n".join(_render_line(line) for line in block)


def _render_line(line: str) -> str:
    if match := _BULLET.match(line):
        depth = max(len(match.group(1)) // 2 - 1, 0)  # the site indents top-level bullets by two spaces
        return f"{'  ' * depth}- {match.group(2)}"
    if match := _NUMBERED.match(line):
        return f"{match.group(2)}. {match.group(3)}"
    return _TOOL_TYPE_LABEL.sub(lambda label: f"**{label.group(1)}:** ", line.strip())


def _is_list_item(line: str) -> bool:
    return bool(_BULLET.match(line) or _NUMBERED.match(line))


def _looks_like_heading(line: str) -> bool:
    """A short standalone line without closing punctuation ("Purpose", "Outcomes") is a section heading."""
    text = line.strip()
    return (
        len(text) <= _HEADING_MAX_CHARS
        and len(text.split()) <= _HEADING_MAX_WORDS
        and not text.endswith((".", ",", ";", ":", "!"))
        and (text[0].isupper() or text[0].isdigit())
        and not _is_list_item(line)
    )
