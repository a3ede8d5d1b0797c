"""Turning HTML fragments and ragged text (bios, review bodies) into clean plain text."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, NavigableString, Tag

# Elements that start a new paragraph; <br> only breaks the line.
_BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "blockquote",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "table",
        "dd",
        "dt",
        "pre",
        "address",
        "header",
        "footer",
    }
)
_DROP_TAGS = frozenset({"script", "style", "noscript", "template"})
_LOOKS_LIKE_HTML = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?\s*>|&[a-zA-Z#0-9]+;")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_PARAGRAPH = "\x00P\x00"
_LINE = "\x00L\x00"


def clean_text(value: str | None) -> str | None:
    """Return ``value`` as plain text: tags and entities resolved, whitespace collapsed.

    Paragraphs (block elements, or blank lines in plain text) are kept, separated by a blank
    line; ``<br>`` becomes a single newline. Returns None when nothing is left.
    """
    if value is None:
        return None
    # Markup starts with "<" or "&": text with neither (most reviews) is not searched for it.
    if ("<" in value or "&" in value) and _LOOKS_LIKE_HTML.search(value):
        return _html_to_text(value)
    if "\n" not in value and "\r" not in value:
        return " ".join(value.split()) or None  # what _tidy makes of a single line
    return _tidy(value.replace("\r\n", "\n").replace("\r", "\n"))


def _html_to_text(fragment: str) -> str | None:
    soup = BeautifulSoup(fragment, "html.parser")
    parts: list[str] = []
    _collect(soup, parts)
    joined = "".join(parts)
    # Markers survive whitespace collapsing below; source newlines inside a paragraph do not.
    joined = " ".join(joined.split())
    joined = joined.replace(_PARAGRAPH, "\n\n").replace(_LINE, "\n")
    return _tidy(joined)


def _collect(node: Tag, parts: list[str]) -> None:
    for child in node.children:
        if isinstance(child, NavigableString):
            if type(child) is NavigableString:  # skip comments, CDATA, doctypes
                parts.append(str(child))
            continue
        if not isinstance(child, Tag) or child.name in _DROP_TAGS:
            continue
        if child.name == "br":
            parts.append(_LINE)
            continue
        block = child.name in _BLOCK_TAGS
        if block:
            parts.append(_PARAGRAPH)
        _collect(child, parts)
        if block:
            parts.append(_PARAGRAPH)


def _tidy(text: str) -> str | None:
    paragraphs = []
    for paragraph in _PARAGRAPH_BREAK.split(text):
        lines = [" ".join(line.split()) for line in paragraph.split("\n")]
        kept = "\n".join(line for line in lines if line)
        if kept:
            paragraphs.append(kept)
    return "\n\n".join(paragraphs) or None
