"""What a profile's credentials add up to, for badges in lists and headers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dashboard.formatting import BadgeColor, short_label, status_style


@dataclass(frozen=True, slots=True)
class Badge:
    """A short, coloured statement about a therapist."""

    label: str
    color: BadgeColor
    icon: str


# Worst first: a license the board does not know outweighs a verified one in another state.
_LICENSE_BADGES: tuple[tuple[str, Badge], ...] = (
    ("not_found", Badge("License not found at board", "red", ":material/report:")),
    ("verified", Badge("License verified", "green", ":material/verified:")),
    ("expired", Badge("License expired", "orange", ":material/event_busy:")),
    ("inactive", Badge("License inactive", "orange", ":material/pause_circle:")),
    ("unverifiable", Badge("License not checked", "gray", ":material/help:")),
)
NO_LICENSE = Badge("No license listed", "gray", ":material/remove_circle_outline:")


def credentials_of(profile: dict[str, Any], kind: str | None = None) -> list[dict[str, Any]]:
    """The profile's credentials, optionally only those of one kind."""
    items = [c for c in profile.get("credentials") or () if isinstance(c, dict)]
    return [c for c in items if kind is None or c.get("kind") == kind]


def license_badge(profile: dict[str, Any]) -> Badge:
    """The one badge that sums up the therapist's state licenses."""
    statuses = {c.get("status") for c in credentials_of(profile, "state_license")}
    if not statuses:
        return NO_LICENSE
    for status, badge in _LICENSE_BADGES:
        if status in statuses:
            return badge
    return _LICENSE_BADGES[-1][1]


def badges(profile: dict[str, Any]) -> list[Badge]:
    """Badges for a result card or a profile header: license, verified certifications, flags."""
    found = [license_badge(profile)]
    for credential in credentials_of(profile, "board_certification"):
        if credential.get("status") == "verified":
            label = short_label(str(credential.get("label") or credential.get("type") or ""))
            found.append(Badge(f"{label} verified", "blue", ":material/workspace_premium:"))
    if profile.get("credential_flags"):
        found.append(Badge("Credential flagged", "red", ":material/flag:"))
    return found


def status_badge(credential: dict[str, Any]) -> Badge:
    """The badge for one credential's verification status."""
    style = status_style(credential.get("status"))
    return Badge(style.label, style.color, style.icon)
