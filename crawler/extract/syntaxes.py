"""Running extruct over a page, one syntax and one JSON-LD script at a time.

Each syntax is extracted on its own so that a failure in one (a broken JSON-LD script, RDFa the
parser chokes on) costs only that part of the page; the failure is recorded and the rest goes on.
"""

from __future__ import annotations

import html
import json
import threading
from dataclasses import dataclass
from typing import Any

import extruct
import lxml.html
from extruct.jsonld import JsonLdExtractor
from extruct.utils import parse_xmldom_html
from lxml import etree
from lxml.html import HtmlElement

from crawler.extract.graph import jsonld_roots, microdata_roots, rdfa_roots
from crawler.extract.jsonld_repair import find_embedded_jsonld, loads_lenient
from crawler.extract.nodes import Node
from crawler.extract.result import ExtractionError

JSON_LD = "json-ld"
MICRODATA = "microdata"
RDFA = "rdfa"
SYNTAXES = (JSON_LD, MICRODATA, RDFA)

_JSONLD_TYPE = "application/ld+json"
# Only plain scripts are searched for JSON-LD built in code; templates and data blocks are not.
_CODE_SCRIPT_TYPES = frozenset(
    {"", "text/javascript", "application/javascript", "module", "text/ecmascript"}
)
# json.loads(text, strict=False) builds a decoder on every call; this one is built once.
_JSON = json.JSONDecoder(strict=False)
_BOM = "\ufeff"


@dataclass(slots=True)
class SyntaxRoots:
    """The root nodes one syntax gave for a page."""

    syntax: str
    roots: list[Node]


def parse_page(
    body: str | bytes, base_url: str, *, encoding: str = "utf-8", rdfa: bool = True
) -> tuple[HtmlElement | None, list[ExtractionError]]:
    """Parse a page once for every syntax; ``None`` and an error when there is nothing to parse.

    ``rdfa=False`` when RDFa will not be read: the tree is then lxml's plain one, as extruct
    builds it for the other syntaxes. RDFa's parser needs elements with an ``xml.dom``
    interface, whose class lookup in Python makes the parse more than twice as slow.
    """
    raw = body.encode(encoding) if isinstance(body, str) else body
    if not raw or raw.isspace():  # nothing but whitespace; isspace stops at the first byte not
        return None, [ExtractionError("html/empty", f"{base_url}: empty body")]
    try:
        if rdfa:
            return parse_xmldom_html(raw, encoding=encoding), []
        return lxml.html.fromstring(raw, parser=_html_parser(encoding)), []
    except Exception as exc:  # lxml raises several unrelated types for hopeless input
        return None, [ExtractionError("html/unparseable", f"{base_url}: {exc}")]


_parsers = threading.local()


def _html_parser(encoding: str) -> lxml.html.HTMLParser:
    """The parser extruct parses a page with when RDFa is not read (``extruct.utils.parse_html``),
    built once per encoding and thread rather than once per page (a parser is reusable, but
    not by two threads at once). RDFa's parser is not kept: it remembers every document it
    parsed."""
    cache: dict[str, lxml.html.HTMLParser] | None = getattr(_parsers, "by_encoding", None)
    if cache is None:
        cache = _parsers.by_encoding = {}
    parser = cache.get(encoding)
    if parser is None:
        parser = cache[encoding] = lxml.html.HTMLParser(encoding=encoding)
    return parser


def roots_of(
    tree: HtmlElement,
    base_url: str,
    *,
    syntaxes: tuple[str, ...] = SYNTAXES,
    errors: list[ExtractionError],
) -> list[SyntaxRoots]:
    """Return each syntax's root nodes in a parsed page, adding the problems met to ``errors``."""
    results: list[SyntaxRoots] = []
    if JSON_LD in syntaxes:
        results.append(SyntaxRoots(JSON_LD, jsonld_roots(_jsonld_items(tree, base_url, errors))))
    if MICRODATA in syntaxes:
        items = _run_extruct(tree, base_url, MICRODATA, errors)
        results.append(SyntaxRoots(MICRODATA, microdata_roots(items)))
    if RDFA in syntaxes:
        items = _run_extruct(tree, base_url, RDFA, errors)
        page_text = _page_text(tree) if items else None
        results.append(SyntaxRoots(RDFA, rdfa_roots(items, page_text=page_text)))
    return results


def _page_text(tree: HtmlElement) -> str:
    """The page's markup with entities decoded, where RDFa's literal values can be found."""
    return html.unescape(etree.tostring(tree, encoding="unicode", method="html"))


def _run_extruct(
    tree: HtmlElement, base_url: str, syntax: str, errors: list[ExtractionError]
) -> list[Any]:
    try:
        data = extruct.extract(
            tree, base_url=base_url, syntaxes=[syntax], uniform=True, errors="strict"
        )
    except Exception as exc:  # a bug or bad markup in one syntax must not lose the others
        errors.append(
            ExtractionError(f"{syntax}/failed", f"{base_url}: {type(exc).__name__}: {exc}")
        )
        return []
    return list(data.get(syntax) or [])


def _jsonld_items(tree: HtmlElement, base_url: str, errors: list[ExtractionError]) -> list[Any]:
    items: list[Any] = []
    for position, script in enumerate(tree.iter("script"), start=1):
        script_type = script.get("type") or ""
        if script_type != _JSONLD_TYPE:  # (written as it is looked for: nothing to normalise)
            script_type = " ".join(script_type.lower().split())
        if script_type == _JSONLD_TYPE:
            try:
                items.extend(_jsonld_script_items(script, base_url))
                continue
            except Exception as exc:  # extruct raises ValueError or JSONDecodeError subclasses
                where = f"{base_url}: script #{position}"
                items.extend(_repaired(script, where, str(exc), errors))
        elif script_type.startswith(_JSONLD_TYPE):
            where = f"{base_url}: script #{position}"
            items.extend(_repaired(script, where, f"script type {script_type!r}", errors))
        elif script_type in _CODE_SCRIPT_TYPES:
            text = _script_text(script)
            if "@context" in text:
                embedded = find_embedded_jsonld(text)
                if embedded:
                    errors.append(
                        ExtractionError(
                            "jsonld/in-script",
                            f"{base_url}: script #{position}: {len(embedded)} JSON-LD object(s)"
                            " built inside a script",
                        )
                    )
                    items.extend(embedded)
    return items


def _jsonld_script_items(script: HtmlElement, base_url: str) -> list[Any]:
    """The items of one JSON-LD script, as extruct's ``extract_items`` reads them.

    Clean JSON, the usual case, is decoded here, without the two XPath evaluations extruct
    spends on finding and reading the script; anything else goes to extruct itself (its
    leniency towards comment lines, its errors). extruct reads only a script whose type is
    exactly ``application/ld+json``, and so gives nothing for another spelling of it.
    """
    if script.get("type") == _JSONLD_TYPE:
        text = _script_text(script)
        try:
            if text.startswith(_BOM):  # json.loads refuses it; so does extruct, below
                raise ValueError("BOM")
            data = _JSON.decode(text)
        except ValueError:
            pass
        else:
            values = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
            return [value for value in values if value]
    # extract_items searches descendant-or-self, so it reads just this script
    return list(JsonLdExtractor().extract_items(script, base_url=base_url))


def _script_text(script: HtmlElement) -> str:
    """A script's text: the HTML parser keeps a script's content as one text node."""
    return script.text or ""


def _repaired(
    script: HtmlElement, where: str, reason: str, errors: list[ExtractionError]
) -> list[Any]:
    text = _script_text(script)
    if not text.strip():
        errors.append(ExtractionError("jsonld/empty", f"{where}: empty JSON-LD script"))
        return []
    try:
        values = loads_lenient(text)
    except ValueError as exc:
        errors.append(
            ExtractionError("jsonld/invalid", f"{where}: {reason}; not repairable: {exc}")
        )
        return []
    errors.append(ExtractionError("jsonld/repaired", f"{where}: {reason}; repaired"))
    items: list[Any] = []
    for value in values:
        items.extend(value if isinstance(value, list) else [value])
    return [i for i in items if isinstance(i, dict)]
