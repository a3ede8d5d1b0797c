"""The controlled vocabulary: modalities, conditions and credential types, loaded from data.

One file (``data/taxonomy.yaml``) is the only place synonyms live. Documents are written with
canonical ids (``expand_modalities`` / ``conditions_for``) and a user's words are resolved to the
same ids at query time (``resolve`` / ``find_terms``), so every backend filters and facets on
ids and behaves the same.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import Any, Literal

import yaml

Vocabulary = Literal["modality", "condition", "credential"]
VOCABULARIES: tuple[Vocabulary, ...] = ("modality", "condition", "credential")
# The profile (and query) field holding each vocabulary's term ids.
FIELD_VOCABULARY: dict[str, Vocabulary] = {
    "modalities": "modality",
    "conditions": "condition",
    "credentials": "credential",
}

_PUNCTUATION = re.compile(r"[\W_]+", re.UNICODE)
# libyaml's parser when PyYAML was built with it (the same safe constructors, some ten times
# faster: every command that searches reads this file); else the pure-Python one.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def fold_text(text: str) -> str:
    """Fold a text for matching: lower case, accents removed, punctuation runs made one space.

    Not remembered: for texts met once, such as a review's body (see :func:`fold`)."""
    if text.isascii():  # most text: no accents to remove, and casefold is lower
        return _PUNCTUATION.sub(" ", text.lower()).strip()
    decomposed = unicodedata.normalize("NFKD", text)
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _PUNCTUATION.sub(" ", without_marks.casefold()).strip()


# Terms, names and places recur across listings: each is folded once. (Long texts met once go
# to fold_text: remembered here, they would fill this with what is never asked for again.)
fold = lru_cache(maxsize=200_000)(fold_text)


@dataclass(frozen=True, slots=True)
class Term:
    """One canonical entry of a vocabulary."""

    id: str
    vocabulary: Vocabulary
    label: str
    synonyms: tuple[str, ...] = ()
    covers: tuple[str, ...] = ()  # modalities only
    addressed_by: tuple[str, ...] = ()  # conditions only
    kind: str | None = None  # credentials only
    issuer: str | None = None  # credentials only
    states: tuple[str, ...] = ()  # credentials only: where the title is issued, if restricted


class UnknownTermError(ValueError):
    """A word that no entry of the vocabulary knows."""

    def __init__(self, vocabulary: Vocabulary, word: str) -> None:
        super().__init__(f"unknown {vocabulary} {word!r}")
        self.vocabulary = vocabulary
        self.word = word


@dataclass(frozen=True)
class Taxonomy:
    """The loaded vocabulary with lookups by id and by folded spelling."""

    terms: dict[Vocabulary, dict[str, Term]]
    _by_spelling: dict[Vocabulary, dict[str, str]] = field(repr=False)
    _max_words: int = field(repr=False)
    # Words that add nothing beside a recognised term ("Neuro-muscular Tx", "NMT sessions").
    filler_words: frozenset[str] = field(default=frozenset(), repr=False)

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> Taxonomy:
        """Build a taxonomy from the parsed data file, checking that every reference resolves."""
        sections: dict[Vocabulary, str] = {
            "modality": "modalities",
            "condition": "conditions",
            "credential": "credentials",
        }
        terms: dict[Vocabulary, dict[str, Term]] = {}
        spellings: dict[Vocabulary, dict[str, str]] = {}
        for vocabulary, section in sections.items():
            entries = data.get(section) or {}
            terms[vocabulary] = {}
            spellings[vocabulary] = {}
            for term_id, entry in entries.items():
                term = Term(
                    id=term_id,
                    vocabulary=vocabulary,
                    label=entry["label"],
                    synonyms=tuple(entry.get("synonyms", ())),
                    covers=tuple(entry.get("covers", ())),
                    addressed_by=tuple(entry.get("addressed_by", ())),
                    kind=entry.get("kind"),
                    issuer=entry.get("issuer"),
                    states=tuple(entry.get("states", ())),
                )
                terms[vocabulary][term_id] = term
                for spelling in (term_id, term.label, *term.synonyms):
                    key = fold(spelling)
                    owner = spellings[vocabulary].setdefault(key, term_id)
                    if owner != term_id:
                        raise ValueError(
                            f"taxonomy: {vocabulary} spelling {spelling!r} belongs to both "
                            f"{owner!r} and {term_id!r}"
                        )
        for term in terms["modality"].values():
            _check_refs(term.id, "covers", term.covers, terms["modality"])
        for term in terms["condition"].values():
            _check_refs(term.id, "addressed_by", term.addressed_by, terms["modality"])
        max_words = max(len(k.split()) for by in spellings.values() for k in by)
        return cls(
            terms=terms,
            filler_words=frozenset(fold(w) for w in data.get("filler_words") or ()),
            _by_spelling=spellings,
            _max_words=max_words,
        )

    def ids(self, vocabulary: Vocabulary) -> list[str]:
        """Return every canonical id of a vocabulary, in file order."""
        return list(self.terms[vocabulary])

    def term(self, vocabulary: Vocabulary, term_id: str) -> Term:
        """Return the entry for a canonical id (KeyError if there is none)."""
        return self.terms[vocabulary][term_id]

    def label(self, vocabulary: Vocabulary, term_id: str) -> str:
        """Return the display label of an id, or the id itself if the vocabulary lacks it."""
        term = self.terms[vocabulary].get(term_id)
        return term.label if term else term_id

    def lookup(self, vocabulary: Vocabulary, word: str) -> str | None:
        """Return the canonical id a spelling (or an id) stands for, or None if unknown."""
        return self._by_spelling[vocabulary].get(fold(word))

    def resolve(self, vocabulary: Vocabulary, word: str) -> str:
        """Return the canonical id for a spelling; raise UnknownTermError if there is none."""
        term_id = self.lookup(vocabulary, word)
        if term_id is None:
            raise UnknownTermError(vocabulary, word)
        return term_id

    def expand_modalities(self, modality_ids: Iterable[str]) -> list[str]:
        """Return the modalities plus every technique they cover, transitively, sorted."""
        seen: set[str] = set()
        stack = list(modality_ids)
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            term = self.terms["modality"].get(current)
            if term:
                stack.extend(term.covers)
        return sorted(seen)

    def conditions_for(
        self, modality_ids: Iterable[str], declared: Iterable[str] = ()
    ) -> list[str]:
        """Return the conditions a therapist treats: the declared ones plus those their
        modalities (with what those cover) address, sorted."""
        offered = set(self.expand_modalities(modality_ids))
        found = set(declared)
        for term in self.terms["condition"].values():
            if offered.intersection(term.addressed_by):
                found.add(term.id)
        return sorted(found)

    def find_terms(self, text: str) -> tuple[dict[Vocabulary, list[str]], str]:
        """Find vocabulary phrases in free text, longest match first.

        Returns the ids found per vocabulary (modalities and conditions) and the rest of the text,
        folded, with the matched phrases taken out.
        """
        words = fold(text).split()
        found: dict[Vocabulary, list[str]] = {"modality": [], "condition": []}
        rest: list[str] = []
        i = 0
        while i < len(words):
            for size in range(min(self._max_words, len(words) - i), 0, -1):
                phrase = " ".join(words[i : i + size])
                hit = self._phrase_owner(phrase)
                if hit:
                    vocabulary, term_id = hit
                    if term_id not in found[vocabulary]:
                        found[vocabulary].append(term_id)
                    i += size
                    break
            else:
                rest.append(words[i])
                i += 1
        return found, " ".join(rest)

    def _phrase_owner(self, phrase: str) -> tuple[Vocabulary, str] | None:
        for vocabulary in ("modality", "condition"):
            term_id = self._by_spelling[vocabulary].get(phrase)
            if term_id:
                return vocabulary, term_id
        return None


def _check_refs(owner: str, key: str, refs: Iterable[str], known: dict[str, Term]) -> None:
    missing = [ref for ref in refs if ref not in known]
    if missing:
        raise ValueError(f"taxonomy: {owner}.{key} names unknown modalities {missing}")


@cache
def load_taxonomy() -> Taxonomy:
    """Return the project's taxonomy, parsed once per process."""
    text = resources.files("indexer").joinpath("data/taxonomy.yaml").read_text(encoding="utf-8")
    return Taxonomy.from_mapping(yaml.load(text, Loader=_SAFE_LOADER))
