"""The audiences talking points can be prepared for, and lenient matching of what users type."""

from __future__ import annotations

import re

from ..models import Chunk
from .drafting import ComposeError
from .text import fold, keywords

AUDIENCES: dict[str, str] = {
    "civil-society-organisations": "Civil society organisations",
    "political-parties": "Political parties",
    "public-administration": "Public administration",
    "parliaments": "Parliaments",
    "media": "Media",
    "social-agents": "Social agents",
    "national-human-rights-institutions": "National human rights institutions",
    "academia": "Academia",
    "democracy-support-organisations": "Democracy support organisations",
    "donors": "Donors",
    "partner-government": "The partner government",
    "dialogue-host": "The dialogue host",
}

_ALIASES = {
    "civil society": "civil-society-organisations", "cso": "civil-society-organisations", "csos": "civil-society-organisations",
    "ngo": "civil-society-organisations", "ngos": "civil-society-organisations",
    "parties": "political-parties",
    "administration": "public-administration", "civil servants": "public-administration",
    "parliament": "parliaments", "mps": "parliaments", "members of parliament": "parliaments", "legislature": "parliaments",
    "press": "media", "journalists": "media",
    "trade unions": "social-agents", "unions": "social-agents", "employers": "social-agents", "social partners": "social-agents",
    "nhri": "national-human-rights-institutions", "nhris": "national-human-rights-institutions", "ombudsman": "national-human-rights-institutions",
    "universities": "academia", "researchers": "academia", "think tanks": "academia",
    "donor": "donors", "development partners": "donors",
    "government": "partner-government", "ministers": "partner-government", "ministry": "partner-government",
    "host": "dialogue-host",
    # Who users actually meet, by the audience the guide would file them under.
    "inspectorate": "public-administration", "labour inspectorate": "public-administration",
    "statistics office": "public-administration", "statistical office": "public-administration",
    "civil service": "public-administration", "public servants": "public-administration", "agency": "public-administration",
    "ombudsperson": "national-human-rights-institutions", "human rights commission": "national-human-rights-institutions",
    "human rights institution": "national-human-rights-institutions",
    "eu delegation": "donors", "development agency": "donors", "embassy": "donors", "funders": "donors", "foundation": "donors",
    "chief of staff": "partner-government", "cabinet": "partner-government", "presidency": "partner-government",
    "community groups": "civil-society-organisations", "women rights groups": "civil-society-organisations",
    "disabled people organisations": "civil-society-organisations", "dpos": "civil-society-organisations",
    "advocacy groups": "civil-society-organisations", "grassroots organisations": "civil-society-organisations",
    "business associations": "social-agents", "employers federation": "social-agents", "chamber of commerce": "social-agents",
    "private sector": "social-agents",
    "party": "political-parties", "political party": "political-parties", "opposition": "political-parties",
    "university": "academia", "academics": "academia", "research institute": "academia",
    "reporters": "media", "editors": "media",
    "parliamentary": "parliaments", "parliamentarians": "parliaments",
    "activists": "civil-society-organisations", "campaigners": "civil-society-organisations",
    "rights groups": "civil-society-organisations", "rights network": "civil-society-organisations",
    "rights organisations": "civil-society-organisations", "youth organisations": "civil-society-organisations",
    # Portuguese and Spanish: the guide has those versions, and users name their audience in them.
    "sociedade civil": "civil-society-organisations", "sociedad civil": "civil-society-organisations",
    "ong": "civil-society-organisations", "ongs": "civil-society-organisations",
    "organizacoes da sociedade civil": "civil-society-organisations", "organizaciones de la sociedad civil": "civil-society-organisations",
    "partidos": "political-parties", "partidos politicos": "political-parties", "oposicao": "political-parties", "oposicion": "political-parties",
    "administracao publica": "public-administration", "administracion publica": "public-administration",
    "funcionarios publicos": "public-administration", "funcionarios": "public-administration",
    "parlamento": "parliaments", "parlamentos": "parliaments", "deputados": "parliaments", "diputados": "parliaments",
    "comissao parlamentar": "parliaments", "comision parlamentaria": "parliaments",
    "imprensa": "media", "prensa": "media", "jornalistas": "media", "periodistas": "media",
    "meios de comunicacao": "media", "medios de comunicacion": "media",
    "sindicatos": "social-agents", "empregadores": "social-agents", "empleadores": "social-agents",
    "parceiros sociais": "social-agents", "interlocutores sociales": "social-agents", "agentes sociales": "social-agents",
    "provedor de justica": "national-human-rights-institutions", "defensor del pueblo": "national-human-rights-institutions",
    "defensoria del pueblo": "national-human-rights-institutions",
    "universidades": "academia", "investigadores": "academia", "pesquisadores": "academia", "academicos": "academia",
    "doadores": "donors", "donantes": "donors", "financiadores": "donors", "delegacao da ue": "donors", "delegacion de la ue": "donors",
    "governo": "partner-government", "gobierno": "partner-government", "ministerio": "partner-government",
    "ministros": "partner-government", "ministras": "partner-government",
    "anfitriao": "dialogue-host", "anfitrion": "dialogue-host", "anfitriao do dialogo": "dialogue-host",
    "anfitrion del dialogo": "dialogue-host",
}


class UnknownAudience(ComposeError):
    """str(e) lists the audiences on offer."""


def _normal(text: str) -> str:
    text = re.sub(r"[-_\s]+", " ", fold(text)).strip()
    return re.sub(r"^the ", "", text)


_LOOKUP = {
    **{_normal(alias): key for alias, key in _ALIASES.items()},
    **{_normal(name): key for key, name in AUDIENCES.items()},
    **{_normal(key): key for key in AUDIENCES},
}


def resolve_audience(text: str) -> str:
    """Canonical key for "parliaments", "Parliament", "the partner government", "NHRIs", "civil_society"…"""
    wanted = _normal(text or "")
    for candidate in (wanted, wanted.rstrip("s"), f"{wanted}s"):
        if candidate in _LOOKUP:
            return _LOOKUP[candidate]
    raise UnknownAudience(f"Unknown audience {text!r}. Choose one of: {', '.join(AUDIENCES)}.")


def find_audience(text: str) -> str:
    """resolve_audience, or else the one audience a longer name holds ("university researchers": academia)."""
    try:
        return resolve_audience(text)
    except UnknownAudience:
        if (named := audience_named_in(text)) is not None:
            return named
        raise


def is_audience_page(chunk: Chunk, key: str) -> bool:
    """The guide's own page on this stakeholder ("Parliaments", "The Donor(s)"…), in any section of it."""
    return chunk.source_kind == "guide" and _names_audience(chunk.title, key)


def is_audience_role_page(chunk: Chunk, key: str) -> bool:
    """A page under the audience's own ("Convening the key stakeholders", one of the Dialogue Host's roles)."""
    return chunk.source_kind == "guide" and bool(chunk.breadcrumb) and _names_audience(chunk.breadcrumb[-1], key)


def _names_audience(title: str, key: str) -> bool:
    """The title is the audience's name ("The Donor(s)"), not one that mentions it ("Monitoring and Donor Alignment Phase")."""
    wanted = set(keywords(AUDIENCES[key]))
    return bool(wanted) and wanted == set(keywords(title))


def _tokens(text: str) -> list[str]:
    # "the parliament's committee" names parliaments: a possessive is not part of the name.
    return [re.sub(r"['’]s$", "", token) for token in re.findall(r"[\w'’-]+|[,;:&]", text or "")]


def _named_spans(tokens: list[str]) -> list[tuple[int, int, str]]:
    """(start, end, audience) of every run of one to four words that is an audience's name or alias, in text order;
    the longest run wins where runs overlap."""
    spans: list[tuple[int, int, str]] = []
    for size in range(4, 0, -1):
        for start in range(len(tokens) - size + 1):
            run = tokens[start:start + size]
            if any(not t[0].isalnum() for t in run) or any(s <= start and start + size <= e for s, e, _ in spans):
                continue
            try:
                spans.append((start, start + size, resolve_audience(" ".join(run))))
            except UnknownAudience:
                continue
    return sorted(spans)


def audiences_named_in(text: str) -> list[str]:
    """Every audience a text names, in the order it names them."""
    return list(dict.fromkeys(key for _, _, key in _named_spans(_tokens(text))))


def audience_named_in(text: str) -> str | None:
    """The audience a text names ("…to government officials…"), else None: every run of one to four words is
    tried as an audience's name or alias. Of several, the one the points are "for" ("points for the dialogue host:
    what the role asks of our partner NGO"), unless another is named beside it ("for donors and journalists")."""
    tokens = _tokens(text)
    spans = _named_spans(tokens)
    keys = {key for _, _, key in spans}
    if len(keys) <= 1:
        return keys.pop() if keys else None
    fors = [i for i, token in enumerate(tokens) if token.lower() in ("for", "para")]
    after = [span for span in spans if fors and span[0] > fors[0]]
    if not after:
        return None
    start, end, key = after[0]
    coordinated = any(
        other != key and tokens[end].lower() in {"and", "or", ",", "&", "e", "y", "ou", "o"} and other_start in (end + 1, end + 2)
        for other_start, _, other in spans
    ) if end < len(tokens) else False
    return None if coordinated else key
