"""How a therapist's credentials read: the badges of a result card or a profile header, and the
status of each credential.

"Verified" means one thing, everywhere: an active state license that the state board's own
record confirms (``Profile.verification.license_verified``). A board certification or an NPI
that its registry confirms gets a badge of its own and never reads as "verified": neither is a
license to practise.
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.formatting import BadgeColor, format_date, short_label
from indexer.profile import CredentialCheck, Profile


@dataclass(frozen=True, slots=True)
class Badge:
    """A short, coloured statement about a therapist."""

    label: str
    color: BadgeColor
    icon: str


@dataclass(frozen=True, slots=True)
class StatusStyle:
    """How one credential's verification status is shown."""

    label: str
    color: BadgeColor
    icon: str
    explanation: str


NO_LICENSE = Badge("No license listed", "gray", ":material/remove_circle_outline:")
NPI_CONFIRMED = Badge("NPI confirmed", "gray", ":material/badge:")
CREDENTIAL_FLAGGED = Badge("Credential flagged", "red", ":material/flag:")
KIND_LABELS = {
    "state_license": "State license",
    "board_certification": "Board certification",
    "specialty_certificate": "Specialty certificate",
    "membership": "Association membership",
    "identifier": "Provider identifier",
}
UNKNOWN_STATUS = StatusStyle("Unknown", "gray", ":material/help:", "no verification recorded")


def kind_label(kind: str | None) -> str:
    """The name of a kind of credential."""
    return KIND_LABELS.get(kind or "", (kind or "Other").replace("_", " ").capitalize())


def is_npi(credential: CredentialCheck) -> bool:
    """True for a National Provider Identifier (the taxonomy files it as an identifier)."""
    return credential.type == "npi"


def boards(states: tuple[str, ...] | list[str]) -> str:
    """ "the TX board", "the FL and TX boards", or "the state board" when no state is known."""
    named = sorted({s for s in states if s})
    if not named:
        return "the state board"
    if len(named) == 1:
        return f"the {named[0]} board"
    return f"the {', '.join(named[:-1])} and {named[-1]} boards"


def claim_states(profile: Profile, status: str) -> tuple[str, ...]:
    """The states of the profile's state-license claims that got this status."""
    return tuple(
        sorted(
            {
                c.state
                for c in profile.credentials
                if c.kind == "state_license" and c.status == status and c.state
            }
        )
    )


def license_badge(profile: Profile) -> Badge:
    """The one badge that sums up the therapist's state license, from ``profile.verification``.

    Green "License verified" only when a state board confirms an active license; an expired,
    inactive or unknown license says so in plain words."""
    verification = profile.verification
    standing = verification.license
    if verification.license_verified:
        states = ", ".join(verification.license_states)
        label = f"License verified ({states})" if states else "License verified"
        return Badge(label, "green", ":material/verified:")
    if standing == "expired":
        return Badge("License expired", "orange", ":material/event_busy:")
    if standing == "inactive":
        return Badge("License inactive", "orange", ":material/pause_circle:")
    if standing == "not_found":
        where = boards(claim_states(profile, "not_found"))
        return Badge(f"License not found at {where}", "red", ":material/report:")
    if standing == "unverifiable":
        return Badge("License not checked", "gray", ":material/help:")
    return NO_LICENSE


def license_sentence(profile: Profile) -> str:
    """One plain sentence on the state license, for the profile header (not escaped)."""
    verification = profile.verification
    standing = verification.license
    if verification.license_verified:
        checked = format_date(verification.license_checked_on)
        when = f" on {checked}" if checked else ""
        return f"License confirmed active by {boards(verification.license_states)}{when}."
    if standing in ("expired", "inactive"):
        where = boards(claim_states(profile, standing))
        word = "expired" if standing == "expired" else "not active (suspended or revoked)"
        return f"{where[0].upper()}{where[1:]} lists the license as {word}: not verified."
    if standing == "not_found":
        where = boards(claim_states(profile, "not_found"))
        return f"License not found at {where}: its records hold no such license for this therapist."
    if standing == "unverifiable":
        return "The license could not be checked: no record of that state's board is read."
    return "No listing claims a state license, so none could be verified."


def board_certification_badge(profile: Profile) -> Badge | None:
    """ "Board certified (BCTMB) — confirmed by registry", or None if no registry confirms one."""
    if not profile.verification.board_certified:
        return None
    names = sorted(
        {
            short_label(c.label or c.type)
            for c in profile.credentials
            if c.kind == "board_certification" and c.status == "verified"
        }
    )
    which = f" ({', '.join(names)})" if names else ""
    return Badge(
        f"Board certified{which} \u2014 confirmed by registry",
        "blue",
        ":material/workspace_premium:",
    )


def badges(profile: Profile) -> list[Badge]:
    """Badges for a result card, a profile header or a compare card: the license first, then a
    confirmed board certification and NPI as badges of their own, then any credential flag."""
    found = [license_badge(profile)]
    certified = board_certification_badge(profile)
    if certified is not None:
        found.append(certified)
    if profile.verification.npi_confirmed:
        found.append(NPI_CONFIRMED)
    if profile.credential_flags:
        found.append(CREDENTIAL_FLAGGED)
    return found


def _with_state(label: str, state: str | None) -> str:
    return f"{label} ({state})" if state else label


def license_status(credential: CredentialCheck) -> StatusStyle:
    """How the check of one state license reads; only an active one reads "Verified"."""
    state, status = credential.state, credential.status
    if status == "verified":
        return StatusStyle(
            _with_state("Verified", state),
            "green",
            ":material/verified:",
            "the state board lists it as active",
        )
    if status == "expired":
        return StatusStyle(
            _with_state("Expired", state),
            "orange",
            ":material/event_busy:",
            "the state board lists it as expired",
        )
    if status == "inactive":
        return StatusStyle(
            _with_state("Inactive", state),
            "orange",
            ":material/pause_circle:",
            "the state board lists it as suspended, revoked or otherwise not active",
        )
    if status == "not_found":
        return StatusStyle(
            f"Not found at {boards([state] if state else [])}",
            "red",
            ":material/report:",
            "the board's records have no such license for this therapist",
        )
    if status == "unverifiable":
        return StatusStyle(
            "Not checked", "gray", ":material/help:", "no record of this state's board is read"
        )
    return UNKNOWN_STATUS


def registry_status(credential: CredentialCheck) -> StatusStyle:
    """How the check of a certification, membership or NPI reads: confirmed, never "verified"."""
    status = credential.status
    if status == "verified":
        label = "Confirmed in NPI registry" if is_npi(credential) else "Confirmed by registry"
        return StatusStyle(
            label,
            "blue",
            ":material/workspace_premium:",
            "the issuer's registry lists it; it is not a license to practise",
        )
    if status == "expired":
        return StatusStyle(
            "Expired", "orange", ":material/event_busy:", "the issuer lists it as expired"
        )
    if status == "inactive":
        return StatusStyle(
            "Inactive", "orange", ":material/pause_circle:", "the issuer lists it as not active"
        )
    if status == "not_found":
        return StatusStyle(
            "Not found at issuer", "red", ":material/report:", "the issuer has no such record"
        )
    if status == "unverifiable":
        return StatusStyle(
            "Not checked", "gray", ":material/help:", "no registry of this issuer is read"
        )
    return UNKNOWN_STATUS


def credential_status(credential: CredentialCheck) -> StatusStyle:
    """How one credential's check reads, by its kind (see ``license_status``)."""
    if credential.kind == "state_license":
        return license_status(credential)
    return registry_status(credential)


def status_badge(credential: CredentialCheck) -> Badge:
    """The badge for one credential's verification status."""
    style = credential_status(credential)
    return Badge(style.label, style.color, style.icon)
