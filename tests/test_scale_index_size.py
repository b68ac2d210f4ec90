"""An index bigger than one SQLite statement can address: embedded Chroma reads at most 32,766
records per `get`, so loading every chunk at once breaks on a guide of ~11,700 pages (2.8 chunks a page)."""

from __future__ import annotations

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from assistant.index import GuideIndex
from assistant.models import Page

SQLITE_MAX_VARIABLES = 32_766
SECTIONS_PER_PAGE = 100


def pages_holding(chunks: int) -> list[Page]:
    """Pages of many short sections: one chunk per section, so few pages make many chunks."""
    count = -(-chunks // SECTIONS_PER_PAGE)
    return [
        Page(
            url=f"https://guide.test/big/{p}",
            title=f"Big page {p}",
            markdown="\n\n".join(f"## Part {s}\n\nShort note {s} of page {p}." for s in range(SECTIONS_PER_PAGE)),
        )
        for p in range(count)
    ]


@pytest.mark.slow
def test_an_index_above_the_sqlite_variable_limit_loads_and_re_ingests(settings):
    pages = pages_holding(SQLITE_MAX_VARIABLES + 1_234)
    index = GuideIndex(settings, embeddings=DeterministicFakeEmbedding(size=4))
    first = index.ingest(pages)
    assert first.chunks == len(pages) * SECTIONS_PER_PAGE > SQLITE_MAX_VARIABLES

    assert len(index.all_chunks()) == first.chunks
    again = index.ingest(pages)
    assert again.unchanged == len(pages) and not again.changed
