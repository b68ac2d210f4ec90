"""Pages scraped from the site as text or HTML: GitBook's chrome removed, title/breadcrumb/structure recovered."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.settings import Settings
from assistant.sources import SourceError, load_pages_with_report, parse_scraped_page

FIXTURES = Path(__file__).parent / "fixtures" / "scraped"
SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "high-level-missions.txt"


@pytest.fixture
def text_page():
    return parse_scraped_page((FIXTURES / "watering-rota.txt").read_text(encoding="utf-8"))


def test_title_and_breadcrumb_are_recovered(text_page):
    assert text_page.title == "2. Watering rota"
    assert text_page.breadcrumb == ["The Toolkit", "The routines"]
    assert text_page.lang == "en"
    assert text_page.section == "toolkit"
    assert text_page.url == "scraped://2-watering-rota"


def test_site_chrome_is_gone(text_page):
    for chrome in ("Logo", "Powered by GitBook", "On this page", "Contact the committee", "Choosing a plot", "Previous", "3. Seed swaps", "Last updated", "English"):
        assert chrome not in text_page.markdown


def test_structure_is_kept_as_markdown(text_page):
    markdown = text_page.markdown
    assert markdown.startswith("# 2. Watering rota\n")
    assert "**Type of tool:** Shared chores." in markdown
    assert "## Why bother" in markdown and "## How it works" in markdown
    assert "## Next steps after a rota ends" in markdown  # starts with "Next" but is no footer link
    assert "- Put your name on the board in the shed.\n- Swap a week" in markdown
    assert "\n  - Tell the committee about the swap." in markdown
    assert markdown.rstrip().endswith("Write down which beds dried out first.")


def test_explicit_url_decides_language_and_section():
    text = (FIXTURES / "watering-rota.txt").read_text(encoding="utf-8")
    page = parse_scraped_page(text, url="https://garden.test/portugues/guia/rega")
    assert (page.url, page.lang, page.section) == ("https://garden.test/portugues/guia/rega", "pt", "guide")


def test_language_switcher_gives_the_language_when_there_is_no_url():
    text = (FIXTURES / "watering-rota.txt").read_text(encoding="utf-8").replace("English", "Español")
    assert parse_scraped_page(text).lang == "es"


def test_html_page_is_converted_with_canonical_url_and_breadcrumb():
    page = parse_scraped_page((FIXTURES / "watering-rota.html").read_text(encoding="utf-8"))
    assert page.url == "https://garden.test/toolkit/the-routines/2-watering-rota"
    assert page.title == "2. Watering rota" and page.section == "toolkit"
    assert page.breadcrumb == ["The Toolkit", "The routines"]
    assert "## How it works" in page.markdown and "- Swap a week with a neighbour" in page.markdown
    for chrome in ("analytics", "Table of contents", "Powered by", "Previous", "Last updated", "English"):
        assert chrome not in page.markdown


def test_single_scraped_file_is_a_source(tmp_path):
    source = tmp_path / "rota.txt"
    source.write_text((FIXTURES / "watering-rota.txt").read_text(encoding="utf-8"), encoding="utf-8")
    pages, warnings = load_pages_with_report(Settings(_env_file=None, data_dir=tmp_path), str(source))
    assert [page.url for page in pages] == [source.resolve().as_uri()]
    assert pages[0].title == "2. Watering rota" and warnings == []


def test_a_page_with_nothing_but_chrome_is_a_source_error():
    with pytest.raises(SourceError, match="no text"):
        parse_scraped_page("LogoLogo\nEnglish\n  • Guide\nPowered by GitBook\nOn this page\n\n")


@pytest.mark.skipif(not SEED.is_file(), reason="../shared/seeds is not present")
def test_the_seed_page_parses_to_its_structure():
    page = parse_scraped_page(SEED.read_text(encoding="utf-8"))
    assert page.title == "11. High-level missions"
    assert page.breadcrumb == ["The INSPIRED Toolkit", "The tools"]
    assert page.section == "toolkit"
    assert "Powered by GitBook" not in page.markdown
    for nav_entry in ("Track record", "Study visits", "Who is this website for?", "Balancing priorities"):
        assert nav_entry not in page.markdown
    assert [line for line in page.markdown.splitlines() if line.startswith("## ")] == ["## Purpose", "## Rationale", "## Outcomes"]
    assert "Last updated" not in page.markdown and "Previous" not in page.markdown
    assert sum(line.startswith("- ") for line in page.markdown.splitlines()) == 6
