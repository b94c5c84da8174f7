"""Addresses: a number and a street type, a postal code and its town, a street type with a
spelled-out number or a capitalised name, the town after "habite à"."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from plugins.secrecy.detector.common import LO, P_ADDRESS, UP, Cand, first_letters, norm
from plugins.secrecy.detector.names import ACRONYMS, COMMON, TITLES

# Street types that are never ordinary clinical words after a number.
_STREET_SURE = (
    r"rue|avenue|av\.?|bd|boulevard|all[ée]e|impasse|chemin|quai|faubourg|fbg|lieu[\- ]dit"
    r"|square|esplanade|sentier|chauss[ée]e|parvis|rond[\- ]point"
)
# Street types that are also common words ("3 cours de chimio", "2 voies veineuses"):
# only an address when the name that follows is capitalised.
_STREET_AMBIGUOUS = (
    r"cours|place|route|voie|cit[ée]|r[ée]sidence|passage|villa|clos|domaine|hameau|lotissement"
    r"|promenade|traverse|mont[ée]e|square|vc|zac|za|zi"
)
_PARTICLE = (
    r"(?:de\s{1,3}la|de\s{1,3}l['’]|du|des|de|d['’]|la|le|les|l['’]|aux|au|sur|sous|en|et|à)"
)
_STREET_NAME_ANY = (
    rf"(?:[ \t]{{1,3}}{_PARTICLE})?[ \t]{{0,3}}[\w'’\-]+"
    rf"(?:[ \t]{{1,3}}(?:{_PARTICLE}[ \t]{{0,3}})?[{UP}0-9][\w'’\-]*){{0,5}}"
)
# After an ambiguous type the name must look like a proper noun: "place Bellecour", not
# "1 place en EHPAD"; an all-caps address ("2 PLACE DE LA GARE") is matched case by case.
_STREET_NAME_CAP = (
    rf"(?:[ \t]{{1,3}}{_PARTICLE})?[ \t]{{0,3}}[{UP}][{LO}][\w'’\-]*"
    rf"(?:[ \t]{{1,3}}(?:{_PARTICLE}[ \t]{{0,3}})?[{UP}0-9][\w'’\-]*){{0,5}}"
)


def _capitalised_alternatives(alternatives: str) -> str:
    return "|".join(a[:1].upper() + a[1:] for a in alternatives.split("|"))


_STREET_NAME_UPPER = rf"(?:[ \t]{{1,3}}(?:[{UP}'’\-]+|\d+)){{1,6}}"
_NUMBER = (
    r"[0-9](?<![\d,./\-][0-9])\d{0,3}(?:-\d{1,4})?(?:[ \t]?(?:bis|ter|quater|[A-Da-d]\b))?,?"
    r"[ \t]{1,3}"
)
_STREET = re.compile(
    # the lookahead fails fast after the many numbers that no street type follows
    rf"{_NUMBER}(?=(?i:[{first_letters(f'{_STREET_SURE}|{_STREET_AMBIGUOUS}')}]))"
    rf"(?:(?i:(?:{_STREET_SURE}))(?!\w){_STREET_NAME_ANY}"
    rf"|(?:{_STREET_AMBIGUOUS}|{_capitalised_alternatives(_STREET_AMBIGUOUS)})(?!\w)"
    rf"{_STREET_NAME_CAP}"
    rf"|(?:{_STREET_AMBIGUOUS.upper()})(?!\w){_STREET_NAME_UPPER})"
)
# A street type that is never a common word, found on its own: spelled-out numbers before it
# ("sept allée des Roses"; "un" is left out: "un chemin clinique"), or no number at all and a
# capitalised name after it ("de la rue Rivoli").
_STREET_TYPE = re.compile(
    r"(?=[rabiqcfRABIQCF])(?<![\w\-])"
    r"(?i:rue|avenue|av\.|boulevard|bd|impasse|all[ée]e|quai|chemin|faubourg)(?!\w)"
)
_SPELLED_NUMBER = (
    r"deux|trois|quatre|cinq|six|sept|huit|neuf|dix(?:-sept|-huit|-neuf)?|onze|douze|treize"
    r"|quatorze|quinze|seize|vingt"
)
_SPELLED_BEFORE = re.compile(
    rf"(?=(?i:[{first_letters(_SPELLED_NUMBER)}]))"
    rf"(?<![\w\-])(?i:{_SPELLED_NUMBER})(?:[ \t](?i:bis|ter))?[ \t]{{1,3}}$"
)
_STREET_NAME_AFTER = re.compile(_STREET_NAME_ANY)
_NAME_OF = r"(?:de[ \t]{1,3}la|de[ \t]{1,3}l['’]|du|des|de|d['’])"
_CAPITALISED_NAME_AFTER = re.compile(
    rf"[ \t]{{1,3}}(?:{_NAME_OF}[ \t]{{0,3}})?[{UP}][{LO}][\w'’\-]*"
    rf"(?:[ \t]{{1,3}}(?:{_NAME_OF}[ \t]{{0,3}})?[{UP}][\w'’\-]*){{0,4}}"
)
_ZIP = re.compile(
    r"[0-9](?<![\w.][0-9])(?<!\d,[0-9])(?<!\d [0-9])"
    r"(?:(?:(?<=0)[1-9]|(?<=[1-8])\d|(?<=9)[0-5]) ?\d{3}|(?<=9)7[1-6] ?\d{2})"
    r"(?![\w/%])(?![.,]\d)"
)
_ZIP_CORSICA = re.compile(r"2(?<![\w.]2)[AB] ?\d{3}(?![\w/%])(?![.,]\d)")
"""Corsica by its département, as forms write it: 2A 004, 2B826."""
_CITY = (
    rf"(?:[{UP}][{LO}]+|[{UP}]{{3,}})"
    rf"(?:[\- '’](?:(?:sur|sous|en|le|la|lès|les|de|du)(?=[\- '’][{UP}])"
    rf"|[{UP}][{LO}]+|[{UP}]{{2,}}))*"
)
_CITY_AFTER = re.compile(
    rf"[ \t]{{0,4}}[,–\-]?[ \t]{{0,4}}{_CITY}"
    rf"(?:[ \t]+(?:CEDEX|Cedex|cedex)(?:[ \t]+\d{{1,2}})?)?"
)
# After a street, a comma may bring a postal code of any shape and a town: "rue X, 97 324,
# Créteil", "rue Rivoli, Paris".
_STREET_TAIL = re.compile(
    rf"[ \t]{{0,3}},[ \t]{{0,3}}(?:(?P<zip>(?:\d\d ?\d{{3}}|2[AB] ?\d{{3}})(?![\w/%])(?![.,]\d))"
    rf"(?:[ \t]{{0,3}},?[ \t]{{0,3}}(?P<city>{_CITY}))?|(?P<town>{_CITY}))"
)
_NOT_CITY = frozenset(
    {"ui", "mg", "ml", "mmol", "umol", "mm", "unites", "unités", "cp", "gelules", "kg", "an", "ans"}
)
# Blood counts are written with a thousands separator ("plaquettes 150 000", "GB 12 500"):
# after an analyte such a number is a count, not a postal code.
_COUNT_BEFORE = re.compile(
    r"(?=[pglnmébhcutd])\b(?:plaquettes?|plq|pq|plt|gb|gr|leuco\w*|lympho\w*|neutro\w*|pn[neb]|mono\w*"
    r"|[ée]osino\w*|baso\w*|h[ée]maties|globules(?:\s{1,3}\w+)?|cd[48]|[ée]l[ée]ments|ufc|germes"
    r"|copies|charge\s{1,3}virale|num[ée]ration|compte|taux|dose)"
    r"[ \t]{0,3}(?:[:=]|à|a|de)?[ \t]{0,3}$",
    re.IGNORECASE,
)
_ZIP_BEFORE = re.compile(
    rf"(?=[{UP}dc])(?:[{UP}][{LO}]+(?:-[{UP}][{LO}]+)*,[ \t]*|\bdans\s+le\s+"
    r"|\bcode\s+postal\s*:?\s*)$"
)
_RESIDENCE = re.compile(
    rf"(?=[hrdvo])\b(?:habite|habitant|r[ée]sid(?:e|ant|ent)|domicili[ée]e?s?|demeurant|vit|vivant"
    rf"|originaire)\s{{1,3}}(?:à|a|au|en|sur)\s{{1,3}}"
    rf"(?P<city>[{UP}][{LO}'’]+(?:[\- ](?:(?:sur|sous|en|le|la|lès|les|de|du)(?=[\- ][{UP}])"
    rf"|[{UP}][{LO}]+))*)"
)


_STREET_HINTS = ("rue", "avenue", "av.", "boulevard", "impasse", "allée", "allee", "quai",
                 "chemin", "faubourg")
"""A text holds one of these (lower-cased; "bd" as a word) or no `_STREET_TYPE`; a match of
that pattern starts with one of them or "bd"."""
_BD = re.compile(r"(?<![\w\-])bd(?!\w)")
_RESIDENCE_HINTS = ("habit", "résid", "resid", "domicil", "demeur", "vit ", "vivant", "originaire")
_RESIDENCE_WORDS = ("habit", "résid", "resid", "domicili", "demeurant", "vit", "vivant",
                    "originaire")
"""A match of `_RESIDENCE` starts with one of these."""


def _occurrences(haystack: str, needles: tuple[str, ...]) -> list[int]:
    """Sorted start positions of the needles in `haystack`: `str.find` is a fast literal
    search, where Python's `re` tries a pattern that starts with a word list at every
    position (at most len(haystack) positions per needle)."""
    found: set[int] = set()
    for needle in needles:
        i = haystack.find(needle)
        while i >= 0:
            found.add(i)
            i = haystack.find(needle, i + 1)
    return sorted(found)


def _finditer_at(pattern: re.Pattern[str], text: str, starts: list[int]) -> Iterator[re.Match[str]]:
    """`pattern.finditer(text)` for a pattern that matches only at `starts` (sorted) and never
    matches empty: an anchored match at each start, skipping those inside the last match."""
    end = 0
    for i in starts:
        if i >= end and (m := pattern.match(text, i)):
            end = m.end()
            yield m


def _town_like(word: str) -> bool:
    """Whether a capitalised word after a postal code or a street may be a town: not a unit,
    a clinical acronym (GB 12 500 Hb 9), a title or a common word."""
    key = norm(word.strip(" \t,–-").split()[0])
    return key not in _NOT_CITY and key not in ACRONYMS and key not in COMMON \
        and key not in TITLES


def _street(text: str, s: int, e: int, conf: float, out: list[Cand]) -> None:
    """A street from s to e, and the postal code and town that follow it after a comma (a
    candidate of their own: `_merge` joins the pieces that survive)."""
    out.append((P_ADDRESS, conf, s, e, "address"))
    tail = _STREET_TAIL.match(text, e)
    if tail is None:
        return
    zip_start = tail.start("zip")
    town = tail.group("city") or tail.group("town")
    if town and _town_like(town):
        start = zip_start if zip_start >= 0 else tail.start("town")
        out.append((P_ADDRESS, 0.75, start, tail.end(), "address"))
    elif zip_start >= 0:
        out.append((P_ADDRESS, 0.6, zip_start, tail.end("zip"), "address"))


def find(text: str, out: list[Cand], digits: bool = True) -> None:
    """Append the addresses of `text` to `out`; `digits`: whether `text` holds a digit (the
    numbered streets and postal codes are looked for only then)."""
    if digits:
        for m in _STREET.finditer(text):
            _street(text, m.start(), m.end(), 0.8, out)
        zips = _ZIP.finditer(text)
        if "2A" in text or "2B" in text:
            zips = itertools.chain(zips, _ZIP_CORSICA.finditer(text))
        for m in zips:
            s, e = m.span()
            if _COUNT_BEFORE.search(text, max(0, s - 30), s):
                continue
            city = _CITY_AFTER.match(text, e)
            if city and _town_like(city.group(0)):
                out.append((P_ADDRESS, 0.75, s, city.end(), "address"))
            elif _ZIP_BEFORE.search(text, max(0, s - 40), s):
                out.append((P_ADDRESS, 0.6, s, e, "address"))
    _streets_by_type(text, out)
    if not any(h in text for h in _RESIDENCE_HINTS):
        return
    for m in _finditer_at(_RESIDENCE, text, _occurrences(text, _RESIDENCE_WORDS)):
        out.append((P_ADDRESS, 0.5, m.start("city"), m.end("city"), "address"))


def _streets_by_type(text: str, out: list[Cand]) -> None:
    lowered = text.lower()
    starts = _occurrences(lowered, _STREET_HINTS)
    bds = _occurrences(lowered, ("bd",))
    if not starts and not any(_BD.match(lowered, i) for i in bds):
        return
    if len(lowered) == len(text) and "ı" not in text and "ſ" not in text:
        matches = _finditer_at(_STREET_TYPE, text, sorted(starts + bds))
    else:  # lower() changed the length, or a dotless i or long s that (?i:) matches as i, s
        matches = _STREET_TYPE.finditer(text)
    for m in matches:
        start, end = m.span()
        number = _SPELLED_BEFORE.search(text, max(0, start - 30), start)
        name = number and _STREET_NAME_AFTER.match(text, end)
        if name:
            _street(text, number.start(), name.end(), 0.8, out)
        elif name := _CAPITALISED_NAME_AFTER.match(text, end):
            _street(text, start, name.end(), 0.6, out)
