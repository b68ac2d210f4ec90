"""Draft metrics on hand-made briefings and talking points, the coverage labels, and `inspired eval drafts`."""

from __future__ import annotations

import json

import pytest
from fakes import FakeRetriever, offline_settings
from typer.testing import CliRunner

from assistant import cli
from assistant.compose import ComposeError, Composer
from assistant.evaluation import DatasetError, EvalItem, load_dataset
from assistant.evaluation.drafts import (
    LABELS_PATH,
    MUST_COVER_THRESHOLD,
    CoverageLabel,
    DraftResult,
    PhraseMatch,
    balanced_accuracy,
    best_threshold,
    cited_urls,
    coverage,
    coverage_scores,
    draft_audience,
    draft_units,
    label_accuracy,
    listed_as_gaps,
    phrase_readings,
    run_draft,
    load_labels,
    said_in_one_sentence,
    summarise,
    text_fingerprint,
    unit_similarities,
    write_draft,
)
from assistant.models import Briefing, BriefingRequest, BriefingSection, Citation, TalkingPoint, TalkingPoints

EMBED = FakeRetriever().embed
HOST = Citation(n=1, url="https://guide.test/host", title="Host", passage="p")
DONOR = Citation(n=2, url="https://guide.test/donor", title="Donor", passage="p")


def briefing(*sections: BriefingSection, gaps: list[str] | None = None) -> Briefing:
    return Briefing(title="t", request=BriefingRequest(request="r"), sections=list(sections), gaps=gaps or [])


RISKY = BriefingSection(
    heading="Risks", citations=[HOST],
    markdown="Prominent visitors can harden positions when the visit is badly prepared [1]. Timing matters too [1].",
)
UNCITED = BriefingSection(heading="Local context", markdown="Nothing in the guide covers this country.")


def result(kind: str = "briefing", **fields) -> DraftResult:
    values = {"id": "d1", "kind": kind, "persona": "staff", "request": "r", "latency_ms": 1.0, "units": [], "matches": [],
              "expected_urls": [], "cited_urls": [], "gaps": [] if kind == "briefing" else None, "unknown_facts": [],
              "facts_listed": []}
    return DraftResult(**{**values, **fields})


def test_a_phrase_is_covered_by_a_section_that_addresses_it_and_not_by_an_unrelated_one():
    units = draft_units(briefing(RISKY, UNCITED))
    assert [u.heading for u in units] == ["Risks", "Local context"] and "[1]" not in units[0].text
    covered, missed = coverage(EMBED, ["badly prepared visitors", "fishing quotas in winter"], units)
    assert covered.covered and covered.heading == "Risks" and covered.similarity >= MUST_COVER_THRESHOLD
    assert not missed.covered


def test_a_sentence_that_matches_counts_even_inside_a_long_section():
    long_section = BriefingSection(
        heading="Background", citations=[HOST],
        markdown=" ".join(f"Filler sentence number {n} talks about unrelated agricultural matters." for n in range(12))
        + " Donor incentives shape whether governments open up.",
    )
    (match,) = coverage(EMBED, ["donor incentives"], draft_units(briefing(long_section)))
    assert match.covered


def test_a_phrase_said_in_one_sentence_is_covered_however_low_its_score():
    point = TalkingPoint(point="Ministries should pay for part of it. Budgets are tight, but ownership grows with each commitment made.",
                         rationale="r", citations=[HOST])
    units = draft_units(TalkingPoints(audience="a", topic="t", points=[point]))
    assert said_in_one_sentence("ownership", units[0].text) and said_in_one_sentence("commitments", units[0].text)
    assert not said_in_one_sentence("ministries' budgets", units[0].text)  # the words are in two sentences
    strict = coverage(EMBED, ["ownership", "ministries' budgets"], units, threshold=5.0)
    assert [m.covered for m in strict] == [True, False]


def test_a_phrase_is_judged_by_the_section_that_covers_it_before_the_one_closest_by_score():
    said = BriefingSection(heading="Said", citations=[HOST], markdown="Everything turns on ownership here.")
    close = BriefingSection(heading="Close", citations=[HOST], markdown="Owners and owning and owned things.")
    (match,) = coverage(EMBED, ["ownership"], draft_units(briefing(close, said)), threshold=5.0)
    assert match.covered and match.heading == "Said"


def test_calibration_reads_phrases_and_balances_covered_and_missed_ones():
    # Ten phrases read as covered and one as missed: the cut that calls everything covered agrees on 10 of 11, but
    # balanced accuracy prefers the one that tells the missed phrase apart.
    pairs = [(0.5 + n / 100, True) for n in range(10)] + [(0.3, False)]
    assert balanced_accuracy(pairs, 0.0) == 0.5 and balanced_accuracy(pairs, 0.4) == 1.0
    assert best_threshold(pairs) == (0.4, 1.0)
    units = draft_units(briefing(RISKY, UNCITED))
    risks, context = (text_fingerprint(u.text) for u in units)
    matches = coverage(EMBED, ["badly prepared visitors", "timing of visits", "fishing quotas"], units)
    labels = [CoverageLabel(task_id="d1", phrase="badly prepared visitors", section_heading="Risks", label=True, text_sha1=risks),
              CoverageLabel(task_id="d1", phrase="timing of visits", section_heading="Risks", label=False, text_sha1=risks),
              CoverageLabel(task_id="d1", phrase="timing of visits", section_heading="Local context", label=False, text_sha1=context)]
    readings = phrase_readings([result(units=units, matches=matches)], labels, EMBED)
    assert [reading for _, reading in readings] == [True, False]  # nobody read "fishing quotas": no reading
    assert readings[0][0] == 2.0  # "badly prepared visitors" is said in one sentence of the Risks section


def test_sections_without_citations_lower_the_cited_rate():
    units = draft_units(briefing(RISKY, UNCITED))
    assert summarise([result(units=units)])["sections_cited_rate"] == 0.5
    points = TalkingPoints(audience="Donors", points=[TalkingPoint(point="Fund it [2].", rationale="r", citations=[DONOR])])
    assert summarise([result("talking_points", units=draft_units(points))])["sections_cited_rate"] == 1.0


def test_expected_pages_cited_rate_is_the_share_of_expected_pages_each_draft_cites():
    draft = briefing(RISKY, BriefingSection(heading="Donors", markdown="Money talks [2].", citations=[DONOR]))
    assert cited_urls(draft) == [HOST.url, DONOR.url]
    half = result(expected_urls=[HOST.url, "https://guide.test/other"], cited_urls=cited_urls(draft))
    full = result(expected_urls=[DONOR.url], cited_urls=cited_urls(draft))
    assert summarise([half, full])["expected_pages_cited_rate"] == 0.75


def test_unknown_facts_count_as_listed_only_when_a_gap_names_them():
    gaps = ["Names and positions of the officials to be met", "Dates and programme of the visit"]
    facts = ["names of the officials on the agenda", "size of the planned budget support"]
    assert listed_as_gaps(EMBED, facts, gaps) == [True, False]
    assert listed_as_gaps(EMBED, facts, []) == [False, False]


def test_gaps_are_scored_on_briefings_only_and_uncovered_phrases_lower_the_rate():
    brief = result(unknown_facts=["a", "b"], facts_listed=[True, False],
                   matches=[PhraseMatch(phrase="x", heading="h", similarity=0.9, covered=True),
                            PhraseMatch(phrase="y", heading="h", similarity=0.1, covered=False)])
    points = result("talking_points", unknown_facts=["c"])
    metrics = summarise([brief, points])
    assert metrics["gaps_listed"] == 0.5 and metrics["unknown_facts_without_gap_list"] == 1
    assert metrics["must_cover_rate"] == 0.5


def test_a_person_s_reading_replaces_the_scorer_s_call_only_on_the_text_that_was_read():
    units = draft_units(briefing(RISKY, UNCITED))
    risks = text_fingerprint(units[0].text)
    matches = [PhraseMatch(phrase="timing of visits", heading="Risks", similarity=0.5, covered=True),
               PhraseMatch(phrase="local politics", heading="Local context", similarity=0.2, covered=False)]
    labels = [CoverageLabel(task_id="d1", phrase="timing of visits", section_heading="Risks", label=False, text_sha1=risks),
              # Read when the section said something else: the scorer's call stands.
              CoverageLabel(task_id="d1", phrase="local politics", section_heading="Local context", label=True, text_sha1="0" * 12)]
    metrics = summarise([result(units=units, matches=matches)], labels)
    assert metrics["must_cover_rate"] == 0.5
    assert metrics["must_cover_rate_hand_read"] == 0.0 and metrics["must_cover_hand_read_phrases"] == 1
    assert summarise([result(units=units, matches=matches)])["must_cover_rate_hand_read"] == 0.5  # no labels: the scorer's
    # Another section read as covering the phrase covers it, whatever the section closest by score says.
    context = text_fingerprint(units[1].text)
    labels.append(CoverageLabel(task_id="d1", phrase="timing of visits", section_heading="Local context", label=True, text_sha1=context))
    assert summarise([result(units=units, matches=matches)], labels)["must_cover_rate_hand_read"] == 0.5


def test_best_threshold_separates_the_labels_and_label_accuracy_uses_only_text_read_as_labelled():
    assert best_threshold([(0.2, False), (0.3, False), (0.5, True), (0.6, True), (0.35, True)]) == (0.325, 1.0)
    units = draft_units(briefing(RISKY, UNCITED))
    risks, context = (text_fingerprint(u.text) for u in units)
    labels = [CoverageLabel(task_id="d1", phrase="badly prepared visitors", section_heading="Risks", label=True, text_sha1=risks),
              CoverageLabel(task_id="d1", phrase="badly prepared visitors", section_heading="Local context", label=False, text_sha1=context),
              CoverageLabel(task_id="d9", phrase="not drafted in this run", section_heading="Risks", label=True, text_sha1=risks),
              # The section now reads differently from what was labelled: the label no longer says anything.
              CoverageLabel(task_id="d1", phrase="badly prepared visitors", section_heading="Risks", label=False, text_sha1="0" * 12)]
    assert label_accuracy(labels, [result(units=units)], EMBED) == (1.0, 2)
    # Said in one sentence, a phrase is covered at any cut; one that is not is covered only above it.
    assert label_accuracy(labels, [result(units=units)], EMBED, threshold=5.0) == (1.0, 2)
    labels.append(CoverageLabel(task_id="d1", phrase="visit timing", section_heading="Risks", label=True, text_sha1=risks))
    assert label_accuracy(labels, [result(units=units)], EMBED) == (1.0, 3)
    assert label_accuracy(labels, [result(units=units)], EMBED, threshold=5.0) == (round(2 / 3, 4), 3)


def test_a_phrase_whose_words_a_section_uses_scores_higher_than_cosine_alone():
    units = draft_units(briefing(RISKY, UNCITED))
    [with_words] = coverage_scores(EMBED, ["badly prepared visitors"], units[:1])[0]
    [cosine] = unit_similarities(EMBED, ["badly prepared visitors"], units[:1])[0]
    assert with_words > cosine


def test_the_shipped_labels_are_pairs_of_both_kinds_each_tied_to_the_text_read():
    labels = load_labels(LABELS_PATH)
    assert len(labels) >= 60 and {label.label for label in labels} == {True, False}
    # Drafting lines of the public set (d…) or of the probe (pd…), each label tied to the text that was read.
    assert all(label.task_id.startswith(("d", "pd")) and len(label.text_sha1) == 12 for label in labels)
    public_ids = {item.id for item in load_dataset(LABELS_PATH.parent / "public.jsonl")}
    probe_ids = {item.id for item in load_dataset(LABELS_PATH.parent / "probe.jsonl")}
    assert {label.task_id for label in labels} <= public_ids | probe_ids


def test_a_broken_label_file_is_a_dataset_error(tmp_path):
    path = tmp_path / "labels.jsonl"
    path.write_text('{"task_id": "d1", "phrase": "p"}\n')
    with pytest.raises(DatasetError, match="labels.jsonl:1"):
        load_labels(path)


@pytest.mark.parametrize(
    ("audience", "request_text", "expected"),
    [
        (None, "Talking points for journalists covering the launch of the roadmap", "media"),
        ("heads of department in the line ministry", "Why their staff should join the sessions", "partner-government"),
        ("members of parliament", "Points on oversight", "parliaments"),
    ],
)
def test_an_audience_missing_or_in_other_words_is_read_as_the_chat_reads_it(audience, request_text, expected):
    item = EvalItem(id="d8", kind="talking_points", request=request_text, audience=audience)
    assert draft_audience(item, FakeRetriever().embed) == expected


@pytest.mark.parametrize(
    ("audience", "request_text", "expected"),
    [
        # Where the chat would ask, the eval takes the first audience the request names…
        (None, "Talking points to convince a coalition of NGOs to join the talks with the ministry", "civil-society-organisations"),
        (None, "Points asking the statistics office and the ministry to open their data", "public-administration"),
        # …or, naming none, the audience closest in meaning to what the line gives.
        ("support groups for democracy", "Points on the roadmap", "democracy-support-organisations"),
        (None, "Talking points on the roadmap for human rights defenders", "national-human-rights-institutions"),
    ],
)
def test_where_the_chat_would_ask_the_eval_picks_an_audience_as_a_user_would(audience, request_text, expected):
    item = EvalItem(id="d9", kind="talking_points", request=request_text, audience=audience)
    assert draft_audience(item, FakeRetriever().embed) == expected


def test_an_audience_the_product_does_not_know_is_drafted_for_the_closest_one(tmp_path):
    composer = Composer(offline_settings(tmp_path), FakeRetriever())
    task = EvalItem(id="d7", kind="talking_points", request="Points on the roadmap", audience="human rights defenders")
    result = run_draft(composer, task)
    assert result.error is None and result.units
    assert draft_audience(task, composer.retriever.embed) == "national-human-rights-institutions"


# -- the command, on the fixture guide ----------------------------------------------------------------
TINY_SET = [
    {"id": "q1", "kind": "qa", "question": "What is a high-level mission?"},
    {"id": "d1", "kind": "briefing", "persona": "envoy",
     "request": "Brief a former president visiting Moldova to unblock a stalled dialogue with the minister.",
     "expected_urls": ["https://guide.test/toolkit/the-tools/11-high-level-missions"],
     "must_cover": ["risks of a badly prepared visit", "purpose of the meetings"], "country": "Moldova",
     "unknown_facts": ["names of the officials on the agenda"]},
    {"id": "d2", "kind": "talking_points", "persona": "staff", "request": "Points for the partner government on joint analysis",
     "audience": "the partner government", "expected_urls": ["https://guide.test/guide/the-participatory-policy-analysis-ppa"],
     "must_cover": ["shared evidence"]},
]


def test_eval_drafts_command_writes_metrics_and_report(tmp_path, monkeypatch, settings, retriever):
    monkeypatch.setenv("INSPIRED_DATA_DIR", str(settings.data_dir))
    monkeypatch.setattr(cli, "open_retriever", lambda _settings: retriever)
    dataset = tmp_path / "tiny.jsonl"
    dataset.write_text("\n".join(json.dumps(line) for line in TINY_SET) + "\n")
    out, reports, history = tmp_path / "drafts.json", tmp_path / "reports", tmp_path / "history.jsonl"
    run = CliRunner().invoke(cli.app, ["eval", "drafts", "--dataset", str(dataset), "--json", str(out),
                                       "--report-dir", str(reports), "--history", str(history)])
    assert run.exit_code == 0, run.output
    metrics = json.loads(out.read_text())
    assert metrics["n"] == 2 and set(metrics["by_kind"]) == {"briefing", "talking_points"}
    assert metrics["must_cover_threshold"] == MUST_COVER_THRESHOLD
    assert metrics["must_cover_labelled_pairs"] == 0  # the shipped labels are about the public set's tasks
    assert metrics["sections_cited_rate"] > 0.5 and metrics["expected_pages_cited_rate"] == 1.0
    assert metrics["gaps_listed"] == 1.0 and metrics["by_kind"]["talking_points"]["gaps_listed"] is None
    assert (reports / "drafts.md").exists() and (reports / "drafts.png").exists() and (reports / "trend.png").exists()
    assert json.loads(history.read_text())["kind"] == "drafts"


def test_a_line_the_product_cannot_draft_scores_nothing_and_the_run_goes_on(tmp_path, monkeypatch, settings, retriever):
    monkeypatch.setenv("INSPIRED_DATA_DIR", str(settings.data_dir))
    monkeypatch.setattr(cli, "open_retriever", lambda _settings: retriever)
    drafts_points = Composer.points

    def points_or_fail(self, audience, topic=None, **kwargs):
        if topic == "Points for pupils":
            raise ComposeError("this line cannot be drafted")
        return drafts_points(self, audience, topic, **kwargs)

    monkeypatch.setattr(Composer, "points", points_or_fail)
    odd = {"id": "d9", "kind": "talking_points", "persona": "staff", "audience": "media",
           "request": "Points for pupils", "expected_urls": ["https://guide.test/x"], "must_cover": ["what a dialogue is"]}
    dataset = tmp_path / "odd.jsonl"
    dataset.write_text("\n".join(json.dumps(line) for line in [*TINY_SET, odd]) + "\n")
    out = tmp_path / "drafts.json"
    run = CliRunner().invoke(cli.app, ["eval", "drafts", "--dataset", str(dataset), "--json", str(out),
                                       "--report-dir", str(tmp_path / "reports"), "--history", str(tmp_path / "h.jsonl")])
    assert run.exit_code == 0, run.output
    assert "not drafted" in run.output and "d9" in run.output
    metrics = json.loads(out.read_text())
    assert metrics["n"] == 3 and [failed["id"] for failed in metrics["not_drafted"]] == ["d9"]
    assert metrics["by_kind"]["talking_points"]["must_cover_rate"] < 1.0
    assert next(d for d in metrics["drafts"] if d["id"] == "d9")["uncovered"] == ["what a dialogue is"]
