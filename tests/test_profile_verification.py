"""What "verified" means: a state board confirms an active license, and nothing else."""

from __future__ import annotations

from indexer.profile import CredentialCheck, Profile, Verification, VerificationStatus


def check(
    type_: str,
    kind: str,
    status: VerificationStatus,
    state: str | None = None,
    checked_on: str | None = None,
) -> CredentialCheck:
    return CredentialCheck(
        type_, type_.upper(), kind, state, "N1", ("atlas",), status, checked_on, None, None, ""
    )


def test_an_npi_or_a_board_certification_alone_is_not_verified() -> None:
    npi_only = Verification.of([check("npi", "identifier", "verified")])
    assert npi_only.npi_confirmed and not npi_only.license_verified
    assert npi_only.license == "none"
    certified = Verification.of([check("bctmb", "board_certification", "verified")])
    assert certified.board_certified and not certified.license_verified


def test_an_expired_license_is_not_verified_whatever_else_is() -> None:
    summary = Verification.of(
        [
            check("lmt", "state_license", "expired", "TX"),
            check("npi", "identifier", "verified"),
            check("bctmb", "board_certification", "verified"),
        ]
    )
    assert summary.license == "expired" and not summary.license_verified
    assert summary.npi_confirmed and summary.board_certified


def test_one_active_license_is_enough_and_says_where_and_when() -> None:
    summary = Verification.of(
        [
            check("lmt", "state_license", "expired", "FL"),
            check("lmt", "state_license", "verified", "TX", "2026-11-30"),
        ]
    )
    assert summary.license_verified
    assert (summary.license_states, summary.license_checked_on) == (("TX",), "2026-11-30")


def test_a_license_the_board_does_not_know_is_said_so() -> None:
    summary = Verification.of([check("lmt", "state_license", "not_found", "TX")])
    assert summary.license == "not_found" and not summary.license_verified


def test_the_stored_form_keeps_the_answers() -> None:
    profile = Profile(
        id="t1",
        name="Jane Doe",
        credentials=(check("lmt", "state_license", "verified", "TX", "2026-11-30"),),
        verification=Verification.of(
            [check("lmt", "state_license", "verified", "TX", "2026-11-30")]
        ),
    )
    again = Profile.from_dict(profile.to_dict())
    assert again == profile
    assert again.verification.license_verified
