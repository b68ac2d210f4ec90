"""Word and Markdown exports of briefings and talking points, read back."""

from __future__ import annotations

import re

import pytest
from docx import Document
from fakes import FAKE_ABSTAIN_THRESHOLD, FakeRetriever, offline_settings

from assistant.compose import Composer
from assistant.export import (
    GAPS_HEADING,
    SOURCES_HEADING,
    briefing_to_docx,
    briefing_to_markdown,
    points_to_docx,
    points_to_markdown,
)
from assistant.models import BriefingRequest


@pytest.fixture
def composer(tmp_path):
    composer = Composer(offline_settings(tmp_path), FakeRetriever())
    composer.abstain_threshold = FAKE_ABSTAIN_THRESHOLD
    return composer


@pytest.fixture
def briefing(composer):
    return composer.brief(BriefingRequest(request="Brief a former head of state visiting Moldova to meet the minister"))


def headings(document) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]


def test_briefing_docx_has_real_headings_gaps_sources_and_links(briefing, tmp_path):
    path = briefing_to_docx(briefing, tmp_path / "out" / "briefing.docx")
    document = Document(str(path))
    found = headings(document)
    assert len(found) >= 4
    assert [s.heading for s in briefing.sections] == [h for h in found if h in {s.heading for s in briefing.sections}]
    assert GAPS_HEADING in found and found[-1] == SOURCES_HEADING
    assert document.paragraphs[0].style.name == "Title" and document.paragraphs[0].text == briefing.title
    assert "no language model" in document.paragraphs[1].text
    superscripts = [r.text for p in document.paragraphs for r in p.runs if r.font.superscript]
    assert superscripts and all(re.fullmatch(r"\[\d+\]", s) for s in superscripts)
    links = [link.address for p in document.paragraphs for link in p.hyperlinks]
    cited_urls = {c.url for s in briefing.sections for c in s.citations}
    assert cited_urls <= set(links)
    text = "\n".join(p.text for p in document.paragraphs)
    for gap in briefing.gaps:
        assert gap in text


def test_briefing_markdown_mirrors_the_docx(briefing):
    markdown = briefing_to_markdown(briefing)
    assert markdown.startswith(f"# {briefing.title}\n")
    for section in briefing.sections:
        assert f"## {section.heading}" in markdown
    assert f"## {GAPS_HEADING}" in markdown and f"## {SOURCES_HEADING}" in markdown
    numbers = {c.n for s in briefing.sections for c in s.citations}
    for n in numbers:
        assert re.search(rf"^{n}\. \[.+\]\(https://", markdown, re.M)


def test_background_for_someones_work_is_exported_as_a_request_not_a_mission(composer, briefing, tmp_path):
    onboarding = composer.brief(BriefingRequest(request="Onboarding brief for a new programme officer: the phases and the host's duties"))
    markdown = briefing_to_markdown(onboarding)
    assert "## The request\n" in markdown and "## Mission\n" not in markdown
    assert "- For: a new programme officer" in markdown and "Travellers:" not in markdown
    assert "The request" in headings(Document(str(briefing_to_docx(onboarding, tmp_path / "onboarding.docx"))))
    assert "## Mission\n" in briefing_to_markdown(briefing)  # a visit keeps its mission


def test_points_exports(composer, tmp_path):
    points = composer.points("media")
    document = Document(str(points_to_docx(points, tmp_path / "points.docx")))
    assert len(headings(document)) >= 2 and SOURCES_HEADING in headings(document)
    numbered = [p for p in document.paragraphs if p.style.name == "List Number"]
    assert len(numbered) == len(points.points)
    markdown = points_to_markdown(points)
    assert markdown.count("*Why:") == len(points.points)


def test_points_title_does_not_repeat_the_request(composer):
    asked = composer.points("media", "Talking points for journalists at the launch of the roadmap.")
    assert points_to_markdown(asked).startswith("# Talking points for journalists at the launch of the roadmap\n")
    topical = composer.points("media", "the launch of the roadmap")
    assert points_to_markdown(topical).startswith("# Talking points for media: the launch of the roadmap\n")
    pedido = composer.points("media", "Pontos de conversa para os jornalistas no lançamento do roteiro.")
    assert points_to_markdown(pedido).startswith("# Pontos de conversa para os jornalistas no lançamento do roteiro\n")
    # A setting or a wish before the request is not part of the title.
    wished = composer.points("media", "The launch is on Friday. Could you draft talking points for journalists about the roadmap?")
    assert points_to_markdown(wished).startswith("# Talking points for journalists about the roadmap\n")
    asked_about = composer.points("media", "What are talking points good for at a launch?")
    assert points_to_markdown(asked_about).startswith("# Talking points for media: What are talking points good for at a launch\n")


def test_docx_path_must_end_in_docx(briefing, tmp_path):
    with pytest.raises(ValueError):
        briefing_to_docx(briefing, tmp_path / "briefing.pdf")
