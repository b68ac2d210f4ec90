from assistant.chunking import chunk_page, clean_gitbook_markdown
from assistant.models import Page


def page(markdown, **fields):
    return Page(url="https://guide.test/x", title=fields.pop("title", "X"), markdown=markdown, **fields)


def test_hint_blocks_are_kept_as_text_without_template_tags():
    cleaned = clean_gitbook_markdown('{% hint style="warning" %}\nMind the ministries.\n{% endhint %}')
    assert "Mind the ministries." in cleaned
    assert "{%" not in cleaned and "Warning" in cleaned


def test_bold_lines_become_headings_in_the_path(settings):
    chunks = chunk_page(page("# X\n\n**Purpose**\n\nWhy it exists.\n\n**Outcomes**\n\nWhat it yields.", title="X"), settings)
    assert [c.heading_path for c in chunks] == [["Purpose"], ["Outcomes"]]
    assert chunks[0].text == "Why it exists."


def test_bold_lines_nest_under_their_heading_and_lead_ins_stay_in_their_section(settings):
    markdown = (
        "# X\n\n### Signing\n\nThe roadmap carries the signatures of every organisation that took part.\n\n"
        "**Questions to ask first:**\n\nWho joined the talks and why?\n\n"
        "**Relevance**\n\nThe network still matters to its members.\n\n"
        "### Priorities\n\n**Outcomes:**\n\nA ranked list of reforms."
    )
    chunks = chunk_page(page(markdown, title="X"), settings)
    assert [c.heading_path for c in chunks] == [["Signing"], ["Signing", "Relevance"], ["Priorities", "Outcomes"]]
    assert [c.position for c in chunks] == [0, 1, 2] and [c.ordinal for c in chunks] == [0, 0, 0]
    assert "Who joined the talks and why?" in chunks[0].text and "Questions to ask first:" in chunks[0].text


def test_a_bare_hash_line_names_no_heading_and_ids_stay_unique(settings):
    chunks = chunk_page(page("Text before it.\n\n#\n\nText after an empty heading."), settings)
    assert [c.heading_path for c in chunks] == [[], []]
    assert len({c.id for c in chunks}) == 2


def test_tool_number_and_type_come_from_the_tool_page(fixture_pages, settings):
    tool = next(p for p in fixture_pages if p.url.endswith("11-high-level-missions"))
    chunks = chunk_page(tool, settings)
    assert {c.tool_number for c in chunks} == {11}
    assert {c.tool_type for c in chunks} == {"Trust building"}
    purpose = next(c for c in chunks if c.heading_path == ["Purpose"])
    assert purpose.embed_text.startswith("Tool 11 (Trust building): Tool list › 11. High-level missions › Purpose")


def test_tables_are_never_cut_even_in_small_chunks(settings):
    table = "\n".join(["| a | b |", "|---|---|"] + [f"| row {i} with some words | value {i} |" for i in range(30)])
    settings.chunk_size, settings.chunk_overlap = 300, 50
    chunks = chunk_page(page("# X\n\n" + "Intro words. " * 40 + "\n\n" + table + "\n\nAfter the table."), settings)
    holding = [c for c in chunks if "| row 0 " in c.text]
    assert len(holding) == 1 and "| row 29 " in holding[0].text


def test_long_sections_are_size_bounded_with_stable_unique_ids(settings):
    settings.chunk_size, settings.chunk_overlap = 300, 40
    text = "# X\n\n## Long\n\n" + " ".join(f"Sentence number {i} talks about dialogue." for i in range(80))
    first, second = chunk_page(page(text), settings), chunk_page(page(text), settings)
    assert len(first) > 3 and all(len(c.text) <= 300 for c in first)
    assert [c.id for c in first] == [c.id for c in second]
    assert len({c.id for c in first}) == len(first)
    assert [c.ordinal for c in first] == list(range(len(first)))


def test_non_tool_pages_carry_no_tool_metadata(fixture_pages, settings):
    ppa = next(p for p in fixture_pages if "ppa" in p.url)
    chunks = chunk_page(ppa, settings)
    assert all(c.tool_number is None for c in chunks)
    assert any(c.heading_path == ["Steps"] and "| Validation |" in c.text for c in chunks)
    assert any("Keep the first sessions small" in c.text for c in chunks)
