"""A synthetic guide of any size: seeded, realistic-looking Markdown pages about policy dialogues
(headings, lists, now and then a table), plus stand-in embeddings for when real ones would take too long."""

from __future__ import annotations

import random

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.models import Page

BASE_URL = "https://synthetic.test"

SECTORS = [
    "water supply", "teacher pay", "vocational training", "primary health care", "rural roads", "tax collection",
    "pension reform", "waste management", "land registration", "energy subsidies", "youth employment",
    "public procurement", "urban transport", "school meals", "social protection", "customs procedures",
]
PLACES = [
    "Freedonia", "Lakeland", "Norvania", "Costa Serena", "Eastmarch", "Valdoria", "Port Amaro", "Kestrel Isles",
    "Brightwater", "Oronesia", "Sunhaven", "Tallmoor",
]
ACTORS = [
    "the planning ministry", "the finance ministry", "the teachers' union", "parents' associations",
    "district councils", "the budget committee of parliament", "women's cooperatives", "local mayors",
    "the national statistics office", "two donor agencies", "a university research team", "farmers' groups",
    "the chamber of commerce", "civil society networks", "the regional health board",
]
ACTIONS = [
    "asked for", "drafted", "reviewed", "objected to", "agreed on", "collected evidence for", "presented",
    "funded", "monitored", "postponed", "costed", "translated", "mapped the support for",
]
OBJECTS = [
    "a shared timetable", "the first set of recommendations", "a stakeholder map", "the reform roadmap",
    "a costed action plan", "the terms of reference", "a survey of service users", "the minutes of the last session",
    "a monitoring framework", "a list of open questions", "the budget estimates", "a communication plan",
]
QUALIFIERS = [
    "before the next session", "after a long debate", "with support from the facilitator", "within six weeks",
    "once the figures were checked", "despite early doubts", "in both official languages", "for the steering group",
    "at the district level first", "so that nobody was left out",
]
SECTION_HEADINGS = [
    "Background", "Who takes part", "What happened so far", "Open questions", "Next steps", "Risks",
    "Evidence gathered", "Budget", "Lessons learned", "How decisions are made", "Timeline", "Contacts",
]
SUBHEADINGS = ["In the capital", "In the districts", "With donors", "With parliament", "Quick wins", "Longer term"]
AREAS = ["guide", "toolkit", "cases"]


def sentence(rng: random.Random) -> str:
    actor = rng.choice(ACTORS)
    text = f"{actor} {rng.choice(ACTIONS)} {rng.choice(OBJECTS)} {rng.choice(QUALIFIERS)}."
    return text[0].upper() + text[1:]


def paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(sentence(rng) for _ in range(sentences))


def bullet_list(rng: random.Random) -> str:
    return "\n".join(f"- {sentence(rng)}" for _ in range(rng.randint(3, 6)))


def table(rng: random.Random) -> str:
    rows = [f"| {rng.choice(ACTORS)} | {rng.choice(OBJECTS)} | {rng.randint(1, 12)} weeks |" for _ in range(rng.randint(2, 5))]
    return "\n".join(["| Who | What | When |", "|---|---|---|", *rows])


def section(rng: random.Random, heading: str) -> str:
    parts = [f"## {heading}", paragraph(rng, rng.randint(3, 7))]
    if rng.random() < 0.4:
        parts.append(bullet_list(rng))
    if rng.random() < 0.2:
        parts += [f"### {rng.choice(SUBHEADINGS)}", paragraph(rng, rng.randint(2, 4))]
    if rng.random() < 0.1:
        parts.append(table(rng))
    return "\n\n".join(parts)


def synthetic_page(number: int, seed: int = 7) -> Page:
    rng = random.Random(seed * 1_000_003 + number)
    sector, place, area = rng.choice(SECTORS), rng.choice(PLACES), rng.choice(AREAS)
    title = f"{sector.capitalize()} in {place} ({number})"
    headings = rng.sample(SECTION_HEADINGS, rng.randint(1, 2))
    body = "\n\n".join([f"# {title}", paragraph(rng, rng.randint(3, 5)), *(section(rng, h) for h in headings)])
    return Page(
        url=f"{BASE_URL}/{area}/{place.lower().replace(' ', '-')}/{sector.replace(' ', '-')}-{number}",
        title=title,
        breadcrumb=[area.capitalize(), place],
        section=area,
        markdown=body + "\n",
    )


def synthetic_pages(count: int, seed: int = 7) -> list[Page]:
    return [synthetic_page(number, seed) for number in range(count)]


class RandomUnitEmbeddings(Embeddings):
    """Seeded random unit vectors of the real model's size: index-building cost without the model's.

    Dense ranking over them is meaningless; only its cost is measured (BM25 and the rest stay real).
    """

    def __init__(self, dimensions: int, seed: int = 11):
        self.dimensions = dimensions
        self.rng = np.random.default_rng(seed)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = self.rng.standard_normal((len(texts), self.dimensions)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]
