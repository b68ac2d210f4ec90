"""Sentence selection for extracts: the top page speaks, sentences used elsewhere are not repeated, signposts stay out."""

from __future__ import annotations

import numpy as np
from fakes import FakeRetriever, offline_settings

from assistant.compose import Composer
from assistant.compose.extractive import passage_sentences, select_sentences, without_guide_name
from assistant.compose.points import topic_query
from assistant.compose.text import is_signpost
from assistant.models import BriefingRequest, Chunk, SearchHit

# Hand-made vectors: axis 0 is "the question", the others are unrelated directions.
VECTORS = {
    "question": [1.0, 0.0, 0.0, 0.0],
    "Page A": [0.0, 0.0, 0.0, 1.0],
    "Page B": [0.0, 0.0, 0.0, 1.0],
    "The first page holds a sentence that is fairly close to the question.": [0.7, 0.71, 0.0, 0.0],
    "The second page holds a sentence that is very close to the question.": [0.95, 0.0, 0.31, 0.0],
    "The second page also holds another sentence that is close to the question.": [0.9, 0.0, -0.1, 0.42],
}


def fake_embed(texts: list[str]) -> np.ndarray:
    rows = np.array([VECTORS[t] for t in texts], dtype=float)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def hit(slug: str, title: str, text: str) -> SearchHit:
    chunk = Chunk(id=f"{slug}#0", url=f"https://example.org/{slug}", title=title, text=text)
    return SearchHit(chunk=chunk, score=1.0)


HITS = [
    hit("a", "Page A", "The first page holds a sentence that is fairly close to the question."),
    hit("b", "Page B", "The second page holds a sentence that is very close to the question. "
                       "The second page also holds another sentence that is close to the question."),
]


def test_the_top_page_is_quoted_even_when_another_page_scores_higher():
    sentences = passage_sentences(HITS)
    plain = select_sentences("question", sentences, fake_embed, 2)
    assert {s.chunk.url for s in plain} == {"https://example.org/b"}
    led = select_sentences("question", sentences, fake_embed, 2, lead_pages=1)
    assert led[0].chunk.url == "https://example.org/a"


def test_sentences_used_elsewhere_are_not_repeated():
    sentences = passage_sentences(HITS)
    first = select_sentences("question", sentences, fake_embed, 1)
    second = select_sentences("question", sentences, fake_embed, 3, after=first)
    assert first and not {s.text for s in first} & {s.text for s in second}


def test_signposts_are_recognised():
    assert is_signpost("This section looks at the people a host may invite to the talks.")
    assert is_signpost("Each sub-page explains what one kind of actor brings to the process.")
    assert not is_signpost("A host should meet each actor alone before the first joint session.")


def test_request_wording_is_dropped_from_the_topic():
    assert topic_query("Talking points for a hearing with the budget committee.") == "a hearing with the budget committee"
    assert topic_query("the roadmap for reform") == "the roadmap for reform"


def test_talking_points_quote_both_the_audience_page_and_the_topic(tmp_path):
    composer = Composer(offline_settings(tmp_path), FakeRetriever())
    points = composer.points("parliaments", "Talking points on the risks of a high-level mission")
    titles = [p.citations[0].title for p in points.points]
    assert titles[0] == "Parliaments"
    assert any(title != "Parliaments" for title in titles)
    assert any("cuts both ways" in p.point for p in points.points)


def test_briefing_lists_what_a_fixed_guide_cannot_know(tmp_path):
    composer = Composer(offline_settings(tmp_path), FakeRetriever())
    briefing = composer.brief(BriefingRequest(request="Brief an envoy visiting Moldova on 3 May to meet the minister"))
    assert any(gap.startswith("Latest figures and the current status") for gap in briefing.gaps)
    assert any("security situation in Moldova" in gap for gap in briefing.gaps)


def test_a_parent_pages_pointer_to_a_retrieved_subpage_gives_way_to_the_subpage():
    parent = hit("guide", "Running the sessions", (
        "- **Seating the participants around the table** – how the host arranges the room so that no actor dominates the talks.\n"
        "- **Keeping a written record of the talks** – who writes the minutes and how they are shared after each meeting."
    ))
    seating = hit("guide/seating", "Seating the participants around the table", "A round table keeps every actor at the same distance from the chair.")
    quoted = {s.text for s in passage_sentences([parent, seating])}
    assert not any(text.startswith("Seating the participants") for text in quoted)
    assert "A round table keeps every actor at the same distance from the chair." in quoted
    # The subpage on minutes was not retrieved: its pointer is all the reader gets, so it stays.
    assert any(text.startswith("Keeping a written record") for text in quoted)
    # Alone, the parent still speaks for its subpages.
    assert len(passage_sentences([parent])) == 2


def test_a_sentence_that_points_back_is_shown_with_the_one_before_it():
    page = hit("prep", "Preparing a mission", (
        "The envoy meets the host before any official. To make that possible, the host sends the agenda a week ahead. "
        "At the start of the visit, the envoy hears a short briefing on local actors."
    ))
    by_text = {s.text: s for s in passage_sentences([page])}
    pointing = by_text["To make that possible, the host sends the agenda a week ahead."]
    assert pointing.standalone() == "The envoy meets the host before any official. " + pointing.text
    own = by_text["At the start of the visit, the envoy hears a short briefing on local actors."]
    assert own.standalone() == own.text


def test_a_quote_opening_on_they_that_cannot_be_led_in_is_named_after_its_page():
    from assistant.compose.citations import CitationRegistry
    from assistant.compose.extractive import reading_order, render_pieces

    groups_text = ["Focus groups gather a few people for a guided talk.", "They also help before a big event."]
    focus = hit("focus", "Focus groups", groups_text[0])
    meetings = hit("meetings", "Bilateral meetings", groups_text[1])
    sentences = passage_sentences([focus, meetings])
    body = "".join(render_pieces(reading_order(sentences), CitationRegistry()))
    # "They" would read as the focus groups of the quote above; it is the bilateral meetings.
    assert "*Bilateral meetings:* They also help before a big event. [2]" in body
    assert "*Focus groups:*" not in body


def test_a_short_lead_in_gives_there_its_place():
    page = hit("case", "A case", "Peru offers an example. There, the host met each ministry alone before the plenary.")
    (there,) = passage_sentences([page])  # the lead-in is too short to quote on its own
    assert there.standalone() == "Peru offers an example. There, the host met each ministry alone before the plenary."


def test_an_extract_follows_the_pages_order_across_its_sections():
    from assistant.compose.extractive import reading_order

    def chunk(heading: str, position: int, text: str) -> Chunk:
        return Chunk(id=heading, url="https://example.org/p", title="P", heading_path=[heading] if heading else [],
                     position=position, text=text)

    intro = chunk("", 0, "The analysis is the main output of the first phase of the process.")
    closing = chunk("Conclusion", 2, "Lastly, the analysis draws conclusions from the consultation meetings.")
    # Retrieved in the other order, and each is chunk 0 of its heading: only the page position tells them apart.
    hits = [SearchHit(chunk=closing, score=2.0), SearchHit(chunk=intro, score=1.0)]
    (group,) = reading_order(passage_sentences(hits))
    assert [s.chunk.heading_path for s in group] == [[], ["Conclusion"]]


def real_embed(embeddings):
    return lambda texts: np.asarray(embeddings.embed_documents(list(texts)), dtype=float)


def test_the_guide_s_own_name_does_not_make_its_overview_page_the_answer(embeddings):
    """Every page is about INSPIRED: a question that names it in passing asks about its topic, not the overview."""
    hits = [
        hit("overview", "What is INSPIRED?", "INSPIRED began as a way of turning a European plan for democracy support into practice."),
        hit("press", "The media", "The media can make the wider public aware of a reform once the talks have reached an agreement. "
                                  "Heavy media coverage early on tends to make participants guarded with one another."),
    ]
    chosen = select_sentences("What role do the media play in INSPIRED?", passage_sentences(hits), real_embed(embeddings), 2)
    assert {s.chunk.title for s in chosen} == {"The media"}


def test_a_question_about_the_guide_itself_keeps_its_name():
    assert without_guide_name("What is INSPIRED?") == "What is INSPIRED?"
    assert without_guide_name("What role do the media play in INSPIRED?") == "What role do the media play ?"
    assert without_guide_name("How does an INSPIRED-style dialogue start?") == "How does dialogue start?"
