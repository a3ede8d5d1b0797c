"""Reading normalised schema.org nodes: tolerant property access and small value coercions.

A node is a dict as produced by :mod:`crawler.extract.syntaxes`. Sites spell property names in
any case (``addressregion``) and give one value or a list where schema.org allows either, so all
access goes through these helpers rather than ``node[...]``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from crawler.extract.schema_types import short_types

Node = dict[str, Any]


class SchemaNode(dict[str, Any]):
    """A node as the extraction builds it, its property names found without case at the cost of
    a dict lookup: a page's walk asks each node for dozens of properties it does not have.

    Built once from its finished properties (:meth:`of`) and never changed afterwards.
    """

    __slots__ = ("folded",)
    folded: dict[str, str]  # each property name in lower case -> the node's own spelling

    @classmethod
    def of(cls, properties: dict[str, Any]) -> SchemaNode:
        node = cls(properties)
        node.folded = {}
        for key in properties:
            node.folded.setdefault(key.lower(), key)
        return node


_MISSING = object()


def get_all(node: Mapping[str, Any], name: str) -> list[Any]:
    """Return every value of property ``name`` (case-insensitive), flattened, without Nones."""
    if not isinstance(node, dict):
        return []
    value = node.get(name, _MISSING)
    if value is _MISSING:
        if isinstance(node, SchemaNode):
            key = node.folded.get(name.lower())
            value = None if key is None else node[key]
        else:
            wanted = name.lower()
            value = next((v for k, v in node.items() if k.lower() == wanted), None)
    if value is None or value == "":
        return []
    if not isinstance(value, list | tuple):
        return [value]
    return [v for v in value if v is not None and v != ""]


def get(node: Mapping[str, Any], name: str) -> Any:
    """Return the first value of property ``name`` (case-insensitive), or None."""
    values = get_all(node, name)
    return values[0] if values else None


def get_first(node: Mapping[str, Any], *names: str) -> Any:
    """Return the first value of the first of ``names`` that the node has."""
    for name in names:
        value = get(node, name)
        if value is not None:
            return value
    return None


def types_of(node: Mapping[str, Any]) -> list[str]:
    """Return the bare schema.org type names of a node."""
    return short_types(node.get("@type")) if isinstance(node, dict) else []


def is_node(value: Any) -> bool:
    """Return whether ``value`` is a structured node rather than a literal."""
    return isinstance(value, dict)


def text(value: Any) -> str | None:
    """Return a literal as stripped text, or a Thing's name; None when there is nothing.

    Numbers become their string form so raw values survive unchanged.
    """
    if value is None:
        return None
    if isinstance(value, dict):
        for key in ("name", "@value", "value", "termCode", "identifier", "@id"):
            inner = get(value, key)
            if inner is not None and not isinstance(inner, dict):
                return text(inner)
        return None
    if isinstance(value, list | tuple):
        return next((t for t in (text(v) for v in value) if t), None)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    result = " ".join(str(value).split())
    return result or None


def texts(values: list[Any]) -> list[str]:
    """Return the text of each value, dropping empties and repeats, keeping order."""
    seen: dict[str, None] = {}
    for value in values:
        t = text(value)
        if t:
            seen.setdefault(t, None)
    return list(seen)


def walk_values(value: Any) -> Iterator[Any]:
    """Yield ``value`` itself, or each item when it is a list."""
    if isinstance(value, list | tuple):
        yield from value
    elif value is not None:
        yield value
