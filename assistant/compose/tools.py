"""Which of the toolkit's numbered tools fit a situation, and why (cited)."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from ..models import Chunk, SearchHit, ToolAdvice, ToolRecommendation
from ..retrieval import SearchFilters
from .citations import CitationRegistry, passages_block, resolve_citations
from .drafting import ComposeError, Drafting
from .extractive import passage_sentences, score_sentences
from .llm import UNUSABLE_NOTICE, LLMFailure

MIN_TOOLS, MAX_TOOLS = 2, 5
CANDIDATE_TOOLS = 6
TOOL_SEARCH_K = 24
KEEP_FRACTION = 0.7  # a tool is recommended when its best sentence scores at least this share of the best tool's
_NUMBER_PREFIX = re.compile(r"^\s*\d{1,2}\s*[.)]\s*")
NO_TOOL_NOTICE = "No tool of the toolkit matched this situation."


class DraftTool(BaseModel):
    number: int
    why: str
    sources: list[int] = Field(default_factory=list)


class DraftTools(BaseModel):
    tools: list[DraftTool]


def tool_name(chunk: Chunk) -> str:
    return _NUMBER_PREFIX.sub("", chunk.title).strip() or chunk.title


def recommend_tools(drafting: Drafting, situation: str) -> ToolAdvice:
    situation = (situation or "").strip()
    if not situation:
        raise ComposeError("Describe the situation the tools are for.")
    by_tool = _candidate_tools(drafting, situation)
    if not by_tool:
        return ToolAdvice(situation=situation, tools=[], notice=NO_TOOL_NOTICE)
    if drafting.chat_model is not None:
        try:
            return _model_advice(drafting, situation, by_tool)
        except LLMFailure as failure:
            return _extract_advice(drafting, situation, by_tool, notice=failure.notice)
    return _extract_advice(drafting, situation, by_tool)


def _candidate_tools(drafting: Drafting, situation: str) -> dict[int, list[SearchHit]]:
    """Tool passages grouped by tool number, best-ranked tool first."""
    hits = drafting.search(situation, TOOL_SEARCH_K, filters=SearchFilters(section="toolkit"))
    by_tool: dict[int, list[SearchHit]] = {}
    for hit in hits:
        number = hit.chunk.tool_number
        if number is not None and (number in by_tool or len(by_tool) < CANDIDATE_TOOLS):
            by_tool.setdefault(number, []).append(hit)
    return by_tool


def _recommendation(number: int, hits: list[SearchHit], why: str, citations) -> ToolRecommendation:
    chunk = hits[0].chunk
    return ToolRecommendation(
        number=number, name=tool_name(chunk), tool_type=chunk.tool_type or "not stated", why=why, citations=citations
    )


def _extract_advice(drafting: Drafting, situation: str, by_tool: dict[int, list[SearchHit]], notice: str | None = None) -> ToolAdvice:
    """Each tool's sentence closest to the situation is its "why"; weak tools are cut (keeping 2–5)."""
    all_hits = [hit for hits in by_tool.values() for hit in hits]
    sentences = passage_sentences(all_hits)
    if not sentences:
        return ToolAdvice(situation=situation, tools=[], notice=notice or NO_TOOL_NOTICE)
    scores, _ = score_sentences(situation, sentences, drafting.retriever.embed)
    best: dict[int, int] = {}
    for i, sentence in enumerate(sentences):
        number = sentence.chunk.tool_number
        if number not in best or scores[i] > scores[best[number]]:
            best[number] = i
    ranked = sorted(best.items(), key=lambda item: -scores[item[1]])
    top = scores[ranked[0][1]]
    kept = [item for rank, item in enumerate(ranked) if rank < MIN_TOOLS or scores[item[1]] >= KEEP_FRACTION * top][:MAX_TOOLS]
    registry = CitationRegistry()
    tools = []
    for number, i in kept:
        citation = registry.cite(sentences[i].chunk)
        tools.append(_recommendation(number, by_tool[number], f"{sentences[i].standalone()} [{citation.n}]", [citation]))
    return ToolAdvice(situation=situation, tools=tools, mode="extractive", notice=notice)


def _model_advice(drafting: Drafting, situation: str, by_tool: dict[int, list[SearchHit]]) -> ToolAdvice:
    chunks = [hit.chunk for hits in by_tool.values() for hit in hits]
    draft = drafting.draft_json("tools", DraftTools, situation=situation, passages=passages_block(chunks))
    registry = CitationRegistry()
    tools: list[ToolRecommendation] = []
    for item in draft.tools:
        # Names and types come from the toolkit, never from the model; unknown numbers are dropped.
        if item.number not in by_tool or any(t.number == item.number for t in tools):
            continue
        why = item.why.strip()
        if item.sources and "[" not in why:
            why += " " + "".join(f"[{n}]" for n in item.sources)
        why, cited, _ = resolve_citations(why, chunks, registry)
        if cited:
            tools.append(_recommendation(item.number, by_tool[item.number], why, cited))
    if len(tools) < MIN_TOOLS:
        raise LLMFailure(f"only {len(tools)} recommended tools were valid", UNUSABLE_NOTICE)
    return ToolAdvice(situation=situation, tools=tools[:MAX_TOOLS], mode="llm")
