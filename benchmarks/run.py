#!/usr/bin/env python3
"""Run the benchmarks and write benchmarks/results.json and results.md (also printed).

    ./benchmarks/run.py                      # everything (about 10 minutes on 2 idle cores)
    ./benchmarks/run.py --only ingest,retrieval
    ./benchmarks/run.py --synthetic-pages 2000 --only retrieval

Offline and loopback only: the stand-in guide (INSPIRED_SOURCE, default ../shared/corpus/inspired-guide),
a generated synthetic guide, and `inspired serve` on a free 127.0.0.1 port. Scratch data lives in a
temporary folder that is removed at the end (--keep to look at it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV_PYTHON = REPO / ".venv" / "bin" / "python"

# `./benchmarks/run.py` may start under the system Python: move to the project's venv first.
if Path(sys.prefix).resolve() != VENV_PYTHON.parents[1].resolve() and VENV_PYTHON.exists():
    os.execv(VENV_PYTHON, [str(VENV_PYTHON), __file__, *sys.argv[1:]])
sys.path.insert(0, str(REPO))  # run as a script, the benchmarks package is found from the repo root

import argparse  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from benchmarks import ingest, report, retrieval, server  # noqa: E402
from benchmarks.common import guide_source  # noqa: E402
from benchmarks.workspace import Workspace  # noqa: E402

PARTS = {"ingest": ingest.run, "retrieval": retrieval.run, "server": server.run}
NOTES = {
    "ingest": ["the model's load is timed apart (`model_load_s`) and excluded from both ingest times"],
    "retrieval": [
        "the synthetic pages are stored with seeded random unit vectors instead of the model's: embedding "
        "~{pages} pages with MiniLM on 2 cores takes far longer than 10 minutes; searches still go through the real "
        "HybridRetriever with the real model embedding each question, so dense ranking there is meaningless "
        "but its cost is real",
    ],
    "server": [
        "measured through the running `inspired serve` (Chainlit) with the UI's own socket.io protocol, after a "
        "password login per user created with `inspired users add`; extractive mode (no LLM), SQLite history",
        "`rss_mb` is the peak RSS (VmHWM) of the server process holding the synthetic index, read after it answered",
        "the synthetic index's random vectors make the guide's questions look uncovered, so replies there are mostly "
        "abstentions: `ttft_10k_ms` measures retrieval at that size more than sentence extraction",
    ],
}


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts: {', '.join(PARTS)}")
    parser.add_argument("--synthetic-pages", type=int, default=10_000, help="size of the synthetic guide")
    parser.add_argument("--keep", action="store_true", help="keep the scratch data folder and print where it is")
    parsed = parser.parse_args()
    parsed.parts = [part.strip() for part in parsed.only.split(",") if part.strip()]
    unknown = [part for part in parsed.parts if part not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    return parsed


def machine() -> dict:
    return {"cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()], "source": guide_source()}


def run_parts(workspace: Workspace, parts: list[str]) -> dict:
    metrics, runs = {}, {}
    for part in parts:
        print(f"== {part} …", file=sys.stderr, flush=True)
        started, load = time.perf_counter(), machine()["load_average"]
        metrics.update(PARTS[part](workspace))
        runs[part] = {
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "load_average_at_start": load,  # the machine is shared: a busy one slows every figure
            "seconds": round(time.perf_counter() - started, 1),
            "notes": [note.format(pages=workspace.synthetic_count) for note in NOTES[part]],
        }
    return {"metrics": metrics, "parts": runs}


def main() -> None:
    options = arguments()
    root = Path(tempfile.mkdtemp(prefix="inspired-bench-"))
    try:
        started_on = machine()
        results = run_parts(Workspace(root, synthetic_count=options.synthetic_pages), options.parts)
        combined = report.write(Path(__file__).parent, {"machine": started_on, **results})
        print(report.markdown(combined))
    finally:
        if options.keep:
            print(f"scratch data kept in {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
