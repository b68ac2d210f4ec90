"""What every benchmark shares: where things are, settings for a scratch data dir, timing and percentiles."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from assistant.evaluation import load_dataset, percentile
from assistant.settings import Settings

REPO = Path(__file__).resolve().parents[1]
EVALS = REPO / "evals" / "public.jsonl"
DEFAULT_SOURCE = "../shared/corpus/inspired-guide"
LOOPBACK = "127.0.0.1"

T = TypeVar("T")


def guide_source() -> str:
    """INSPIRED_SOURCE, or the offline stand-in beside the repository (relative paths are from the repo)."""
    source = os.environ.get("INSPIRED_SOURCE", DEFAULT_SOURCE)
    if source.startswith(("http://", "https://")):
        return source
    return str((REPO / source).resolve())


def bench_settings(data_dir: Path, source: str | None = None) -> Settings:
    """Settings for one scratch data dir: the environment's model and chunking, never an LLM."""
    return Settings(_env_file=None, data_dir=data_dir, source=source or guide_source(), llm="")


def timed(action: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def milliseconds(seconds: list[float]) -> dict[str, float]:
    as_ms = [s * 1000 for s in seconds]
    return {"p50": round(percentile(as_ms, 0.5), 1), "p95": round(percentile(as_ms, 0.95), 1)}


def questions(limit: int | None = None) -> list[str]:
    """Distinct, realistic questions: the `question` fields of the public eval set, in file order."""
    seen: list[str] = []
    for item in load_dataset(EVALS):
        if item.question and item.question not in seen:
            seen.append(item.question)
    return seen[:limit]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmHWM for process {pid}")
