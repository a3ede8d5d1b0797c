"""Crawled strings inside markdown display literally; only plain http(s) URLs become links."""

from __future__ import annotations

import pytest

from dashboard.markup import WORD_JOINER, escape_markdown, http_url, plain_text
from tests.e2e.apptest import shown
from tests.e2e.dashboard_world import HOSTILE_STRINGS

TRICKY = (
    *HOSTILE_STRINGS,
    ":red[red] :material/home: :smile:",
    "$x^2$ a_b_c ~~strike~~ `code`",
    "# heading",
    "1. list",
    "> quote",
    "| a | b |",
    "http://evil.example/x www.evil.example jane@example.com",
    "\\*already escaped\\*",
    "&lt;b&gt; &amp;",
)


@pytest.mark.parametrize("text", TRICKY)
def test_every_markdown_character_is_escaped(text: str) -> None:
    escaped = escape_markdown(text)
    assert shown(escaped) == text
    # No punctuation is left unescaped, so nothing can open markup.
    body = escaped.replace(WORD_JOINER, "")
    i = 0
    while i < len(body):
        if body[i] == "\\":
            i += 2
            continue
        assert body[i].isalnum() or body[i] in " \u2026" or ord(body[i]) > 127, (body, i)
        i += 1


def test_links_are_broken_by_invisible_joiners() -> None:
    escaped = escape_markdown("see http://evil.example or jane@example.com")
    assert "http\\:" + WORD_JOINER in escaped
    assert WORD_JOINER + "\\@" in escaped
    assert WORD_JOINER + "\\." in escaped


def test_line_breaks_and_controls_become_one_clean_line() -> None:
    assert plain_text("a\nb\r\n\u2028c\x00d\x1b ") == "a b cd"
    assert escape_markdown("# a\n# b") == "\\# a \\# b"
    assert escape_markdown(None) == ""


def test_long_text_is_cut_with_an_ellipsis_before_escaping() -> None:
    assert plain_text("abcdefghij", max_length=5) == "abcd…"
    assert escape_markdown("a.b.c.d.e", max_length=4) == f"a{WORD_JOINER}\\.b…"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://example.org/x?y=1", "https://example.org/x?y=1"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/"),
        ("  https://example.org  ", "https://example.org"),
        ("javascript:alert(1)", None),
        ("JAVASCRIPT:alert(1)", None),
        ("data:text/html,<script>", None),
        ("//evil.example/x", None),
        ("/relative", None),
        ("https://", None),
        ("https://exa mple.org", None),
        ("https://example.org/\nx", None),
        (None, None),
        (42, None),
    ],
)
def test_only_plain_http_urls_become_links(value: object, expected: str | None) -> None:
    assert http_url(value) == expected
