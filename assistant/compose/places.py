"""Countries named in a question or request, and what the guide's passages say of one of them."""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import takewhile

from countryinfo import all_countries

from ..models import SearchHit
from ..retrieval import fold_accents  # accents dropped, case kept: "Bolívia" matches "Bolivia"
from .extractive import Sentence, passage_sentences
from .text import MAX_SENTENCE_WORDS, prose_blocks, split_sentences, years_in

# Sentences after one naming a country that are read as still about it.
COUNTRY_STORY = 2
CAPITAL_MIN_POPULATION = 100_000  # the smallest territories' capitals are people's names: Hamilton, Douglas, Stanley
ENGLISH_WORDS = {"Male"}  # Malé, unaccented
# Where missions go when that is not the capital in the country table: the seat of government, or the former capital
# and main city that ministries and embassies still use. English country names, as that table spells them.
SEATS_OF_GOVERNMENT = {
    "La Paz": "Bolivia", "The Hague": "Netherlands", "Abidjan": "Ivory Coast", "Dar es Salaam": "Tanzania",
    "Lagos": "Nigeria", "Astana": "Kazakhstan", "Almaty": "Kazakhstan", "Cotonou": "Benin", "Cape Town": "South Africa",
    "Putrajaya": "Malaysia", "Yangon": "Myanmar", "Ulan Bator": "Mongolia",
}


@lru_cache(maxsize=4)
def _spellings(with_demonyms: bool, with_capitals: bool = True) -> tuple[dict[str, str], re.Pattern]:
    """Every way of naming a country → its English name: its names, the Spanish one, its capital ("visiting
    Tbilisi" is a mission to Georgia) and, for reading the guide, its demonym ("Armenian women")."""
    names: dict[str, str] = {}
    for info in (country.info() for country in all_countries()):
        name = info.get("name")
        if not name:
            continue
        spellings = [name, *info.get("altSpellings", []), info.get("translations", {}).get("es", "")]
        if with_capitals and (info.get("population") or 0) >= CAPITAL_MIN_POPULATION:
            capital = info.get("capital")
            spellings += capital if isinstance(capital, list) else [capital or ""]
        if with_demonyms:
            spellings.append(info.get("demonym") or "")
        for spelling in spellings:
            plain = fold_accents(spelling.split(",")[0]).strip()
            # Codes ("MD", "MDA") and non-Latin scripts say nothing in an English, Portuguese or Spanish text.
            if len(plain) > 3 and plain.isascii() and plain[0].isupper() and plain not in ENGLISH_WORDS:
                names.setdefault(plain, name)
    if with_capitals:
        names.update({city: country for city, country in SEATS_OF_GOVERNMENT.items() if country in names.values()})
    longest_first = sorted(names, key=len, reverse=True)
    return names, re.compile(r"\b(" + "|".join(re.escape(n) for n in longest_first) + r")\b")


# Organisations named after a place: the Club de Madrid's former leaders are no question about Spain.
_NAMED_AFTER_A_PLACE = re.compile(r"\bClub\s+(?:de|of)\s+Madrid\b", re.I)


# A demonym that names a language, not a country: "in Spanish", "the Portuguese version", "written in Georgian"; or
# where a visitor comes from, not where the mission goes: "a Chilean former president".
_LANGUAGE_BEFORE = re.compile(r"\b(?:in|into|to|from|speak|speaks|speaking|read|reads|written in)\s+$", re.I)
_LANGUAGE_AFTER = re.compile(r"^\s+(?:version|translation|language|speakers?|speaking|edition|text|pages?|words?|terms?|former|ex-?)\b", re.I)


def countries_asked_about(question: str) -> list[str]:
    """The countries a question names, also by demonym ("the Tunisian dialogue"), but not a language ("is the guide
    in Spanish?")."""
    names, pattern = _spellings(True)
    plain_names = _spellings(False)[0]
    text = fold_accents(_NAMED_AFTER_A_PLACE.sub(" ", question))
    found = [
        names[m.group(1)] for m in pattern.finditer(text)
        if m.group(1) in plain_names or not (_LANGUAGE_BEFORE.search(text[: m.start()]) or _LANGUAGE_AFTER.match(text[m.end() :]))
    ]
    return list(dict.fromkeys(found))


def countries_in(text: str, *, demonyms: bool = False, capitals: bool = True) -> list[str]:
    """The countries a text names, in order, each once ("Moldova", "Bolivia"…); capitalised only ("chad" is a
    word, "Chad" a country). Without ``capitals``, "the Paris Declaration" names no country."""
    names, pattern = _spellings(demonyms, capitals)
    text = _NAMED_AFTER_A_PLACE.sub(" ", text)
    return list(dict.fromkeys(names[m] for m in pattern.findall(fold_accents(text))))


def without_countries(text: str) -> str:
    """The text with every country's names (and demonyms) taken out: what it asks about the country."""
    _, pattern = _spellings(True)
    return re.sub(r"\s+", " ", pattern.sub(" ", fold_accents(text))).strip()


def mentions(text: str, country: str) -> bool:
    """Whether the text names the country, by any of its names; a place the table does not know, by its own name."""
    names, _ = _spellings(True)
    if fold_accents(country) in names:
        return names[fold_accents(country)] in countries_in(text, demonyms=True)
    return re.search(rf"\b{re.escape(fold_accents(country).lower())}\b", fold_accents(text).lower()) is not None


def country_sentences(hits: list[SearchHit], country: str) -> list[Sentence]:
    """Sentences that name the country, and the COUNTRY_STORY sentences after each in its paragraph:
    "Bolivia is a telling illustration." names it, the sentences after it tell what happened there."""
    # The story stops where another country's begins ("… a social pact in Tunisia. INSPIRED Kyrgyzstan, at another
    # stage, produced an Action Plan."): under "What the guide says about Tunisia" a reader takes it for Tunisia's.
    about = _stories(
        hits, lambda sentence: mentions(sentence, country),
        ends=lambda sentence: bool(countries_in(sentence, demonyms=True)) and not mentions(sentence, country),
    )
    excerpts = [
        Sentence(excerpt, hit.chunk, rank, 0)
        for rank, hit in enumerate(hits)
        for block in prose_blocks(hit.chunk.text)
        for sentence in split_sentences(block)
        if len(sentence.split()) > MAX_SENTENCE_WORDS and mentions(sentence, country) and (excerpt := list_excerpt(sentence, country))
    ]
    return [s for s in passage_sentences(hits) if s.text in about] + excerpts


def other_countries_sentences(hits: list[SearchHit], countries: list[str]) -> set[str]:
    """The sentences telling another country's case (named there, or in the sentences just before)."""
    def elsewhere(sentence: str) -> bool:
        named = countries_in(sentence, demonyms=True)
        return bool(named) and not any(c in named for c in countries)

    return _stories(hits, elsewhere)


def _stories(hits: list[SearchHit], names_it, ends=lambda sentence: False) -> set[str]:
    """Each sentence for which ``names_it`` holds, with the COUNTRY_STORY sentences after it in its paragraph, up to
    the first one that ``ends`` it."""
    found: set[str] = set()
    for hit in hits:
        for block in prose_blocks(hit.chunk.text):
            sentences = split_sentences(block)
            for i, sentence in enumerate(sentences):
                if names_it(sentence):
                    found.add(sentence)
                    found.update(takewhile(lambda follower: not ends(follower), sentences[i + 1 : i + 1 + COUNTRY_STORY]))
    return found


def list_excerpt(sentence: str, country: str) -> str | None:
    """From a long enumeration ("Our thanks go to our partners: A (Ghana), B (Moldova), …") its lead-in and
    the item naming the country, the cuts marked: too long to quote whole, too telling to leave out."""
    lead, colon, items = sentence.partition(":")
    if not colon:
        return None
    # "… Unitas (Bolivia) and Loka Ahlinn (Myanmar).": the last two items share a comma; "A and B (both from X)" is one.
    parts = [part for chunk in re.split(r"[,;]", items) for part in re.split(r"(?<=\))\s+and\s+", chunk)]
    item = next((part.strip() for part in parts if mentions(part, country)), None)
    return f"{lead.strip()}: … {item.rstrip('.')} …" if item else None


def case_countries(text: str) -> list[str]:
    """The countries a sentence tells a case from: "In Georgia, the dialogue…", "INSPIRED Armenia…", "the process
    in Moldova"; not a country in an organisation's name ("the Netherlands Institute for Multiparty Democracy")."""
    names, pattern = _spellings(False)
    folded = fold_accents(text)
    return list(dict.fromkeys(
        names[m.group(1)] for m in pattern.finditer(folded)
        if (
            re.search(r"\b(?:in|INSPIRED|of)\s+(?:the\s+)?$", folded[: m.start()], re.I)
            # "Mongolia offers an example."
            or (re.search(r"(?:^|[.!?]\s+)$", folded[: m.start()])
                and re.match(r"\s+(?:offers|provides|gives|shows|illustrates|is an? (?:good |clear )?(?:case|example))\b", folded[m.end():]))
        )
        and not re.match(r"\s+(?:Institute|Foundation|Agency|Council|Centre|Center)\b", folded[m.end():])
    ))


# A name of two or more capitalised words, joined by "of", "the", "and"…: "Dastan Bekeshev", "Employment Promotion Law",
# "Deputy Head of the Ministry of Health and Social Affairs".
_PROPER_NAME = re.compile(r"\b[A-Z][\w'’-]+(?:(?:\s+(?:of|the|and|on|for|de|del|y|e|a|da|do|das|dos|no|na|la|el|los|las)){0,2}\s+[A-Z][\w'’-]+)+")
_FIGURE = re.compile(r"((?:[\w'’-]+\s+){1,5})(\(?(\d[\d.,%]*)(?:\s+(?:to|in)\s+\w+)?\)?)")
_LEADING_CONNECTOR = re.compile(r"^(?:and|or|of|the|to|from|by|with|in)\s+", re.I)
_LEADING_WORDS = re.compile(r"^(?:The|In|On|Once|There|This|These|Our|Its|Their|A|An)\s+")
MAX_FACTS_TO_CHECK = 6


def facts_to_check(sentences: list[Sentence], country: str) -> list[str]:
    """The people, bodies, laws and figures that sentences on a country name: what the guide reports from its
    projects, which a visitor has to check still holds ("Dastan Bekeshev", "approved mediators (11 in total)").
    A sentence counts when it is about that country alone, by naming it or by following one that does."""
    found: list[str] = []
    for quoted in sentences:
        named = quoted.text if countries_in(quoted.text, demonyms=True) or mentions(quoted.text, country) else quoted.previous or ""
        if not mentions(named, country) or any(other != country for other in countries_in(named, demonyms=True)):
            continue
        sentence = quoted.text
        for match in _PROPER_NAME.finditer(sentence):
            name = _LEADING_WORDS.sub("", match.group(0)).strip().rstrip("'’")  # "Evo Morales' government"
            # "Mongolia and Kyrgyzstan", "Cape Verdean": countries are the mission's, not facts to check.
            if " " in name and "INSPIRED" not in name and re.search(r"[A-Z]", without_countries(name)):
                found.append(name)
        for before, figure, number in _FIGURE.findall(sentence):
            if not years_in(number):
                found.append(f"the current figure for “{_LEADING_CONNECTOR.sub('', before.strip())} {figure}”")
    unique = [f for f in dict.fromkeys(found) if f.casefold() != country.casefold()]
    return unique[:MAX_FACTS_TO_CHECK]
