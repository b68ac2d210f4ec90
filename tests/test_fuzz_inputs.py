"""Whatever a file, a scraped page or a command line contains, the assistant answers with a page, a
SourceError or a clean exit code — never a traceback. Each property is bounded so the file stays fast."""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st
from typer.testing import CliRunner

from assistant.chunking import chunk_page
from assistant.cli import app
from assistant.models import Page
from assistant.settings import Settings
from assistant.sources import SourceError, load_pages_with_report, parse_scraped_page, read_note_file

BOUNDED = hypothesis_settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
SETTINGS = Settings(_env_file=None)

# Text that looks like what people feed in: Markdown and GitBook syntax, odd whitespace, any Unicode.
MARKUP = st.sampled_from(
    ["# ", "## ", "### ", "#### ", "---", "\n", "\r\n", "\r", "| a | b |\n|---|---|\n", "- ", "1. ", "**", "> ",
     "{% hint style=\"info\" %}", "{% endhint %}", "{% tabs %}", "•", "Logo", "On this page", "Previous", "Next",
     "Type of tool:", "<h1>", "</h1>", "<main>", "<title>", "\x00", "\ufeff", "\u200b", "é", "😀", " "]
)
FREE_TEXT = st.lists(st.one_of(MARKUP, st.text(max_size=40)), max_size=40).map("".join)
FRONT_MATTER_FIELDS = st.dictionaries(
    st.sampled_from(["title", "url", "breadcrumb", "lang", "coverage", "translation_of", "weird"]),
    st.one_of(st.none(), st.text(max_size=30), st.integers(), st.lists(st.text(max_size=10), max_size=3),
              st.dictionaries(st.text(max_size=5), st.integers(), max_size=2)),
    max_size=5,
)


@st.composite
def page_files(draw) -> str | bytes:
    """A file of the guide as it might be found: front matter (valid, broken or unclosed), then a body."""
    kind = draw(st.sampled_from(["front matter", "raw front matter", "text", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=400))
    body = draw(FREE_TEXT)
    if kind == "text":
        return body
    if kind == "raw front matter":
        header = draw(FREE_TEXT)
    else:
        header = yaml.safe_dump(draw(FRONT_MATTER_FIELDS), allow_unicode=True)
    closing = draw(st.sampled_from(["---\n", "--- \n", ""]))
    return f"---\n{header}\n{closing}{body}"


@contextmanager
def scratch_folder():
    # A fresh folder per example: pytest's tmp_path is shared by all the examples of one test.
    with tempfile.TemporaryDirectory(prefix="inspired-fuzz-") as folder:
        yield Path(folder)


def write_file(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", errors="surrogatepass")


def check_pages(pages: list[Page]) -> None:
    for page in pages:
        assert page.url and page.title and page.markdown.strip()


# -- loaders ----------------------------------------------------------------------------------------


@BOUNDED
@given(files=st.lists(page_files(), min_size=1, max_size=4), names=st.lists(st.text(min_size=1, max_size=12), min_size=4, max_size=4))
def test_a_folder_of_arbitrary_files_loads_or_says_why(files, names):
    with scratch_folder() as folder:
        for number, (content, name) in enumerate(zip(files, names)):
            safe_name = "".join(c for c in name if c.isalnum()) or "page"
            write_file(folder / f"d{number}" / f"{safe_name}.md", content)
        try:
            pages, warnings = load_pages_with_report(SETTINGS, str(folder))
        except SourceError as problem:
            assert str(problem)
            return
        check_pages(pages)
        assert all(isinstance(w, str) and w for w in warnings)


@BOUNDED
@given(content=st.one_of(FREE_TEXT, st.binary(max_size=400)), suffix=st.sampled_from([".txt", ".html", ".htm"]))
def test_one_scraped_file_loads_or_says_why(content, suffix):
    with scratch_folder() as folder:
        path = folder / f"page{suffix}"
        write_file(path, content)
        try:
            pages, _warnings = load_pages_with_report(SETTINGS, str(path))
        except SourceError as problem:
            assert str(problem)
            return
        check_pages(pages)


@BOUNDED
@given(text=FREE_TEXT, url=st.one_of(st.none(), st.just("https://inspired.epd.eu/guide/x"), st.text(max_size=20)))
def test_parse_scraped_page_returns_a_page_or_a_source_error(text, url):
    try:
        page = parse_scraped_page(text, url=url)
    except SourceError as problem:
        assert str(problem)
        return
    assert page.title.strip() and page.url


@BOUNDED
@given(content=st.one_of(FREE_TEXT, st.binary(max_size=400)), suffix=st.sampled_from([".md", ".txt", ".markdown"]),
       max_bytes=st.integers(min_value=1, max_value=2000))
def test_a_text_note_reads_or_says_why(content, suffix, max_bytes):
    with scratch_folder() as folder:
        path = folder / f"upload{suffix}"
        write_file(path, content)
        try:
            page = read_note_file(path, max_bytes=max_bytes)
        except SourceError as problem:
            assert str(problem)
            return
        assert page.section == "note" and page.markdown.strip() and path.stat().st_size <= max_bytes


@BOUNDED
@given(name=st.text(max_size=30), content=st.binary(max_size=200))
def test_any_note_name_is_accepted_or_refused_clearly(name, content):
    with scratch_folder() as folder:
        path = folder / "upload"
        path.write_bytes(content)
        try:
            read_note_file(path, max_bytes=10_000, name=name)
        except SourceError as problem:
            assert str(problem)


# -- chunking ---------------------------------------------------------------------------------------


@BOUNDED
@given(
    markdown=FREE_TEXT.filter(str.strip),
    title=st.text(min_size=1, max_size=30),
    section=st.sampled_from(["guide", "toolkit", "note", "home"]),
    size=st.integers(min_value=200, max_value=1500),
)
def test_chunks_are_non_empty_bounded_and_uniquely_named(markdown, title, section, size):
    settings = Settings(_env_file=None, chunk_size=size, chunk_overlap=min(150, size // 4))
    page = Page(url="https://guide.test/p", title=title, section=section, markdown=markdown)
    chunks = chunk_page(page, settings)
    assert len({c.id for c in chunks}) == len(chunks)  # Chroma refuses a batch with a repeated id
    for chunk in chunks:
        assert chunk.text.strip() and chunk.embed_text
        if "|" not in chunk.text:  # a Markdown table is kept whole, however long
            assert len(chunk.text) <= size


# -- the command line -------------------------------------------------------------------------------

CLEAN_EXITS = {0, 1, 2}


def assert_clean(result) -> None:
    assert result.exit_code in CLEAN_EXITS, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory, embeddings, fixture_pages):
    """A data dir holding a small real index, and an environment that points the CLI at it."""
    from assistant.index import GuideIndex

    data = tmp_path_factory.mktemp("cli-data")
    GuideIndex(Settings(_env_file=None, data_dir=data), embeddings=embeddings).ingest(fixture_pages)
    return {"INSPIRED_DATA_DIR": str(data), "INSPIRED_SOURCE": str(data / "no-such-guide"), "INSPIRED_LLM": ""}


@pytest.fixture
def runner(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no developer .env is read
    return CliRunner()


ARGUMENT = st.one_of(st.text(max_size=40), st.sampled_from(["--k", "--json", "--lang", "--section", "--tool-type", "-v", "--", "-"]))


@hypothesis_settings(max_examples=50, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=200), extra=st.lists(ARGUMENT, max_size=4))
def test_search_with_any_arguments_exits_cleanly(runner, cli_env, query, extra):
    result = runner.invoke(app, ["search", query, *extra], env=cli_env)
    assert_clean(result)


# Relative names only: an absolute path or ".." could point the fuzzer at the whole disk.
SOURCE_NAME = st.text(max_size=40).filter(lambda s: ".." not in s and not s.startswith(("/", "~", "http")))


@hypothesis_settings(max_examples=50, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=SOURCE_NAME, flags=st.lists(st.sampled_from(["--rebuild", "--if-empty", "-s", "--source", "-v"]), max_size=2))
def test_ingest_of_any_missing_source_exits_cleanly(runner, cli_env, tmp_path, name, flags):
    result = runner.invoke(app, ["ingest", *flags, "--source", str(tmp_path / "absent" / name)], env=cli_env)
    assert_clean(result)
    assert result.exit_code == 0 or "Error" in result.output or "Usage" in result.output
