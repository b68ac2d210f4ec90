"""A user's country notes: each accepted format becomes a note Page, everything else a clear SourceError."""

from __future__ import annotations

from pathlib import Path

import docx
import matplotlib
import pytest
from pypdf import PdfReader, PdfWriter

from assistant.sources import SourceError, read_note_file

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (after choosing the headless backend)
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures" / "notes"
LIMIT = 1_000_000


def make_pdf(path: Path, lines: list[str]) -> Path:
    plt.rcParams["pdf.fonttype"] = 42  # TrueType text, which PDF readers can extract
    with PdfPages(path) as pdf:
        figure = plt.figure()
        for number, line in enumerate(lines):
            figure.text(0.1, 0.9 - 0.1 * number, line)
        pdf.savefig(figure)
        plt.close(figure)
    return path


def test_markdown_note_takes_its_title_from_the_first_heading():
    page = read_note_file(FIXTURES / "lakeland-briefing.md", max_bytes=LIMIT)
    assert page.title == "Lakeland: notes before the June visit"
    assert (page.url, page.section) == ("note://lakeland-briefing.md", "note")
    assert "- The planning ministry moved to a new building." in page.markdown


def test_text_note_without_heading_is_titled_by_its_file_name():
    page = read_note_file(FIXTURES / "contacts.txt", max_bytes=LIMIT)
    assert page.title == "contacts.txt"
    assert "water utility" in page.markdown


def test_non_utf8_text_note_is_still_read(tmp_path):
    note = tmp_path / "old.txt"
    note.write_bytes("Meeting at the café – 9am".encode("cp1252"))
    assert "café – 9am" in read_note_file(note, max_bytes=LIMIT).markdown


def test_word_note_keeps_headings_lists_and_tables(tmp_path):
    document = docx.Document()
    document.add_heading("Riverland mission notes", level=1)
    document.add_paragraph("The delegation arrives on a Monday.")
    document.add_heading("People to see", level=2)
    document.add_paragraph("Head of the budget office", style="List Bullet")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Day", "Meeting"
    path = tmp_path / "riverland.docx"
    document.save(str(path))

    page = read_note_file(path, max_bytes=LIMIT)
    assert page.title == "Riverland mission notes"
    assert "# Riverland mission notes" in page.markdown and "## People to see" in page.markdown
    assert "- Head of the budget office" in page.markdown
    assert "Day | Meeting" in page.markdown


def test_pdf_note_text_is_extracted(tmp_path):
    path = make_pdf(tmp_path / "hills.pdf", ["Hill country visit", "The mayor prefers morning meetings."])
    page = read_note_file(path, max_bytes=LIMIT)
    assert "The mayor prefers morning meetings." in page.markdown
    assert page.title == "hills.pdf" and page.url == "note://hills.pdf"


def test_pdf_without_text_is_rejected_as_probably_scanned(tmp_path):
    path = make_pdf(tmp_path / "scan.pdf", [])
    with pytest.raises(SourceError, match="scanned"):
        read_note_file(path, max_bytes=LIMIT)


def test_upload_without_extension_uses_its_original_name(tmp_path):
    upload = tmp_path / "3f2a9c"
    upload.write_text("# Temporary upload\n\nSome text.", encoding="utf-8")
    page = read_note_file(upload, max_bytes=LIMIT, name="plans.md")
    assert (page.url, page.title) == ("note://plans.md", "Temporary upload")


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("setup.exe", b"MZ\x90\x00", r"\.exe file; notes can be"),
        ("empty.txt", b"", "contains no text"),
        ("blank.md", b"  \n\n \n", "contains no text"),
        ("broken.docx", b"this is not a zip archive", "could not be read as a Word document"),
        ("broken.pdf", b"%PDF-1.4\nnot really a pdf", "could not be read as a PDF"),
    ],
)
def test_bad_files_are_rejected_with_a_clear_message(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SourceError, match=message):
        read_note_file(path, max_bytes=LIMIT)


def test_file_over_the_size_limit_is_rejected(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("word " * 1000, encoding="utf-8")
    with pytest.raises(SourceError, match="at most"):
        read_note_file(path, max_bytes=1000)


def test_missing_file_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="could not be opened"):
        read_note_file(tmp_path / "gone.md", max_bytes=LIMIT)


def test_password_protected_pdf_is_rejected(tmp_path):
    plain = make_pdf(tmp_path / "plain.pdf", ["Private notes"])
    writer = PdfWriter()
    for page in PdfReader(plain).pages:
        writer.add_page(page)
    writer.encrypt("secret")
    locked = tmp_path / "locked.pdf"
    with locked.open("wb") as handle:
        writer.write(handle)
    with pytest.raises(SourceError, match="password-protected"):
        read_note_file(locked, max_bytes=LIMIT)
