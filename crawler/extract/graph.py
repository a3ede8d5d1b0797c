"""Bringing JSON-LD, microdata and RDFa output into one shape of nested nodes.

extruct gives JSON-LD as written (possibly an ``@graph`` of nodes that refer to each other by
``@id``), microdata as nested dicts, and RDFa as flat expanded JSON-LD with full property IRIs.
After :func:`nest_nodes` all three are lists of root nodes in which references are replaced by
the nodes they name, property names are bare schema.org names and literals are plain values.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from crawler.extract.nodes import Node, SchemaNode

_SCHEMA_PREFIXES = (
    "http://schema.org/",
    "https://schema.org/",
    "http://www.schema.org/",
    "https://www.schema.org/",
    "schema:",
)
# A reference chain deeper than this is a data error, not a real listing.
_MAX_DEPTH = 12
# Texts shorter than this ("5", "US") are too common on a page to say where a value is.
_MIN_LOCATABLE = 3


def bare_property(key: str) -> str | None:
    """Return the schema.org property name of ``key``, or None for another vocabulary's IRI."""
    if ":" not in key:
        return key  # the usual case: a bare name
    for prefix in _SCHEMA_PREFIXES:
        if key.startswith(prefix):
            return key[len(prefix) :] or None
    if "://" in key or key.startswith("_:"):
        return None
    return key


def jsonld_roots(items: Iterable[Any]) -> list[Node]:
    """Return the root nodes of JSON-LD documents, with ``@graph`` unpacked and ids resolved."""
    flat: list[Node] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        graph = item.get("@graph")
        if graph is not None:
            flat.extend(
                n for n in (graph if isinstance(graph, list) else [graph]) if isinstance(n, dict)
            )
            rest = {k: v for k, v in item.items() if k not in ("@graph", "@context")}
            if "@type" in rest:
                flat.append(rest)
        else:
            flat.append(item)
    # Most pages write bare property names throughout: their nodes are then read as they are
    # (only the top level's @context dropped) rather than copied key by key first.
    roots = _bare_roots([_without_context(n) for n in flat])
    if roots is not None:
        return roots
    return nest_nodes([_bare_keys(n) for n in flat])


def microdata_roots(items: Iterable[Any]) -> list[Node]:
    """Return microdata items (extruct's uniform form) as root nodes."""
    return nest_nodes([_microdata_node(i) for i in items if isinstance(i, dict)])


def rdfa_roots(expanded: Iterable[Any], page_text: str | None = None) -> list[Node]:
    """Return RDFa output (expanded JSON-LD) as nested root nodes of schema.org types only.

    RDFa is a graph, so the parser gives a property's several values (and the roots) in no fixed
    order, different from run to run. With ``page_text`` (the page's markup, unescaped) they are
    put back in the order their text appears on the page, so that "the first address" means the
    same in RDFa as in the other syntaxes; values whose text is not found come last, in a fixed
    order.
    """
    nodes = []
    for item in expanded:
        if not isinstance(item, dict):
            continue
        node = _rdfa_node(item)
        if node is not None:
            nodes.append(node)
    roots = nest_nodes(nodes)
    if page_text is None:
        return roots
    return _in_page_order(roots, " ".join(page_text.split()))


def nest_nodes(nodes: list[Node]) -> list[Node]:
    """Replace ``{"@id": ...}`` references by the nodes they name and return the unreferenced ones.

    A node referred to by another is reached through that one, so only unreferenced nodes are
    roots; this keeps a review's author or a page's publisher from being taken as a listing.
    """
    by_id = _nodes_by_id(nodes)
    referenced: set[str] = set()
    for node in nodes:
        _collect_references(node, referenced, is_root=True)
    return [_embed(node, by_id, ()) for node in nodes if not _is_referenced(node, referenced)]


def _collect_references(value: Any, into: set[str], *, is_root: bool = False) -> None:
    if isinstance(value, dict):
        node_id = value.get("@id")
        if not is_root and isinstance(node_id, str):
            into.add(node_id)
        for key, inner in value.items():
            if key != "@id":
                _collect_references(inner, into)
    elif isinstance(value, list):
        for inner in value:
            _collect_references(inner, into)


def _collect_bare_references(value: Any, into: set[str] | None, *, is_root: bool = False) -> bool:
    """:func:`_collect_references` (into ``into``, unless None), and whether every property name
    in ``value`` is already bare, as :func:`_bare_keys` would leave it (no prefix or IRI to
    strip, no @context to drop); stops at the first that is not."""
    if isinstance(value, dict):
        node_id = value.get("@id")
        if into is not None and not is_root and isinstance(node_id, str):
            into.add(node_id)
        for key, inner in value.items():
            if ":" in key or key == "@context":
                return False
            if isinstance(inner, _CONTAINERS) and not _collect_bare_references(
                inner,
                into if key != "@id" else None,  # an @id's value refers to nothing
            ):
                return False
    elif isinstance(value, list):
        for inner in value:
            if isinstance(inner, _CONTAINERS) and not _collect_bare_references(inner, into):
                return False
    return True


_CONTAINERS = (dict, list)
# @type's value is kept as written, and @id's refers to nothing (see _read_contained).
_KEPT_OR_INERT = frozenset({"@type", "@id"})


def _without_context(node: Node) -> Node:
    """A top-level node without its @context (which _bare_keys drops)."""
    copy = dict(node)
    copy.pop("@context", None)
    return copy


class _NotBare(Exception):
    """A property name that :func:`_bare_keys` would change: the nodes are read the general way."""


def _nodes_by_id(nodes: list[Node]) -> dict[str, Node]:
    """The nodes a reference can name: the first with each ``@id`` that says more than it."""
    by_id: dict[str, Node] = {}
    for node in nodes:
        node_id = node.get("@id")
        if isinstance(node_id, str) and len(node) > 1:
            by_id.setdefault(node_id, node)
    return by_id


def _is_referenced(node: Node, referenced: set[str]) -> bool:
    node_id = node.get("@id")
    return isinstance(node_id, str) and node_id in referenced and len(node) > 1


class _Reading:
    """What :func:`_bare_roots` learns while it embeds nodes: the ids they refer to, and the
    nodes read whole on the way (embedded where a reference names them)."""

    __slots__ = ("read", "referenced")

    def __init__(self) -> None:
        self.referenced: set[str] = set()
        self.read: set[int] = set()  # id() of each node read whole


def _bare_roots(nodes: list[Node]) -> list[Node] | None:
    """:func:`nest_nodes` of nodes whose property names are all bare, in one pass over most of
    them; None as soon as a name is not bare.

    nest_nodes first collects every reference, to know the roots, then embeds the roots. Here
    each node is embedded as it comes, its references noted on the way: one already named by
    an earlier node is no root, and is only searched for references (unless it was read whole
    where that node named it); one named only by a later node turns out not to be a root
    afterwards, and its embedding is dropped.
    """
    by_id = _nodes_by_id(nodes)
    reading = _Reading()
    referenced = reading.referenced
    embedded: list[tuple[Node, Node]] = []
    try:
        for node in nodes:
            if not _is_referenced(node, referenced):
                embedded.append((node, _embed_reading(node, by_id, (), reading, is_root=True)))
            elif id(node) not in reading.read and not _collect_bare_references(
                node, referenced, is_root=True
            ):
                raise _NotBare(node)
    except _NotBare:
        return None
    return [root for node, root in embedded if not _is_referenced(node, referenced)]


def _embed(value: Any, by_id: dict[str, Node], path: tuple[str, ...]) -> Any:
    if isinstance(value, list):
        items = [_embed(v, by_id, path) if isinstance(v, _CONTAINERS) else v for v in value]
        return items[0] if len(items) == 1 else items
    if not isinstance(value, dict):
        return value
    node_id = value.get("@id") if isinstance(value.get("@id"), str) else None
    if node_id is not None and len(value) == 1:
        target = _target(node_id, by_id, path)
        if target is None:
            return node_id  # an IRI that names no node on the page is just a link
        value = target
    inner_path = (*path, node_id) if node_id is not None else path
    # The SchemaNode is filled in place (what SchemaNode.of does, without copying a dict).
    out = SchemaNode()
    folded: dict[str, str] = {}
    for key, inner in value.items():
        if key == "@id" and isinstance(inner, str) and inner.startswith("_:"):
            continue  # blank-node ids are local to one extraction and unstable
        if key != "@type" and isinstance(inner, _CONTAINERS):
            inner = _embed(inner, by_id, inner_path)
        out[key] = inner
        folded.setdefault(key.lower(), key)
    out.folded = folded
    out.types = None
    return out


def _target(node_id: str, by_id: dict[str, Node], path: tuple[str, ...]) -> Node | None:
    """The node a reference names, unless that is a loop or too deep a chain."""
    target = by_id.get(node_id)
    if target is None or node_id in path or len(path) >= _MAX_DEPTH:
        return None
    return target


def _embed_reading(
    value: Any,
    by_id: dict[str, Node],
    path: tuple[str, ...],
    reading: _Reading,
    *,
    is_root: bool = False,
) -> Any:
    """:func:`_embed` of a JSON node whose property names should all be bare (see
    :func:`_bare_roots`), noting in ``reading`` the ids it refers to, as
    :func:`_collect_references` finds them; :class:`_NotBare` at the first name that is not."""
    node_id = value.get("@id") if isinstance(value.get("@id"), str) else None
    if node_id is not None:
        value = _noted(value, node_id, by_id, path, reading, is_root=is_root)
        if value is None:
            return node_id  # an IRI that names no node on the page is just a link
    inner_path = (*path, node_id) if node_id is not None else path
    if "@context" in value:
        raise _NotBare("@context")
    # As _embed does, the names checked on the way (JSON's names are strings).
    out = SchemaNode()
    folded: dict[str, str] = {}
    for key, inner in value.items():
        if ":" in key:
            raise _NotBare(key)
        if key == "@id" and isinstance(inner, str) and inner.startswith("_:"):
            continue
        if isinstance(inner, _CONTAINERS):
            inner = (
                _embed_reading(inner, by_id, inner_path, reading)  # most: straight to a node
                if isinstance(inner, dict) and key not in _KEPT_OR_INERT
                else _read_contained(key, inner, by_id, inner_path, reading)
            )
        out[key] = inner
        folded.setdefault(key.lower(), key)
    out.folded = folded
    out.types = None
    return out


def _noted(
    node: Node,
    node_id: str,
    by_id: dict[str, Node],
    path: tuple[str, ...],
    reading: _Reading,
    *,
    is_root: bool,
) -> Node | None:
    """Note a node's id as referred to (a root's is not), and return what to embed for it:
    the node itself, the node a bare reference names, or None for a reference that stays a
    link."""
    if not is_root:
        reading.referenced.add(node_id)
    if len(node) != 1:
        return node
    target = _target(node_id, by_id, path)
    if target is not None:
        reading.read.add(id(target))  # (an exception stops the whole reading)
    return target


def _read_contained(
    key: str, value: Any, by_id: dict[str, Node], path: tuple[str, ...], reading: _Reading
) -> Any:
    """:func:`_embed_reading` of a list or node a property holds (``key``: the property; a list
    item's is none)."""
    if key == "@type":  # kept as written, its references counted (as _embed leaves it)
        if not _collect_bare_references(value, reading.referenced):
            raise _NotBare(key)
        return value
    if key == "@id":  # an @id's value refers to nothing
        if not _collect_bare_references(value, None):
            raise _NotBare(key)
        return _embed(value, by_id, path)
    if isinstance(value, list):
        items = [
            _read_contained("", v, by_id, path, reading) if isinstance(v, _CONTAINERS) else v
            for v in value
        ]
        return items[0] if len(items) == 1 else items
    return _embed_reading(value, by_id, path, reading)


def _bare_keys(value: Any) -> Any:
    if isinstance(value, list):
        return [_bare_keys(v) for v in value]
    if not isinstance(value, dict):
        return value
    out: Node = {}
    for key, inner in value.items():
        name = key if key.startswith("@") else bare_property(key)
        if name is not None and name != "@context":
            out[name] = _bare_keys(inner)
    return out


def _microdata_node(value: Any) -> Any:
    if isinstance(value, list):
        return [_microdata_node(v) for v in value]
    if not isinstance(value, dict):
        return value
    out: Node = {}
    for key, inner in value.items():
        if key == "@context":
            continue
        # extruct's uniform microdata keeps an itemid under "id"
        name = "@id" if key == "id" and "@type" in value else key
        out[name] = _microdata_node(inner)
    return out


def _rdfa_node(item: dict[str, Any]) -> Node | None:
    node: Node = {}
    if isinstance(item.get("@id"), str):
        node["@id"] = item["@id"]
    if "@type" in item:
        node["@type"] = item["@type"]
    for key, values in item.items():
        if key.startswith("@"):
            continue
        name = bare_property(key)
        if name is None:
            continue
        literals = [_rdfa_value(v) for v in (values if isinstance(values, list) else [values])]
        literals = [v for v in literals if v is not None]
        if literals:
            node[name] = literals[0] if len(literals) == 1 else literals
    has_schema_type = any(
        isinstance(t, str) and bare_property(t) is not None and "schema" in t
        for t in (node.get("@type") or [])
    )
    if not has_schema_type and len(node) <= 1:
        return None
    return node


def _in_page_order(value: Any, page_text: str) -> Any:
    """``value`` with every list in it sorted by where its items' text is on the page."""
    if isinstance(value, list):
        items = [_in_page_order(v, page_text) for v in value]
        return sorted(items, key=lambda item: _page_position(item, page_text))
    if isinstance(value, dict):
        return {k: v if k == "@type" else _in_page_order(v, page_text) for k, v in value.items()}
    return value


def _page_position(value: Any, page_text: str) -> tuple[int, str]:
    """Where a value shows on the page, with its content as a fixed tiebreak.

    That is the latest of the first appearances of its texts: a text the value shares with
    something earlier (a city, a state) is found there, never later than in the value itself,
    so it cannot move the value ahead of its own last text. Texts too short to place are not
    looked for.
    """
    found = [
        at
        for literal in _literals(value)
        if len(literal) >= _MIN_LOCATABLE and (at := page_text.find(literal)) >= 0
    ]
    fallback = json.dumps(value, sort_keys=True, default=str)
    return (max(found) if found else len(page_text), fallback)


def _literals(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if not value.startswith("_:"):
            yield value
    elif isinstance(value, list):
        for item in value:
            yield from _literals(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key != "@type":
                yield from _literals(item)


def _rdfa_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "@value" in value:
            literal = value["@value"]
            # RDFa literals are element text; layout whitespace means nothing there, as in
            # extruct's microdata output.
            return " ".join(literal.split()) if isinstance(literal, str) else literal
        if "@id" in value:
            return {"@id": value["@id"]}
        return None
    return value
