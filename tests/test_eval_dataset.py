"""Checks evals/public.jsonl: its format, unique ids, the required counts and, when the guide
stand-in sits next to the repo, that every expected URL exists and every must_mention term is on it."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DATASET = Path(__file__).resolve().parents[1] / "evals" / "public.jsonl"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "inspired-guide"
SITE = "https://inspired.epd.eu/"
AUDIENCES = {
    "civil society organisations", "political parties", "public administration", "parliaments", "media",
    "social agents", "national human rights institutions", "academia", "democracy support organisations",
    "donors", "the partner government", "the dialogue host",
}
Persona = Literal["facilitator", "envoy", "staff"]


def _short_terms(terms: list[str], most: int) -> list[str]:
    if len(terms) > most:
        raise ValueError(f"at most {most} terms")
    if any(not 1 <= len(t.split()) <= 3 for t in terms):
        raise ValueError("each term must be 1-3 words")
    return terms


def _site_urls(urls: list[str]) -> list[str]:
    if any(not u.startswith(SITE) for u in urls):
        raise ValueError("expected URLs must be pages of the guide site")
    return urls


class QaCase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^q\d{3}$")
    kind: Literal["qa"]
    persona: Persona
    question: str = Field(min_length=2)
    expected_urls: list[str]
    must_mention: list[str]
    answerable: bool
    tags: list[str] = Field(default_factory=list)

    _urls = field_validator("expected_urls")(_site_urls)

    @field_validator("must_mention")
    @classmethod
    def _mention(cls, terms: list[str]) -> list[str]:
        return _short_terms(terms, 3)


class DraftingCase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^d\d{3}$")
    kind: Literal["briefing", "talking_points"]
    persona: Persona
    request: str = Field(min_length=10)
    expected_urls: list[str] = Field(min_length=1)
    must_cover: list[str] = Field(min_length=2, max_length=4)
    country: str | None = None
    audience: str | None = None
    unknown_facts: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)

    _urls = field_validator("expected_urls")(_site_urls)


def _load_rows() -> list[dict]:
    return [json.loads(line) for line in DATASET.read_text(encoding="utf-8").splitlines() if line.strip()]


def _parse(row: dict) -> QaCase | DraftingCase:
    return QaCase.model_validate(row) if row.get("kind") == "qa" else DraftingCase.model_validate(row)


@pytest.fixture(scope="module")
def cases() -> list[QaCase | DraftingCase]:
    return [_parse(row) for row in _load_rows()]


@pytest.fixture(scope="module")
def questions(cases) -> list[QaCase]:
    return [c for c in cases if isinstance(c, QaCase)]


@pytest.fixture(scope="module")
def drafts(cases) -> list[DraftingCase]:
    return [c for c in cases if isinstance(c, DraftingCase)]


def _tagged(questions: list[QaCase], tag: str) -> list[QaCase]:
    return [q for q in questions if tag in q.tags]


def test_every_line_parses_into_a_case():
    problems = []
    for n, line in enumerate(DATASET.read_text(encoding="utf-8").splitlines(), 1):
        try:
            _parse(json.loads(line))
        except (json.JSONDecodeError, ValidationError) as err:
            problems.append(f"line {n}: {err}")
    assert not problems, "\n".join(problems)


def test_ids_are_unique(cases):
    repeated = [i for i, n in Counter(c.id for c in cases).items() if n > 1]
    assert not repeated


def test_answerable_questions_name_pages_and_terms(questions):
    bad = [q.id for q in questions if q.answerable and (not q.expected_urls or not q.must_mention)]
    assert not bad


def test_unanswerable_questions_expect_nothing_and_are_tagged(questions):
    bad = [
        q.id for q in questions
        if not q.answerable and (q.expected_urls or q.must_mention or "unanswerable" not in q.tags)
    ]
    assert not bad
    assert all(not q.answerable for q in _tagged(questions, "unanswerable"))
    assert all("unanswerable" in q.tags for q in _tagged(questions, "injection"))


def test_question_counts(questions):
    assert len(questions) >= 90
    assert len(_tagged(questions, "paraphrase")) >= 18
    assert len(_tagged(questions, "keyword")) >= 12
    assert len(_tagged(questions, "unanswerable")) - len(_tagged(questions, "injection")) >= 15
    assert len(_tagged(questions, "injection")) >= 3
    assert len(_tagged(questions, "pt")) + len(_tagged(questions, "es")) >= 6


def test_personas_are_roughly_even(questions):
    counts = Counter(q.persona for q in questions)
    assert set(counts) == {"facilitator", "envoy", "staff"}
    assert min(counts.values()) >= len(questions) / 4


def test_multi_page_questions_name_several_pages(questions):
    multi = _tagged(questions, "multi")
    assert len(multi) >= 6
    assert all(2 <= len(q.expected_urls) <= 3 for q in multi)


def test_translated_questions_point_at_pages_in_their_language(questions):
    for tag, folder in (("pt", "portugues/"), ("es", "espanol/")):
        for q in _tagged(questions, tag):
            assert all(u.startswith(SITE + folder) for u in q.expected_urls), q.id


def test_drafting_counts_and_audiences(drafts):
    kinds = Counter(d.kind for d in drafts)
    assert len(drafts) >= 32
    assert kinds["briefing"] >= 12
    assert kinds["talking_points"] >= 18
    audiences = [d.audience for d in drafts if d.kind == "talking_points"]
    assert set(audiences) == AUDIENCES, "every audience once, and no other value"


def _corpus_pages() -> dict[str, str]:
    """Page URL -> lower-cased body text, read from the front matter of each stand-in page."""
    pages = {}
    for path in CORPUS.rglob("*.md"):
        text = path.read_text(encoding="utf-8")
        front, _, body = text.removeprefix("---\n").partition("\n---\n")
        url = re.search(r"^url:\s*(\S+)\s*$", front, re.M)
        if url:
            pages[url.group(1)] = body.lower()
    return pages


@pytest.mark.skipif(not CORPUS.is_dir(), reason="guide stand-in not next to the repo")
def test_expected_urls_exist_and_hold_the_must_mention_terms(cases):
    pages = _corpus_pages()
    problems = [f"{c.id}: unknown URL {u}" for c in cases for u in c.expected_urls if u not in pages]
    problems += [
        f"{q.id}: '{term}' not on any expected page"
        for q in cases if isinstance(q, QaCase)
        for term in q.must_mention
        if not any(term.lower() in pages.get(u, "") for u in q.expected_urls)
    ]
    assert not problems, "\n".join(problems)



def test_the_out_of_scope_set_is_unanswerable_questions_none_of_them_in_the_public_set():
    from assistant.evaluation import load_dataset

    scope = load_dataset(DATASET.with_name("scope.jsonl"))
    public = {row["question"].casefold() for row in _load_rows() if row.get("kind") == "qa"}
    assert len(scope) >= 60 and len({item.id for item in scope}) == len(scope)
    assert all(item.kind == "qa" and not item.answerable and "unanswerable" in item.tags for item in scope)
    assert not public & {item.question.casefold() for item in scope}


@pytest.mark.parametrize("name", ["probe.jsonl", "dev.jsonl"])
def test_the_measuring_sets_load_with_unique_ids_none_copied_from_the_public_set(name):
    from assistant.evaluation import load_dataset

    items = load_dataset(DATASET.with_name(name))
    public = {row["question"].casefold() for row in _load_rows() if row.get("kind") == "qa"}
    assert len({item.id for item in items}) == len(items)
    assert not public & {item.question.casefold() for item in items if item.kind == "qa"}
    if CORPUS.is_dir():
        pages = _corpus_pages()
        assert not [u for item in items for u in item.expected_urls if u not in pages]
