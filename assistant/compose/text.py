"""Plain-text helpers for composing: Markdown clean-up, sentence splitting, keywords, injection checks."""

from __future__ import annotations

import re
import unicodedata


# GitBook template tags ({% hint style="info" %} … {% endhint %}); the text between them is kept.
_GITBOOK_TAG = re.compile(r"{%-?\s*/?\s*\w+[^%]*-?%}")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_TABLE_ROW = re.compile(r"^\s*\|")
_BOLD_LINE = re.compile(r"^\s*\*\*[^*]+\*\*\s*:?\s*$")
# "**Rationale**" is a label; "**Each phase … produces a different result.**" is the page's key sentence, in bold.
_BOLD_SENTENCE = re.compile(r"^\s*\*\*(?:[^*\s]+\s+){7,}[^*]*[.!?…][\"”’)]*\*\*\s*$")
_LIST_MARK = re.compile(r"^\s*(?:[-*+•]|\d{1,2}[.)]|[a-z][.)])\s+")
_QUOTE_MARK = re.compile(r"^\s*>\s?")
_HINT_LABEL = re.compile(r"^(?:Info|Warning|Danger|Success|Tip|Note):\s*", re.I)

_ABBREVIATIONS = {"e.g.", "i.e.", "etc.", "vs.", "cf.", "mr.", "mrs.", "ms.", "dr.", "no.", "art.", "approx.", "p.", "pp.", "sr.", "sra.", "ex."}
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’)\]]*\s+(?=[\"“‘(¿¡]?[A-ZÀ-ÝА-Я0-9])")
_GOOD_END = re.compile(r"[.!?…][\"”’)\]]*$")
_CUT_OFF = re.compile(r"\s(?:[–—-]\s+)?…[\"”’)\]]*$")  # "…fixed in advance …": the page breaks off there
_GOOD_START = re.compile(r"^[\"“‘(¿¡]?[A-ZÀ-ÝА-Я0-9]")

# "Type of tool: Trust building." and "Structure – the elements of…" are labels and index entries, not prose;
# "Process: as said before, …" (a long value) and "X – aside – y" (a paired dash) are kept.
_LABEL_START = re.compile(r"^(?:\S+\s+){0,3}\S+\s*:\s")
_TERM_DASH_START = re.compile(r"^(?:\S+\s+){0,3}\S+\s+[–—]\s")
MAX_LABEL_VALUE_WORDS = 8

# "This section looks at…", "Each sub-page describes…": sentences about the website's layout, not its advice.
_SIGNPOST = re.compile(
    r"\b(?:this|the following|the next|each|every) (?:section|sub-?page|page|chapter)s?\b|\bsub-?pages?\b"
    r"|\b(?:esta|este|cada) (?:secci[oó]n|se[cç][aã]o|p[aá]gina|subp[aá]gina)\b",
    re.I,
)

MIN_SENTENCE_WORDS = 6
MAX_SENTENCE_WORDS = 90

# Text that addresses an AI model rather than a reader of the guide: never quoted, never obeyed.
_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.?!\n]{0,40}\b(?:instructions?|prompts?|rules|guidelines|context)\b"
    r"|\byou are now\b|\bsystem prompt\b|\bdeveloper mode\b|\bjailbreak|\bact as (?:an?|the) (?:ai|assistant|model|chatbot)\b"
    r"|\b(?:pretend|roleplay) (?:to be|you are)\b|\breveal (?:your|the) (?:instructions|prompt)\b"
    r"|\bignor(?:e|a|ar|e as|a las) (?:as |las |todas |todas as )?instru[cç]"
    r"|\bpretend (?:that |the guide|you)|^\W*system\s*:|#+\s*system\b|\bnew rules\s*[:\-–]|\bagent instructions\b"
    r"|\bapi keys?\b|\benvironment variables\b",
    re.I | re.M,
)
# The guide is a fixed text: it never knows today's news, prices, weather or who holds office now.
_LIVE_FACTS = re.compile(
    r"\b(?:tonight|tomorrow|yesterday|right now|this (?:week|month)|amanh[aã]|agora mesmo|mañana|ahora mismo|latest news|exchange rate|weather"
    r"|who won|who is the current|current (?:minister|president|prime minister|government|speaker)"
    # A country's figures of the day; "the state budget" in general is method and stays answerable.
    r"|(?:current|this year'?s|latest) (?:\w+ ){0,3}?(?:budget|spending|funding|figures|statistics|unemployment|inflation|polls?)"
    # Contact details and money amounts: a guide on method states neither.
    r"|phone number|(?:street|home|office|postal|e-?mail) address|how much money|by how much|in (?:euros|dollars)|daily fee|salar(?:y|ies)"
    r"|how much (?:\w+ ){0,6}(?:cost|give|gave|pay|paid|spend|spent|donate|donated|contribute|contributed)|how (?:big|large) (?:\w+ ){0,2}(?:is|was) (?:[\w'-]+ ){0,5}budget"
    # Dates of calls and applications: a guide on method keeps no calendar ("deadlines" in a roadmap stay answerable).
    r"|(?:the|next|application|submission) deadline (?:for|of|to)|deadline for (?:the )?(?:next|applications?|submissions?)"
    # Who holds an office, and what happened or will happen in a given month or year.
    r"|who (?:is|are|was|were) (?:the |[\w-]+'s )?(?:current |new |present |former |ex-?|previous |last )?(?:prime minister|president|ministers?|speaker|ambassador"
    r"|head of (?:state|government)|mayor|governor)|predict|forecast"
    # Who holds a named organisation's post: "Who heads the EU Delegation…?", "Who is EPD's executive director?"
    r"|who (?:is|are|heads|leads|runs|directs)\b[^?]{0,40}\b(?:director|secretary[- ]general|delegation|ambassador|commissioner"
    r"|spokesperson|chair(?:man|woman|person)? of the \w+ (?:committee|board|council))"
    # What happened lately is news; a mission "next month" is a plan and stays answerable.
    r"|(?:did|was|were|happened|resigned|said|say|voted?|passed)\b[^?]{0,60}\b(?:this|last) (?:week|month|year|spring|summer|autumn|winter)"
    # "…the Georgian parliament now?", "…approved the law yet?": the state of things today.
    r"|who\b[^?]{0,80}\bnow(?=\s*\?)|(?:has|have|did)\b[^?]{0,80}\byet(?=\s*\?)|(?:who|which \w+) (?:is|are) currently"
    r"|current (?:status|state|situation|composition|members|membership|leadership)|leads? (?:in )?the polls|opinion polls? (?:show|say)"
    # Which people hold a view or a seat today: "Name the Moldovan deputies who oppose the reform."
    r"|\bname (?:the|all|some|a few) (?:[\w'-]+ ){0,3}?(?:deputies|MPs|members of parliament|parliamentarians|senators|ministers"
    r"|officials|politicians|opponents|opposition leaders) (?:who|that) (?:oppose|opposed|support|supported|back|backed|voted"
    r"|vote|sit|sat|hold|held|are|were|signed|blocked|block)"
    r")\b",
    re.I,
)

# Facts about the world that a guide on method never states: a country's statistics, what its politics will
# bring, and errands or writing that have nothing to do with the guide.
_WORLD_FACTS = re.compile(
    r"\b(?:gdp|gross domestic product|per capita|population (?:of|size)|how many (?:people|inhabitants) (?:live|are there)"
    r"|(?:unemployment|inflation|poverty|literacy|growth) rate|(?:unemployment|inflation) (?:figures|statistics)"
    r"|life expectancy|who will win|next (?:general |presidential |parliamentary )?elections?|election results?|opinion polls?"
    r"|(?:will|going to)\b[^?.]{0,60}\b(?:win|lose|sanction|be elected|resign|invade|default|pass|adopt|join|hold (?:\w+ )?elections?"
    r"|be dissolved|dissolve|be impeached|step down)"
    r"|(?:early|snap|upcoming|recent|last) (?:\w+ )?elections?"
    r"|(?:annual|yearly) budget|budget (?:for|in) (?:19|20)\d\d"
    r"|(?:next|upcoming|open) (?:[\w+-]+ ){0,2}(?:calls? for (?:proposals|applications|funding)|funding rounds?|grant rounds?)"
    r"|when (?:is|does|will) the next (?:[\w+-]+ ){0,2}(?:call|round)"
    r"|(?:write|draft|compose|make) (?:me )?an? (?:[\w-]+ ){0,2}?(?:poem|song|story|joke|limerick|haiku|rap|sonnet)|tell me a joke|sing (?:me |us )?(?:a|an|something|some)"
    # What an institution will do next, and when: a guide on method keeps no calendar.
    r"|when (?:will|is) (?:the )?(?:EU|European (?:Union|Commission|Parliament)|Commission|Council|EPD|UN|World Bank|government|ministry|parliament)"
    r" (?:going to )?(?:publish|release|announce|adopt|launch|present)"
    r"|recommend (?:me )?an? (?:hotel|restaurant|bar)|book (?:me )?(?:a|my) (?:flight|hotel|table|room)"
    r"|exchange rates?|convert\s+[$€£]?\d[\d.,]*\s*\w*\s+(?:to|into|in))\b",
    re.I,
)
# "How many…?" is answered by a figure: an extract without one does not answer it. ("How much room for manoeuvre…"
# is seldom a figure.)
_ASKS_FOR_A_NUMBER = re.compile(
    r"\bhow many\b|\bwhat (?:percentage|proportion|share|number|amount)\b|\bquant[oa]s\b|\bcu[aá]nt[oa]s\b", re.I
)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_COUNTED = re.compile(r"\bhow many\s+([\w-]+)(?:\s+([\w-]+))?", re.I)
_STATES_A_NUMBER = re.compile(
    r"\d|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|sixty|hundreds?"
    r"|thousands?|millions?|billions?|dozens?|dois|duas|três|quatro|cinco|dos|tres|cuatro)\b",
    re.I,
)


_STOPWORD_TEXT = """
    a an the and or but if of to in on at by for with from into about as is are was were be been being am do does did
    what which who whom whose when where why how this that these those it its they them their there here we our you your
    i me my he she his her can could should would will shall may might must not no yes so than then also just very more most
    any some such each other between within without over under up down out only own same too s tell explain describe give
    please guide inspired according say says said mean means
    o os as um uma uns umas de do da dos das em no na nos nas por para com sem que qual quais quem como onde quando porque
    e ou se é são ser foi eram está estão ao aos à às pelo pela pelos pelas seu sua seus suas isso isto este esta esse essa
    el la los las un una unos unas del al en por para con sin que cual cuales quien quienes como donde cuando porque y u
    es son ser fue era está están su sus eso esto este esta ese esa lo le les se
"""


# The guide's names for its roles and products, as users shorten them ("the host", not "the host country").
_SHORT_HOST = re.compile(r"(?<!dialogue )\b(hosts?)\b(?!\s+(?:country|countries|nation|city|cities|government)\b)", re.I)


# Envoys name the visitor ("a former president", "an ex-prime minister"); the guide speaks of high-level political figures.
_FORMER_LEADER = re.compile(
    r"\b(?:a |an |the )?(?:former|ex-?)\s*(?:president|prime minister|premier|head of (?:state|government)|leader)(s?)\b", re.I
)


def with_guide_terms(text: str) -> str:
    """"how to pick a host" as the guide would put it: "how to pick a dialogue host"; "a former president" as
    "a high-level political figure"."""
    return visitors_in_guide_terms(_SHORT_HOST.sub(r"dialogue \1", text))


def visitors_in_guide_terms(text: str) -> str:
    """"What can go wrong when a former president joins?" as the guide would put it ("a high-level political figure").
    Unlike "the host", this changes what a question finds, not only how surely."""
    return _FORMER_LEADER.sub(lambda m: f"high-level political figure{m.group(1)}", text)


# The same, asked in Portuguese or Spanish.
_LIVE_FACTS_PT_ES = re.compile(
    r"\b(?:ontem|ayer|[uú]ltimas not[ií]cias|not[ií]cias de (?:hoje|hoy)|previs[aã]o do tempo|pron[oó]stico del tiempo"
    r"|(?:vai|va a) (?:chover|llover)|llover[aá]|chover[aá]|taxa de c[aâ]mbio|tipo de cambio|cota[cç][aã]o d\w+"
    r"|quem ganhou|qui[eé]n gan[oó]|(?:atual|actual)(?:es)? (?:ministr[oa]s?|president[ea]|primeir[oa][- ]ministr[oa]"
    r"|primer[oa] ministr[oa]|governo|gobierno|embaixador|embajador)"
    r"|(?:quem|qui[eé]n(?:es)?) (?:[ée]|es|s[aã]o|son|foi|fue|foram|fueron) (?:o |a |os |as |el |la |los |las )?"
    r"(?:atual |actual |nov[oa] |nuev[oa] |ex-?\s*|antig[oa] |antigu[oa] |anterior )?"
    r"(?:ministr[oa]s?|president[ea]|primeir[oa][- ]ministr[oa]|primer[oa] ministr[oa]|embaixador[a]?|embajador[a]?|diretor[a]?"
    r"|director[a]?|chefe|jefe|alcalde|prefeit[oa]|governador[a]?|gobernador[a]?)"
    # Contact details, money, calendars and opening hours.
    r"|(?:e-?mail|correo(?:\s+electr[oó]nico)?|tel[eé]fono|telefone|whatsapp|contacto|contato)(?:\s+(?:direto|directo|pessoal|personal))?\s+(?:d[eoa]s?|del|dess[ea]|dest[ea])\b"
    r"|dados de contato|datos de contacto|morada d\w+|endere[cç]o d\w+|direcci[oó]n de correo"
    r"|(?:quem|qui[eé]n)\b[^?]{0,30}\b(?:hoje|hoy|atualmente|actualmente)|(?:quem|qui[eé]n)\b[^?]{0,80}\b(?:agora|ahora)(?=\s*\?)"
    r"|(?:qu[eé]|que|qual [ée] a|cu[aá]l es la) probabilidad\w*|(?:possibilidades?|posibilidades?|chances?) de que"
    r"|quanto dinheiro|cu[aá]nto dinero|quanto (?:custa|custou|recebe|ganha|gastou|deu)|cu[aá]nto (?:cuesta|cost[oó]|gana|gast[oó]|dio|recibe)"
    r"|sal[aá]rios?|or[cç]amento (?:\w+ ){0,4}(?:deste ano|este ano|(?:de |em )?20\d\d)|presupuesto (?:\w+ ){0,4}(?:de este año|este año|(?:de |en )?20\d\d)"
    r"|hor[aá]rios? de (?:funcionamento|atendimento|abertura|atenci[oó]n|apertura)|(?:a )?que horas? (?:abre|fecha|cierra)"
    r"|a qu[eé] hora (?:abre|cierra)|pr[oó]xim[oa]s? (?:convocat[oó]rias?|concursos?|candidaturas|rondas?|prazos?|plazos?)"
    r"|em que data|en qu[eé] fecha|qual (?:[ée] )?a data|cu[aá]l es la fecha"
    # What was said or done lately, and what this year brings.
    r"|(?:semana|m[eê]s|ano|año) pasad[oa]|(?:semana|m[eê]s|ano) passad[oa]|este (?:año|ano)|neste ano|deste ano"
    r"|pron[oó]stic\w*|previs[aã]o (?:sobre|de que|para)|predicci[oó]n"
    r"|prazo (?:para|de) (?:candidatura|inscri[cç]\w*)|plazo (?:para|de) (?:presentaci[oó]n|solicitud|postulaci[oó]n|inscripci[oó]n))\b",
    re.I,
)
_WORLD_FACTS_PT_ES = re.compile(
    r"\b(?:pib|produto interno bruto|producto interno bruto|per c[aá]pita|taxa de (?:desemprego|infla[cç][aã]o|pobreza|crescimento)"
    r"|tasa de (?:desempleo|paro|inflaci[oó]n|pobreza|crecimiento)|[ií]ndice de (?:desemprego|desempleo|pobreza)"
    r"|popula[cç][aã]o d\w+|poblaci[oó]n d\w+|quantos habitantes|cu[aá]ntos habitantes|esperan[cç]a de vida|esperanza de vida"
    # What an election or a vote will bring.
    r"|(?:quem|qui[eé]n) (?:vai|va a) (?:ganhar|vencer|ganar)|(?:ganhar|vencer|ganar)[aá]n?\b[^?.]{0,60}(?:elei[cç]|elecci)\w*"
    r"|pr[oó]xim[oa]s? (?:elei[cç][oõ]es|elecciones)|elei[cç][oõ]es (?:antecipadas|do pr[oó]ximo)|elecciones (?:anticipadas|del pr[oó]ximo)"
    r"|resultados? (?:das|de las) (?:elei[cç][oõ]es|elecciones)|sondage(?:m|ns)|encuestas? (?:electoral|de intenci[oó]n)"
    r"|(?:vai|va a|ir[aá]) (?:aderir|entrar|ingressar|ingresar|unir(?:-?se)?)\b[^?.]{0,40}\b(?:ue|uni[aãó]o europeia|uni[oó]n europea|otan|nato)"
    # Errands and writing that have nothing to do with the guide.
    r"|rece(?:i)?tas? de (?!(?:\w+ )?(?:fiscal|tribut|imposto|impuesto|estado|p[uú]blic|sucesso|[eé]xito))"
    r"|rece(?:i)?tas? (?:de |para )[^?.]{0,40}\b(?:servir|comer|cozinhar|cocinar|almo[cç]o|almuerzo|jantar|lanche|intervalo|pessoas|personas)\b|(?:escreve|escreva|escrever|escribe|escriba|escribir|comp[oõ]e|comp[oó]n|faz|haz)(?:-me|me)? "
    r"(?:um|uma|un|una) (?:poema|poesia|can[cç][aã]o|canci[oó]n|hist[oó]ria|historia|cuento|conto|piada|chiste|soneto|rap)"
    r"|(?:conta|cuenta|conte|cu[eé]ntame|conta-me|me conta)(?: me)? (?:um|uma|un|una) (?:piada|chiste)"
    r"|tradu(?:z|za|ce|zca|zir|cir)(?:-me|me)? (?:esta|este|esse|essa|a|la|o|el|um|uma|un|una|mi|minha|meu) (?:carta|texto|e-?mail|correo|documento|mensagem|mensaje|frase|discurso)"
    r"|tradu\w+\b[^?.]{0,30}?\b(?:para|pra|pro|al|en|a)\s+(?:o\s+|el\s+)?(?:ingl|franc|espanh|espa[nñ]|portugu|rom|rum|alem|ital|russ|rus|chin|[aá]rab|turc|georgi|armen|mongol)\w*"
    r"|(?:va a haber|vai haver|haver[aá]|habr[aá])\b[^?.]{0,60}\b(?:protest|huelg|greve|elei[cç]|elecci|crisis|crise|golpe|guerra)\w*"
    r"|(?:res[eé]rv|recom[eé]nd|recomi[eé]nd)\w*(?:-me)?\b[^?.]{0,20}\b(?:voo|vuelo|hotel|quarto|habitaci[oó]n|restaurante|bar)"
    r"|futebol|f[uú]tbol|(?:resultado|placar|marcador) do jogo|(?:resultado|marcador) del partido"
    r"|(?:c[oó]digo|script|programa) (?:em|en) (?:python|javascript|java)|(?:qual|cu[aá]l) (?:[ée]|es) (?:a |la )?capital d\w+)\b",
    re.I,
)


def asks_for_live_facts(question: str) -> bool:
    """Questions about the news of the day, prices, weather or current office-holders."""
    asked = asking_part(question)
    return bool(_LIVE_FACTS.search(asked) or _LIVE_FACTS_PT_ES.search(asked))


def asks_about_the_world(question: str) -> bool:
    """Questions on a country's statistics or political future, and requests unrelated to the guide."""
    asked = asking_part(question)
    return bool(_WORLD_FACTS.search(asked) or _WORLD_FACTS_PT_ES.search(asked))


# What a user tells or asks the assistant to do: "Write me a poem…", "Dame el teléfono…", "Ignore…".
_REQUEST = re.compile(
    r"^(?:please\s+|por\s+favor,?\s+)?(?:write|tell|give|book|recommend|translate|convert|sing|compose|draft|make|list|name|send|find|"
    r"show|predict|forecast|ignore|escrev\w*|diga|diz|d[eê]|dá|traduz\w*|recomend\w*|reserv\w*|escrib\w*|dime|dame|traduc\w*|"
    r"recomiend\w*|busca\w*|procura\w*)\b",
    re.I,
)


def asking_part(text: str) -> str:
    """The question without the statements that set it up: in "The minister resigned last month. How do we restart
    the dialogue?" the news is the user's context, not what they ask. The last sentence, every question and every
    request stay."""
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    if len(sentences) < 2 or not any(s.rstrip().endswith("?") for s in sentences):
        return text
    return " ".join(s for s in sentences[:-1] if s.rstrip().endswith("?") or _REQUEST.match(s)) + " " + sentences[-1]


def years_in(text: str) -> list[str]:
    return _YEAR.findall(text)


def asks_for_a_number(question: str) -> bool:
    return bool(_ASKS_FOR_A_NUMBER.search(question))


# "How long does it take?" wants a stretch of time; "a long and slow process" is not one.
_ASKS_FOR_A_DURATION = re.compile(r"\bhow long\b|\bhow many (?:days|weeks|months|years)\b|\bquanto tempo\b|\bcu[aá]nto tiempo\b", re.I)
_STATES_A_DURATION = re.compile(r"\b(?:days?|weeks?|months?|years?|decades?|semanas?|mes(?:es)?|meses|anos?|años?)\b", re.I)


def asks_for_a_duration(question: str) -> bool:
    return bool(_ASKS_FOR_A_DURATION.search(question))


def states_a_duration(sentences: list[str]) -> bool:
    return any(_STATES_A_DURATION.search(s) for s in sentences)


COUNT_WINDOW = 4  # words between a figure and what it counts: "over 60 countries", "mediators (11 in total)"


def answers_the_count(question: str, sentences: list[str]) -> bool:
    """For "how many X…?", a sentence with a figure next to X ("three phases", "over 60 countries"), not merely
    somewhere in it ("…allow members to specialise… two forms of democracy" does not count members); for "what
    share…?", any figure."""
    counted = _COUNTED.search(question)
    if counted is None:
        return any(_STATES_A_NUMBER.search(s) for s in sentences)
    wanted = {stem(w) for w in counted.groups() if w and w.lower() not in _STOPWORDS}
    return any(_counts(re.findall(r"\w+", s.lower()), wanted) for s in sentences)


def _counts(words: list[str], wanted: set[str]) -> bool:
    for at, word in enumerate(words):
        if stem(word) in wanted:
            near = words[max(0, at - COUNT_WINDOW) : at + COUNT_WINDOW]
            if any(_STATES_A_NUMBER.fullmatch(w) or w.isdigit() for w in near):
                return True
    return False


_NAME = re.compile(r"[^\W_][\w-]*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\n\"'(¿¡])\s*$")


def names_in(question: str) -> list[str]:
    """Proper names and codes in a question: capitalised words inside a sentence, and words with digits."""
    names = []
    for match in _NAME.finditer(question):
        word = match.group(0)
        has_digit = any(c.isdigit() for c in word) and any(c.isalpha() for c in word)
        # Acronyms (NGO, NGOs, PDF) are common nouns more often than names.
        acronym = sum(c.isupper() for c in word) >= 2
        capitalised = word[0].isupper() and not acronym and not _SENTENCE_START.search(question[: match.start()])
        if (has_digit or capitalised) and word != "I":  # "what should I know?": the speaker, not a name
            names.append(word)
    return names


def fold(text: str) -> str:
    """Lower-case without accents, for matching across "Parliament"/"parliaments", "análise"/"analise"."""
    return unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()


_STOPWORDS = frozenset(fold(_STOPWORD_TEXT).split())


def strip_markup(text: str) -> str:
    """Markdown and GitBook markup → plain text, line structure kept."""
    text = _GITBOOK_TAG.sub("", text)
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _HTML_TAG.sub("", text)
    return text


def prose_blocks(markdown: str) -> list[str]:
    """Paragraphs, list items and table rows of a passage as plain text; headings and bold labels dropped."""
    blocks: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            blocks.append(" ".join(current))
            current.clear()

    table: list[str] = []
    quoting = False
    for raw in [*strip_markup(markdown).splitlines(), ""]:
        line = raw.rstrip()
        if bool(_QUOTE_MARK.match(line)) != quoting:
            flush()  # an epigraph and the paragraph after it are two blocks, even with no blank line between
            quoting = not quoting
        if _TABLE_ROW.match(line):
            flush()
            table.append(line)
            continue
        if table:
            blocks.extend(table_row_blocks(table))
            table.clear()
        if not line.strip() or _HEADING.match(line) or (_BOLD_LINE.match(line) and not _BOLD_SENTENCE.match(line)):
            flush()
            continue
        line = _QUOTE_MARK.sub("", line)
        if _LIST_MARK.match(line):
            flush()
            line = _LIST_MARK.sub("", line)
        line = _HINT_LABEL.sub("", _EMPHASIS.sub("", line).strip())
        if line:
            current.append(line)
    flush()
    return [re.sub(r"\s+", " ", b).strip() for b in blocks if b.strip()]


def table_row_blocks(lines: list[str]) -> list[str]:
    """A Markdown table's rows as one line each, led by the row's first cell: "Action plan: Specifies a timeframe
    and concrete tasks…; Binding; detailed provisions…." (a typology in a table is the page's substance)."""
    rows = [[_EMPHASIS.sub("", cell).strip() for cell in line.strip().strip("|").split("|")] for line in lines]
    rows = [row for row in rows if not all(re.fullmatch(r":?-{2,}:?", cell) for cell in row if cell)]
    blocks = []
    for row in rows[1:]:  # the first row is the header
        cells = [cell.rstrip(".; ") for cell in row if cell]
        if len(cells) >= 2:
            blocks.append(f"{cells[0]}: {'; '.join(cells[1:])}.")
    return blocks


def split_sentences(block: str) -> list[str]:
    """Sentences of one paragraph; common abbreviations ("e.g.", "etc.") do not end a sentence."""
    pieces = _SENTENCE_END.split(block)
    sentences: list[str] = []
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        if sentences and _ends_with_abbreviation(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences


def _ends_with_abbreviation(sentence: str) -> bool:
    last = sentence.rsplit(" ", 1)[-1].lower()
    return last in _ABBREVIATIONS or bool(re.fullmatch(r"\(?[a-z]\.", last))


def is_full_sentence(sentence: str, *, cut_off: bool = False) -> bool:
    """A readable, complete statement: not a heading, a label, an index entry, a question or a fragment. With
    ``cut_off``, also one where the page breaks off after its point is made, quoted with its "…"."""
    words = sentence.split()
    return (
        MIN_SENTENCE_WORDS <= len(words) <= MAX_SENTENCE_WORDS
        and bool(_GOOD_START.match(sentence))
        and bool(_GOOD_END.search(sentence))
        and not (_cut_mid_phrase(sentence) if cut_off else _CUT_OFF.search(sentence))
        and not sentence.rstrip("\"”’)] ").endswith(("?", ":"))
        and not _is_label(sentence)
        and not _is_index_entry(sentence)
    )


# Where a page breaks off, a draft quotes what it said so far, with its "…", when that reads whole: "this method does
# not measure progress against targets fixed in advance …" makes its point; "…the officials able to speak – to …"
# does not. (An answer leaves such sentences out: among four sentences one breaking off took the place of a whole one
# and cost the public set two answers' facts; a draft is edited from its sources anyway.)
MIN_WORDS_BEFORE_CUT = 10
_OPEN_ENDED = frozenset({"among", "across", "through", "towards", "toward", "upon", "against", "beyond", "including", "such", "like"})


def _cut_mid_phrase(sentence: str) -> bool:
    if not _CUT_OFF.search(sentence):
        return False
    said = _CUT_OFF.sub("", sentence).split()
    last = fold(said[-1]).strip("–—-,;") if said else ""
    return len(said) < MIN_WORDS_BEFORE_CUT or not last or last in _STOPWORDS or last in _OPEN_ENDED or last.endswith(("'s", "’s"))


def _is_label(sentence: str) -> bool:
    label = _LABEL_START.match(sentence)
    return bool(label) and len(sentence[label.end():].split()) <= MAX_LABEL_VALUE_WORDS


def _is_index_entry(sentence: str) -> bool:
    return bool(_TERM_DASH_START.match(sentence)) and len(re.findall(r"\s[–—]\s", sentence)) == 1


def is_signpost(sentence: str) -> bool:
    """A sentence that points around the website ("This section looks at…") rather than saying something."""
    return bool(_SIGNPOST.search(sentence))


def looks_like_injection(text: str) -> bool:
    """Wording aimed at an AI model ("ignore previous instructions", "you are now…", "system prompt")."""
    return bool(_INJECTION.search(text))


def stem(word: str) -> str:
    # A crude prefix stem works across English, Portuguese and Spanish inflections alike.
    return word[:6] if len(word) > 6 else word.rstrip("s") or word


def keywords(text: str) -> list[str]:
    """Content words (stemmed, accent-folded), in order of appearance, without repeats."""
    seen: dict[str, None] = {}
    for word in re.findall(r"[\w][\w'-]*", fold(text)):
        word = word.strip("'-")
        if len(word) < 2 or word in _STOPWORDS or word.isdigit():
            continue
        seen.setdefault(stem(word), None)
    return list(seen)


def keyword_overlap(query_keywords: list[str], text: str) -> float:
    """Share of the query's content words that the text contains (0–1)."""
    if not query_keywords:
        return 0.0
    present = set(keywords(text))
    return sum(1 for k in query_keywords if k in present) / len(query_keywords)


def content_words(text: str) -> list[str]:
    """The unstemmed content words of a short text, in order (for carrying a topic into a follow-up)."""
    words = [w.strip("'-") for w in re.findall(r"[\w][\w'-]*", text)]
    return [w for w in words if len(w) > 1 and fold(w) not in _STOPWORDS and not w.isdigit()]


# "Yet this is exactly…", "Experience shows, however, that they…", "Naturally, these elites…": a few words that
# only lead in do not stop the pronoun after them pointing back.
_PRONOUN_AFTER_LEAD = (
    r"^(?:(?:yet|but|and|so|still|even so|however|nevertheless|moreover|therefore|thus|naturally|of course|indeed|in fact"
    r"|in practice|in reality|clearly|obviously|experience shows|generally|usually|often|also|sometimes|above all"
    r"|in particular|in short|in other words|as a rule)(?:,|\s+that)?\s+){1,3}(?:that\s+)?(?:this|these|those|such|they|its|their)\b"
    # "Taking advantage of the mood, they discredit…": a participle clause before the pronoun does not name it either.
    r"|^\w+ing\b[^,.;]{0,120},\s+(?:they|these|those|such|its|their)\b"
    r"|^\w+ing\s+(?:[\w'-]+\s+){0,2}?(?:this|that|these|those|such)\b[^,.;]{0,40},"  # "Starting from this premise, …"
)
_PRONOUN_LED = re.compile(_PRONOUN_AFTER_LEAD, re.I)
_ANAPHORIC_START = re.compile(
    _PRONOUN_AFTER_LEAD + r"|^(?:they|it|this|that|these|those|such|its|their|he|she|however|nevertheless|on the contrary|moreover|furthermore|therefore|thus"
    r"|hence|consequently|accordingly|likewise|similarly|in turn|in addition|as a (?:result|consequence)|in doing so|otherwise|as such"
    r"|nor|neither does|neither is|neither can|all (?:of )?(?:this|that|these|those)|what is more"
    r"|(?:in|for|to) (?:this|that|these|such) (?:sense|way|case|reason|end|context|respect)"
    r"|elas?|eles?|isso|isto|essas?|esses?|no entanto|contudo|ellos|ellas|esto|eso|esas?|esos?|sin embargo|é essa|é esse)\b"
    # "To achieve this, …", "On the strength of this experience, …": a lead-in phrase that points back.
    r"|^(?:to|in|for|on|by|with|because of|given|despite|beyond|after|before|during|through|unlike|like|at|from|under)\s+(?:[\w'-]+\s+){0,3}?"
    r"(?:this|that|these|those|such|them)\b[^,.;]{0,40},"
    r"|^(?:there|here|then|at the time|at that point),",  # "There, the committee head undertook…": where is there?
    re.I,
)


# Openings that only mark a turn of thought ("Nevertheless, …"): the sentence still reads alone.
_TURN_ONLY = re.compile(
    r"^(?:however|nevertheless|on the contrary|moreover|furthermore|therefore|thus|hence|consequently|accordingly"
    r"|likewise|similarly|in turn|in addition|as a (?:result|consequence)|otherwise|what is more|no entanto|contudo|sin embargo)\b",
    re.I,
)


# "It should first be noted that…", "It is essential to…": an "it" that stands for what follows, not for an earlier
# sentence. ("It is precisely in these contexts that…" and "It may therefore be wise to…" still point back.)
_EXPLETIVE_IT = re.compile(
    r"^it\s+(?:(?:is|was|should|must|can|may|might|would|will|has|remains|seems|appears)\s+(?:[\w'-]+\s+){0,3}?"
    r"(?:noted|said|argued|stressed|recalled|clear|true|important|essential|necessary|crucial|vital|worth|possible"
    r"|impossible|difficult|hard|easy|useful|advisable|likely|unlikely|helpful|wise|best|better)\s+(?:that|to|whether|how)"
    r"|(?:seems|appears|follows|turns out)\s+that|takes\s+(?:time|years|months|patience|effort))\b",
    re.I,
)
_BACK_REFERENCE = re.compile(r"\b(?:this|these|those|such|them|therefore|thus|hence|then|so|also|too|again)\b", re.I)


def points_back(text: str) -> bool:
    """Whether a sentence's meaning lies in an earlier one ("For this reason, …"; "Nevertheless, …" only marks a
    turn, "Nevertheless, they…" does not)."""
    return leans_on_previous(text) and (not _TURN_ONLY.match(text) or bool(_PRONOUN_LED.match(text)))


def leans_on_previous(text: str) -> bool:
    """Whether a sentence opens by linking to the one before it ("They…", "Nevertheless, …"): read after it when it can be."""
    expletive = _EXPLETIVE_IT.match(text)
    if expletive and not _BACK_REFERENCE.search(expletive.group()):
        return False
    return bool(_ANAPHORIC_START.match(text))

