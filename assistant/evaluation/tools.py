""""Which tool?" on the tools lines: does the advice name a tool that fits the situation, and first?"""

from __future__ import annotations

import time

from ..compose import ComposeError
from . import DatasetError, EvalItem, percentile, warm_up

METRICS = ("tool_hit_rate", "top_tool_rate", "tool_recall")


def score_advice(recommended: list[int], expected: set[int]) -> dict[str, float]:
    return {
        "tool_hit_rate": float(bool(expected & set(recommended))),
        "top_tool_rate": float(bool(recommended) and recommended[0] in expected),
        "tool_recall": len(expected & set(recommended)) / len(expected),
    }


def evaluate_tools(composer, items: list[EvalItem]) -> dict:
    graded = [item for item in items if item.kind == "tools" and item.expected_tools]
    rows, latencies = [], []
    warm_up(composer.retriever)
    for item in graded:
        started = time.perf_counter()
        try:
            advice = composer.tools(item.request)
        except ComposeError as exc:
            raise DatasetError(f"{item.id}: {exc}") from exc
        latencies.append((time.perf_counter() - started) * 1000)
        recommended = [tool.number for tool in advice.tools]
        rows.append({"id": item.id, "recommended": recommended, "expected": item.expected_tools,
                     **score_advice(recommended, set(item.expected_tools))})
    result = {"n": len(rows), **{m: round(sum(r[m] for r in rows) / len(rows), 4) if rows else 0.0 for m in METRICS}}
    result["tools_named"] = round(sum(len(r["recommended"]) for r in rows) / len(rows), 2) if rows else 0.0
    result["p50_ms"] = round(percentile(latencies, 0.5), 2)
    result["p95_ms"] = round(percentile(latencies, 0.95), 2)
    result["misses"] = [{k: r[k] for k in ("id", "recommended", "expected")} for r in rows if not r["top_tool_rate"]]
    return result


def print_tools(console, result: dict) -> None:
    from rich.table import Table

    table = Table(title="Which tool?")
    for column in ("n", *METRICS, "tools named", "p50 ms", "p95 ms"):
        table.add_column(column)
    table.add_row(
        str(result["n"]), *(f"{result[m]:.3f}" for m in METRICS), str(result["tools_named"]), str(result["p50_ms"]), str(result["p95_ms"])
    )
    console.print(table)
    for miss in result["misses"]:
        console.print(f"  {miss['id']}: recommended {miss['recommended']}, a fitting first tool: {miss['expected']}")
