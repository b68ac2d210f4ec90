"""Which of the guide's languages a user writes in, from the short words every sentence has."""

from __future__ import annotations

import re

# Short words that tell the guide's languages apart (shared ones like "de", "para" count for both).
_LANGUAGE_WORDS = {
    "en": frozenset("the a an of and to in is are what how why who which does do for with on can should we our my i".split()),
    "pt": frozenset("o os as do da dos das e em no na nos nas um uma que como por para de não é são qual quais deve".split()),
    "es": frozenset("el los las del la y en un una que cómo como por para de no es son cuál cuáles debe qué".split()),
}


def question_language(text: str) -> str | None:
    """"en", "pt" or "es" when the text's short words say so clearly; None for a bare name or keyword ("Club de Madrid")."""
    words = re.findall(r"\w+", text.lower())
    counts = {language: sum(w in vocabulary for w in words) for language, vocabulary in _LANGUAGE_WORDS.items()}
    ranked = sorted(counts.values(), reverse=True)
    best = max(counts, key=counts.get)
    return best if ranked[0] >= 2 and ranked[0] > ranked[1] else None
