"""Chat models from ``INSPIRED_LLM`` and the guarded ways of calling them.

``openai:MODEL`` (optionally any OpenAI-compatible server via INSPIRED_LLM_BASE_URL: vLLM, LM Studio,
llama.cpp, Ollama), ``anthropic:MODEL``, ``ollama:MODEL`` (Ollama's OpenAI-compatible endpoint, so no
extra package) and ``hf:/local/path`` (a Hugging Face model folder or a ``.gguf`` file; never downloaded).
Every call failure surfaces as :class:`LLMFailure`, which callers turn into the extractive answer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.output_parsers import PydanticOutputParser
from langchain_huggingface import ChatHuggingFace
from pydantic import BaseModel

from ..settings import Settings

log = logging.getLogger(__name__)

OLLAMA_BASE_URL = "http://127.0.0.1:11434/v1"
LOCAL_MAX_NEW_TOKENS = 512
UNREACHABLE_NOTICE = "The language model could not be reached; this is an extract of the guide instead."
UNUSABLE_NOTICE = "The language model's reply could not be checked against the guide; this is an extract of the guide instead."

_REASONING = re.compile(r"<think>.*?(?:</think>|$)", re.S | re.I)
Draft = TypeVar("Draft", bound=BaseModel)


class LLMConfigError(ValueError):
    """INSPIRED_LLM cannot be turned into a model; str(e) says what to fix."""


class LLMFailure(Exception):
    """A model call that failed for good (after the client's retries) or replied with something unusable."""

    def __init__(self, reason: str, notice: str = UNREACHABLE_NOTICE):
        super().__init__(reason)
        self.notice = notice


def build_chat_model(settings: Settings) -> BaseChatModel | None:
    """The chat model named by ``settings.llm``; None when it is empty (extractive mode)."""
    spec = settings.llm.strip()
    if not spec:
        return None
    provider, _, model = spec.partition(":")
    provider = provider.strip().lower()
    if not model.strip():
        raise LLMConfigError(f"INSPIRED_LLM={spec!r} names no model: use provider:model, e.g. openai:gpt-4o-mini.")
    if provider == "openai":
        return _openai_compatible(model, settings.llm_base_url or None, settings)
    if provider == "ollama":
        return _openai_compatible(model, settings.llm_base_url or OLLAMA_BASE_URL, settings)
    if provider == "anthropic":
        return _anthropic(model, settings)
    if provider == "hf":
        return _local_hugging_face(Path(model).expanduser(), settings)
    raise LLMConfigError(f"INSPIRED_LLM={spec!r}: unknown provider {provider!r} (use openai, anthropic, ollama or hf).")


def _init(model: str, provider: str, **kwargs) -> BaseChatModel:
    from langchain.chat_models import init_chat_model

    try:
        return init_chat_model(model, model_provider=provider, **{k: v for k, v in kwargs.items() if v is not None})
    except Exception as exc:  # the providers raise assorted errors for missing keys or packages
        raise LLMConfigError(
            f"could not set up the {provider} model {model!r}: {exc} "
            "(check INSPIRED_LLM_API_KEY, or INSPIRED_LLM_BASE_URL for a local OpenAI-compatible server)"
        ) from exc


def _openai_compatible(model: str, base_url: str | None, settings: Settings) -> BaseChatModel:
    # Local OpenAI-compatible servers ignore the key but the client insists on having one.
    api_key = settings.llm_api_key.get_secret_value() or ("not-needed" if base_url else None)
    return _init(
        model, "openai", base_url=base_url, api_key=api_key,
        timeout=settings.llm_timeout_s, max_retries=settings.llm_max_retries,
    )


def _anthropic(model: str, settings: Settings) -> BaseChatModel:
    return _init(
        model, "anthropic", base_url=settings.llm_base_url or None, api_key=settings.llm_api_key.get_secret_value() or None,
        timeout=settings.llm_timeout_s, max_retries=settings.llm_max_retries,
    )


class LocalChatHuggingFace(ChatHuggingFace):
    """ChatHuggingFace's own async methods only serve remote endpoints; a local pipeline runs in a worker thread."""

    _agenerate = BaseChatModel._agenerate
    _astream = BaseChatModel._astream


def _local_hugging_face(path: Path, settings: Settings) -> BaseChatModel:
    if not path.exists():
        raise LLMConfigError(f"INSPIRED_LLM=hf:{path}: no such model folder or .gguf file (models are never downloaded).")
    from langchain_huggingface import HuggingFacePipeline
    from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline

    folder, extra = (path.parent, {"gguf_file": path.name}) if path.is_file() else (path, {})
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True, **extra)
        model = AutoModelForCausalLM.from_pretrained(str(folder), local_files_only=True, **extra)
    except Exception as exc:  # transformers raises OSError/ValueError/ImportError depending on what is missing
        raise LLMConfigError(f"could not load the local model at {path}: {exc}") from exc
    generator = pipeline(
        "text-generation", model=model, tokenizer=tokenizer,
        max_new_tokens=LOCAL_MAX_NEW_TOKENS, do_sample=False, return_full_text=False,
    )
    llm = HuggingFacePipeline(pipeline=generator, model_id=str(path))
    return LocalChatHuggingFace(llm=llm, tokenizer=tokenizer, model_id=str(path))


def message_text(message: BaseMessage) -> str:
    """Text of a reply whose content may be a string or a list of content blocks."""
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(block if isinstance(block, str) else block.get("text", "") for block in content)


def without_reasoning(text: str) -> str:
    """Drop a reasoning model's ``<think>…</think>`` preamble."""
    return _REASONING.sub("", text).strip()


def invoke_text(model: BaseChatModel, messages: list[BaseMessage]) -> str:
    try:
        reply = model.invoke(messages)
    except Exception as exc:  # connection refused, HTTP 4xx/5xx after retries, timeouts, provider errors
        log.warning("language model call failed: %s", exc)
        raise LLMFailure(str(exc)) from exc
    text = without_reasoning(message_text(reply))
    if not text:
        raise LLMFailure("the model returned an empty reply", UNUSABLE_NOTICE)
    return text


async def astream_text(model: BaseChatModel, messages: list[BaseMessage]) -> AsyncIterator[str]:
    try:
        async for chunk in model.astream(messages):
            text = message_text(chunk)
            if text:
                yield text
    except Exception as exc:  # as in invoke_text; a stream can also break half-way
        log.warning("language model stream failed: %s", exc)
        raise LLMFailure(str(exc)) from exc


def invoke_json(model: BaseChatModel, messages: list[BaseMessage], schema: type[Draft]) -> Draft:
    """A reply parsed as JSON (code fences tolerated) and validated against ``schema``."""
    text = invoke_text(model, messages)
    try:
        return PydanticOutputParser(pydantic_object=schema).parse(text)
    except Exception as exc:  # OutputParserException for bad JSON or a reply that fails the schema
        log.warning("language model reply was not valid %s: %s", schema.__name__, exc)
        raise LLMFailure(f"malformed reply: {exc}", UNUSABLE_NOTICE) from exc
