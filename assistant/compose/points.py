"""Talking points for one audience: what its own page says of its stake, then what the guide says on the topic."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, Field

from ..models import Chunk, SearchHit, TalkingPoint, TalkingPoints
from .audiences import AUDIENCES, is_audience_page, resolve_audience
from .citations import CitationRegistry, passages_block, resolve_citations, strip_citations
from .drafting import Drafting
from .extractive import Sentence, passage_sentences, select_sentences
from .llm import UNUSABLE_NOTICE, LLMFailure
from .text import is_signpost

MAX_POINTS = 10  # half on the audience's stake, half on the topic; 8 left too little room for either
MIN_EXTRACT_POINTS = 5
MIN_VALID_MODEL_POINTS = 3
HITS_PER_QUERY = 8


class DraftPoint(BaseModel):
    point: str
    rationale: str = ""
    sources: list[int] = Field(default_factory=list)


class DraftPoints(BaseModel):
    points: list[DraftPoint]


@dataclass(frozen=True)
class Facet:
    """One side of what a speaker needs, with its own retrieval query and its own share of the points."""

    query: str  # {name} is the audience, {topic} what the meeting is about
    points: int


# One query for "audience + topic" returns one cluster of look-alike passages and lets either side crowd out
# the other: the audience's own stake and the meeting's topic are retrieved and quoted separately. (Generic
# facets such as "why they gain" or "risks" were tried and pulled in vaguer sentences.)
AUDIENCE_FACET = Facet("{name}: their role, interests and contribution in the policy dialogue", MAX_POINTS // 2)
TOPIC_FACET = Facet("{topic}", MAX_POINTS - MAX_POINTS // 2)
FACETS = (AUDIENCE_FACET, TOPIC_FACET)
# "Talking points for…" says what to write, not what it is about.
_REQUEST_WORDS = re.compile(r"\b(?:(?:draft|write|prepare|some)\s+)*(?:talking\s+)?points?\b\s*(?:for|to|on|about)?\s*", re.I)


def write_points(drafting: Drafting, audience: str, topic: str | None = None, *, owner: str | None = None) -> TalkingPoints:
    key = resolve_audience(audience)
    name = AUDIENCES[key]
    topic = (topic or "").strip() or None
    facets = _facet_hits(drafting, key, topic, owner)
    hits = _unique([hit for _, hits in facets for hit in hits])
    if drafting.chat_model is not None and hits:
        try:
            return _model_points(drafting, name, topic, hits)
        except LLMFailure as failure:
            return _extract_points(drafting, key, topic, facets, notice=failure.notice)
    return _extract_points(drafting, key, topic, facets)


def topic_query(topic: str | None) -> str:
    return re.sub(r"\s+", " ", _REQUEST_WORDS.sub(" ", topic or "")).strip(" .:;,-")


def facet_query(facet: Facet, name: str, topic: str | None) -> str:
    return re.sub(r"\s+", " ", facet.query.format(name=name, topic=topic_query(topic))).strip()


def _facet_hits(drafting: Drafting, key: str, topic: str | None, owner: str | None) -> list[tuple[Facet, list[SearchHit]]]:
    """Each facet's passages; the audience's own page leads its facet. Without a topic the audience takes every point."""
    name = AUDIENCES[key]
    facets = FACETS if topic_query(topic) else (Facet(AUDIENCE_FACET.query, MAX_POINTS),)
    found = []
    for facet in facets:
        hits = drafting.search(facet_query(facet, name, topic), HITS_PER_QUERY, owner=owner)
        if facet.query == AUDIENCE_FACET.query:
            hits = sorted(hits, key=lambda h: not is_audience_page(h.chunk, key))
        found.append((facet, hits))
    return found


def _unique(hits: list[SearchHit]) -> list[SearchHit]:
    unique: dict[str, SearchHit] = {}
    for hit in hits:
        unique.setdefault(hit.chunk.id, hit)
    return list(unique.values())


def _extract_points(
    drafting: Drafting, key: str, topic: str | None, facets: list[tuple[Facet, list[SearchHit]]], notice: str | None = None
) -> TalkingPoints:
    """Each facet's best sentences from its own passages, none repeating what an earlier facet said."""
    name = AUDIENCES[key]
    embed = drafting.retriever.embed
    selected: list[Sentence] = []
    for facet, hits in facets:
        sentences = [s for s in passage_sentences(hits) if not is_signpost(s.text)]
        selected += select_sentences(facet_query(facet, name, topic), sentences, embed, facet.points, after=selected)
    if len(selected) < MIN_EXTRACT_POINTS:
        # Thin facets: top up from everything retrieved, closest to the audience and topic.
        everything = [s for s in passage_sentences(_unique([h for _, hits in facets for h in hits])) if not is_signpost(s.text)]
        query = f"{name} {topic_query(topic)}".strip()
        missing = MIN_EXTRACT_POINTS - len(selected)
        selected += select_sentences(query, everything, embed, missing, at_least=missing, after=selected)
    registry = CitationRegistry()
    points = []
    for sentence in selected[:MAX_POINTS]:
        citation = registry.cite(sentence.chunk)
        where = " › ".join(sentence.chunk.heading_path)
        if is_audience_page(sentence.chunk, key):
            rationale = f"From the guide's page on {name.lower()}" + (f" ({where})." if where else ".")
        else:
            rationale = f"From “{sentence.chunk.title}”" + (f" ({where})" if where else "") + f", among the passages closest to {'the topic' if topic else name.lower()}."
        label = point_label(sentence.chunk, key)
        lead = (f"**{label}** " if label.endswith(("?", "!", ".", ":")) else f"**{label}:** ") if label else ""
        points.append(TalkingPoint(point=f"{lead}{sentence.standalone()} [{citation.n}]", rationale=rationale, citations=[citation]))
    return TalkingPoints(audience=name, topic=topic, points=points, mode="extractive", notice=notice)


def point_label(chunk: Chunk, key: str) -> str:
    """What a point is about, in the guide's own words: the page it comes from, or its section on the audience's own page."""
    if is_audience_page(chunk, key):
        return chunk.heading_path[-1] if chunk.heading_path else ""
    return chunk.title


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
