"""Mission briefings: one targeted retrieval per section, each section cited, missing inputs listed as gaps."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from itertools import zip_longest

from pydantic import BaseModel, Field

from ..models import Briefing, BriefingRequest, BriefingSection, Citation, SearchHit
from ..retrieval import SearchFilters
from .audiences import AUDIENCES, audience_named_in, is_audience_page
from .citations import CitationRegistry, passages_block, renumber_in_reading_order, resolve_citations, strip_citations
from .drafting import DRAFT_LANGUAGE, Drafting, quotable_sentences
from .extractive import (
    ANSWER_LEAD_PAGES, Sentence, in_language, passage_sentences, reading_order, select_sentences, unsaid_lead_in,
)
from .llm import UNREACHABLE_NOTICE, UNUSABLE_NOTICE, LLMFailure
from .prompts import load_prompt_sections
from .places import countries_in, country_sentences, facts_to_check, mentions, other_countries_sentences
from .requests import complete_request, is_high_level_visit, request_gaps, request_questions
from .text import asks_about_the_world, asks_for_live_facts, fold, points_back

LOCAL_CONTEXT = "Local context"
QUESTIONS = "Your questions"
HITS_PER_SECTION = 5
MAX_MODEL_GAPS_PER_SECTION = 3


@dataclass(frozen=True)
class SectionSpec:
    heading: str
    query: str  # retrieval query; {placeholders} are filled from the request
    sentences: int
    bullets: bool = False
    with_notes: bool = False
    guidance: str = ""  # its heading in prompts/briefing_guidance.md, when not the section's own

    @property
    def guidance_key(self) -> str:
        return self.guidance or self.heading


LOCAL_CONTEXT_SPEC = SectionSpec(LOCAL_CONTEXT, "political situation and current context in {country}. {request}", 4, with_notes=True)
STAKEHOLDERS_SPEC = SectionSpec("Stakeholders involved and their stakes",
                                "stakeholders taking part in the policy dialogue and what they have at stake: {meetings} {policy_area}", 4, with_notes=True)
FOLLOW_UP_SPEC = SectionSpec("Follow-up",
                             "follow-up after the mission: monitoring commitments, reporting collective progress, next steps of the dialogue process", 3)
# A former head of state or government on a high-level mission: the toolkit's page on such missions says what
# they are for, what can go wrong and how to prepare them.
HIGH_LEVEL_SECTIONS = [
    SectionSpec("Purpose of the mission and fit in the dialogue process",
                "high-level missions: political buy-in, public endorsement of the dialogue process, unblocking a stalled dialogue. {purpose} {phase}", 4),
    LOCAL_CONTEXT_SPEC,
    STAKEHOLDERS_SPEC,
    SectionSpec("Key messages",
                "why inclusive, participatory policy dialogue and a jointly owned roadmap for reform benefit political leaders {policy_area}", 4, bullets=True),
    SectionSpec("Risks and sensitivities",
                "risks of a high-level mission: involving prominent political figures can backfire and must be handled with care", 3),
    SectionSpec("Do's and don'ts",
                "do's and don'ts for high-level missions: careful selection, good planning, visitors properly briefed", 4, bullets=True),
    FOLLOW_UP_SPEC,
]
# Anyone else (an ambassador meeting a ministry, a donor weighing support, a new programme officer): what the
# toolkit says of former heads of state would mislead them, so each section is about the dialogue itself.
BRIEFING_SECTIONS = [
    SectionSpec("Purpose and fit in the dialogue process",
                "{purpose} {policy_area}: where it stands in the INSPIRED dialogue process, its phases and who does what {phase}", 4),
    LOCAL_CONTEXT_SPEC,
    STAKEHOLDERS_SPEC,
    SectionSpec("Key messages",
                "what inclusive, participatory policy dialogue and a jointly owned roadmap for reform offer {policy_area}", 4, bullets=True,
                guidance="Key messages (any briefing)"),
    SectionSpec("Risks and sensitivities",
                "risks and sensitivities in an inclusive policy dialogue: polarisation, mistrust, weak local ownership, what can go wrong {policy_area}",
                3, guidance="Risks and sensitivities (any briefing)"),
    SectionSpec("Do's and don'ts",
                "do's and don'ts for {travellers} in an inclusive policy dialogue: what to do and what to avoid {purpose}", 4, bullets=True,
                guidance="Do's and don'ts (any briefing)"),
    FOLLOW_UP_SPEC,
]

# Written first, so the passages they most need are not already quoted by the broader sections: the few
# sentences on the country can only go in the local context.
COUNTRY_SENTENCES = 5  # what the guide says of the country, at most: a story runs on for two sentences after naming it
# Each counterpart the visitor meets is one of the guide's stakeholders: what its own page says of its stake.
MEETING_QUERY = "{name}: their role, interests and stake in the policy dialogue {policy_area}"
MAX_MEETINGS = 3
SENTENCES_PER_MEETING = 2
WRITTEN_FIRST = (LOCAL_CONTEXT, "Risks and sensitivities", "Do's and don'ts")
# The request's own questions ("Brief her on the approach, the donor's role and how to pick a host") are answered
# in a section of their own, after the purpose: each with the sentences closest to it, or a pointer to the section
# that already quotes them.
SENTENCES_PER_QUESTION = 2
# "…what we don't know yet": the list of gaps is the answer.
_ASKS_FOR_UNKNOWNS = re.compile(r"\b(?:don't|don’t|do not|does not|doesn't)\s+know\b|\bunknowns?\b", re.I)
_GUIDE_SAYS = re.compile(r"^what\s+the\s+guide\s+says\s+(?:about|on)\s+", re.I)
_WH_WORD = re.compile(r"(?:how|what|who|whom|whose|why|where|when|whether|which)\b", re.I)
_PRONOUN = re.compile(r"\b(?:it|its|they|them|their|this|that)\b", re.I)


def section_specs(request: BriefingRequest) -> list[SectionSpec]:
    return HIGH_LEVEL_SECTIONS if is_high_level_visit(request) else BRIEFING_SECTIONS


def briefing_title(request: BriefingRequest) -> str:
    high_level = is_high_level_visit(request)
    who = request.travellers[0].upper() + request.travellers[1:] if request.travellers else ("High-level visit" if high_level else "")
    title = f"{'Mission briefing' if high_level else 'Briefing'}{': ' if who else ''}{who}"
    return title + (f" — {request.country}" if request.country else "")


def mission_summary(request: BriefingRequest) -> str:
    fields = {
        "Request": request.request, "Country": request.country, "Purpose": request.purpose, "Travellers": request.travellers,
        "Policy area": request.policy_area, "Phase": request.phase, "Meetings": ", ".join(request.meetings),
        "Questions": "; ".join(request_questions(request.request or "")),
    }
    return "\n".join(f"{name}: {value}" for name, value in fields.items() if value)


# -- writing ----------------------------------------------------------------------------------
class DraftSection(BaseModel):
    markdown: str
    gaps: list[str] = Field(default_factory=list)


class _State:
    """What the sections share: one numbering of sources, the gaps found, and whether the model still answers."""

    def __init__(self, use_model: bool):
        self.registry = CitationRegistry()
        self.gaps: list[str] = []
        self.use_model = use_model
        self.model_sections = 0
        self.notice: str | None = None
        self.used: list[Sentence] = []  # sentences already quoted: each is quoted in one section only
        self.quoted_in: dict[str, str] = {}  # sentence → the heading of the section quoting it


def write_briefing(drafting: Drafting, request: BriefingRequest, *, owner: str | None = None) -> Briefing:
    request = complete_request(request)
    state = _State(use_model=drafting.chat_model is not None)
    state.gaps.extend(request_gaps(request))
    written: dict[str, BriefingSection] = {}
    specs = section_specs(request)
    for spec in sorted(specs, key=lambda spec: WRITTEN_FIRST.index(spec.heading) if spec.heading in WRITTEN_FIRST else len(WRITTEN_FIRST)):
        if spec is LOCAL_CONTEXT_SPEC:
            written[spec.heading] = _local_context(drafting, request, owner, state)
        else:
            written[spec.heading] = _section(drafting, spec, request, owner, state, meetings=spec is STAKEHOLDERS_SPEC)
    ordered = [written[spec.heading] for spec in specs]
    # Written last, so that a question another section already answers points there instead of repeating it.
    if questions := request_questions(request.request or ""):
        ordered.insert(1, _questions(drafting, questions, request, owner, state))
    renumbered = renumber_in_reading_order([(s.markdown, s.citations) for s in ordered])
    sections = [s.model_copy(update={"markdown": md, "citations": cites}) for s, (md, cites) in zip(ordered, renumbered)]
    return Briefing(
        title=briefing_title(request), request=request, sections=sections, gaps=list(dict.fromkeys(state.gaps)),
        mode="llm" if state.model_sections else "extractive", notice=state.notice,
    )


def _query(spec: SectionSpec, request: BriefingRequest) -> str:
    values = {
        "request": request.request, "purpose": request.purpose or "", "phase": request.phase or "",
        "country": request.country or "", "meetings": ", ".join(request.meetings), "policy_area": request.policy_area or "",
        "travellers": request.travellers or "",
    }
    return re.sub(r"\s+", " ", spec.query.format(**values)).strip()


def _section(
    drafting: Drafting, spec: SectionSpec, request: BriefingRequest, owner: str | None, state: _State, *, meetings: bool = False
) -> BriefingSection:
    """The section's passages come from two queries: what such a section always needs, and what this request asks
    of it; the sentences quoted are the ones closest to both. With ``meetings``, each counterpart the visitor
    meets first gets what the guide's page on that stakeholder says."""
    query = _query(spec, request)
    focus = _focus_query(spec, request)
    notes_owner = owner if spec.with_notes else None
    hits = drafting.search(query, HITS_PER_SECTION, owner=notes_owner)
    if focus:
        hits = _merged(hits, drafting.search(focus, HITS_PER_SECTION, owner=notes_owner))
    hits = [h for h in hits if _about_the_country(h, request.country)]
    counterparts = _counterpart_hits(drafting, request) if meetings else []
    on_counterparts = [hit for _, _, found in counterparts for hit in found]
    drafted = _model_section(drafting, spec.heading, _merged(on_counterparts, hits), request, state, guidance=spec.guidance_key)
    if drafted is not None:
        return drafted
    embed = drafting.retriever.embed
    parts: list[BriefingSection] = []
    for meeting, name, found in counterparts:
        quoted = select_sentences(_meeting_query(name, request), _quotable(found, request.country), embed, SENTENCES_PER_MEETING, after=state.used)
        if quoted:
            part = _extract_section(spec.heading, reading_order(quoted), state)
            parts.append(part.model_copy(update={"markdown": f"**{meeting[0].upper()}{meeting[1:]}** ({name.lower()} in the guide): {part.markdown}"}))
    count = max(1, spec.sentences - SENTENCES_PER_MEETING * len(parts))
    sentences = select_sentences(f"{query} {focus}".strip(), _quotable(hits, request.country), embed, count, after=state.used)
    if sentences:
        parts.append(_extract_section(spec.heading, reading_order(sentences), state, bullets=spec.bullets))
    if not parts:
        state.gaps.append(f"{spec.heading}: the guide has nothing on this for the mission — add your own notes")
        return BriefingSection(heading=spec.heading, markdown="The guide has no passage on this for the mission.")
    if len(parts) == 1:
        return parts[0]
    citations = {c.n: c for part in parts for c in part.citations}
    return BriefingSection(heading=spec.heading, markdown="\n\n".join(p.markdown for p in parts), citations=list(citations.values()))


def _questions(drafting: Drafting, questions: list[str], request: BriefingRequest, owner: str | None, state: _State) -> BriefingSection:
    """Each question of the request with what the guide says to it, or that the guide does not say."""
    queries = question_queries(questions, request.country, in_guide=bool(request.country) and drafting.retriever.knows(request.country))
    found = [drafting.search(query, HITS_PER_SECTION, owner=owner) for query in queries]
    drafted = _model_section(drafting, QUESTIONS, _merged(*found), request, state)
    if drafted is not None:
        return drafted
    parts, citations = [], []
    for question, query, hits in zip(questions, queries, found):
        asked = question[0].upper() + question[1:]
        lead = f"**{asked}{'?' if _WH_WORD.match(question) else ':'}**"
        if _ASKS_FOR_UNKNOWNS.search(question):
            parts.append(f"{lead} See *Gaps — to be supplied* at the end of this briefing.")
            continue
        hits = [h for h in hits if _about_the_country(h, request.country)]
        # "For this reason, …" whose reason another section quotes would be read without it: a pointer does better.
        said = {s.text for s in state.used}
        candidates = [
            s for s in _quotable(hits, request.country)
            if not _names_another_country(s.text, request.country) and not (s.antecedent in said and points_back(s.text))
        ]
        # Chosen as a chat answer is: the pages retrieved first lead, so "how should the first phase be convened?"
        # quotes the page on convening, not the nearest-sounding sentence on phases.
        best = select_sentences(query, candidates, drafting.retriever.embed, SENTENCES_PER_QUESTION, lead_pages=ANSWER_LEAD_PAGES)
        live = asks_for_live_facts(question) or asks_about_the_world(question)
        if live or not best or drafting.confidence(query, hits) < drafting.abstain_threshold:
            state.gaps.append(f"{asked}: the guide does not cover this — add your own notes")
            parts.append(f"{lead} The guide does not cover this.")
            continue
        answer, cited = _answer(best, state)
        parts.append(f"{lead} {answer}")
        citations += [c for c in cited if c not in citations]
    return BriefingSection(heading=QUESTIONS, markdown="\n\n".join(parts), citations=citations)


def _answer(best: list[Sentence], state: _State) -> tuple[str, list[Citation]]:
    """A question's answer: what another section already quotes is pointed to, not repeated; the rest is quoted."""
    quoted = [s for s in best if s.text in state.quoted_in]
    # When the best of it is already quoted elsewhere, weaker sentences quoted here would only blur the pointer.
    fresh = [s for s in best if s.text not in state.quoted_in] if best and best[0].text not in state.quoted_in else []
    answer, citations = [], []
    if fresh:
        part = _extract_section(QUESTIONS, reading_order(fresh), state)
        answer.append(part.markdown.replace("\n\n", " "))
        citations += part.citations
    if quoted:
        cited = list({c.n: c for c in (state.registry.cite(s.chunk) for s in quoted)}.values())
        # Quoted for an earlier question of this section: "the answer above", not "See *Your questions*".
        sections = " and ".join(
            "the answer above" if heading == QUESTIONS else f"*{heading}*"
            for heading in dict.fromkeys(state.quoted_in[s.text] for s in quoted)
        )
        answer.append(f"See {'also ' if fresh else ''}{sections} {''.join(f'[{c.n}]' for c in cited)}.")
        citations += [c for c in cited if c not in citations]
    return " ".join(answer), citations


def _names_another_country(text: str, country: str | None) -> bool:
    """In a briefing on one country, "In Mongolia, …" does not answer "what INSPIRED has done" there."""
    named = countries_in(text, demonyms=True)
    return bool(country) and bool(named) and country not in named


def question_queries(questions: list[str], country: str | None = None, *, in_guide: bool = False) -> list[str]:
    """What to search for each question: "what it produced", after "the social justice dialogue", is what that
    dialogue produced; "what the guide says about X" is X; "there" is the mission's country; "the approach" is
    INSPIRED's (alone, it found the page on who the website is for)."""
    queries: list[str] = []
    for question in questions:
        query = _GUIDE_SAYS.sub("", question)
        if country:
            query = re.sub(r"\bthere\b", f"in {country}", query)
        if queries and _PRONOUN.search(query):
            query = f"{query} ({queries[-1]})"
        elif "inspired" not in query.casefold():
            query = f"{query} (INSPIRED in {country})" if in_guide and country not in query else f"{query} (INSPIRED)"
        queries.append(query)
    return queries


def _quotable(hits: list[SearchHit], country: str | None) -> list[Sentence]:
    """The passages' sentences a briefing can quote: not another country's case told without naming it, nor
    "For this reason, …" opening a paragraph, whose reason is in another one."""
    elsewhere = unnamed_elsewhere(hits, country)
    return [s for s in quotable_sentences(hits) if s.text not in elsewhere and not s.dangling()]


def _meeting_query(name: str, request: BriefingRequest) -> str:
    return re.sub(r"\s+", " ", MEETING_QUERY.format(name=name, policy_area=request.policy_area or "")).strip()


def _counterpart_hits(drafting: Drafting, request: BriefingRequest) -> list[tuple[str, str, list[SearchHit]]]:
    """(meeting as typed, the guide's stakeholder, passages of that stakeholder's own page) for each meeting that
    names one ("the minister" is the Partner Government, "civil society" its organisations), each stakeholder once."""
    found, seen = [], set()
    for meeting in request.meetings:
        key = audience_named_in(meeting)
        if key is None or key in seen or len(found) == MAX_MEETINGS:
            continue
        seen.add(key)
        name = AUDIENCES[key]
        hits = [h for h in drafting.search(_meeting_query(name, request), HITS_PER_SECTION * 2) if is_audience_page(h.chunk, key)]
        if hits:
            found.append((meeting, name, hits))
    return found


def unnamed_elsewhere(hits: list[SearchHit], country: str | None) -> set[str]:
    """Sentences telling another country's case without naming it ("Evo and his colleagues…"): in a briefing on
    this country a reader would take them for its own. An example that names its country speaks for itself."""
    if not country:
        return set()
    return {text for text in other_countries_sentences(hits, [country]) if not countries_in(text, demonyms=True)}


def _focus_query(spec: SectionSpec, request: BriefingRequest) -> str:
    """The request itself, read for this section ("… — Risks and sensitivities"); empty when there is no request."""
    text = (request.request or "").strip()
    return f"{text} — {spec.heading}" if text else ""


def _merged(*lists: list[SearchHit]) -> list[SearchHit]:
    """The lists interleaved, best first, each passage once."""
    merged: dict[str, SearchHit] = {}
    for row in zip_longest(*lists):
        for hit in row:
            if hit is not None:
                merged.setdefault(hit.chunk.id, hit)
    return list(merged.values())


def _local_context(drafting: Drafting, request: BriefingRequest, owner: str | None, state: _State) -> BriefingSection:
    """The user's notes and what the guide says of that country — labelled apart, never anything else."""
    country = request.country
    if not country:
        return BriefingSection(heading=LOCAL_CONTEXT, markdown="No country was given, so there is no local context to report.")
    query = _query(LOCAL_CONTEXT_SPEC, request)
    notes = _country_notes(drafting, query, country, owner)
    on_request = drafting.search(f"{country}: {request.request}", 8, filters=SearchFilters(source_kind="guide")) if request.request else []
    guide_hits = _merged(drafting.search(country, 8, filters=SearchFilters(source_kind="guide")), on_request)
    guide = [h for h in guide_hits if mentions(h.chunk.text, country)]
    # The guide tells a country's story in each of its languages: quote the one the request retrieves.
    language = Counter(h.chunk.lang for h in on_request or guide_hits).most_common(1)[0][0] if guide_hits else None
    guide = [h for h in guide if h.chunk.lang == language] or guide
    if not notes:
        detail = "not in the guide — add your country notes" if not guide else "add your country notes"
        state.gaps.append(f"Current political and security situation in {country} ({detail})")
    if not notes and not guide:
        return BriefingSection(
            heading=LOCAL_CONTEXT,
            markdown=f"Neither the guide nor your notes say anything about the current context in {country}.",
        )
    # The guide's sentences on that country closest to what the request is about, not merely the first found.
    on_country = in_language(country_sentences(guide, country), DRAFT_LANGUAGE)
    # Every sentence on the country, naming it or telling its story on, is worth quoting, however far from the
    # request's wording: "the minister pledged to raise the mediators from 11 to 18" names no country.
    guide_sentences = select_sentences(
        f"{country}: {request.request or ''}", on_country, drafting.retriever.embed, COUNTRY_SENTENCES, at_least=COUNTRY_SENTENCES,
        after=state.used,
    )
    if guide_sentences:
        # The guide tells its projects' past: who held which post then, which law, which figure.
        named = facts_to_check(guide_sentences, country)
        state.gaps.append(f"Whether what the guide reports of {country} still holds today" + (f": {'; '.join(named)}" if named else ""))
    drafted = _model_section(drafting, LOCAL_CONTEXT, notes + guide, request, state)
    if drafted is not None:
        return drafted
    parts, citations = [], []
    note_sentences = select_sentences(query, passage_sentences(notes), drafting.retriever.embed, 4, after=state.used)
    for label, sentences in (("**From your notes:**", note_sentences), (f"**What the guide says about {country}:**", guide_sentences)):
        if sentences:
            section = _extract_section(LOCAL_CONTEXT, reading_order(sentences), state, mark_notes=False)
            parts.append(f"{label} {section.markdown}")
            citations += [c for c in section.citations if c not in citations]
    if not guide_sentences:
        parts.append(f"The guide itself says nothing specific about {country}.")
    return BriefingSection(heading=LOCAL_CONTEXT, markdown="\n\n".join(parts), citations=citations)


def _country_notes(drafting: Drafting, query: str, country: str, owner: str | None) -> list[SearchHit]:
    if not owner:
        return []
    hits = drafting.search(query, HITS_PER_SECTION, filters=SearchFilters(source_kind="note"), owner=owner)
    return [h for h in hits if h.chunk.source_kind == "note" and _about_the_country(h, country)]


def _about_the_country(hit: SearchHit, country: str | None) -> bool:
    """Guide passages always qualify; a note filed under another country does not."""
    note_country = hit.chunk.country if hit.chunk.source_kind == "note" else None
    return not note_country or not country or fold(note_country) == fold(country)


def _extract_section(
    heading: str, groups: list[list[Sentence]], state: _State, *, bullets: bool = False, mark_notes: bool = True
) -> BriefingSection:
    lines, citations = [], []
    for group in groups:
        cited = []
        for i, sentence in enumerate(group):
            state.used.append(sentence)
            state.quoted_in.setdefault(sentence.text, heading)
            citation = state.registry.cite(sentence.chunk)
            if citation not in citations:
                citations.append(citation)
            mark = "*Your notes:* " if mark_notes and sentence.chunk.source_kind == "note" else ""
            # "This allows the host…" is read with the sentence it refers to, unless that one was just quoted.
            lead = unsaid_lead_in(sentence, group[i - 1] if i else None)
            if any(s.text in lead for s in state.used):  # quoted in another section: once is enough
                lead = []
            state.used.extend(replace(sentence, text=line, previous=None, earlier=()) for line in lead)
            text = " ".join([*lead, sentence.text])
            cited.append(f"{mark}{text} [{citation.n}]")
        if bullets:
            lines.extend(f"- {text}" for text in cited)
        else:
            lines.append(" ".join(cited))
    return BriefingSection(heading=heading, markdown=("\n" if bullets else "\n\n").join(lines), citations=citations)


def _model_section(
    drafting: Drafting, heading: str, hits: list[SearchHit], request: BriefingRequest, state: _State, *, guidance: str | None = None
) -> BriefingSection | None:
    """The model's draft of a section with checked citations; None means: write the extract instead. ``guidance``
    names the section's instructions in prompts/briefing_guidance.md (by default, its heading)."""
    if not state.use_model or not hits:
        return None
    chunks = [h.chunk for h in hits]
    try:
        draft = drafting.draft_json(
            "briefing_section", DraftSection, mission=mission_summary(request), heading=heading,
            guidance=load_prompt_sections("briefing_guidance")[guidance or heading], passages=passages_block(chunks),
        )
    except LLMFailure as failure:
        state.notice = failure.notice
        # A model that cannot be reached will not answer the next section either.
        state.use_model = failure.notice != UNREACHABLE_NOTICE
        return None
    markdown, cited, _ = resolve_citations(draft.markdown, chunks, state.registry)
    if not cited:
        state.notice = UNUSABLE_NOTICE
        return None
    state.model_sections += 1
    state.gaps.extend(strip_citations(g).strip() for g in draft.gaps[:MAX_MODEL_GAPS_PER_SECTION] if g.strip())
    return BriefingSection(heading=heading, markdown=markdown, citations=cited)
