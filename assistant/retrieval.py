"""Hybrid retrieval: dense (chunk + best-sentence vectors) + BM25 (bm25s) + named pages,
fused by reciprocal rank, diversified by page."""

from __future__ import annotations

import bisect
import logging
import re
import unicodedata
from collections import Counter, OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import bm25s
import numpy as np
import Stemmer
from pydantic import BaseModel
from rapidfuzz import process
from rapidfuzz.distance import OSA

from .index import GuideIndex, IndexUnavailable, chunk_from_record, passage_sentences, read_vectors
from .languages import question_language
from .models import Chunk, SearchHit
from .safety import valid_unicode
from .settings import Settings

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG

RRF_K = 10  # a small k lets one channel's confident first place count against mid-list agreement
CANDIDATES = 40
SHORTLIST = 1000  # chunks whose sentences are scored for a query: every chunk of the guide, the nearest 3% of 10k pages
NOTE_WEIGHT = 1.2  # a user's own notes on their question outrank general guidance of equal rank
MAX_NOTE_CHUNKS = 2000
VECTOR_CACHE = 50_000  # sentence vectors kept (~75 MB at 384 dimensions)
FOCUSED_QUERY_WORDS = 5
COMMON_WORD = 0.2  # share of chunks using a word beyond which a one-word title no longer names its page
ACRONYM = re.compile(r"\(([A-Z]{2,6})\)")
# A word the guide never uses is taken for a typo of one it does when a slip or two away (a letter dropped, swapped
# or wrong): one slip in a word of up to 7 letters, two in a longer one. Shorter words are left alone.
TYPO_MIN_LETTERS = 5
TYPO_LONG_WORD = 8
ACRONYM_LETTERS = 6  # an all-capitals word shorter than this is an acronym ("PPA", "NIMD"), not a shouted typo
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")  # "shouldn't" is one word
TOOL_MENTION = re.compile(r"\b(?:tool|ferramenta|herramienta)\s*(?:n[o.º°]*\s*)?#?(\d{1,2})\b", re.I)
# The toolkit exists in English only: a question in Portuguese or Spanish that names a tool ("uma missão de alto
# nível", "las visitas de estudio") names the English page. (English names match the titles themselves.)
TOOL_NAMES_PT_ES: dict[int, re.Pattern] = {
    number: re.compile(pattern, re.I)
    for number, pattern in {
        1: r"\bpanorama (?:pol[ií]tico|d[ae]s? (?:las )?pol[ií]ticas)\b",
        2: r"\b(?:fase|etapa|est[aá]gio) d[eo]l? ciclo (?:pol[ií]tico|de (?:las )?pol[ií]ticas)\b",
        3: r"\b(?:mape(?:amentos?|os?)|mapas?) (?:de|dos|das|de los) (?:atores|actores|partes interessadas|interesados)\b",
        4: r"\b(?:defini[cç][aã]o|cria[cç][aã]o|acompanhamento|seguimento|establecimiento|definici[oó]n|seguimiento) "
           r"(?:e (?:acompanhamento|seguimento) |y seguimiento )?de indicadores\b",
        5: r"\bcrit[eé]rios? de (?:avalia[cç][aã]o|evaluaci[oó]n)\b",
        6: r"\b(?:investiga[cç][aã]o|pesquisa|investigaci[oó]n) conjunta\b",
        7: r"\bgrupos? foca(?:is|les)\b",
        8: r"\beventos p[uú]blicos\b|\bcampa(?:nhas?|ñas?) de (?:sensibiliza[cç](?:[aã]o|i[oó]n)|comunica[cç](?:[aã]o|i[oó]n))\b",
        9: r"\breuni(?:[oõ]es|ones) bilatera(?:is|les)\b",
        10: r"\bgrupos de (?:trabalho|trabajo)\b",
        11: r"\bmiss?(?:[aã]o|[oõ]es|i[oó]n|iones) de alto n[ií]vel\b",
        12: r"\bdi[aá]logo multipartid[aá]rio\b|\bmultipartid(?:ario|ista)\b",
        13: r"\bvisitas? de estud(?:o|io)\b",
        14: r"\bconsultas? (?:online|em linha|en l[ií]nea|virtua(?:is|les))\b",
        15: r"\bsubven[cç](?:[oõ]es|iones)\b|\besquemas? de (?:subs[ií]dios|bolsas|ayudas)\b",
        16: r"\bcursos? de forma[cç](?:[aã]o|i[oó]n)\b",
        17: r"\bcoaching\b|\bmentor[ií]a\b",
        18: r"\b(?:mape(?:amentos?|os?)|mapas?) de redes\b",
        19: r"\b(?:apoio|apoyo|interc[aâ]mbio|intercambio) (?:internacional )?entre pares\b",
    }.items()
}


def tools_named(query: str) -> set[int]:
    """The tools a question names: by number in any language ("tool 11", "a ferramenta 11"), or by a Portuguese or
    Spanish name of the tool."""
    return {int(n) for n in TOOL_MENTION.findall(query)} | {n for n, name in TOOL_NAMES_PT_ES.items() if name.search(query)}
STOPWORDS = set(
    """a an and are as at be by can do does for from how i in is it its me my of on or our should that the their
    this to was we what when where which who why will with you your about into than then there these they those
    o os as um uma de da do das dos e em no na nos nas que para por com se como ao à é el la los las un una y en
    del al lo se por para con su sus es qué cómo quem qual quais num numa nuns numas dum duma pelo pela""".split()
)


class SearchFilters(BaseModel):
    section: str | None = None
    tool_type: str | None = None
    lang: str | None = None
    source_kind: str | None = None
    country: str | None = None
    family: str | None = None  # a page's title: that page and the pages under it ("The Dialogue Host" and its roles)

    def is_set(self) -> bool:
        return any(value is not None for value in self.model_dump().values())

    def admits(self, chunk: Chunk) -> bool:
        fields = all(getattr(chunk, key) == value for key, value in self.model_dump(exclude={"family"}).items() if value is not None)
        return fields and (self.family is None or in_family(chunk, self.family))


def in_family(chunk: Chunk, title: str) -> bool:
    """The page titled so, or a page whose breadcrumb ends under it."""
    return title.casefold() in {chunk.title.casefold(), *(crumb.casefold() for crumb in chunk.breadcrumb[-1:])}


class Vocabulary:
    """Every word the guide uses (accents folded), to tell whether a name in a question appears in it at all."""

    def __init__(self, texts: list[str]):
        self.words = sorted({w for text in texts for w in re.findall(r"\w+", fold_accents(text.lower()))})
        self._set = set(self.words)

    def knows(self, name: str) -> bool:
        parts = re.findall(r"\w+", fold_accents(name.lower()))
        return bool(parts) and all(self._knows_word(part) for part in parts)

    def _knows_word(self, word: str) -> bool:
        if word in self._set:
            return True
        # "Moldovan" is known when the guide says "Moldova": compare all but the last two letters.
        stem = word[:-2] if len(word) >= 6 else None
        if stem is None:
            return False
        at = bisect.bisect_left(self.words, stem)
        return at < len(self.words) and self.words[at].startswith(stem)


class Spelling:
    """Puts right the words of a query that are no English word and that the guide never uses ("Prticipatory Poliyc
    Analisys"): BM25 finds nothing for a misspelt word, the page-title match needs every word, and the embedding of a
    misspelt word drifts. A word is replaced by the closest of the guide's own words a slip or two away (a letter
    dropped, added, swapped or wrong) and the English words one slip away ("Brussls": Brussels).
    Typos seldom touch a word's first letter, so neither does this ("funder" does not become "under"). A capitalised
    word mid-sentence may be a name: it only becomes a word the guide capitalises ("Moldava": Moldova)."""

    def __init__(self, texts: list[str], languages: list[str]):
        # "bother", "consultant" or "president" are not in the guide, yet are what the user meant. The Portuguese and
        # Spanish word lists lack most verb forms, so questions in those languages are searched as typed.
        self.dictionary = word_list("en") if "en" in languages else None
        self.counts: dict[str, Counter[str]] = {}
        self.capitalised: Counter[str] = Counter()
        for text, language in zip(texts, languages):
            words = WORD.findall(fold_accents(text))
            self.counts.setdefault(language, Counter()).update(w.lower() for w in words)
            self.capitalised.update(w.lower() for w in words if w[0].isupper())
        self.total = sum(self.counts.values(), Counter())
        self.by_initial: dict[str, list[str]] = {}
        for word in self.counts.get("en", ()):
            if len(word) >= TYPO_MIN_LETTERS - 1:
                self.by_initial.setdefault(word[0], []).append(word)
        self._fixes: dict[tuple[str, bool], str | None] = {}

    def corrected(self, query: str) -> str:
        if self.dictionary is None or "pt" in (languages := {question_language(query), self.language(query)}) or "es" in languages:
            return query
        later = [w for w in WORD.findall(query)[1:] if len(w) >= 4 and not w.isupper()]
        title_case = bool(later) and sum(w[0].isupper() for w in later) >= 0.6 * len(later)

        def fix(match: re.Match) -> str:
            word = match.group(0)
            bare = re.sub(r"['’]s$", "", fold_accents(word.lower()))  # "Kyrgyzstan's" is Kyrgyzstan
            acronym = word.isupper() and len(word) < ACRONYM_LETTERS
            if len(bare) < TYPO_MIN_LETTERS or acronym or re.search(r"['’]", bare) or bare in self.total or self.is_english(bare):
                return word
            mid_sentence = bool(re.search(r"[^\s.!?¿¡]\s*$", query[: match.start()]))
            fixed = self._fix(bare, word[0].isupper() and mid_sentence and not title_case)
            if fixed is None:
                return word
            return fixed.upper() if word.isupper() else fixed.capitalize() if word[0].isupper() else fixed

        return WORD.sub(fix, query)

    def is_english(self, word: str) -> bool:
        """In the word list, in its American spelling too ("neighbouring", "summarise", "programme", "centre")."""
        return any(spelling in self.dictionary for spelling in (word, *american_spellings(word)))

    def language(self, query: str) -> str | None:
        """The language whose pages use the query's known words most ("policy" is English, "política" Spanish)."""
        known = [w for w in (fold_accents(w.lower()) for w in WORD.findall(query)) if w in self.total and len(w) >= 4]
        share = {language: sum(counts[w] / self.total[w] for w in known) for language, counts in self.counts.items()}
        return max(share, key=share.get) if known else None

    def _fix(self, word: str, name: bool) -> str | None:
        if (word, name) not in self._fixes:
            slips = 1 if len(word) < TYPO_LONG_WORD else 2
            guide = process.extract(word, self.by_initial.get(word[0], []), scorer=OSA.distance, score_cutoff=slips, limit=None)
            english = [w for w in self.dictionary.candidates(word) or () if w[0] == word[0] and w != word and w.isalpha()]
            candidates = [(w, distance, True) for w, distance, _ in guide if not name or self.capitalised[w]]
            candidates += [(w, OSA.distance(word, w), False) for w in english if w not in self.total]
            # The closest; of words as close, one that does not take a letter typed in to explain (a letter left out
            # is a commoner slip: "presdent" is president, not present; a key struck twice is common too: "riskss"
            # is risks), then the guide's own word ("postiion" is position, not postilion), then the most frequent.
            # A name is the guide's name if it has one that close ("Moldava": Moldova, not Moldavia).
            ranked = sorted(
                (name and not in_guide, distance, typed_in(word, w), not in_guide, -(self.total[w] if in_guide else self.dictionary[w]), w)
                for w, distance, in_guide in candidates
            )
            self._fixes[(word, name)] = ranked[0][-1] if ranked else None
        return self._fixes[(word, name)]


# British endings and their American forms: the word list is American, the guide and many of its readers British.
BRITISH_TO_AMERICAN = [
    (r"our", "or"), (r"is(e[sd]?|ing|ations?)$", r"iz\1"), (r"mme(s?)$", r"m\1"), (r"tre(s?)$", r"ter\1"),
    (r"ence$", "ense"), (r"ll(ed|ing|er|ers)$", r"l\1"), (r"ogue(s?)$", r"og\1"),
]


def american_spellings(word: str) -> list[str]:
    return [re.sub(british, american, word) for british, american in BRITISH_TO_AMERICAN if re.search(british, word)]


def typed_in(typed: str, word: str) -> bool:
    """Whether ``typed`` is ``word`` with a stray letter added, other than a letter struck twice."""
    doubled = {typed[:i] + typed[i + 1:] for i in range(1, len(typed)) if typed[i] == typed[i - 1]}
    return len(word) < len(typed) and word not in doubled


@lru_cache(maxsize=8)
def word_list(language: str):
    """pyspellchecker's word frequency list for this language, None where it has none."""
    from spellchecker import SpellChecker

    try:
        return SpellChecker(language=language, distance=1)
    except ValueError:
        return None


class Retriever(Protocol):
    def search(
        self, query: str, k: int | None = None, *, filters: SearchFilters | None = None, owner: str | None = None
    ) -> list[SearchHit]:
        """Best first. ``owner`` adds that user's own notes to the guide passages."""

    def embed(self, texts: list[str]) -> np.ndarray:
        """L2-normalised embeddings, one row per text (for sentence-level similarity)."""

    def knows(self, word: str) -> bool:
        """Whether the guide uses this word (or a close form of it) anywhere."""

    def corrected_query(self, query: str) -> str:
        """The query with its typos put right, as the guide is searched for it."""


def fold_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


class Lexical:
    """BM25 over chunk texts with accents folded and English stemming (harmless for pt/es)."""

    def __init__(self, texts: list[str]):
        self.stemmer = Stemmer.Stemmer("english")
        self.bm25 = bm25s.BM25()
        if texts:
            self.bm25.index(self.tokenize(texts), show_progress=False)
        self.size = len(texts)

    def tokenize(self, texts: list[str], *, as_ids: bool = True):
        return bm25s.tokenize(
            [fold_accents(t) for t in texts],
            stopwords=list(STOPWORDS),
            stemmer=self.stemmer,
            return_ids=as_ids,
            show_progress=False,
        )

    def ranked(self, query: str, mask: np.ndarray | None, limit: int) -> list[int]:
        words = self.tokenize([query], as_ids=False)[0] if self.size else []
        if not words:
            return []
        scores = self.bm25.get_scores(words)
        if mask is not None:
            scores = scores * mask
        order = np.argsort(-scores)[:limit]
        return [int(i) for i in order if scores[i] > 0]


def content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", fold_accents(text.lower())) if w not in STOPWORDS and len(w) > 1}


class HybridRetriever:
    CHANNELS = frozenset({"dense", "lexical", "named"})

    def __init__(self, settings: Settings, index: GuideIndex, channels: frozenset[str] = CHANNELS):
        if problem := index.model_mismatch():
            # A question embedded by one model and matched against another's vectors finds noise, or fails outright.
            raise IndexUnavailable(f"{problem[0].upper()}{problem[1:]}: run `inspired ingest` to embed the guide and your notes with it.")
        self.settings = settings
        self.channels = channels
        self.index = index
        self.collection = index.active_collection()
        self.chunks = index.all_chunks()
        self.position = {c.id: i for i, c in enumerate(self.chunks)}
        self.lexical = Lexical([c.embed_text for c in self.chunks])
        # The rows in sentence_vectors of the sentences of recently retrieved chunks, by text: the composer
        # quotes those, and finds their vectors here instead of embedding them again.
        self.known_sentences: OrderedDict[str, int] = OrderedDict()
        self.dense_vectors, self.sentence_vectors, self.sentence_span = self._load_vectors()
        self.title_words = [content_words(c.title) for c in self.chunks]
        self.acronyms = [{a.lower() for a in ACRONYM.findall(c.title)} for c in self.chunks]
        # Inverted indexes keep "named page" matching cheap on a large guide.
        self.by_title_word: dict[str, list[int]] = {}
        self.by_tool: dict[int, list[int]] = {}
        for i, (chunk, words) in enumerate(zip(self.chunks, self.title_words)):
            for word in words:
                self.by_title_word.setdefault(word, []).append(i)
            if chunk.tool_number is not None:
                self.by_tool.setdefault(chunk.tool_number, []).append(i)
        chunk_words = [content_words(c.embed_text) for c in self.chunks]
        frequency: dict[str, int] = {}
        for words in chunk_words:
            for word in words:
                frequency[word] = frequency.get(word, 0) + 1
        self.common_words = {w for w, n in frequency.items() if n > COMMON_WORD * len(self.chunks)}
        self.reranker = load_reranker(settings.reranker_model)
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self.vocabulary = Vocabulary([c.embed_text for c in self.chunks])
        self.spelling = Spelling([c.embed_text for c in self.chunks], [c.lang for c in self.chunks])

    def _load_vectors(self):
        """Chunk vectors, and their sentences' vectors grouped by chunk (``sentence_span[i]``: the rows of
        chunk i). Sentences are float16 (a cosine off by ~0.001 ranks the same) and memory-mapped."""
        empty = np.zeros((0, 0), dtype=np.float32)
        spans_at = np.zeros((len(self.chunks), 2), dtype=np.int64)
        if not self.chunks:
            return empty, empty, spans_at
        ids, vectors = read_vectors(self.collection)
        row = {cid: n for n, cid in enumerate(ids)}
        chunk_vectors = vectors[[row[c.id] for c in self.chunks]]
        stored = self.index.sentence_vectors()
        if stored is None:
            log.warning("this index has no sentence vectors: run `inspired ingest` to add them")
            return chunk_vectors, empty, spans_at
        sentence_vectors, spans = stored
        for chunk_id, span in spans.items():
            if (at := self.position.get(chunk_id)) is not None:
                spans_at[at] = span
        return chunk_vectors, sentence_vectors, spans_at

    @classmethod
    def from_settings(cls, settings: Settings) -> "HybridRetriever":
        return cls(settings, GuideIndex(settings))

    def embed(self, texts: list[str]) -> np.ndarray:
        """Sentence vectors: the guide's own sentences from the index, any other text embedded once and
        cached (the same passages and titles come back for many questions)."""
        fresh_texts = [t for t in texts if t not in self.known_sentences]
        missing = [t for t in dict.fromkeys(fresh_texts) if t not in self._vectors]
        if missing:
            fresh = np.asarray(self.index.embeddings.embed_documents(missing), dtype=np.float32)
            self._vectors.update(zip(missing, fresh))
            while len(self._vectors) > VECTOR_CACHE:
                self._vectors.popitem(last=False)
        for text in fresh_texts:
            self._vectors.move_to_end(text)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        stored = self.known_sentences
        rows = [self.sentence_vectors[stored[t]].astype(np.float32) if t in stored else self._vectors[t] for t in texts]
        return np.vstack(rows)

    def knows(self, word: str) -> bool:
        return self.vocabulary.knows(word)

    def corrected_query(self, query: str) -> str:
        """The query with its typos put right, as the guide is searched for it."""
        return self.spelling.corrected(query)

    @lru_cache(maxsize=2048)
    def _query_vector(self, query: str) -> tuple[float, ...]:
        return tuple(self.index.embeddings.embed_query(query))

    def search(
        self, query: str, k: int | None = None, *, filters: SearchFilters | None = None, owner: str | None = None
    ) -> list[SearchHit]:
        k = k or self.settings.retrieval_k
        query = valid_unicode(query).strip()
        if not query or (not self.chunks and not owner):
            return []
        filters = filters or SearchFilters()
        rankings: list[tuple[float, list[str]]] = []
        similarity: dict[str, float] = {}
        pool: dict[str, Chunk] = {}
        named: list[str] = []

        want_guide = filters.source_kind in (None, "guide")
        if want_guide and self.chunks:
            # Typos are put right against the guide's words only: a user's notes keep the words as typed.
            spelled = self.corrected_query(query)
            mask = np.array([filters.admits(c) for c in self.chunks], dtype=np.float32) if filters.is_set() else None
            dense = self._dense(list(self._query_vector(spelled)), mask, similarity) if "dense" in self.channels else []
            lexical = self._lexical(spelled, mask) if "lexical" in self.channels else []
            named = self._named(spelled, filters) if "named" in self.channels else []
            rankings += [(1.0, dense), (1.0, lexical), (2.0, named)]
            pool.update({cid: self.chunks[self.position[cid]] for _, ranking in rankings for cid in ranking})
        if owner and filters.source_kind in (None, "note"):
            vector = list(self._query_vector(query))
            rankings += [(NOTE_WEIGHT, ranking) for ranking in self._notes(query, vector, owner, filters, similarity, pool)]

        fused: dict[str, float] = {}
        ranks: dict[str, dict[int, int]] = {}
        for list_no, (weight, ranking) in enumerate(rankings):
            for rank, cid in enumerate(ranking):
                fused[cid] = fused.get(cid, 0.0) + weight / (RRF_K + rank + 1)
                ranks.setdefault(cid, {})[list_no] = rank + 1
        # A short query naming a page ("tool 1", "PPA risks") asks for that page; a long request naming one wants breadth.
        named_pages = {pool[cid].url for cid in named} if len(content_words(query)) <= FOCUSED_QUERY_WORDS else set()
        ordered = diversify(sorted(fused, key=fused.get, reverse=True), pool, fused, named_pages)
        hits = [
            SearchHit(
                chunk=pool[cid],
                score=score,
                dense_rank=ranks[cid].get(0),
                lexical_rank=ranks[cid].get(1),
                named_rank=ranks[cid].get(2),
                dense_similarity=similarity.get(cid),
            )
            for cid, score in ordered
        ]
        if self.reranker is not None:
            hits = self._rerank(query, hits[: max(20, k)])
        self._learn_sentences(hits[:k])
        return hits[:k]

    def _learn_sentences(self, hits: list[SearchHit]) -> None:
        """Map the sentences of these guide chunks to their stored vectors (the composer quotes them next)."""
        for hit in hits:
            at = self.position.get(hit.chunk.id)
            if at is None or not len(self.sentence_vectors):
                continue
            begin, end = self.sentence_span[at]
            texts = passage_sentences(hit.chunk.text)
            if len(texts) != end - begin:  # stored by another version of the splitter: embed them afresh
                continue
            for row, text in enumerate(texts, begin):
                self.known_sentences[text] = row
                self.known_sentences.move_to_end(text)
        while len(self.known_sentences) > VECTOR_CACHE:
            self.known_sentences.popitem(last=False)

    def _dense(self, vector: list[float], mask: np.ndarray | None, similarity: dict[str, float]) -> list[str]:
        """Chunks by their own cosine plus that of their best sentence: a passage matches as a whole or by one point."""
        query = np.asarray(vector, dtype=np.float32)
        cosine = self.dense_vectors @ query
        if mask is not None:
            cosine = np.where(mask > 0, cosine, -np.inf)
        score = cosine + self._best_sentence(query, cosine)
        top = np.argpartition(-score, CANDIDATES)[:CANDIDATES] if len(score) > CANDIDATES else np.arange(len(score))
        order = [int(i) for i in top[np.argsort(-score[top])] if np.isfinite(score[i])]
        for i in order:
            similarity[self.chunks[i].id] = float(cosine[i])
        return [self.chunks[i].id for i in order]

    def _best_sentence(self, query: np.ndarray, cosine: np.ndarray) -> np.ndarray:
        """Each chunk's best sentence cosine (its own cosine when it has no sentences), worked out for the
        SHORTLIST chunks nearest the query only: on a large guide, scoring every sentence costs more than the
        rest of a search together."""
        best = cosine.copy()
        if not len(self.sentence_vectors):
            return best
        shortlist = np.argpartition(-cosine, SHORTLIST)[:SHORTLIST] if len(cosine) > SHORTLIST else np.arange(len(cosine))
        begin, end = self.sentence_span[shortlist].T
        shortlist, begin, lengths = shortlist[end > begin], begin[end > begin], (end - begin)[end > begin]
        if not len(shortlist):
            return best
        offsets = np.r_[0, np.cumsum(lengths)[:-1]]
        rows = np.repeat(begin - offsets, lengths) + np.arange(lengths.sum())
        similarities = self.sentence_vectors[rows].astype(np.float32) @ query
        best[shortlist] = np.maximum.reduceat(similarities, offsets)
        return best

    def _lexical(self, query: str, mask: np.ndarray | None) -> list[str]:
        return [self.chunks[i].id for i in self.lexical.ranked(query, mask, CANDIDATES)]

    def _named(self, query: str, filters: SearchFilters) -> list[str]:
        """Pages the query names outright: "tool 11", an acronym ("PPA"), or every word of a title ("Roadmap for Reform")."""
        numbers = tools_named(query)
        words = content_words(query)
        candidates = {i for n in numbers for i in self.by_tool.get(n, ())}
        candidates.update(i for w in words for i in self.by_title_word.get(w, ()))
        named = []
        for i in candidates:
            chunk, acronyms = self.chunks[i], self.acronyms[i]
            if not filters.admits(chunk):
                continue
            by_number = chunk.tool_number is not None and chunk.tool_number in numbers
            title_core = {w for w in self.title_words[i] if not w.isdigit()} - acronyms
            # A one-word title names its page only in a short query, and only if the guide seldom uses that word.
            by_title = len(title_core) >= 1 and title_core <= words and (
                len(title_core) >= 2 or (len(words) <= 3 and not title_core <= self.common_words)
            )
            if by_number or by_title or acronyms & words:
                named.append((len(title_core) + 10 * by_number, chunk.position, chunk.id))
        named.sort(key=lambda item: (-item[0], item[1], item[2]))
        return [cid for _, _, cid in named][:CANDIDATES]

    def _notes(
        self, query: str, vector, owner: str, filters: SearchFilters, similarity: dict[str, float], pool: dict[str, Chunk]
    ) -> list[list[str]]:
        """The owner's notes, ranked densely and lexically (a user's notes are few: BM25 is built per query)."""
        clauses = [{"owner": owner}] + ([{"country": filters.country}] if filters.country else [])
        where = clauses[0] if len(clauses) == 1 else {"$and": clauses}
        collection = self.index.notes_collection()
        stored = collection.get(where=where, include=["metadatas"], limit=MAX_NOTE_CHUNKS)
        if not stored["ids"]:
            return []
        notes = [chunk_from_record(cid, meta) for cid, meta in zip(stored["ids"], stored["metadatas"])]
        pool.update({note.id: note for note in notes})
        result = collection.query(
            query_embeddings=[vector], n_results=min(10, len(notes)), where=where, include=["distances"]
        )
        for cid, distance in zip(result["ids"][0], result["distances"][0]):
            similarity[cid] = 1.0 - float(distance)
        lexical = Lexical([note.embed_text for note in notes]).ranked(query, None, 10)
        return [result["ids"][0], [notes[i].id for i in lexical]]

    def _rerank(self, query: str, hits: list[SearchHit]) -> list[SearchHit]:
        scores = self.reranker.predict([(query, h.chunk.embed_text) for h in hits])
        for hit, score in zip(hits, scores):
            hit.score = float(score)
        return sorted(hits, key=lambda h: h.score, reverse=True)


def diversify(
    ordered: list[str], pool: dict[str, Chunk], fused: dict[str, float], named_pages: set[str] = frozenset()
) -> list[tuple[str, float]]:
    """Each further chunk of a page counts half as much, so one page cannot crowd out the others; the
    ``named_pages`` are what the query asks for, so all their chunks keep their place."""
    seen: dict[str, int] = {}
    scored = []
    for cid in ordered:
        url = pool[cid].url
        scored.append((cid, fused[cid] * (1.0 if url in named_pages else 0.5 ** seen.get(url, 0))))
        seen[url] = seen.get(url, 0) + 1
    return sorted(scored, key=lambda item: item[1], reverse=True)


@lru_cache(maxsize=2)
def load_reranker(path: str):
    """A cross-encoder only from local weights; anything else is skipped with one log line."""
    if not path:
        return None
    if not Path(path).is_dir():
        log.warning("reranker %s is not a local folder: reranking skipped", path)
        return None
    from sentence_transformers import CrossEncoder

    return CrossEncoder(path, device="cpu")
