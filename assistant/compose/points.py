"""Talking points for one audience: what its own page says of its stake, then what the guide says on the topic."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, Field

from ..models import Chunk, SearchHit, TalkingPoint, TalkingPoints
from ..retrieval import SearchFilters
from .audiences import AUDIENCES, is_audience_page, is_audience_role_page, resolve_audience
from .citations import CitationRegistry, passages_block, resolve_citations, strip_citations
from .drafting import Drafting, quotable_sentences
from .extractive import Sentence, select_sentences
from .llm import UNUSABLE_NOTICE, LLMFailure
from .places import case_countries, countries_in
from .text import points_back

MAX_POINTS = 8
MAX_CASE_COUNTRIES = 2  # a sentence naming more lists countries rather than telling a case
MAX_POINT_WORDS = 60  # a point takes the sentence after its own only while it stays short enough to say
MAX_LINKED_WORDS = 90  # …or, when that sentence leans on it ("This is a fair concern, but…"), while it stays under this
MIN_VALID_MODEL_POINTS = 3
NO_OWN_PAGE = "The guide has no page of its own on {name}: these points quote the passages closest to your request."


class DraftPoint(BaseModel):
    point: str
    rationale: str = ""
    sources: list[int] = Field(default_factory=list)


class DraftPoints(BaseModel):
    points: list[DraftPoint]


@dataclass(frozen=True)
class Facet:
    """One side of what a speaker needs, with its own retrieval query and its own share of the points."""

    kind: str  # "audience", "topic" or "case"
    query: str  # {name} is the audience, {topic} what the meeting is about
    points: int
    hits: int = 8  # passages retrieved for it (and, for the audience, from its own pages)


# One query for "audience + topic" returns one cluster of look-alike passages and lets either side crowd out
# the other: the audience's own stake and the meeting's topic are retrieved and quoted separately, and one point
# is a case from a country where INSPIRED ran, the evidence a listener remembers. (Generic facets such as
# "why they gain" or "risks" were tried and pulled in vaguer sentences.)
# The audience's points come one per paragraph of its page (or one per role page), so they span its stake; the
# topic's query names the audience: "a press briefing" alone finds passages on briefing visitors, not on the media.
# With 3 audience / 3 topic points and the last point from both, the public set's talking points covered 0.737 of
# their must-cover topics (2 / 5, the split before audience points were spread over paragraphs: 0.702); 0.754 once
# the top-up was ranked by the topic query. Leaving the audience's own pages to the audience facet alone: 0.667.
AUDIENCE_FACET = Facet("audience", "{name}: their role, interests and contribution in the policy dialogue", 3)
TOPIC_FACET = Facet("topic", "{topic} ({name})", 3)
# Cases sit in a page's later passages, which page diversity ranks low: the case facet reads further down.
CASE_FACET = Facet("case", "{topic}: what happened in a country where INSPIRED ran", 1, hits=24)
TOPIC_ONLY_FACET = Facet("topic", TOPIC_FACET.query, AUDIENCE_FACET.points + TOPIC_FACET.points)
# "Talking points for…" says what to write, not what it is about.
_REQUEST_WORDS = re.compile(
    r"\b(?:(?:draft|write|prepare|some)\s+)*(?:talking\s+)?points?\b\s*(?:for|to|on|about)?\s*"
    r"|\b(?:pontos\s+de\s+conversa|puntos\s+de\s+conversaci[oó]n|puntos\s+clave|mensagens[- ]chave|mensajes\s+clave)\b\s*(?:para|sobre)?\s*",
    re.I,
)


def write_points(drafting: Drafting, audience: str, topic: str | None = None, *, owner: str | None = None) -> TalkingPoints:
    key = resolve_audience(audience)
    name = AUDIENCES[key]
    topic = (topic or "").strip() or None
    facets = _facet_hits(drafting, key, topic, owner)
    hits = _unique([hit for _, hits in facets for hit in hits])
    # Said plainly: points for an audience the guide does not discuss rest on what it says of others.
    pageless = None if any(is_audience_page(h.chunk, key) for h in hits) else NO_OWN_PAGE.format(name=name.lower())
    if drafting.chat_model is not None and hits:
        try:
            return _model_points(drafting, name, topic, hits).model_copy(update={"notice": pageless})
        except LLMFailure as failure:
            return _extract_points(drafting, key, topic, facets, notice=" ".join(filter(None, [failure.notice, pageless])))
    return _extract_points(drafting, key, topic, facets, notice=pageless)


def topic_query(topic: str | None) -> str:
    return re.sub(r"\s+", " ", _REQUEST_WORDS.sub(" ", topic or "")).strip(" .:;,-")


def facet_query(facet: Facet, name: str, topic: str | None) -> str:
    return re.sub(r"\s+", " ", facet.query.format(name=name, topic=topic_query(topic))).strip()


def _facet_hits(drafting: Drafting, key: str, topic: str | None, owner: str | None) -> list[tuple[Facet, list[SearchHit]]]:
    """Each facet's passages; the audience's own pages lead its facet. Without a topic the audience takes every point;
    an audience the guide has no page on (academia, NHRIs…) gives its points to the topic: what the guide says of
    "their role" is then about other actors' roles."""
    name = AUDIENCES[key]
    query = facet_query(AUDIENCE_FACET, name, topic)
    audience = _own_pages_first(drafting, key, query, drafting.search(query, AUDIENCE_FACET.hits, owner=owner))
    if not topic_query(topic):
        return [(Facet("audience", AUDIENCE_FACET.query, MAX_POINTS), audience)]
    if any(is_audience_page(h.chunk, key) for h in audience):
        found, facets = [(AUDIENCE_FACET, audience)], (TOPIC_FACET, CASE_FACET)
    else:
        found, facets = [], (TOPIC_ONLY_FACET, CASE_FACET)
    return found + [(facet, drafting.search(facet_query(facet, name, topic), facet.hits, owner=owner)) for facet in facets]


def _own_pages_first(drafting: Drafting, key: str, query: str, hits: list[SearchHit]) -> list[SearchHit]:
    """The audience's page and the pages of its roles under it (the Dialogue Host convenes, facilitates, reports…),
    then whatever else was found."""
    own_page = next((h.chunk for h in hits if is_audience_page(h.chunk, key)), None)
    own = drafting.search(query, AUDIENCE_FACET.hits, filters=SearchFilters(family=own_page.title)) if own_page else []
    return _unique(own + sorted(hits, key=lambda h: not is_audience_page(h.chunk, key)))


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
    everything = quotable_sentences(_unique([h for _, hits in facets for h in hits]))
    followers = {(s.chunk.id, s.previous): s.text for s in everything}
    selected = _facet_sentences(key, topic, facets, embed)
    registry = CitationRegistry()
    said: set[str] = set()
    points = [point for s in selected if (point := _point(s, key, topic, followers, said, registry))][:MAX_POINTS]
    if len(points) < MAX_POINTS:
        # Facets fall short when a sentence was already said: top up from everything retrieved, ranked as the topic
        # facet ranks it. (The audience's name first in the query drew sentences that merely name the audience.)
        unsaid = [s for s in everything if s.text not in said]
        query = facet_query(TOPIC_FACET, name, topic) if topic_query(topic) else name
        ranked = select_sentences(query, unsaid, embed, len(unsaid), at_least=len(unsaid), after=selected)
        for sentence in ranked:
            if len(points) == MAX_POINTS:
                break
            if point := _point(sentence, key, topic, followers, said, registry):
                points.append(point)
    return TalkingPoints(audience=name, topic=topic, points=points, mode="extractive", notice=notice)


def _facet_sentences(key: str, topic: str | None, facets: list[tuple[Facet, list[SearchHit]]], embed) -> list[Sentence]:
    name = AUDIENCES[key]
    selected: list[Sentence] = []
    for facet, hits in facets:
        sentences = quotable_sentences(hits)
        query = facet_query(facet, name, topic)
        if facet.kind == "audience" and topic_query(topic):
            query = f"{name}: {topic_query(topic)}"
        if facet.kind == "case":
            selected += _country_case(query, sentences, embed, selected)
            continue
        taken = _one_per_part(key, query, sentences, embed, facet.points, selected) if facet.kind == "audience" else []
        selected += taken + select_sentences(query, sentences, embed, facet.points - len(taken), after=[*selected, *taken])
    return selected


def _point(
    sentence: Sentence, key: str, topic: str | None, followers: dict, said: set[str], registry: CitationRegistry
) -> TalkingPoint | None:
    run = point_sentences(sentence, followers.get((sentence.chunk.id, sentence.text)), said)
    if run is None:
        return None
    citation = registry.cite(sentence.chunk)
    label = point_label(sentence.chunk, key)
    lead = (f"**{label}** " if label.endswith(("?", "!", ".", ":")) else f"**{label}:** ") if label else ""
    return TalkingPoint(point=f"{lead}{' '.join(run)} [{citation.n}]", rationale=point_rationale(sentence, key, topic), citations=[citation])


def point_rationale(sentence: Sentence, key: str, topic: str | None) -> str:
    """Why the point is there: the audience's own page, one of its roles, a country's case, or the topic."""
    name = AUDIENCES[key].lower()
    chunk = sentence.chunk
    where = " › ".join(chunk.heading_path)
    if is_audience_page(chunk, key):
        return f"From the guide's page on {name}" + (f" ({where})." if where else ".")
    if is_audience_role_page(chunk, key):
        return f"One of the roles the guide gives {name}: “{chunk.title}”."
    countries = told_case(sentence.standalone())
    if countries:
        places = ", ".join(countries[:-1]) + f" and {countries[-1]}" if len(countries) > 1 else countries[0]
        return f"What the guide reports from {places} (“{chunk.title}”)."
    return f"From “{chunk.title}”" + (f" ({where})" if where else "") + f", among the passages closest to {'the topic' if topic else name}."


def point_sentences(sentence: Sentence, follower: str | None, said: set[str]) -> list[str] | None:
    """A point in one to four sentences: the selected one after the one or two it refers to ("They…"), and the one
    that follows it when that one leans on it or, short enough, carries its example or its reason. None when an
    earlier point already said it, or when what it refers to cannot be shown with it ("For this reason, …" opening
    a passage)."""
    if sentence.dangling():
        # "All of this explains why X…" opening a passage: what follows it says X without leaning back.
        if follower is None or points_back(follower) or follower in said:
            return None
        said.add(follower)
        return [follower]
    lead = sentence.lead_in()
    run = [*lead, sentence.text]
    if follower:
        # The next sentence joins a point that leans on it ("This is where…"), or one without a lead while short.
        leans = points_back(follower)
        if (leans or not lead) and len(" ".join([*run, follower]).split()) <= (MAX_LINKED_WORDS if leans else MAX_POINT_WORDS):
            run.append(follower)
    if sentence.text in said or any(text in said for text in lead):
        return None  # said already, or "It also…" when what "it" is was said in another point
    run = [text for text in run if text not in said]
    said.update(run)
    return run


def _country_case(query: str, sentences: list[Sentence], embed, selected: list[Sentence]) -> list[Sentence]:
    """The closest case the guide tells of a country ("In INSPIRED Armenia, …"), unless a point already tells one."""
    if any(told_case(s.text) for s in selected):
        return []
    cases = [s for s in sentences if told_case(s.text)]
    return select_sentences(query, cases, embed, 1, after=selected)


def told_case(text: str) -> list[str]:
    """The countries whose case a sentence tells; none when it runs through a list of countries ("Whether in
    Armenia, Mongolia, Kyrgyzstan or Georgia…"), which is no one country's story."""
    if len(countries_in(text, demonyms=True)) > MAX_CASE_COUNTRIES:
        return []
    return case_countries(text)


def _one_per_part(key: str, query: str, sentences: list[Sentence], embed, limit: int, after: list[Sentence]) -> list[Sentence]:
    """The best sentence of each part of the audience's pages, the ``limit`` best of them: each paragraph of its own
    page (parliaments vote budgets, oversee the government…) and each of its role pages (the host convenes,
    facilitates, reports…). Ranked by the topic alone, five sentences of one paragraph would come first."""
    parts: dict[tuple, list[Sentence]] = {}
    for sentence in sentences:
        if is_audience_page(sentence.chunk, key):
            parts.setdefault((sentence.chunk.id, sentence.paragraph), []).append(sentence)
        elif is_audience_role_page(sentence.chunk, key):
            parts.setdefault((sentence.chunk.url,), []).append(sentence)
    leads: list[Sentence] = []
    for part in parts.values():
        leads += select_sentences(query, part, embed, 1, after=[*after, *leads])
    return select_sentences(query, leads, embed, limit, at_least=limit, after=after)


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
