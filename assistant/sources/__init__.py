"""Every way the guide (and a user's own notes) gets in, each producing typed ``Page`` records.

``load_pages`` picks the loader from the source: a URL is the live GitBook site, a folder is Markdown
pages with front matter, a single .txt/.html file is a page scraped from the site. Problems with one
page never stop the load: the page is repaired or skipped and a warning is reported instead.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from assistant.models import Page
from assistant.settings import Settings
from assistant.sources.common import SourceError
from assistant.sources.gitbook import load_site
from assistant.sources.local import load_folder
from assistant.sources.notes import NOTE_SUFFIXES, read_note_file
from assistant.sources.scraped import SCRAPED_SUFFIXES, load_scraped_file, parse_scraped_page

__all__ = [
    "NOTE_SUFFIXES",
    "SourceError",
    "load_pages",
    "load_pages_with_report",
    "parse_scraped_page",
    "read_note_file",
]

Progress = Callable[[int, int], None]


def load_pages(settings: Settings, source: str | None = None, *, progress: Progress | None = None) -> list[Page]:
    pages, _warnings = load_pages_with_report(settings, source, progress=progress)
    return pages


def load_pages_with_report(
    settings: Settings, source: str | None = None, *, progress: Progress | None = None
) -> tuple[list[Page], list[str]]:
    """(pages in settings.languages, warnings about pages that were repaired or skipped)."""
    source = (source or settings.source).strip()
    if source.startswith(("http://", "https://")):
        pages, warnings = load_site(settings, source, progress=progress)
    else:
        pages, warnings = _load_path(Path(source).expanduser(), progress)
    wanted = [page for page in pages if page.lang in settings.languages]
    if not wanted:
        raise SourceError(_nothing_loaded(source, settings.languages, found=len(pages), warnings=warnings))
    return wanted, warnings


def _load_path(path: Path, progress: Progress | None) -> tuple[list[Page], list[str]]:
    if path.is_dir():
        return load_folder(path, progress=progress)
    if path.is_file() and path.suffix.lower() in SCRAPED_SUFFIXES:
        return load_scraped_file(path, progress=progress)
    if path.exists():
        raise SourceError(
            f"{path} is not something the guide can be loaded from. INSPIRED_SOURCE must be the site's URL, "
            "a folder of Markdown pages, or one scraped page (.txt or .html)."
        )
    raise SourceError(
        f"{path} does not exist. Set INSPIRED_SOURCE to the site's URL (https://inspired.epd.eu) "
        "or to a local copy, e.g. INSPIRED_SOURCE=../shared/corpus/inspired-guide"
    )


def _nothing_loaded(source: str, languages: list[str], *, found: int, warnings: list[str]) -> str:
    if found:
        return (
            f"{source} has {found} pages, none in the languages asked for ({', '.join(languages)}). "
            "Change INSPIRED_LANGUAGES, e.g. INSPIRED_LANGUAGES=en,pt,es"
        )
    first_problem = f" First problem: {warnings[0]}" if warnings else ""
    return f"No pages could be loaded from {source}.{first_problem}"
