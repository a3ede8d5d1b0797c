"""Each shortcut the structured-data extraction takes on its usual input gives what the general
way gives.

Most pages are read through faster paths: bare JSON-LD nested in one pass, a page's links
resolved from one parse, the NPI look-out done on UTF-8 bytes, a single line of text or a single
place worked out directly, JSON-LD decoded without extruct's XPath. Each is pinned here against
the general way it stands in for, on generated input and on the test pages.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from extruct.jsonld import JsonLdExtractor
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from crawler.extract.credentials import mentions_npi, mentions_npi_utf8
from crawler.extract.graph import jsonld_roots
from crawler.extract.links import host, resolve, resolved_host
from crawler.extract.locations import RawLocation, split_main
from crawler.extract.nodes import Properties, SchemaNode, get, get_all, types_of
from crawler.extract.schema_types import short_types
from crawler.extract.syntaxes import _jsonld_script_items, parse_page
from crawler.extract.text import clean_text
from crawler.items import PostalAddress

FIXTURES = Path(__file__).parent / "fixtures"
PAGES = sorted(FIXTURES.rglob("*.html"))

# -- JSON-LD nested in one pass -------------------------------------------------------------

ids = st.sampled_from(["#a", "#b", "http://x.example/c", "_:b0", "_:b1"])
names = st.sampled_from(
    [
        "name",
        "Name",
        "url",
        "review",
        "author",
        "knows",
        "sameAs",
        "item",
        "schema:name",
        "@context",
    ]
)
scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["", "x", " y z "])
types = st.sampled_from(["Person", "LocalBusiness", "Review", "schema:Thing"])


def _node(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    fields = st.dictionaries(names, children, max_size=4)
    extras = st.fixed_dictionaries(
        {}, optional={"@id": ids, "@type": types | st.lists(types, max_size=2)}
    )
    return st.builds(lambda a, b: {**b, **a}, fields, extras)


values = st.recursive(
    scalars | st.builds(lambda i: {"@id": i}, ids),
    lambda inner: st.lists(inner, max_size=3) | _node(inner),
    max_leaves=12,
)
nodes = _node(values)
documents = st.lists(
    nodes
    | st.builds(
        lambda graph: {"@context": "https://schema.org", "@graph": graph},
        st.lists(nodes, max_size=4),
    ),
    min_size=1,
    max_size=3,
)


def _forcing_the_general_way(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same documents with a property of another vocabulary, which the general reading
    drops and the one-pass reading does not take on."""
    first = dict(items[0])
    first["http://other.example/vocab#note"] = "dropped"
    return [first, *items[1:]]


def _check_folded(value: Any) -> None:
    if isinstance(value, SchemaNode):
        first_spelling: dict[str, str] = {}
        for key in value:
            first_spelling.setdefault(key.lower(), key)
        assert value.folded == first_spelling
        assert value.types is None or list(value.types) == types_of(dict(value))
    if isinstance(value, dict):
        for inner in value.values():
            _check_folded(inner)
    elif isinstance(value, list):
        for inner in value:
            _check_folded(inner)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_bare_json_ld_is_nested_in_one_pass_as_in_general(items: list[dict[str, Any]]) -> None:
    one_pass = jsonld_roots(items)
    general = jsonld_roots(_forcing_the_general_way(items))
    assert one_pass == general
    _check_folded(one_pass)
    _check_folded(general)


def test_a_node_naming_itself_is_no_root_either_way() -> None:
    page = [{"@id": "#a", "@type": "Person", "name": "A", "knows": {"@id": "#a"}}]
    assert jsonld_roots(page) == jsonld_roots(_forcing_the_general_way(page)) == []


def test_a_second_node_with_a_taken_id_still_names_others() -> None:
    # References to #b reach the first node so called; the second is never embedded, but the
    # node it names is no root all the same.
    page = [
        {"@id": "#a", "@type": "Person", "name": "A", "knows": {"@id": "#b"}},
        {"@id": "#b", "@type": "Person", "name": "B"},
        {"@id": "#b", "@type": "Person", "name": "B again", "knows": {"@id": "#c"}},
        {"@id": "#c", "@type": "Person", "name": "C"},
    ]
    roots = jsonld_roots(page)
    assert roots == jsonld_roots(_forcing_the_general_way(page))
    assert [(root["name"], root["knows"]["name"]) for root in roots] == [("A", "B")]


# -- a page's links -------------------------------------------------------------------------

pages = st.sampled_from(
    [
        "http://127.0.0.1:8080/therapist/ann?x=1#top",
        "https://Directory.Example/a/b/",
        "https://directory.example",
        "http:foo",
        "about:blank",
        "",
    ]
)
link_parts = st.tuples(
    st.sampled_from(["", "http:", "https:", "HTTPS:", "ftp:", "mailto:", "javascript:", "x-y:"]),
    st.sampled_from(["", "//", "///"]),
    st.sampled_from(["", "www.Site.example", "site.example:81", "user@h.example", "[::1]"]),
    st.sampled_from(["", "/", "/a/../b", "path", "./c;p=1", " /sp ace"]),
    st.sampled_from(["", "?", "?q=1", "#", "#f", "?q#f"]),
)


@settings(max_examples=500, deadline=None)
@given(pages, link_parts)
def test_links_resolve_as_urljoin_resolves_them(page: str, parts: tuple[str, ...]) -> None:
    link = "".join(parts)
    try:
        expected = urljoin(page, link)
        expected_host = urlsplit(expected).hostname
    except ValueError:
        with pytest.raises(ValueError):
            resolve(page, link)
            resolved_host(page, link)
        return
    assert resolve(page, link) == expected
    assert resolved_host(page, link) == expected_host
    assert host(page) == urlsplit(page).hostname


# -- the NPI look-out -----------------------------------------------------------------------

texts_about_npis = st.text(
    alphabet=st.sampled_from(list("nNpPiI\u0131\u0130 adeflortvNATIONALPROVIDERK★é\u0307\u212a\n")),
    max_size=40,
) | st.sampled_from(["NPİ", "National Provider Identİfier", "nPi", "NATIONAL PROVIDER IDENTIFIER"])


@settings(max_examples=500, deadline=None)
@given(texts_about_npis)
def test_npi_mentions_found_in_utf8_as_in_text(text: str) -> None:
    assert mentions_npi_utf8(text.encode("utf-8")) == mentions_npi(text)


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_page_text_in_utf8_is_its_text_content(path: Path) -> None:
    tree, _ = parse_page(path.read_bytes(), "https://example.com/", rdfa=False)
    assert tree is not None
    in_utf8 = etree.tostring(tree, method="text", encoding="utf-8", with_tail=False)
    assert in_utf8 == tree.text_content().encode("utf-8")


# -- parsing without RDFa -------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_the_plain_tree_is_the_rdfa_parsers_tree(path: Path) -> None:
    body = path.read_bytes()
    plain, plain_errors = parse_page(body, "https://example.com/", rdfa=False)
    for_rdfa, rdfa_errors = parse_page(body, "https://example.com/", rdfa=True)
    assert plain is not None and for_rdfa is not None
    assert etree.tostring(plain) == etree.tostring(for_rdfa)
    assert plain_errors == rdfa_errors == []


# -- JSON-LD scripts ------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
script_types = st.sampled_from(
    ["application/ld+json", "Application/LD+JSON", " application/ld+json ", "application/ld+json"]
)
wrappings = st.sampled_from(
    ["{}", " \n{}\n ", "// a comment\n{}", "<!-- -->\n{}", "\ufeff{}", "{},"]
)


@settings(max_examples=300, deadline=None)
@given(json_values, script_types, wrappings)
def test_json_ld_scripts_are_read_as_extruct_reads_them(
    value: Any, script_type: str, wrapping: str
) -> None:
    text = wrapping.replace("{}", json.dumps(value), 1)
    page = f'<html><head><script type="{script_type}">{text}</script></head><body></body></html>'
    tree, _ = parse_page(page, "https://example.com/", rdfa=False)
    assert tree is not None
    [script] = tree.iter("script")
    try:
        expected = JsonLdExtractor().extract_items(script, base_url="https://example.com/")
    except ValueError:
        with pytest.raises(ValueError):
            _jsonld_script_items(script, "https://example.com/")
        return
    assert _jsonld_script_items(script, "https://example.com/") == expected


# -- small values ---------------------------------------------------------------------------

plain_lines = st.text(
    alphabet=st.characters(blacklist_characters="<&\n\r", blacklist_categories=("Cs",)), max_size=30
)


@settings(max_examples=300, deadline=None)
@given(plain_lines)
def test_one_line_of_text_is_cleaned_as_a_paragraph_is(line: str) -> None:
    # A newline at the end sends the same text the general way.
    assert clean_text(line) == clean_text(line + "\n")


coordinates = st.none() | st.sampled_from([0, 40.7, "40,7", "", "x"])
addresses = st.none() | st.builds(PostalAddress, st.none() | st.sampled_from(["1 Main St", ""]))
places = st.builds(RawLocation, addresses, coordinates, coordinates, st.booleans())


@settings(max_examples=300, deadline=None)
@given(places)
def test_a_single_place_is_split_as_in_general(place: RawLocation) -> None:
    # The same place twice goes the general way; the second is the first, so it adds nothing.
    assert split_main([place]) == split_main([place, place])


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=12))
def test_a_bare_type_name_is_read_as_in_a_list(name: str) -> None:
    assert short_types(name) == short_types([name])


spellings = st.sampled_from(["name", "Name", "NAME", "url", "sameAs", "sameas", "@id", "@type"])
property_values = (
    st.none()
    | st.sampled_from(["", "x", 0])
    | st.lists(st.none() | st.just("") | st.just("y"), max_size=3)
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(spellings, property_values, max_size=5), spellings)
def test_properties_are_found_in_any_case_alike(properties: dict[str, Any], name: str) -> None:
    for node in (properties, SchemaNode.of(properties)):
        found = get_all(node, name)
        assert get(node, name) == (found[0] if found else None)
        present = Properties(name, "telephone").of(node)
        assert present == ([name] if any(k.lower() == name.lower() for k in node) else [])
        if not present:
            assert found == []
