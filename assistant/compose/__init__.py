"""Cited answers, mission briefings, talking points and tool advice from retrieved passages."""

from .audiences import AUDIENCES, UnknownAudience, audience_named_in, audiences_named_in, find_audience, resolve_audience
from .composer import DEFAULT_ABSTAIN_THRESHOLD, Composer
from .drafting import ComposeError
from .llm import LLMConfigError, build_chat_model
from .prompts import load_prompt

__all__ = [
    "AUDIENCES",
    "DEFAULT_ABSTAIN_THRESHOLD",
    "ComposeError",
    "Composer",
    "LLMConfigError",
    "UnknownAudience",
    "audience_named_in",
    "audiences_named_in",
    "build_chat_model",
    "find_audience",
    "load_prompt",
    "resolve_audience",
]
