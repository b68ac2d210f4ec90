"""A local folder of Markdown pages with YAML front matter (the format of the offline guide stand-in)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from assistant.models import Page
from assistant.settings import LIVE_SITE
from assistant.sources.common import (
    LANGUAGE_TAG,
    MAX_PAGE_BYTES,
    SourceError,
    strip_gitbook_chrome,
    decode_text,
    read_capped,
    first_heading,
    humanise_slug,
    lang_for_url,
    section_for_url,
)

# Files at the folder root that describe the folder rather than being pages of the guide.
NOT_PAGES = {"readme.md", "summary.md"}
INDEX_STEMS = {"index", "readme"}

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)


class FrontMatter(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    title: str | None = None
    url: str | None = None
    breadcrumb: list[str] = []
    lang: str | None = None

    @field_validator("breadcrumb", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        if value is None:
            return []
        return [value] if isinstance(value, str) else value


class LocalPage(BaseModel):
    """One file's outcome: the page (None when skipped) and what was wrong with the file."""

    page: Page | None
    problems: list[str] = []


def load_folder(
    folder: Path, *, base_url: str = LIVE_SITE, progress: Callable[[int, int], None] | None = None
) -> tuple[list[Page], list[str]]:
    if not folder.is_dir():
        raise SourceError(f"The folder {folder} does not exist. Point INSPIRED_SOURCE at a folder of Markdown pages.")
    files = markdown_files(folder)
    if not files:
        raise SourceError(f"The folder {folder} contains no Markdown pages (*.md).")
    pages: list[Page] = []
    warnings: list[str] = []
    files_by_url: dict[str, str] = {}
    for done, path in enumerate(files, start=1):
        outcome = read_markdown_page(path, folder, base_url=base_url)
        name = path.relative_to(folder).as_posix()
        warnings.extend(f"{name}: {problem}" for problem in outcome.problems)
        if outcome.page is not None:
            if (first := files_by_url.setdefault(outcome.page.url, name)) != name:
                warnings.append(f"{name}: skipped, its URL {outcome.page.url} is already used by {first}")
            else:
                pages.append(outcome.page)
        if progress:
            progress(done, len(files))
    return pages, warnings


def markdown_files(folder: Path) -> list[Path]:
    files = []
    for path in sorted(folder.rglob("*.md")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        if len(relative.parts) == 1 and relative.name.lower() in NOT_PAGES:
            continue
        files.append(path)
    return files


def read_markdown_page(path: Path, folder: Path, *, base_url: str = LIVE_SITE) -> LocalPage:
    problems: list[str] = []
    raw, oversized = read_capped(path)
    if oversized:
        problems.append(f"is larger than {MAX_PAGE_BYTES // (1024 * 1024)} MB; only the beginning was kept")
    text, decode_problem = decode_text(raw)
    if decode_problem:
        problems.append(decode_problem)
    front_matter, body, front_matter_problem = split_front_matter(text)
    if front_matter_problem:
        problems.append(f"{front_matter_problem}; used the first heading as title and the file path as URL")
    markdown = strip_gitbook_chrome(body)
    if not markdown.strip():
        return LocalPage(page=None, problems=[*problems, "is empty; skipped"])
    url = _page_url(front_matter.url, path, folder, base_url)
    lang = front_matter.lang or lang_for_url(url)
    if not LANGUAGE_TAG.fullmatch(lang):  # kept as it is, the page would be dropped as "not a language asked for"
        problems.append(f"front matter lang {lang!r} is not a language tag; used {lang_for_url(url)!r} from the URL")
        lang = lang_for_url(url)
    page = Page(
        url=url,
        title=front_matter.title or first_heading(markdown) or humanise_slug(path.stem),
        breadcrumb=front_matter.breadcrumb,
        lang=lang,
        section=section_for_url(url),
        markdown=markdown,
    )
    return LocalPage(page=page, problems=problems)


def split_front_matter(text: str) -> tuple[FrontMatter, str, str | None]:
    """(front matter, body, problem). A broken header yields empty front matter and a problem."""
    if not text.startswith("---"):
        return FrontMatter(), text, None
    match = _FRONT_MATTER.match(text)
    if match is None:
        return FrontMatter(), text.split("\n", 1)[-1], "front matter is not closed by a '---' line"
    body = text[match.end() :]
    try:
        # PyYAML lets Python's own limits through: RecursionError for deep nesting ("[[[[…"),
        # ValueError for an integer of more than 4300 digits.
        data = yaml.safe_load(match.group(1))
    except (yaml.YAMLError, RecursionError, ValueError):
        return FrontMatter(), body, "front matter is not valid YAML"
    if data is None:
        return FrontMatter(), body, None
    if not isinstance(data, dict):
        return FrontMatter(), body, "front matter is not a set of 'key: value' fields"
    try:
        return FrontMatter.model_validate(data), body, None
    except ValidationError as error:
        fields = ", ".join(sorted({str(e["loc"][0]) for e in error.errors() if e["loc"]}))
        return FrontMatter(), body, f"front matter has unusable fields ({fields})"


def _page_url(declared: str | None, path: Path, folder: Path, base_url: str) -> str:
    base = base_url.rstrip("/") + "/"
    if declared:
        return urljoin(base, declared.strip())
    parts = list(path.relative_to(folder).with_suffix("").parts)
    if parts and parts[-1].lower() in INDEX_STEMS:
        parts.pop()
    return base + "/".join(parts)
