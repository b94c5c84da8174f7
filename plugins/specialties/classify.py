"""Tag a case text with specialties: explicit hashtags first, then catalogue keywords."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from .catalog import Specialty, hashtag_key, normalize

# A multi-word keyword ("fibrillation atriale") is more specific than one word, but should
# not outweigh two independent single-word clues.
PHRASE_WEIGHT = 1.5
# Less than this (one single-word keyword) cannot share a case with another specialty.
STRONG_SCORE = PHRASE_WEIGHT
# A runner-up with strong evidence is tagged too when it has this share of the best score.
SECONDARY_RATIO = 0.75

_HASHTAG_RE = re.compile(r"(?<![\w#])#(\w+)")
# "pas de toux", "sans fièvre", "ni d'otalgie", "absence de dyspnée": a keyword right after
# such a word (and an optional article) is not evidence for its specialty.
_NEGATIONS = frozenset({"pas", "sans", "ni", "aucun", "aucune", "absence", "non"})
_ARTICLES = frozenset({"de", "d", "du", "des"})
_IRREGULAR_FORMS = {"oeil": ("yeux",), "yeux": ("oeil",)}


class Tag(NamedTuple):
    specialty_id: str
    score: float
    evidence: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Keyword:
    specialty: int  # position in the specialty tuple
    text: str  # as written in the catalogue
    tail: tuple[frozenset[str], ...]  # accepted forms of each word after the first
    weight: float


@dataclass(frozen=True, slots=True)
class _Compiled:
    ids: tuple[str, ...]
    hashtags: dict[str, str]  # hashtag_key(id or alias) -> specialty id
    starts: dict[str, tuple[_Keyword, ...]]  # form of a first word -> keywords, longest first


def _word_forms(word: str) -> frozenset[str]:
    """Singular/plural spellings of one normalized word, following the common French rules.

    Words already ending in s/x/z are treated as invariable unless they look like a regular
    plural (`nodules` -> `nodule`, `genoux` -> `genou`, `canaux` -> `canal`): `psoriasis`,
    `virus`, `thorax` stay as they are.
    """
    singulars = {word}
    if len(word) > 4 and word.endswith("aux"):
        singulars |= {word[:-3] + "al", word[:-1]}
    elif (len(word) > 4 and word.endswith(("eux", "oux"))) or (
        len(word) > 3 and word.endswith("s") and word[-2] not in "aiousy"
    ):
        singulars.add(word[:-1])
    forms = singulars | set(_IRREGULAR_FORMS.get(word, ()))
    for sing in singulars:
        if len(sing) < 3 or not sing.isalpha() or sing[-1] in "sxz":
            continue
        forms.add(sing + "s")
        if sing.endswith(("au", "eu", "ou")):
            forms.add(sing + "x")
        elif sing.endswith("al"):
            forms.add(sing[:-2] + "aux")
    return frozenset(forms)


@functools.lru_cache(maxsize=256)
def _compile(specialties: tuple[Specialty, ...]) -> _Compiled:
    hashtags: dict[str, str] = {}
    starts: dict[str, list[_Keyword]] = {}
    for position, spec in enumerate(specialties):
        for tag in (spec.id, *spec.aliases):
            hashtags.setdefault(hashtag_key(tag), spec.id)
        for text in spec.keywords:
            first, *rest = (_word_forms(word) for word in normalize(text).split())
            weight = PHRASE_WEIGHT if rest else 1.0
            keyword = _Keyword(position, text, tuple(rest), weight)
            for form in first:
                starts.setdefault(form, []).append(keyword)
    return _Compiled(
        ids=tuple(spec.id for spec in specialties),
        hashtags=hashtags,
        # Longest first, so that "insuffisance cardiaque" wins over "insuffisance".
        starts={
            form: tuple(sorted(kws, key=lambda k: -len(k.tail))) for form, kws in starts.items()
        },
    )


_BY_IDENTITY: dict[int, tuple[tuple[Specialty, ...], _Compiled]] = {}


def _compiled_for(specialties: Sequence[Specialty]) -> _Compiled:
    """The matcher of a specialty set. A room's set is one tuple reused for every case: found
    by identity first, as hashing its hundreds of keywords per case costs more than matching."""
    hit = _BY_IDENTITY.get(id(specialties))
    if hit is not None and hit[0] is specialties:
        return hit[1]
    compiled = _compile(tuple(specialties))
    if isinstance(specialties, tuple):
        if len(_BY_IDENTITY) >= 256:
            _BY_IDENTITY.clear()
        _BY_IDENTITY[id(specialties)] = (specialties, compiled)  # kept alive: id stays unique
    return compiled


def _hashtag_tags(text: str, compiled: _Compiled, max_tags: int) -> list[Tag]:
    evidence: dict[str, list[str]] = {}
    for match in _HASHTAG_RE.finditer(text):
        key = hashtag_key(match.group(1))
        sid = compiled.hashtags.get(key)
        if sid is None:
            continue
        if sid not in evidence and len(evidence) == max_tags:
            continue
        tags = evidence.setdefault(sid, [])
        if f"#{key}" not in tags:
            tags.append(f"#{key}")
    return [Tag(sid, 1.0, tuple(tags)) for sid, tags in evidence.items()]


def _negated(words: list[str], i: int) -> bool:
    if i >= 1 and words[i - 1] in _NEGATIONS:
        return True
    return i >= 2 and words[i - 1] in _ARTICLES and words[i - 2] in _NEGATIONS


class _Score(NamedTuple):
    score: float
    hits: int
    position: int  # in the specialty tuple, the last tie-breaker
    tag: Tag


def _keyword_scores(text: str, compiled: _Compiled) -> list[_Score]:
    """Score each specialty on the distinct keywords found, scanning words left to right.

    Within one specialty matches don't overlap (the longest keyword at a position wins), but
    each specialty scans independently: "diabète gestationnel" counts for gynaecology and its
    "diabète" for endocrinology.
    """
    words = normalize(text).split()
    free_from = [0] * len(compiled.ids)  # per specialty: first word not consumed by a match
    found: dict[int, dict[_Keyword, None]] = {}  # ordered sets, by first appearance
    for i, word in enumerate(words):
        for kw in compiled.starts.get(word, ()):
            end = i + 1 + len(kw.tail)
            if i < free_from[kw.specialty] or end > len(words):
                continue
            if all(w in forms for w, forms in zip(words[i + 1 : end], kw.tail, strict=True)):
                free_from[kw.specialty] = end
                if not _negated(words, i):
                    found.setdefault(kw.specialty, {}).setdefault(kw)
    scores = []
    for position, keywords in found.items():
        ranked = sorted(keywords, key=lambda k: -k.weight)  # stable: then by appearance
        score = sum(k.weight for k in ranked)
        tag = Tag(compiled.ids[position], score, tuple(k.text for k in ranked))
        scores.append(_Score(score, len(ranked), position, tag))
    scores.sort(key=lambda s: (-s.score, -s.hits, s.position))
    return scores


def classify(text: str, specialties: Sequence[Specialty], max_tags: int = 3) -> list[Tag]:
    """Tag a case text with at most `max_tags` specialties, best first; [] means unclassified.

    Hashtags naming a specialty id or alias (`#cardio`, `#Dermatologie`) decide alone, in order
    of appearance, with score 1.0. Otherwise each specialty scores the distinct catalogue
    keywords found in the text (whole words, accents and simple plurals ignored, a keyword
    right after a negation such as "pas de" skipped): 1 per word, PHRASE_WEIGHT per phrase.
    A single word is weak evidence: enough to tag a case nothing else competes for, not to
    share the top or come second. So the best is kept if strictly ahead of the runner-up, or
    tied with at most `max_tags - 1` others all on strong evidence (STRONG_SCORE: a phrase or
    two words). Runners-up on strong evidence with SECONDARY_RATIO of the best score are added.
    """
    if max_tags < 1:
        raise ValueError(f"max_tags must be at least 1, got {max_tags}")
    compiled = _compiled_for(specialties)
    tags = _hashtag_tags(text, compiled, max_tags)
    if tags:
        return tags
    scores = _keyword_scores(text, compiled)
    if not scores:
        return []
    best = scores[0]
    tied = [s for s in scores if s.score == best.score]
    if len(tied) > 1 and (len(tied) > max_tags or best.score < STRONG_SCORE):
        return []
    chosen = [
        s
        for s in scores
        if s is best or (s.score >= STRONG_SCORE and s.score >= SECONDARY_RATIO * best.score)
    ]
    return [s.tag for s in chosen[:max_tags]]
