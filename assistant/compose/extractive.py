"""Extractive composing: the most relevant full sentences of the retrieved passages, each cited, no model needed."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..index import passage_sentences as index_sentences
from ..models import Chunk, Citation, SearchHit
from .citations import CitationRegistry, passage_text
from .text import (
    is_full_sentence, keyword_overlap, keywords, leans_on_previous, looks_like_injection, points_back, prose_blocks, split_sentences,
    strip_markup, visitors_in_guide_terms,
)

EXTRACT_LABEL = "*Extract from the INSPIRED guide — no language model used.*"
EXTRACT_LABEL_WITH_NOTES = "*Extract from the INSPIRED guide and your notes — no language model used.*"
NOT_COVERED = "The guide does not cover this."
SENTENCES_FOR_LENGTH = {"short": 2, "normal": 4, "long": 7}
ANSWER_LEAD_PAGES = 2
MAX_LEAD_IN = 2  # sentences shown before one that points back ("This is why…"); it is left out if it needs more

# Sentence score = query similarity + these bonuses; weights picked so similarity dominates.
LEXICAL_WEIGHT = 0.3
RANK_WEIGHT = 0.1
PLACE_WEIGHT = 0.5
LANGUAGE_BONUS = 0.05
MMR_LAMBDA = 0.75
NEAR_DUPLICATE = 0.9
RELEVANCE_FLOOR = 0.5  # of the best sentence's score: weaker sentences are left out rather than padding
LEAD_PAGE_FLOOR = 0.6  # of the best sentence's score: the top page's best sentence is quoted from this share up
NEXT_PAGE_FLOOR = 0.7  # a further page is quoted first only when its best sentence comes close to the best
MAX_LABEL_CHARS = 120  # a passage this short with a colon and no sentence is a label
LEXICAL_CONFIDENCE_WEIGHT = 0.5  # word overlap counts half as much as cosine similarity towards answering at all
SENTENCE_CONFIDENCE_WEIGHT = 0.8  # one close sentence counts for less than a close passage
CONFIDENCE_PASSAGES = 3

Embed = Callable[[list[str]], np.ndarray]
# A question, or several phrasings of it (the user's words, and the guide's for the same thing): a sentence
# counts by the phrasing it matches best.
Query = str | Sequence[str]


_TITLE_DASH = re.compile(r"^(.{3,90}?)\s+[–—-]\s+\S")


@dataclass(frozen=True)
class Sentence:
    text: str
    chunk: Chunk
    hit_rank: int
    position: int
    previous: str | None = None  # the sentence before it in the same paragraph
    paragraph: int = 0  # which of its passage's paragraphs it stands in
    earlier: tuple[str, ...] = ()  # the sentences before it in its passage, nearest last: what "This…" may refer to

    @property
    def context(self) -> tuple[str, ...]:
        """What it may refer to: ``earlier``, or just ``previous`` for a sentence not read from a passage."""
        return self.earlier or ((self.previous,) if self.previous else ())

    @property
    def antecedent(self) -> str | None:
        """The sentence before it in its passage, in its paragraph or the one before."""
        return self.context[-1] if self.context else None

    def lead_in(self) -> list[str]:
        """The sentences it has to be read after: none when it reads alone, the one before it ("They…"), or the two
        before when that one leans back too ("It may therefore… That is why…"); none either when it leans on more.
        A turn of thought ("Nevertheless, …") reads alone too, so it is only led by a sentence that does."""
        if not leans_on_previous(self.text) or not self.context:
            return []
        if not points_back(self.text):
            return [] if points_back(self.context[-1]) else [self.context[-1]]
        for start in range(len(self.context) - 1, max(len(self.context) - 1 - MAX_LEAD_IN, -1), -1):
            if not points_back(self.context[start]):
                return list(self.context[start:])
        return []

    def standalone(self) -> str:
        """The sentence, led by what it refers to (for a sentence shown on its own)."""
        return " ".join([*self.lead_in(), self.text])

    def dangling(self) -> bool:
        """Whether it points back to something it cannot be shown with, and cannot be read alone."""
        return points_back(self.text) and not self.lead_in()


def passage_sentences(hits: list[SearchHit], *, cut_off: bool = False) -> list[Sentence]:
    """Full sentences of the passages (``cut_off``: see is_full_sentence); anything addressed to an AI model is left
    out, and so is a parent page's signpost to a subpage that was retrieved too ("Types of Roadmaps – a typology…"):
    the subpage says it in full."""
    found: list[Sentence] = []
    seen: set[str] = set()
    titles = {hit.chunk.title.casefold(): hit.chunk.url for hit in hits}
    for rank, hit in enumerate(hits):
        position = 0
        earlier: list[str] = []
        for paragraph, block in enumerate(prose_blocks(hit.chunk.text)):
            previous = None
            for sentence in split_sentences(block):
                key = sentence.lower()
                usable = (
                    is_full_sentence(sentence, cut_off=cut_off)
                    and not looks_like_injection(sentence)
                    and signposted_page(sentence, titles) in (None, hit.chunk.url)
                )
                if usable and key not in seen:
                    seen.add(key)
                    found.append(Sentence(sentence, hit.chunk, rank, position, previous, paragraph, tuple(earlier)))
                    position += 1
                # A short lead-in ("Mongolia offers an example.") is not quoted alone but tells what "There, …" means.
                previous = None if looks_like_injection(sentence) else sentence
                earlier = [] if previous is None else [*earlier, sentence][-MAX_LEAD_IN:]
    return found


def signposted_page(sentence: str, titles: dict[str, str]) -> str | None:
    """The page a "Title – what it covers" line points to, among ``titles`` (casefolded title → url)."""
    head = _TITLE_DASH.match(sentence)
    return titles.get(head.group(1).strip().casefold()) if head else None


def label_sentences(hits: list[SearchHit]) -> list[Sentence]:
    """Passages that are a single label and no sentence ("Type of tool: Trust building") as one quotable line under
    their page's title: to "which tools build trust?" the labels are the answer."""
    labels = []
    for rank, hit in enumerate(hits):
        text = " ".join(strip_markup(hit.chunk.text).split())
        if len(text) <= MAX_LABEL_CHARS and ":" in text and not any(is_full_sentence(s) for s in split_sentences(text)):
            # An italic lead-in: "11. High-level missions" at the start of a line would be read as item 11 of a list.
            labels.append(Sentence(f"{_label_lead(hit.chunk)}{text.rstrip('.')}.", hit.chunk, rank, 0))
    return labels


def _label_lead(chunk: Chunk) -> str:
    return f"*{chunk.title}:* "


def is_label(sentence: Sentence) -> bool:
    return sentence.text.startswith(_label_lead(sentence.chunk))


def score_sentences(
    query: Query, sentences: list[Sentence], embed: Embed, *, language: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each sentence's relevance to the query, and the sentences' own embeddings (rows, L2-normalised).

    A sentence is read in the light of where it stands: "This is rarely easy" on the page about donors
    answers a question about donors, so the similarity of its page title and headings counts too.
    """
    phrasings = [query] if isinstance(query, str) else list(query)
    # "…in INSPIRED?": the guide's own name is in every page, yet a title that has it ("What is INSPIRED?")
    # would look like the place of the answer to any question that names it. Titles and questions are compared
    # without it.
    topics = [without_guide_name(phrasing) for phrasing in phrasings]
    places = list(dict.fromkeys(place(s.chunk) for s in sentences))
    vectors = np.asarray(
        embed([*phrasings, *(s.text for s in sentences), *(without_guide_name(p) for p in places), *topics]), dtype=float
    )
    asked, sentence_vectors, place_vectors, topic_vectors = np.split(
        vectors, np.cumsum([len(phrasings), len(sentences), len(places)])
    )
    similarity = np.clip(sentence_vectors @ asked.T, 0.0, None)
    place_similarity = dict(zip(places, np.clip(place_vectors @ topic_vectors.T, 0.0, None)))
    phrasing_keywords = [keywords(topic) for topic in topics]
    scores = np.array(
        [
            max(
                similarity[i, p]
                + PLACE_WEIGHT * place_similarity[place(s.chunk)][p]
                + LEXICAL_WEIGHT * keyword_overlap(phrasing_keywords[p], s.text)
                for p in range(len(phrasings))
            )
            + RANK_WEIGHT / (1 + s.hit_rank)
            + (LANGUAGE_BONUS if language and s.chunk.lang == language else 0.0)
            for i, s in enumerate(sentences)
        ]
    )
    return scores, sentence_vectors


def with_guide_phrasing(query: str) -> list[str]:
    """The question, and the same in the guide's own terms when they differ ("a former president": "a high-level
    political figure")."""
    return list(dict.fromkeys([query, visitors_in_guide_terms(query)]))


_GUIDE_NAME = re.compile(r"\b(?:(?:in|of|for|by|from|on|to|with)\s+)?(?:(?:an?|the)\s+)?INSPIRED\b(?:[-\s]style\b)?", re.I)


def without_guide_name(text: str) -> str:
    """The text without the guide's name, unless the name is all it asks about ("What is INSPIRED?")."""
    stripped = re.sub(r"\s+", " ", _GUIDE_NAME.sub(" ", text)).strip()
    return stripped if keywords(stripped) else text


def place(chunk: Chunk) -> str:
    """Where a passage stands: its page title and headings."""
    return " › ".join(dict.fromkeys([chunk.title, *chunk.heading_path]))


def select_sentences(
    query: Query, sentences: list[Sentence], embed: Embed, count: int, *, language: str | None = None, at_least: int = 0,
    lead_pages: int = 0, after: Sequence[Sentence] = (),
) -> list[Sentence]:
    """The ``count`` best sentences for the query, near-duplicates removed (maximal marginal relevance).

    With ``lead_pages``, the best sentence of each of the first pages retrieved is taken first (see
    :func:`page_leads`). ``after`` holds sentences already used elsewhere in the same draft: they are not
    repeated and what repeats their content ranks lower. Sentences far below the best one are left out,
    unless needed to reach ``at_least``.
    """
    used = {s.text for s in after}
    sentences = [s for s in sentences if s.text not in used]
    if not sentences or count <= 0:
        return []
    scores, vectors = score_sentences(query, sentences, embed, language=language)
    floor = RELEVANCE_FLOOR * scores.max()
    pairwise = vectors @ vectors.T
    earlier = np.asarray(embed([s.text for s in after]), dtype=float) @ vectors.T if after else np.zeros((0, len(sentences)))
    chosen: list[int] = page_leads(sentences, scores, lead_pages)[:count]

    def redundancy(i: int) -> float:
        return max([*(pairwise[i, j] for j in chosen), *earlier[:, i]], default=0.0)

    def marginal(i: int) -> float:
        return MMR_LAMBDA * scores[i] - (1 - MMR_LAMBDA) * redundancy(i)

    def pick(candidates: list[int], until: int) -> None:
        while candidates and len(chosen) < until:
            best = max(candidates, key=marginal)
            candidates.remove(best)
            if redundancy(best) < NEAR_DUPLICATE:
                chosen.append(best)

    pick([i for i in range(len(sentences)) if scores[i] >= floor and i not in chosen], count)
    pick([i for i in range(len(sentences)) if scores[i] < floor and i not in chosen], min(at_least, count))
    return [sentences[i] for i in chosen]


def page_leads(sentences: list[Sentence], scores: np.ndarray, pages: int) -> list[int]:
    """The best sentence of each of the first ``pages`` pages retrieved, when it is close to the best sentence.

    Retrieval ranks pages on their whole text, which a single sentence's similarity undersells: the top page
    is quoted whenever it has a relevant sentence, the next ones only when theirs is nearly as good.
    """
    best_by_page: dict[str, int] = {}
    for i, sentence in sorted(enumerate(sentences), key=lambda pair: pair[1].hit_rank):
        url = sentence.chunk.url
        if url in best_by_page or len(best_by_page) < pages:
            if url not in best_by_page or scores[i] > scores[best_by_page[url]]:
                best_by_page[url] = i
    leads = list(best_by_page.values())
    top = scores.max()
    return [
        i for rank, i in enumerate(leads)
        if scores[i] >= (LEAD_PAGE_FLOOR if rank == 0 else NEXT_PAGE_FLOOR) * top
    ]


def reading_order(selected: list[Sentence]) -> list[list[Sentence]]:
    """Group by page (best-ranked page first), each group in the page's own order."""
    groups: dict[str, list[Sentence]] = {}
    for sentence in sorted(selected, key=lambda s: s.hit_rank):
        groups.setdefault(sentence.chunk.url, []).append(sentence)
    return [sorted(group, key=lambda s: (s.chunk.position, s.position)) for group in groups.values()]


def render_pieces(groups: list[list[Sentence]], registry: CitationRegistry) -> list[str]:
    """Text pieces, one per sentence with its ``[n]``; joined they make the Markdown body."""
    pieces: list[str] = []
    for group in groups:
        for i, sentence in enumerate(group):
            lead = "" if not pieces else ("\n\n" if i == 0 else " ")
            if i == 0 and sentence.chunk.source_kind == "note":
                lead += "*Your notes:* "
            text = " ".join([*unsaid_lead_in(sentence, group[i - 1] if i else None), sentence.text])
            if i == 0 and sentence.chunk.source_kind != "note" and points_back(text):
                # "They can also be useful…" opening a section: named after its page, not read as the quote above.
                lead += f"*{place(sentence.chunk)}:* "
            pieces.append(f"{lead}{text} [{registry.number(sentence.chunk)}]")
    return pieces


def unsaid_lead_in(sentence: Sentence, previous: Sentence | None) -> list[str]:
    """What a sentence has to be read after, less what was quoted just before it: "Yet this is…" led by two
    sentences, the first of which is the quote before it, is led by the second only."""
    lead_in = sentence.lead_in()
    if previous is not None and previous.text in lead_in:
        return lead_in[lead_in.index(previous.text) + 1:]
    return lead_in


def extract_pieces(
    query: Query, sentences: list[Sentence], embed: Embed, count: int, registry: CitationRegistry, *,
    language: str | None = None, focus: list[Sentence] | None = None, named: list[Sentence] | None = None,
    focus_only: bool = False,
) -> list[str]:
    """The answer's cited sentences. Half of them come first from the pages the query ``named``, then up to
    half from ``focus`` (what the guide says of the country asked about), or all of them when ``focus_only``
    ("What happened in Georgia?" asks for nothing else). A page named in a language the guide does not have it
    in ("uma missão de alto nível": the toolkit is in English only) gives all of them: the other passages in the
    question's language were found by its words, not by its subject."""
    half = max(1, count // 2)
    if named and language and not any(s.chunk.lang == language for s in named):
        return render_pieces(reading_order(from_the_top(named, count)), registry)
    selected = select_sentences(query, named, embed, half, language=language, at_least=half) if named else []
    if focus:
        share = count - len(selected) if focus_only else half
        selected += select_sentences(query, focus, embed, share, language=language, at_least=share if focus_only else 1, after=selected)
        if focus_only:  # what else was retrieved is about no country in particular: no answer to what happened there
            return render_pieces(reading_order(selected), registry)
    selected += select_sentences(query, sentences, embed, count - len(selected), language=language, lead_pages=ANSWER_LEAD_PAGES, after=selected)
    return render_pieces(reading_order(selected), registry)


def from_the_top(sentences: list[Sentence], count: int) -> list[Sentence]:
    """The first ``count`` sentences in the pages' own order: what a question in another language asks of a page
    cannot be told from its words by an English model, and a page says what it is first. Labels ("Type of tool: …")
    only when there is nothing else."""
    prose = [s for s in sentences if not is_label(s)] or sentences
    pages = list(dict.fromkeys(s.chunk.url for s in prose))
    return sorted(prose, key=lambda s: (pages.index(s.chunk.url), s.chunk.position, s.position))[:count]


def in_language(sentences: list[Sentence], language: str | None) -> list[Sentence]:
    """The guide's sentences in that language (all of them when it has none); the user's notes stay whatever their language."""
    kept = [s for s in sentences if s.chunk.source_kind == "note" or s.chunk.lang == language]
    return kept if language and any(s.chunk.source_kind != "note" for s in kept) else sentences


def label_for(quoted: list[Citation]) -> str:
    """Names the user's notes only when the extract quotes them, not whenever they were searched."""
    return EXTRACT_LABEL_WITH_NOTES if any(c.source_kind == "note" for c in quoted) else EXTRACT_LABEL


def sentence_confidence(query: str, hits: list[SearchHit], embed: Embed) -> float:
    """The best cosine between the query and one sentence of the top passages, weighted down: a passage can cover a
    question in a single sentence ("go back and revisit the assessment when new data arrives") that the passage's
    own vector, averaged over the rest of it, undersells."""
    texts = [text for hit in hits[:CONFIDENCE_PASSAGES] for text in index_sentences(hit.chunk.text)]
    if not texts:
        return 0.0
    vectors = np.asarray(embed([query, *texts]), dtype=float)
    return SENTENCE_CONFIDENCE_WEIGHT * float((vectors[1:] @ vectors[0]).max())


def retrieval_confidence(query: str, hits: list[SearchHit]) -> float:
    """How well the best passages match: the higher of their cosine similarity to the query and
    (weighted down) the share of the query's content words they contain."""
    top = hits[:CONFIDENCE_PASSAGES]
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
