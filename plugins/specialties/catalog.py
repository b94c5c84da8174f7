"""The specialty catalogue: what a specialty is, the shipped defaults, and their validation."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from bot.text import fold

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_ID_RE = re.compile(r"[a-z][a-z0-9_]*")
_HASHTAG_BODY_RE = re.compile(r"\w+")
_FIELDS = frozenset({"id", "name_fr", "name_en", "aliases", "keywords", "strong", "ages"})
MAX_AGE = 130


def normalize(text: str) -> str:
    """Folded (`bot.text.fold`), every run of non-alphanumerics collapsed to one space."""
    return _NON_ALNUM.sub(" ", fold(text)).strip()


@functools.lru_cache(maxsize=1 << 14)
def normalize_keyword(keyword: str) -> str:
    """`normalize` of a catalogue keyword, cached: the catalogue's check, the vocabulary and
    each specialty set's matcher normalize the same ~7,000 keywords, all at the bot's start.
    (Posts go through `normalize`: they are not worth keeping.)"""
    return normalize(keyword)


_ENDING_RE = re.compile(r"\*[^\W\d_]{3,}")


def is_ending(keyword: str) -> bool:
    """A keyword that matches word endings: `*pril` (ramipril, périndopril), for the common
    stems of drug names. At least three letters after the star, one word."""
    return bool(_ENDING_RE.fullmatch(keyword))


def is_valid_id(text: str) -> bool:
    """A specialty id: a lowercase ascii slug (letters, digits, _), starting with a letter."""
    return bool(_ID_RE.fullmatch(text))


def is_hashtag_body(text: str) -> bool:
    """Whether `text` can follow `#` as one hashtag (letters, digits, _)."""
    return bool(_HASHTAG_BODY_RE.fullmatch(text))


def hashtag_key(tag: str) -> str:
    """The form under which a hashtag body (without '#') is compared: `Gynéco_Obs` → `gynecoobs`."""
    return normalize(tag).replace(" ", "")


MAX_MATCH_WORDS = 50
"""Words `match_specialties` looks up. Those beyond are returned as unknown, unread: a command
naming that many refuses (with its usage) instead of silently dropping some."""

_TAGS_BY_IDENTITY: dict[int, tuple[Sequence[Specialty], dict[str, str]]] = {}


def _tag_owners(specialties: Sequence[Specialty]) -> dict[str, str]:
    """Hashtag key of every id and alias → specialty id (the first specialty naming it wins).
    A room's set is one tuple reused for every command: cached by identity, as classify does."""
    hit = _TAGS_BY_IDENTITY.get(id(specialties))
    if hit is not None and hit[0] is specialties:
        return hit[1]
    owners: dict[str, str] = {}
    for spec in specialties:
        for tag in (spec.id, *spec.aliases):
            key = hashtag_key(tag)
            if key:
                owners.setdefault(key, spec.id)
    if isinstance(specialties, tuple):
        if len(_TAGS_BY_IDENTITY) >= 256:
            _TAGS_BY_IDENTITY.clear()
        _TAGS_BY_IDENTITY[id(specialties)] = (specialties, owners)  # kept alive: id stays unique
    return owners


def match_specialties(words: Sequence[str], specialties: Sequence[Specialty]
                      ) -> tuple[list[str], list[str]]:
    """Specialty ids named by `words` (id or alias, `#` optional, any case or accent), in
    order and without repeats, and the words that name none. Only the first
    `MAX_MATCH_WORDS` words are looked up; the others are all unknown."""
    owners = _tag_owners(specialties)
    found: list[str] = []
    unknown: list[str] = []
    for word in words[:MAX_MATCH_WORDS]:
        sid = owners.get(hashtag_key(word.lstrip("#")))
        if sid is None:
            unknown.append(word)
        elif sid not in found:
            found.append(sid)
    unknown.extend(words[MAX_MATCH_WORDS:])
    return found, unknown


@dataclass(frozen=True, slots=True)
class Specialty:
    """A medical specialty cases can be tagged with; hashable so matchers can be cached per set."""

    id: str
    name_fr: str
    name_en: str
    aliases: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    strong: tuple[str, ...] = ()
    """Keywords that decide for this specialty even against organ words of others
    ("posologie", "EHPAD"); the tagger weighs them more."""
    ages: tuple[int, int] | None = None
    """A patient age range (years, inclusive) that is evidence for this specialty: a post
    saying "enfant de 4 ans" or "86 ans" counts as one strong keyword."""

    @property
    def all_keywords(self) -> tuple[str, ...]:
        """Its keywords, then its strong ones (a room removes either kind alike)."""
        return (*self.keywords, *self.strong)

    def name(self, lang: str) -> str:
        """Display name: English for `en`/`en-GB`..., French otherwise (the bot's default)."""
        return self.name_en if lang.lower().startswith("en") else self.name_fr


def _str_list(entry: Mapping[str, Any], field: str, where: str) -> tuple[str, ...]:
    value = entry.get(field, [])
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: '{field}' must be a list of strings")
    return tuple(value)


def _parse_entry(index: int, entry: object) -> Specialty:
    where = f"specialty #{index}"
    if not isinstance(entry, Mapping):
        raise ValueError(f"{where}: expected a mapping, got {type(entry).__name__}")
    sid = entry.get("id")
    if not isinstance(sid, str) or not is_valid_id(sid):
        raise ValueError(
            f"{where}: 'id' must be a lowercase ascii slug (letters, digits, _), got {sid!r}"
        )
    where = f"specialty #{index} ({sid!r})"
    unknown = set(entry) - _FIELDS
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {sorted(map(str, unknown))}")
    names = {}
    for field in ("name_fr", "name_en"):
        value = entry.get(field)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{where}: '{field}' is missing or empty")
        names[field] = value.strip()
    aliases = _str_list(entry, "aliases", where)
    for alias in aliases:
        if not is_hashtag_body(alias):
            raise ValueError(
                f"{where}: alias {alias!r} is not usable as a hashtag (letters, digits, _ only)"
            )
    keywords = _str_list(entry, "keywords", where)
    strong = _str_list(entry, "strong", where)
    seen: set[str] = set()
    for keyword in (*keywords, *strong):
        norm = normalize_keyword(keyword)
        if not norm:
            raise ValueError(f"{where}: keyword {keyword!r} is empty once normalized")
        if keyword.startswith("*") and not is_ending(keyword):
            raise ValueError(f"{where}: keyword {keyword!r}: a word ending is * and at least "
                             "three letters (*pril)")
        if norm in seen:
            raise ValueError(f"{where}: duplicate keyword {keyword!r}")
        seen.add(norm)
    return Specialty(id=sid, aliases=aliases, keywords=keywords, strong=strong,
                     ages=_ages(entry, where), **names)


def _ages(entry: Mapping[str, Any], where: str) -> tuple[int, int] | None:
    value = entry.get("ages")
    if value is None:
        return None
    if (not isinstance(value, list) or len(value) != 2
            or not all(type(v) is int and 0 <= v <= MAX_AGE for v in value)
            or value[0] > value[1]):
        raise ValueError(f"{where}: 'ages' must be [youngest, oldest], whole years 0-{MAX_AGE}")
    return value[0], value[1]


def specialties_from_data(data: Sequence[Mapping[str, Any]]) -> tuple[Specialty, ...]:
    """Build and validate a specialty set from parsed YAML/JSON (a list of mappings).

    Ids and aliases share one hashtag namespace, compared accent- and case-insensitively, so
    `#cardio` can never mean two specialties. Raises ValueError naming the faulty entry.
    """
    if isinstance(data, (str, bytes)) or not isinstance(data, Sequence):
        raise ValueError(f"specialties must be a list, got {type(data).__name__}")
    specialties = tuple(_parse_entry(i, entry) for i, entry in enumerate(data))
    ids = [spec.id for spec in specialties]
    for sid in ids:
        if ids.count(sid) > 1:
            raise ValueError(f"duplicate specialty id {sid!r}")
    owner: dict[str, str] = {}
    for spec in specialties:
        for tag in (spec.id, *spec.aliases):
            key = hashtag_key(tag)
            previous = owner.setdefault(key, spec.id)
            if previous != spec.id:
                what = "id" if tag == spec.id else "alias"
                raise ValueError(
                    f"specialty {spec.id!r}: duplicate {what} {tag!r}"
                    f" (already used by {previous!r})"
                )
    return specialties


@functools.cache
def load_defaults() -> tuple[Specialty, ...]:
    """The specialty set shipped in `defaults.yaml` (parsed once, then cached)."""
    text = resources.files(__package__).joinpath("defaults.yaml").read_text(encoding="utf-8")
    # libyaml's safe loader when PyYAML has it: 9× faster on this 110 KB file (0.13 s at each
    # start with the pure-Python one), same result.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return specialties_from_data(yaml.load(text, Loader=loader))
