"""Embedding threads: one per question in the server and the CLI's searches, every core for a bulk ingest."""

from __future__ import annotations

import os

import pytest
import torch

from assistant.index import GuideIndex


@pytest.fixture
def restore_torch_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_automatic_threads_are_one_for_questions_and_all_cores_for_ingest(settings):
    assert settings.torch_threads() == 1
    assert settings.torch_threads(bulk=True) == (os.cpu_count() or 1)


def test_a_configured_thread_count_wins_in_both_cases(settings):
    pinned = settings.model_copy(update={"embedding_threads": 3})
    assert pinned.torch_threads() == pinned.torch_threads(bulk=True) == 3


def test_loading_the_model_applies_the_threads_of_the_kind_of_work(settings, embeddings, restore_torch_threads):
    torch.set_num_threads(2)
    GuideIndex(settings).embeddings
    assert torch.get_num_threads() == 1
    GuideIndex(settings.model_copy(update={"embedding_threads": 2}), bulk=True).embeddings
    assert torch.get_num_threads() == 2


def test_a_negative_thread_count_is_refused(settings):
    from pydantic import ValidationError

    from assistant.settings import Settings

    with pytest.raises(ValidationError, match="embedding_threads"):
        Settings(_env_file=None, embedding_threads=-1)
