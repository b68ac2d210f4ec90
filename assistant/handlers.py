"""What the chat does, as plain functions with no Chainlit in them, so each can be tested directly.

``app.py`` wires these to Chainlit: it turns the data returned here into messages, steps and
elements, and passes small ``ask`` callables in where a flow needs to put a question to the user.

Titles, passages and names in the Markdown built here are the guide's, a user's or a model's text:
each such function returns it through ``inert_markdown``, so none of it reaches the page as HTML.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from .compose.requests import complete_request, is_background_brief, is_no_place
from .export import MODE_LINES
from .models import Answer, Briefing, BriefingRequest, Citation, SearchHit, TalkingPoints, ToolAdvice
from .safety import inert_markdown, valid_unicode
from .settings import Settings, get_settings
from .sources.notes import NOTE_SUFFIXES

# -- modes (chat profiles) and their starters ---------------------------------------------------

ASK, BRIEFING, POINTS, TOOLS = "Ask the guide", "Mission briefing", "Talking points", "Which tool?"


class StarterSpec(BaseModel):
    label: str
    message: str


class ModeSpec(BaseModel):
    name: str
    description: str
    icon: str
    starters: list[StarterSpec]


def _starters(*pairs: tuple[str, str]) -> list[StarterSpec]:
    return [StarterSpec(label=label, message=message) for label, message in pairs]


MODES: list[ModeSpec] = [
    ModeSpec(
        name=ASK,
        description="Ask anything about running an inclusive policy dialogue; every answer cites the guide.",
        icon="/public/icons/ask.svg",
        starters=_starters(
            ("Getting everyone to the table", "How do I get civil society groups to take part when they distrust the ministry?"),
            ("The three phases", "What happens in each phase of the dialogue process, and how long does it take?"),
            ("Donors pulling together", "How can donors line up their support behind a reform plan that the country owns?"),
            ("Mapping who matters", "Why map the policy network, and what do I do with the map afterwards?"),
        ),
    ),
    ModeSpec(
        name=BRIEFING,
        description="Tell me where you are going and why; I draft a briefing you can download.",
        icon="/public/icons/briefing.svg",
        starters=_starters(
            (
                "Restarting a stalled dialogue",
                "Brief me for a week in Mozambique: we want to restart a stalled dialogue on teacher pay. "
                "I travel with a sector specialist; meetings with the education ministry, the teachers' union and two donors.",
            ),
            ("Launching a participatory analysis", "I'm going to Peru to launch a participatory analysis of water policy. What should I prepare?"),
            ("Agreeing a reform roadmap", "Country: Georgia. Purpose: agree next steps on a reform roadmap for vocational training."),
        ),
    ),
    ModeSpec(
        name=POINTS,
        description="Pick who you will talk to; I suggest points to make and why, with sources.",
        icon="/public/icons/points.svg",
        starters=_starters(
            ("A sceptical ministry", "What should I say to government officials who doubt that consultation is worth the time?"),
            ("Convincing donors", "Talking points for donors about aligning their programmes with a national roadmap."),
            ("Explaining the process", "How do I explain the dialogue process to civil society organisations at a first meeting?"),
        ),
    ),
    ModeSpec(
        name=TOOLS,
        description="Describe your situation; I point you to the guide's tools that fit it.",
        icon="/public/icons/tools.svg",
        starters=_starters(
            ("Priorities clash", "Stakeholders disagree on priorities and we need one plan everybody can sign."),
            ("Who influences whom", "We need to understand who shapes this policy and how they are connected."),
            ("Are we on track?", "We want to check whether the agreed recommendations are actually being carried out."),
            ("Hearing from the ground", "How can we collect the views of people affected by the reform before deciding?"),
        ),
    ),
]
MODE_NAMES = [mode.name for mode in MODES]


def mode_for(profile: str | None, text: str = "") -> str:
    """The chat profile's mode; a missing or unknown profile means plain questions, unless the message asks outright
    for talking points or a briefing ("Talking points for the donors…", "…Draft a two-page briefing.")."""
    mode = profile if profile in MODE_NAMES else ASK
    if mode == ASK:
        if _ASKS_FOR_POINTS.search(text) or _ASKS_FOR_POINTS_PT_ES.search(text):
            return POINTS
        if _ASKS_FOR_BRIEFING.search(text) or _ASKS_FOR_BRIEFING_PT_ES.search(text):
            return BRIEFING
    return mode


# A request, not a question about drafting: a sentence that opens by naming the draft ("Talking points for…",
# "Briefing note for…") or by ordering it ("Draft a briefing…", "Brief me."). "How do I prepare a briefing?" asks the guide.
_ORDER = (
    r"(?:^|[.!?:]\s+)(?:(?:can|could|would|will)\s+you\s+)?(?:please\s+|now\s+)?"
    # "I need talking points for…", "We'd like a briefing on…": a wish is an order too.
    r"(?:(?:(?:i|we)(?:\s+would\s+like|'d\s+like|’d\s+like|\s+need|\s+want)\s+(?:to\s+(?:have|get)\s+)?|(?:draft|write|prepare|give|make|need|want)\s+)"
    r"(?:me\s+|us\s+)?(?:an?\s+|the\s+|some\s+|a\s+few\s+)?(?:[\w-]+\s+){0,2}?)?"
)
_ASKS_FOR_POINTS = re.compile(
    _ORDER + r"(?:(?:talking\s+)?points\s+(?:for|to|on|about|ahead|before)\b|talking\s+points\b(?!\s+(?:is|are|should|work)\b))", re.I
)
_ASKS_FOR_BRIEFING = re.compile(
    _ORDER + r"(?:briefing(?:\s+note)?|mission\s+brief|brief)\s+(?:note\s+)?(?:for|on|ahead|before|about|to)\b"
    r"|(?:^|[.!?:]\s+)(?:please\s+)?brief\s+(?:me|him|her|them|us|our|my|the|an?)\b"
    # "Short briefing for…", "Onboarding brief for…": named with a word or two before it, and not asked about.
    r"|^(?:[\w-]+\s+){0,2}(?:briefing|brief)\s+(?:note\s+)?(?:for|on|ahead|before|about)\b(?![^?]*\?\s*$)"
    r"|(?:^|[.!?:]\s+)(?:(?:can|could|would|will)\s+you\s+)?(?:please\s+)?(?:draft|write|prepare)\s+(?:me\s+)?(?:an?\s+|the\s+)?(?:[\w-]+\s+){0,2}?(?:briefing|brief)\b",
    re.I,
)
# The same in Portuguese and Spanish: "Pontos de conversa para os sindicatos…", "Prepara una nota informativa para…".
_ORDER_PT_ES = (
    r"(?:^|[.!?:]\s+)¿?(?:(?:pode|podes|puede|puedes)\s+)?(?:por\s+favor,?\s+)?"
    r"(?:(?:prepar|redig|redij|redact|escrev|escrib|fa[zç]|haz|hag|d[aá]|dame|preciso|necesito|quero|quiero)\w*(?:-me|me)?\s+"
    r"(?:(?:de\s+)?(?:um|uma|uns|umas|un|una|unos|unas|o|a|os|as|el|la|los|las|alguns|algunos)\s+)?(?:[\w-]+\s+){0,2}?)?"
)
_POINTS_PT_ES = r"(?:pontos\s+(?:de\s+)?(?:conversa|fala|discuss[aã]o)|mensagens[- ]chave|puntos\s+(?:de\s+)?(?:conversaci[oó]n|discusi[oó]n)|puntos\s+clave|mensajes\s+clave)"
_ASKS_FOR_POINTS_PT_ES = re.compile(
    _ORDER_PT_ES + _POINTS_PT_ES + r"\s+(?:para|sobre|com|con|antes)\b", re.I
)
_ASKS_FOR_BRIEFING_PT_ES = re.compile(
    _ORDER_PT_ES + r"(?:briefing|nota\s+(?:informativa|de\s+briefing|de\s+informa[cç][aã]o|de\s+misi[oó]n|de\s+miss[aã]o))"
    r"\s+(?:para|sobre|antes)\b(?![^?]*\?\s*$)",
    re.I,
)


# -- chat settings -> composer arguments --------------------------------------------------------

Length = Literal["short", "normal", "long"]
LENGTHS: dict[str, str] = {"Short": "short", "Normal": "normal", "Long": "long"}
LANGUAGES: dict[str, str] = {"Same as my question": "auto", "English": "en", "Português": "pt", "Español": "es"}
DEFAULT_LENGTH: Length = "normal"


class ChatPreferences(BaseModel):
    length: Length = DEFAULT_LENGTH
    use_llm: bool = True
    language: str | None = None  # None: answer in the language of the question


def preferences_from_values(values: dict[str, Any] | None) -> ChatPreferences:
    """Chat settings as the UI sends them (unknown or missing values fall back to defaults)."""
    values = values or {}
    length = values.get("length")
    language = values.get("language")
    return ChatPreferences(
        length=length if length in LENGTHS.values() else DEFAULT_LENGTH,
        use_llm=bool(values.get("use_llm", True)),
        language=language if language in LANGUAGES.values() and language != "auto" else None,
    )


def ask_arguments(preferences: ChatPreferences, owner: str | None, llm_configured: bool) -> dict[str, Any]:
    """Keyword arguments for ``Composer.ask``/``astream_ask``."""
    return {
        "owner": owner,
        "length": preferences.length,
        "language": preferences.language,
        "use_llm": preferences.use_llm and llm_configured,
    }


# -- answers: sources, citation panels, retrieval summary ---------------------------------------

def heading_trail(citation: Citation) -> str:
    return " › ".join(h for h in citation.heading_path if h and h != citation.title)


def is_web_link(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def source_line(citation: Citation) -> str:
    trail = heading_trail(citation)
    label = f"**{citation.title}**" + (f" › {trail}" if trail else "")
    if citation.source_kind == "note":
        return f"- [{citation.n}] {label} · *your notes*"
    link = f" · [{citation.url}]({citation.url})" if is_web_link(citation.url) else ""
    return f"- [{citation.n}] {label}{link}"


def unique_citations(citations: Iterable[Citation]) -> list[Citation]:
    """One citation per marker number, in number order (the first one seen wins)."""
    seen: dict[int, Citation] = {}
    for citation in citations:
        seen.setdefault(citation.n, citation)
    return [seen[n] for n in sorted(seen)]


def sources_block(citations: Iterable[Citation]) -> str:
    lines = [source_line(c) for c in unique_citations(citations)]
    return inert_markdown("**Sources**\n\n" + "\n".join(lines)) if lines else ""


class CitationPanel(BaseModel):
    """A side panel for one citation; ``name`` equals the marker so Chainlit links ``[n]`` to it."""

    name: str
    content: str


def citation_panels(citations: Iterable[Citation]) -> list[CitationPanel]:
    panels = []
    for citation in unique_citations(citations):
        trail = heading_trail(citation)
        # The marker leads because Chainlit also opens a panel listing every passage of the chat.
        where = f"[{citation.n}] **{citation.title}**" + (f" › {trail}" if trail else "")
        if citation.source_kind == "note":
            footer = "*From your notes* (visible to you only)."
        elif is_web_link(citation.url):
            footer = f"[Open this page in the live guide]({citation.url})"
        else:
            footer = "*INSPIRED guide*"
        content = f"{where}\n\n{blockquote(citation.passage)}\n\n{footer}"
        panels.append(CitationPanel(name=f"[{citation.n}]", content=inert_markdown(content)))
    return panels


def blockquote(text: str) -> str:
    """Quote a passage paragraph by paragraph, re-flowing the line breaks inside each paragraph."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "\n>\n".join(f"> {p}" for p in paragraphs)


def read_as_note(typed: str, question: str) -> str | None:
    """"Read as: …" when the question's typos were put right before searching, so the user sees what was searched."""
    return None if question == valid_unicode(typed).strip() else f"Read as: “{question}”"


def retrieval_summary(hits: list[SearchHit], owner: str | None) -> str:
    """What the search found, for the "Searching the guide" step.

    Only the guide and ``owner``'s own notes are listed: the composer is shared by every session,
    so its record of the last search could in a race belong to someone else's request.
    """
    hits = [h for h in hits if h.chunk.source_kind != "note" or h.chunk.owner == owner]
    if not hits:
        return "Nothing in the guide matched closely enough."
    rows = ["| # | Page | Section | Score |", "|---|---|---|---|"]
    for rank, hit in enumerate(hits, 1):
        chunk = hit.chunk
        page = f"{chunk.title} (your notes)" if chunk.source_kind == "note" else chunk.title
        section = " › ".join(h for h in chunk.heading_path if h != chunk.title) or "—"
        rows.append(f"| {rank} | {_cell(page)} | {_cell(section)} | {hit.score:.3f} |")
    return inert_markdown("\n".join(rows))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def answer_markdown(answer: Answer) -> str:
    """The full reply: the composer's answer (it carries its own mode label and notice), then its sources."""
    parts = [answer.markdown.strip(), sources_block(answer.citations)]
    if answer.notice and answer.notice not in answer.markdown:
        parts.append(f"> **Note:** {answer.notice}")
    return inert_markdown("\n\n".join(p for p in parts if p))


# -- briefings ----------------------------------------------------------------------------------

SKIP_WORDS = {"skip", "no", "none", "n/a", "na", "-", "pass", "not sure", "nobody"}
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "country": ("country", "destination"),
    "purpose": ("purpose", "goal", "objective", "aim"),
    "travellers": ("who travels", "travellers", "travelers", "team", "delegation", "who is travelling"),
    "meetings": ("meetings", "meeting with", "meet"),
    "policy_area": ("policy area", "sector", "policy"),
    "phase": ("phase",),
}
_LABEL = re.compile(
    r"(?im)^\s*(" + "|".join(sorted({a for v in FIELD_ALIASES.values() for a in v}, key=len, reverse=True)) + r")\s*:\s*(.+?)\s*$"
)
_CAPITALISED = r"[A-ZÀ-Ý][\w'’.-]*(?:[ -](?:of|and|the|du|de|d'Ivoire|[A-ZÀ-Ý][\w'’.-]*))*"
_COUNTRY_CUE = re.compile(
    r"\b(?i:mission|trip|visit|travel(?:l?ing)?|going|headed|heading|flying|week|days?|notes?|briefing|brief me)"
    r"(?:\s+\w+){0,2}?\s+(?i:to|in|on|about|for)\s+(?:the\s+)?(" + _CAPITALISED + r")"
)
_TRAVELLERS = re.compile(r"\b(?:travell?ing with|I travel with|we travel with|team of)\s+(.+?)(?:[;.!?]|,? meetings?\b|$)", re.IGNORECASE)


def _one_statement_per_line(text: str) -> str:
    return text.replace(";", "\n").replace(". ", ".\n")


def split_labelled_fields(text: str) -> dict[str, str]:
    """``Country: Kenya`` style lines (or ``;``/sentence-separated parts) -> {"country": "Kenya"}."""
    fields: dict[str, str] = {}
    for match in _LABEL.finditer(_one_statement_per_line(text)):
        label, value = match.group(1).lower(), match.group(2).strip().rstrip(".")
        field = next(f for f, aliases in FIELD_ALIASES.items() if label in aliases)
        fields.setdefault(field, value)
    return fields


def trim_trailing_words(name: str) -> str:
    words = name.split()
    while words and words[-1].lower() in {"of", "and", "the", "du", "de"}:
        words.pop()
    return " ".join(words).rstrip(".")


def country_from_text(text: str) -> str | None:
    labelled = split_labelled_fields(text).get("country")
    if labelled:
        return labelled
    # "a briefing for the EU ambassador in Nairobi": the EU is no destination (Nairobi is, read by complete_request).
    places = (trim_trailing_words(match.group(1)) for match in _COUNTRY_CUE.finditer(text))
    return next((place for place in places if not is_no_place(place)), None)


GENERIC_FILE_WORDS = {"notes", "note", "country", "mission", "briefing", "brief", "draft", "final", "my", "our", "the", "on", "for", "about"}


def country_from_filename(name: str) -> str | None:
    """A guess from names like ``kenya-notes-2024.md``; only offered as a suggestion."""
    words = [w for w in re.split(r"[\s_.\-]+", Path(name).stem) if w]
    kept = [w for w in words if w.lower() not in GENERIC_FILE_WORDS and w.isalpha()]
    if not kept or len(kept) > 4:
        return None
    return " ".join(w if w.isupper() else w.capitalize() for w in kept)


def split_list(text: str) -> list[str]:
    parts = re.split(r",|;|\band\b|\n", text)
    return [p.strip(" .") for p in parts if p.strip(" .")]


def is_skip(reply: str | None) -> bool:
    return reply is None or not reply.strip() or reply.strip().lower().rstrip(".!") in SKIP_WORDS


def parse_briefing_request(text: str) -> BriefingRequest:
    """What a first message already says about the mission; missing fields are asked for later."""
    fields = split_labelled_fields(text)
    free_text = _LABEL.sub("", _one_statement_per_line(text)).strip()
    meetings_text = fields.get("meetings", "")
    travellers = fields.get("travellers") or (m.group(1).strip() if (m := _TRAVELLERS.search(text)) else None)
    # Then what the briefing itself reads from the text ("…goes to Bishkek" is a mission to Kyrgyzstan), so the
    # chat never asks for what the message says.
    request = complete_request(BriefingRequest(
        request=text.strip(),
        country=country_from_text(text),
        purpose=fields.get("purpose"),
        travellers=travellers,
        policy_area=fields.get("policy_area"),
        phase=fields.get("phase"),
        meetings=split_list(meetings_text),
    ))
    if not request.purpose and len(free_text.split()) >= 4:
        request = request.model_copy(update={"purpose": free_text})
    return request


@dataclass(frozen=True)
class Question:
    field: str
    prompt: str
    required: bool


BRIEFING_QUESTIONS = [
    Question("country", "Which **country** is the mission to?", True),
    Question("purpose", "What is the mission **for** – what should it achieve?", True),
    Question("travellers", "**Who is travelling** (roles rather than names)? Reply *skip* to leave it out.", False),
    Question("meetings", "**Whom will you meet?** List them separated by commas, or reply *skip*.", False),
]


def missing_questions(request: BriefingRequest) -> list[Question]:
    # Background for someone's work is no visit: there is no country, visitor or meeting to ask for.
    asked = [q for q in BRIEFING_QUESTIONS if q.field == "purpose"] if is_background_brief(request) else BRIEFING_QUESTIONS
    return [q for q in asked if not getattr(request, q.field)]


def apply_reply(request: BriefingRequest, field: str, reply: str | None) -> BriefingRequest:
    if is_skip(reply):
        return request
    value: Any = split_list(reply) if field == "meetings" else reply.strip()
    return request.model_copy(update={field: value})


class FlowCancelled(Exception):
    """The user did not answer a question the flow needs; str(e) says what to do."""


AskText = Callable[[str], Awaitable[str | None]]


async def complete_briefing_request(request: BriefingRequest, ask: AskText) -> BriefingRequest:
    """Ask only for what the first message left out; ``ask`` returns None on timeout."""
    for question in missing_questions(request):
        reply = await ask(question.prompt)
        if reply is None and question.required:
            raise FlowCancelled("No answer came, so I stopped here. Send your request again whenever you are ready.")
        request = apply_reply(request, question.field, reply)
    return request


def briefing_citations(briefing: Briefing) -> list[Citation]:
    return unique_citations(c for section in briefing.sections for c in section.citations)


def download_stem(kind: str, subject: str | None) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", (subject or "").lower()).strip("-")
    return f"{kind}-{slug}" if slug else kind


# -- talking points and tools -------------------------------------------------------------------


def topic_from_text(text: str) -> str | None:
    cleaned = text.strip()
    return cleaned if len(cleaned.split()) >= 3 else None


def with_markers(text: str, citations: list[Citation]) -> str:
    """Append ``[n]`` for citations the text does not already mark."""
    missing = [f"[{c.n}]" for c in unique_citations(citations) if f"[{c.n}]" not in text]
    return f"{text} {' '.join(missing)}" if missing else text


def points_citations(points: TalkingPoints) -> list[Citation]:
    return unique_citations(c for p in points.points for c in p.citations)


def tools_markdown(advice: ToolAdvice) -> str:
    items = [
        f"{i}. **Tool {t.number}: {t.name}** ({t.tool_type})  \n   {with_markers(t.why.strip(), t.citations)}"
        for i, t in enumerate(advice.tools, 1)
    ]
    body = "\n".join(items) or "None of the guide's tools fits this situation clearly; try describing it in more detail."
    notice = f"> **Note:** {advice.notice}" if advice.notice else ""
    parts = ["## Tools that fit your situation", body, sources_block(tools_citations(advice)), f"*{MODE_LINES[advice.mode]}*", notice]
    return inert_markdown("\n\n".join(p for p in parts if p))


def tools_citations(advice: ToolAdvice) -> list[Citation]:
    return unique_citations(c for t in advice.tools for c in t.citations)


# -- country notes uploads ----------------------------------------------------------------------


class UploadProblem(Exception):
    """A file that cannot become a note; str(e) is the message for the chat."""


def check_note_upload(name: str, size: int | None, max_mb: float) -> None:
    """Cheap checks before asking anything about the file (NoteStore re-checks the content)."""
    suffix = Path(name).suffix.lower()
    name = inert_markdown(name)  # shown in the chat
    if suffix not in NOTE_SUFFIXES:
        raise UploadProblem(
            f"“{name}” can't be used as a note: upload Markdown (.md), text (.txt), PDF (.pdf) or Word (.docx)."
        )
    if not size:
        raise UploadProblem(f"“{name}” is empty.")
    if size > max_mb * 1024 * 1024:
        raise UploadProblem(f"“{name}” is {size / 1048576:.1f} MB; the limit is {max_mb:g} MB.")


def country_question(filename: str) -> str:
    guess = country_from_filename(filename)
    hint = f" Reply *ok* to use “{guess}” (from the file name)," if guess else ""
    question = f"Which **country** are the notes in “{filename}” about?{hint} or reply *skip* if they cover no single country."
    return inert_markdown(question)


def country_from_reply(reply: str | None, filename: str) -> str | None:
    if is_skip(reply):
        return None
    if reply.strip().lower().rstrip(".!") in {"ok", "okay", "yes", "y"}:
        return country_from_filename(filename)
    return reply.strip()


# -- threads, limits, shared services -----------------------------------------------------------

HISTORY_TURNS = 6


def history_from_thread(thread: dict[str, Any]) -> list[tuple[str, str]]:
    """(question, answer) pairs of a resumed thread, read from the metadata our answers carry."""
    pairs = []
    for step in sorted(thread.get("steps") or [], key=lambda s: s.get("createdAt") or ""):
        metadata = step.get("metadata") or {}
        if isinstance(metadata, dict) and metadata.get("question") and metadata.get("answer"):
            pairs.append((metadata["question"], metadata["answer"]))
    return pairs[-HISTORY_TURNS:]


def remember(history: list[tuple[str, str]], question: str, answer: str) -> list[tuple[str, str]]:
    return [*history, (question, answer)][-HISTORY_TURNS:]


class RateLimiter:
    """At most ``per_minute`` requests per user in any 60 seconds."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self.clock = clock
        self._seen: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, user: str) -> bool:
        now = self.clock()
        seen = self._seen[user]
        while seen and now - seen[0] >= 60:
            seen.popleft()
        if len(seen) >= self.per_minute:
            return False
        seen.append(now)
        return True


def request_problem(text: str, settings: Settings) -> str | None:
    """Why a typed request can't be answered as it is, or None."""
    if len(text) > settings.max_question_chars:
        return f"That message is {len(text)} characters long; please keep it under {settings.max_question_chars}."
    return None


@dataclass
class Services:
    settings: Settings
    composer: Any
    notes: Any

    @property
    def llm_configured(self) -> bool:
        return bool(self.settings.llm)


log = logging.getLogger(__name__)
_services: Services | None = None
_services_lock = threading.Lock()


def get_services() -> Services:
    """One composer (models, index, BM25) per server process, built on first use."""
    global _services
    with _services_lock:
        if _services is None:
            from .compose import Composer
            from .notes import NoteStore
            from .retrieval import HybridRetriever

            settings = get_settings()
            retriever = HybridRetriever.from_settings(settings)
            _services = Services(settings=settings, composer=Composer(settings, retriever), notes=NoteStore(settings, retriever.index))
        return _services


def warm_up() -> None:
    """Load the index and the embedding model at start-up rather than on the first question."""
    try:
        get_services().composer.retriever.embed(["warm-up"])
    except Exception as exc:  # the first question reports it properly; here it is only logged
        log.warning("could not prepare the composer at start-up: %s", exc)
