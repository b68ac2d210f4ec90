"""Clean GitBook Markdown and cut it into heading-aware, size-bounded chunks with metadata."""

from __future__ import annotations

import hashlib
import re

from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from .models import Chunk, Page
from .settings import Settings

HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3"), ("####", "h4")]
HINT_OPEN = re.compile(r"{%\s*hint\s+style=\"?(\w+)\"?\s*%}", re.I)
HINT_CLOSE = re.compile(r"{%\s*endhint\s*%}", re.I)
OTHER_TAGS = re.compile(r"{%\s*/?\s*\w+[^%]*%}")
# GitBook pages often use a bold line ("**Purpose**") where a heading belongs; a phrase ending in a colon
# ("**Guiding questions include:**") leads into what follows and stays with its section.
BOLD_HEADING = re.compile(r"^\*\*([^*\n]{2,60}?)\*\*:?\s*$")
HEADING_LINE = re.compile(r"^(#{1,6})\s")
TOOL_TITLE = re.compile(r"^\s*(\d{1,2})\s*[.)]\s+\S")
TOOL_TYPE = re.compile(r"\*\*\s*(?:Type of tool|Tipo de ferramenta|Tipo de herramienta)\s*:?\s*\*\*\s*:?\s*([^\n]+)", re.I)
TABLE_BLOCK = re.compile(r"(?:^\|.*\|[ \t]*\n?)+", re.M)


def clean_gitbook_markdown(markdown: str) -> str:
    """Keep hint blocks as quoted text and drop the rest of GitBook's template tags."""
    text = HINT_OPEN.sub(lambda m: f"\n> **{m.group(1).capitalize()}:** ", markdown)
    text = HINT_CLOSE.sub("\n", text)
    text = OTHER_TAGS.sub("", text)
    text = "\n".join(bold_lines_as_headings(text.split("\n")))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def is_lead_in(label: str) -> bool:
    """ "Guiding questions include:" introduces the lines after it; "Purpose:" names a section."""
    return label.rstrip().endswith(":") and len(label.split()) >= 3


def bold_lines_as_headings(lines: list[str]) -> list[str]:
    """A bold line becomes a heading one level below the heading it stands under (at least ###, at most ####),
    so "**Purpose**" under a page title is a section and a bold line under "### Signatories" stays inside it."""
    open_level = 1
    out = []
    for line in lines:
        if heading := HEADING_LINE.match(line):
            open_level = len(heading.group(1))
        elif (bold := BOLD_HEADING.match(line)) and not is_lead_in(bold.group(1)):
            line = f"{'#' * min(max(3, open_level + 1), len(HEADERS))} {bold.group(1).strip().rstrip(':')}"
        out.append(line)
    return out


def tool_metadata(page: Page) -> tuple[int | None, str | None]:
    """Tool number and "type of tool" for pages of the toolkit's numbered tools."""
    if page.section != "toolkit":
        return None, None
    number = TOOL_TITLE.match(page.title)
    kind = TOOL_TYPE.search(page.markdown)
    tool_type = kind.group(1).strip().rstrip(".").strip("* ") if kind else None
    return (int(number.group(1)) if number else None), tool_type


def split_keeping_tables(text: str, splitter: RecursiveCharacterTextSplitter, size: int) -> list[str]:
    """Size-bound a section; a Markdown table is never cut in two."""
    if len(text) <= size:
        return [text]
    pieces: list[str] = []
    cursor = 0
    for table in TABLE_BLOCK.finditer(text):
        pieces.extend(splitter.split_text(text[cursor:table.start()]))
        pieces.append(table.group(0).strip())
        cursor = table.end()
    pieces.extend(splitter.split_text(text[cursor:]))
    return merge_small_pieces([p for p in pieces if p.strip()], size)


def merge_small_pieces(pieces: list[str], size: int) -> list[str]:
    merged: list[str] = []
    for piece in pieces:
        if merged and len(merged[-1]) + len(piece) + 2 <= size:
            merged[-1] = f"{merged[-1]}\n\n{piece}"
        else:
            merged.append(piece)
    return merged


def chunk_key(url: str, heading_path: list[str]) -> str:
    return f"{url}|{' > '.join(heading_path)}"


def stable_chunk_id(url: str, heading_path: list[str], ordinal: int) -> str:
    return hashlib.sha1(f"{chunk_key(url, heading_path)}|{ordinal}".encode()).hexdigest()[:20]


def chunk_page(page: Page, settings: Settings) -> list[Chunk]:
    cleaned = clean_gitbook_markdown(page.markdown)
    sections = MarkdownHeaderTextSplitter(HEADERS, strip_headers=True).split_text(cleaned)
    splitter = RecursiveCharacterTextSplitter(chunk_size=settings.chunk_size, chunk_overlap=settings.chunk_overlap)
    tool_number, tool_type = tool_metadata(page)
    chunks: list[Chunk] = []
    ordinals: dict[str, int] = {}
    for section in sections:
        # A bare "#" line is a heading without a name: it names nothing, so it is left out of the path.
        heading_path = [name for _, key in HEADERS if (name := section.metadata.get(key, "").strip())]
        if heading_path and heading_path[0] == page.title:
            heading_path = heading_path[1:]
        for text in split_keeping_tables(section.page_content, splitter, settings.chunk_size):
            if not text.strip():
                continue
            # Counted per id key, not per path: paths that join alike (["a > b"], ["a", "b"]) never share an id.
            key = chunk_key(page.url, heading_path)
            ordinal = ordinals.get(key, 0)
            ordinals[key] = ordinal + 1
            chunks.append(
                Chunk(
                    id=stable_chunk_id(page.url, heading_path, ordinal),
                    url=page.url,
                    title=page.title,
                    breadcrumb=page.breadcrumb,
                    heading_path=heading_path,
                    section=page.section,
                    lang=page.lang,
                    tool_number=tool_number,
                    tool_type=tool_type,
                    ordinal=ordinal,
                    position=len(chunks),
                    text=text.strip(),
                    page_hash=page.content_hash,
                )
            )
    return chunks
