"""Talking points for one audience: its stakeholder page first, then the pages closest to the topic."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ..models import SearchHit, TalkingPoint, TalkingPoints
from .audiences import AUDIENCES, is_audience_page, resolve_audience
from .citations import CitationRegistry, passages_block, resolve_citations, strip_citations
from .drafting import Drafting
from .extractive import passage_sentences, select_sentences
from .llm import UNUSABLE_NOTICE, LLMFailure

MAX_POINTS = 8
EXTRACT_POINTS, MIN_EXTRACT_POINTS = 7, 5
MIN_VALID_MODEL_POINTS = 3
HITS_PER_QUERY = 8


class DraftPoint(BaseModel):
    point: str
    rationale: str = ""
    sources: list[int] = Field(default_factory=list)


class DraftPoints(BaseModel):
    points: list[DraftPoint]


def write_points(drafting: Drafting, audience: str, topic: str | None = None, *, owner: str | None = None) -> TalkingPoints:
    key = resolve_audience(audience)
    name = AUDIENCES[key]
    topic = (topic or "").strip() or None
    hits = _points_hits(drafting, key, topic, owner)
    if drafting.chat_model is not None and hits:
        try:
            return _model_points(drafting, name, topic, hits)
        except LLMFailure as failure:
            return _extract_points(drafting, key, topic, hits, notice=failure.notice)
    return _extract_points(drafting, key, topic, hits)


def _points_hits(drafting: Drafting, key: str, topic: str | None, owner: str | None) -> list[SearchHit]:
    """The audience's own page leads; topic passages follow; each passage once."""
    name = AUDIENCES[key]
    about_audience = drafting.search(f"{name}: their role, interests and contribution in the policy dialogue", HITS_PER_QUERY, owner=owner)
    about_topic = drafting.search(f"{topic} — {name}", HITS_PER_QUERY, owner=owner) if topic else []
    ordered = sorted(about_audience, key=lambda h: not is_audience_page(h.chunk, key)) + about_topic
    unique: dict[str, SearchHit] = {}
    for hit in ordered:
        unique.setdefault(hit.chunk.id, hit)
    return list(unique.values())


def _extract_points(drafting: Drafting, key: str, topic: str | None, hits: list[SearchHit], notice: str | None = None) -> TalkingPoints:
    name = AUDIENCES[key]
    registry = CitationRegistry()
    query = f"{name} {topic or ''}".strip()
    points = []
    selected = select_sentences(query, passage_sentences(hits), drafting.retriever.embed, EXTRACT_POINTS, at_least=MIN_EXTRACT_POINTS)
    for sentence in selected:
        citation = registry.cite(sentence.chunk)
        where = " › ".join(sentence.chunk.heading_path)
        if is_audience_page(sentence.chunk, key):
            rationale = f"From the guide's page on {name.lower()}" + (f" ({where})." if where else ".")
        else:
            rationale = f"From “{sentence.chunk.title}”" + (f" ({where})" if where else "") + f", relevant to {topic or name.lower()}."
        points.append(TalkingPoint(point=f"{sentence.standalone()} [{citation.n}]", rationale=rationale, citations=[citation]))
    return TalkingPoints(audience=name, topic=topic, points=points, mode="extractive", notice=notice)


def _model_points(drafting: Drafting, name: str, topic: str | None, hits: list[SearchHit]) -> TalkingPoints:
    chunks = [h.chunk for h in hits]
    draft = drafting.draft_json(
        "talking_points", DraftPoints, audience=name, topic_line=f" Topic: {topic}." if topic else "", passages=passages_block(chunks)
    )
    registry = CitationRegistry()
    points: list[TalkingPoint] = []
    for item in draft.points[:MAX_POINTS]:
        text = item.point.strip()
        if item.sources and "[" not in text:
            text += " " + "".join(f"[{n}]" for n in item.sources)
        text, cited, _ = resolve_citations(text, chunks, registry)
        if cited and text:
            points.append(TalkingPoint(point=text, rationale=strip_citations(item.rationale).strip(), citations=cited))
    if len(points) < MIN_VALID_MODEL_POINTS:
        raise LLMFailure(f"only {len(points)} talking points had valid sources", UNUSABLE_NOTICE)
    return TalkingPoints(audience=name, topic=topic, points=points, mode="llm")
