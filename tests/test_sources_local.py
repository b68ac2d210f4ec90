"""The local-folder loader: the stand-in's format, and files that are broken in the usual ways."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.settings import Settings
from assistant.sources import SourceError, load_pages, load_pages_with_report
from assistant.sources.common import MAX_PAGE_BYTES
from assistant.sources.local import split_front_matter

STAND_IN = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "inspired-guide"


def settings_for(tmp_path: Path, languages=("en", "pt", "es")) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", languages=list(languages))


def write(folder: Path, relative: str, content: str | bytes) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.skipif(not STAND_IN.is_dir(), reason="../shared/corpus is not present")
def test_the_stand_in_loads_completely(tmp_path):
    pages, warnings = load_pages_with_report(settings_for(tmp_path), str(STAND_IN))
    assert len(pages) == 93 and warnings == []
    by_url = {page.url: page for page in pages}
    tool = by_url["https://inspired.epd.eu/toolkit/the-tools/11-high-level-missions"]
    assert (tool.title, tool.breadcrumb, tool.lang, tool.section) == (
        "11. High-level missions",
        ["The INSPIRED Toolkit", "The tools"],
        "en",
        "toolkit",
    )
    assert by_url["https://inspired.epd.eu/"].section == "home"
    assert by_url["https://inspired.epd.eu/portugues/o-conjunto-de-ferramentas-inspired/as-ferramentas"].section == "toolkit"
    assert {page.lang for page in pages} == {"en", "pt", "es"}
    assert {page.section for page in pages if page.lang != "en"} == {"guide", "toolkit"}


@pytest.mark.skipif(not STAND_IN.is_dir(), reason="../shared/corpus is not present")
def test_languages_setting_filters_pages(tmp_path):
    english = load_pages(settings_for(tmp_path, ["en"]), str(STAND_IN))
    assert len(english) == 73 and {page.lang for page in english} == {"en"}


@pytest.fixture
def messy_folder(tmp_path) -> Path:
    folder = tmp_path / "guide"
    write(folder, "README.md", "# About this folder\n\nNot a page.\n")
    write(folder, "index.md", "---\ntitle: Home\nurl: https://garden.test/\nbreadcrumb: []\n---\n# Home\n\nWelcome to the plots.\n")
    write(
        folder,
        "guide/compost.md",
        "---\ntitle: Compost\nurl: https://garden.test/guide/compost\nbreadcrumb: Guide\n---\n# Compost\n\nTurn the heap monthly.\n",
    )
    write(folder, "guide/latin1.md", "# Café corner\n\nThe café sells seedlings – cheaply.\n".encode("cp1252"))
    write(folder, "guide/empty.md", "")
    write(folder, "guide/only-front-matter.md", "---\ntitle: Nothing here\n---\n\n")
    write(folder, "guide/broken.md", "---\ntitle: [unclosed\nurl: nowhere\n---\n# Broken but readable\n\nSeeds go in shallow.\n")
    write(folder, "toolkit/huge.md", "# Huge\n\n" + ("A line of filler about mulch.\n" * 180_000))
    write(folder, "espanol/guia/riego.md", "---\ntitle: Riego\n---\n# Riego\n\nRegar por la mañana.\n")
    return folder


def test_broken_files_are_repaired_or_skipped_with_warnings(tmp_path, messy_folder):
    pages, warnings = load_pages_with_report(settings_for(tmp_path), str(messy_folder))
    by_url = {page.url: page for page in pages}
    assert set(by_url) == {
        "https://garden.test/",
        "https://garden.test/guide/compost",
        "https://inspired.epd.eu/guide/latin1",
        "https://inspired.epd.eu/guide/broken",
        "https://inspired.epd.eu/toolkit/huge",
        "https://inspired.epd.eu/espanol/guia/riego",
    }
    assert len(warnings) == 5
    warned = " | ".join(warnings)
    for name in ("guide/latin1.md", "guide/empty.md", "guide/only-front-matter.md", "guide/broken.md", "toolkit/huge.md"):
        assert name in warned
    assert "README" not in warned


def test_non_utf8_page_is_read_as_windows_1252(tmp_path, messy_folder):
    page = {p.url: p for p in load_pages(settings_for(tmp_path), str(messy_folder))}["https://inspired.epd.eu/guide/latin1"]
    assert page.title == "Café corner" and "seedlings – cheaply" in page.markdown


def test_broken_front_matter_falls_back_to_heading_and_path(tmp_path, messy_folder):
    page = {p.url: p for p in load_pages(settings_for(tmp_path), str(messy_folder))}["https://inspired.epd.eu/guide/broken"]
    assert page.title == "Broken but readable" and page.breadcrumb == [] and page.section == "guide"
    assert page.markdown.startswith("# Broken but readable")


def test_oversized_page_is_truncated_at_a_line(tmp_path, messy_folder):
    page = {p.url: p for p in load_pages(settings_for(tmp_path), str(messy_folder))}["https://inspired.epd.eu/toolkit/huge"]
    assert len(page.markdown.encode()) <= MAX_PAGE_BYTES
    assert page.markdown.rstrip().endswith("A line of filler about mulch.")


def test_front_matter_fields_and_path_derived_language(tmp_path, messy_folder):
    by_url = {p.url: p for p in load_pages(settings_for(tmp_path), str(messy_folder))}
    assert by_url["https://garden.test/guide/compost"].breadcrumb == ["Guide"]
    assert by_url["https://garden.test/"].section == "home"
    spanish = by_url["https://inspired.epd.eu/espanol/guia/riego"]
    assert (spanish.lang, spanish.section, spanish.title) == ("es", "guide", "Riego")


def test_missing_folder_and_folder_without_pages_are_source_errors(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        load_pages(settings_for(tmp_path), str(tmp_path / "nowhere"))
    empty = tmp_path / "empty"
    write(empty, "notes.txt", "not markdown")
    with pytest.raises(SourceError, match="no Markdown pages"):
        load_pages(settings_for(tmp_path), str(empty))


def test_folder_of_unreadable_pages_is_a_source_error_naming_the_problem(tmp_path):
    folder = tmp_path / "blank"
    write(folder, "a.md", "")
    with pytest.raises(SourceError, match="a.md: is empty"):
        load_pages(settings_for(tmp_path), str(folder))


def test_progress_counts_files(tmp_path, messy_folder):
    calls = []
    load_pages(settings_for(tmp_path), str(messy_folder), progress=lambda done, total: calls.append((done, total)))
    assert calls == [(n, 8) for n in range(1, 9)]


@pytest.mark.parametrize(
    "text, problem",
    [
        ("---\ntitle: A\n", "not closed"),
        ("---\n: : :\n---\nbody", "not valid YAML"),
        ("---\n- a list\n---\nbody", "key: value"),
        ("---\nbreadcrumb: {a: 1}\n---\nbody", "breadcrumb"),
        ("---\ntitle: 2024\n---\nbody", None),
        ("---\ntitle: " + "[" * 5000 + "\n---\nbody", "not valid YAML"),  # PyYAML: RecursionError
        ("---\ntitle: " + "9" * 5000 + "\n---\nbody", "not valid YAML"),  # Python: ValueError, too many digits
    ],
)
def test_front_matter_problems_are_named(text, problem):
    _front_matter, _body, found = split_front_matter(text)
    assert found == problem or (problem is not None and problem in found)


def test_one_enormous_line_is_cut_without_breaking_a_character(tmp_path):
    folder = tmp_path / "guide"
    write(folder, "wide.md", "# Wide\n" + "é" * (MAX_PAGE_BYTES))
    pages, warnings = load_pages_with_report(settings_for(tmp_path), str(folder))
    assert warnings == ["wide.md: is larger than 2 MB; only the beginning was kept"]  # and no encoding complaint
    assert len(pages[0].markdown.encode()) > MAX_PAGE_BYTES // 2
    assert "\ufffd" not in pages[0].markdown


def load_written(tmp_path: Path, files: dict[str, str]) -> tuple[list, list[str]]:
    folder = tmp_path / "guide"
    for relative, content in files.items():
        write(folder, relative, content)
    return load_pages_with_report(settings_for(tmp_path), str(folder))


def test_two_pages_claiming_one_url_keep_the_first_and_name_both(tmp_path):
    pages, warnings = load_written(tmp_path, {
        "a.md": "---\nurl: /guide/same\n---\n# A\n\nThe first page.\n",
        "b.md": "---\nurl: /guide/same\n---\n# B\n\nThe second page.\n",
    })
    assert [page.title for page in pages] == ["A"]
    assert warnings == ["b.md: skipped, its URL https://inspired.epd.eu/guide/same is already used by a.md"]


def test_a_language_that_is_no_language_tag_falls_back_to_the_url_with_a_warning(tmp_path):
    pages, warnings = load_written(tmp_path, {"robot.md": "---\nlang: \"\\U0001F916\"\n---\n# Robot\n\nA page in no language.\n"})
    assert [page.lang for page in pages] == ["en"]
    assert warnings == ["robot.md: front matter lang '\U0001F916' is not a language tag; used 'en' from the URL"]


def test_surrogate_pairs_that_yaml_leaves_split_are_joined(tmp_path):
    pages, _warnings = load_written(tmp_path, {"smile.md": '---\ntitle: "Field notes \\uD83D\\uDE00"\nbreadcrumb: ["\\uD800"]\n---\nSome text.\n'})
    assert (pages[0].title, pages[0].breadcrumb) == ("Field notes \U0001F600", ["\ufffd"])
