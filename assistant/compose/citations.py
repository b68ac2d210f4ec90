"""Numbered passages in, checked citations out: every ``[n]`` left in a text maps to a real passage."""

from __future__ import annotations

import re

from ..models import Chunk, Citation
from .text import strip_markup

# "[3]", "[1, 2]", "[2-4]", "[1; 5]" — but not Markdown links "[text](url)".
_CITATION_GROUP = re.compile(r"([ \t]*)\[\s*(\d+(?:\s*(?:,|;|–|-|and)\s*\d+)*)\s*\](?!\()")
_DELIMITER_LOOKALIKE = re.compile(r"<(/?)\s*(passages?)", re.I)
_MAX_RANGE = 10
PASSAGE_BREAK = "\n\n…\n\n"


def passage_label(chunk: Chunk) -> str:
    return "your notes" if chunk.source_kind == "note" else "INSPIRED guide"


def passage_text(chunk: Chunk) -> str:
    """The passage as shown to readers and to the model: GitBook markup removed."""
    return re.sub(r"\n{3,}", "\n\n", strip_markup(chunk.text)).strip()


def passages_block(chunks: list[Chunk]) -> str:
    """Passages numbered from 1 inside ``<passage>`` tags; look-alike tags inside the data are defused
    so a page or note cannot close the data block and speak as the instructions."""

    def defuse(text: str) -> str:
        return _DELIMITER_LOOKALIKE.sub(lambda m: f"‹{m.group(1)}{m.group(2)}", text)

    def attribute(text: str) -> str:
        return defuse(text).replace('"', "'")

    parts = []
    for n, chunk in enumerate(chunks, 1):
        where = " › ".join([chunk.title, *chunk.heading_path])
        tool = f' tool="{chunk.tool_number}"' if chunk.tool_number is not None else ""
        parts.append(
            f'<passage n="{n}" source="{passage_label(chunk)}" where="{attribute(where)}"{tool}>\n'
            f"{defuse(passage_text(chunk))}\n</passage>"
        )
    return "\n".join(parts)


class CitationRegistry:
    """Numbers each cited page section once, in order of first citation, across one answer or one briefing.

    Two passages of one section (a long section is cut into several chunks) are one source to a reader:
    they share a number, and the citation quotes both, in the page's order.
    """

    def __init__(self) -> None:
        self._by_place: dict[tuple, Citation] = {}
        self._chunks: dict[tuple, dict[str, Chunk]] = {}

    def number(self, chunk: Chunk) -> int:
        return self.cite(chunk).n

    def cite(self, chunk: Chunk) -> Citation:
        place = (chunk.source_kind, chunk.url, tuple(chunk.heading_path))
        citation = self._by_place.get(place)
        if citation is None:
            citation = Citation(
                n=len(self._by_place) + 1,
                url=chunk.url,
                title=chunk.title,
                heading_path=chunk.heading_path,
                passage=passage_text(chunk),
                source_kind=chunk.source_kind,
            )
            self._by_place[place] = citation
            self._chunks[place] = {chunk.id: chunk}
        elif chunk.id not in self._chunks[place]:
            self._chunks[place][chunk.id] = chunk
            in_order = sorted(self._chunks[place].values(), key=lambda c: (c.position, c.ordinal))
            citation.passage = PASSAGE_BREAK.join(passage_text(c) for c in in_order)
        return citation

    @property
    def citations(self) -> list[Citation]:
        return sorted(self._by_place.values(), key=lambda c: c.n)


def quoted_passages(citation: Citation, passages: list[str]) -> bool:
    """Whether a citation quotes only these passages (one of them, or several of one section joined)."""
    rest = citation.passage
    for text in sorted(set(passages), key=len, reverse=True):
        if text and text in rest:
            rest = rest.replace(text, "", 1)
    return rest != citation.passage and not rest.replace(PASSAGE_BREAK, "").strip()


def _expand(group: str) -> list[int]:
    numbers: list[int] = []
    for part in re.split(r"\s*(?:,|;|and)\s*", group):
        bounds = re.split(r"\s*[–-]\s*", part)
        if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit():
            low, high = int(bounds[0]), int(bounds[1])
            numbers.extend(range(low, high + 1) if 0 <= high - low < _MAX_RANGE else [low, high])
        elif part.isdigit():
            numbers.append(int(part))
    return numbers


def resolve_citations(text: str, passages: list[Chunk], registry: CitationRegistry) -> tuple[str, list[Citation], int]:
    """Rewrite passage numbers ``[i]`` (1-based into ``passages``) as the registry's numbers.

    Returns the rewritten text, the citations it now uses (in order) and how many cited numbers
    had no passage behind them — those are removed from the text, never shown as sources.
    """
    dropped = 0
    used: dict[int, None] = {}

    def rewrite(match: re.Match[str]) -> str:
        nonlocal dropped
        out: list[str] = []
        for i in _expand(match.group(2)):
            if 1 <= i <= len(passages):
                n = registry.number(passages[i - 1])
                if f"[{n}]" not in out:
                    out.append(f"[{n}]")
                used.setdefault(n, None)
            else:
                dropped += 1
        # A dropped citation takes its leading space with it: "claim [9]." becomes "claim."
        return match.group(1) + "".join(out) if out else ""

    rewritten = _CITATION_GROUP.sub(rewrite, text).strip()
    by_n = {c.n: c for c in registry.citations}
    return rewritten, [by_n[n] for n in used], dropped


def cited_numbers(markdown: str) -> list[int]:
    """Every number cited in a text, in order (after ``resolve_citations`` each is a single ``[n]``)."""
    return [n for _, group in _CITATION_GROUP.findall(markdown) for n in _expand(group)]


def strip_citations(text: str) -> str:
    return _CITATION_GROUP.sub("", text)


def renumber_in_reading_order(parts: list[tuple[str, list[Citation]]]) -> list[tuple[str, list[Citation]]]:
    """Texts written out of order (each with its citations, one shared numbering) renumbered so that
    sources are numbered 1, 2, 3… in the order a reader meets them."""
    mapping: dict[int, int] = {}
    for text, _ in parts:
        for n in cited_numbers(text):
            mapping.setdefault(n, len(mapping) + 1)
    renumbered = []
    for text, citations in parts:
        text = _CITATION_GROUP.sub(
            lambda m: m.group(1) + "".join(f"[{mapping[n]}]" for n in _expand(m.group(2)) if n in mapping), text
        )
        citations = sorted((c.model_copy(update={"n": mapping[c.n]}) for c in citations if c.n in mapping), key=lambda c: c.n)
        renumbered.append((text, citations))
    return renumbered
