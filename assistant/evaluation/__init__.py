"""Eval datasets in the shared JSONL format (questions and drafting tasks), and their runners."""

from __future__ import annotations

import json
import logging
import random
import re
from pathlib import Path
from typing import Callable, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..settings import LIVE_SITE
from ..sources.common import normalise_page_url

log = logging.getLogger(__name__)


class DatasetError(Exception):
    """A dataset the runner cannot read; str(e) names the file and line."""


class EvalItem(BaseModel):
    model_config = ConfigDict(extra="ignore")  # other teams' sets may carry more fields

    id: str
    kind: Literal["qa", "briefing", "talking_points", "tools"] = "qa"
    persona: str = "unknown"
    question: str = ""
    request: str = ""
    expected_urls: list[str] = Field(default_factory=list)
    must_mention: list[str] = Field(default_factory=list)
    must_cover: list[str] = Field(default_factory=list)
    answerable: bool = True
    tags: list[str] = Field(default_factory=list)
    country: str | None = None
    audience: str | None = None
    unknown_facts: list[str] = Field(default_factory=list)
    expected_tools: list[int] = Field(default_factory=list)  # "tools" lines: toolkit numbers that fit the situation

    @model_validator(mode="before")
    @classmethod
    def _as_other_teams_write_it(cls, line):
        """Other teams' sets may spell a field their own way: a kind "Talking-points" or "QA", a task under "type",
        the text under "question" for a drafting task (or "request", "query", "prompt"), a numeric id, one URL or
        term as a string, tags as one word or under "tag", "category" or "type". All are read as meant."""
        if not isinstance(line, dict):
            return line
        line = {**line, "tags": other_tags(line)}
        kind = kind_named(line.get("kind")) or kind_named(line.get("type")) or kind_named(line.get("task"))
        if kind or "kind" in line:
            line["kind"] = kind or line["kind"]
        if isinstance(line.get("id"), (int, float)):
            line["id"] = str(line["id"])
        wanted = "question" if line.get("kind", "qa") == "qa" else "request"
        texts = [line[field] for field in TEXT_FIELDS if isinstance(line.get(field), str) and line[field].strip()]
        if texts and not (isinstance(line.get(wanted), str) and line[wanted].strip()):
            line[wanted] = texts[0]
        if "expected_urls" not in line and (other := next((f for f in ("expected_url", "expected_pages") if f in line), None)):
            line["expected_urls"] = line[other]
        # One URL or term given as a string instead of a list of one.
        for field in ("expected_urls", "must_mention", "must_cover", "unknown_facts"):
            if isinstance(line.get(field), str):
                line[field] = [line[field]]
        return line

    @field_validator("expected_urls")
    @classmethod
    def _as_indexed(cls, urls: list[str]) -> list[str]:
        """Written as the index writes page URLs: ".../11-high-level-missions/", "...#purpose", "....md",
        "http://", "www." or the bare path name the page too."""
        return [normalise_page_url(as_site_url(url)) for url in urls]


KINDS = {
    "qa": "qa", "question": "qa", "questions": "qa", "q_a": "qa", "answer": "qa", "answers": "qa",
    "briefing": "briefing", "briefings": "briefing", "brief": "briefing", "briefing_note": "briefing", "mission_briefing": "briefing",
    "talking_points": "talking_points", "talking_point": "talking_points", "talkingpoints": "talking_points", "points": "talking_points",
    "tools": "tools", "tool": "tools",
}
TEXT_FIELDS = ("question", "request", "query", "prompt")


def kind_named(value) -> str | None:
    """ "Talking-points", "talking points", "QA", "Q&A" → the kind they name; None for anything else."""
    if not isinstance(value, str):
        return None
    return KINDS.get(re.sub(r"[\s\-&/]+", "_", value.strip().casefold()))


def other_tags(line: dict) -> list[str]:
    tags = []
    for field in ("tags", "tag", "category", "categories", "type"):
        value = line.get(field)
        tags += [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
    return list(dict.fromkeys(t.strip().lower() for t in tags if t.strip()))


def as_site_url(url: str) -> str:
    """The site as it is indexed: https, lower-case host, no "www."; a bare path ("/toolkit") is on the guide's site."""
    parts = urlsplit(url.strip())
    if not parts.netloc:
        return f"{LIVE_SITE}/{url.strip().lstrip('/')}"
    host = parts.netloc.lower().removeprefix("www.")
    return urlunsplit(("https" if parts.scheme in ("http", "https") else parts.scheme, host, parts.path, parts.query, parts.fragment))


def load_dataset(path: Path, warn: Callable[[str], None] = log.warning) -> list[EvalItem]:
    """The file's eval lines. A line that cannot be read is skipped with a warning naming it, so one bad line in
    another team's set does not cost the figures of all the others; a line without an id is named by its number."""
    if not path.is_file():
        raise DatasetError(f"dataset not found: {path}")
    items, problems = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            row = json.loads(line)
            items.append(EvalItem.model_validate({"id": f"line {number}", **row} if isinstance(row, dict) else row))
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{number}: not a JSON object ({exc.msg})")
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first["loc"])
            problems.append(f"{path}:{number}: not a valid eval line ({f'{field}: ' if field else ''}{first['msg']})")
    if not items:
        if not problems:
            raise DatasetError(f"{path} holds no eval lines")
        more = f" (and {len(problems) - 1} more unreadable lines)" if len(problems) > 1 else ""
        raise DatasetError(problems[0] + more)
    for problem in problems:
        warn(f"{problem}: skipped")
    return items


TYPO_WORD = re.compile(r"\b[A-Za-z]{6,}\b")


def with_typos(items: list[EvalItem], per_question: int) -> list[EvalItem]:
    """The same lines with ``per_question`` words of each question misspelt as hurried typing does (a letter dropped,
    two swapped or one wrong, never the first): seeded by the line's id, so a rerun misspells alike."""
    return [item.model_copy(update={"question": misspelt(item.question, per_question, item.id)}) for item in items]


def misspelt(text: str, count: int, seed: str) -> str:
    rng = random.Random(seed)
    words = TYPO_WORD.findall(text)
    for word in rng.sample(words, min(count, len(words))):
        at = rng.randrange(1, len(word) - 1)
        slip = rng.choice(("drop", "swap", "wrong"))
        if slip == "drop":
            typo = word[:at] + word[at + 1:]
        elif slip == "swap":
            typo = word[:at] + word[at + 1] + word[at] + word[at + 2:]
        else:
            typo = word[:at] + rng.choice([c for c in "aeiourstn" if c != word[at]]) + word[at + 1:]
        text = re.sub(rf"\b{word}\b", typo, text, count=1)
    return text


def warm_up(retriever) -> None:
    """One search before the timed ones: the first loads the embedding model (seconds), which would otherwise be
    the p95 of a small set. Latencies are reported warm, as a running app answers."""
    retriever.search("warm up the retriever", 1)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
