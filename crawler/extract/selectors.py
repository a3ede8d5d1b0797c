"""The selector language of the declarative HTML spider: how a catalog entry names a value.

A *field spec* says where one field of a record is on a page and how to cut it out. It is one of:

``"css selector"``
    The text of what the CSS selector matches. Scrapy's ``::text`` and ``::attr(name)``
    pseudo-elements work. A string that starts with ``/``, ``./``, ``../`` or ``(`` is XPath
    instead (the same goes for the bare selectors of containers, links and ``page_has``).
``{css: ..., xpath: ..., label: ..., url: ..., value: ..., ...}``
    A mapping, with one *source*:

    - ``css`` / ``xpath``: a selector; relative to the record's container, except that an
      absolute XPath (``//h1``) always looks at the whole page;
    - ``label``: the cell next to a label cell (``<th>Status</th><td>Active</td>``,
      ``<td>Name:</td><td>…``, ``<dt>…</dt><dd>…``), the label matched without case, spacing or
      a trailing colon. Combined with ``css``/``xpath``, those select inside the value cell
      (``{label: Address, xpath: "text()[1]"}``);
    - ``url``: a regex searched in the page URL (an id in the URL, say);
    - ``value``: a constant;

    and optional steps, applied in this order:

    - ``attr``: take this attribute of the matched elements instead of their text;
    - ``exclude``: CSS of descendants to leave out of the text ("Report" links, "Read more");
    - ``split``: a regex splitting each text into several values ("a, b, c");
    - ``regex``: a regex searched in each value; values that do not match are dropped. The
      value kept is the group named ``value``, else group 1 of a pattern without named groups,
      else the whole match. Other named groups are values of the fields they are named after
      (``(?P<locality>.+), (?P<region>[A-Z]{2})``), used where the record has no value of its own
      for them;
    - ``join``: join every value into one with this separator (otherwise the first is used);
    - ``many``: keep every value (list fields such as modalities are always ``many``).
``[spec, spec, ...]``
    Alternatives: the first one that yields a value wins.

An element's text is its visible text (``<br>`` is a line break, blocks are paragraphs); after
``split`` and ``regex`` whitespace is collapsed, except in fields that keep their paragraphs
(bios, review bodies). Empty values are dropped.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from lxml import etree
from parsel import Selector
from parsel.csstranslator import HTMLTranslator

from crawler.extract.text import clean_text

_SOURCES = ("css", "xpath", "label", "url", "value")
_STEPS = ("attr", "exclude", "split", "regex", "join", "many")
_LABEL_CELLS = "descendant-or-self::*[self::th or self::td or self::dt]"
# Upper-case letters label matching folds (XPath 1.0 has no lower-case()): ASCII and Latin-1.
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞ"
_XPATH_START = ("/", "./", "../", "(")
_CSS_TO_XPATH = HTMLTranslator()


class SelectorSpecError(ValueError):
    """A field spec in the catalog cannot be used; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Match:
    """One value a field spec found, with the named groups its regex captured."""

    text: str
    groups: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One compiled way of finding a value (see the module docstring for the language)."""

    css: str | None = None
    xpath: str | None = None
    label: str | None = None
    url: re.Pattern[str] | None = None
    value: str | None = None
    attr: str | None = None
    exclude: str | None = None
    split: re.Pattern[str] | None = None
    regex: re.Pattern[str] | None = None
    join: str | None = None
    many: bool = False

    @property
    def group_names(self) -> frozenset[str]:
        """The named groups of the spec's regexes other than ``value``: fields it also fills."""
        names: set[str] = set()
        for pattern in (self.regex, self.url):
            if pattern is not None:
                names.update(pattern.groupindex)
        names.discard("value")
        return frozenset(names)


@dataclass(frozen=True, slots=True)
class Alternatives:
    """Field specs tried in order; the first that yields a value wins."""

    options: tuple[Spec, ...]  # a list in a list is alternatives within alternatives

    @property
    def group_names(self) -> frozenset[str]:
        """Every field the alternatives may fill through named groups."""
        return frozenset().union(*(o.group_names for o in self.options))


Spec = FieldSpec | Alternatives


def compile_spec(raw: Any, where: str) -> Spec:  # noqa: C901 - one check per option of a field spec, in the order the module docstring lists them
    """Compile a field spec from the catalog; SelectorSpecError says what is wrong and where."""
    if isinstance(raw, list):
        if not raw:
            raise SelectorSpecError(f"{where}: an empty list of alternatives")
        options: list[Spec] = []
        for i, item in enumerate(raw):
            spec = compile_spec(item, f"{where}[{i}]")
            options.extend(spec.options if isinstance(spec, Alternatives) else (spec,))
        return Alternatives(tuple(options))
    if isinstance(raw, str):
        raw = {"xpath": raw} if is_xpath(raw) else {"css": raw}
    if not isinstance(raw, Mapping):
        raise SelectorSpecError(f"{where}: expected a selector string, a mapping or a list")
    unknown = set(raw) - set(_SOURCES) - set(_STEPS)
    if unknown:
        raise SelectorSpecError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
            f"use {', '.join(_SOURCES + _STEPS)}"
        )
    sources = {k for k in _SOURCES if k in raw}
    label_and_selector = (
        "label" in sources
        and len(sources - {"label"}) == 1
        and (sources - {"label"} <= {"css", "xpath"})
    )
    if len(sources) != 1 and not label_and_selector:
        raise SelectorSpecError(
            f"{where}: needs exactly one of css, xpath, label, url, value "
            "(label may be combined with css or xpath)"
        )
    for key in ("css", "xpath", "label", "attr", "exclude", "join"):
        if key in raw and not isinstance(raw[key], str):
            raise SelectorSpecError(f"{where}: {key} must be a string")
    if "css" in raw:
        _check_css(raw["css"], where)
    if "exclude" in raw:
        _check_css(raw["exclude"], where)
    if "xpath" in raw:
        _check_xpath(raw["xpath"], where)
    if "many" in raw and not isinstance(raw["many"], bool):
        raise SelectorSpecError(f"{where}: many must be true or false")
    value = raw.get("value")
    if "value" in raw and not isinstance(value, str | int | float):
        raise SelectorSpecError(f"{where}: value must be a string or a number")
    return FieldSpec(
        css=raw.get("css"),
        xpath=raw.get("xpath"),
        label=raw.get("label"),
        url=_pattern(raw.get("url"), f"{where}.url"),
        value=None if value is None else str(value),
        attr=raw.get("attr"),
        exclude=raw.get("exclude"),
        split=_pattern(raw.get("split"), f"{where}.split"),
        regex=_pattern(raw.get("regex"), f"{where}.regex"),
        join=raw.get("join"),
        many=bool(raw.get("many", False)),
    )


def is_xpath(selector: str) -> bool:
    """Whether a bare selector string is XPath (it starts with ``/``, ``./``, ``../`` or ``(``)."""
    return selector.startswith(_XPATH_START)


def compile_selector(raw: Any, where: str) -> str:
    """Check a bare selector (CSS, or XPath when it starts like one) and return it."""
    if not isinstance(raw, str) or not raw.strip():
        raise SelectorSpecError(f"{where}: expected a CSS or XPath selector")
    if is_xpath(raw):
        _check_xpath(raw, where)
    else:
        _check_css(raw, where)
    return raw


def select(scope: Selector, selector: str) -> list[Selector]:
    """Return what a bare selector (CSS, or XPath by its first character) matches in ``scope``."""
    if is_xpath(selector):
        return list(scope.xpath(selector))
    return list(scope.css(selector))


def evaluate(
    spec: Spec,
    scope: Selector,
    page_url: str,
    *,
    keep_paragraphs: bool = False,
    many: bool = False,
) -> list[Match]:
    """Return every value ``spec`` finds in ``scope`` (a page or a record's container).

    ``keep_paragraphs`` keeps line and paragraph breaks in the text (bios, review bodies).
    Honours ``join`` and ``many`` (of the spec, or ``many`` here for list fields): without
    either only the first value is returned.
    """
    if isinstance(spec, Alternatives):
        for option in spec.options:
            first = evaluate(option, scope, page_url, keep_paragraphs=keep_paragraphs, many=many)
            if first:
                return first
        return []
    matches: list[Match] = []
    for found in _texts(spec, scope, page_url):
        pieces = spec.split.split(found.text) if spec.split else [found.text]
        for piece in pieces:
            match = _apply_regex(spec.regex, piece)
            if match is None:
                continue
            tidy = _tidy(match.text, keep_paragraphs)
            if tidy:
                groups = {
                    k: t
                    for k, v in {**found.groups, **match.groups}.items()
                    if (t := _tidy(v, False))
                }
                matches.append(Match(tidy, groups))
    if spec.join is not None and matches:
        return [Match(spec.join.join(m.text for m in matches), matches[0].groups)]
    return matches if spec.many or many else matches[:1]


def _texts(spec: FieldSpec, scope: Selector, page_url: str) -> list[Match]:
    if spec.value is not None:
        return [Match(spec.value)]
    if spec.url is not None:
        found = _apply_regex(spec.url, page_url)
        return [found] if found is not None else []
    nodes: list[Selector] = [scope]
    if spec.label is not None:
        nodes = label_values(scope, spec.label)
    if spec.css is not None:
        nodes = [found for node in nodes for found in node.css(spec.css)]
    elif spec.xpath is not None:
        nodes = [found for node in nodes for found in node.xpath(spec.xpath)]
    texts = []
    for node in nodes:
        text = _node_text(node, spec.attr, spec.exclude)
        if text is not None:
            texts.append(Match(text))
    return texts


def label_values(scope: Selector, label: str) -> list[Selector]:
    """Return the cells that follow a label cell reading ``label`` (th/td/dt), in page order."""
    return list(scope.xpath(label_xpath(label)))


@lru_cache(maxsize=1024)
def label_xpath(label: str) -> str:
    """The XPath of the value cells of ``label``, matched without case, extra spaces or colon.

    Matching happens inside lxml, so a page with many labelled fields stays cheap to read.
    """
    key = " ".join(label.split()).rstrip(":").strip().lower()
    text = f"translate(normalize-space(.), {_literal(_UPPER)}, {_literal(_UPPER.lower())})"
    wanted = " or ".join(f"{text} = {_literal(k)}" for k in (key, f"{key}:", f"{key} :"))
    return f"{_LABEL_CELLS}[{wanted}]/following-sibling::*[1]"


def _literal(text: str) -> str:
    """``text`` as an XPath 1.0 string literal (which has no escapes)."""
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    return "concat(" + ', "\'", '.join(f"'{part}'" for part in text.split("'")) + ")"


def _node_text(node: Selector, attr: str | None, exclude: str | None) -> str | None:
    root = node.root
    if isinstance(root, str):  # a ::text / ::attr() / text() / @attr result
        return root
    if not isinstance(root, etree._Element):
        return None
    if attr is not None:
        value = root.get(attr)
        return None if value is None else str(value)
    if len(root) == 0:
        # A leaf's text needs no markup handling; HTML whitespace in it is insignificant.
        return " ".join((root.text or "").split())
    if exclude:
        root = copy.deepcopy(root)
        for unwanted in root.xpath(_CSS_TO_XPATH.css_to_xpath(exclude)):
            _drop_keeping_tail(unwanted)
    # The element's own tail is text after it, not in it.
    html = etree.tostring(root, encoding="unicode", method="html", with_tail=False)
    return clean_text(html) or ""


def _drop_keeping_tail(element: etree._Element) -> None:
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail or ""
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(element)


def _apply_regex(pattern: re.Pattern[str] | None, text: str) -> Match | None:
    if pattern is None:
        return Match(text)
    found = pattern.search(text)
    if found is None:
        return None
    groups = {k: v for k, v in found.groupdict().items() if k != "value" and v is not None}
    if "value" in pattern.groupindex:
        kept = found.group("value")
    elif pattern.groups and not pattern.groupindex:
        kept = found.group(1)
    else:
        kept = found.group(0)
    return Match(kept or "", groups)


def _tidy(text: str | None, keep_paragraphs: bool) -> str:
    if not text:
        return ""
    if keep_paragraphs:
        return clean_text(text.replace("\r\n", "\n")) or ""
    return " ".join(text.split())


def _pattern(raw: Any, where: str) -> re.Pattern[str] | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise SelectorSpecError(f"{where}: a regex must be a string")
    try:
        return re.compile(raw)
    except re.error as exc:
        raise SelectorSpecError(f"{where}: bad regex {raw!r}: {exc}") from None


def _check_css(css: str, where: str) -> None:
    try:
        _CSS_TO_XPATH.css_to_xpath(css)
    except Exception as exc:  # cssselect raises several kinds for a bad selector
        raise SelectorSpecError(f"{where}: bad CSS selector {css!r}: {exc}") from None


def _check_xpath(xpath: str, where: str) -> None:
    try:
        etree.XPath(xpath)
    except etree.XPathSyntaxError as exc:
        raise SelectorSpecError(f"{where}: bad XPath {xpath!r}: {exc}") from None


def compile_patterns(raw: Any, where: str) -> tuple[re.Pattern[str], ...]:
    """Compile one regex or a list of them (``allow``/``deny``/``on`` of follow rules)."""
    if raw is None:
        return ()
    items: Sequence[Any] = raw if isinstance(raw, list) else [raw]
    return tuple(p for i, item in enumerate(items) if (p := _pattern(item, f"{where}[{i}]")))
