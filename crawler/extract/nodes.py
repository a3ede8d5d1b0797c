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

    Built once from its finished properties (:meth:`of`, or filled in place, ``folded`` and
    ``types`` set, by :mod:`crawler.extract.graph`) and never changed afterwards, so its types
    are worked out once, when first asked for (:func:`types_of`).
    """

    __slots__ = ("folded", "types")
    folded: dict[str, str]  # each property name in lower case -> the node's own spelling
    types: tuple[str, ...] | None  # the bare type names, once asked for

    @classmethod
    def of(cls, properties: dict[str, Any]) -> SchemaNode:
        node = cls(properties)
        node.folded = {}
        node.types = None
        for key in properties:
            node.folded.setdefault(key.lower(), key)
        return node


_MISSING = object()
# Built once: ``isinstance(value, list | tuple)`` builds the union on every call, which costs
# three times the check itself, and these helpers run hundreds of times a page.
_SEQUENCE = list | tuple


def get_all(node: Mapping[str, Any], name: str) -> list[Any]:
    """Return every value of property ``name`` (case-insensitive), flattened, without Nones."""
    if not isinstance(node, dict):
        return []
    value = node.get(name, _MISSING)
    if value is _MISSING:
        if isinstance(node, SchemaNode):
            key = node.folded.get(name.lower())
            if key is None:
                return []
            value = node[key]
        else:
            value = _value_in_any_case(node, name)
    if value is None or value == "":
        return []
    if not isinstance(value, _SEQUENCE):
        return [value]
    return [v for v in value if v is not None and v != ""]


def get(node: Mapping[str, Any], name: str) -> Any:
    """Return the first value of property ``name`` (case-insensitive), or None."""
    # get_all's first value, without building the list: this runs hundreds of times a page,
    # mostly on a SchemaNode, mostly for a string.
    if type(node) is SchemaNode:
        value = node.get(name, _MISSING)
        if value is _MISSING:
            key = node.folded.get(name.lower())
            if key is None:
                return None
            value = node[key]
    elif isinstance(node, dict):
        value = node.get(name, _MISSING)
        if value is _MISSING:
            value = _value_in_any_case(node, name)
    else:
        return None
    if type(value) is str:
        return value if value else None
    if isinstance(value, _SEQUENCE):
        for item in value:
            if item is not None and item != "":
                return item
        return None
    return None if value == "" else value


def _value_in_any_case(node: dict[str, Any], name: str) -> Any:
    """The value of a plain dict's property spelt ``name`` in any case; None when it has none.

    (A SchemaNode finds it in its ``folded`` names.)
    """
    wanted = name.lower()
    return next((v for k, v in node.items() if k.lower() == wanted), None)


class Properties:
    """Property names asked of many nodes, and which of them a node has.

    Most properties asked of a node are absent, and telling which are present costs a set
    lookup each here (the names are lowered once), a fraction of a :func:`get_all` that finds
    nothing.
    """

    __slots__ = ("_folded", "_lowered")

    def __init__(self, *names: str) -> None:
        self._folded = tuple((name, name.lower()) for name in names)
        self._lowered = frozenset(lowered for _, lowered in self._folded)

    def of(self, node: Any) -> list[str]:
        """Those of the names, in order, that the node has a property for (in any case),
        whatever its value: :func:`get_all` of the others is empty."""
        if isinstance(node, SchemaNode):
            folded: Mapping[str, Any] | set[str] = node.folded
        elif isinstance(node, dict):
            folded = {key.lower() for key in node}
        else:
            return []
        if self._lowered.isdisjoint(folded):  # the usual answer, found without a loop
            return []
        present = []
        for name, lowered in self._folded:  # (a loop: a comprehension is a call of its own)
            if lowered in folded:
                present.append(name)
        return present


def get_first(node: Mapping[str, Any], *names: str) -> Any:
    """Return the first value of the first of ``names`` that the node has."""
    for name in names:
        value = get(node, name)
        if value is not None:
            return value
    return None


def types_of(node: Mapping[str, Any]) -> list[str]:
    """Return the bare schema.org type names of a node."""
    if isinstance(node, SchemaNode):
        if node.types is None:
            node.types = tuple(short_types(node.get("@type")))
        return list(node.types)
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
    if isinstance(value, str):  # the usual case, first
        return " ".join(value.split()) or None
    if isinstance(value, dict):
        for key in _TEXT_KEYS:
            inner = get(value, key)
            if inner is not None and not isinstance(inner, dict):
                return text(inner)
        return None
    if isinstance(value, _SEQUENCE):
        return next((t for t in (text(v) for v in value) if t), None)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    result = " ".join(str(value).split())
    return result or None


# Where a Thing given for a literal keeps its text, most telling first.
_TEXT_KEYS = ("name", "@value", "value", "termCode", "identifier", "@id")


def texts(values: list[Any]) -> list[str]:
    """Return the text of each value, dropping empties and repeats, keeping order."""
    seen: dict[str, None] = {}
    for value in values:
        # text() of a string, inline: most values are strings.
        t = " ".join(value.split()) if isinstance(value, str) else text(value)
        if t:
            seen.setdefault(t, None)
    return list(seen)


def walk_values(value: Any) -> Iterator[Any]:
    """Yield ``value`` itself, or each item when it is a list."""
    if isinstance(value, _SEQUENCE):
        yield from value
    elif value is not None:
        yield value
