"""Text from the guide, from users' notes and from users themselves, made safe to process and to show.

``valid_unicode``: Python strings can hold lone surrogate code points (a JSON ``"\\ud800"`` escape,
an undecodable command-line byte, a YAML ``"\\uD83D\\uDE00"`` pair, which PyYAML leaves split) that no
UTF-8 encoder, tokenizer or database accepts; they are repaired where text comes in. ``ValidText`` is a
``str`` that pydantic models repair so on validation.

``inert_markdown``: Chainlit renders messages and side panels as Markdown with raw HTML turned off
(``unsafe_allow_html = false`` in the generated config). This is a second line of defence for the
day that setting changes: no tag in a title, a passage or a file name reaches the page as HTML.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

# Where CommonMark starts raw HTML: "<" then a tag name, "/", "!" (comments, CDATA) or "?". A "<" that
# ends the text counts too, so streamed pieces are safe one by one ("<" in one piece, "img" in the next).
_TAG_OPENING = re.compile(r"<(?=[A-Za-z/!?]|\Z)")


def valid_unicode(text: str) -> str:
    """``text`` with surrogate pairs joined into their character and lone surrogates replaced by U+FFFD."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


ValidText = Annotated[str, AfterValidator(valid_unicode)]


def inert_markdown(text: str) -> str:
    """``text`` with every "<" that could open an HTML tag written as ``&lt;``.

    Markdown renders ``&lt;`` as a visible "<", so the reader sees the text as written; Markdown
    syntax (emphasis, links, quotes) is left alone. Idempotent: escaping twice changes nothing more.
    """
    return _TAG_OPENING.sub("&lt;", text)
