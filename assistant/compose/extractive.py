"""Extractive composing: the most relevant full sentences of the retrieved passages, each cited, no model needed."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..models import Chunk, Citation, SearchHit
from .citations import CitationRegistry, passage_text
from .text import is_full_sentence, keyword_overlap, keywords, looks_like_injection, prose_blocks, split_sentences

EXTRACT_LABEL = "*Extract from the INSPIRED guide — no language model used.*"
EXTRACT_LABEL_WITH_NOTES = "*Extract from the INSPIRED guide and your notes — no language model used.*"
NOT_COVERED = "The guide does not cover this."
SENTENCES_FOR_LENGTH = {"short": 2, "normal": 4, "long": 7}

# Sentence score = query similarity + these bonuses; weights picked so similarity dominates.
LEXICAL_WEIGHT = 0.3
RANK_WEIGHT = 0.1
LANGUAGE_BONUS = 0.05
MMR_LAMBDA = 0.75
NEAR_DUPLICATE = 0.9
RELEVANCE_FLOOR = 0.5  # of the best sentence's score: weaker sentences are left out rather than padding
LEXICAL_CONFIDENCE_WEIGHT = 0.5  # word overlap counts half as much as cosine similarity towards answering at all

Embed = Callable[[list[str]], np.ndarray]


_ANAPHORIC_START = re.compile(
    r"^(?:they|it|this|these|those|such|its|their|he|she|however|nevertheless|on the contrary|moreover|furthermore|therefore|thus"
    r"|elas?|eles?|isso|isto|essas?|esses?|no entanto|contudo|ellos|ellas|esto|eso|esas?|esos?|sin embargo|é essa|é esse)\b",
    re.I,
)


@dataclass(frozen=True)
class Sentence:
    text: str
    chunk: Chunk
    hit_rank: int
    position: int
    previous: str | None = None  # the sentence before it in the same paragraph

    def standalone(self) -> str:
        """The sentence, led by the one before it when it opens with "They…"/"This…" (for points shown on their own)."""
        if self.previous and _ANAPHORIC_START.match(self.text):
            return f"{self.previous} {self.text}"
        return self.text


def passage_sentences(hits: list[SearchHit]) -> list[Sentence]:
    """Full sentences of the passages; anything addressed to an AI model is left out."""
    found: list[Sentence] = []
    seen: set[str] = set()
    for rank, hit in enumerate(hits):
        position = 0
        for block in prose_blocks(hit.chunk.text):
            previous = None
            for sentence in split_sentences(block):
                key = sentence.lower()
                usable = is_full_sentence(sentence) and not looks_like_injection(sentence)
                if usable and key not in seen:
                    seen.add(key)
                    found.append(Sentence(sentence, hit.chunk, rank, position, previous))
                    position += 1
                previous = sentence if usable else None
    return found


def score_sentences(
    query: str, sentences: list[Sentence], embed: Embed, *, language: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each sentence's relevance to the query, and the sentences' own embeddings (rows, L2-normalised)."""
    vectors = np.asarray(embed([query, *(s.text for s in sentences)]), dtype=float)
    similarity = np.clip(vectors[1:] @ vectors[0], 0.0, None)
    query_keywords = keywords(query)
    scores = np.array(
        [
            similarity[i]
            + LEXICAL_WEIGHT * keyword_overlap(query_keywords, s.text)
            + RANK_WEIGHT / (1 + s.hit_rank)
            + (LANGUAGE_BONUS if language and s.chunk.lang == language else 0.0)
            for i, s in enumerate(sentences)
        ]
    )
    return scores, vectors[1:]


def select_sentences(
    query: str, sentences: list[Sentence], embed: Embed, count: int, *, language: str | None = None, at_least: int = 0
) -> list[Sentence]:
    """The ``count`` best sentences for the query, near-duplicates removed (maximal marginal relevance).

    Sentences far below the best one are left out, unless needed to reach ``at_least``.
    """
    if not sentences or count <= 0:
        return []
    scores, vectors = score_sentences(query, sentences, embed, language=language)
    floor = RELEVANCE_FLOOR * scores.max()
    pairwise = vectors @ vectors.T
    chosen: list[int] = []

    def marginal(i: int) -> float:
        redundancy = max((pairwise[i, j] for j in chosen), default=0.0)
        return MMR_LAMBDA * scores[i] - (1 - MMR_LAMBDA) * redundancy

    def pick(candidates: list[int], until: int) -> None:
        while candidates and len(chosen) < until:
            best = max(candidates, key=marginal)
            candidates.remove(best)
            if not any(pairwise[best, j] >= NEAR_DUPLICATE for j in chosen):
                chosen.append(best)

    pick([i for i in range(len(sentences)) if scores[i] >= floor], count)
    pick([i for i in range(len(sentences)) if scores[i] < floor], min(at_least, count))
    return [sentences[i] for i in chosen]


def reading_order(selected: list[Sentence]) -> list[list[Sentence]]:
    """Group by page (best-ranked page first), each group in the page's own order."""
    groups: dict[str, list[Sentence]] = {}
    for sentence in sorted(selected, key=lambda s: s.hit_rank):
        groups.setdefault(sentence.chunk.url, []).append(sentence)
    return [sorted(group, key=lambda s: (s.chunk.ordinal, s.hit_rank, s.position)) for group in groups.values()]


def render_pieces(groups: list[list[Sentence]], registry: CitationRegistry) -> list[str]:
    """Text pieces, one per sentence with its ``[n]``; joined they make the Markdown body."""
    pieces: list[str] = []
    for group in groups:
        for i, sentence in enumerate(group):
            lead = "" if not pieces else ("\n\n" if i == 0 else " ")
            if i == 0 and sentence.chunk.source_kind == "note":
                lead += "*Your notes:* "
            follows_its_previous = i > 0 and group[i - 1].text == sentence.previous
            text = sentence.text if follows_its_previous else sentence.standalone()
            pieces.append(f"{lead}{text} [{registry.number(sentence.chunk)}]")
    return pieces


def extract_pieces(
    query: str, hits: list[SearchHit], embed: Embed, count: int, registry: CitationRegistry, *, language: str | None = None
) -> list[str]:
    selected = select_sentences(query, passage_sentences(hits), embed, count, language=language)
    return render_pieces(reading_order(selected), registry)


def label_for(hits: list[SearchHit]) -> str:
    return EXTRACT_LABEL_WITH_NOTES if any(h.chunk.source_kind == "note" for h in hits) else EXTRACT_LABEL


def retrieval_confidence(query: str, hits: list[SearchHit]) -> float:
    """How well the best passages match: the higher of their cosine similarity to the query and
    (weighted down) the share of the query's content words they contain."""
    top = hits[:3]
    dense = max((h.dense_similarity for h in top if h.dense_similarity is not None), default=0.0)
    query_keywords = keywords(query)
    lexical = max((keyword_overlap(query_keywords, f"{h.chunk.title} {h.chunk.text}") for h in top), default=0.0)
    return max(dense, LEXICAL_CONFIDENCE_WEIGHT * lexical)


def nearest_pages(hits: list[SearchHit], limit: int = 3) -> list[Citation]:
    """Distinct pages among the hits, for "the guide does not cover this — nearest pages are…"."""
    pages: list[Citation] = []
    for hit in hits:
        if hit.chunk.url in {p.url for p in pages}:
            continue
        chunk = hit.chunk
        pages.append(
            Citation(
                n=len(pages) + 1,
                url=chunk.url,
                title=chunk.title,
                heading_path=chunk.heading_path,
                passage=passage_text(chunk),
                source_kind=chunk.source_kind,
            )
        )
        if len(pages) == limit:
            break
    return pages


def abstention_markdown(nearest: list[Citation]) -> str:
    if not nearest:
        return NOT_COVERED
    lines = [NOT_COVERED, "", "Nearest pages in the guide:"]
    lines += [f"- [{page.title}]({page.url})" for page in nearest]
    return "\n".join(lines)
