"""Reading a briefing request typed in free text: where, who travels, what for, on which policy, whom they meet.

What the request does not say is listed for the user to supply; nothing here is guessed from outside the text."""

from __future__ import annotations

import re

from ..models import BriefingRequest
from .places import countries_in
from .text import fold

CURRENT_FACTS_GAPS = [
    "Who holds the relevant posts today: ministers, committee chairs and the heads of the organisations involved",
    "Latest figures and the current status of the policy, law or reform under discussion",
    "Current state of the dialogue: commitments made so far and the current positions of those who made them",
]

# Words that say when, not what about: "meets the president on Monday", "briefing on 12 March".
_WEEKDAYS = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_MONTHS = r"january|february|march|april|may|june|july|august|september|october|november|december"
_NAME = r"((?:[A-Z][\w'’-]+)(?:\s+(?:and\s+|of\s+|de\s+|del\s+)?[A-Z][\w'’-]+)*)"
_STRONG_PLACE = re.compile(r"\b(?:visiting|visits?\s+to|mission\s+to|trip\s+to|travell?ing\s+to|going\s+to|travels?\s+to|bound\s+for)\s+(?:the\s+)?" + _NAME)
_WEAK_PLACE = re.compile(r"\b(?:in|to|em|en)\s+(?:the\s+)?" + _NAME)
_NOT_PLACES = {"club", "club de madrid", "eu", "european union", "epd", "inspired", "parliament", "government"}
# "…meets the Minister of Labour next week", "…the speaker tomorrow": whom, not when.
_WHEN_MET = re.compile(
    rf"\s+(?:(?:next|this|coming|later\s+this)\s+(?:week|month|year|{_WEEKDAYS}|{_MONTHS})|tomorrow|today|tonight|soon"
    rf"|(?:on|in|by|during|before|after|early|late)\s+(?:(?:early|mid|late)[\s-]+)?(?:{_WEEKDAYS}|{_MONTHS}|\d))\b.*$",
    re.I,
)
# "…meet the committee chair about jobs for…": whom, not what about.
_MEETINGS = re.compile(
    r"\bmeet(?:ings?|s)?\s+(?:with\s+)?(.+?)(?:[.;]|\s+(?:about|on|to discuss|regarding|concerning)\s|\s+to\s+(?=[a-z])|$)", re.I
)
_TRAVELLERS = re.compile(r"\b(?:brief(?:ing)?(?:\s+for)?)\s+((?:an?|the)\s+[^,:;.]+?)\s+(?:visiting|travell?ing|going|who|on|for|before|ahead)\b", re.I)
_SELF = re.compile(r"\bI(?:'m|’m| am)\s+((?:an?|the)\s+[^,.;]+?)(?:\s+(?:and|who|visiting|travell?ing|going|with)\b|[,.;]|$)", re.I)
# The kinds of visitor a mission sends, for a request that names one without "brief…" ("A former president from
# the Club de Madrid goes to Bishkek…", "The EU ambassador in Nairobi meets…").
_ROLE = (
    r"(?:heads?\s+of\s+(?:state|government|(?:the\s+)?(?:EU\s+)?delegation)|prime\s+ministers?|(?:vice[- ])?presidents?|chancellors?|"
    r"ministers?|ambassadors?|envoys?|special\s+representatives?|commissioners?|MEPs?|"
    r"members?\s+of\s+(?:the\s+)?(?:European\s+)?parliament|officials?|representatives?|programme\s+officers?|"
    r"program\s+officers?|diplomats?|dignitar(?:y|ies)|secretar(?:y|ies)[- ]general|Club\s+de\s+Madrid\s+members?)"
)
_VISITOR = re.compile(
    r"(?:\b|^)((?:(?:an?|the|our|my|two|three|several)\s+|^)(?:[\w'’-]+\s+){0,3}?" + _ROLE + r"\b"
    # "…of Chile", "…from the Club de Madrid": where the visitor comes from is part of who travels.
    r"(?:\s*\([^)]{1,60}\))?(?:\s+(?:from|of)\s+(?:the\s+)?(?-i:[A-Z][\w'’-]+)(?:\s+(?:de\s+)?(?-i:[A-Z][\w'’-]+)){0,2})?)",
    re.I,
)
# The same in Portuguese and Spanish: "Um antigo presidente do Club de Madrid vai a…", "Una ex primera ministra
# viaja a… para reunirse con la ministra de trabajo y con sindicatos".
_VISITOR_PT_ES = re.compile(
    r"\b((?:um|uma|o|a|un|una|el|la|nosso|nossa|nuestro|nuestra)\s+(?:ex-?\s*|antig[oa]\s+)?(?:[\w'’-]+\s+){0,1}?"
    r"(?:president[ea]|primeir[oa][- ]ministr[oa]|primer[oa]?\s+ministr[oa]|ministr[oa]|embaixador(?:a)?|embajador(?:a)?"
    r"|enviad[oa]|chefe\s+de\s+(?:estado|governo|delega[cç][aã]o)|jef[ea]\s+de\s+(?:estado|gobierno|delegaci[oó]n)|representante)"
    r"(?:\s+(?:d[oa]|de(?:l|\s+la)?)\s+(?:UE|Uni[aã]o\s+Europeia|Uni[oó]n\s+Europea|Club\s+de\s+Madrid|(?-i:[A-Z][\w'’-]+)))?)",
    re.I,
)
_MEETINGS_PT_ES = re.compile(
    r"\b(?:(?:se\s+)?reunir(?:-se)?|reunirse|encontrar(?:-se)?|encontrarse|reuni(?:[oõ]es|ones)|encontros?)\s+(?:com|con)\s+"
    r"(.+?)(?:[.;]|\s+(?:sobre|acerca\s+d[eo]|para|a\s+fim\s+de)\s|$)",
    re.I,
)
_ARTICLE_PT_ES = re.compile(r"^(?:o|a|os|as|el|la|los|las|um|uma|un|una)\s+", re.I)
# Whom the visitor meets is not who travels: "…for meetings with the minister".
_COUNTERPART_BEFORE = re.compile(r"\b(?:meet(?:s|ing|ings)?|with|sees?|seeing|call(?:s|ing)?\s+on)\s*$", re.I)
_MONEY = re.compile(r"\b(?:budget support|funding|financing|grants?|loans?|(?:support|aid) (?:package|programme|program))\b", re.I)
_INSTITUTION_OF = re.compile(
    r"\b([A-Z][\w'’-]+)\s+(?:parliament|government|ministry|ministries|authorities|civil society|trade unions?|partners?)", re.I
)
_PURPOSE = re.compile(r"\b(?:in order to|so as to|with the aim of|aimed at|aiming to|the purpose is to|purpose:)\s+(.+?)(?:[.;]|$)", re.I)
# "…goes to Bishkek to meet MPs", "…wants to start a dialogue": what the visit is for, said after where or who
# goes, or after a wish. "how to pick a host" or "tied to a policy dialogue" are not purposes.
_PURPOSE_AFTER_VISIT = re.compile(
    r"(?:\b(?:goes|go|going|travels?|travell?ing|flying|flies|heading|visit(?:s|ing)?|mission|trip|wants?|plans?|planning|"
    r"hopes?|aims?|seeks?|intends?|asked|invited|week|month|tomorrow)|\b[A-Z][\w'’-]+)\s+to\s+"
    r"(?!(?:the|a|an|his|her|their|its|our|be|this|that)\b)([a-z][\w'’-]*(?:\s+[^.;:!?,]+)?)"
)
# The same in Portuguese and Spanish: "…vai a Chisinau para se reunir com…", "…quiere reunirse con…". A purpose
# starts with an infinitive ("reunir-se", "abrir"); "para o ministério" says for whom, not what for.
_PURPOSE_PT_ES = re.compile(
    r"\b(?:(?:vai|v[aã]o|viaja[mn]?|parte[mn]?|segue[mn]?|sigue[mn]?|ir[aá]|miss[aã]o|misi[oó]n|viagem|viaje|visita[mn]?)\b"
    r"[^.;]{0,60}?\b(?:para|a\s+fim\s+de|com\s+o\s+objetivo\s+de|con\s+el\s+(?:fin|objetivo)\s+de)"
    r"|\b(?:quer(?:em)?|quiere[n]?|pretende[mn]?|deseja[mn]?|desea[n]?|espera[mn]?))\s+"
    r"((?:se\s+)?[a-zà-ú]+(?:ar|er|ir|or)(?:-?se)?\b(?:\s+[^.;:!?]+)?)",
    re.I,
)
MAX_PURPOSE_WORDS = 14
# "a dialogue on rural land policy", "meet MPs on disability-inclusive employment", "the social justice dialogue".
_POLICY_ON = re.compile(
    r"\b(?:dialogues?|talks|round\s*tables?|roundtables?|conferences?|workshops?|reforms?|roadmaps?|committee|"
    r"meet(?:s|ing|ings)?\s+[^.;:,]{1,60}?)(?:\s+[\w'’-]+){0,3}?\s+(?:on|about|concerning|regarding)\s+"
    rf"(?!(?:the\s+)?(?:approach|plane|phone|record|ground|behalf|time|how|what|why|who|whether|{_WEEKDAYS}|\d)\b)"
    r"([^.;:,!?]+?)(?=\s*(?:[.;:,!?]|$|\s+(?:and\s+(?:how|what|who|why|on)|building|so\s+that|in\s+order)\b))",
    re.I,
)
_POLICY_ON_PT_ES = re.compile(
    r"\b(?:di[aá]logos?|conversas|mesas?\s+redondas?|confer[eê]ncias?|conferencias?|oficinas?|talleres?|reformas?|roteiros?"
    r"|hojas?\s+de\s+ruta|reuni\w*|encontr\w*)\b[^.;:]{0,60}?\s(?:sobre|acerca\s+d[eoa]s?|em\s+mat[eé]ria\s+de|en\s+materia\s+de)\s+"
    r"(?:(?:o|a|os|as|el|la|los|las)\s+)?([^.;:,!?]+?)(?=\s*(?:[.;:,!?]|$|\s+(?:e|y)\s+(?:como|qu[eé]|quem|qui[eé]n|com|con)\b|\s+para\b))",
    re.I,
)
_POLICY_DISCUSSED = re.compile(r"\bto\s+discuss\s+(?:the\s+)?([^.;:,!?]+?)(?=\s*(?:[.;:,!?]|$|\s+with\b))", re.I)
_POLICY_NAMED = re.compile(r"\bthe\s+((?:[a-z][\w'’-]*\s+){1,3}?)(?:dialogue|roadmap|reform)\b")
_NOT_POLICIES = {
    "policy", "inclusive", "participatory", "political", "national", "whole", "same", "stalled", "ongoing", "current",
    "multi-party", "this", "that", "high-level", "local", "first", "new", "next", "last", "mission", "the", "a", "an",
}
# What the request asks the briefing to cover: "Brief her on the approach, the donor's role and how to pick a host",
# "Need a briefing on what the government promised…", "Briefing for…: the data gap and how the host filled it".
_ASKED_ON = re.compile(
    rf"\bbrief(?:ing|s)?\b[^.:;]{{0,80}}?\s+on\s+(?!(?:the\s+)?(?:plane|ground|way|behalf|arrival|time|{_WEEKDAYS}|{_MONTHS}|\d)\b)"
    r"([^.;]+)",
    re.I,
)
_ASKED_AFTER_COLON = re.compile(r"\b(?:brief(?:ing)?|note)\b[^.:;]*:\s*([^.;?!]+)", re.I)
# A list of asks splits at commas, and at "and" only before a new ask ("…the donor's role and how to pick a host"),
# never inside one ("when government and civil society are at odds").
_NEXT_ASK = re.compile(r",\s*(?:and\s+)?|\s+and\s+(?=(?:on\s+)?(?:how|what|who|whom|why|where|when|whether|which|the|its|their)\b)", re.I)
# "What has INSPIRED done there?", "…: ¿qué pasó en Bolivia?" (not "Brief me on?").
_ASKED_OUTRIGHT = re.compile(r"(?:^|(?<=[.!?:]\s))¿?(?!brief)([^\W\d_][^.!?:¿]*\?)", re.I)
_STATEMENT = re.compile(r"^(?:I|we|you|he|she|they|it|this|there)\b", re.I)  # "…: we want to restart a dialogue"
MAX_QUESTIONS = 4
_DATE = re.compile(
    r"\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|\b\d{4}-\d{2}-\d{2}\b"
    rf"|\b(?:{_MONTHS})\s+\d{{1,2}}\b",
    re.I,
)
_PHASES = {
    "Collective assessment phase": ("collective assessment", "assessment phase", "participatory policy analysis"),
    "Consensus-building phase": ("consensus building", "consensus-building", "roadmap for reform"),
    "Monitoring and donor alignment phase": ("monitoring", "donor alignment"),
}


def _place(text: str) -> str | None:
    for pattern in (_STRONG_PLACE, _WEAK_PLACE):
        for match in pattern.finditer(text):
            name = match.group(1).strip()
            if not is_no_place(name):
                return name
    return None


def is_no_place(name: str) -> bool:
    """"the EU", "the Club de Madrid": capitalised names after "in" or "for" that are no mission's destination."""
    return fold(name) in _NOT_PLACES or fold(name).startswith("club ")


def _country_in_passing(text: str) -> str | None:
    """With no "visiting …": a country the request names ("…in Moldova"), or whose institutions it names ("the
    Mongolian parliament"); a visitor's nationality ("a Chilean former president") is not the mission's country."""
    named = countries_in(text) or [c for word in _INSTITUTION_OF.findall(text) for c in countries_in(word, demonyms=True)]
    return named[0] if named else None


def _meetings(text: str) -> list[str]:
    if match := _MEETINGS.search(text):
        parts = re.split(r",|\band\b|&", _WHEN_MET.sub("", match.group(1)))
        return [re.sub(r"^(?:the|a|an)\s+", "", p.strip(), flags=re.I) for p in parts if p.strip()]
    if match := _MEETINGS_PT_ES.search(text):
        parts = re.split(r",|\s+(?:e|y)\s+(?:(?:com|con)\s+)?", match.group(1))
        return [_ARTICLE_PT_ES.sub("", p.strip()) for p in parts if p.strip()]
    return []


def _travellers(text: str) -> str | None:
    """"Brief a former head of state visiting…", "I'm a former prime minister", else the first visitor the request
    names who is not someone met."""
    if match := _TRAVELLERS.search(text) or _SELF.search(text):
        return match.group(1).strip()
    met = [m.span(1) for pattern in (_MEETINGS, _MEETINGS_PT_ES) for m in pattern.finditer(text)]
    for pattern in (_VISITOR, _VISITOR_PT_ES):
        for match in pattern.finditer(text):
            among_met = any(begin <= match.start() < end for begin, end in met)
            if not among_met and not _COUNTERPART_BEFORE.search(text[: match.start()]):
                return re.sub(r"\s+", " ", match.group(1)).strip()
    return None


def _purpose(text: str) -> str | None:
    match = _PURPOSE.search(text) or _PURPOSE_AFTER_VISIT.search(text) or _PURPOSE_PT_ES.search(text)
    if not match:
        return None
    words = match.group(1).split()
    return " ".join(words[:MAX_PURPOSE_WORDS]).strip()


def _policy_area(text: str) -> str | None:
    """The policy the mission is about, in the request's words; None when it names none."""
    if match := _POLICY_ON.search(text) or _POLICY_DISCUSSED.search(text) or _POLICY_ON_PT_ES.search(text):
        return match.group(1).strip()
    for match in _POLICY_NAMED.finditer(text):
        words = match.group(1).split()
        if not set(map(fold, words)) & _NOT_POLICIES:
            return " ".join(words)
    return None


def request_questions(text: str) -> list[str]:
    """The questions a request asks the briefing to answer, in its own words and order (at most MAX_QUESTIONS)."""
    match = _ASKED_ON.search(text) or _ASKED_AFTER_COLON.search(text)
    listed = [re.sub(r"^(?:on|about)\s+", "", part.strip(), flags=re.I) for part in _NEXT_ASK.split(match.group(1))] if match else []
    asks = [ask for ask in listed if (len(ask.split()) >= 2 or ask.istitle()) and not _STATEMENT.match(ask)]
    asks += [question.rstrip("?").strip() for question in _ASKED_OUTRIGHT.findall(text)]
    return list(dict.fromkeys(asks))[:MAX_QUESTIONS]


def _phase(text: str) -> str | None:
    folded = fold(text)
    return next((phase for phase, cues in _PHASES.items() if any(cue in folded for cue in cues)), None)


def _country(place: str | None) -> str | None:
    """The country of the mission: "Tbilisi" stands for Georgia, whose name the guide uses; a place no country
    table knows stays as written."""
    named = countries_in(place) if place else []
    return named[0] if named else place


# "Onboarding brief for a new programme officer…": background for someone's work. Any sign of a visit or a
# meeting makes it a mission again.
_BACKGROUND = re.compile(
    r"\b(?:onboarding|induction|primer|newcomers?|new\s+to\b|background\s+(?:note|brief(?:ing)?)"
    r"|introduct(?:ion|ory)\s+(?:note|brief(?:ing)?)|new\s+(?:programme|program|project|country)\s+(?:officers?|managers?|staff|colleagues?))",
    re.I,
)
_VISIT = re.compile(
    r"\b(?:visit\w*|travel\w*|trips?|missions?|fl(?:y|ies|ying)|going\s+to|goes\s+to|heading\s+(?:to|for)|meet(?:s|ing|ings)?"
    r"|courtesy\s+call|vai\s+a|va\s+a|viaj\w*|reuni\w*|miss[aã]o|misi[oó]n)\b",
    re.I,
)
# The visitors the toolkit's high-level missions send: former heads of state or government (the Club de Madrid's
# members), or a request that calls the visit high-level itself.
_HIGH_LEVEL = re.compile(
    r"\b(?:former|ex-?)\s*(?:presidents?|prime\s+ministers?|premiers?|heads?\s+of\s+(?:state|government)|chancellors?|ministers?)\b"
    r"|\bclub\s+de\s+madrid\b|\bCdM\b|\bhigh[- ]level\s+(?:missions?|visits?|visitors?|envoys?|delegations?|figures?)\b"
    r"|\bex-?\s*president[ea]s?\b|\bantig[oa]s?\s+(?:president[ea]|primeir[oa][- ]ministr[oa])\b"
    r"|\bex-?\s*primer[oa]s?\s+ministr[oa]s?\b|\bmiss(?:[aã]o|[oõ]es)\s+de\s+alto\s+n[ií]vel\b|\bmisi(?:[oó]n|ones)\s+de\s+alto\s+nivel\b",
    re.I,
)


def is_high_level_visit(request: BriefingRequest) -> bool:
    """Whether the briefing is for a high-level mission; so is a request that says nothing of who it is for."""
    said = " ".join(filter(None, [request.request, request.travellers, request.purpose]))
    return not said.strip() or bool(_HIGH_LEVEL.search(said))


def complete_request(request: BriefingRequest) -> BriefingRequest:
    """Fill country, meetings, travellers, purpose, policy area and phase from the free text when not given."""
    text = request.request or ""
    return request.model_copy(
        update={
            "country": _country(request.country or _place(text)) or _country_in_passing(text),
            "meetings": request.meetings or _meetings(text),
            "travellers": request.travellers or _travellers(text),
            "purpose": request.purpose or _purpose(text),
            "policy_area": request.policy_area or _policy_area(text),
            "phase": request.phase or _phase(text),
        }
    )


def is_background_brief(request: BriefingRequest) -> bool:
    """Background for someone's work ("an onboarding brief for a new programme officer"), not a visit to prepare:
    there is no country, visitor, meeting or date to ask for."""
    text = request.request or ""
    return bool(_BACKGROUND.search(text)) and not (request.meetings or _VISIT.search(text) or is_high_level_visit(request))


def request_gaps(request: BriefingRequest) -> list[str]:
    """What the user must still supply; a briefing never fills these in itself."""
    gaps = []
    visit = not is_background_brief(request)
    if not request.country and visit:
        gaps.append("Country of the mission")
    if not request.travellers and visit:
        gaps.append("Who is travelling (name and role of the visitor)")
    if not request.purpose:
        gaps.append("Purpose of the mission: what the visit should achieve" if visit else "Purpose of the briefing")
    if not request.phase:
        gaps.append("Current phase of the dialogue process")
    if not request.policy_area:
        gaps.append("Policy area and topic under discussion")
    if request.meetings:
        gaps.append(f"Names and current posts of the people to be met ({', '.join(request.meetings)})")
    elif visit:
        gaps.append("Meetings planned: names and current posts of the counterparts the visitor will meet")
    if not _DATE.search(request.request or "") and visit:
        gaps.append("Dates and programme of the visit")
    if money := _MONEY.search(request.request or ""):
        gaps.append(f"Size and terms of the {money.group(0).lower()} under discussion")
    # The guide is a fixed text: whatever has changed since it was written has to come from the user.
    gaps += CURRENT_FACTS_GAPS
    return gaps
