import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from assistant.index import GuideIndex
from assistant.models import Chunk
from assistant.retrieval import HybridRetriever, SearchFilters, diversify


def urls(hits):
    return [h.chunk.url.removeprefix("https://guide.test") for h in hits]


def test_paraphrased_question_finds_the_tool_page(retriever):
    hits = retriever.search("can a retired prime minister help unblock talks that are stuck?", 3)
    assert urls(hits)[0] == "/toolkit/the-tools/11-high-level-missions"
    assert hits[0].dense_similarity is not None and hits[0].dense_similarity > 0.2


def test_tool_number_is_understood(retriever):
    assert urls(retriever.search("tool 3", 1)) == ["/toolkit/the-tools/3-stakeholder-mapping"]
    assert urls(retriever.search("what is the purpose of tool 11", 1)) == ["/toolkit/the-tools/11-high-level-missions"]


def test_a_tool_named_in_portuguese_or_spanish_finds_its_english_page(retriever):
    from assistant.retrieval import tools_named

    assert tools_named("Quem deve ir numa missão de alto nível?") == {11}
    assert tools_named("¿Cómo se organizan las misiones de alto nivel y los mapeos de actores?") == {11, 3}
    assert tools_named("Para que servem as visitas de estudo e o mapeamento de atores?") == {13, 3}
    assert tools_named("¿Qué indicadores usa el diálogo?") == set()  # a word the guide uses everywhere names no tool
    assert tools_named("what is the purpose of tool 11") == {11}
    assert urls(retriever.search("Quem deve ir numa missão de alto nível?", 1)) == ["/toolkit/the-tools/11-high-level-missions"]


def test_acronym_in_a_title_is_understood(retriever):
    assert urls(retriever.search("PPA", 1)) == ["/guide/the-participatory-policy-analysis-ppa"]


def test_a_family_filter_admits_a_page_and_the_pages_under_it():
    def page(title, breadcrumb):
        return Chunk(id=title, url=f"https://x/{title}", title=title, breadcrumb=breadcrumb, text="Some text.")

    family = SearchFilters(family="The Dialogue Host")
    assert family.is_set() and not SearchFilters().is_set()
    assert family.admits(page("The Dialogue Host", ["Guide", "Who is involved?"]))
    assert family.admits(page("Reporting on progress", ["Guide", "Who is involved?", "The Dialogue Host"]))
    assert not family.admits(page("Media", ["Guide", "Who is involved?", "The Stakeholders"]))
    assert not SearchFilters(family="The Dialogue Host", lang="es").admits(page("The Dialogue Host", []))


def test_filters_restrict_results(retriever):
    toolkit = retriever.search("dialogue", 10, filters=SearchFilters(section="toolkit"))
    assert toolkit and all(h.chunk.section == "toolkit" for h in toolkit)
    trust = retriever.search("dialogue", 10, filters=SearchFilters(tool_type="Trust building"))
    assert trust and {h.chunk.tool_number for h in trust} == {11}
    spanish = retriever.search("dialogue", 10, filters=SearchFilters(lang="es"))
    assert urls(spanish) == ["/espanol/guia/misiones-de-alto-nivel"]


def test_spanish_question_finds_the_spanish_page(retriever):
    hits = retriever.search("¿cómo preparar la visita de una expresidenta para desbloquear el diálogo?", 3)
    assert "/espanol/guia/misiones-de-alto-nivel" in urls(hits)


def test_empty_or_blank_query_returns_nothing(retriever):
    assert retriever.search("   ") == []


def test_one_page_cannot_crowd_out_the_others():
    pool = {f"a{i}": Chunk(id=f"a{i}", url="https://x/a", title="A", text="t") for i in range(4)}
    pool["b0"] = Chunk(id="b0", url="https://x/b", title="B", text="t")
    fused = {"a0": 1.0, "a1": 0.95, "a2": 0.9, "a3": 0.85, "b0": 0.6}
    order = [cid for cid, _ in diversify(list(fused), pool, fused)]
    assert order.index("b0") <= 2


def test_every_chunk_of_a_page_the_query_names_keeps_its_place():
    pool = {f"a{i}": Chunk(id=f"a{i}", url="https://x/a", title="A", text="t") for i in range(4)}
    pool["b0"] = Chunk(id="b0", url="https://x/b", title="B", text="t")
    fused = {"a0": 1.0, "a1": 0.95, "a2": 0.9, "a3": 0.85, "b0": 0.6}
    order = [cid for cid, _ in diversify(list(fused), pool, fused, {"https://x/a"})]
    assert order == ["a0", "a1", "a2", "a3", "b0"]


def test_hits_of_a_page_named_outright_are_marked(retriever):
    hits = retriever.search("tool 11", 5)
    named = {h.chunk.url for h in hits if h.named_rank is not None}
    assert urls(hits)[0] == "/toolkit/the-tools/11-high-level-missions"
    assert {u.removeprefix("https://guide.test") for u in named} == {"/toolkit/the-tools/11-high-level-missions"}


def test_notes_only_reach_their_owner(settings, retriever, guide_index):
    note = Chunk(id="n", url="note://moldova.md", title="Moldova trip notes", text="The deputy minister for water joined in May.")
    guide_index.add_note_chunks("alice", "n1", [note])
    mine = retriever.search("who is the deputy minister for water", 5, owner="alice")
    assert mine[0].chunk.source_kind == "note" and mine[0].chunk.owner == "alice"
    assert all(h.chunk.source_kind == "guide" for h in retriever.search("deputy minister for water", 5, owner="bob"))
    assert all(h.chunk.source_kind == "guide" for h in retriever.search("deputy minister for water", 5))


def test_lexical_only_and_dense_only_channels(settings, guide_index):
    bm25 = HybridRetriever(settings, guide_index, channels=frozenset({"lexical"}))
    assert all(h.dense_rank is None for h in bm25.search("stakeholder mapping", 5))
    dense = HybridRetriever(settings, guide_index, channels=frozenset({"dense"}))
    assert all(h.lexical_rank is None and h.dense_rank for h in dense.search("stakeholder mapping", 5))


def test_empty_index_searches_to_nothing(settings):
    index = GuideIndex(settings, embeddings=DeterministicFakeEmbedding(size=8))
    assert HybridRetriever(settings, index).search("anything") == []


def test_sentence_vectors_are_embedded_once(retriever, monkeypatch):
    calls = []
    model_class = type(retriever.index.embeddings)
    real = model_class.embed_documents
    monkeypatch.setattr(model_class, "embed_documents", lambda self, texts: calls.append(list(texts)) or real(self, texts))
    first = retriever.embed(["Hosts convene partners.", "Donors fund roadmaps."])
    again = retriever.embed(["Donors fund roadmaps.", "Hosts convene partners.", "Media report."])
    assert calls == [["Hosts convene partners.", "Donors fund roadmaps."], ["Media report."]]
    assert (again[0] == first[1]).all() and (again[1] == first[0]).all()


def test_vocabulary_knows_the_guides_names_and_close_forms():
    from assistant.retrieval import Vocabulary

    vocabulary = Vocabulary(["Pilots ran in Moldova and Tunisia.", "Análise participativa"])
    assert vocabulary.knows("Moldova") and vocabulary.knows("Moldovan") and vocabulary.knows("ANALISE")
    assert not vocabulary.knows("Ukraine") and not vocabulary.knows("COVID-19") and not vocabulary.knows("")


SPELLING_GUIDE = [
    ("The Participatory Policy Analysis gathers evidence. Hosts run it in Moldova with the ministry's officials.", "en"),
    ("Participatory analysis needs participants, indicators and a roadmap for reform.", "en"),
    ("At present the risks depend on each position taken.", "en"),
    ("El análisis participativo reúne a los participantes.", "es"),
]


@pytest.fixture(scope="module")
def spelling():
    from assistant.retrieval import Spelling

    return Spelling([text for text, _ in SPELLING_GUIDE], [lang for _, lang in SPELLING_GUIDE])


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("How do I run a Prticipatory Poliyc Analisys?", "How do I run a Participatory Policy Analysis?"),
        ("which indicaters go in the roadmap for refrom", "which indicators go in the roadmap for reform"),
        ("What did the host do in Moldava?", "What did the host do in Moldova?"),  # a name becomes a name the guide has
        ("Who were the participnats in Brussls?", "Who were the participants in Brussels?"),  # an English word, if not the guide's
        ("INSIPRED in practice", "INSPIRED in practice"),
        # Of words as close: a letter left out rather than one typed in, unless struck twice; the guide's own word.
        ("Brief a former presdent", "Brief a former president"),
        ("What are the riskss?", "What are the risks?"),
        ("Which postiion?", "Which position?"),
    ],
)
def test_typos_are_put_right_to_the_word_meant(spelling, typed, meant):
    assert spelling.corrected(typed) == meant


@pytest.mark.parametrize(
    "query",
    [
        "Why should a local NGO bother with a consultant?",  # English words the guide does not use stay as typed
        "What has INSPIRED done in Benin?",  # a name is not turned into a word ("begin")
        "Summarise the neighbouring country's officials' role",  # British spellings, possessives
        "A programme officer at the centre travelled to discuss its defence",
        "Is the ISF like the PPA?",  # acronyms
        "¿Quién hizo el análisis partcipativo?",  # Spanish and Portuguese questions are searched as typed
        "Which ndicators?",  # never a change to the first letter: typos seldom touch it, so a guess there would be wild
    ],
)
def test_words_that_are_no_typos_stay_as_typed(spelling, query):
    assert spelling.corrected(query) == query


def test_a_misspelt_question_finds_the_page_the_right_spelling_finds(retriever):
    right = urls(retriever.search("how do I run a participatory policy analysis?", 3))
    assert right[0] == "/guide/the-participatory-policy-analysis-ppa"
    assert urls(retriever.search("how do I run a prticipatory poliyc analisys?", 3)) == right
    assert retriever.corrected_query("prticipatory poliyc analisys") == "participatory policy analysis"


def test_names_in_a_question():
    from assistant.compose.text import names_in

    assert names_in("What has INSPIRED achieved in Ukraine?") == ["Ukraine"]
    assert names_in("Did the COVID-19 pandemic change it? Ask NGOs.") == ["COVID-19"]
    assert names_in("Going to Gotham soon, what should I know?") == ["Gotham"]  # "I" is the speaker
    assert names_in("Moldova: what happened?") == []


class KeywordEmbedding(DeterministicFakeEmbedding):
    """A vector per text counting a few known words: similarity is plain word overlap, easy to reason about."""

    words: tuple[str, ...] = ()

    def _vector(self, text: str) -> list[float]:
        import re

        import numpy as np

        found = re.findall(r"\w+", text.lower())
        vector = np.array([found.count(w) for w in self.words] + [0.01], dtype=float)
        return list(vector / np.linalg.norm(vector))

    def embed_documents(self, texts):
        return [self._vector(t) for t in texts]

    def embed_query(self, text):
        return self._vector(text)


def small_index(settings, pages: dict[str, str], embeddings):
    from assistant.models import Page

    index = GuideIndex(settings, embeddings=embeddings)
    index.ingest([Page(url=f"https://guide.test/{slug}", title=slug.capitalize(), markdown=text) for slug, text in pages.items()])
    return index


def test_a_passage_is_found_by_its_one_sentence_on_the_question(settings):
    words = ("budgets", "donors", "ministries", "parliaments", "media", "courts", "unions", "timing",
             "venues", "minutes", "agendas", "quorum", "facilitator", "national", "country", "notes")
    pages = {
        # Many topics, one of them exactly the question's: the chunk as a whole matches it only loosely.
        "overview": "# Overview\n\nBudgets, donors, ministries, parliaments, media, courts, unions, timing, venues, "
                    "minutes, agendas and quorum all need planning.\n\nThe facilitator is a national of the country.",
        # Close to the question as a whole, yet never about it.
        "roles": "# Roles\n\nThe national facilitator takes the notes.",
    }
    index = small_index(settings, pages, KeywordEmbedding(size=len(words) + 1, words=words))
    question = "why should the facilitator be a national of the country?"
    assert urls(HybridRetriever(settings, index, channels=frozenset({"dense"})).search(question, 2)) == ["/overview", "/roles"]

    index.client.delete_collection(f"sentences_{index.active_name()}")  # whole chunks alone rank the other way
    assert urls(HybridRetriever(settings, index, channels=frozenset({"dense"})).search(question, 2)) == ["/roles", "/overview"]


def test_a_one_word_title_names_its_page_only_if_the_guide_seldom_uses_the_word(settings):
    pages = {
        "media": "# Media\n\nJournalists report on the talks once the partners agree to go public.",
        "tools": "# Tools\n\nEach of the tools below serves one purpose of the dialogue.",
        **{f"tool-{n}": f"# Tool {n}\n\nThis is one of the tools for step {n} of the talks." for n in range(4)},
    }
    index = small_index(settings, pages, DeterministicFakeEmbedding(size=8))
    named = HybridRetriever(settings, index, channels=frozenset({"named"}))
    assert urls(named.search("tools and media", 5)) == ["/media"]
    assert urls(named.search("media", 5)) == ["/media"]


@pytest.mark.parametrize("shortlist", [3, 10_000])
def test_best_sentence_is_each_shortlisted_chunks_top_sentence_cosine(retriever, monkeypatch, shortlist):
    """Checked against a plain loop: the nearest ``shortlist`` chunks get their best sentence, the rest their own cosine."""
    import numpy as np

    from assistant import retrieval

    monkeypatch.setattr(retrieval, "SHORTLIST", shortlist)
    query = np.asarray(retriever._query_vector("who should be around the table in a dialogue?"), dtype=np.float32)
    cosine = retriever.dense_vectors @ query
    nearest = set(np.argsort(-cosine)[:shortlist].tolist())
    expected = cosine.copy()
    for i, (begin, end) in enumerate(retriever.sentence_span):
        if i in nearest and end > begin:
            expected[i] = max(float(v.astype(np.float32) @ query) for v in retriever.sentence_vectors[begin:end])
    assert np.allclose(retriever._best_sentence(query, cosine), expected, atol=1e-5)
    assert (expected != cosine).sum() >= min(shortlist, 3)  # the sentences did change some scores
