"""Credentials a schema.org node claims: ``hasCredential``, ``honorificSuffix`` and the NPI."""

from __future__ import annotations

import re
from typing import Any

from crawler.extract.nodes import Properties, get, get_all, get_first, is_node, text, walk_values
from crawler.items import ClaimedCredential

_NPI = re.compile(r"^\d{10}$")
# "NPI 1234567893", "NPI #: 1234567893", "National Provider Identifier: 1234567893".
_NPI_IN_TEXT = re.compile(
    r"(?:\bNPI\b|National Provider Identifier)[^0-9A-Za-z]{0,6}(?:n(?:o|umber)\.?[^0-9]{0,3})?"
    r"(\d{10})\b",
    re.IGNORECASE,
)
MEMBERSHIP = "membership"
_NPI_PROPERTY_IDS = frozenset({"npi", "usnpi", "us npi", "national provider identifier"})
_SUFFIX_SEPARATORS = re.compile(r"[,;/|]")


def claimed_credentials(value: Any) -> list[ClaimedCredential]:
    """Return the credentials in a ``hasCredential`` value (one node, a string or a list).

    ``credentialCategory`` may be a string or a DefinedTerm; ``recognizedBy`` and ``validIn`` may
    be nodes or strings; ``identifier`` may be a literal or a PropertyValue. A credential with
    neither a name nor a category is skipped.
    """
    found: list[ClaimedCredential] = []
    for item in walk_values(value):
        credential = _credential(item)
        if credential is not None and credential not in found:
            found.append(credential)
    return found


def _credential(item: Any) -> ClaimedCredential | None:
    if not is_node(item):
        name = text(item)
        return ClaimedCredential(name_raw=name) if name else None
    category = _term(get(item, "credentialCategory"))
    alternate = text(get(item, "alternateName"))
    name = text(get(item, "name")) or alternate or category
    if not name:
        return None
    return ClaimedCredential(
        name_raw=name,
        alternate_name_raw=alternate if alternate != name else None,
        number=identifier_text(get(item, "identifier")),
        issuer_raw=text(get_first(item, "recognizedBy", "issuedBy", "provider")),
        state=text(get(item, "validIn")),
        category_raw=category,
    )


def _term(value: Any) -> str | None:
    """Return a DefinedTerm's name (or code) or a plain string."""
    if is_node(value):
        return text(get_first(value, "name", "termCode", "@id"))
    return text(value)


def identifier_text(value: Any) -> str | None:
    """Return an ``identifier`` as text: a literal, or a PropertyValue's value."""
    if is_node(value):
        return text(get_first(value, "value", "@value", "identifier", "name"))
    return text(value)


def suffix_credentials(value: Any) -> list[ClaimedCredential]:
    """Return credentials written as a name suffix (``honorificSuffix``: "LMT, NCTMB")."""
    found: list[ClaimedCredential] = []
    for item in walk_values(value):
        raw = text(item)
        if not raw:
            continue
        for part in _SUFFIX_SEPARATORS.split(raw):
            name = part.strip()
            if name and ClaimedCredential(name_raw=name) not in found:
                found.append(ClaimedCredential(name_raw=name))
    return found


def membership_credentials(values: list[Any]) -> list[ClaimedCredential]:
    """Return association memberships (``memberOf``) as claims of the ``membership`` category.

    An Organization gives its name; a ProgramMembership its program or hosting organisation.
    Membership says nothing about competence; the category keeps it apart from credentials.
    """
    found: list[ClaimedCredential] = []
    for value in values:
        if is_node(value):
            name = text(get_first(value, "name", "programName", "hostingOrganization"))
            number = text(get(value, "membershipNumber"))
        else:
            name, number = text(value), None
        if name:
            claim = ClaimedCredential(name_raw=name, number=number, category_raw=MEMBERSHIP)
            if claim not in found:
                found.append(claim)
    return found


def mentions_npi(text_value: str) -> bool:
    """Whether a text may label an NPI: a quick test before :func:`npi_in_text`."""
    folded = text_value.lower()
    return "npi" in folded or "national provider identifier" in folded


def mentions_npi_utf8(text_value: bytes) -> bool:
    """:func:`mentions_npi` of a text given in UTF-8, mostly without decoding it.

    Lowering the bytes lowers their ASCII letters only, several times faster than lowering
    the text. That is enough: of all the characters outside ASCII, whose bytes are never
    ASCII ones, only "İ" lowers to a letter of these labels (to "i" and a combining dot).
    """
    folded = text_value.lower()
    if _NPI_LABEL.search(folded) or b"national provider identifier" in folded:
        return True
    # (Its first byte alone is looked for first: a search for one byte is many times faster.)
    return (
        _CAPITAL_I_WITH_DOT_LEAD in text_value
        and _CAPITAL_I_WITH_DOT in text_value
        and mentions_npi(text_value.decode("utf-8"))
    )


_CAPITAL_I_WITH_DOT = "\u0130".encode()
_NPI_LABEL = re.compile(b"npi")  # (a search faster than `in` for so short a needle)
_CAPITAL_I_WITH_DOT_LEAD = _CAPITAL_I_WITH_DOT[:1]


def npi_in_text(text_value: str) -> list[str]:
    """Return the distinct NPIs a text labels as such ("NPI 1234567893"), in order."""
    found: dict[str, None] = {}
    for match in _NPI_IN_TEXT.finditer(text_value):
        found.setdefault(match[1], None)
    return list(found)


_NPI_PROPERTIES = Properties("usNPI", "identifier")


def npi_candidates(node: dict[str, Any]) -> list[str]:
    """Return the raw NPI numbers a node states: ``usNPI`` or an identifier labelled NPI."""
    if not _NPI_PROPERTIES.of(node):
        return []
    raws = [text(v) for v in get_all(node, "usNPI")]
    for identifier in get_all(node, "identifier"):
        if is_node(identifier):
            label = (text(get(identifier, "propertyID")) or "").lower()
            if label in _NPI_PROPERTY_IDS:
                raws.append(identifier_text(identifier))
    return [r for r in raws if r]


def valid_npi(raw: str) -> str | None:
    """Return ``raw`` as an NPI (ten digits, spaces and dashes removed) or None.

    The check digit is not tested here: verification against the registry is the indexer's job.
    """
    digits = re.sub(r"[\s-]", "", raw)
    return digits if _NPI.match(digits) else None
