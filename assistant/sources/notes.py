"""A user's own country notes (.md, .txt, .pdf, .docx) as a Page, kept apart from the guide by section "note"."""

from __future__ import annotations

from pathlib import Path

import docx
from pypdf import PdfReader

from assistant.models import Page
from assistant.sources.common import SourceError, decode_text, first_heading, tidy_markdown

NOTE_SUFFIXES = (".md", ".markdown", ".txt", ".pdf", ".docx")


def read_note_file(path: Path, *, max_bytes: int, name: str | None = None) -> Page:
    """``name`` is the file's original name when ``path`` is a temporary upload without one."""
    name = name or path.name
    suffix = Path(name).suffix.lower()
    if suffix not in NOTE_SUFFIXES:
        kind = f"a {suffix} file" if suffix else "a file without extension"
        raise SourceError(f"{name} is {kind}; notes can be Markdown (.md), text (.txt), PDF (.pdf) or Word (.docx).")
    try:
        size = path.stat().st_size
    except OSError:
        raise SourceError(f"{name} could not be opened.") from None
    if size > max_bytes:
        raise SourceError(f"{name} is {_megabytes(size)}; notes can be at most {_megabytes(max_bytes)}.")
    markdown = tidy_markdown(_read_as_markdown(path, suffix, name))
    if not markdown.strip():
        hint = " It may be a scanned image; notes need selectable text." if suffix == ".pdf" else ""
        raise SourceError(f"{name} contains no text.{hint}")
    return Page(
        url=f"note://{name}",
        title=first_heading(markdown) or name,
        section="note",
        markdown=markdown,
    )


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _read_as_markdown(path: Path, suffix: str, name: str) -> str:
    if suffix == ".pdf":
        return _pdf_text(path, name)
    if suffix == ".docx":
        return _docx_markdown(path, name)
    text, _problem = decode_text(path.read_bytes())  # a non-UTF-8 note is still worth reading
    return text


# Parsers meeting a damaged file raise all sorts of errors (zip, XML, stream, key errors); for the
# user they all mean the same thing, so each reader turns any of them into one clear message.


def _pdf_text(path: Path, name: str) -> str:
    try:
        reader = PdfReader(path)
        encrypted = reader.is_encrypted and not reader.decrypt("")
        text = "" if encrypted else "\n\n".join(page.extract_text() or "" for page in reader.pages)
    except Exception:
        raise SourceError(f"{name} could not be read as a PDF; it may be damaged.") from None
    if encrypted:
        raise SourceError(f"{name} is password-protected; save an unprotected copy and upload that.")
    return text


def _docx_markdown(path: Path, name: str) -> str:
    try:
        document = docx.Document(str(path))
        lines = [_docx_paragraph(paragraph.style.name if paragraph.style else "", paragraph.text) for paragraph in document.paragraphs]
        for table in document.tables:
            lines.extend(" | ".join(cell.text.strip() for cell in row.cells) for row in table.rows)
    except Exception:
        raise SourceError(f"{name} could not be read as a Word document; it may be damaged.") from None
    return "\n\n".join(line for line in lines if line.strip())


def _docx_paragraph(style: str, text: str) -> str:
    """Word's heading and list styles become Markdown, so headings can title the note and split it."""
    if style == "Title":
        return f"# {text}"
    if style.startswith("Heading ") and style.split()[-1].isdigit():
        return f"{'#' * min(int(style.split()[-1]), 6)} {text}"
    if style.startswith("List"):
        return f"- {text}"
    return text
