"""build_chat_model: INSPIRED_LLM strings to LangChain chat models, and clear errors for bad ones."""

from __future__ import annotations

import pytest
from fakes import offline_settings
from langchain_anthropic import ChatAnthropic
from langchain_openai import ChatOpenAI

from assistant.compose import LLMConfigError, build_chat_model
from assistant.compose.llm import OLLAMA_BASE_URL


def test_empty_setting_means_extractive_mode(tmp_path):
    assert build_chat_model(offline_settings(tmp_path)) is None


def test_openai_compatible_server_gets_base_url_timeout_and_retries(tmp_path):
    model = build_chat_model(offline_settings(
        tmp_path, llm="openai:my-model", llm_base_url="http://127.0.0.1:9/v1", llm_timeout_s=7, llm_max_retries=4))
    assert isinstance(model, ChatOpenAI)
    assert model.model_name == "my-model" and model.openai_api_base == "http://127.0.0.1:9/v1"
    assert model.request_timeout == 7 and model.max_retries == 4


def test_ollama_uses_its_openai_endpoint_and_keeps_tags(tmp_path):
    model = build_chat_model(offline_settings(tmp_path, llm="ollama:llama3.2:3b"))
    assert isinstance(model, ChatOpenAI)
    assert model.model_name == "llama3.2:3b" and model.openai_api_base == OLLAMA_BASE_URL


def test_anthropic_model(tmp_path):
    model = build_chat_model(offline_settings(tmp_path, llm="anthropic:claude-test", llm_api_key="k", llm_timeout_s=9))
    assert isinstance(model, ChatAnthropic)
    assert model.model == "claude-test" and model.default_request_timeout == 9


def test_missing_api_key_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(LLMConfigError, match="INSPIRED_LLM_API_KEY"):
        build_chat_model(offline_settings(tmp_path, llm="openai:gpt-4o-mini"))


def test_a_folder_without_a_model_is_a_clear_error(tmp_path):
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    with pytest.raises(LLMConfigError, match="could not load the local model"):
        build_chat_model(offline_settings(tmp_path, llm=f"hf:{empty}"))


@pytest.mark.parametrize("spec, words", [
    ("hf:/no/such/model.gguf", "no such model"),
    ("mystery:model", "unknown provider"),
    ("openai:", "names no model"),
])
def test_bad_settings_raise_a_clear_error(tmp_path, spec, words):
    with pytest.raises(LLMConfigError, match=words):
        build_chat_model(offline_settings(tmp_path, llm=spec))
