"""Identifiers: NPI check digits, license and certificate numbers, sites' public listing ids.

Public ids must look random (real sites do not number listings 1, 2, 3 and the same person must
not carry the same id on two sites), yet the server has to turn an id from a URL back into a
therapist without a lookup table of millions of entries. A keyed permutation of an integer range
does both: :class:`Permutation` maps ``0..size-1`` onto itself, bijectively, and back.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass, field

NPI_PREFIX = "80840"
"""The ISO issuer prefix CMS puts before the 9 NPI digits when computing the Luhn check digit."""

_BASE36 = string.digits + string.ascii_lowercase


def luhn_check_digit(payload: str) -> int:
    """The Luhn check digit that makes ``payload`` + digit pass the Luhn test."""
    total = 0
    # Doubling starts from the payload's rightmost digit because the check digit will follow it.
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def npi_from_base(base: int) -> int:
    """Build a valid 10-digit NPI from a 9-digit base (first digit 1 or 2)."""
    digits = f"{base:09d}"
    if len(digits) != 9 or digits[0] not in "12":
        raise ValueError(f"an NPI base has 9 digits and starts with 1 or 2: {base}")
    return int(digits + str(luhn_check_digit(NPI_PREFIX + digits)))


def is_valid_npi(number: int | str) -> bool:
    """True if ``number`` is 10 digits whose last digit is the NPI Luhn check digit."""
    text = str(number)
    if len(text) != 10 or not text.isdigit():
        return False
    return luhn_check_digit(NPI_PREFIX + text[:9]) == int(text[9])


@dataclass(frozen=True, slots=True)
class Permutation:
    """A keyed bijection of ``range(size)`` onto itself (a small Feistel network).

    The network permutes the smallest power-of-four domain covering ``size``; values that land
    outside ``range(size)`` are fed through again ("cycle walking"), which keeps it a bijection of
    the range itself.
    """

    key: str
    size: int
    _half_bits: int = field(init=False, repr=False)
    _round_keys: tuple[bytes, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.size < 2:
            raise ValueError("a permutation needs a domain of at least 2 values")
        half_bits = max(1, ((self.size - 1).bit_length() + 1) // 2)
        object.__setattr__(self, "_half_bits", half_bits)
        keys = tuple(
            hashlib.blake2b(f"{self.key}/{r}".encode(), digest_size=8).digest() for r in range(4)
        )
        object.__setattr__(self, "_round_keys", keys)

    def _round(self, r: int, value: int) -> int:
        digest = hashlib.blake2b(value.to_bytes(8, "big"), key=self._round_keys[r], digest_size=8)
        return int.from_bytes(digest.digest(), "big") & ((1 << self._half_bits) - 1)

    def _encrypt(self, x: int) -> int:
        mask = (1 << self._half_bits) - 1
        left, right = x >> self._half_bits, x & mask
        for r in range(4):
            left, right = right, left ^ self._round(r, right)
        return (left << self._half_bits) | right

    def _decrypt(self, y: int) -> int:
        mask = (1 << self._half_bits) - 1
        left, right = y >> self._half_bits, y & mask
        for r in reversed(range(4)):
            left, right = right ^ self._round(r, left), left
        return (left << self._half_bits) | right

    def forward(self, x: int) -> int:
        """Map ``x`` (``0 <= x < size``) to its image."""
        if not 0 <= x < self.size:
            raise ValueError(f"{x} is outside the permutation's domain of {self.size}")
        y = self._encrypt(x)
        while y >= self.size:
            y = self._encrypt(y)
        return y

    def inverse(self, y: int) -> int:
        """Map an image back to its preimage; raises ``ValueError`` outside the domain."""
        if not 0 <= y < self.size:
            raise ValueError(f"{y} is outside the permutation's domain of {self.size}")
        x = self._decrypt(y)
        while x >= self.size:
            x = self._decrypt(x)
        return x


def fill_number_format(fmt: str, value: int) -> str:
    """Write ``value`` into the ``#`` positions of a license-number format (zero padded)."""
    width = fmt.count("#")
    digits = f"{value:0{width}d}"
    if len(digits) > width:
        raise ValueError(f"{value} does not fit the format {fmt!r}")
    it = iter(digits)
    return "".join(next(it) if ch == "#" else ch for ch in fmt)


def widen_format(fmt: str, digits: int) -> str:
    """Give ``fmt`` at least ``digits`` ``#`` positions, adding them after the last one."""
    missing = digits - fmt.count("#")
    if missing <= 0:
        return fmt
    pos = fmt.rfind("#") + 1
    return fmt[:pos] + "#" * missing + fmt[pos:]


def to_base36(value: int, width: int) -> str:
    """Lower-case base-36 text of ``value``, left-padded with zeros to ``width``."""
    out = []
    while value:
        value, rem = divmod(value, 36)
        out.append(_BASE36[rem])
    return "".join(reversed(out)).rjust(width, "0")


def from_base36(text: str) -> int:
    """Inverse of :func:`to_base36`; raises ``ValueError`` on other characters."""
    return int(text, 36)


def stable_hash(*parts: object) -> int:
    """A 64-bit hash of ``parts`` that is the same in every process (unlike ``hash``)."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
