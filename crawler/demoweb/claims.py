"""What a listing claims about a therapist's credentials.

A listing shows the license of the state its address is in (the previous state's for a stale
listing of someone who moved across a state line), board certification, specialty certificates,
memberships and sometimes the NPI. False claims (a license number the board never issued, a
board certification the registry does not list) appear on every listing of that therapist. The
ground truth is written from the same function, so it always matches the pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from crawler.demoweb import vocab
from crawler.demoweb.model import Listing, Therapist
from crawler.demoweb.store import listing_address
from crawler.demoweb.variants import credential_label, stream


@dataclass(frozen=True, slots=True)
class Claim:
    """One credential a listing shows. ``false`` is ground truth: the issuer does not confirm it."""

    credential: str
    kind: str
    label: str
    state: str | None = None
    number: str | None = None
    issuer: str | None = None
    false: bool = False

    def to_doc(self) -> dict[str, object]:
        """Serialise for the ground truth."""
        return {
            "credential": self.credential,
            "kind": self.kind,
            "state": self.state,
            "number": self.number,
            "false": self.false,
        }


def listing_claims(t: Therapist, listing: Listing, seed: int) -> list[Claim]:
    """The credentials ``listing`` of ``t`` shows, in display order."""
    rng = stream(seed, "claims", listing.site, t.id, listing.ordinal)
    claims: list[Claim] = []
    state = listing_address(t, listing.stale).state
    rule = vocab.state_licensing().get(state)
    fake_license = next(
        (c for c in t.false_claims if c.state == state and c.credential != "bctmb"), None
    )
    lic = t.license_in(state)
    if rule is not None and fake_license is not None:
        claims.append(
            Claim(
                rule.credential,
                "state_license",
                rule.title,
                state,
                fake_license.number,
                rule.board,
                false=True,
            )
        )
    elif rule is not None and lic is not None:
        number = lic.number if rng.random() < 0.85 else None
        claims.append(Claim(lic.credential, "state_license", lic.title, state, number, rule.board))
    cert_issuer = vocab.licensing()["board_certification"]["short_issuer"]
    if t.bctmb:
        number = t.bctmb.id if rng.random() < 0.5 else None
        claims.append(Claim("bctmb", "board_certification", "BCTMB", None, number, cert_issuer))
    else:
        fake_cert = next((c for c in t.false_claims if c.credential == "bctmb"), None)
        if fake_cert is not None:
            claims.append(
                Claim(
                    "bctmb",
                    "board_certification",
                    "BCTMB",
                    None,
                    fake_cert.number,
                    cert_issuer,
                    false=True,
                )
            )
    if t.legacy_ncbtmb:
        claims.append(Claim("nctmb", "board_certification", "NCTMB", None, None, cert_issuer))
    if t.nmt_program:
        claims.append(
            Claim(
                "cnmt",
                "specialty_certificate",
                credential_label("cnmt", rng),
                None,
                None,
                t.nmt_program,
            )
        )
    for membership in t.memberships:
        claims.append(Claim(membership, "membership", credential_label(membership, rng)))
    if t.npi and rng.random() < 0.45:
        claims.append(Claim("npi", "identifier", "NPI", None, str(t.npi.number), "CMS NPPES"))
    return claims


def title_letters(claims: list[Claim]) -> list[str]:
    """The post-nominal letters a name may carry: license title, BCTMB, CNMT."""
    out = [c.label for c in claims if c.kind in ("state_license", "board_certification")]
    if any(c.credential == "cnmt" for c in claims):
        out.append("CNMT")
    return out
