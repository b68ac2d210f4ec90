"""What every composing task shares: retrieval (remembered for the chat's step view), extracts, prompts and guarded model calls."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.prompts import ChatPromptTemplate

from ..languages import question_language
from ..models import SearchHit
from ..retrieval import Retriever, SearchFilters
from ..settings import Settings
from .citations import CitationRegistry
from .extractive import (
    Sentence, extract_pieces, in_language, label_sentences, passage_sentences, retrieval_confidence, sentence_confidence,
    with_guide_phrasing,
)
from .places import country_sentences, other_countries_sentences
from .text import is_signpost, with_guide_terms
from .llm import Draft, LLMFailure, invoke_json
from .prompts import load_prompt


# Briefings and talking points are written in English (headings, labels, rationales): they quote the guide's English
# pages, not a Portuguese page that a request in Portuguese happens to match. The user's notes stay in their language.
DRAFT_LANGUAGE = "en"
WHOLE_PAGE_CHUNKS = 20  # a tool page runs to a handful of chunks


def quotable_sentences(hits: list[SearchHit]) -> list[Sentence]:
    """The sentences a briefing or talking point may quote: in the drafts' language, no signpost to another page."""
    return [s for s in in_language(passage_sentences(hits, cut_off=True), DRAFT_LANGUAGE) if not is_signpost(s.text)]


class ComposeError(ValueError):
    """Input the composer cannot work with; str(e) is the message to show."""


def prompt_messages(system: str, user: str, **values: str) -> list[BaseMessage]:
    """System instructions first, then the user turn that carries the (delimited) data."""
    template = ChatPromptTemplate.from_messages([("system", load_prompt(system)), ("human", load_prompt(user))])
    return template.format_messages(**values)


class Drafting:
    def __init__(self, settings: Settings, retriever: Retriever, chat_model: BaseChatModel | None, abstain_threshold: float = 0.0):
        self.settings = settings
        self.retriever = retriever
        self.chat_model = chat_model
        self.abstain_threshold = abstain_threshold  # under it, the guide is taken not to cover a question
        self.hits_seen: list[SearchHit] = []  # one Drafting per call: what that call retrieved

    def search(
        self, query: str, k: int | None = None, *, filters: SearchFilters | None = None, owner: str | None = None
    ) -> list[SearchHit]:
        hits = self.retriever.search(query, k or self.settings.retrieval_k, filters=filters, owner=owner)
        known = {h.chunk.id for h in self.hits_seen}
        self.hits_seen.extend(h for h in hits if h.chunk.id not in known)
        return hits

    def extract(
        self, query: str, hits: list[SearchHit], count: int, registry: CitationRegistry, *, language: str | None = None,
        countries: Sequence[str] = (), country_only: bool = False, said: str = "",
    ) -> list[str]:
        """Quoted in one language (the guide tells the same story in several); on a country, its own story first
        (``country_only``: nothing but its story) and no other country's; to a follow-up ("And who takes part?"),
        what the previous answer has not ``said`` yet, as long as there is any."""
        language = language or question_language(query)
        # Labels ("Type of tool: …") answer "which tools…?"; to a question naming one tool, other tools' labels are noise.
        named = [h for h in hits if h.named_rank is not None]
        if named and not any(h.chunk.lang == language for h in named):
            # The one chunk of a named page that the question's words found is seldom its substance when the question
            # is in another language ("¿Qué riesgos tiene una misión de alto nivel?": the toolkit is in English only)
            # or of no telling language ("PPA", "tool 11"). The whole page is read.
            named = self._whole_pages(query, named)
        every = passage_sentences(hits + named) + label_sentences(named or hits)
        every = [s for s in every if " ".join(s.text.split()) not in said] or every
        sentences = in_language(every, language)
        # A page the question names outright ("tool 1") is what it asks for, however little its sentences
        # resemble so short a question, and in whatever language the guide has it ("a ferramenta 11").
        named_urls = {h.chunk.url for h in named}
        named_sentences = in_language([s for s in every if s.chunk.url in named_urls], language)
        focus = None
        if countries:
            focus = in_language([s for country in countries for s in country_sentences(hits, country)], language)
            elsewhere = other_countries_sentences(hits, countries) - {s.text for s in focus}
            sentences = [s for s in sentences if s.text not in elsewhere]
        return extract_pieces(
            with_guide_phrasing(query), sentences, self.retriever.embed, count, registry, language=language, focus=focus,
            named=named_sentences, focus_only=country_only,
        )

    def _whole_pages(self, query: str, named: list[SearchHit]) -> list[SearchHit]:
        """Every chunk of the pages named, in the pages' own order."""
        pages: dict[str, SearchHit] = {}
        for hit in named:
            pages.setdefault(hit.chunk.url, hit)
        chunks: list[SearchHit] = []
        for url, hit in pages.items():
            family = self.search(query, WHOLE_PAGE_CHUNKS, filters=SearchFilters(family=hit.chunk.title))
            page = sorted((h for h in family if h.chunk.url == url), key=lambda h: h.chunk.position)
            chunks += [h.model_copy(update={"named_rank": hit.named_rank}) for h in page]
        return chunks or named

    def confidence(self, query: str, hits: list[SearchHit]) -> float:
        """How well the guide covers a query: its best passages as a whole, or one sentence of them (see
        retrieval_confidence and sentence_confidence). Users say "the host" where the guide says "the Dialogue
        Host": such a query is also measured in the guide's own terms, and the better counts."""
        confidence = self._coverage(query, hits)
        if (in_guide_terms := with_guide_terms(query)) != query:
            confidence = max(confidence, self._coverage(in_guide_terms, self.search(in_guide_terms)))
        return confidence

    def _coverage(self, query: str, hits: list[SearchHit]) -> float:
        return max(retrieval_confidence(query, hits), sentence_confidence(query, hits, self.retriever.embed))

    def draft_json(self, user_prompt: str, schema: type[Draft], **values: str) -> Draft:
        if self.chat_model is None:
            raise LLMFailure("no language model configured")
        return invoke_json(self.chat_model, prompt_messages("drafting_system", user_prompt, **values), schema)
