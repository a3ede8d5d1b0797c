"""The NPI registry API (version 2.1): payloads to credential records, and paging.

One :class:`~crawler.items.CredentialRecord` is made per (NPI, taxonomy) pair: each taxonomy entry
carries its own state licence, and the licence is what a listing's claim is checked against.
``credential_raw`` is the taxonomy's description ("Massage Therapist"), ``number`` its licence
number, ``state`` its licence state; the provider's own credential letters ("MT", "M.D.") are kept
unchanged in ``extras["credential_text_raw"]``. ``status_raw`` is the NPI's status ("A" for
active), not the licence's: the registry publishes no licence status. A provider with no taxonomy
gets one record with no licence.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crawler.items import CredentialRecord, PostalAddress, Provenance, stable_id

API_URL = "https://npiregistry.cms.hhs.gov/api/"
API_VERSION = "2.1"
MASSAGE_THERAPIST_TAXONOMY = "225700000X"
ISSUER = "NPPES"
# The API's own limits: at most 200 results a request, and skip may not pass 1000.
MAX_LIMIT = 200
MAX_SKIP = 1000

# Values the registry uses for "no licence number".
_NO_LICENSE = frozenset({"", "NA", "N/A", "NONE"})
_ZIP_PLUS_FOUR = re.compile(r"^(\d{5})(\d{4})$")


class NpiApiError(Exception):
    """The registry answered with errors instead of results (or with something unreadable)."""

    def __init__(self, errors: Sequence[Mapping[str, Any]], message: str | None = None) -> None:
        self.errors = [dict(e) for e in errors]
        if message is None:
            described = "; ".join(
                f"field {e.get('field')!r}: {e.get('description')} (error {e.get('number')})"
                for e in self.errors
            )
            message = f"NPI registry API error: {described or 'unknown error'}"
        super().__init__(message)


@dataclass(slots=True)
class NpiPage:
    """One page of registry results.

    ``returned`` is how many providers the page held; ``result_count`` is what the payload
    claims, which need not match, so paging goes by ``returned``.
    """

    records: list[CredentialRecord] = field(default_factory=list)
    result_count: int = 0
    returned: int = 0


def parse_npi_response(payload: Mapping[str, Any] | str | bytes, provenance: Provenance) -> NpiPage:
    """Parse an API v2.1 response into credential records, one per (NPI, taxonomy).

    Raises :class:`NpiApiError` for an error payload (naming each field and description) or one
    that is not a registry response at all.
    """
    data = _load(payload)
    if "Errors" in data:
        errors = data["Errors"]
        raise NpiApiError(errors if isinstance(errors, list) else [{"description": errors}])
    results = data.get("results")
    if not isinstance(results, list):
        raise NpiApiError([], "NPI registry API response has no 'results' list")
    records: list[CredentialRecord] = []
    for result in results:
        if isinstance(result, Mapping):
            records.extend(provider_records(result, provenance))
    count = data.get("result_count")
    return NpiPage(
        records=records,
        result_count=count if isinstance(count, int) else len(results),
        returned=len(results),
    )


def provider_records(result: Mapping[str, Any], provenance: Provenance) -> list[CredentialRecord]:
    """Return the credential records of one provider in a registry result."""
    npi = str(result.get("number", "")).strip()
    basic = result.get("basic") or {}
    location = _location_address(result.get("addresses") or [])
    common: dict[str, Any] = {
        "credential_text_raw": _blank_to_none(basic.get("credential")),
        "enumeration_type": result.get("enumeration_type"),
        "enumeration_date": basic.get("enumeration_date"),
        "last_updated": basic.get("last_updated"),
    }
    for key in ("deactivation_date", "reactivation_date", "sole_proprietor", "gender"):
        if basic.get(key):
            common[key] = basic[key]
    practice_locations = [_address(p) for p in result.get("practiceLocations") or []]
    if practice_locations:
        common["practice_locations"] = practice_locations

    taxonomies = [t for t in result.get("taxonomies") or [] if isinstance(t, Mapping)] or [{}]
    records = []
    for taxonomy in taxonomies:
        license_raw = str(taxonomy.get("license") or "")
        number = None if license_raw.strip().upper() in _NO_LICENSE else license_raw.strip()
        state = _blank_to_none(taxonomy.get("state"))
        code = _blank_to_none(taxonomy.get("code"))
        source_ref = f"{npi}/{code or '-'}/{state or '-'}/{license_raw.strip() or '-'}"
        extras = {
            **common,
            "source_ref": source_ref,
            "taxonomy_code": code,
            "taxonomy_primary": taxonomy.get("primary"),
            "license_raw": license_raw,
        }
        if taxonomy.get("taxonomy_group"):
            extras["taxonomy_group"] = taxonomy["taxonomy_group"]
        records.append(
            CredentialRecord(
                id=stable_id(provenance.source, source_ref),
                provenance=provenance,
                issuer_kind="npi_registry",
                issuer=ISSUER,
                credential_raw=_blank_to_none(taxonomy.get("desc")) or code or "",
                number=number,
                name_raw=_provider_name(basic),
                state=state,
                city_raw=location.locality if location else None,
                status_raw=_blank_to_none(basic.get("status")),
                npi=npi or None,
                address=location,
                telephone_raw=_location_phone(result.get("addresses") or []),
                extras=extras,
            )
        )
    return records


def is_massage_therapist(result: Mapping[str, Any]) -> bool:
    """Return whether a raw registry result lists the massage therapist taxonomy (225700000X)."""
    return any(
        isinstance(t, Mapping) and t.get("code") == MASSAGE_THERAPIST_TAXONOMY
        for t in result.get("taxonomies") or []
    )


def massage_therapist_records(records: Iterable[CredentialRecord]) -> list[CredentialRecord]:
    """Return the records whose taxonomy is massage therapist (225700000X)."""
    return [r for r in records if r.extras.get("taxonomy_code") == MASSAGE_THERAPIST_TAXONOMY]


def page_params(skip: int = 0, limit: int = MAX_LIMIT, **criteria: str) -> dict[str, str]:
    """Return the query parameters for one page of a registry search.

    ``criteria`` are the API's own search fields (``taxonomy_description``, ``state``,
    ``postal_code``…). Raises ``ValueError`` when ``limit`` or ``skip`` is outside the API's range.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if not 0 <= skip <= MAX_SKIP:
        raise ValueError(f"skip must be between 0 and {MAX_SKIP}, not {skip}")
    return {**criteria, "version": API_VERSION, "limit": str(limit), "skip": str(skip)}


def next_skip(skip: int, limit: int, returned: int) -> int | None:
    """Return the ``skip`` of the next page, or None when there is none to ask for.

    A page shorter than ``limit`` is the last. Past :data:`MAX_SKIP` the API refuses to page, so
    a search that still has more must be split into narrower ones (by postal code, say).
    """
    if returned < limit:
        return None
    following = skip + limit
    return following if following <= MAX_SKIP else None


def may_be_truncated(skip: int, limit: int, returned: int) -> bool:
    """Return whether a full page at the paging limit means results were left unreachable."""
    return returned >= limit and skip + limit > MAX_SKIP


def _load(payload: Mapping[str, Any] | str | bytes) -> Mapping[str, Any]:
    if isinstance(payload, Mapping):
        return payload
    try:
        data = json.loads(payload)
    except ValueError as exc:
        raise NpiApiError([], f"NPI registry API response is not JSON: {exc}") from exc
    if not isinstance(data, Mapping):
        raise NpiApiError([], "NPI registry API response is not a JSON object")
    return data


def _provider_name(basic: Mapping[str, Any]) -> str:
    organization = _blank_to_none(basic.get("organization_name"))
    if organization:
        return organization
    parts = [
        _name_part(basic.get(k)) for k in ("name_prefix", "first_name", "middle_name", "last_name")
    ]
    name = " ".join(p for p in parts if p)
    suffix = _name_part(basic.get("name_suffix"))
    if suffix:
        name = f"{name} {suffix}"
    return name or str(basic.get("name") or "")


def _location_address(addresses: Sequence[Any]) -> PostalAddress | None:
    for address in addresses:
        if isinstance(address, Mapping) and address.get("address_purpose") == "LOCATION":
            return _postal_address(address)
    return None


def _location_phone(addresses: Sequence[Any]) -> str | None:
    for address in addresses:
        if isinstance(address, Mapping) and address.get("address_purpose") == "LOCATION":
            return _blank_to_none(address.get("telephone_number"))
    return None


def _postal_address(address: Mapping[str, Any]) -> PostalAddress:
    street = ", ".join(
        str(address[k]).strip()
        for k in ("address_1", "address_2")
        if _blank_to_none(address.get(k))
    )
    return PostalAddress(
        street=street or None,
        locality=_blank_to_none(address.get("city")),
        region=_blank_to_none(address.get("state")),
        postal_code=format_postal_code(address.get("postal_code")),
        country=_blank_to_none(address.get("country_code")),
    )


def _address(address: Any) -> dict[str, Any]:
    if not isinstance(address, Mapping):
        return {}
    postal = _postal_address(address)
    return {
        "street": postal.street,
        "locality": postal.locality,
        "region": postal.region,
        "postal_code": postal.postal_code,
        "country": postal.country,
        "telephone_raw": _blank_to_none(address.get("telephone_number")),
    }


def format_postal_code(raw: Any) -> str | None:
    """Return a registry postal code in written form: nine digits become ZIP+4 ("99654-6569")."""
    code = _blank_to_none(raw)
    if code is None:
        return None
    match = _ZIP_PLUS_FOUR.match(code)
    return f"{match.group(1)}-{match.group(2)}" if match else code


def _name_part(value: Any) -> str | None:
    # NPPES writes "--" for a prefix or suffix the provider left empty.
    part = _blank_to_none(value)
    return None if part is None or set(part) <= {"-"} else part


def _blank_to_none(value: Any) -> str | None:
    if value is None:
        return None
    stripped = str(value).strip()
    return stripped or None
