"""Talking points in extractive mode: the audience's own pages and roles, the topic, and a country's case."""

from __future__ import annotations

import pytest
from fakes import FAKE_ABSTAIN_THRESHOLD, SITE, FakeRetriever, offline_settings

from assistant.compose import Composer
from assistant.compose.citations import strip_citations
from assistant.compose.points import MAX_POINTS
from assistant.export import points_to_markdown
from assistant.models import Chunk

HOST = ["Guide", "Who is involved?", "The Dialogue Host"]


def page(slug: str, title: str, text: str, breadcrumb: list[str] | None = None, ordinal: int = 0) -> Chunk:
    return Chunk(id=f"{slug}#{ordinal}", url=f"{SITE}/{slug}", title=title, breadcrumb=breadcrumb or [], ordinal=ordinal, text=text)


CHUNKS = [
    page(
        "guide/who-is-involved/the-dialogue-host", "The Dialogue Host",
        "The dialogue host is the organisation that runs the whole dialogue process for the stakeholders. "
        "The host chairs every plenary session of the dialogue. "
        "It also drafts the minutes that all sides of the dialogue sign at the end.",
        ["Guide", "Who is involved?"],
    ),
    page(
        "guide/who-is-involved/the-dialogue-host/convening", "Convening the key stakeholders",
        "Convening means inviting every ministry, union and association with a stake in the reform. "
        "Invitations go out weeks before the first meeting.",
        HOST,
    ),
    page(
        "guide/who-is-involved/the-dialogue-host/facilitating", "Facilitating the dialogue sessions",
        "Facilitation keeps the sessions on topic and gives the quieter participants time to speak. "
        "Agreements are read back aloud before the session closes.",
        HOST,
    ),
    page(
        "guide/who-is-involved/the-dialogue-host/reporting", "Reporting on collective progress",
        "Reporting tells all participants which commitments have moved and which have stalled. "
        "Short reports every quarter keep the attention of senior officials.",
        HOST,
    ),
    page(
        "guide/how-does-inspired-work-in-practice/funding-the-roadmap", "Funding the roadmap",
        "Reforms in the roadmap need money in the budget before they can start. "
        "Finance ministries rarely fund a reform they did not help to design.",
    ),
    page(
        "guide/how-does-inspired-work-in-practice/funding-the-roadmap", "Funding the roadmap",
        "In Georgia, the finance ministry agreed to fund the mediators the roadmap asked for once its officials had joined the dialogue.",
        ordinal=1,
    ),
    page(
        "guide/who-is-involved/the-stakeholders/media", "Media",
        "Journalists can explain the reform to the public once the roadmap is agreed. "
        "Early coverage of a fragile dialogue can harden the positions of the participants.",
        ["Guide", "Who is involved?", "The Stakeholders"],
    ),
]


@pytest.fixture
def composer(tmp_path):
    composer = Composer(offline_settings(tmp_path), FakeRetriever(CHUNKS))
    composer.abstain_threshold = FAKE_ABSTAIN_THRESHOLD
    return composer


def test_a_host_hears_of_each_role_the_guide_gives_it(composer):
    points = composer.points("dialogue host", "what the role demands of the host")
    assert 5 <= len(points.points) <= MAX_POINTS
    roles = [p for p in points.points if p.rationale.startswith("One of the roles the guide gives the dialogue host")]
    # Each role its own point, the most relevant first; a paragraph of its own page takes one of them.
    role_pages = [p.citations[0].title for p in roles]
    assert len(role_pages) >= 2 and len(set(role_pages)) == len(role_pages)
    assert set(role_pages) <= {"Convening the key stakeholders", "Facilitating the dialogue sessions", "Reporting on collective progress"}
    assert any(p.citations[0].title == "The Dialogue Host" for p in points.points)


def test_a_point_keeps_the_sentence_it_needs_and_no_sentence_is_said_twice(composer):
    points = composer.points("dialogue host", "what the role demands of the host")
    texts = [p.point for p in points.points]
    # "It also drafts the minutes…" is read with the sentence that says who "it" is, in one point, not two.
    drafting = [t for t in texts if "drafts the minutes" in t]
    assert len(drafting) <= 1
    assert all("chairs every plenary session" in t for t in drafting)
    sentences = [s.strip() for t in texts for s in t.split("[")[0].split(". ") if s.strip()]
    assert len(sentences) == len(set(sentences))


def test_one_point_tells_a_case_from_a_country(composer):
    points = composer.points("partner government", "funding the reforms of the roadmap")
    cases = [p for p in points.points if "In Georgia" in p.point]
    assert len(cases) == 1
    assert cases[0].rationale == "What the guide reports from Georgia (“Funding the roadmap”)."
    assert cases[0].citations[0].url.endswith("/funding-the-roadmap")


PARLIAMENTS = page(
    "guide/who-is-involved/the-stakeholders/parliaments", "Parliaments",
    "A committee hearing on the roadmap lets members question the ministry about the roadmap. "
    "Committee members who attend a hearing on the roadmap often become its champions in the chamber. "
    "A hearing on the roadmap is public, so the committee's questions reach the press. "
    "The committee chair sets the date of a hearing on the roadmap.\n\n"
    "Members also vote the state budget, which decides whether any reform gets its money. "
    "Party whips decide most budget votes.\n\n"
    "Finally, members watch over the government and can ask why a promise has not been kept. "
    "Written questions leave a public record.",
    ["Guide", "Who is involved?", "The Stakeholders"],
)


def test_the_audience_points_span_its_page_not_one_paragraph(tmp_path):
    composer = Composer(offline_settings(tmp_path), FakeRetriever([*CHUNKS, PARLIAMENTS]))
    composer.abstain_threshold = FAKE_ABSTAIN_THRESHOLD
    points = composer.points("parliaments", "a committee hearing on the roadmap")
    paragraphs = PARLIAMENTS.text.split("\n\n")
    # The hearing paragraph matches the topic best, yet the budget and oversight paragraphs each get a point of the
    # audience's three.
    quoted_from = [
        next(n for n, paragraph in enumerate(paragraphs) if strip_citations(p.point).split(". ")[0] in paragraph)
        for p in points.points[:3]
    ]
    assert sorted(quoted_from) == [0, 1, 2]
    # Enough was retrieved to say more: a point already made elsewhere is replaced, up to the full count.
    assert len(points.points) == MAX_POINTS


def test_the_case_is_one_country_s_story_not_a_list_of_countries(tmp_path):
    roll_call = page(
        "guide/how-does-inspired-work-in-practice/funding-the-roadmap", "Funding the roadmap",
        "In Armenia, Georgia, Mongolia and Kyrgyzstan alike, funding the reforms of the roadmap was discussed with finance ministries.",
        ordinal=2,
    )
    composer = Composer(offline_settings(tmp_path), FakeRetriever([*CHUNKS, roll_call]))
    composer.abstain_threshold = FAKE_ABSTAIN_THRESHOLD
    points = composer.points("partner government", "funding the reforms of the roadmap")
    cases = [p for p in points.points if p.rationale.startswith("What the guide reports from")]
    assert [p.rationale for p in cases] == ["What the guide reports from Georgia (“Funding the roadmap”)."]


def test_a_sentence_whose_reason_lies_in_the_paragraph_before_is_a_point_only_with_that_reason(tmp_path):
    media = page(
        "guide/who-is-involved/the-stakeholders/media", "Media",
        "Early coverage of a fragile dialogue can harden the positions of the participants.\n\n"
        "For this reason, journalists are briefed on the dialogue only once the roadmap is agreed. "
        "Nevertheless, journalists can explain the agreed roadmap to the wider public.",
        ["Guide", "Who is involved?", "The Stakeholders"],
    )
    composer = Composer(offline_settings(tmp_path), FakeRetriever([*CHUNKS[:-1], media]))
    composer.abstain_threshold = FAKE_ABSTAIN_THRESHOLD
    said = [p.point for p in composer.points("media", "briefing journalists on the dialogue and the roadmap").points]
    leaning = [point for point in said if "For this reason" in point]
    assert all("harden the positions of the participants. For this reason" in point for point in leaning)
    # A turn of thought ("Nevertheless, …") reads well alone and may be a point.
    assert any("Nevertheless, journalists can explain" in point for point in said)


def test_only_the_page_named_after_the_audience_is_its_own_page():
    from assistant.compose.audiences import is_audience_page, is_audience_role_page

    own = page("guide/who-is-involved/the-donor", "The Donor(s)", "Donors fund the process.", ["Guide", "Who is involved?"])
    phase = page("guide/phases/monitoring-and-donor-alignment-phase", "Monitoring and Donor Alignment Phase",
                 "The last phase follows the roadmap up.", ["Guide", "Phases"])
    under_phase = page("guide/phases/monitoring-and-donor-alignment-phase/network", "The network strategy",
                       "The network carries on.", ["Guide", "Phases", "Monitoring and Donor Alignment Phase"])
    assert is_audience_page(own, "donors")
    # a title that mentions donors is not the guide's page on donors, nor are the pages under it donors' roles
    assert not is_audience_page(phase, "donors") and not is_audience_role_page(under_phase, "donors")


def _sentence(text: str, earlier: tuple[str, ...] = ()):
    from assistant.compose.extractive import Sentence

    return Sentence(text, CHUNKS[0], 0, len(earlier), earlier[-1] if earlier else None, 0, earlier)


def test_a_point_that_cannot_be_read_alone_gives_way_to_the_sentence_after_it():
    from assistant.compose.points import point_sentences

    opening = _sentence("All of this explains why the unions prefer their own table.")
    assert opening.dangling()  # what "all of this" is lies in another passage
    said: set[str] = set()
    assert point_sentences(opening, "Unions bargain with employers under rules of their own.", said) == [
        "Unions bargain with employers under rules of their own."
    ]
    assert point_sentences(opening, "Unions bargain with employers under rules of their own.", said) is None  # said once
    assert point_sentences(opening, "They bargain with employers under rules of their own.", set()) is None  # leans back too


def test_the_sentence_that_answers_a_point_joins_it_while_the_point_stays_short_enough():
    from assistant.compose.points import MAX_LINKED_WORDS, MAX_POINT_WORDS, point_sentences

    worry = _sentence(
        "Unions often feel that every new forum with associations and charities eats into the bargaining table they "
        "share with employers and the labour ministry, a table that took decades of strikes and patient talks to build."
    )
    answer = "This is a fair worry, but it does not apply where most workers belong to no union at all or where a whole trade is left out of labour law."
    aside = "Employers' federations, for their part, tend to follow whatever line the largest and oldest unions of the country happen to take on such new and untested forums."
    assert MAX_POINT_WORDS < len(f"{worry.text} {answer}".split()) <= MAX_LINKED_WORDS
    assert point_sentences(worry, answer, set()) == [worry.text, answer]  # "This is a fair worry…" needs the worry
    assert len(f"{worry.text} {aside}".split()) > MAX_POINT_WORDS
    assert point_sentences(worry, aside, set()) == [worry.text]  # a sentence that reads alone joins only a short point


def test_an_audience_without_a_page_of_its_own_gives_its_points_to_the_topic(composer):
    from assistant.compose.points import _facet_hits

    def shares(audience: str) -> list[tuple[str, int]]:
        return [(facet.kind, facet.points) for facet, _ in _facet_hits(composer._drafting(), audience, "reporting to the press", None)]

    # The guide has no page on academia: what it says of "their role in the dialogue" is the host's or the media's.
    assert shares("academia") == [("topic", 6), ("case", 1)]
    assert shares("media") == [("audience", 3), ("topic", 3), ("case", 1)]


def test_points_for_an_audience_the_guide_has_no_page_on_say_so(composer):
    pageless = composer.points("academia", "reporting to the press")
    assert pageless.notice == "The guide has no page of its own on academia: these points quote the passages closest to your request."
    assert "no page of its own" in points_to_markdown(pageless)
    assert composer.points("media", "reporting to the press").notice is None


def test_a_point_read_after_its_lead_also_takes_the_sentence_that_leans_on_it():
    from assistant.compose.points import point_sentences

    lead = "Ministries and unions often meet the host with suspicion at first."
    sentence = _sentence("Before working on such feelings, the host brings every institution to the table.", (lead,))
    assert sentence.lead_in() == [lead]
    leaning = "This is where old quarrels can stop the talks before they start."
    alone = "Invitations go out a month before the first session."
    assert point_sentences(sentence, leaning, set()) == [lead, sentence.text, leaning]
    assert point_sentences(sentence, alone, set()) == [lead, sentence.text]  # the lead already makes it a full point
