"""Typed records at the pipeline's boundaries: pages in, chunks indexed, cited results out."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, computed_field

from .safety import ValidText

SourceKind = Literal["guide", "note"]
Mode = Literal["extractive", "llm"]


class Page(BaseModel):
    """Every way text gets in (front matter, notes, fetched pages) ends here, so its text is repaired here."""

    url: ValidText
    title: ValidText
    breadcrumb: list[ValidText] = Field(default_factory=list)
    lang: ValidText = "en"
    section: ValidText = "guide"
    markdown: ValidText
    lastmod: datetime | None = None

    @computed_field
    @property
    def content_hash(self) -> str:
        return hashlib.sha256(f"{self.title}\n{self.breadcrumb}\n{self.markdown}".encode()).hexdigest()[:16]


class Chunk(BaseModel):
    id: str
    url: str
    title: str
    breadcrumb: list[str] = Field(default_factory=list)
    heading_path: list[str] = Field(default_factory=list)
    section: str = "guide"
    lang: str = "en"
    tool_number: int | None = None
    tool_type: str | None = None
    source_kind: SourceKind = "guide"
    owner: str | None = None
    country: str | None = None
    ordinal: int = 0  # among the chunks of the same heading path (part of the id)
    position: int = 0  # among all the chunks of its page, in reading order
    text: str
    page_hash: str = ""

    @property
    def heading(self) -> str:
        return " › ".join(self.heading_path) if self.heading_path else self.title

    @property
    def embed_text(self) -> str:
        """Title, tool number and heading path lead, so "tool 11 purpose" finds the Purpose of tool 11."""
        head = " › ".join([*self.breadcrumb[-1:], self.title, *self.heading_path])
        if self.tool_number is not None:
            head = f"Tool {self.tool_number} ({self.tool_type or 'tool'}): {head}"
        return f"{head}\n{self.text}"


class SearchHit(BaseModel):
    chunk: Chunk
    score: float
    dense_rank: int | None = None
    lexical_rank: int | None = None
    named_rank: int | None = None  # set when the query names its page outright ("tool 11", "PPA")
    dense_similarity: float | None = None


class Citation(BaseModel):
    n: int
    url: str
    title: str
    heading_path: list[str] = Field(default_factory=list)
    passage: str
    source_kind: SourceKind = "guide"

    @property
    def label(self) -> str:
        return "your notes" if self.source_kind == "note" else "INSPIRED guide"


class Answer(BaseModel):
    question: str
    markdown: str
    citations: list[Citation] = Field(default_factory=list)
    abstained: bool = False
    mode: Mode = "extractive"
    notice: str | None = None
    dropped_citations: int = 0
    nearest: list[Citation] = Field(default_factory=list)
    retrieved: list[SearchHit] = Field(default_factory=list, exclude=True)


class BriefingRequest(BaseModel):
    request: ValidText = ""
    country: ValidText | None = None
    purpose: ValidText | None = None
    travellers: ValidText | None = None
    policy_area: ValidText | None = None
    phase: ValidText | None = None
    meetings: list[ValidText] = Field(default_factory=list)


class BriefingSection(BaseModel):
    heading: str
    markdown: str
    citations: list[Citation] = Field(default_factory=list)


class Briefing(BaseModel):
    title: str
    request: BriefingRequest
    sections: list[BriefingSection]
    gaps: list[str] = Field(default_factory=list)
    mode: Mode = "extractive"
    notice: str | None = None
    retrieved: list[SearchHit] = Field(default_factory=list, exclude=True)


class TalkingPoint(BaseModel):
    point: str
    rationale: str
    citations: list[Citation] = Field(default_factory=list)


class TalkingPoints(BaseModel):
    audience: str
    topic: str | None = None
    points: list[TalkingPoint]
    mode: Mode = "extractive"
    notice: str | None = None
    retrieved: list[SearchHit] = Field(default_factory=list, exclude=True)


class ToolRecommendation(BaseModel):
    number: int
    name: str
    tool_type: str
    why: str
    citations: list[Citation] = Field(default_factory=list)


class ToolAdvice(BaseModel):
    situation: str
    tools: list[ToolRecommendation]
    mode: Mode = "extractive"
    notice: str | None = None
    retrieved: list[SearchHit] = Field(default_factory=list, exclude=True)
