"""Recovering JSON-LD that a strict parser refuses.

extruct handles clean JSON-LD and JSON with comments; real pages also wrap it in CDATA, leave
control characters or a stray closing brace in it, or build it inside an ordinary script. These
functions repair the text and decode it with the standard library's JSON decoder; nothing here is
a JSON parser of its own.
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

import jstyleson

_CDATA = re.compile(r"<!\[CDATA\[|\]\]>")
_HTML_COMMENT = re.compile(r"<!--|-->")
# JSON allows only tab, newline and carriage return as control characters, and only as whitespace.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTEXT_KEY = re.compile(r'(\\?)"@context(\\?)"')
_DECODER = json.JSONDecoder(strict=False)
# How far back from an "@context" key to look for the brace that opens its object.
_MAX_OPENING_CANDIDATES = 8


def repair_json_text(text: str) -> str:
    """Return ``text`` with the wrappers and debris that real pages leave in JSON-LD removed.

    Removes CDATA markers, HTML comment markers, JavaScript comments, trailing commas and stray
    control characters. The result may still carry trailing garbage; :func:`loads_lenient`
    ignores that, and closes a document whose last closing bracket was lost.
    """
    cleaned = _CDATA.sub("", text)
    cleaned = _HTML_COMMENT.sub("", cleaned)
    cleaned = _CONTROL.sub(" ", cleaned)
    # jstyleson fails on a closing bracket with nothing before it; such text is hopeless as JSON
    # anyway, and the decoder will say so.
    with contextlib.suppress(IndexError):
        # The newline closes a // comment that ends the text, which jstyleson would keep.
        cleaned = jstyleson.dispose(cleaned + "\n")
    return cleaned.strip()


def loads_lenient(text: str) -> list[Any]:
    """Decode repaired JSON-LD text into its top-level values.

    Values written one after another are all returned; anything after the last complete value
    (a stray ``}``, a ``;``) is ignored. Raises ``ValueError`` when no value can be decoded.
    """
    repaired = repair_json_text(text)
    values: list[Any] = []
    position = 0
    while position < len(repaired):
        try:
            value, end = _DECODER.raw_decode(repaired, position)
        except ValueError:
            if values:
                break
            closed = close_last_container(repaired)
            if closed is None:
                raise
            value, end = _DECODER.raw_decode(closed, position)
            repaired = closed
        values.append(value)
        position = end
        while position < len(repaired) and repaired[position] in " \t\r\n;,":
            position += 1
    if not values:
        raise ValueError("no JSON value in script")
    return values


def close_last_container(text: str) -> str | None:
    """Return ``text`` with its one unclosed outer object or array closed, else None.

    Hand-edited templates often lose the document's final ``}`` (and leave a trailing comma
    before it). Only that is repaired: text with more than one container open was cut short,
    and closing it would pass a partial document off as a whole one.
    """
    closers: list[str] = []
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            closers.append("}" if char == "{" else "]")
        elif char in "}]" and (not closers or closers.pop() != char):
            return None
    if in_string or len(closers) != 1:
        return None
    return text.rstrip().rstrip(",").rstrip() + closers[0]


def find_embedded_jsonld(script: str) -> list[dict[str, Any]]:
    """Return the JSON-LD objects built inside an ordinary script.

    Finds each ``"@context"`` key (also when the JSON sits escaped inside a JavaScript string)
    and decodes the innermost object around it. Objects that do not decode are skipped.
    """
    found: list[dict[str, Any]] = []
    for candidate in _script_variants(script):
        consumed_until = 0
        for match in _CONTEXT_KEY.finditer(candidate):
            if match.start() < consumed_until:
                continue
            decoded = _decode_object_around(candidate, match.start())
            if decoded is not None:
                obj, end = decoded
                found.append(obj)
                consumed_until = end
        if found:
            break
    return found


def _script_variants(script: str) -> list[str]:
    """The script as written, then with one level of JavaScript string escaping undone."""
    variants = [script]
    if '\\"' in script:
        variants.append(script.replace('\\"', '"').replace("\\/", "/"))
    return variants


def _decode_object_around(text: str, key_at: int) -> tuple[dict[str, Any], int] | None:
    """Decode the nearest object opening before ``key_at`` that holds it; return it and its end."""
    opening = key_at
    for _ in range(_MAX_OPENING_CANDIDATES):
        opening = text.rfind("{", 0, opening)
        if opening < 0:
            return None
        try:
            value, end = _DECODER.raw_decode(repair_json_text(text[opening:]))
        except ValueError:
            continue
        if isinstance(value, dict) and "@context" in value:
            # raw_decode ran on a repaired copy; measuring the end there is close enough to skip
            # further keys inside the same object.
            return value, opening + end
    return None
