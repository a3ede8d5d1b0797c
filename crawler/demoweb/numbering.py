"""Issuing license numbers, board-certification ids and NPIs without collisions.

Each issuer draws numbers from a keyed permutation of its number space, so numbers look scattered
like real ones while staying unique. The lower half of a space is for numbers actually issued; the
upper half is where fabricated numbers (false claims on listings) come from, so a fabricated
number can never belong to someone by accident. Counters are part of the population's metadata,
so a later mutation keeps issuing fresh numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crawler.demoweb import vocab
from crawler.demoweb.identifiers import Permutation, fill_number_format, npi_from_base, widen_format

# Room for movers (who hold two licenses) and for growth through mutations.
_HEADROOM = 3
_NPI_SPACE = 10**8


def _state_shares() -> dict[str, float]:
    total = sum(m.weight for m in vocab.metros())
    shares: dict[str, float] = {}
    for m in vocab.metros():
        shares[m.state] = shares.get(m.state, 0.0) + m.weight / total
    return shares


def _digits_for(expected: int, minimum: int) -> int:
    digits = minimum
    while 10**digits // 2 < expected:
        digits += 1
    return digits


@dataclass
class NumberPlan:
    """Counters and number formats of every issuer in one population."""

    seed: int
    license_formats: dict[str, str]
    bctmb_format: str
    issued: dict[str, int] = field(default_factory=dict)
    fabricated: dict[str, int] = field(default_factory=dict)
    _perms: dict[str, Permutation] = field(default_factory=dict, repr=False)

    @classmethod
    def for_population(cls, seed: int, therapists: int) -> NumberPlan:
        """A plan whose number spaces hold ``therapists`` with generous headroom."""
        expected_total = max(therapists, 1) * _HEADROOM
        formats: dict[str, str] = {}
        for state, rule in vocab.state_licensing().items():
            if rule is None:
                continue
            share = _state_shares().get(state, 0.05)
            digits = _digits_for(int(expected_total * share) + 10, rule.digits)
            formats[state] = widen_format(rule.number_format, digits)
        bc = vocab.licensing()["board_certification"]
        bc_digits = _digits_for(expected_total // 4 + 10, bc["id_format"].count("#"))
        return cls(
            seed=seed,
            license_formats=formats,
            bctmb_format=widen_format(bc["id_format"], bc_digits),
        )

    def _perm(self, issuer: str, size: int) -> Permutation:
        perm = self._perms.get(issuer)
        if perm is None:
            perm = Permutation(f"{self.seed}/numbers/{issuer}", size)
            self._perms[issuer] = perm
        return perm

    def _draw(self, issuer: str, fmt: str, fabricated: bool) -> str:
        space = 10 ** fmt.count("#")
        half = space // 2
        counters = self.fabricated if fabricated else self.issued
        seq = counters.get(issuer, 0)
        if seq >= half:
            raise RuntimeError(f"the number space of {issuer} is exhausted")
        counters[issuer] = seq + 1
        value = self._perm(issuer, space).forward(seq + (half if fabricated else 0))
        return fill_number_format(fmt, value)

    def license_number(self, state: str, *, fabricated: bool = False) -> str:
        """A new license number of ``state``; ``fabricated`` ones are never issued to anyone."""
        return self._draw(f"license/{state}", self.license_formats[state], fabricated)

    def bctmb_id(self, *, fabricated: bool = False) -> str:
        """A new NCBTMB certificant id; ``fabricated`` ones are never in the registry."""
        return self._draw("bctmb", self.bctmb_format, fabricated)

    def npi(self) -> int:
        """A new valid individual NPI (starts with 1, Luhn check digit with the 80840 prefix)."""
        seq = self.issued.get("npi", 0)
        self.issued["npi"] = seq + 1
        return npi_from_base(100_000_000 + self._perm("npi", _NPI_SPACE).forward(seq))

    def to_doc(self) -> dict[str, Any]:
        """Serialise (counters included) for the population's metadata."""
        return {
            "seed": self.seed,
            "license_formats": self.license_formats,
            "bctmb_format": self.bctmb_format,
            "issued": self.issued,
            "fabricated": self.fabricated,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> NumberPlan:
        """Rebuild from :meth:`to_doc` output."""
        return cls(
            seed=int(doc["seed"]),
            license_formats=dict(doc["license_formats"]),
            bctmb_format=doc["bctmb_format"],
            issued=dict(doc["issued"]),
            fabricated=dict(doc["fabricated"]),
        )
