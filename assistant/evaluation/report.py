"""Eval reports: Markdown + HTML with charts, the worst cases beside what was retrieved, and a run history.

The Markdown/HTML/JSON reports quote guide passages and are git-ignored; the PNG charts and
``evals/history.jsonl`` (metrics only, no text) are meant to be committed, so a regression shows in review.
"""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from markdown_it import MarkdownIt

from . import answers, drafts

REPORT_DIR = Path("evals/reports")
HISTORY_PATH = Path("evals/history.jsonl")
TREND_RUNS = 30
HEADLINE = {"answers": answers.METRICS, "drafts": drafts.METRICS}

HTML_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font: 15px/1.5 system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem; color: #222; }}
table {{ border-collapse: collapse; }} th, td {{ border: 1px solid #ccc; padding: .25rem .6rem; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }} img {{ max-width: 100%; }}
blockquote {{ margin: .5rem 0; padding: .25rem 1rem; border-left: 4px solid #ccd; background: #f7f7fb; }}
</style></head><body>
{body}
</body></html>
"""


# -- history ----------------------------------------------------------------------------------------
def git_commit() -> str | None:
    """Short hash of HEAD of the checkout we run in, or None outside one (or without git installed)."""
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def scalar_metrics(result: dict) -> dict[str, float]:
    """The top-level numbers of a result (no per-case text, which may quote the guide)."""
    return {k: v for k, v in result.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def append_history(path: Path, kind: str, dataset: Path, result: dict) -> dict:
    line = {
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "dataset": str(dataset),
        "kind": kind,
        "mode": result.get("mode"),
        "metrics": scalar_metrics(result),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")
    return line


def read_history(path: Path) -> list[dict]:
    """Past runs; a line that is not valid JSON (a merge gone wrong) is skipped rather than fatal."""
    if not path.is_file():
        return []
    runs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            runs.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return runs


# -- charts -----------------------------------------------------------------------------------------
def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_groups(title: str, metrics: tuple[str, ...], groups: dict[str, dict], path: Path) -> Path:
    """One small chart per metric, one bar per group (all, each persona, each kind)."""
    plt = _pyplot()
    columns = 4
    rows = -(-len(metrics) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.8 * rows), squeeze=False)
    names = list(groups)
    colours = [f"C{i}" for i in range(len(names))]
    for ax, metric in zip(axes.flat, metrics):
        values = [groups[name].get(metric) for name in names]
        ax.bar(range(len(names)), [v or 0.0 for v in values], color=colours)
        for x, value in enumerate(values):
            ax.text(x, (value or 0.0) + 0.02, "–" if value is None else f"{value:.2f}", ha="center", fontsize=7)
        ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=7)
        ax.set_ylim(0, 1.12)
        ax.set_title(metric + (" ↓" if metric in answers.LOWER_IS_BETTER else ""), fontsize=9)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_trend(history: list[dict], path: Path, runs: int = TREND_RUNS) -> Path:
    """The headline metrics of the last runs of each kind, oldest left; a drop is a regression."""
    plt = _pyplot()
    kinds = [kind for kind in HEADLINE if any(run.get("kind") == kind for run in history)] or list(HEADLINE)
    fig, axes = plt.subplots(len(kinds), 1, figsize=(10, 3.4 * len(kinds)), squeeze=False)
    for ax, kind in zip(axes.flat, kinds):
        recent = [run for run in history if run.get("kind") == kind][-runs:]
        for metric in HEADLINE[kind]:
            points = [(i, run["metrics"].get(metric)) for i, run in enumerate(recent)]
            points = [(i, v) for i, v in points if v is not None]
            if points:
                ax.plot(*zip(*points), marker="o", label=metric)
        ax.set_xticks(range(len(recent)), [run.get("commit") or run["timestamp"][:10] for run in recent], rotation=45, ha="right", fontsize=7)
        ax.set_ylim(0, 1.05)
        ax.set_title(f"{kind}: last {len(recent)} runs")
        if ax.get_lines():
            ax.legend(fontsize=7, loc="lower left", ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# -- Markdown ----------------------------------------------------------------------------------------
def _fmt(value) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def metrics_table(metrics: tuple[str, ...], groups: dict[str, dict]) -> list[str]:
    lines = ["| metric | " + " | ".join(groups) + " |", "|---|" + "---|" * len(groups)]
    lines += [f"| {m} | " + " | ".join(_fmt(g.get(m)) for g in groups.values()) + " |" for m in [*metrics, "n"]]
    return lines


def quoted(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.strip().splitlines()) or ">"


def run_header(title: str, result: dict, run: dict | None) -> list[str]:
    when = run["timestamp"] if run else datetime.now(timezone.utc).isoformat(timespec="seconds")
    commit = (run or {}).get("commit") or "unknown"
    return [
        f"# {title}", "",
        f"Run {when}, commit `{commit}`, {result['mode']} mode, n = {result['n']}, "
        f"latency p50 {result['p50_ms']} ms / p95 {result['p95_ms']} ms.", "",
    ]


def answers_markdown(result: dict, run: dict | None) -> str:
    groups = {"all": result, **result["by_persona"]}
    lines = run_header("Answers on the eval set", result, run)
    lines += [f"Sentence support: {result['support']}. Judge: {result['judge']}.", ""]
    extra = [m for m in ("judge_faithfulness", "judge_relevancy") if m in result]
    lines += metrics_table(answers.METRICS + tuple(extra), groups)
    lines += ["", "![metrics per persona](answers.png)", "", "![trend](trend.png)", "", "## The worst cases", ""]
    for rank, case in enumerate(result["worst"], 1):
        lines += [f"### {rank}. {case['id']} ({case['persona']}): {'; '.join(case['problems'])}", "",
                  f"**Question:** {case['question']}", "", "**Answer:**", "", quoted(case["answer"]), ""]
        if case["unsupported"]:
            lines += ["**Unsupported sentences:**", ""] + [f"- {s}" for s in case["unsupported"]] + [""]
        lines += [f"**Retrieved passages** (retrieval confidence {case['confidence']}):", ""]
        for n, passage in enumerate(case["retrieved"], 1):
            lines += [f"{n}. [{passage['title']}]({passage['url']}) — {passage['heading']}", "", quoted(passage["text"]), ""]
    return "\n".join(lines) + "\n"


def drafts_markdown(result: dict, run: dict | None) -> str:
    groups = {"all": result, **result["by_kind"], **result["by_persona"]}
    lines = run_header("Briefings and talking points on the eval set", result, run)
    accuracy = result["must_cover_label_accuracy"]
    lines += [
        f"Must-cover threshold {result['must_cover_threshold']} (accuracy {_fmt(accuracy)} on "
        f"{result['must_cover_labelled_pairs']} hand-labelled pairs; `must_cover_rate_hand_read` puts a person's reading "
        f"in place of the scorer's for the {result['must_cover_hand_read_phrases']} phrases whose closest section was read). "
        "Unknown facts in tasks without a gap list "
        f"(talking points): {result['unknown_facts_without_gap_list']}.", "",
    ]
    lines += metrics_table(drafts.METRICS, groups)
    lines += ["", "![metrics per kind and persona](drafts.png)", "", "![trend](trend.png)", "", "## The worst drafts", ""]
    for rank, draft in enumerate(result["worst"], 1):
        lines += [f"### {rank}. {draft['id']} ({draft['kind']}, {draft['persona']})", "", f"**Request:** {draft['request']}", "",
                  "| must cover | closest section | similarity | covered |", "|---|---|---|---|"]
        lines += [f"| {m['phrase']} | {m['heading']} | {m['similarity']:.3f} | {'yes' if m['covered'] else 'no'} |" for m in draft["matches"]]
        missing = sorted(set(draft["expected_urls"]) - set(draft["cited_urls"]))
        lines += ["", "**Expected pages not cited:** " + (", ".join(missing) or "none"), ""]
        if draft["unknown_facts"]:
            listed = draft["facts_listed"] or [False] * len(draft["unknown_facts"])
            lines += ["**Unknown facts:** " + "; ".join(f"{f} ({'listed' if ok else 'not listed'})" for f, ok in zip(draft["unknown_facts"], listed)), ""]
        if draft["gaps"]:
            lines += ["**Gaps listed by the draft:**", ""] + [f"- {gap}" for gap in draft["gaps"]] + [""]
        for section in draft["sections"]:
            lines += [f"**{section['heading']}**{'' if section['cited'] else ' (no citation)'}", "", quoted(section["text"]), ""]
    return "\n".join(lines) + "\n"


def write_html(markdown: str, path: Path, title: str) -> Path:
    # Raw HTML in quoted passages stays escaped: the report must not run anything a page carried.
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    path.write_text(HTML_PAGE.format(title=title, body=body), encoding="utf-8")
    return path


# -- one call per runner ---------------------------------------------------------------------------------
def write_report(kind: str, result: dict, dataset: Path, out_dir: Path = REPORT_DIR, history: Path | None = HISTORY_PATH) -> list[Path]:
    """Markdown, HTML and charts for one run of ``kind`` ("answers" or "drafts"); the run joins ``history`` unless None."""
    out_dir.mkdir(parents=True, exist_ok=True)
    run = append_history(history, kind, dataset, result) if history is not None else None
    if kind == "answers":
        groups, markdown, title = {"all": result, **result["by_persona"]}, answers_markdown(result, run), "Answers"
    else:
        groups, markdown, title = {"all": result, **result["by_kind"], **result["by_persona"]}, drafts_markdown(result, run), "Drafts"
    written = [plot_groups(f"{title} ({result['mode']}, n={result['n']})", HEADLINE[kind], groups, out_dir / f"{kind}.png")]
    written.append(plot_trend(read_history(history) if history is not None else [], out_dir / "trend.png"))
    md_path = out_dir / f"{kind}.md"
    md_path.write_text(markdown, encoding="utf-8")
    written += [md_path, write_html(markdown, out_dir / f"{kind}.html", f"{title}: INSPIRED Assistant eval")]
    return written
