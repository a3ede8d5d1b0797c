"""The many ways real listings write the same fact: names, addresses, phones, terms, ratings, dates.

Every choice is drawn from a random stream seeded by the site and the listing, so one listing
always looks the same while the same person looks different from site to site.
"""

from __future__ import annotations

import random
from datetime import date

from crawler.demoweb import vocab
from crawler.demoweb.identifiers import stable_hash
from crawler.demoweb.model import Address, Therapist

NAME_STYLES = (
    "first_last",
    "first_middle_last",
    "first_last_title",
    "first_middle_last_title",
    "last_first",
    "first_last_nmt",
    "upper",
    "first_last_creds",
)


def stream(*parts: object) -> random.Random:
    """A random stream fixed by ``parts`` (site, therapist id, ordinal, purpose...)."""
    return random.Random(stable_hash(*parts))


def person_name(t: Therapist, style: str, titles: list[str]) -> str:
    """The therapist's name in one listing style; ``titles`` are the credentials it claims."""
    middle_initial = f" {t.middle[0]}." if t.middle else ""
    first_title = titles[0] if titles else "LMT"
    match style:
        case "first_middle_last":
            return f"{t.first}{middle_initial} {t.last}"
        case "first_last_title":
            return f"{t.first} {t.last}, {first_title}" if titles else f"{t.first} {t.last}"
        case "first_middle_last_title":
            base = f"{t.first}{middle_initial} {t.last}"
            return f"{base}, {first_title}" if titles else base
        case "last_first":
            return f"{t.last}, {t.first}"
        case "first_last_nmt":
            nmt = "NMT" if "neuromuscular_therapy" in t.modalities else first_title
            return f"{t.first} {t.last} {nmt}"
        case "upper":
            return f"{t.first} {t.last}".upper()
        case "first_last_creds":
            return ", ".join([f"{t.first} {t.last}", *titles[:3]])
        case _:
            return f"{t.first} {t.last}"


def street_line(addr: Address, rng: random.Random, *, unit_inline: bool = True) -> str:
    """The street line with the suffix, direction and unit spelled one of the usual ways."""
    st = vocab.streets()
    abbreviate = rng.random() < 0.65
    parts = [addr.number]
    if addr.direction:
        short = dict(st["directions"])[addr.direction]
        parts.append(short if abbreviate else addr.direction)
    parts.append(addr.street)
    suffix = dict(st["suffixes"])[addr.suffix]
    if abbreviate:
        parts.append(suffix + ("." if rng.random() < 0.25 and suffix != "Way" else ""))
    else:
        parts.append(addr.suffix)
    line = " ".join(parts)
    unit = unit_text(addr, rng)
    if unit and unit_inline:
        line = f"{line}{',' if rng.random() < 0.6 else ''} {unit}"
    return line


def unit_text(addr: Address, rng: random.Random) -> str | None:
    """The unit (``Suite 200`` / ``#200`` / ``Ste. 200``...), or ``None``."""
    if not addr.unit_kind or not addr.unit:
        return None
    forms = vocab.streets()["units"][addr.unit_kind]
    return rng.choice(forms).format(n=addr.unit)


def zip_text(addr: Address, rng: random.Random) -> str:
    """ZIP or ZIP+4."""
    return f"{addr.zip}-{addr.zip4}" if rng.random() < 0.2 else addr.zip


PHONE_STYLES = ("paren", "dash", "dot", "plus", "plain", "paren_nospace", "dash_one")


def phone_text(digits: str, style: str) -> str:
    """A 10-digit phone number in one of the formats sites use."""
    a, b, c = digits[:3], digits[3:6], digits[6:]
    match style:
        case "paren":
            return f"({a}) {b}-{c}"
        case "dot":
            return f"{a}.{b}.{c}"
        case "plus":
            return f"+1 {a} {b} {c}"
        case "plain":
            return digits
        case "paren_nospace":
            return f"({a}){b}-{c}"
        case "dash_one":
            return f"1-{a}-{b}-{c}"
        case _:
            return f"{a}-{b}-{c}"


def modality_label(modality: str, rng: random.Random, tidy: float = 0.6) -> str:
    """A site's spelling of a modality id (the tidy label with probability ``tidy``)."""
    forms = vocab.spellings()["modalities"][modality]
    return forms[0] if rng.random() < tidy else rng.choice(forms)


def condition_label(condition: str, rng: random.Random, tidy: float = 0.7) -> str:
    """A site's spelling of a condition id."""
    forms = vocab.spellings()["conditions"][condition]
    return forms[0] if rng.random() < tidy else rng.choice(forms)


def credential_label(credential: str, rng: random.Random) -> str:
    """A site's spelling of a non-license credential (BCTMB, CNMT, memberships)."""
    forms = vocab.spellings()["credentials"][credential]
    return forms[0] if rng.random() < 0.6 else rng.choice(forms)


def stars(rating: float) -> str:
    """Star glyphs for a rating out of 5 (half stars round up to a full one)."""
    full = int(rating + 0.5)
    return "★" * full + "☆" * (5 - full)


RATING_STYLES = ("stars", "slash5", "comma", "tenths", "out_of")


def rating_text(rating: float, style: str) -> str:
    """A rating out of 5 written as stars, "4.5/5", "4,5", "9/10" or "4 out of 5"."""
    value = f"{rating:.1f}".rstrip("0").rstrip(".")
    match style:
        case "stars":
            return stars(rating)
        case "comma":
            return f"{rating:.1f}".replace(".", ",")
        case "tenths":
            return f"{round(rating * 2)}/10"
        case "out_of":
            return f"{value} out of 5"
        case _:
            return f"{value}/5"


DATE_STYLES = ("long", "us", "iso", "short", "month_year", "relative", "dmy")


def date_text(day: date, style: str, as_of: date) -> str:
    """A date as "March 3, 2023", "03/03/2023", "2023-03-03", "3 Mar 2023", "2 months ago"..."""
    match style:
        case "us":
            return f"{day.month:02d}/{day.day:02d}/{day.year}"
        case "iso":
            return day.isoformat()
        case "short":
            return f"{day.day} {day.strftime('%b')} {day.year}"
        case "month_year":
            return day.strftime("%B %Y")
        case "dmy":
            return f"{day.day}.{day.month}.{day.year}"
        case "relative":
            return relative_date(day, as_of)
        case _:
            return f"{day.strftime('%B')} {day.day}, {day.year}"


def relative_date(day: date, as_of: date) -> str:
    """How review sites say how long ago a date was ("3 weeks ago", "a year ago")."""
    days = (as_of - day).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"{days} days ago"
    if days < 30:
        weeks = days // 7
        return "a week ago" if weeks == 1 else f"{weeks} weeks ago"
    if days < 365:
        months = days // 30
        return "a month ago" if months == 1 else f"{months} months ago"
    years = days // 365
    return "a year ago" if years == 1 else f"{years} years ago"
