"""Tag a case text with specialties: explicit hashtags first, then catalogue keywords, with
a confidence that says whether the tag can page colleagues at once or should be confirmed."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from .catalog import Specialty, hashtag_key, is_ending, normalize, normalize_keyword


class Learned(Protocol):
    """What `classify` needs of a room's learning (`plugins.specialties.learn.RoomModel`)."""

    weights: dict[str, dict[str, float]]

    def scores(self, text: str) -> dict[str, tuple[float, list[str]]]: ...

# A multi-word keyword ("fibrillation atriale") is more specific than one word, but should
# not outweigh two independent single-word clues.
PHRASE_WEIGHT = 1.5
# A specialty's `strong` keywords ("posologie", "EHPAD") and an age in its `ages` range decide
# against one or two organ words of another specialty.
STRONG_WEIGHT = 2.5
AGE_WEIGHT = 1.0
# A best score is confident (pages at once) when it is CONFIDENT_RATIO times the runner-up's
# and leads it by CONFIDENT_MARGIN, or by CLUE_MARGIN on more distinct clues than the
# runner-up (two words, 2.0, against one phrase, 1.5: as PHRASE_WEIGHT says, two independent
# clues); otherwise the card proposes the likeliest specialties to confirm. Calibrated on the
# development part of tests/data/tagging_corpus.tsv only (`python -m bench learning`, learning
# on), for at most 2.5 % of posts confidently wrong (confident, and none of the post's 1-3
# specialties: a wrong page costs more than a confirmation): 79.0 % confident, 2.0 % wrong
# (ratio 2.5 alone, before: 55.9 % / 1.0 %; 1.5: 74.5 % / 2.0 %; 1.0: 75.8 % / 2.4 %).
CONFIDENT_MARGIN = 1.0
CONFIDENT_RATIO = 1.3
CLUE_MARGIN = 0.5

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
    confident: bool = True
    """False: a guess to confirm (the card proposes it), not enough to page on its own."""
    learned: tuple[str, ...] = ()
    """Words the room's learning weighed for this tag, when it changed the outcome (made the
    tag confident or first): the card says "learned in this room"."""


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
    endings: dict[str, tuple[_Keyword, ...]]  # "*pril" keywords: word ending -> keywords
    ending_sizes: tuple[int, ...]
    ages: tuple[tuple[int, int, int], ...]  # (specialty position, youngest, oldest)


@functools.lru_cache(maxsize=1 << 14)
def word_forms(word: str) -> frozenset[str]:
    """Singular/plural spellings of one normalized word, following the common French rules.
    (Cached: the vocabulary and each specialty set's matcher ask for the same catalogue words,
    ~22,000 calls at the bot's start for ~8,000 words.)

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
    endings: dict[str, list[_Keyword]] = {}
    for position, spec in enumerate(specialties):
        for tag in (spec.id, *spec.aliases):
            hashtags.setdefault(hashtag_key(tag), spec.id)
        strong = frozenset(spec.strong)
        for text in spec.all_keywords:
            if is_ending(text):
                weight = STRONG_WEIGHT if text in strong else 1.0
                ending = normalize_keyword(text)
                endings.setdefault(ending, []).append(_Keyword(position, text, (), weight))
                continue
            first, *rest = (word_forms(word) for word in normalize_keyword(text).split())
            weight = STRONG_WEIGHT if text in strong else PHRASE_WEIGHT if rest else 1.0
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
        endings={ending: tuple(kws) for ending, kws in endings.items()},
        ending_sizes=tuple(sorted({len(e) for e in endings}, reverse=True)),
        ages=tuple((position, *spec.ages) for position, spec in enumerate(specialties)
                   if spec.ages is not None),
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


def negated(words: list[str], i: int) -> bool:
    if i >= 1 and words[i - 1] in _NEGATIONS:
        return True
    return i >= 2 and words[i - 1] in _ARTICLES and words[i - 2] in _NEGATIONS


# Ages as GPs write them: "67 ans", "de 4 ans", "48yo", "48 y o", "9 month old", "aged 72".
_AGE_GLUED = re.compile(r"(\d{1,3})(?:ans|yo|yrs?)")
_YEARS = frozenset({"ans", "an", "yo", "yr", "yrs", "year", "years"})
_INFANT_UNITS = frozenset({"month", "months", "week", "weeks", "day", "days"})
# "depuis 15 ans", "for 20 years", "il y a 2 ans": a duration, not an age.
_DURATION = frozenset({"depuis", "pendant", "durant", "a", "en", "dans", "apres", "sur",
                       "for", "over", "past", "last", "in", "since", "after", "than", "les",
                       "tous", "toutes", "every", "each", "within"})


def _ages(words: list[str]) -> list[tuple[int, str]]:
    """The patient ages a text states, in years (infants count as 0), with their words."""
    found: list[tuple[int, str]] = []
    for i, word in enumerate(words):
        glued = _AGE_GLUED.fullmatch(word)
        if glued:
            found.append((int(glued.group(1)), word))
            continue
        if not (word.isascii() and word.isdigit() and len(word) <= 3):
            continue
        unit = words[i + 1] if i + 1 < len(words) else ""
        after = words[i + 2] if i + 2 < len(words) else ""
        before = words[i - 1] if i else ""
        if before == "aged":
            found.append((int(word), f"aged {word}"))
        elif unit == "y" and after == "o":
            found.append((int(word), f"{word} y o"))
        elif unit in _YEARS and (after == "old" or before not in _DURATION):
            found.append((int(word), f"{word} {unit}"))
        elif unit in _INFANT_UNITS and after == "old":
            found.append((0, f"{word} {unit} old"))
    return found


class _Score(NamedTuple):
    score: float
    hits: int
    position: int  # in the specialty tuple, the last tie-breaker
    tag: Tag


def _keyword_scores(text: str, compiled: _Compiled) -> list[_Score]:
    """Score each specialty on the distinct keywords found, scanning words left to right,
    plus AGE_WEIGHT when the text states an age in the specialty's range.

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
                if not negated(words, i):
                    found.setdefault(kw.specialty, {}).setdefault(kw)
        for size in compiled.ending_sizes:
            if len(word) >= size:
                for kw in compiled.endings.get(word[-size:], ()):
                    if i >= free_from[kw.specialty] and not negated(words, i):
                        found.setdefault(kw.specialty, {}).setdefault(kw)
    by_age: dict[int, str] = {}
    if compiled.ages:
        for age, said in _ages(words):
            for position, youngest, oldest in compiled.ages:
                if youngest <= age <= oldest:
                    by_age.setdefault(position, said)
    scores = []
    for position in {*found, *by_age}:
        ranked = sorted(found.get(position, ()), key=lambda k: -k.weight)  # stable
        score = sum(k.weight for k in ranked)
        # An ending is shown as such ("…pril"), never as the word of the post that it matched.
        evidence = [k.text.replace("*", "…", 1) for k in ranked]
        if position in by_age:
            score += AGE_WEIGHT
            evidence.insert(0, by_age[position])
        tag = Tag(compiled.ids[position], score, tuple(evidence))
        scores.append(_Score(score, len(evidence), position, tag))
    scores.sort(key=lambda s: (-s.score, -s.hits, s.position))
    return scores


def _is_confident(scores: list[_Score]) -> bool:
    """Whether the best score is enough to page at once: clearly ahead of the runner-up
    (CONFIDENT_RATIO, and CONFIDENT_MARGIN, or CLUE_MARGIN on more distinct clues)."""
    best = scores[0]
    second, clues = (scores[1].score, scores[1].hits) if len(scores) > 1 else (0.0, 0)
    lead = best.score - second
    return best.score >= CONFIDENT_RATIO * second and (
        lead >= CONFIDENT_MARGIN or (lead >= CLUE_MARGIN and best.hits > clues))


def _with_learned(scores: list[_Score], text: str, compiled: _Compiled, learned: Learned
                  ) -> list[_Score]:
    """The keyword scores plus the room's learned ones (specialties of the set only)."""
    extra = learned.scores(text)
    if not extra:
        return scores
    merged = {s.position: s for s in scores}
    for position, sid in enumerate(compiled.ids):
        if sid not in extra:
            continue
        gain, words = extra[sid]
        old = merged.get(position)
        if old is None:
            tag = Tag(sid, gain, tuple(words), learned=tuple(words))
            merged[position] = _Score(gain, len(words), position, tag)
        else:
            tag = old.tag._replace(score=old.score + gain, learned=tuple(words))
            merged[position] = _Score(old.score + gain, old.hits + len(words), position, tag)
    return sorted(merged.values(), key=lambda s: (-s.score, -s.hits, s.position))


def _decide(scores: list[_Score], max_tags: int) -> list[Tag]:
    if not scores:
        return []
    if _is_confident(scores):
        return [scores[0].tag]
    return [s.tag._replace(confident=False) for s in scores[:max_tags]]


def classify(text: str, specialties: Sequence[Specialty], max_tags: int = 3,
             learned: Learned | None = None) -> list[Tag]:
    """Tag a case text with specialties, best first; [] means unclassified.

    Hashtags naming a specialty id or alias (`#cardio`, `#Dermatologie`) decide alone, in order
    of appearance, at most `max_tags`, confident, with score 1.0. Otherwise each specialty
    scores the distinct catalogue keywords found in the text (whole words, accents and simple
    plurals ignored, a keyword right after a negation such as "pas de" skipped): 1 per word,
    PHRASE_WEIGHT per phrase, STRONG_WEIGHT per strong keyword, AGE_WEIGHT for an age in its
    range, plus what the room `learned` (`RoomModel.scores`). A best score clearly ahead of the
    others (`_is_confident`) is the one confident tag; otherwise the `max_tags` likeliest come
    back, not confident: proposals to confirm. The learning can change the first tag or make
    it confident, never make a confident first tag unsure while it stays first; a tag's
    `learned` words are kept only when the learning changed the first tag or made it confident.
    """
    if max_tags < 1:
        raise ValueError(f"max_tags must be at least 1, got {max_tags}")
    compiled = _compiled_for(specialties)
    tags = _hashtag_tags(text, compiled, max_tags)
    if tags:
        return tags
    scores = _keyword_scores(text, compiled)
    plain = _decide(scores, max_tags)
    if learned is None or not learned.weights:
        return plain
    decided = _decide(_with_learned(scores, text, compiled, learned), max_tags)
    if plain and plain[0].confident and decided[0].specialty_id == plain[0].specialty_id:
        # The room's words for a runner-up that stays behind withdraw nothing: a room's few
        # confirmed posts are weaker evidence than the catalogue's (bench learning).
        return plain
    if decided and (not plain or plain[0].specialty_id != decided[0].specialty_id
                    or plain[0].confident != decided[0].confident):
        return decided
    return [tag._replace(learned=()) for tag in decided]
