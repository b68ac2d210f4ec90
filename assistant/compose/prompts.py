"""Prompt templates live as Markdown files in ``prompts/`` so they can be read and tuned without touching code."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"
_SECTION_HEADING = re.compile(r"^## (.+)$", re.M)


@lru_cache
def load_prompt(name: str) -> str:
    """The template ``prompts/<name>.md``; placeholders are ``{name}``, literal braces are doubled."""
    path = PROMPTS_DIR / f"{name}.md"
    if not path.is_file():
        raise FileNotFoundError(f"prompt template {name!r} not found at {path}")
    return path.read_text(encoding="utf-8").strip()


@lru_cache
def load_prompt_sections(name: str) -> dict[str, str]:
    """A template made of ``## Heading`` blocks, as {heading: text} (e.g. per-section guidance)."""
    text = load_prompt(name)
    parts = _SECTION_HEADING.split(text)
    return {parts[i].strip(): parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
