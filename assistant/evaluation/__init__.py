"""Eval datasets in the shared JSONL format (questions and drafting tasks), and their runners."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..sources.common import normalise_page_url


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
    def _tags_by_other_names(cls, line):
        """Other teams' sets may tag a line with one word ("tags": "injection") or under another name ("tag",
        "category", "type"): all are read as tags, so their injection lines are scored as injections. A single
        expected URL or term may come as a string."""
        if not isinstance(line, dict):
            return line
        tags = []
        for field in ("tags", "tag", "category", "categories", "type"):
            value = line.get(field)
            tags += [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
        # One URL or term given as a string instead of a list of one.
        lists = {field: [line[field]] for field in ("expected_urls", "must_mention", "must_cover", "unknown_facts") if isinstance(line.get(field), str)}
        return {**line, **lists, "tags": list(dict.fromkeys(t.strip().lower() for t in tags if t.strip()))}

    @field_validator("expected_urls")
    @classmethod
    def _as_indexed(cls, urls: list[str]) -> list[str]:
        """Written as the index writes page URLs: ".../11-high-level-missions/", "...#purpose" or "....md" name the page too."""
        return [normalise_page_url(url) for url in urls]


def load_dataset(path: Path) -> list[EvalItem]:
    if not path.is_file():
        raise DatasetError(f"dataset not found: {path}")
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            items.append(EvalItem.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise DatasetError(f"{path}:{number}: not a valid eval line ({str(exc).splitlines()[0]})") from exc
    if not items:
        raise DatasetError(f"{path} holds no eval lines")
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


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
