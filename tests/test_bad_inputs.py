"""Every input of the bad-input corpus (tests/bad_inputs.py) pushed through every way text gets in:
a question, a briefing request or an audience, an uploaded note (as its name and as its content),
a page of the guide (as its body and as its front matter) and the command line. Each must end in a
result or in a user-facing message: no other exception, no traceback, nothing written where it
should not be, nothing already stored lost. Text that reaches the browser must carry no raw HTML.

Questions go through the real retriever and MiniLM. Notes and pages are embedded by a deterministic
stand-in that, like the real tokenizer, refuses text no UTF-8 encoder accepts: what is under test there
is the loader, the chunker and the store, and MiniLM would spend minutes on passages nobody reads. The
slow tests add the heavy inputs (up to a megabyte, through the stand-in), MiniLM once per path on a
hundred kilobytes of prose, a sample of briefings over the real retriever and the command line on
every input.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import tomllib
from collections import Counter, defaultdict
from contextlib import nullcontext
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import chromadb
import pytest
import yaml
from bad_inputs import CORPUS, HTML_INPUTS, BadInput, has_lone_surrogate
from chromadb.config import Settings as ChromaSettings
from fakes import FakeRetriever
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from assistant import handlers as h
from assistant.chainlit_home import prepare_home
from assistant.chunking import chunk_page
from assistant.cli import app
from assistant.compose import AUDIENCES, ComposeError, Composer, UnknownAudience, audience_named_in
from assistant.compose.citations import cited_numbers
from assistant.index import GuideIndex
from assistant.models import (
    Answer,
    Briefing,
    BriefingRequest,
    Chunk,
    Citation,
    SearchHit,
    TalkingPoints,
    ToolAdvice,
    ToolRecommendation,
)
from assistant.notes import NoteRecord, NoteStore, owner_folder_name
from assistant.retrieval import HybridRetriever
from assistant.safety import inert_markdown, valid_unicode
from assistant.settings import Settings
from assistant.sources import SourceError, load_pages_with_report


def params(items: list[BadInput], marks=lambda item: []) -> list:
    return [pytest.param(item, id=item.id, marks=marks(item)) for item in items]


def heavy(item: BadInput) -> list:
    return [pytest.mark.slow] if item.heavy else []


def spread(limit: int) -> set[str]:
    """The ids of at most ``limit`` inputs per category, spread over it: for paths too slow to take them all."""
    by_category: dict[str, list[BadInput]] = defaultdict(list)
    for item in CORPUS:
        by_category[item.category].append(item)
    return {item.id for items in by_category.values() for item in items[:: -(-len(items) // limit)]}


# -- what a good outcome looks like -----------------------------------------------------------------


def check_message(problem: Exception) -> str:
    """A user-facing error: one non-empty message, no traceback in it."""
    message = str(problem)
    assert message.strip(), f"{type(problem).__name__} without a message"
    assert "Traceback" not in message
    return message


def check_cited(markdown: str, citations: list[Citation]) -> None:
    """Every [n] in the text names one of the citations that come with it."""
    numbers = {c.n for c in citations}
    missing = set(cited_numbers(markdown)) - numbers
    assert not missing, f"markers {sorted(missing)} have no citation (citations: {sorted(numbers)})"


def check_answer(answer: Answer) -> None:
    assert isinstance(answer, Answer)
    assert answer.markdown.strip()
    check_cited(answer.markdown, answer.citations)
    assert answer.abstained or answer.citations, "an answer that is not an abstention must cite something"


def check_briefing(briefing: Briefing) -> None:
    assert isinstance(briefing, Briefing) and briefing.sections
    for section in briefing.sections:
        assert section.heading.strip() and section.markdown.strip()
        check_cited(section.markdown, section.citations)


def check_points(points: TalkingPoints) -> None:
    assert isinstance(points, TalkingPoints)
    for point in points.points:
        check_cited(point.point, point.citations)


_HTML_RENDERER = MarkdownIt("commonmark")  # raw HTML on: the worst case, a renderer that lets HTML through
_TAG_OPENING = re.compile(r"<[A-Za-z/!?]")  # CommonMark raw HTML always starts so


def raw_html(markdown: str) -> list[str]:
    """The raw HTML a CommonMark renderer would pass to the browser as HTML."""
    if not _TAG_OPENING.search(markdown):
        return []
    found = []
    for token in _HTML_RENDERER.parse(markdown):
        if token.type == "html_block":
            found.append(token.content)
        found.extend(child.content for child in token.children or [] if child.type == "html_inline")
    return found


# -- a tally of outcomes per path, printed at the end of the module ---------------------------------

TALLY: dict[str, Counter] = defaultdict(Counter)
SLOWEST: dict[str, tuple[float, str]] = {}


def record(path: str, outcome: str, item: BadInput, started: float) -> None:
    TALLY[path][outcome] += 1
    elapsed = time.perf_counter() - started
    if elapsed > SLOWEST.get(path, (0.0, ""))[0]:
        SLOWEST[path] = (elapsed, item.id)


@pytest.fixture(scope="module", autouse=True)
def print_tally(request):
    yield
    if not TALLY:
        return
    lines = ["", "bad inputs — outcomes per path:"]
    for path, counts in TALLY.items():
        slowest, which = SLOWEST.get(path, (0.0, ""))
        outcomes = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
        lines.append(f"  {path}: {outcomes}; slowest {slowest:.2f}s ({which})")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else nullcontext():
        print("\n".join(lines))


# -- shared, module-scoped set-ups ------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Questions are embedded on one thread, as the product does (Settings.torch_threads): on a busy
    machine two threads that contend make each question several times slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def stand_in_embeddings():
    """Cheap and deterministic; it hashes the UTF-8 bytes, so a lone surrogate fails here as in the tokenizer."""
    return DeterministicFakeEmbedding(size=384)


@pytest.fixture(scope="module")
def clean_environment():
    """Settings built here must not pick up a developer's INSPIRED_* variables."""
    with pytest.MonkeyPatch.context() as patch:
        for key in list(os.environ):
            if key.startswith("INSPIRED_"):
                patch.delenv(key)
        yield


def isolated_settings(data_dir: Path, **overrides) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir, llm="", reranker_model="", **overrides)


@pytest.fixture(scope="module")
def guide_retriever(tmp_path_factory, clean_environment, embeddings, fixture_pages):
    """The real hybrid retriever over the fixture guide, with real MiniLM embeddings."""
    settings = isolated_settings(tmp_path_factory.mktemp("ask-data"))
    index = GuideIndex(settings, embeddings=embeddings)
    index.ingest(fixture_pages)
    return HybridRetriever(settings, index)


@pytest.fixture(scope="module")
def composer(guide_retriever):
    return Composer(guide_retriever.settings, guide_retriever)


@pytest.fixture(scope="module")
def fake_composer(tmp_path_factory, clean_environment):
    return Composer(isolated_settings(tmp_path_factory.mktemp("draft-data")), FakeRetriever())


def echoing_model(reply: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter([AIMessage(content=reply)]))


# -- 1. questions -----------------------------------------------------------------------------------


def ask_and_check(composer: Composer, item: BadInput, path: str) -> Answer | None:
    started = time.perf_counter()
    try:
        answer = composer.ask(item.text)
    except ComposeError as problem:
        check_message(problem)
        record(path, "compose error", item, started)
        return None
    check_answer(answer)
    assert not has_lone_surrogate(answer.question), "the question was not repaired"
    record(path, f"{answer.mode}, {'abstained' if answer.abstained else 'answered'}", item, started)
    return answer


@pytest.mark.parametrize("item", params(CORPUS))
def test_a_question_gets_a_cited_answer_or_a_clear_message(item, composer):
    if problem := h.request_problem(item.text, composer.settings):  # the chat's own check comes first
        assert "characters" in problem
    ask_and_check(composer, item, "ask")
    # The model's reply is hostile too: the input itself, with made-up markers. [42] never survives.
    echoing = Composer(composer.settings, composer.retriever, chat_model=echoing_model(f"{item.text} [1] [2] [42]"))
    answer = ask_and_check(echoing, item, "ask, the model echoing the input")
    assert answer is None or answer.abstained or answer.mode == "extractive" or answer.dropped_citations >= 1


# -- 2. briefings and talking points ----------------------------------------------------------------


def briefing_requests(item: BadInput, settings: Settings) -> list[BriefingRequest]:
    """As the command line sends it, and as the chat parses a message it accepts."""
    requests = [BriefingRequest(request=item.text)]
    if not h.request_problem(item.text, settings):
        requests.append(h.parse_briefing_request(item.text))
    return requests


def draft_with(composer: Composer, request: BriefingRequest, item: BadInput, path: str) -> None:
    started = time.perf_counter()
    try:
        check_briefing(composer.brief(request))
        record(path, "briefing", item, started)
    except ComposeError as problem:
        check_message(problem)
        record(path, "compose error", item, started)


@pytest.mark.parametrize("item", params(CORPUS, heavy))
def test_a_briefing_request_gives_a_briefing_or_a_clear_message(item, fake_composer):
    for request in briefing_requests(item, fake_composer.settings):
        draft_with(fake_composer, request, item, "brief (fake retriever)")


# A briefing searches seven times: over the real retriever, a sample of each category drafts one
# request (the chat's when it accepts the message). Every input is drafted over the fake retriever.
BRIEFING_SAMPLE = spread(8)


@pytest.mark.slow
@pytest.mark.parametrize("item", params([item for item in CORPUS if item.id in BRIEFING_SAMPLE]))
def test_a_briefing_request_over_the_real_retriever(item, composer):
    draft_with(composer, briefing_requests(item, composer.settings)[-1], item, "brief (real retriever)")


@pytest.mark.parametrize("item", params(CORPUS, heavy))
def test_any_audience_gives_points_or_names_the_audiences(item, composer, fake_composer):
    started = time.perf_counter()
    try:
        check_points(composer.points(audience=item.text))
        record("points(audience=input)", "talking points", item, started)
    except UnknownAudience as problem:
        assert all(key in check_message(problem) for key in AUDIENCES)
        record("points(audience=input)", "unknown audience", item, started)
    except ComposeError as problem:
        check_message(problem)
        record("points(audience=input)", "compose error", item, started)
    if not h.request_problem(item.text, composer.settings):  # as the chat does: an audience named in the message
        found = audience_named_in(item.text)
        assert found is None or found in AUDIENCES
    try:
        check_points(fake_composer.points("parliaments", topic=item.text))
        record("points(topic=input)", "talking points", item, started)
    except ComposeError as problem:
        check_message(problem)
        record("points(topic=input)", "compose error", item, started)


# -- 3. uploads: the input as a note's name and as its content --------------------------------------

UPLOAD_NUMBERS = count()
ESCAPE_SENTINELS = [Path("/tmp/inspired-bad-inputs-escape.md"), Path("/tmp/inspired-bad-inputs-absolute.md")]


@dataclass
class UploadPlace:
    root: Path
    settings: Settings
    store: NoteStore
    index: GuideIndex
    incoming: Path
    baseline: dict[str, list[NoteRecord]]

    def folder(self, owner: str) -> Path:
        return self.settings.uploads_dir / owner_folder_name(owner)


def note_text(title: str, detail: str) -> bytes:
    return f"# {title}\n\nThe Freedonian planning ministry keeps a stakeholder map for {detail}.\n".encode()


def make_upload_place(tmp_path_factory, embeddings) -> UploadPlace:
    """A note store on its own index, where alice and bob already have notes that must survive."""
    root = tmp_path_factory.mktemp("uploads")
    settings = isolated_settings(root / "data")
    index = GuideIndex(settings, embeddings=embeddings)
    store = NoteStore(settings, index)
    incoming = tmp_path_factory.mktemp("incoming")  # outside root: the uploads arrive from elsewhere
    baseline: dict[str, list[NoteRecord]] = {}
    for owner, names in {"alice": ["lakeland.md", "highland.txt"], "bob": ["bob-notes.md"]}.items():
        for name in names:
            source = incoming / f"baseline-{owner}-{name}"
            source.write_bytes(note_text(f"Baseline {name}", f"the {owner} baseline note {name}"))
            baseline.setdefault(owner, []).append(store.add(owner, source, original_name=name))
    return UploadPlace(root, settings, store, index, incoming, baseline)


@pytest.fixture(scope="module")
def upload_place(tmp_path_factory, clean_environment, stand_in_embeddings) -> UploadPlace:
    return make_upload_place(tmp_path_factory, stand_in_embeddings)


@pytest.fixture(scope="module")
def real_upload_place(tmp_path_factory, clean_environment, embeddings) -> UploadPlace:
    """Notes embedded by MiniLM, for the tests that search them."""
    return make_upload_place(tmp_path_factory, embeddings)


def snapshot(root: Path) -> dict[Path, tuple[int, int]]:
    return {path: (path.stat().st_size, path.stat().st_mtime_ns) for path in root.rglob("*") if path.is_file()}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_nothing_lost(place: UploadPlace) -> None:
    for owner, records in place.baseline.items():
        listed = {r.id for r in place.store.list(owner)}
        for record in records:
            assert record.id in listed, f"{owner}'s note {record.original_name} vanished from the list"
            stored = place.folder(owner) / record.stored_name
            assert stored.is_file() and sha256(stored) == record.sha256, f"{owner}'s file {record.stored_name} changed"
            kept = place.index.notes_collection().get(where={"$and": [{"owner": owner}, {"note_id": record.id}]})
            assert kept["ids"], f"{owner}'s note {record.original_name} lost its passages"


def check_stored(place: UploadPlace, record: NoteRecord, source: Path) -> None:
    folder = place.folder("alice").resolve()
    stored = (folder / record.stored_name).resolve()
    assert stored.parent == folder and stored.read_bytes() == source.read_bytes()
    assert record.id in {r.id for r in place.store.list("alice")}
    assert record.original_name.strip() and not has_lone_surrogate(record.original_name)
    assert record.chunks > 0, "a note with nothing to search was stored"


def add_note(place: UploadPlace, content: bytes, name: str, item: BadInput, path: str, started: float) -> None:
    """Add one note as alice: it is stored with passages to search, or refused with a clear message."""
    source = place.incoming / f"{next(UPLOAD_NUMBERS)}.upload"  # Chainlit's temp files have names of its own
    source.write_bytes(content)
    try:
        record_ = place.store.add("alice", source, original_name=name)
    except SourceError as problem:  # NoteError is a SourceError
        check_message(problem)
        record(path, "refused", item, started)
        return
    check_stored(place, record_, source)
    record(path, "stored", item, started)


def check_upload(item: BadInput, place: UploadPlace) -> None:
    started = time.perf_counter()
    passwd_before = sha256(Path("/etc/passwd"))
    try:
        h.check_note_upload(item.text, len(item.file_bytes), place.settings.max_upload_mb)
        record("check_note_upload(name=input)", "accepted", item, started)
    except h.UploadProblem as problem:
        check_message(problem)
        record("check_note_upload(name=input)", "refused", item, started)

    before = snapshot(place.root)
    add_note(place, note_text(f"Field notes {item.id}", f"the upload named {item.id}"), item.text, item, "NoteStore.add(name=input)", started)
    add_note(place, item.file_bytes, "field-notes.md", item, "NoteStore.add(content=input)", started)
    after = snapshot(place.root)

    allowed = (place.folder("alice"), place.settings.chroma_dir)
    touched = [p for p in after.keys() | before.keys() if before.get(p) != after.get(p)]
    outside = [p for p in touched if not any(p.is_relative_to(folder) for folder in allowed)]
    assert not outside, f"written or removed outside alice's folder: {outside}"
    assert not [p for p in ESCAPE_SENTINELS if p.exists()]
    assert sha256(Path("/etc/passwd")) == passwd_before
    check_nothing_lost(place)


@pytest.mark.parametrize("item", params(CORPUS, heavy))
def test_an_upload_is_stored_in_its_owners_folder_or_refused(item, upload_place):
    check_upload(item, upload_place)


# MiniLM once per path on a heavy input: a hundred kilobytes of prose fills several batches in seconds,
# where a megabyte takes minutes (the megabyte inputs go through the stand-in).
HEAVY_PROSE = next(item for item in CORPUS if item.id == "size-hundred-kb-prose")


@pytest.mark.slow
def test_heavy_prose_as_a_note_through_the_real_model(real_upload_place):
    check_upload(HEAVY_PROSE, real_upload_place)


# -- 4. ingest: the input as a page's body, as raw front matter and as its title --------------------

GOOD_PAGES = {
    "good-one.md": (
        "https://inspired.epd.eu/guide/bad-input-good-one",
        "# Quiet preparation\n\nA dialogue host in Freedonia drafts the agenda with each union before the plenary meets.\n",
    ),
    "good-two.md": (
        "https://inspired.epd.eu/guide/bad-input-good-two",
        "# Keeping score\n\nThe Freedonian monitoring group publishes a progress table every quarter for the donors.\n",
    ),
}
BAD_FILES = ("bad-body.md", "bad-front-matter.md", "bad-title.md")


def bad_page_files(item: BadInput) -> dict[str, bytes]:
    body = b"\n\nThe text after this odd header is ordinary prose about agendas.\n"
    return {
        "bad-body.md": item.file_bytes,
        "bad-front-matter.md": b"---\n" + item.file_bytes + b"\n---\n" + body,
        # json.dumps makes a valid YAML double-quoted scalar of any text, escapes and all.
        "bad-title.md": b"---\ntitle: " + json.dumps(item.argv).encode() + b"\n---\n" + body,
    }


def write_good_pages(folder: Path) -> None:
    folder.mkdir()
    for name, (url, body) in GOOD_PAGES.items():
        (folder / name).write_text(f"---\nurl: {url}\n---\n{body}", encoding="utf-8")


@dataclass
class IngestPlace:
    root: Path
    settings: Settings
    index: GuideIndex


def make_ingest_place(tmp_path_factory, embeddings, client=None) -> IngestPlace:
    """An index that already holds the good pages, as a guide would before a bad page turns up."""
    root = tmp_path_factory.mktemp("ingest")
    settings = isolated_settings(root / "data")
    index = GuideIndex(settings, client=client, embeddings=embeddings)
    write_good_pages(root / "only-good")
    index.ingest(load_pages_with_report(settings, str(root / "only-good"))[0])
    return IngestPlace(root, settings, index)


@pytest.fixture(scope="module")
def ingest_place(tmp_path_factory, clean_environment, stand_in_embeddings) -> IngestPlace:
    # Chroma in memory: the same engine, without the disk writes that took most of this path's time.
    # Chroma shares one in-memory system per process, so this is the only one the tests make.
    client = chromadb.EphemeralClient(ChromaSettings(anonymized_telemetry=False))
    return make_ingest_place(tmp_path_factory, stand_in_embeddings, client)


def check_ingest(item: BadInput, place: IngestPlace) -> None:
    started = time.perf_counter()
    folder = place.root / item.id
    write_good_pages(folder)
    for name, content in bad_page_files(item).items():
        (folder / name).write_bytes(content)

    pages, warnings = load_pages_with_report(place.settings, str(folder))
    report = place.index.ingest(pages)

    indexed = place.index.page_hashes()
    for url, _ in GOOD_PAGES.values():
        assert url in indexed, f"good page {url} is not in the index"
    assert len({page.url for page in pages}) == len(pages), "two pages share a URL: only one of them can be indexed"
    unindexed = [page for page in pages if page.url not in indexed]
    for page in unindexed:
        assert not chunk_page(page, place.settings), f"{page.url} has passages but was not indexed"
        assert any(w.startswith(f"{page.url}:") for w in report.warnings), f"{page.url} was not indexed and no warning says so"
    skipped = [name for name in BAD_FILES if any(w.startswith(f"{name}:") and "skipped" in w for w in warnings)]
    assert len(pages) + len(skipped) == len(GOOD_PAGES) + len(BAD_FILES), f"a page vanished without a warning: {warnings}"
    indexed_bad = len(pages) - len(GOOD_PAGES) - len(unindexed)
    outcome = f"{indexed_bad} of 3 bad pages indexed, {len(skipped)} skipped when read, {len(unindexed)} with nothing to index"
    record("ingest", outcome, item, started)


@pytest.mark.parametrize("item", params(CORPUS, heavy))
def test_a_bad_page_never_stops_the_good_ones_from_being_indexed(item, ingest_place):
    check_ingest(item, ingest_place)


@pytest.mark.slow
def test_heavy_prose_as_a_page_through_the_real_model(tmp_path_factory, clean_environment, embeddings):
    check_ingest(HEAVY_PROSE, make_ingest_place(tmp_path_factory, embeddings))


# -- 5. the command line ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_environment(guide_retriever, tmp_path_factory):
    """The CLI pointed at the already ingested fixture guide; run from a folder without a .env."""
    home = tmp_path_factory.mktemp("cli-home")
    return home, {
        "INSPIRED_DATA_DIR": str(guide_retriever.settings.data_dir),
        "INSPIRED_SOURCE": str(home / "no-guide-here"),
        "INSPIRED_LLM": "",
        "INSPIRED_RERANKER_MODEL": "",
    }


CLI_SAMPLE = spread(1)
CLI_CASES = [
    pytest.param(
        item, command, id=f"{command}-{item.id}",
        # ~0.1 s a run: the fast suite runs one input per category, the slow one the whole corpus.
        marks=[] if item.id in CLI_SAMPLE else [pytest.mark.slow],
    )
    for command in ("ask", "search")
    for item in CORPUS
]


@pytest.mark.parametrize(("item", "command"), CLI_CASES)
def test_the_command_line_exits_cleanly(item, command, cli_environment, monkeypatch):
    home, env = cli_environment
    monkeypatch.chdir(home)
    started = time.perf_counter()
    result = CliRunner().invoke(app, [command, "--", item.argv], env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
    record(f"cli {command}", f"exit {result.exit_code}", item, started)


# -- 6. what reaches the browser ---------------------------------------------------------------------


def test_chainlit_renders_markdown_with_raw_html_switched_off(tmp_path, clean_environment):
    home = prepare_home(isolated_settings(tmp_path / "data"))
    config = tomllib.loads((home / ".chainlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["features"]["unsafe_allow_html"] is False


def handler_outputs(text: str) -> list[str]:
    """Everything handlers.py turns into chat Markdown, with ``text`` in every field that can hold it."""
    guide = Citation(n=1, url="https://inspired.epd.eu/guide/x", title=text, heading_path=[text], passage=text)
    note = Citation(n=2, url=f"note://{text}", title=text, heading_path=[text], passage=text, source_kind="note")
    answer = Answer(question=text, markdown=f"{text} [1] [2]", citations=[guide, note], notice=text)
    chunk = Chunk(id="c1", url="https://inspired.epd.eu/guide/x", title=text, heading_path=[text], text=text)
    advice = ToolAdvice(situation=text, tools=[ToolRecommendation(number=1, name=text, tool_type=text, why=text, citations=[guide])])
    outputs = [
        h.sources_block([guide, note]),
        *(panel.content for panel in h.citation_panels([guide, note])),
        h.answer_markdown(answer),
        h.retrieval_summary([SearchHit(chunk=chunk, score=1.0)], None),
        h.tools_markdown(advice),
        h.country_question(text),
    ]
    try:
        h.check_note_upload(f"{text}.exe", 10, 1.0)
    except h.UploadProblem as problem:
        outputs.append(str(problem))
    return outputs


@pytest.mark.parametrize("item", params(CORPUS, heavy))
def test_chat_markdown_from_handlers_carries_no_raw_html(item):
    for output in handler_outputs(item.text):
        assert not raw_html(output), output


@pytest.mark.parametrize("item", params(CORPUS, heavy))
def test_the_safety_helpers_leave_no_raw_html_and_no_lone_surrogate(item):
    text = item.text
    escaped = inert_markdown(text)
    assert not raw_html(escaped)
    assert inert_markdown(escaped) == escaped
    if "<" not in text:
        assert escaped == text
    streamed = "".join(inert_markdown(text[i:i + 3]) for i in range(0, len(text), 3))  # as a model's tokens arrive
    assert not raw_html(streamed)

    for raw in (text, item.argv):
        repaired = valid_unicode(raw)
        repaired.encode("utf-8")  # raises on a lone surrogate
        if not has_lone_surrogate(raw):
            assert repaired == raw


def test_valid_unicode_joins_the_surrogate_pairs_yaml_leaves_split():
    title = yaml.safe_load('title: "Field notes \\uD83D\\uDE00"')["title"]
    assert has_lone_surrogate(title)
    assert valid_unicode(title) == "Field notes \U0001F600"


@pytest.mark.parametrize("item", params(HTML_INPUTS))
def test_a_note_full_of_html_is_cited_without_raw_html(item, real_upload_place):
    """The realistic path: a user's note carrying a payload, found by a question and shown with its sources."""
    place = real_upload_place
    source = place.incoming / f"html-{item.id}.upload"
    sentences = (
        "The Freedonian budget committee wants a short written brief before each hearing on the reform. "
        "The committee clerk sends the brief to every member two days before the hearing."
    )
    source.write_text(f"# {item.text}\n\n{sentences} {item.text}\n\n{item.text}\n", encoding="utf-8")
    owner = f"carol-{item.id}"
    place.store.add(owner, source, original_name=f"{item.id}.md")
    note_composer = Composer(place.settings, HybridRetriever(place.settings, place.index))
    answer = note_composer.ask("What does the Freedonian budget committee want before each hearing?", owner=owner)
    assert any(hit.chunk.source_kind == "note" for hit in answer.retrieved), "the note was not found"
    assert all(c.source_kind == "note" for c in answer.citations + answer.nearest)
    outputs = [h.answer_markdown(answer), h.sources_block(answer.citations), *(p.content for p in h.citation_panels(answer.citations))]
    for output in outputs:
        assert not raw_html(output), output
