"""Showing crawled strings safely inside Streamlit markdown.

Anything a listing or review says is data, never markup. Most of the dashboard shows such strings
through ``st.text`` or dataframes, which never interpret them. Where a crawled string has to sit
inside a markdown element (a heading, a bold name in a result card), ``escape_markdown`` turns it
into markdown that renders as the original characters and nothing else.
"""

from __future__ import annotations

import re
import string
from urllib.parse import urlsplit

# CommonMark lets any ASCII punctuation character be escaped with a backslash, and an escaped
# character is always literal text. Escaping all of them, rather than a hand-picked list, also
# covers Streamlit's own extensions: colour directives (:red[...]), icons (:material/x:),
# emoji shortcodes (:smile:) and LaTeX ($...$).
_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")
# Line breaks would start new blocks (a heading, a list, a table) inside the element.
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")
# Invisible controls cannot be shown and could confuse a reader; spaces are kept.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Streamlit turns bare URLs, www. names and e-mail addresses into links after parsing, so
# escapes cannot stop it. An invisible word joiner after every colon and before every dot and
# at sign breaks those patterns without changing what a reader sees.
WORD_JOINER = "\u2060"
_LINK_BREAKS = str.maketrans(
    {":": ":" + WORD_JOINER, ".": WORD_JOINER + ".", "@": WORD_JOINER + "@"}
)


def plain_text(text: object, *, max_length: int | None = None) -> str:
    """Return ``text`` as one clean line: no line breaks or control characters, trimmed.

    ``None`` becomes an empty string. With ``max_length``, longer text is cut and ends with an
    ellipsis. The result is for ``st.text`` or a dataframe cell; it is not escaped.
    """
    if text is None:
        return ""
    plain = _CONTROLS.sub("", _LINE_BREAKS.sub(" ", str(text))).strip()
    if max_length is not None and len(plain) > max_length:
        plain = plain[: max_length - 1].rstrip() + "…"
    return plain


def escape_markdown(text: object, *, max_length: int | None = None) -> str:
    """Return markdown that displays ``text`` literally, on one line (see ``plain_text``)."""
    plain = plain_text(text, max_length=max_length)
    return _PUNCTUATION.sub(r"\\\1", plain.translate(_LINK_BREAKS))


def http_url(value: object) -> str | None:
    """The value if it is a plain http(s) URL with a host, else None.

    Only such URLs become links; anything else a page claims (``javascript:``, ``data:``,
    relative paths) stays text.
    """
    if not isinstance(value, str):
        return None
    candidate = value.strip()
    if not candidate or any(ch.isspace() or ord(ch) < 32 for ch in candidate):
        return None
    parts = urlsplit(candidate)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return candidate
