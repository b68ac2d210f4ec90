"""The composer: cited answers, briefings, talking points and tool advice, with a language model or without one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Literal

from langchain_core.language_models import BaseChatModel

from ..languages import question_language
from ..models import Answer, Briefing, BriefingRequest, SearchHit, TalkingPoints, ToolAdvice
from ..retrieval import TOOL_MENTION, Retriever, tools_named
from ..safety import valid_unicode
from ..settings import Settings
from .briefing import write_briefing
from .citations import CitationRegistry, passages_block, resolve_citations, strip_citations
from .drafting import ComposeError, Drafting, prompt_messages
from .extractive import (
    NOT_COVERED,
    SENTENCES_FOR_LENGTH,
    abstention_markdown,
    label_for,
    nearest_pages,
)
from .followup import heuristic_standalone, llm_standalone, looks_like_follow_up, said_before
from .llm import UNUSABLE_NOTICE, LLMFailure, astream_text, build_chat_model, invoke_text, without_reasoning
from .places import countries_asked_about, countries_in, mentions, without_countries
from .points import write_points
from .text import (
    answers_the_count, asks_about_the_world, asks_for_a_duration, asks_for_a_number, asks_for_live_facts, keywords,
    looks_like_injection, names_in, states_a_duration, visitors_in_guide_terms, years_in,
)
from .tools import recommend_tools

Length = Literal["short", "normal", "long"]
History = Sequence[tuple[str, str]]

# Confidence (see Drafting.confidence) under which the guide is taken not to cover a question. Calibrated with
# all-MiniLM-L6-v2 and the hybrid retriever on evals/public.jsonl, scope.jsonl and dev.jsonl together (`inspired
# eval answers --calibrate`): 0.29–0.31 leave no answerable question unanswered; tune per instance.
DEFAULT_ABSTAIN_THRESHOLD = 0.30

LENGTH_HINTS = {
    "short": "two or three sentences",
    "normal": "one short paragraph of four to six sentences",
    "long": "a detailed answer of eight to twelve sentences, with bullet points where they help",
}
LANGUAGE_NAMES = {"en": "English", "pt": "Portuguese", "es": "Spanish", "fr": "French", "ru": "Russian"}


def names_a_tool(question: str, hits: list[SearchHit]) -> bool:
    named = tools_named(question)
    return any(h.chunk.tool_number in named for h in hits)


def missing_tools(question: str, hits: list[SearchHit]) -> list[int]:
    """The tool numbers a question names ("tool 25") when it names only tools that no passage found belongs to:
    a page named outright is always found, so the toolkit has no such tool."""
    return [] if names_a_tool(question, hits) else sorted({int(n) for n in TOOL_MENTION.findall(question)})


@dataclass
class _Plan:
    """One question, retrieved and triaged: either abstain, or compose from ``hits``."""

    question: str  # as asked, its typos put right
    query: str  # what is searched: the question, or a follow-up made to stand alone
    hits: list[SearchHit]
    length: Length
    language: str | None
    use_llm: bool
    abstain: bool
    countries: list[str]
    whole_country: bool  # asks about the countries as a whole ("What happened in Georgia?")
    said: str = ""  # a follow-up's previous answer: its sentences are not quoted again while others answer


# A question naming something the guide never mentions needs passages this close to be answered.
UNFAMILIAR_NAME_CONFIDENCE = 0.55
FOCUSED_QUESTION_WORDS = 6
# What a country question asks, its country taken out, against the closest sentence quoted. On the public set the
# answerable country questions score 0.34 to 0.66; "visa requirements for Moldova" 0.16, "official language of…" 0.25.
COUNTRY_TOPIC_SUPPORT = 0.30
# "What happened in Georgia?", "What has INSPIRED done in Mongolia?": asked of a country as a whole, a question is
# answered by its story, whatever that story is about; compared with the story, such words measure nothing.
WHOLE_COUNTRY_ASKS = frozenset(keywords(
    "happen happened happening done do doing did has have had achieve achieved achievements accomplish accomplished "
    "work worked experience experiences result results outcome outcomes impact story stories lesson lessons learn "
    "learned learnt project projects programme dialogue dialogues process processes run ran activity activities "
    "involvement case example examples "
    # …and the visit that sets it up: "I'm visiting Cabo Verde next week, what should I know?"
    "know need background overview i'm visit visiting going travel travelling trip mission before next week month soon"
))
COUNTRY_HITS = 8


def current_affairs_note(plan: _Plan, registry: CitationRegistry) -> str | None:
    """Under an answer on a country, when the user's own notes on it were not quoted: the guide tells past cases,
    not who holds which post today."""
    quoted_notes = any(c.source_kind == "note" for c in registry.citations)
    if not plan.countries or quoted_notes or question_language(plan.query) not in (None, "en"):
        return None
    return f"\n\n*{' and '.join(plan.countries)} today — the current situation, who holds which post, whom to meet — is not in the guide: add your country notes.*"


def no_duration_note(plan: _Plan, quoted: list[str]) -> str | None:
    """Under an answer to "how long…?" that quotes no stretch of time: the passages say what happens, not how long."""
    if not asks_for_a_duration(plan.question) or states_a_duration(quoted) or question_language(plan.query) not in (None, "en"):
        return None
    return "\n\n*The passages quoted here give no duration.*"


def english_only_note(plan: _Plan, registry: CitationRegistry) -> str | None:
    """Under an answer in English to a question in Portuguese or Spanish: the toolkit, for one, has no other version."""
    language = question_language(plan.query)
    cited = {c.url for c in registry.citations}
    if language in (None, "en") or any(h.chunk.lang == language for h in plan.hits if h.chunk.url in cited):
        return None
    return "\n\n*The guide has these pages in English only.*"


def asks_about_whole_country(question: str, countries: list[str]) -> bool:
    """"What happened in Georgia?": nothing but a country, which only its story answers (checked once quoted)."""
    return bool(countries) and set(keywords(without_countries(question))) <= WHOLE_COUNTRY_ASKS


class Composer:
    def __init__(self, settings: Settings, retriever: Retriever, chat_model: BaseChatModel | None = None):
        self.settings = settings
        self.retriever = retriever
        self.chat_model = chat_model if chat_model is not None else build_chat_model(settings)
        self.abstain_threshold = DEFAULT_ABSTAIN_THRESHOLD

    def _drafting(self) -> Drafting:
        """Fresh per call, so concurrent users never share what was retrieved."""
        return Drafting(self.settings, self.retriever, self.chat_model, self.abstain_threshold)

    def confidence(self, query: str, hits: list[SearchHit]) -> float:
        """The retrieval confidence that abstention compares with ``abstain_threshold``."""
        return self._drafting().confidence(query, hits)

    # -- questions --------------------------------------------------------------------------
    def standalone_query(self, question: str, history: History) -> str:
        return self._standalone(question, history, use_llm=True)

    def _standalone(self, question: str, history: History, *, use_llm: bool) -> str:
        # A question that stands on its own is never sent for rewriting: one model call saved per turn.
        if not history or not looks_like_follow_up(question):
            return question
        if use_llm and self.chat_model is not None:
            return llm_standalone(self.chat_model, question, history)
        return heuristic_standalone(question, history)

    def ask(
        self, question: str, history: History = (), *, owner: str | None = None, length: Length = "normal",
        language: str | None = None, use_llm: bool = True,
    ) -> Answer:
        plan = self._plan(question, history, owner, length, language, use_llm)
        if plan.abstain or not plan.use_llm:
            return self._without_model(plan)[1]
        try:
            return self._checked_llm_answer(plan, invoke_text(self.chat_model, self._answer_messages(plan)))
        except LLMFailure as failure:
            return self._extractive(plan, notice=failure.notice)

    async def astream_ask(
        self, question: str, history: History = (), *, owner: str | None = None, length: Length = "normal",
        language: str | None = None, use_llm: bool = True,
    ) -> AsyncIterator[str | Answer]:
        """Text pieces as they come, then the checked :class:`Answer`.

        The final Answer is authoritative: its Markdown may differ from the streamed text (invented
        citations removed, or the extract that replaces a model that failed half-way), so a UI should
        replace the streamed text with ``answer.markdown``.
        """
        # Retrieval, embedding and the follow-up rewrite block: they run in a worker thread, not on the event loop.
        plan = await asyncio.to_thread(self._plan, question, history, owner, length, language, use_llm)
        if plan.abstain or not plan.use_llm:
            pieces, answer = await asyncio.to_thread(self._without_model, plan)
            for piece in pieces:
                yield piece
            yield answer
            return
        streamed: list[str] = []
        try:
            async for piece in astream_text(self.chat_model, self._answer_messages(plan)):
                streamed.append(piece)
                yield piece
            answer = await asyncio.to_thread(self._checked_llm_answer, plan, without_reasoning("".join(streamed)))
        except LLMFailure as failure:
            answer = await asyncio.to_thread(self._extractive, plan, failure.notice)
            if streamed:
                yield "\n\n---\n\n"
            yield answer.markdown
        yield answer

    def _without_model(self, plan: _Plan) -> tuple[list[str], Answer]:
        if plan.abstain:
            answer = self._abstain(plan)
            return [answer.markdown], answer
        return self._extract(plan)

    def _plan(self, question: str, history: History, owner, length, language, use_llm) -> _Plan:
        question = self._checked_question(question)
        if length not in SENTENCES_FOR_LENGTH:
            raise ComposeError(f"length must be one of {', '.join(SENTENCES_FOR_LENGTH)}, not {length!r}.")
        use_llm = use_llm and self.chat_model is not None
        # Typos put right ("Prticipatory Poliyc Analisys"): the passages are found, sentences chosen and names
        # checked for what the user meant.
        spelled = self.retriever.corrected_query(question)
        query = self._standalone(spelled, history, use_llm=use_llm)
        hits = self._in_guide_terms_too(query, self._drafting().search(query, owner=owner), owner)
        # Text aimed at the model ("ignore your instructions…"), requests for today's facts and questions
        # far from every passage get no answer.
        confidence = self.confidence(query, hits)
        countries = countries_asked_about(query)
        whole_country = asks_about_whole_country(query, countries)
        abstain = (
            looks_like_injection(question)
            or asks_for_live_facts(spelled)
            or asks_about_the_world(spelled)
            # A question naming a tool the toolkit has ("o que é a ferramenta 11?") is about the guide, however
            # little its words resemble the page's.
            or (
                confidence < self.abstain_threshold and not names_a_tool(spelled, hits)
                and not whole_country
            )
            or (self._names_guide_never_uses(spelled, hits) and confidence < UNFAMILIAR_NAME_CONFIDENCE)
            # "the 2024 referendum": what happened in a year the guide never mentions is not in it.
            or any(not self.retriever.knows(year) for year in years_in(question))
            or bool(missing_tools(spelled, hits))
        )
        if countries and not abstain:
            hits = self._with_country_passages(hits, countries, owner)
        said = said_before(history) if query != spelled else ""
        return _Plan(spelled, query, hits, length, language, use_llm, abstain, countries, whole_country, said)

    def _in_guide_terms_too(self, query: str, hits: list[SearchHit], owner: str | None) -> list[SearchHit]:
        """The passages found by the question, then those found by it in the guide's terms ("a former president":
        "a high-level political figure"), which users' words seldom reach on their own."""
        if (in_guide_terms := visitors_in_guide_terms(query)) == query:
            return hits
        known = {h.chunk.id for h in hits}
        return hits + [h for h in self._drafting().search(in_guide_terms, owner=owner) if h.chunk.id not in known]

    def _with_country_passages(self, hits: list[SearchHit], countries: list[str], owner: str | None) -> list[SearchHit]:
        """The passages that name the country asked about, after those retrieved: the guide mentions a country
        in passing, in pages a question about it does not otherwise reach."""
        known = {h.chunk.id for h in hits}
        for country in countries:
            for hit in self._drafting().search(country, COUNTRY_HITS, owner=owner):
                if hit.chunk.id not in known and mentions(hit.chunk.text, country):
                    known.add(hit.chunk.id)
                    hits.append(hit)
        return hits

    def _names_guide_never_uses(self, question: str, hits: list[SearchHit]) -> list[str]:
        """"Ukraine", "COVID-19": a short question built on a name the guide never uses is not about the guide.
        In a longer question such a name is context ("taking officials to Sweden…"); the user's own notes
        may know it, so a question that retrieved notes is let through."""
        if len(keywords(question)) > FOCUSED_QUESTION_WORDS or any(h.chunk.source_kind == "note" for h in hits):
            return []
        # "Bishkek" stands for Kyrgyzstan, which the guide does know.
        return [
            name for name in names_in(question)
            if not self.retriever.knows(name) and not any(self.retriever.knows(country) for country in countries_in(name))
        ]

    def _checked_question(self, question: str) -> str:
        question = valid_unicode(question or "").strip()
        if not question:
            raise ComposeError("The question is empty.")
        if len(question) > self.settings.max_question_chars:
            raise ComposeError(f"The question is too long ({len(question)} characters; the limit is {self.settings.max_question_chars}).")
        return question

    # -- the three kinds of answer ----------------------------------------------------------
    def _abstain(self, plan: _Plan) -> Answer:
        injected = looks_like_injection(plan.question)
        nearest = [] if injected else nearest_pages(plan.hits)
        # "Who is Moldova's prime minister today?": say where such facts have to come from.
        where_to_look = None if injected else current_affairs_note(plan, CitationRegistry())
        if missing := missing_tools(plan.question, plan.hits):
            where_to_look = f"\n\nThe toolkit has no tool {' or '.join(map(str, missing))}."
        return Answer(
            question=plan.question, markdown=abstention_markdown(nearest) + (where_to_look or ""), abstained=True,
            mode="llm" if plan.use_llm else "extractive", nearest=nearest, retrieved=plan.hits,
        )

    def _extractive(self, plan: _Plan, notice: str | None = None) -> Answer:
        return self._extract(plan, notice)[1]

    def _extract(self, plan: _Plan, notice: str | None = None) -> tuple[list[str], Answer]:
        """The extract as streamable pieces (label, then one cited sentence each) and as the Answer they make."""
        registry = CitationRegistry()
        # All the guide tells of a country is what such a question asks: a story runs to three sentences, and the
        # country's host and other cases come with it.
        length = "long" if plan.whole_country and plan.length == "normal" else plan.length
        pieces = self._drafting().extract(
            plan.query, plan.hits, SENTENCES_FOR_LENGTH[length], registry, language=plan.language, countries=plan.countries,
            country_only=plan.whole_country, said=plan.said,
        )
        quoted = [strip_citations(p).strip() for p in pieces]
        if not pieces or not self._answers_what_was_asked(plan, quoted):
            answer = self._abstain(plan)
            return [answer.markdown], answer
        pieces.insert(0, f"*{notice}*\n\n" if notice else f"{label_for(registry.citations)}\n\n")
        if (note := current_affairs_note(plan, registry)) is not None:
            pieces.append(note)
        if (note := no_duration_note(plan, quoted)) is not None:
            pieces.append(note)
        if (note := english_only_note(plan, registry)) is not None:
            pieces.append(note)
        answer = Answer(
            question=plan.question, markdown="".join(pieces), citations=registry.citations, mode="extractive", notice=notice,
            retrieved=plan.hits,
        )
        return pieces, answer

    def _answers_what_was_asked(self, plan: _Plan, quoted: list[str]) -> bool:
        """An extract can quote the guide's passages on a country without touching what was asked of it ("visa
        requirements for Moldova"), or give no figure to a "how many": then the guide does not cover the question."""
        if asks_for_a_number(plan.question) and not answers_the_count(plan.question, quoted):
            return False
        topic = without_countries(plan.question)
        if not plan.countries or not keywords(topic):
            return True
        if plan.whole_country:
            return any(set(countries_in(text, demonyms=True, capitals=False)) & set(plan.countries) for text in quoted)
        vectors = self.retriever.embed([topic, *quoted])
        return float((vectors[1:] @ vectors[0]).max()) >= COUNTRY_TOPIC_SUPPORT

    def _answer_messages(self, plan: _Plan):
        language = LANGUAGE_NAMES.get(plan.language or "", plan.language) or "the language of the question"
        return prompt_messages(
            "answer_system", "answer_user",
            passages=passages_block([h.chunk for h in plan.hits]), question=plan.query,
            length=LENGTH_HINTS[plan.length], language=language,
        )

    def _checked_llm_answer(self, plan: _Plan, text: str) -> Answer:
        """Keep only citations that point at a supplied passage; an answer left with none is not trusted."""
        if text.strip().rstrip(".").lower().startswith(NOT_COVERED.rstrip(".").lower()):
            return self._abstain(plan)
        registry = CitationRegistry()
        markdown, cited, dropped = resolve_citations(text, [h.chunk for h in plan.hits], registry)
        if not cited:
            answer = self._extractive(plan, notice=UNUSABLE_NOTICE)
            return answer.model_copy(update={"dropped_citations": dropped})
        return Answer(
            question=plan.question, markdown=markdown, citations=cited, mode="llm", dropped_citations=dropped, retrieved=plan.hits,
        )

    # -- drafts -----------------------------------------------------------------------------
    def brief(self, request: BriefingRequest, *, owner: str | None = None) -> Briefing:
        # Validated again: the chat merges the user's replies in with model_copy, which skips validation.
        request = self.spelled_request(BriefingRequest.model_validate(request.model_dump()))
        drafting = self._drafting()
        return write_briefing(drafting, request, owner=owner).model_copy(update={"retrieved": drafting.hits_seen})

    def spelled_request(self, request: BriefingRequest) -> BriefingRequest:
        """The request with its typos put right, as questions are: "a former presdent going to Moldava" is a
        high-level visit to Moldova, whose story the guide tells."""
        spell = self.retriever.corrected_query
        fields = {name: spell(value) for name, value in request.model_dump(exclude={"meetings"}).items() if value}
        return request.model_copy(update={**fields, "meetings": [spell(meeting) for meeting in request.meetings]})

    def points(self, audience: str, topic: str | None = None, *, owner: str | None = None) -> TalkingPoints:
        drafting = self._drafting()
        spell = self.retriever.corrected_query
        audience, topic = spell(valid_unicode(audience or "")), topic and spell(valid_unicode(topic))
        return write_points(drafting, audience, topic, owner=owner).model_copy(update={"retrieved": drafting.hits_seen})

    def tools(self, situation: str) -> ToolAdvice:
        drafting = self._drafting()
        return recommend_tools(drafting, valid_unicode(situation or "")).model_copy(update={"retrieved": drafting.hits_seen})
