"""Follow-up questions ("and what are its risks?") made self-contained before retrieval."""

from __future__ import annotations

import re
from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage

from .citations import strip_citations
from .llm import LLMFailure, invoke_text
from .prompts import load_prompt
from .text import content_words, fold, keywords, looks_like_injection

History = Sequence[tuple[str, str]]

_LEADS = ("and ", "what about", "how about", "also ", "but ", "e ", "e quanto", "e o ", "e a ", "e os ", "e as ", "y ", "y que", "y el", "y la", "y los", "y las", "pero ", "mas ")
# Folded (accent-less); Spanish "él" is left out because it folds onto the article "el".
_PRONOUNS = frozenset(
    "it its they them their theirs this that these those he she him his her "
    "ele ela eles elas dele dela deles delas isso isto aquilo "
    "ella ellos ellas eso esto aquello".split()
)
MAX_TOPIC_WORDS = 6
TURNS_FOR_REWRITE = 3
ANSWER_EXCERPT_CHARS = 400


def looks_like_follow_up(question: str) -> bool:
    """Short or pronoun-led questions lean on the previous turn for their subject."""
    folded = fold(question).strip().lstrip("¿¡").strip()
    words = re.findall(r"[a-z']+", folded)
    if not words:
        return False
    subject_words = keywords(question)
    return (
        folded.startswith(_LEADS)
        or (any(w in _PRONOUNS for w in words) and len(subject_words) <= 3)
        or len(subject_words) <= 1
    )


def heuristic_standalone(question: str, history: History) -> str:
    """Carry the previous question's subject (itself resolved) into a follow-up question."""
    if not history or not looks_like_follow_up(question):
        return question
    previous = heuristic_standalone(history[-1][0], history[:-1])
    topic = " ".join(content_words(previous)[:MAX_TOPIC_WORDS])
    return f"{question.strip()} — {topic}" if topic else question


def _conversation(history: History) -> str:
    turns = []
    for asked, answered in history[-TURNS_FOR_REWRITE:]:
        answer = strip_citations(answered)
        answer = "\n".join(line for line in answer.splitlines() if not line.startswith("*"))  # label lines
        turns.append(f"User: {asked.strip()}\nAssistant: {answer.strip()[:ANSWER_EXCERPT_CHARS]}")
    return "\n\n".join(turns)


def llm_standalone(model: BaseChatModel, question: str, history: History) -> str:
    """The model's rewrite; a reply that is empty, rambling or odd falls back to the heuristic."""
    prompt = load_prompt("followup_rewrite").format(conversation=_conversation(history), question=question)
    try:
        reply = invoke_text(model, [HumanMessage(prompt)])
    except LLMFailure:
        return heuristic_standalone(question, history)
    line = next((part.strip() for part in reply.splitlines() if part.strip()), "")
    line = re.sub(r"^(?:rewritten question|question)\s*:\s*", "", line, flags=re.I).strip().strip('"“”')
    if not line or len(line) > 3 * len(question) + 200 or looks_like_injection(line):
        return heuristic_standalone(question, history)
    return line


def said_before(history: History) -> str:
    """The previous answer's words, without citation markers or line breaks: what a follow-up should not be told again."""
    return " ".join(strip_citations(history[-1][1]).split()) if history else ""
