"""Briefings and talking points as Markdown or Word documents, with numbered, linked sources."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import RGBColor
from docx.text.paragraph import Paragraph

from .compose.requests import is_background_brief
from .models import Briefing, Citation, Mode, TalkingPoints

MODE_LINES = {
    "extractive": "Extractive mode: passages quoted from the INSPIRED guide (and your notes); no language model was used.",
    "llm": "Drafted by a language model from cited passages of the INSPIRED guide (and your notes); check each claim against its source.",
}
GAPS_HEADING = "Gaps — to be supplied"
SOURCES_HEADING = "Sources"
_INLINE = re.compile(r"(\*\*[^*]+\*\*|\*[^*\s][^*]*\*|\[\d+\]|\[[^\]]+\]\([^)\s]+\))")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_SUBHEADING = re.compile(r"^#{1,6}\s+")
HYPERLINK_BLUE = RGBColor(0x05, 0x63, 0xC1)


def _unique_citations(citations: list[Citation]) -> list[Citation]:
    by_n: dict[int, Citation] = {}
    for citation in citations:
        by_n.setdefault(citation.n, citation)
    return [by_n[n] for n in sorted(by_n)]


def _source_label(citation: Citation) -> str:
    where = " › ".join([citation.title, *citation.heading_path])
    return f"{where} ({citation.label})"


def _is_web(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def _provenance(mode: Mode, notice: str | None) -> str:
    line = f"Prepared {date.today().isoformat()}. {MODE_LINES[mode]}"
    return f"{line} Note: {notice}" if notice else line


def _briefing_citations(b: Briefing) -> list[Citation]:
    return _unique_citations([c for section in b.sections for c in section.citations])


def _points_citations(t: TalkingPoints) -> list[Citation]:
    return _unique_citations([c for point in t.points for c in point.citations])


def _facts_heading(b: Briefing) -> str:
    """Background for someone's work ("an onboarding brief") prepares no mission."""
    return "The request" if is_background_brief(b.request) else "Mission"


def _mission_facts(b: Briefing) -> list[str]:
    r = b.request
    facts = {
        "Request": r.request, "Country": r.country, "For" if is_background_brief(r) else "Travellers": r.travellers,
        "Purpose": r.purpose, "Policy area": r.policy_area, "Phase of the dialogue": r.phase, "Meetings": ", ".join(r.meetings),
    }
    return [f"{name}: {value}" for name, value in facts.items() if value]


# The request naming its draft, after any setting and order: "Our minister resigned. Can you draft talking points for…?"
_NAMED_DRAFT = re.compile(
    r"(?:^|[.!?:]\s+)(?:[^.!?:]*?\b(?:draft|write|prepare|need|want|like|some)\s+)?"
    r"((?:talking points|pontos de conversa|puntos (?:de conversaci[oó]n|clave)|mensagens[- ]chave|mensajes clave)\b[^.!?]*)",
    re.I,
)


def _points_title(t: TalkingPoints) -> str:
    topic = (t.topic or "").strip().rstrip(".?")
    if named := _NAMED_DRAFT.search(topic):
        said = named.group(1).strip()
        return said[0].upper() + said[1:]  # the request already says what it is ("Talking points for…")
    return f"Talking points for {t.audience.lower()}" + (f": {topic}" if topic else "")


# -- Markdown -------------------------------------------------------------------------------------
def _markdown_sources(citations: list[Citation]) -> list[str]:
    lines = [f"## {SOURCES_HEADING}", ""]
    for c in citations:
        label = _source_label(c)
        lines.append(f"{c.n}. [{label}]({c.url})" if _is_web(c.url) else f"{c.n}. {label}")
    return lines


def briefing_to_markdown(b: Briefing) -> str:
    lines = [f"# {b.title}", "", f"*{_provenance(b.mode, b.notice)}*", "", f"## {_facts_heading(b)}", ""]
    lines += [f"- {fact}" for fact in _mission_facts(b)]
    for section in b.sections:
        lines += ["", f"## {section.heading}", "", section.markdown]
    lines += ["", f"## {GAPS_HEADING}", ""]
    lines += [f"- {gap}" for gap in b.gaps] or ["Nothing missing was detected."]
    lines += ["", *_markdown_sources(_briefing_citations(b))]
    return "\n".join(lines).rstrip() + "\n"


def points_to_markdown(t: TalkingPoints) -> str:
    lines = [f"# {_points_title(t)}", "", f"*{_provenance(t.mode, t.notice)}*", ""]
    for i, point in enumerate(t.points, 1):
        lines.append(f"{i}. {point.point}")
        if point.rationale:
            lines.append(f"   *Why: {point.rationale}*")
    if not t.points:
        lines.append("The guide offered no passage to build talking points on.")
    lines += ["", *_markdown_sources(_points_citations(t))]
    return "\n".join(lines).rstrip() + "\n"


# -- Word -----------------------------------------------------------------------------------------
def _add_hyperlink(paragraph: Paragraph, url: str, text: str) -> None:
    """python-docx has no API for adding links: build the w:hyperlink element by hand."""
    r_id = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), r_id)
    run = OxmlElement("w:r")
    props = OxmlElement("w:rPr")
    color = OxmlElement("w:color")
    color.set(qn("w:val"), str(HYPERLINK_BLUE))
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "single")
    props.extend([color, underline])
    run.append(props)
    text_element = OxmlElement("w:t")
    text_element.text = text
    text_element.set(qn("xml:space"), "preserve")
    run.append(text_element)
    link.append(run)
    paragraph._p.append(link)


def _add_inline(paragraph: Paragraph, text: str) -> None:
    """Bold, italics, links and superscript citation marks from one line of Markdown."""
    for part in _INLINE.split(text):
        if not part:
            continue
        if re.fullmatch(r"\[\d+\]", part):
            paragraph.add_run(part).font.superscript = True
        elif part.startswith("**") and part.endswith("**"):
            paragraph.add_run(part[2:-2]).bold = True
        elif link := re.fullmatch(r"\[([^\]]+)\]\(([^)\s]+)\)", part):
            if _is_web(link.group(2)):
                _add_hyperlink(paragraph, link.group(2), link.group(1))
            else:
                paragraph.add_run(link.group(1))
        elif part.startswith("*") and part.endswith("*") and len(part) > 2:
            paragraph.add_run(part[1:-1]).italic = True
        else:
            paragraph.add_run(part)


def _add_markdown(document, markdown: str) -> None:
    """Paragraphs, bullet items and sub-headings of a section's Markdown."""
    for block in re.split(r"\n\s*\n", markdown.strip()):
        for line in block.splitlines() if _LIST_ITEM.match(block) else [" ".join(block.splitlines())]:
            if not line.strip():
                continue
            if _SUBHEADING.match(line):
                document.add_heading(_SUBHEADING.sub("", line).strip(), level=2)
            elif _LIST_ITEM.match(line):
                _add_inline(document.add_paragraph(style="List Bullet"), _LIST_ITEM.sub("", line))
            else:
                _add_inline(document.add_paragraph(), line.strip())


def _add_sources(document, citations: list[Citation]) -> None:
    document.add_heading(SOURCES_HEADING, level=1)
    for c in citations:
        paragraph = document.add_paragraph()
        paragraph.add_run(f"[{c.n}] ").bold = True
        paragraph.add_run(f"{_source_label(c)} — ")
        if _is_web(c.url):
            _add_hyperlink(paragraph, c.url, c.url)
        else:
            paragraph.add_run(c.url)


def _start_document(title: str, mode: Mode, notice: str | None):
    document = Document()
    document.add_heading(title, level=0)
    document.add_paragraph().add_run(_provenance(mode, notice)).italic = True
    return document


def _checked_out_path(path: Path, suffix: str) -> Path:
    path = Path(path)
    if path.suffix.lower() != suffix:
        raise ValueError(f"{path} should end in {suffix}")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def briefing_to_docx(b: Briefing, path: Path) -> Path:
    path = _checked_out_path(path, ".docx")
    document = _start_document(b.title, b.mode, b.notice)
    document.add_heading(_facts_heading(b), level=1)
    for fact in _mission_facts(b):
        document.add_paragraph(fact, style="List Bullet")
    for section in b.sections:
        document.add_heading(section.heading, level=1)
        _add_markdown(document, section.markdown)
    document.add_heading(GAPS_HEADING, level=1)
    for gap in b.gaps or ["Nothing missing was detected."]:
        document.add_paragraph(gap, style="List Bullet")
    _add_sources(document, _briefing_citations(b))
    document.save(str(path))
    return path


def points_to_docx(t: TalkingPoints, path: Path) -> Path:
    path = _checked_out_path(path, ".docx")
    document = _start_document(_points_title(t), t.mode, t.notice)
    document.add_heading("Talking points", level=1)
    for point in t.points:
        _add_inline(document.add_paragraph(style="List Number"), point.point)
        if point.rationale:
            document.add_paragraph().add_run(f"Why: {point.rationale}").italic = True
    if not t.points:
        document.add_paragraph("The guide offered no passage to build talking points on.")
    _add_sources(document, _points_citations(t))
    document.save(str(path))
    return path
