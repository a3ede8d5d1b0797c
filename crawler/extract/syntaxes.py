"""Running extruct over a page, one syntax and one JSON-LD script at a time.

Each syntax is extracted on its own so that a failure in one (a broken JSON-LD script, RDFa the
parser chokes on) costs only that part of the page; the failure is recorded and the rest goes on.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import extruct
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


@dataclass(slots=True)
class SyntaxRoots:
    """The root nodes one syntax gave for a page."""

    syntax: str
    roots: list[Node]


def parse_page(
    body: str | bytes, base_url: str, *, encoding: str = "utf-8"
) -> tuple[HtmlElement | None, list[ExtractionError]]:
    """Parse a page once for every syntax; ``None`` and an error when there is nothing to parse."""
    raw = body.encode(encoding) if isinstance(body, str) else body
    if not raw.strip():
        return None, [ExtractionError("html/empty", f"{base_url}: empty body")]
    try:
        return parse_xmldom_html(raw, encoding=encoding), []
    except Exception as exc:  # lxml raises several unrelated types for hopeless input
        return None, [ExtractionError("html/unparseable", f"{base_url}: {exc}")]


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
    extractor = JsonLdExtractor()
    for position, script in enumerate(tree.iter("script"), start=1):
        script_type = " ".join((script.get("type") or "").lower().split())
        where = f"{base_url}: script #{position}"
        if script_type == _JSONLD_TYPE:
            try:
                # extract_items searches descendant-or-self, so it reads just this script
                items.extend(extractor.extract_items(script, base_url=base_url))
                continue
            except Exception as exc:  # extruct raises ValueError or JSONDecodeError subclasses
                items.extend(_repaired(script, where, str(exc), errors))
        elif script_type.startswith(_JSONLD_TYPE):
            items.extend(_repaired(script, where, f"script type {script_type!r}", errors))
        elif script_type in _CODE_SCRIPT_TYPES:
            text = script.xpath("string()")
            if "@context" in text:
                embedded = find_embedded_jsonld(text)
                if embedded:
                    errors.append(
                        ExtractionError(
                            "jsonld/in-script",
                            f"{where}: {len(embedded)} JSON-LD object(s) built inside a script",
                        )
                    )
                    items.extend(embedded)
    return items


def _repaired(
    script: HtmlElement, where: str, reason: str, errors: list[ExtractionError]
) -> list[Any]:
    text = script.xpath("string()")
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
