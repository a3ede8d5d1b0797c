"""Modality, condition and credential phrases to the taxonomy's canonical ids.

Sources write lists in one string ("NMT, trigger-point & deep tissue", "Swedish/Relaxation",
"Neuromuscular Therapy (NMT)"). The text is cut at list separators, then the longest run of
adjacent pieces that the taxonomy knows wins, so a term with a separator inside it ("Stretching
and Mobilization", "Swedish/Relaxation") stays whole. A piece no entry knows is returned in
``unknown`` and flagged; it is never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from indexer.normalize.flags import Flag, Normalized
from indexer.taxonomy import Taxonomy, Vocabulary, fold, load_taxonomy

# Commas, semicolons, slashes, pipes, ampersands, plus signs, bullets, brackets, new lines,
# a spaced dash and the words "and" / "or" all separate list items.
_SEPARATOR = re.compile(
    r"(\s*(?:[,;/|&+•·()\[\]\n]|\s[-\u2013\u2014]\s|\band\b|\bor\b)\s*)", re.IGNORECASE
)
# Longest run of pieces tried as one term; the longest taxonomy spelling spans three.
_MAX_RUN = 4
# find_terms knows only these; credentials are matched whole.
_FREE_TEXT_VOCABULARIES: frozenset[Vocabulary] = frozenset({"modality", "condition"})
_FIELDS: dict[Vocabulary, str] = {
    "modality": "modalities",
    "condition": "conditions",
    "credential": "credentials",
}


@dataclass(frozen=True, slots=True)
class TermMatch:
    """The canonical ids found (first-seen order, no repeats) and the pieces nothing knew."""

    ids: tuple[str, ...]
    unknown: tuple[str, ...]


def split_terms(text: str) -> list[tuple[str, str]]:
    """Return ``(piece, separator_before_it)`` pairs of a list written in one string."""
    parts = _SEPARATOR.split(text)
    pieces: list[tuple[str, str]] = []
    separator = ""
    for index, part in enumerate(parts):
        if index % 2:
            separator += part
            continue
        piece = part.strip(" .\t")
        if piece:
            pieces.append((piece, separator))
            separator = ""
    return pieces


def normalize_terms(
    vocabulary: Vocabulary,
    raws: str | Iterable[str],
    *,
    field: str | None = None,
    taxonomy: Taxonomy | None = None,
) -> Normalized[TermMatch]:
    """Return the canonical ids a source's phrases stand for, and the phrases nothing knows.

    ``raws`` is one string or several (a listing's ``modalities_raw``). Each unknown piece is
    flagged ``unknown_term``. For modalities and conditions, a piece the vocabulary does not know
    whole but that contains known phrases ("NMT for athletes") yields those ids and a
    ``partial_term`` flag, so the words left over are reported rather than lost.
    """
    taxonomy = taxonomy or load_taxonomy()
    field = field or _FIELDS[vocabulary]
    texts = [raws] if isinstance(raws, str) else list(raws)
    ids: list[str] = []
    unknown: list[str] = []
    flags: list[Flag] = []
    for text in texts:
        if not text or not text.strip():
            continue
        whole = taxonomy.lookup(vocabulary, text)
        if whole is not None:
            _add(ids, whole)
            continue
        for found, leftover in _match_pieces(vocabulary, split_terms(text), taxonomy):
            for term_id in found:
                _add(ids, term_id)
            if leftover is None:
                continue
            if found:
                if not _only_fillers(leftover, found, taxonomy):
                    flags.append(Flag(field, "partial_term", leftover))
            else:
                unknown.append(leftover)
                flags.append(Flag(field, "unknown_term", leftover))
    return Normalized(TermMatch(tuple(ids), tuple(unknown)), tuple(flags))


def _match_pieces(
    vocabulary: Vocabulary, pieces: list[tuple[str, str]], taxonomy: Taxonomy
) -> Iterable[tuple[list[str], str | None]]:
    """Yield ``(ids, piece left unexplained or None)`` for each matched run or piece."""
    start = 0
    while start < len(pieces):
        for stop in range(min(len(pieces), start + _MAX_RUN), start, -1):
            run = pieces[start][0] + "".join(sep + piece for piece, sep in pieces[start + 1 : stop])
            term_id = taxonomy.lookup(vocabulary, run)
            if term_id is not None:
                yield [term_id], None
                start = stop
                break
        else:
            piece = pieces[start][0]
            found: list[str] = []
            if vocabulary in _FREE_TEXT_VOCABULARIES:
                found = taxonomy.find_terms(piece)[0][vocabulary]
            yield found, piece
            start += 1


def _only_fillers(piece: str, found: list[str], taxonomy: Taxonomy) -> bool:
    """Whether a piece says nothing beyond the terms found in it ("Neuro-muscular Tx")."""
    _, rest = taxonomy.find_terms(piece)
    return all(word in taxonomy.filler_words for word in fold(rest).split())


def _add(ids: list[str], term_id: str) -> None:
    if term_id not in ids:
        ids.append(term_id)
