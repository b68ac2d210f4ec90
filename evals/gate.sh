#!/usr/bin/env bash
# The eval gate: index the stand-in guide in a scratch data dir, run the evals, fail under the thresholds.
set -euo pipefail
cd "$(dirname "$0")/.."
export INSPIRED_SOURCE="${INSPIRED_SOURCE:-../shared/corpus/inspired-guide}"
export INSPIRED_DATA_DIR="${GATE_DATA_DIR:-$(mktemp -d)}"
export HF_HUB_OFFLINE=1
mkdir -p evals/reports
.venv/bin/inspired ingest
.venv/bin/inspired eval retrieval --dataset evals/public.jsonl --compare --json evals/reports/retrieval.json
# The same questions with two words each misspelt: typo correction must keep finding the pages.
.venv/bin/inspired eval retrieval --dataset evals/public.jsonl --typos 2 --json evals/reports/retrieval_typos.json
# Answers and drafts in extractive mode, the mode evals/thresholds.json was measured in.
INSPIRED_LLM= .venv/bin/inspired eval answers --dataset evals/public.jsonl --json evals/reports/answers.json
# Out-of-scope questions (today's politics, statistics, forecasts, errands): their own report, kept out of the history.
INSPIRED_LLM= .venv/bin/inspired eval answers --dataset evals/scope.jsonl --json evals/reports/scope.json \
  --report-dir "$INSPIRED_DATA_DIR/scope-report" --history "$INSPIRED_DATA_DIR/scope-history.jsonl"
INSPIRED_LLM= .venv/bin/inspired eval drafts --dataset evals/public.jsonl --json evals/reports/drafts.json
INSPIRED_LLM= .venv/bin/inspired eval tools --dataset evals/tools.jsonl --json evals/reports/tools.json
.venv/bin/python evals/gate.py evals/thresholds.json evals/reports
