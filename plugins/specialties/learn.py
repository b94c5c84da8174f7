"""What a room teaches the tagger: for words of a shipped vocabulary, which specialties the
room's confirmed cases that contained them were about.

Nothing a patient said is kept: a post is reduced to the set of its vocabulary words (the
words of the shipped catalogue's keywords and their inflections, plus the general clinical
words of `vocabulary.txt` and the drug names of `vocabulary_drugs.txt`, less any word that is
also a first name or a surname); every other word is dropped before anything is stored, and the
model holds one summed weight per (word, specialty), never the order of words nor which post
they came from. `classify(text, specs, learned=model)` adds the model's evidence to the
catalogue's keywords.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources

from .catalog import is_ending, load_defaults, normalize, normalize_keyword
from .classify import negated, word_forms

CONFIRMED = 1.0
"""Weight of a case whose proposed specialty the poster or a member confirmed."""
CORRECTED = 2.0
"""Weight of a retag of a confident guess that was wrong: the room said the tagger erred."""
SECONDARY = 0.5
"""Share of a case's weight that its second and third specialties get."""
LEARN_WEIGHT = 1.0
"""Score a word adds to a specialty when every case of the room containing it was about that
specialty and it was seen often (its share shrinks toward 0 on few observations)."""
PRIOR = 1.0
"""Observations a word's share is shrunk with: one case gives a word half its share."""
MIN_SHARE = 0.6
"""A word adds nothing to a specialty below this share (noise of rare co-occurrences): two
confirmations of one specialty (2/3) are enough, a word shared by two specialties is not.
LEARN_WEIGHT, PRIOR and MIN_SHARE were chosen on the development half of the tagging corpus
(`python -m bench learning`): lower shares or higher weights lost confident share and top-1."""
MAX_WEIGHT = 1000.0
"""A (word, specialty) weight stops growing here: a room's habits cannot overflow."""
MAX_LEARNED_WORDS = 200
"""Vocabulary words of one post a lesson keeps at most (a 64 KB post costs no more)."""


VOCABULARY_FILES = ("vocabulary.txt", "vocabulary_drugs.txt")
"""Shipped word lists besides the catalogue, each with its source and licence in its header:
general clinical words written for the project, drug names of the French public drug database."""


@functools.cache
def vocabulary() -> Mapping[str, str]:
    """Every accepted form of a vocabulary word → its canonical (normalized) form."""
    words: list[str] = []
    for spec in load_defaults():
        for keyword in (*spec.all_keywords, spec.name_fr, spec.name_en):
            if not is_ending(keyword):
                words.extend(normalize_keyword(keyword).split())
    for name in VOCABULARY_FILES:
        text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
        for line in text.splitlines():
            if line.strip() and not line.startswith("#"):
                words.extend(normalize(line).split())
    forms: dict[str, str] = {}
    for word in dict.fromkeys(words):  # once each, in order (the first spelling of a form wins)
        if len(word) < 3 or word.isdigit() or word in _STOPWORDS or word in _NAMES:
            continue
        for form in sorted(word_forms(word) | {word}):
            if form not in _NAMES:
                forms.setdefault(form, word)
    return forms


@functools.cache
def canonical_words() -> frozenset[str]:
    """The vocabulary's canonical forms: the only words a model may hold."""
    return frozenset(vocabulary().values())


# Function words that catalogue phrases contain ("prise de sang", "out of hours"): they say
# nothing about a specialty.
_STOPWORDS = frozenset({
    "les", "des", "une", "aux", "par", "pour", "sur", "sans", "avec", "dans", "chez", "entre",
    "vers", "sous", "que", "qui", "est", "son", "ses", "leur", "the", "and", "for", "with", "from",
    "that", "this", "into", "over", "under", "out", "off", "not", "all", "any", "per", "day",
})


# Words of the catalogue's eponyms ("syndrome de Gilbert", "Raynaud", "tendon d'Achille") and
# other vocabulary words that are also first names or surnames of the secrecy plugin's
# gazetteer: never learned, since a patient's name could be one. "dos" (the back) stays: a
# common word. tests/test_tagger_learning.py keeps this list in step with the gazetteer.
_NAMES = frozenset({
    "achille", "ana", "anas", "come", "diane", "gilbert", "gilles", "isaac", "laroche", "line",
    "marine", "martial", "raynaud", "steven", "vidal",
})


def vocabulary_words(text: str) -> list[str]:
    """The distinct vocabulary words of a post, canonical forms, in order of appearance; a
    word right after a negation ("pas de fièvre") is left out, as the tagger does."""
    forms = vocabulary()
    words = normalize(text).split()
    found: dict[str, None] = {}
    for i, word in enumerate(words):
        canonical = forms.get(word)
        if canonical is not None and canonical not in found and not negated(words, i):
            found[canonical] = None
            if len(found) == MAX_LEARNED_WORDS:
                break
    return list(found)


class RoomModel:
    """A room's learned weights: vocabulary word → specialty id → summed weight."""

    __slots__ = ("weights",)

    def __init__(self, weights: Mapping[str, Mapping[str, float]] | None = None) -> None:
        self.weights: dict[str, dict[str, float]] = {
            word: dict(by_spec) for word, by_spec in (weights or {}).items()
        }

    def learn(self, text: str, ids: Sequence[str], weight: float = CONFIRMED
              ) -> list[tuple[str, str, float]]:
        """Learn that `text` was about `ids` (best first); the (word, specialty, new weight)
        rows changed, for a store to save."""
        return self.learn_words(vocabulary_words(text), ids, weight)

    def learn_words(self, words: Iterable[str], ids: Sequence[str], weight: float = CONFIRMED
                    ) -> list[tuple[str, str, float]]:
        """`learn` from a post's `vocabulary_words`, kept meanwhile instead of its text."""
        changed: list[tuple[str, str, float]] = []
        if not ids or weight <= 0:
            return changed
        known = canonical_words()
        for word in itertools.islice(dict.fromkeys(w for w in words if w in known),
                                     MAX_LEARNED_WORDS):
            by_spec = self.weights.setdefault(word, {})
            for rank, sid in enumerate(dict.fromkeys(ids)):
                gain = weight if rank == 0 else weight * SECONDARY
                by_spec[sid] = min(MAX_WEIGHT, by_spec.get(sid, 0.0) + gain)
                changed.append((word, sid, by_spec[sid]))
        return changed

    def forget(self, specialty_id: str | None = None) -> None:
        """Forget everything, or what was learned for one specialty."""
        if specialty_id is None:
            self.weights.clear()
            return
        for word in list(self.weights):
            self.weights[word].pop(specialty_id, None)
            if not self.weights[word]:
                del self.weights[word]

    def scores(self, text: str) -> dict[str, tuple[float, list[str]]]:
        """Specialty id → (learned score, the words that gave it, strongest first)."""
        found: dict[str, list[tuple[float, str]]] = {}
        for word in vocabulary_words(text):
            by_spec = self.weights.get(word)
            if not by_spec:
                continue
            total = sum(by_spec.values()) + PRIOR
            for sid, weight in by_spec.items():
                share = weight / total
                if share >= MIN_SHARE:
                    found.setdefault(sid, []).append((LEARN_WEIGHT * share, word))
        return {sid: (sum(g for g, _ in gains), [w for _, w in sorted(gains, key=lambda x: -x[0])])
                for sid, gains in found.items()}

    def top_words(self, specialty_id: str, limit: int = 10) -> list[str]:
        """The words that point most to a specialty, for `!tagger`."""
        ranked = sorted(((by_spec[specialty_id], word) for word, by_spec in self.weights.items()
                         if specialty_id in by_spec), key=lambda x: (-x[0], x[1]))
        return [word for _, word in ranked[:limit]]

    def specialties(self) -> list[str]:
        """Specialty ids the model has weights for, most learned first."""
        totals: dict[str, float] = {}
        for by_spec in self.weights.values():
            for sid, weight in by_spec.items():
                totals[sid] = totals.get(sid, 0.0) + weight
        return sorted(totals, key=lambda s: (-totals[s], s))

    def rows(self) -> Iterable[tuple[str, str, float]]:
        """(word, specialty id, weight): exactly what a store keeps."""
        for word, by_spec in self.weights.items():
            for sid, weight in by_spec.items():
                yield word, sid, weight
