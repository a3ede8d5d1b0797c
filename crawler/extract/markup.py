"""Checking a page's HTML for the breakage that quietly corrupts structured data.

HTML parsers (lxml, browsers) never fail: an element whose end tag is missing simply swallows
everything after it. For microdata that means the wrong properties land in the wrong item (the
practice's name and address inside the therapist, each review inside the one before it), so a
page whose elements are left open is reported even though extraction goes on.

Only elements whose end tag HTML requires are counted; ``</p>``, ``</li>``, ``</td>``,
``</body>`` and the like may legally be left out.
"""

from __future__ import annotations

import re
from collections import Counter

from crawler.extract.result import ExtractionError

# Elements that must be closed explicitly and that structure a page's content.
_CLOSED_ELEMENTS = (
    "div|section|article|main|aside|header|footer|nav|span|a|ul|ol|dl|table|form|"
    "h1|h2|h3|h4|h5|h6|blockquote|figure|address|label|button|select|textarea|b|i|em|strong"
)
# Script, style and comment contents are not markup, whatever they contain.
_NOT_MARKUP = re.compile(
    rb"<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL
)
_TAG = re.compile(rb"<(/?)(" + _CLOSED_ELEMENTS.encode() + rb")(?=[\s/>])", re.IGNORECASE)
_HTML_START = re.compile(rb"<html\b|<body\b|<!doctype\s+html", re.IGNORECASE)
# A few stray tags are everyday sloppiness; more than this many means a broken template.
_TOLERANCE = 2


def markup_problems(body: bytes, url: str) -> list[ExtractionError]:
    """Return ``html/unclosed-elements`` when a page leaves elements open, else nothing.

    A regular-expression count over the bytes (scripts, styles and comments removed), not a
    parse: it must cost next to nothing on every page of a crawl. Non-HTML bodies are skipped.
    """
    if not _HTML_START.search(body[:4096]):
        return []
    markup = _NOT_MARKUP.sub(b"", body)
    opened: Counter[bytes] = Counter()
    closed: Counter[bytes] = Counter()
    for match in _TAG.finditer(markup):
        name = match[2].lower()
        (closed if match[1] else opened)[name] += 1
    left_open = {
        name.decode(): opened[name] - closed[name]
        for name in opened
        if opened[name] - closed[name] > 0
    }
    if sum(left_open.values()) <= _TOLERANCE:
        return []
    detail = ", ".join(f"{count} <{name}>" for name, count in sorted(left_open.items()))
    return [ExtractionError("html/unclosed-elements", f"{url}: never closed: {detail}")]
