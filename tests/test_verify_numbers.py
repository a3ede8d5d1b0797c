"""A listing's license number against the issuer's record, however either writes it.

Each case goes the whole way a claim goes in a build: the issuer's row as crawled
(``CredentialRecord`` through ``to_issuer_record``), the listing's credential as extracted
(``ClaimedCredential`` through ``normalize_credential``), then ``Registry.verify``. The shapes are
the issuers' own (Florida's ``MA``, Texas's ``MT``, Washington's ``MA.60``, Colorado's
``MT.00``, Arizona's trailing ``P``, North Carolina's and New York's bare digits, Illinois's
``227.`` profession code) and the ways listings write them.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from crawler.items import ClaimedCredential, CredentialRecord, Provenance
from indexer.normalize.credentials import normalize_credential
from indexer.taxonomy import load_taxonomy
from indexer.verify import Claim, Registry, Verification, to_issuer_record

TAXONOMY = load_taxonomy()
HOLDER = "DOE, JANE A"
HOLDER_KEYS = {"jane doe"}
FETCHED = "2025-09-01T10:00:00+00:00"


def board_record(
    state: str,
    number: str,
    *,
    status: str = "Active",
    expires: str = "2027-01-31",
    title: str = "LMT",
    name: str = HOLDER,
) -> CredentialRecord:
    return CredentialRecord(
        id=f"{state}-{number}",
        provenance=Provenance(f"board-{state.lower()}", f"http://board/{number}", FETCHED, "h"),
        issuer_kind="state_board",
        issuer=f"{state} board",
        credential_raw=title,
        number=number,
        name_raw=name,
        state=state,
        status_raw=status,
        expires_raw=expires,
    )


def registry_of(*records: CredentialRecord) -> Registry:
    return Registry(to_issuer_record(r, TAXONOMY) for r in records)


def claimed(title: str, number: str, state: str | None) -> Claim:
    """A listing's credential as the index build makes it a claim."""
    normalized = normalize_credential(
        ClaimedCredential(name_raw=title, number=number, state=state), taxonomy=TAXONOMY
    ).value
    assert normalized is not None and normalized.credential_id and normalized.kind
    return Claim(normalized.credential_id, normalized.kind, normalized.state, normalized.number)


# -- the shapes listings write the issuers' numbers in ---------------------------------------------

SAME_LICENSE = [
    # Florida: MA for a therapist (https://floridasmassagetherapy.gov/massage-therapy-faqs/).
    ("FL", "LMT", "MA12345", "MA 12345"),
    ("FL", "LMT", "MA12345", "ma-12345"),
    ("FL", "LMT", "MA12345", "12345"),
    ("FL", "LMT", "MA12345", "MA012345"),
    ("FL", "LMT", "MA12345", "FL MA12345"),
    ("FL", "LMT", "MA12345", "FL-MA-12345"),
    ("FL", "LMT", "MA12345", "Florida MA12345"),
    ("FL", "LMT", "MA12345", "LMT #MA12345"),
    ("FL", "LMT", "MA12345", "Lic. No. MA 12345"),
    # Texas: MT and six digits with their leading zeros.
    ("TX", "LMT", "MT012345", "MT12345"),
    ("TX", "LMT", "MT012345", "MT 012345"),
    ("TX", "LMT", "MT012345", "012345"),
    ("TX", "LMT", "MT012345", "12345"),
    ("TX", "LMT", "MT012345", "TX MT012345"),
    ("TX", "LMT", "MT012345", "TX012345"),
    ("TX", "LMT", "MT012345", "Texas MT-012345"),
    ("TX", "LMT", "MT012345", "LMT MT012345"),
    # Washington: MA.60 and six digits.
    ("WA", "LMP", "MA.60123456", "MA60123456"),
    ("WA", "LMP", "MA.60123456", "60123456"),
    ("WA", "LMP", "MA.60123456", "WA MA.60123456"),
    ("WA", "LMP", "MA.60123456", "MA 60123456"),
    # Colorado: MT.00 and five digits.
    ("CO", "RMT", "MT.0012345", "MT0012345"),
    ("CO", "RMT", "MT.0012345", "MT.12345"),
    ("CO", "RMT", "MT.0012345", "0012345"),
    ("CO", "RMT", "MT.0012345", "CO MT.0012345"),
    # Arizona: a trailing P a listing may leave off.
    ("AZ", "LMT", "MT-12345P", "MT12345P"),
    ("AZ", "LMT", "MT-12345P", "MT-12345"),
    ("AZ", "LMT", "MT-12345P", "AZ MT-12345P"),
    # North Carolina and New York: digits only.
    ("NC", "LMBT", "12345", "LMBT #12345"),
    ("NC", "LMBT", "12345", "NC 12345"),
    ("NC", "LMBT", "12345", "012345"),
    ("NY", "LMT", "011779", "11779"),
    ("NY", "LMT", "011779", "NY 011779"),
    # Illinois: the profession code 227 is part of the number.
    ("IL", "LMT", "227.066768", "227066768"),
    ("IL", "LMT", "227.066768", "227-066768"),
]


@pytest.mark.parametrize(("state", "title", "issued", "written"), SAME_LICENSE)
def test_a_license_written_another_way_is_found_by_number(
    state: str, title: str, issued: str, written: str
) -> None:
    registry = registry_of(board_record(state, issued, title=title))
    result = registry.verify(claimed(title, written, state), HOLDER_KEYS)
    assert (result.status, result.reason) == (
        "verified",
        f"found by number at the {state} license board",
    )


OTHER_LICENSE = [
    ("FL", "LMT", "MA12345", "MM12345"),  # Florida's establishment license, not the therapist's
    ("FL", "LMT", "MA12345", "MA12346"),
    ("FL", "LMT", "MA12345", "MA123450"),  # a zero at the end is another number
    ("FL", "LMT", "MA12345", "MA1234"),
    ("FL", "LMT", "MA12345", "TX MA12345"),  # another state's
    ("TX", "LMT", "MT012345", "ME012345"),  # a Texas massage establishment's letters
    ("TX", "LMT", "MT012345", "MT012346"),
    ("AZ", "LMT", "MT-12345P", "MT-12345Q"),
    ("IL", "LMT", "227.066768", "066768"),  # without the profession code: other digits
    ("NC", "LMBT", "12345", "MT12345"),
]


@pytest.mark.parametrize(("state", "title", "issued", "written"), OTHER_LICENSE)
def test_another_number_is_not_found(state: str, title: str, issued: str, written: str) -> None:
    registry = registry_of(board_record(state, issued, title=title))
    result = registry.verify(claimed(title, written, state), HOLDER_KEYS)
    assert result.status == "not_found"
    assert result.reason.startswith(f"the {state} license board has no number")


def test_a_number_with_letters_inside_is_compared_whole() -> None:
    registry = registry_of(board_record("NJ", "18KN00123400"))
    assert registry.verify(claimed("LMT", "18KN-00123400", "NJ"), HOLDER_KEYS).status == (
        "verified"
    )
    assert registry.verify(claimed("LMT", "18KN-123400", "NJ"), HOLDER_KEYS).status == ("not_found")


def test_a_board_certification_id_without_its_leading_zeros_is_found() -> None:
    record = CredentialRecord(
        id="c1",
        provenance=Provenance("certregistry", "http://cert/012345", FETCHED, "h"),
        issuer_kind="certification_registry",
        issuer="NCBTMB",
        credential_raw="BCTMB",
        number="012345",
        name_raw="Jane A. Doe",
        status_raw="Board Certified",
        expires_raw="2027-01-31",
    )
    registry = registry_of(record)
    assert registry.verify(claimed("BCTMB", "12345", None), HOLDER_KEYS).status == "verified"
    assert registry.verify(claimed("BCTMB", "12346", None), HOLDER_KEYS).status == "not_found"


# -- invariants, for any number of the issuers' shapes ---------------------------------------------


@dataclass(frozen=True)
class Issuer:
    """How one state's board writes its massage license numbers."""

    state: str
    name: str | None  # the state's name when it is one word (what a listing may write instead)
    title: str
    prefix: str
    separator: str  # between the letters and the digits in the board's own record
    width: int
    suffix: str = ""


ISSUERS = [
    Issuer("FL", "Florida", "LMT", "MA", "", 5),
    Issuer("TX", "Texas", "LMT", "MT", "", 6),
    Issuer("WA", "Washington", "LMP", "MA", ".", 8),
    Issuer("CO", "Colorado", "RMT", "MT", ".", 7),
    Issuer("AZ", "Arizona", "LMT", "MT", "-", 5, "P"),
    Issuer("NC", None, "LMBT", "", "", 5),
    Issuer("NY", None, "LMT", "", "", 6),
]


@st.composite
def issued_numbers(draw: st.DrawFn) -> tuple[Issuer, int, str]:
    """An issuer, the value of a number it issued and the number as its record writes it."""
    issuer = draw(st.sampled_from(ISSUERS))
    value = draw(st.integers(min_value=1, max_value=10**issuer.width - 1))
    digits = str(value).zfill(issuer.width)
    return issuer, value, f"{issuer.prefix}{issuer.separator}{digits}{issuer.suffix}"


@st.composite
def written(draw: st.DrawFn, issuer: Issuer, value: int) -> str:
    """The number of this value as a listing may write it: labelled or not, with the state, the
    issuer's letters or neither, leading zeros kept, dropped or added, any separators, any case."""
    sep = st.sampled_from(["", " ", "-", ".", " - ", "/"])
    states = [issuer.state] + ([issuer.name] if issuer.name else [])
    before = draw(
        st.sampled_from(
            [issuer.prefix, ""]
            + [s + draw(sep) + issuer.prefix for s in states]
            + ([issuer.state] if issuer.prefix else [])
        )
    )
    zeros = draw(st.integers(min_value=0, max_value=3))
    digits = "0" * zeros + str(value) if draw(st.booleans()) else str(value).zfill(issuer.width)
    suffix = draw(st.sampled_from([issuer.suffix, ""]))
    label = draw(st.sampled_from(["", "#", "Lic # ", "License No. ", f"{issuer.title} #", "No. "]))
    text = f"{label}{before}{draw(sep) if before else ''}{digits}{suffix}"
    return draw(st.sampled_from([text, text.lower(), text.upper()]))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), issued=issued_numbers())
def test_a_claim_equal_to_the_record_in_any_writing_verifies(
    data: st.DataObject, issued: tuple[Issuer, int, str]
) -> None:
    issuer, value, number = issued
    registry = registry_of(board_record(issuer.state, number, title=issuer.title))
    text = data.draw(written(issuer, value))
    result = registry.verify(claimed(issuer.title, text, issuer.state), HOLDER_KEYS)
    assert result.status == "verified", (number, text, result)


@settings(max_examples=400, deadline=None)
@given(data=st.data(), issued=issued_numbers(), other=st.integers(min_value=0, max_value=10**9))
def test_a_claim_whose_number_differs_never_verifies(
    data: st.DataObject, issued: tuple[Issuer, int, str], other: int
) -> None:
    issuer, value, number = issued
    assume(other != value)
    registry = registry_of(board_record(issuer.state, number, title=issuer.title))
    text = data.draw(written(issuer, other))
    result = registry.verify(claimed(issuer.title, text, issuer.state), HOLDER_KEYS)
    assert result.status == "not_found", (number, text, result)


@settings(max_examples=300, deadline=None)
@given(
    issued=issued_numbers(),
    letters=st.text(alphabet=string.ascii_uppercase, min_size=1, max_size=2),
)
def test_other_letters_before_the_digits_never_verify(
    issued: tuple[Issuer, int, str], letters: str
) -> None:
    """Letters that are neither the issuer's nor the state's make another license (Florida's
    MM, an establishment's, against its therapists' MA)."""
    issuer, value, number = issued
    assume(letters not in (issuer.prefix, issuer.state))
    registry = registry_of(board_record(issuer.state, number, title=issuer.title))
    text = f"{letters}{str(value).zfill(issuer.width)}{issuer.suffix}"
    result = registry.verify(claimed(issuer.title, text, issuer.state), HOLDER_KEYS)
    assert result.status == "not_found", (number, text, result)


# The issuers' words for a license that is not in force.
LAPSED_WORDS = ["Expired", "EXPIRED", "Lapsed", "Delinquent", "Null and Void", "Expired/Lapsed"]
INACTIVE_WORDS = ["Suspended", "Revoked", "Retired", "Surrendered", "Inactive", "Deactivated"]


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    issued=issued_numbers(),
    status=st.sampled_from([*LAPSED_WORDS, *INACTIVE_WORDS, "", None]),
    days=st.integers(min_value=-4000, max_value=4000),
)
def test_a_record_not_in_force_never_shows_as_verified(
    data: st.DataObject,
    issued: tuple[Issuer, int, str],
    status: str | None,
    days: int,
) -> None:
    """Whatever its expiry date, a record its issuer calls lapsed or withdrawn is expired or
    inactive; one that states no standing is expired once past its expiry date."""
    issuer, value, number = issued
    expires = date(2025, 9, 1) + timedelta(days=days)
    assume(status or days < 0)
    record = board_record(
        issuer.state, number, status=status or "", expires=expires.isoformat(), title=issuer.title
    )
    registry = registry_of(record)
    by_number = registry.verify(
        claimed(issuer.title, data.draw(written(issuer, value)), issuer.state), HOLDER_KEYS
    )
    by_name = registry.verify(Claim(*_license_of(issuer)), HOLDER_KEYS)
    expected = "inactive" if status in INACTIVE_WORDS else "expired"
    assert by_number.status == by_name.status == expected, (record, by_number, by_name)


def _license_of(issuer: Issuer) -> tuple[str, str, str, None]:
    return (issuer.title.lower(), "state_license", issuer.state, None)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), issued=issued_numbers())
def test_somebody_elses_license_in_any_writing_is_not_theirs(
    data: st.DataObject, issued: tuple[Issuer, int, str]
) -> None:
    issuer, value, number = issued
    registry = registry_of(
        board_record(issuer.state, number, title=issuer.title, name="EVANS, MALLORY")
    )
    text = data.draw(written(issuer, value))
    result: Verification = registry.verify(claimed(issuer.title, text, issuer.state), HOLDER_KEYS)
    assert result.status == "not_found"
    assert "belongs to another holder" in result.reason
