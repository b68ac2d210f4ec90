"""Country questions: the country's own story first, no other country's case, one language (texts written for these tests)."""

from __future__ import annotations

import pytest
from fakes import SITE, FakeRetriever, note_chunk, offline_settings

from assistant.compose import Composer
from assistant.compose.places import (
    case_countries, countries_asked_about, countries_in, country_sentences, list_excerpt, other_countries_sentences,
)
from assistant.languages import question_language
from assistant.models import BriefingRequest, Chunk, SearchHit

LONG_THANKS = (
    "We owe much to the organisations that hosted our dialogues and that kept them going through elections, "
    "changes of minister, budget cuts, floods, strikes, a pandemic, several reshuffles of the cabinet, the loss of "
    "key staff, two changes of government, an economic crisis, the slow return of donors after each of these "
    "shocks and the many long months in which nothing at all seemed to move forward, and we thank "
    "each of them warmly for the patience, the local knowledge and the contacts that made every process possible: "
    "Harbour Institute (Ghana), Riverside Forum (Moldova), Lake Trust and Hill Centre (both from Peru) and Delta Group (Chad)."
)


def _chunk(slug: str, title: str, text: str, *, lang: str = "en") -> Chunk:
    return Chunk(id=f"{slug}#0", url=f"{SITE}/{slug}", title=title, text=text, lang=lang)


CHUNKS = [
    _chunk(
        "guide/cases/moldova", "Reaching the ministry",
        "Moldova is a telling case. The social ministry stayed away from the dialogue sessions for almost a year. "
        "Its deputy minister then agreed to co-chair the working group on pensions. "
        "Elsewhere, hosts often wait much longer for a ministry to take part in the dialogue sessions.",
    ),
    _chunk(
        "guide/cases/peru", "A ministry that walked out",
        "In Peru the labour ministry left the dialogue sessions after the first meeting on pensions. "
        "The host then met the ministry alone before the next dialogue sessions.",
    ),
    _chunk("guide/thanks", "Thanks", LONG_THANKS),
    _chunk(
        "espanol/casos/moldova", "Llegar al ministerio",
        "El caso de Moldavia y de Moldova muestra que el ministerio volvió a las sesiones de diálogo sobre pensiones.",
        lang="es",
    ),
]


def _hits(chunks: list[Chunk]) -> list[SearchHit]:
    return [SearchHit(chunk=c, score=1.0) for c in chunks]


@pytest.mark.parametrize(
    ("text", "countries"),
    [
        ("what has INSPIRED done in Moldova, who should I meet?", ["Moldova"]),
        ("Briefing for Cabo Verde and Bolívia", ["Cape Verde", "Bolivia"]),
        ("A donor visiting Tbilisi, then Praia", ["Georgia", "Cape Verde"]),  # capitals stand for their countries
        ("A mission to La Paz and then Almaty", ["Bolivia", "Kazakhstan"]),  # so do seats of government
        ("Un ex jefe de Estado del Club de Madrid viaja a Lima", ["Peru"]),  # an organisation, not Spain
        ("El caso de Moldavia", ["Moldova"]),
        ("the Republic of Moldova", ["Moldova"]),
        ("how do we chad the turkey?", []),  # words, not countries: countries are capitalised
        ("Male officials met Hamilton and Victoria", []),  # words and people's names that small places use too
        ("How do I run a Participatory Policy Analysis?", []),
        ("Is there a Portuguese version of the guide?", []),  # a language, not a country's case
    ],
)
def test_countries_named_in_a_question(text, countries):
    assert countries_in(text) == countries


def test_a_country_story_runs_on_after_the_sentence_naming_it():
    texts = [s.text for s in country_sentences(_hits(CHUNKS[:1]), "Moldova")]
    assert texts == [
        "The social ministry stayed away from the dialogue sessions for almost a year.",
        "Its deputy minister then agreed to co-chair the working group on pensions.",
    ]  # the opening "Moldova is a telling case." is too short to quote; the fourth sentence is about other hosts


def test_a_long_list_is_quoted_by_its_lead_in_and_the_country_item():
    assert list_excerpt(LONG_THANKS, "Moldova").endswith("made every process possible: … Riverside Forum (Moldova) …")
    assert list_excerpt("Nothing to list here about Moldova.", "Moldova") is None
    # the last item after "and" is an item of its own; two organisations "both from" one country stay together
    assert list_excerpt(LONG_THANKS, "Chad").endswith(": … Delta Group (Chad) …")
    assert list_excerpt(LONG_THANKS, "Peru").endswith(": … Lake Trust and Hill Centre (both from Peru) …")
    texts = [s.text for s in country_sentences(_hits(CHUNKS[2:3]), "Moldova")]
    assert len(texts) == 1 and "Riverside Forum (Moldova)" in texts[0] and "Peru" not in texts[0]


def test_a_sentence_on_a_people_is_on_their_country():
    armenian = _chunk("guide/cases/jobs", "Jobs", "The dialogue on the labour rights of Armenian women ran for two years.")
    assert other_countries_sentences(_hits([armenian]), ["Moldova"]) == {armenian.text}
    assert not other_countries_sentences(_hits([armenian]), ["Armenia"])


def test_another_country_story_is_told_apart_sentence_by_sentence():
    elsewhere = other_countries_sentences(_hits(CHUNKS[:2]), ["Moldova"])
    assert elsewhere == {
        "In Peru the labour ministry left the dialogue sessions after the first meeting on pensions.",
        "The host then met the ministry alone before the next dialogue sessions.",  # Peru's story, though unnamed
    }


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("What happened with the dialogue in Bolivia?", "en"),
        ("¿Qué es la hoja de ruta para la reforma?", "es"),
        ("Quais são os atores do diálogo e o que fazem?", "pt"),
        ("Club de Madrid", None),  # a name, not a sentence: no language to go by
        ("PPA", None),
    ],
)
def test_question_language(text, language):
    assert question_language(text) == language


@pytest.mark.parametrize(
    ("question", "countries"),
    [
        ("What did the Tunisian dialogue produce, compared with Kyrgyzstan?", ["Tunisia", "Kyrgyzstan"]),
        ("How did the Georgian parliament react to the roadmap?", ["Georgia"]),
        ("Is there a Spanish version of the guide?", []),  # languages, not countries
        ("Can I read the toolkit in Georgian?", []),
        ("A Chilean former president joins our mission next month: what should we prepare?", []),  # where the visitor is from
        ("What has INSPIRED done in Moldova?", ["Moldova"]),
    ],
)
def test_a_question_names_a_country_by_its_people_too_but_not_by_its_language(question, countries):
    assert countries_asked_about(question) == countries


def test_a_question_naming_a_country_by_its_people_keeps_that_countrys_case(tmp_path):
    composer = Composer(offline_settings(tmp_path), FakeRetriever(CHUNKS))
    composer.abstain_threshold = 0.0
    answer = composer.ask("What did the ministry do in the Peruvian dialogue sessions on pensions?")
    assert "labour ministry left the dialogue sessions" in answer.markdown
    assert "deputy minister then agreed to co-chair" not in answer.markdown  # Moldova's case is not Peru's
    assert answer.markdown.rstrip().endswith("is not in the guide: add your country notes.*")


def test_a_country_question_quotes_that_country_only_and_in_the_question_language(tmp_path):
    composer = Composer(offline_settings(tmp_path), FakeRetriever(CHUNKS))
    composer.abstain_threshold = 0.0
    answer = composer.ask("What did the ministry do in the dialogue sessions in Moldova?")
    assert not answer.abstained
    assert "deputy minister then agreed to co-chair" in answer.markdown
    assert "Peru" not in answer.markdown and "met the ministry alone" not in answer.markdown
    assert "ministerio" not in answer.markdown
    assert answer.markdown.rstrip().endswith("is not in the guide: add your country notes.*")  # no names invented
    long_answer = composer.ask("What did the ministry do in the dialogue sessions in Moldova?", length="long")
    assert "Riverside Forum (Moldova)" in long_answer.markdown  # found by a search for the country itself
    assert {c.url for c in answer.citations} <= {c.url for c in CHUNKS if c.lang == "en"} - {f"{SITE}/guide/cases/peru"}


def test_without_a_country_other_cases_stay_quotable(tmp_path):
    composer = Composer(offline_settings(tmp_path), FakeRetriever(CHUNKS))
    composer.abstain_threshold = 0.0
    answer = composer.ask("What can a host do when a ministry leaves the dialogue sessions?")
    assert "met the ministry alone" in answer.markdown
    assert "country notes" not in answer.markdown


def test_a_briefing_local_context_quotes_every_mention_of_the_country(tmp_path):
    history = _chunk("guide/history", "Where it began", "The first four trials of the approach took place in Ghana, Moldova, Peru and Tunisia.")
    composer = Composer(offline_settings(tmp_path), FakeRetriever([*CHUNKS, history]))
    briefing = composer.brief(BriefingRequest(request="Brief a donor visiting Moldova to discuss pension reform with the ministry"))
    local = next(s for s in briefing.sections if s.heading == "Local context").markdown
    assert local.startswith("**What the guide says about Moldova:**")
    assert "Riverside Forum (Moldova)" in local
    assert "first four trials" in local  # far from the request's words, but it names the country
    assert "deputy minister then agreed to co-chair" in local
    assert "labour ministry left" not in local and "ministerio" not in local  # Peru's case; the Spanish page


def test_no_reminder_when_the_users_own_country_notes_are_quoted(tmp_path):
    retriever = FakeRetriever(CHUNKS)
    retriever.add_note(note_chunk("ana", "In Moldova the ministry now sends its deputy minister to every dialogue session.", country="Moldova"))
    composer = Composer(offline_settings(tmp_path), retriever)
    composer.abstain_threshold = 0.0
    answer = composer.ask("What did the ministry do in the dialogue sessions in Moldova?", owner="ana")
    assert any(c.source_kind == "note" for c in answer.citations)
    assert "add your country notes" not in answer.markdown


def test_a_briefing_leaves_out_another_country_story_that_does_not_name_it(tmp_path):
    composer = Composer(offline_settings(tmp_path), FakeRetriever(CHUNKS))
    briefing = composer.brief(BriefingRequest(request="Brief a host visiting Moldova whose ministry met the host alone before the dialogue sessions"))
    text = "\n".join(s.markdown for s in briefing.sections)
    assert "met the ministry alone" not in text  # Peru's story: in a Moldova briefing it would read as Moldova's



@pytest.mark.parametrize(
    ("text", "countries"),
    [
        ("In Georgia, the working group asked for more mediators.", ["Georgia"]),
        ("INSPIRED Armenia brought three ministries to one table.", ["Armenia"]),
        ("Hosts in Mongolia and in Kyrgyzstan relied on one committed official.", ["Mongolia", "Kyrgyzstan"]),
        ("The Netherlands Institute for Multiparty Democracy runs the workshops.", []),  # an organisation's name
        ("Armenian unions joined late.", []),  # a demonym tells no case
        ("Peru offers an example. There, the host met each ministry alone.", ["Peru"]),
        ("Peru has a unicameral congress and regional councils.", []),  # a fact about the country, not a case
    ],
)
def test_the_countries_a_case_is_told_from(text, countries):
    assert case_countries(text) == countries


def test_names_to_check_keep_their_portuguese_connectors_and_lose_a_possessive(tmp_path):
    from fakes import FakeRetriever, offline_settings

    from assistant.compose import Composer
    from assistant.models import BriefingRequest, Chunk

    story = Chunk(
        id="ruritania", url="https://inspired.epd.eu/guide/cases/ruritania", title="A case",
        text="In Ruritania, the Associação Ruritana de Apoio a Trabalhadoras no Campo hosted the dialogue. "
             "Ruritania saw Flavio Ostrov' government step back from the talks.",
    )
    composer = Composer(offline_settings(tmp_path), FakeRetriever([story]))
    composer.abstain_threshold = 0.0
    briefing = composer.brief(BriefingRequest(request="Brief a donor visiting Ruritania", country="Ruritania"))
    [check] = [gap for gap in briefing.gaps if gap.startswith("Whether what the guide reports of Ruritania")]
    assert "Associação Ruritana de Apoio a Trabalhadoras no Campo" in check
    assert "Flavio Ostrov;" in check + ";" and "Ostrov'" not in check


def test_a_country_story_stops_where_another_country_s_begins():
    paragraph = _chunk(
        "guide/cases/outcomes", "What the dialogues produced",
        "The talks in Tunisia ended with a pact on fair pay signed by the main unions and employers. "
        "The process in Kyrgyzstan, which came in at a later stage, ended with a plan of concrete measures. "
        "Both results were presented to parliament in the months after the final session.",
    )
    texts = [s.text for s in country_sentences(_hits([paragraph]), "Tunisia")]
    assert texts == ["The talks in Tunisia ended with a pact on fair pay signed by the main unions and employers."]
    assert [s.text for s in country_sentences(_hits([paragraph]), "Kyrgyzstan")] == [
        "The process in Kyrgyzstan, which came in at a later stage, ended with a plan of concrete measures.",
        "Both results were presented to parliament in the months after the final session.",
    ]


def test_without_capitals_a_city_in_a_name_names_no_country():
    text = "Since the Paris Declaration, donors follow the plans of Moldova's government."
    assert countries_in(text) == ["France", "Moldova"]
    assert countries_in(text, capitals=False) == ["Moldova"]
