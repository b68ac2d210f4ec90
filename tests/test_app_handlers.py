"""The chat's logic as plain functions: sources, citation panels, parsing requests, settings, uploads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import handlers as h
from assistant.compose import AUDIENCES, audience_named_in
from assistant.models import (
    Answer,
    Briefing,
    BriefingRequest,
    BriefingSection,
    Chunk,
    Citation,
    SearchHit,
    TalkingPoint,
    TalkingPoints,
    ToolAdvice,
    ToolRecommendation,
)
from assistant.settings import Settings

GUIDE_URL = "https://inspired.epd.eu/guide/some-page"


def guide_citation(n: int, **extra) -> Citation:
    values = dict(
        n=n, url=f"{GUIDE_URL}-{n}", title=f"Page {n}", heading_path=[f"Page {n}", "Why it matters"],
        passage=f"Passage number {n} says something useful.\nA second line.",
    )
    return Citation(**{**values, **extra})


NOTE = Citation(n=3, url="note://freedonia.md", title="Freedonia notes", passage="The ministry changed hands in May.", source_kind="note")


# -- modes -----------------------------------------------------------------------------------


def test_four_modes_each_with_three_or_four_starters_in_plain_words():
    assert h.MODE_NAMES == ["Ask the guide", "Mission briefing", "Talking points", "Which tool?"]
    for mode in h.MODES:
        assert 3 <= len(mode.starters) <= 4
        assert mode.icon.startswith("/public/icons/") and all(s.message and s.label for s in mode.starters)


def test_unknown_or_missing_profile_falls_back_to_questions():
    assert h.mode_for(None) == h.ASK
    assert h.mode_for("Something old") == h.ASK
    assert h.mode_for(h.BRIEFING) == h.BRIEFING


@pytest.mark.parametrize(
    "text, mode",
    [
        ("Talking points for the union leaders ahead of Friday's roundtable.", h.POINTS),
        ("Could you write some points for the finance ministry on the budget lines?", h.POINTS),
        ("The envoy lands in Dushanbe on Monday. Draft a one-page briefing on the water dialogue.", h.BRIEFING),
        ("Briefing note for our ambassador before she meets the labour minister.", h.BRIEFING),
        ("Short brief for the new desk officer on how the host was chosen.", h.BRIEFING),
        ("I meet the speaker tomorrow about the roadmap. Brief me.", h.BRIEFING),
        ("I need talking points for the speaker of parliament tomorrow.", h.POINTS),  # a wish is an order too
        ("We'd like a briefing for the EU ambassador visiting Dakar.", h.BRIEFING),
        ("I need to understand what talking points are for.", h.ASK),
        ("I need a brief overview of the three phases.", h.ASK),
        # Questions about drafting are questions for the guide.
        ("How should I prepare a briefing for a former president?", h.ASK),
        ("What do good talking points for journalists contain?", h.ASK),
        ("A short brief for envoys should cover what?", h.ASK),
        ("Who should brief the envoy before the visit?", h.ASK),
        # In Portuguese and Spanish, the guide's other languages.
        ("Pontos de conversa para a comissão parlamentar sobre o roteiro.", h.POINTS),
        ("¿Puedes prepararme unos puntos clave para la reunión con los donantes?", h.POINTS),
        ("Prepara uma nota informativa para o embaixador antes da visita a Bishkek.", h.BRIEFING),
        ("Briefing para la ex primera ministra que viaja a Tiflis en junio.", h.BRIEFING),
        ("Como se prepara uma nota informativa para uma missão?", h.ASK),
        ("¿Qué deben contener los puntos de conversación para la prensa?", h.ASK),
    ],
)
def test_a_message_that_asks_outright_for_a_draft_gets_one_even_in_question_mode(text, mode):
    assert h.mode_for(None, text) == mode
    assert h.mode_for(h.TOOLS, text) == h.TOOLS  # a mode the user picked is never overridden


def test_no_question_of_the_eval_sets_is_taken_for_a_draft_request_and_the_public_drafts_are():
    evals = Path(__file__).resolve().parents[1] / "evals"
    lines = [json.loads(line) for name in ("public", "dev", "scope") for line in (evals / f"{name}.jsonl").open()]
    kinds = {"qa": h.ASK, "briefing": h.BRIEFING, "talking_points": h.POINTS}
    routed = [(line["id"], h.mode_for(None, line.get("question") or line["request"])) for line in lines]
    assert [(i, mode) for (i, mode), line in zip(routed, lines) if mode != kinds[line.get("kind", "qa")]] == []


# -- settings -> composer --------------------------------------------------------------------


def test_chat_settings_become_composer_arguments():
    prefs = h.preferences_from_values({"length": "long", "use_llm": False, "language": "pt"})
    assert h.ask_arguments(prefs, "amina", llm_configured=True) == {
        "owner": "amina", "length": "long", "language": "pt", "use_llm": False,
    }


def test_auto_language_and_junk_values_fall_back_to_defaults():
    prefs = h.preferences_from_values({"length": "enormous", "language": "auto"})
    assert prefs.length == h.DEFAULT_LENGTH and prefs.language is None and prefs.use_llm
    assert h.preferences_from_values(None) == h.ChatPreferences()


def test_llm_is_never_requested_when_none_is_configured():
    prefs = h.preferences_from_values({"use_llm": True})
    assert h.ask_arguments(prefs, None, llm_configured=False)["use_llm"] is False


def test_every_select_value_is_understood():
    for value in h.LENGTHS.values():
        assert h.preferences_from_values({"length": value}).length == value
    for value in h.LANGUAGES.values():
        expected = None if value == "auto" else value
        assert h.preferences_from_values({"language": value}).language == expected


# -- sources and citation panels --------------------------------------------------------------


def test_sources_list_numbers_titles_headings_and_links_and_labels_notes():
    block = h.sources_block([guide_citation(2), NOTE, guide_citation(1)])
    lines = block.splitlines()
    assert lines[0] == "**Sources**"
    assert lines[2] == f"- [1] **Page 1** › Why it matters · [{GUIDE_URL}-1]({GUIDE_URL}-1)"
    assert lines[3].startswith("- [2] **Page 2**")
    assert lines[4] == "- [3] **Freedonia notes** · *your notes*"
    assert "note://" not in block  # a note has no page to link to


def test_repeated_markers_are_listed_once():
    block = h.sources_block([guide_citation(1), guide_citation(1, title="Duplicate")])
    assert block.count("[1]") == 1 and "Duplicate" not in block


def test_no_citations_no_sources_heading():
    assert h.sources_block([]) == ""


def test_citation_panels_are_named_after_their_markers_and_quote_the_passage():
    guide, note = h.citation_panels([guide_citation(1), NOTE])
    assert guide.name == "[1]" and note.name == "[3]"
    assert guide.content.startswith("[1] **Page 1** › Why it matters\n\n")
    assert "> Passage number 1 says something useful. A second line." in guide.content
    assert f"[Open this page in the live guide]({GUIDE_URL}-1)" in guide.content
    assert "your notes" in note.content and "live guide" not in note.content


def test_html_in_titles_passages_and_names_is_shown_as_text():
    payload = "<img src=x onerror=alert(1)>"
    citation = guide_citation(1, title=payload, passage=f"Agendas go out early. {payload}")
    shown = [h.sources_block([citation]), h.citation_panels([citation])[0].content, h.country_question(f"{payload}.md")]
    for markdown in shown:
        assert "<img" not in markdown and "&lt;img src=x" in markdown
    with pytest.raises(h.UploadProblem, match="&lt;img"):
        h.check_note_upload(f"{payload}.exe", 10, 1.0)


def test_passages_are_quoted_paragraph_by_paragraph():
    assert h.blockquote("One line\nwraps here.\n\n  Second   paragraph.") == "> One line wraps here.\n>\n> Second paragraph."


def test_answer_ends_with_its_sources_and_shows_a_notice_once():
    answer = Answer(question="q", markdown="Start small [1].", citations=[guide_citation(1)], mode="llm", notice="Model slow; trimmed.")
    text = h.answer_markdown(answer)
    assert text.startswith("Start small [1].")
    assert text.index("**Sources**") < text.index("Model slow; trimmed.")
    already_said = answer.model_copy(update={"markdown": "*Model slow; trimmed.*\n\nStart small [1]."})
    assert h.answer_markdown(already_said).count("Model slow; trimmed.") == 1


def test_retrieval_summary_lists_pages_sections_and_scores():
    chunk = Chunk(id="a", url=GUIDE_URL, title="Roadmaps", heading_path=["Roadmaps", "Structure"], text="t")
    note = Chunk(id="b", url="note://x", title="Freedonia", text="t", source_kind="note", owner="amina")
    table = h.retrieval_summary([SearchHit(chunk=chunk, score=0.0312), SearchHit(chunk=note, score=0.02)], "amina")
    assert "| 1 | Roadmaps | Structure | 0.031 |" in table
    assert "| 2 | Freedonia (your notes) | — | 0.020 |" in table
    assert "Nothing" in h.retrieval_summary([], "amina")


def test_retrieval_summary_never_shows_someone_elses_notes():
    note = Chunk(id="b", url="note://x", title="Private plans", text="t", source_kind="note", owner="amina")
    assert "Private plans" not in h.retrieval_summary([SearchHit(chunk=note, score=0.5)], "bruno")


# -- briefings --------------------------------------------------------------------------------


def test_free_text_request_yields_country_meetings_and_travellers():
    request = h.parse_briefing_request(h.MODES[1].starters[0].message)
    assert request.country == "Mozambique"
    assert request.travellers == "a sector specialist"
    assert request.meetings == ["education ministry", "teachers' union", "two donors"]
    assert request.purpose and "teacher pay" in request.purpose


def test_labelled_request_is_read_field_by_field():
    request = h.parse_briefing_request("Country: Georgia. Purpose: agree next steps on a roadmap; Meetings: ministry, unions")
    assert request.country == "Georgia"
    assert request.purpose == "agree next steps on a roadmap"
    assert request.meetings == ["ministry", "unions"]
    assert [q.field for q in h.missing_questions(request)] == ["travellers"]


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("I'm going to Peru to launch an analysis of water policy", "Peru"),
        ("A mission to the Democratic Republic of the Congo next week", "Democratic Republic of the Congo"),
        ("notes on Côte d'Ivoire", "Côte d'Ivoire"),
        ("Notes on Freedonia", "Freedonia"),
        ("What should I prepare for the mission?", None),
        ("A briefing for the EU ambassador", None),  # a capitalised name after a cue need not be a place
        ("Briefing for the Club de Madrid member visiting Manila", None),
    ],
)
def test_country_is_found_after_a_cue(text, country):
    assert h.country_from_text(text) == country


def test_a_briefing_for_the_eu_ambassador_in_a_capital_is_a_mission_to_that_country():
    request = h.parse_briefing_request("Draft a briefing for the EU ambassador in Nairobi who meets the Ministry of Labour.")
    assert request.country == "Kenya"


def test_background_for_someones_work_is_not_asked_where_the_mission_goes():
    onboarding = h.parse_briefing_request("Onboarding brief for a new programme officer at our host: the three phases and the host's duties.")
    assert h.missing_questions(onboarding) == []
    # The same reader, once a meeting is in view, is preparing a visit again.
    meeting = h.parse_briefing_request("Background note for the new country manager before she meets the labour minister.")
    assert [q.field for q in h.missing_questions(meeting)] == ["country", "travellers"]


def test_a_bare_country_asks_for_everything_else():
    request = h.parse_briefing_request("Kenya")
    assert request.country == "Kenya"
    assert [q.field for q in h.missing_questions(request)] == ["purpose", "travellers", "meetings"]


def test_a_city_or_a_visitor_named_in_the_message_is_not_asked_for_again():
    request = h.parse_briefing_request("A former president from the Club de Madrid goes to Bishkek next week to meet MPs on jobs.")
    assert request.country == "Kyrgyzstan"
    assert request.travellers == "A former president from the Club de Madrid"
    assert request.purpose == "meet MPs on jobs"
    assert h.missing_questions(request) == []


@pytest.mark.parametrize("text, travellers", [
    ("A former president of Uruguay flies to Accra next month to open a dialogue on youth jobs.", "A former president of Uruguay"),
    ("A former prime minister of the Czech Republic visits Lima for the launch.", "A former prime minister of the Czech Republic"),
    ("A former minister of labour travels to Dakar in May.", "A former minister"),  # a portfolio, not a country
    ("The EU ambassador in Nairobi meets the Ministry of Labour.", "The EU ambassador"),
])
def test_the_country_a_visitor_comes_from_stays_with_the_visitor(text, travellers):
    assert h.parse_briefing_request(text).travellers == travellers


@pytest.mark.parametrize("text, country, travellers, meetings, purpose, policy_area", [
    ("Uma antiga primeira-ministra vai a Ulaanbaatar em maio para se reunir com a comissão parlamentar e com os sindicatos.",
     "Mongolia", "Uma antiga primeira-ministra", ["comissão parlamentar", "sindicatos"],
     "se reunir com a comissão parlamentar e com os sindicatos", None),
    ("El embajador de la UE en Nairobi quiere reunirse con el ministerio de trabajo sobre el empleo juvenil.",
     "Kenya", "El embajador de la UE", ["ministerio de trabajo"],
     "reunirse con el ministerio de trabajo sobre el empleo juvenil", "empleo juvenil"),
    ("Un expresidente viaja a Lima con el objetivo de abrir un diálogo sobre la reforma de pensiones.",
     "Peru", "Un expresidente", [], "abrir un diálogo sobre la reforma de pensiones", "reforma de pensiones"),
])
def test_a_portuguese_or_spanish_request_says_who_travels_whom_they_meet_and_why(text, country, travellers, meetings, purpose, policy_area):
    request = h.parse_briefing_request(text)
    assert (request.country, request.travellers, request.meetings) == (country, travellers, meetings)
    assert (request.purpose, request.policy_area) == (purpose, policy_area)
    assert "travellers" not in [q.field for q in h.missing_questions(request)]


async def test_only_missing_fields_are_asked_and_skip_leaves_them_out():
    asked = []
    replies = iter(["skip", "Planning office, ombudsman and the press"])

    async def ask(prompt):
        asked.append(prompt)
        return next(replies)

    request = await h.complete_briefing_request(h.parse_briefing_request("I'm going to Peru to review a water reform."), ask)
    assert len(asked) == 2 and "Who is travelling" in asked[0] and "Whom will you meet" in asked[1]
    assert request.travellers is None
    assert request.meetings == ["Planning office", "ombudsman", "the press"]
    assert request.country == "Peru"


async def test_no_answer_to_a_required_question_stops_the_flow():
    async def ask(prompt):
        return None

    with pytest.raises(h.FlowCancelled, match="(?i)send your request again"):
        await h.complete_briefing_request(BriefingRequest(request="x"), ask)


def make_briefing(**extra) -> Briefing:
    values = dict(
        title="Briefing: Freedonia",
        request=BriefingRequest(request="r", country="Freedonia", purpose="Open talks", meetings=["Ministry", "Unions"]),
        sections=[
            BriefingSection(heading="Context", markdown="Trust is low [1].", citations=[guide_citation(1)]),
            BriefingSection(heading="Your notes", markdown="New minister [3].", citations=[NOTE, guide_citation(1)]),
        ],
        gaps=["Security advice"],
        mode="extractive",
    )
    return Briefing(**{**values, **extra})


def test_briefing_citations_are_collected_across_sections_once_each():
    assert [c.n for c in h.briefing_citations(make_briefing())] == [1, 3]


def test_download_names_are_safe_slugs():
    assert h.download_stem("briefing", "Côte d'Ivoire / North") == "briefing-c-te-d-ivoire-north"
    assert h.download_stem("briefing", None) == "briefing"


# -- talking points and tools -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "audience"),
    [
        (h.MODES[2].starters[0].message, "partner-government"),
        (h.MODES[2].starters[1].message, "donors"),
        (h.MODES[2].starters[2].message, "civil-society-organisations"),
        ("Points for members of parliament on the budget", "parliaments"),
        ("Points for the chair of the parliament's social committee", "parliaments"),  # a possessive is still the name
        ("Something for donors and journalists", None),  # two audiences: ask
        ("Points for the press, the ombudsman", None),
        # Several named, one of them the points are for.
        ("Talking points for the dialogue host: what the role asks of our partner NGO", "dialogue-host"),
        ("Points for journalists about what the government promised", "media"),
        ("Points to get NGOs into the talks with the ministry", None),  # no "for": ask
        ("Help me prepare", None),
        # Whom users meet, filed under the guide's audiences.
        ("Points for the labour inspectorate before the working session", "public-administration"),
        ("Points for the national statistics office on sharing survey data", "public-administration"),
        ("Points for the ombudsperson's office", "national-human-rights-institutions"),
        ("Points for the EU Delegation's head of cooperation", "donors"),
        ("Points for disabled people's organisations ahead of the validation", "civil-society-organisations"),
        ("Points for business associations worried about costs", "social-agents"),
        ("Points for the opposition party leader", "political-parties"),
        ("Points for the president's chief of staff", "partner-government"),
        ("Points for a women's rights network that doubts it will be heard", "civil-society-organisations"),
        ("Talking points for a hearing with the parliamentary committee", "parliaments"),
        ("Points for youth activists in the regions", "civil-society-organisations"),
    ],
)
def test_audience_is_read_from_the_message_when_exactly_one_is_named(text, audience):
    assert audience_named_in(text) == audience
    assert audience is None or audience in AUDIENCES


def test_points_citations_are_collected_once_each():
    points = TalkingPoints(
        audience="Donors",
        points=[
            TalkingPoint(point="Back the roadmap [2]", rationale="Owned locally.", citations=[guide_citation(2)]),
            TalkingPoint(point="Report together [1]", rationale="Less burden.", citations=[guide_citation(1), guide_citation(2)]),
        ],
    )
    assert [c.n for c in h.points_citations(points)] == [1, 2]


def test_tools_advice_carries_markers_sources_and_its_mode():
    advice = ToolAdvice(
        situation="s",
        tools=[ToolRecommendation(number=3, name="Stakeholder mapping", tool_type="Capacity", why="Shows who matters [1].", citations=[guide_citation(1)])],
    )
    text = h.tools_markdown(advice)
    assert "**Tool 3: Stakeholder mapping** (Capacity)" in text and text.count("[1]") == 2  # marker kept once + sources
    assert "no language model" in text
    unmarked = advice.model_copy(update={"tools": [advice.tools[0].model_copy(update={"why": "Shows who matters."})], "mode": "llm"})
    text = h.tools_markdown(unmarked)
    assert "Shows who matters. [1]" in text and "no language model" not in text


# -- uploads ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "size", "message"),
    [
        ("virus.exe", 100, "can't be used as a note"),
        ("notes", 100, "can't be used as a note"),
        ("empty.md", 0, "is empty"),
        ("huge.pdf", 11 * 1024 * 1024, "11.0 MB; the limit is 10 MB"),
    ],
)
def test_bad_uploads_are_refused_with_a_clear_reason(name, size, message):
    with pytest.raises(h.UploadProblem, match=message):
        h.check_note_upload(name, size, 10)


@pytest.mark.parametrize("name", ["a.md", "b.TXT", "c.pdf", "d.docx"])
def test_good_uploads_pass(name):
    h.check_note_upload(name, 2048, 10)


@pytest.mark.parametrize(
    ("name", "guess"),
    [("freedonia-notes-2024.md", "Freedonia"), ("South_Sudan_mission.docx", "South Sudan"), ("notes.md", None), ("2024.txt", None)],
)
def test_country_guess_from_file_names(name, guess):
    assert h.country_from_filename(name) == guess


def test_country_reply_ok_uses_the_guess_and_skip_means_none():
    assert h.country_from_reply("ok", "freedonia-notes.md") == "Freedonia"
    assert h.country_from_reply("skip", "freedonia-notes.md") is None
    assert h.country_from_reply(" Lakeland ", "freedonia-notes.md") == "Lakeland"
    assert "Freedonia" in h.country_question("freedonia-notes.md")


# -- threads and limits -----------------------------------------------------------------------


def test_history_of_a_resumed_thread_comes_from_answer_metadata_in_order():
    thread = {
        "steps": [
            {"createdAt": "2025-01-01T10:02:00Z", "metadata": {"question": "second?", "answer": "B"}},
            {"createdAt": "2025-01-01T10:00:00Z", "metadata": {"question": "first?", "answer": "A"}},
            {"createdAt": "2025-01-01T10:01:00Z", "metadata": {}},
            {"createdAt": "2025-01-01T10:03:00Z", "metadata": None},
        ]
    }
    assert h.history_from_thread(thread) == [("first?", "A"), ("second?", "B")]


def test_history_keeps_only_recent_turns():
    history = []
    for n in range(h.HISTORY_TURNS + 2):
        history = h.remember(history, f"q{n}", f"a{n}")
    assert len(history) == h.HISTORY_TURNS and history[-1] == (f"q{h.HISTORY_TURNS + 1}", f"a{h.HISTORY_TURNS + 1}")


def test_rate_limit_is_per_user_and_recovers_after_a_minute():
    now = [0.0]
    limiter = h.RateLimiter(2, clock=lambda: now[0])
    assert limiter.allow("a") and limiter.allow("a") and not limiter.allow("a")
    assert limiter.allow("b")
    now[0] = 60.0
    assert limiter.allow("a")


def test_overlong_requests_are_refused_with_the_limit():
    settings = Settings(_env_file=None, max_question_chars=100)
    assert "under 100" in h.request_problem("x" * 101, settings)
    assert h.request_problem("x" * 100, settings) is None


def test_a_question_read_with_its_typos_put_right_says_so():
    assert h.read_as_note("  What are high-level misions for?", "What are high-level missions for?") == (
        "Read as: “What are high-level missions for?”"
    )
    assert h.read_as_note(" What are high-level missions for? ", "What are high-level missions for?") is None
