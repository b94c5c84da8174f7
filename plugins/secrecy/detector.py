"""Pure detector of identifying data in French clinical posts.

``scan(text)`` returns non-overlapping :class:`Finding` objects (kind + character span +
confidence). It never logs, never touches the network, and keeps no state between calls
apart from precompiled regexes and small caches (phone validations, normalised words), so it
is safe to run in a worker thread.

Cost is linear in the text: only the first :data:`MAX_SCAN` characters are read, every
quantifier that can meet a long run of one character class is bounded (or is the only one
that can consume that run, so a failed attempt costs the run once), context is looked up in
fixed-size windows, and overlaps are resolved on an occupancy map of the text.

Design: each detector proposes candidates with a priority; overlaps are resolved by priority,
then confidence, then length. Validation is done where a format carries a check
(NIR key, phone numbering plans via ``phonenumbers``); formats without a check are only
reported next to a context word, or with a lower confidence.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from bot.text import fold
from plugins.secrecy._gazetteer import FIRST_NAMES, SURNAMES

__all__ = ["HIGH_CONFIDENCE", "KINDS", "MAX_SCAN", "Finding", "scan"]

KINDS: tuple[str, ...] = (
    "name",
    "nir",
    "phone",
    "email",
    "address",
    "birth_date",
    "date",
    "record_number",
    "url_with_token",
)
HIGH_CONFIDENCE: float = 0.9
MAX_SCAN: int = 64 * 1024
"""Characters of a text that `scan` reads (a Matrix event is at most 65,536 bytes); findings
are those of ``text[:MAX_SCAN]``."""


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str  # one of KINDS
    start: int  # character offsets into the scanned text
    end: int
    confidence: float  # 0..1; >= HIGH_CONFIDENCE means validated (NIR key, phone plan, email)


# A candidate: (priority, confidence, start, end, kind). Higher priority wins an overlap.
_Cand = tuple[int, float, int, int, str]

_P_EMAIL, _P_URL, _P_NIR_KEY, _P_PHONE_OK = 100, 95, 90, 85
_P_RECORD_CTX, _P_BIRTH, _P_ADDRESS, _P_NIR_CTX = 80, 75, 70, 65
_P_DATE, _P_PHONE_SHAPE, _P_NAME, _P_RECORD_BARE = 60, 55, 50, 30

_UP = "A-ZÀ-ÖØ-Þ"
_LO = "a-zß-öø-ÿ"


@lru_cache(maxsize=16384)
def _norm(word: str) -> str:
    """The gazetteer key: folded (`bot.text.fold`), curly apostrophes made straight."""
    return fold(word).replace("’", "'")


def _first_letters(alternatives: str) -> str:
    """The first letters of a regex's list of words that each start with a letter
    ("rue|av\\.?|all[ée]e" -> "ar"), for a lookahead that fails fast where none can start.
    Pieces of a nested group ("dix(?:-sept|-huit)") can only add letters to the set."""
    return "".join(sorted({a[0] for a in alternatives.split("|") if a[:1].isalpha()}))


def _words(text: str) -> frozenset[str]:
    """A word list written as one string (normalised, one set)."""
    return frozenset(_norm(w) for w in text.split())


# ---------------------------------------------------------------------------------------------
# E-mail and URLs
# ---------------------------------------------------------------------------------------------
_EMAIL = re.compile(
    r"(?<![\w.+\-])[\w.+\-]*\w(?:@| @ )[\w\-]+(?:(?:\.| \. )[\w\-]+)*(?:\.| \. )[A-Za-z]{2,}\b"
)
_URL = re.compile(r"\bhttps?://[^\s<>\"'`]+", re.IGNORECASE)
_URL_TOKEN_PARAM = re.compile(
    r"[?&#;](?:[\w\-]*?(?:token|jeton|key|cle|clef|auth|sig|signature|secret|password|passwd|pwd"
    r"|pass|otp|ticket|session|sessionid|sid|code|hash|jwt|share|uuid|guid|access|acces|accession"
    r"|patient|pid|ipp|nda|study|examen|exam|id|k|t|s))=([^&#\s]{6,})",
    re.IGNORECASE,
)
_URL_RANDOM_SEGMENT = re.compile(r"/(?=[A-Za-z0-9_\-]{20,})(?=[^/?#]*\d)(?=[^/?#]*[A-Za-z])")


# ---------------------------------------------------------------------------------------------
# Phones
# ---------------------------------------------------------------------------------------------
_OVERSEAS_CC = ("262", "590", "594", "596", "269", "508", "681", "687", "689")
# Between two digits: nothing, a space, or a dot/dash possibly padded ("0 4 - 0 7 - ...").
_DS = r"(?: ?[.\-] ?| )?"
_PHONE = re.compile(
    r"(?=[0+(])(?<![\d+])(?<!\d[ .\-])(?<!\d[AB])"
    r"(?:"
    r"(?P<intl>(?:\+ ?|00 ?)(?P<cc>33|262|590|594|596|269|508|681|687|689)"
    r"[ .\-]?(?:\(0\)[ .\-]?|0[ .\-]?)?(?P<nat>[1-9](?:[ .\-]?\d){8}))"
    rf"|(?P<paren>\( ?(?P<pcc>\d(?: ?\d){{0,2}}) ?\)[ .\-]?"
    rf"(?P<pnat>0?{_DS}[1-9](?:{_DS}\d){{7,9}}))"
    rf"|(?P<plus>\+ ?\d(?:{_DS}\d){{8,13}})"
    rf"|(?P<fr>0{_DS}[1-9](?:{_DS}\d){{8}})"
    r"|(?P<pairs>0\d(?P<ps>[ .\-])\d\d(?:(?P=ps)\d\d){3})"
    rf"|(?P<bare>0(?:{_DS}\d){{9}})"
    r")(?!\d)(?![.,]\d)"
)
_PHONE_CONTEXT = re.compile(
    r"(?=[tpmfgjarcn])(?:t[ée]l[ée]?(?:phone)?|tel|portable|mobile|fax|gsm|joignable|joindre|appeler|rappeler"
    r"|contacter|contact|num[ée]ro|n°)\b[^\n]{0,25}$",
    re.IGNORECASE,
)
_CONSISTENT_PAIRS = re.compile(r"0\d(?:([ .\-]?)\d\d(?:\1\d\d){3})$")


@lru_cache(maxsize=4096)
def _phone_valid(cc: str, national: str) -> bool:
    """Validate a number with ``phonenumbers``; a French national number is tried against
    metropolitan France then the overseas plans (0692... is a valid Réunion mobile)."""
    import phonenumbers  # imported lazily: ~30 ms, only paid when a candidate shows up

    def ok(code: int, nat: str) -> bool:
        try:
            num = phonenumbers.PhoneNumber(country_code=code, national_number=int(nat))
            return phonenumbers.is_valid_number(num)
        except (ValueError, TypeError):
            return False

    if cc:
        return ok(int(cc), national.lstrip("0") if cc in ("33", *_OVERSEAS_CC) else national)
    nat = national[1:]  # drop the national trunk 0
    return any(ok(code, nat) for code in (33, 262, 590, 594, 596))


@lru_cache(maxsize=1024)
def _intl_valid(digits: str) -> bool:
    import phonenumbers

    try:
        return phonenumbers.is_valid_number(phonenumbers.parse("+" + digits, None))
    except phonenumbers.NumberParseException:
        return False


_DIGIT_SPLIT = re.compile(r"\d")
_DATE_PREFIX = re.compile(r"\d{1,2}([./\-])\d{1,2}\1(?:1[89]|20)\d\d")
_CONTINUES = re.compile(r" \d")
_LONE_SPACED = re.compile(r"(?<!\d)\d \d \d(?!\d)")


def _layout(raw: str) -> str:
    """'regular' for 0612345678, 06 12 34 56 78, 0 6 1 2 ..., 0 6 - 1 2 - ...; else 'mixed'."""
    seps = _DIGIT_SPLIT.split(raw)[1:-1]
    if len(set(seps)) <= 1:
        return "regular"
    odd, even = set(seps[1::2]), set(seps[0::2])
    if len(odd) == 1 and len(even) == 1 and even <= {"", " "}:
        return "regular"
    return "mixed"


def _digits(s: str) -> str:
    return "".join(filter(str.isdigit, s))


def _phones(text: str, out: list[_Cand]) -> None:
    for m in _PHONE.finditer(text):
        s, e = m.span()
        context = bool(_PHONE_CONTEXT.search(text, max(0, s - 40), s))
        if m.group("intl"):
            valid = _phone_valid(m.group("cc"), _digits(m.group("nat")))
            shape = 0.65
        elif m.group("paren"):
            pcc, pnat = m.group("pcc"), _digits(m.group("pnat"))
            if pcc in ("33", *_OVERSEAS_CC):
                valid = _phone_valid(pcc, pnat)
            else:
                valid = pnat.startswith("0") and len(pnat) == 10 and _phone_valid("", pnat)
                if valid:  # "(34) 02 29 ..." : the national part alone is a French number
                    s = m.start("pnat")
            shape = 0.6
        elif m.group("plus"):
            valid = _intl_valid(_digits(m.group("plus")))
            shape = 0.5
        else:
            raw = m.group(0)
            nat = _digits(raw)
            valid = nat[1] != "0" and _phone_valid("", nat)
            if " " in raw and _CONTINUES.match(text, e):
                continue  # part of a longer run of spaced digits
            if _layout(raw) == "mixed" and (
                not valid or _DATE_PREFIX.match(raw) or _LONE_SPACED.search(raw)
            ):
                continue  # "01-03-1970 2 7": a date followed by other digits
            shape = 0.65 if _CONSISTENT_PAIRS.match(raw) else 0.5
        if valid:
            out.append((_P_PHONE_OK, 0.95, s, e, "phone"))
        else:
            out.append(
                (_P_PHONE_SHAPE, min(0.85, shape + (0.2 if context else 0.0)), s, e, "phone")
            )


# ---------------------------------------------------------------------------------------------
# NIR (n° de sécurité sociale / INS)
# ---------------------------------------------------------------------------------------------
# Any run of 13 or 15 digits (2A/2B allowed) written with optional single separators.
_NIR = re.compile(
    r"[1-478](?<![\w+.\-][1-478])(?<!\d[ .\-][1-478])"
    r"(?:[ .\-]?[\dAB]){12}(?:[ .\-]?\d{2}|[ .\-]?\d[ .\-]\d)?"
    r"(?![\w])(?![ .\-]\d)",
    re.IGNORECASE,
)
_NIR_CONTEXT = re.compile(
    r"(?=[snica])(?:s[ée]cu\w*|\bnir|\bins\b|\bnss\b|carte\s+vitale|n°\s*(?:de\s+)?ss\b|n°\s*s[ée]cu"
    r"|immatricul\w*|assur[ée]\w*|assurance\s+maladie|num[ée]ro\s+national)[^\n]{0,30}$",
    re.IGNORECASE,
)


def _nir_parts(raw: str) -> tuple[str, str] | None:
    """Return (13-char body, key) for a NIR-shaped string, key "" when absent; None otherwise."""
    s = re.sub(r"[ .\-]", "", raw).upper()
    if len(s) not in (13, 15):
        return None
    body, key = s[:13], s[13:]
    if not (body[:5].isdigit() and body[7:].isdigit() and (not key or key.isdigit())):
        return None
    dept = body[5:7]
    if not (dept.isdigit() or dept in ("2A", "2B")):
        return None
    if body[0] not in "123478" or not _nir_month_ok(int(body[3:5])):
        return None
    return body, key


def _nir_month_ok(month: int) -> bool:
    """01-12, or 20-42 / 50-99 for unknown months (provisional numbers)."""
    return 1 <= month <= 12 or 20 <= month <= 42 or 50 <= month <= 99


def nir_key(body: str) -> int:
    """Key of a 13-character NIR body: 97 − (N mod 97), Corsica 2A → 19, 2B → 18."""
    n = int(body.upper().replace("2A", "19").replace("2B", "18"))
    return 97 - n % 97


def _nir_candidate(text: str, s: int, e: int, raw: str, out: list[_Cand]) -> bool:
    parts = _nir_parts(raw)
    if parts is None:
        return False
    body, key = parts
    if key and nir_key(body) == int(key):
        out.append((_P_NIR_KEY, 0.97, s, e, "nir"))
        return True
    if _NIR_CONTEXT.search(text, max(0, s - 45), s):
        out.append((_P_NIR_CTX, 0.6, s, e, "nir"))
        return True
    return False


def _nirs(text: str, out: list[_Cand]) -> None:
    for m in _NIR.finditer(text):
        _nir_candidate(text, m.start(), m.end(), m.group(0), out)


# ---------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------
_MONTHS = (
    r"janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[ûu]t|septembre|octobre|novembre"
    r"|d[ée]cembre|janv|f[ée]vr?|avr|juil|sept|oct|nov|d[ée]c"
)
_DATE_NUM = re.compile(
    r"(?P<d>[0-9](?<![\d/.][0-9])(?<!\d-[0-9])[0-9]?)"
    r"(?P<sep>[/.\-|])(?P<m>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})"
    r"(?!\d)(?![/.\-]\d)"
)
_DATE_TXT = re.compile(
    r"(?P<d>[0-9](?<!\w[0-9])(?:[0-9]|er)?+)\s{0,3}+,?+\s{0,3}+(?=[jfmasond])(?:"
    + _MONTHS
    + r")\.?\s{1,3}(?P<y>(?:19|20)\d{2})\b",
    re.IGNORECASE,
)
_DATE_ISO = re.compile(r"(?P<y>1[89]\d\d|20\d\d)(?P<sep>[/.\-])(?P<m>\d\d)(?P=sep)(?P<d>\d\d)")
"""Year first (ISO 8601 and exports of many record systems): 1954-07-21, 2023/03/14. No
lookaround, so the engine can skip ahead fast; its boundaries are checked on the rare match."""
_ISO_BEFORE = re.compile(r"[\w.,/\-]")
_ISO_AFTER = re.compile(r"\d|[/.\-]\d")
_BIRTH_CONTEXT = re.compile(
    r"(?=[ndmb])(?:\bn[ée]e?s?|\bn[ée]\s?\(e\)|\bddn|\bd\.d\.n\.?|naissance|naiss\.?|mise?\s+au\s+monde"
    r"|\bborn|date\s+of\s+birth|\bdob)\W{0,3}(?:le|en|du|:)?\s*:?\s*$",
    re.IGNORECASE,
)
_LEGAL_BEFORE = re.compile(
    r"(?=[ldacorjin])\b(?:loi|d[ée]cret|arr[êe]t[ée]|circulaire|ordonnance\s+n|directive|r[èe]glement|article"
    r"|journal\s+officiel|jorf|instruction|note\s+d['’]information)\b[^\n]{0,30}$",
    re.IGNORECASE,
)
_AGE_AFTER = re.compile(r"\s{0,3}\(\s{0,3}\d{1,3}\s{0,3}ans?\s{0,3}\)")


def _date_ok(d: int, m: int) -> bool:
    return 1 <= d <= 31 and 1 <= m <= 12


def _date_candidate(text: str, s: int, e: int, out: list[_Cand]) -> None:
    if _LEGAL_BEFORE.search(text, max(0, s - 40), s):
        return  # "Loi du 4 mars 2002": a law, not a person
    if _BIRTH_CONTEXT.search(text, max(0, s - 30), s) or _AGE_AFTER.match(text, e):
        out.append((_P_BIRTH, 0.85, s, e, "birth_date"))
    else:
        out.append((_P_DATE, 0.5, s, e, "date"))


def _dates(text: str, out: list[_Cand]) -> None:
    for m in _DATE_NUM.finditer(text):
        d, mo, y, sep = m.group("d"), m.group("m"), m.group("y"), m.group("sep")
        if not _date_ok(int(d), int(mo)):
            continue
        if len(y) == 4 and not ("1880" <= y <= "2099"):
            continue
        # "3.4.24" is too close to version numbers and scores: 2-digit years need 2-digit fields
        if len(y) == 2 and sep in ".-" and (len(d) < 2 or len(mo) < 2):
            continue
        _date_candidate(text, m.start(), m.end(), out)
    for m in _DATE_ISO.finditer(text):
        s, e = m.span()
        if (s and _ISO_BEFORE.match(text, s - 1)) or _ISO_AFTER.match(text, e):
            continue
        if "1880" <= m.group("y") <= "2099" and _date_ok(int(m.group("d")), int(m.group("m"))):
            _date_candidate(text, s, e, out)
    for m in _DATE_TXT.finditer(text):
        d = m.group("d")
        if d.isdigit() and not 1 <= int(d) <= 31:
            continue
        _date_candidate(text, m.start(), m.end(), out)


# ---------------------------------------------------------------------------------------------
# Digits written one by one ("1 2 0 5 1 9 5 0"), as copied from forms: segment the run into
# dates (8 digits), NIRs (13/15) and phones (10).
# ---------------------------------------------------------------------------------------------
_SPACED = re.compile(r"\d(?<![\w.,/\-]\d)(?<!\b\d \d)(?: \d){7,}(?! \d\b)(?![\w/])")


def _spaced(text: str, out: list[_Cand]) -> None:
    for m in _SPACED.finditer(text):
        digits = m.group(0)[::2]
        n = len(digits)
        base = m.start()
        # score[i]: best total for digits[i:]; a piece scores its length, less when its
        # format carries no check (NIR without key). A spaced phone is a run of its own.
        # pick[i]: (end, kind) of the piece starting at i in that best split, None to skip
        # digit i (back-pointers: copying piece lists per digit would be quadratic).
        score = [0.0] * (n + 1)
        pick: list[tuple[int, str] | None] = [None] * (n + 1)
        for i in range(n - 1, -1, -1):
            best, choice = score[i + 1], None
            # A NIR body here is 13 plain digits: _nir_parts's checks reduce to sex and month.
            nir_body = (i + 13 <= n and digits[i] in "123478"
                        and _nir_month_ok(int(digits[i + 3 : i + 5])))
            for length, kind in ((15, "nir"), (13, "nir"), (10, "phone"), (8, "date")):
                j = i + length
                if j > n or (kind == "phone" and (i or j != n)):
                    continue
                weight = 1.0
                if kind == "date":
                    ok = (_date_ok(int(digits[i : i + 2]), int(digits[i + 2 : i + 4]))
                          and "1880" <= digits[i + 4 : j] <= "2099")
                elif kind == "phone":
                    ok = digits[i] == "0"
                else:
                    ok = nir_body
                    if ok and not (length == 15 and 97 - int(digits[i : i + 13]) % 97
                                   == int(digits[i + 13 : j])):
                        weight = 0.7
                if ok and score[j] + length * weight > best:
                    best, choice = score[j] + length * weight, (j, kind)
            score[i], pick[i] = best, choice
        i = 0
        while i < n:
            chosen = pick[i]
            if chosen is None:
                i += 1
                continue
            j, kind = chosen
            s, e = base + 2 * i, base + 2 * j - 1
            if kind == "date":
                _date_candidate(text, s, e, out)
            elif kind == "nir":
                _nir_candidate(text, s, e, text[s:e], out)
            else:
                valid = _phone_valid("", digits[i:j])
                out.append(
                    (_P_PHONE_OK, 0.95, s, e, "phone")
                    if valid
                    else (_P_PHONE_SHAPE, 0.5, s, e, "phone")
                )
            i = j


# ---------------------------------------------------------------------------------------------
# Record numbers
# ---------------------------------------------------------------------------------------------
_RECORD_CTX = re.compile(
    r"(?=[iIndNDpP])(?:\b(?:IPP|NIP|NDA|IEP|IP)\b"
    r"|\bn°\s{0,3}(?:de\s{1,3}|du\s{1,3})?(?:dossier|s[ée]jour|patient)"
    r"|\bnum[ée]ro\s{1,3}(?:de\s{1,3}|du\s{1,3}|d['’]\s{0,3})?"
    r"(?:dossier|s[ée]jour|patient|identification|hospitalisation)"
    r"|\bdossier(?:\s{1,3}(?:patient|m[ée]dical|n°))?|\bidentifiant(?:\s{1,3}[\w'’]{1,30}){0,3}"
    r"|\bID\b|\bpatient)"
    r"[^\w\n]{0,6}(?:(?:est|étant|etant|:)\s{0,3}(?:le\s{1,3})?)?"
    r"(?P<num>[A-Z]{0,3}\d{6,12}[A-Z]?)\b",
    re.IGNORECASE,
)
_BARE_NUMBER = re.compile(r"(?=\d{8})(?<![\w.,/\-])\d{8,12}(?![\w/])(?![.,]\d)")
_NOT_PATIENT_ID = re.compile(
    r"(?=[rafsulceipd])(?:rpps|adeli|finess|siret|siren|\buai|\blot|\bcip|\bucd|\bean|\bisbn|\bpmid|\bdoi)"
    r"[\s\S]{0,30}$",
    re.IGNORECASE,
)


_SIX_DIGITS = re.compile(r"\d{6}")


def _records(text: str, out: list[_Cand]) -> None:
    if not _SIX_DIGITS.search(text):
        return  # both patterns need a run of 6+ digits
    for m in _RECORD_CTX.finditer(text):
        out.append((_P_RECORD_CTX, 0.85, m.start("num"), m.end("num"), "record_number"))
    for m in _BARE_NUMBER.finditer(text):
        if _NOT_PATIENT_ID.search(text, max(0, m.start() - 35), m.start()):
            continue
        out.append((_P_RECORD_BARE, 0.45, m.start(), m.end(), "record_number"))


# ---------------------------------------------------------------------------------------------
# Addresses
# ---------------------------------------------------------------------------------------------
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
    rf"(?:[ \t]{{1,3}}(?:{_PARTICLE}[ \t]{{0,3}})?[{_UP}0-9][\w'’\-]*){{0,5}}"
)
# After an ambiguous type the name must look like a proper noun: "place Bellecour", not
# "1 place en EHPAD"; an all-caps address ("2 PLACE DE LA GARE") is matched case by case.
_STREET_NAME_CAP = (
    rf"(?:[ \t]{{1,3}}{_PARTICLE})?[ \t]{{0,3}}[{_UP}][{_LO}][\w'’\-]*"
    rf"(?:[ \t]{{1,3}}(?:{_PARTICLE}[ \t]{{0,3}})?[{_UP}0-9][\w'’\-]*){{0,5}}"
)


def _capitalised_alternatives(alternatives: str) -> str:
    return "|".join(a[:1].upper() + a[1:] for a in alternatives.split("|"))


_STREET_NAME_UPPER = rf"(?:[ \t]{{1,3}}(?:[{_UP}'’\-]+|\d+)){{1,6}}"
_NUMBER = (
    r"[0-9](?<![\d,./\-][0-9])\d{0,3}(?:-\d{1,4})?(?:[ \t]?(?:bis|ter|quater|[A-Da-d]\b))?,?"
    r"[ \t]{1,3}"
)
_STREET = re.compile(
    # the lookahead fails fast after the many numbers that no street type follows
    rf"{_NUMBER}(?=(?i:[{_first_letters(f'{_STREET_SURE}|{_STREET_AMBIGUOUS}')}]))"
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
    rf"(?=(?i:[{_first_letters(_SPELLED_NUMBER)}]))"
    rf"(?<![\w\-])(?i:{_SPELLED_NUMBER})(?:[ \t](?i:bis|ter))?[ \t]{{1,3}}$"
)
_STREET_NAME_AFTER = re.compile(_STREET_NAME_ANY)
_NAME_OF = r"(?:de[ \t]{1,3}la|de[ \t]{1,3}l['’]|du|des|de|d['’])"
_CAPITALISED_NAME_AFTER = re.compile(
    rf"[ \t]{{1,3}}(?:{_NAME_OF}[ \t]{{0,3}})?[{_UP}][{_LO}][\w'’\-]*"
    rf"(?:[ \t]{{1,3}}(?:{_NAME_OF}[ \t]{{0,3}})?[{_UP}][\w'’\-]*){{0,4}}"
)
_ZIP = re.compile(
    r"[0-9](?<![\w.][0-9])(?<!\d,[0-9])(?<!\d [0-9])"
    r"(?:(?:(?<=0)[1-9]|(?<=[1-8])\d|(?<=9)[0-5]) ?\d{3}|(?<=9)7[1-6] ?\d{2})"
    r"(?![\w/%])(?![.,]\d)"
)
_ZIP_CORSICA = re.compile(r"2(?<![\w.]2)[AB] ?\d{3}(?![\w/%])(?![.,]\d)")
"""Corsica by its département, as forms write it: 2A 004, 2B826."""
_CITY = (
    rf"(?:[{_UP}][{_LO}]+|[{_UP}]{{3,}})"
    rf"(?:[\- '’](?:(?:sur|sous|en|le|la|lès|les|de|du)(?=[\- '’][{_UP}])"
    rf"|[{_UP}][{_LO}]+|[{_UP}]{{2,}}))*"
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
    rf"(?=[{_UP}dc])(?:[{_UP}][{_LO}]+(?:-[{_UP}][{_LO}]+)*,[ \t]*|\bdans\s+le\s+"
    r"|\bcode\s+postal\s*:?\s*)$"
)
_RESIDENCE = re.compile(
    rf"(?=[hrdvo])\b(?:habite|habitant|r[ée]sid(?:e|ant|ent)|domicili[ée]e?s?|demeurant|vit|vivant"
    rf"|originaire)\s{{1,3}}(?:à|a|au|en|sur)\s{{1,3}}"
    rf"(?P<city>[{_UP}][{_LO}'’]+(?:[\- ](?:(?:sur|sous|en|le|la|lès|les|de|du)(?=[\- ][{_UP}])"
    rf"|[{_UP}][{_LO}]+))*)"
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
    key = _norm(word.strip(" \t,–-").split()[0])
    return key not in _NOT_CITY and key not in _ACRONYMS and key not in _COMMON \
        and key not in _TITLES


def _street(text: str, s: int, e: int, conf: float, out: list[_Cand]) -> None:
    """A street from s to e, and the postal code and town that follow it after a comma (a
    candidate of their own: `_merge` joins the pieces that survive)."""
    out.append((_P_ADDRESS, conf, s, e, "address"))
    tail = _STREET_TAIL.match(text, e)
    if tail is None:
        return
    zip_start = tail.start("zip")
    town = tail.group("city") or tail.group("town")
    if town and _town_like(town):
        start = zip_start if zip_start >= 0 else tail.start("town")
        out.append((_P_ADDRESS, 0.75, start, tail.end(), "address"))
    elif zip_start >= 0:
        out.append((_P_ADDRESS, 0.6, zip_start, tail.end("zip"), "address"))


def _addresses(text: str, out: list[_Cand], digits: bool = True) -> None:
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
                out.append((_P_ADDRESS, 0.75, s, city.end(), "address"))
            elif _ZIP_BEFORE.search(text, max(0, s - 40), s):
                out.append((_P_ADDRESS, 0.6, s, e, "address"))
    _streets_by_type(text, out)
    if not any(h in text for h in _RESIDENCE_HINTS):
        return
    for m in _finditer_at(_RESIDENCE, text, _occurrences(text, _RESIDENCE_WORDS)):
        out.append((_P_ADDRESS, 0.5, m.start("city"), m.end("city"), "address"))


def _streets_by_type(text: str, out: list[_Cand]) -> None:
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


# ---------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------
_TOKEN_TAIL = r"[^\W\d_]*(?:[.'’\-]+[^\W\d_]+)*\.?"
_TOKEN = rf"[{_UP}]{_TOKEN_TAIL}"
_NAME_PARTICLE = r"(?:de|du|des|d['’]|van|von|der|da|di|del|della|dos|das|ben|el|al|bin|ibn)"
_CHAIN = re.compile(
    rf"[{_UP}](?<![\w/\-.'’][{_UP}]){_TOKEN_TAIL}"
    rf"(?:(?:[ \t]{{1,2}}(?:{_NAME_PARTICLE}[ \t]+)?|(?<=\.)){_TOKEN})*"
)
_TOKEN_RE = re.compile(_TOKEN)

_CIVIL = _words(
    """
m m. mr mr. mme mme. mmes mlle mlle. mlles monsieur madame mademoiselle messieurs mesdames mrs
mrs. ms ms.
"""
)
_DOCTOR = _words(
    """
dr dr. drs pr pr. docteur docteurs professeur professeurs doctoresse prof prof.
"""
)
_PATIENT = frozenset({"patient", "patiente"})
_KNOWN_NAMES = FIRST_NAMES | SURNAMES
_TITLES = _CIVIL | _DOCTOR
_TITLES_OR_PATIENT = _TITLES | _PATIENT
# Capitalised words that start sentences or headings and are never a person here.
_COMMON = _words(
    """
le la les l un une des du de d il elle ils elles on je j nous vous tu ce cet cette ces c son sa
ses mon ma mes ton ta leur leurs pas pour par avec sans sous sur dans en et ou mais donc car ni
or au aux apres avant depuis lors chez vers selon entre contre puis alors ensuite enfin aussi
bonjour bonsoir salut merci cordialement bien coucou hello hi svp qui que quoi quel quelle quels
comment pourquoi quand combien est sont a ont fait faut peut avez avons suis etes oui non ok
homme femme enfant bebe nourrisson fille fils mere pere epoux epouse conjoint mari sœur soeur
frere famille maman papa grand mamie papi bilan examen antecedents atcd traitement traitements
conclusion diagnostic hypothese hypotheses avis question questions suite hier aujourd demain
matin soir nuit semaine mois jour jours annee lundi mardi mercredi jeudi vendredi samedi
dimanche janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre
service hopital clinique urgences urgence consultation ordonnance scanner echo echographie radio
biologie cabinet centre maison ehpad laboratoire labo pharmacie pharmacien cas dossier motif
histoire contexte mode vie allergie allergies poids taille tabac alcool clinique paraclinique
evolution plan objectif objectifs note notes rappel resume synthese compte rendu cr interne
internes externe ide infirmier infirmiere kine aide sage secretariat secretaire medecin medecins
chirurgien chirurgie cardiologue pneumologue neurologue dermato dermatologue psychiatre
gynecologue pediatre rhumato rhumatologue endocrino ophtalmo orl gastro urologue nephrologue
angiologue geriatre oncologue hematologue radiologue anesthesiste confrere consoeur collegue
correspondant specialiste generaliste remplacant remplacante tel telephone portable mobile fax
mail email adresse nom prenom ne nee sexe age date lieu ville commune code departement region
pays france mr mme mlle monsieur madame dr pr attention important urgent rdv rendez cr info
infos nb ps rq pb positif negatif normal normale normaux anormal stable bon bonne mauvais traite
traitee vu vue revu revue adresse adressee hospitalise hospitalisee sorti sortie fievre toux
douleur douleurs dyspnee asthenie nausees vomissements diarrhee constipation cephalees vertiges
malaise chute chutes plaie brulure eruption prurit oedeme oedemes neurologie cardiologie
pneumologie dermatologie rhumatologie gastro-enterologie gastroenterologie nephrologie urologie
geriatrie pediatrie psychiatrie oncologie hematologie radiologie medecine gynecologie
obstetrique endocrinologie ophtalmologie reanimation infectiologie addictologie universite
faculte departement pole unite secteur
"""
)
# Medical eponyms: capitalised surnames that name diseases, signs and scores.
_EPONYMS = _words(
    """
parkinson alzheimer crohn hodgkin basedow horton raynaud addison cushing wilson gilbert charcot
guillain barre babinski lasegue murphy kaposi paget lyme barrett tinel phalen hashimoto
dupuytren osgood schlatter scheuermann meniere marfan down turner kawasaki still behcet wegener
sjogren gougerot willebrand glasgow apgar wells genève geneve child pugh meld nyha killip
framingham epworth folstein katz barthel norton braden fagerstrom mallampati cormack lachman
mcmurray trendelenburg romberg kernig brudzinski rovsing blumberg mcburney kehr bouveret
forestier bechterew bouchard heberden tietze zollinger ellison fallot eisenmenger wolff white
brugada lown ganong levine holter doppler seldinger foley kocher pfannenstiel whipple hartmann
nissen dukes gleason breslow clark ann arbor binet rai ziehl neelsen gram papanicolaou ziehl
mantoux quick tanner bishop silverman bristol hamilton beck mini moca zarit
"""
)
# All-caps tokens that are acronyms, not surnames.
_ACRONYMS = _words(
    """
HTA BPCO AVC IRM ECG TDM SAMU CHU CHR CH EHPAD DT DT1 DT2 DNID DID AINS IEC ARA AOMI IDM SCA FA
ACFA TVP EP IC ICC IR IRC IRA DFG CRP PCT NFS VS TSH ASAT ALAT GGT PAL LDH CPK BNP INR TP TCA
ECBU BU PSA AFP ACE CA PNN HB VGM IMC TA PA FC FR SAT EVA ATCD TTT RAS RDV CR CRH SAU SMUR UHCD
USIC REA HDJ MPR SSR HAD IDE AS MT MG PH CCA DES DU DIU COVID SARS VIH VHB VHC HPV IST MST TB BK
SEP SLA MICI RCH SPA LED PPR DMLA HBP RGO SII UGD OMI OAP SDRA PNP PNA TC PCI HSA HSD AIT TCE
LCR EEG EMG ETT ETO EFR VEMS CVF DEP TEP RX ASP FOGD IPP AVK AOD HBPM NACO ISRS IRSNA BZD ATB
AMM HAS ANSM CNOM ARS CPAM MSA ALD CMU AME PMI ASE MDPH APA AAH CAF SOS SMS VSL ALR AG ORL NYHA
ASA GCS MMS MMSE MOCA TSA TDAH TOC TAG EDM IVG FCS GEU DDR AMP FIV PMA HPP MAP RPM RCIU HGPO
SOPK OK NB PS RQ CAT NA SDF AEG BAV BBD BBG ESV TSV FEVG HVG SAOS PPC VNI OGD MCV HTAP EI SCORE
URGENT URGENCE IMPORTANT BILAN EXAMEN SYNTHESE CONCLUSION TRAITEMENT ANTECEDENTS MOTIF HISTOIRE
CLINIQUE PARACLINIQUE EVOLUTION DIAGNOSTIC AVIS QUESTION RESUME COMPTE RENDU HOPITAL SERVICE
CENTRE MEDECIN MEDECINE DOCTEUR PATIENT PATIENTE DATE NOM PRENOM ADRESSE TEL FAX MAIL IPP NDA
OMS ONU UE USA UK CEDEX FINESS RPPS ADELI INS NIR NSS SECU APHP AP HP CHI CHG GH HIA CLCC PDF
JPG PNG URL WEB APP BOT
"""
)
# Words after which the next capitalised run is an eponym, a place or a law, not a person:
# "maladie de Horton", "hôpital Necker", "rue Victor Hugo", "loi Kouchner".
_SKIP_NEXT = _words(
    """
maladie syndrome signe test manoeuvre score classification critere echelle reflexe loi triade
fracture ulcere hernie tumeur lymphome sarcome kyste cellule methode technique procedure operation
intervention protocole abord incision point canal ligament diverticule thyroidite encephalopathie
purpura angor paralysie contracture choree dystrophie sclerose fievre myopathie anevrisme anemie
osteochondrite dysplasie polype nevralgie tendinite bursite sonde catheter classe stade grade type
hopital hop hop. chu chr ch chi clinique centre institut fondation gh lycee college ecole
universite faculte rue avenue av av. boulevard bd place allee quai impasse chemin square cours
pont gare station metro pavillon batiment residence ehpad maison cabinet pole unite service salle
hotel stade parc bibliotheque prix decret arrete circulaire article laboratoire labo pharmacie
association societe groupe groupement reseau hospitalier hospitaliere universitaire
"""
)
_OF = frozenset({"de", "d'", "du", "des", "la", "l'"})
_CIVIL_WORDS = _words("monsieur madame mademoiselle patient patiente mr mme mlle")
_DOCTOR_WORDS = _words("dr pr docteur docteurs professeur doctoresse prof")


_CIVIL_ENDINGS = ("monsieur", "madame", "mademoiselle", "patient", "patiente", "mr", "mme", "mlle")


def _civil_before(text: str, start: int) -> bool:
    """Cheap test for a civil title or "patient(e)" right before ``start``."""
    if text[start - 1 : start] not in (" ", "\t", ":"):  # most chains follow other text
        return False
    tail = text[max(0, start - 14) : start].rstrip(" \t:")
    if not tail or tail[-1] not in "rReEtT":  # the last letters of _CIVIL_ENDINGS
        return False
    tail = tail.lower()
    if not tail.endswith(_CIVIL_ENDINGS):
        return False
    return any(
        tail.endswith(w) and (len(tail) == len(w) or not tail[-len(w) - 1].isalpha())
        for w in _CIVIL_ENDINGS
    )


_FORM_LABEL = re.compile(
    r"(?=[np])\b(?:nom|pr[ée]?nom|nom\s+de\s+naissance|nom\s+d['’]usage|nom\s+marital)\s{0,3}:\s{0,3}$",
    re.IGNORECASE,
)
"""A form's name field ("Nom : DUPONT", "Prénom : Jeanne"): photographed labels and record
screens, read by OCR, which may drop the accent ("Prnom")."""


def _context_before(text: str, start: int) -> str:
    """Classify the words just before a capitalised run: 'doctor', 'civil', 'skip' or ''."""
    if _FORM_LABEL.search(text, max(0, start - 24), start):
        return "civil"
    words = text[max(0, start - 40) : start].split()
    if not words:
        return ""
    adjacent = start > 0 and (text[start - 1].isspace() or text[start - 1] in ".:'’")
    last = _norm(words[-1].strip('(),;:«»"')).rstrip(".")
    if not adjacent:
        return ""
    if last in _DOCTOR_WORDS:
        return "doctor"
    if last in _CIVIL_WORDS:
        return "civil"
    if last.endswith("'") and len(last) > 2:  # "d'" glued to the previous word is rare
        last = last[-2:]
    for w in reversed(words[-4:-1] if last in _OF else words[-1:]):
        key = _norm(w.strip('(),;:«»"')).rstrip(".")
        if key in _OF:
            continue
        key = key.rsplit("'", 1)[-1]  # "l'Hôpital" -> hopital
        return "skip" if key in _SKIP_NEXT or key.rstrip("s") in _SKIP_NEXT else ""
    return ""


_SENTENCE_START = re.compile(r"(?:^|[.!?:;\n•\-–]\s*|\(\s*)$")


_INITIALS = re.compile(r"[A-Z](?:[.\-]+[A-Z])*\.?$")


# The token classifications below are cached: a post's capitalised words are mostly the same
# few hundred words (sentence starts, acronyms, titles), and each costs several set lookups.
@lru_cache(maxsize=16384)
def _marker(tok: str) -> str:
    """What a chain's token says of the words after it: 'doctor' (Dr, Pr), 'skip' (a month, a
    drug, an eponym's disease), 'civil' (M., Mme) or 'patient'; '' for any other word."""
    key = _norm(tok)
    if key in _DOCTOR:
        return "doctor"
    if key in _SKIP_NEXT:
        return "skip"
    if key in _CIVIL:
        return "civil"
    return "patient" if key in _PATIENT else ""


@lru_cache(maxsize=16384)
def _name_like(tok: str) -> str:
    """Classify a capitalised token: 'I' initial, 'U' upper-case word, 'C' capitalised word,
    '' when it is a title, a common word, an acronym, an eponym or too short."""
    if _norm(tok) in _TITLES_OR_PATIENT:
        return ""
    letters = [c for c in tok if c.isalpha()]
    if not letters:
        return ""
    key = _norm(tok.rstrip("."))
    if len(letters) <= 3 and _INITIALS.match(tok):
        return "I"  # J. / J.-M. / M.M
    if len(letters) == 1:
        return "I" if "A" <= letters[0] <= "Z" else ""
    if key in _COMMON or key in _EPONYMS:
        return ""
    if tok.rstrip(".").isupper():
        if key in _ACRONYMS or len(letters) < 2:
            return ""
        if len(letters) <= 3 and key not in FIRST_NAMES and key not in SURNAMES:
            return ""  # short all-caps words are mostly acronyms
        if not any(c in "AEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜŸ" for c in tok):
            return ""
        return "U"
    return "C"


@lru_cache(maxsize=16384)
def _is_gazetteer(tok: str) -> bool:
    key = _norm(tok.rstrip("."))
    if key in FIRST_NAMES or key in SURNAMES:
        return True
    if "-" in key:  # Jean-Luc, Marie-Claire
        return all(part in FIRST_NAMES for part in key.split("-") if part)
    return False


def _lone_word_may_be_name(text: str, start: int, word: str) -> bool:
    """A capitalised word alone in its chain is a name only if known or after a title: most
    chains are such words (sentence starts), so this is tested before anything else."""
    return _is_known_name(word) or _civil_before(text, start)


@lru_cache(maxsize=16384)
def _is_known_name(word: str) -> bool:
    return _norm(word.rstrip(".")) in _KNOWN_NAMES


def _names(text: str, out: list[_Cand]) -> None:
    for chain in _CHAIN.finditer(text):
        word = chain.group(0)
        if " " not in word and "\t" not in word and "." not in word[:-1]:
            if _lone_word_may_be_name(text, chain.start(), word):
                _name_chain(text, [(chain.start(), chain.end(), word)], out)
            continue
        toks: list[tuple[int, int, str]] = []
        for t in _TOKEN_RE.finditer(chain.group(0)):
            s, word = chain.start() + t.start(), t.group(0)
            head, dot, rest = word.partition(".")
            if dot and rest and _norm(head + ".") in _TITLES:  # "Pr.Plecis", "M.BRIAT"
                toks.append((s, s + len(head) + 1, head + "."))
                toks.append((s + len(head) + 1, s + len(word), rest))
            else:
                toks.append((s, s + len(word), word))
        _name_chain(text, toks, out)


def _name_chain(text: str, toks: list[tuple[int, int, str]], out: list[_Cand]) -> None:
    """Find names in one chain of adjacent capitalised words (`toks`: start, end, word).

    Walks the chain left to right with a `mode` set by the last marker word: "Dr"/"Pr" (a
    colleague: what follows is not a finding), a skip word (a month, a drug…), a civil title
    or "patient(e)" (what follows is a name, even a lone capitalised word). Between markers it
    takes a run of up to five name-like words (`_name_like`: U = UPPERCASE, C = Capitalised,
    I = initial) and flags the run as a name by how strong it looks: after a title; two words
    one of which is in the first-name/surname gazetteers; an UPPERCASE word beside another
    name-like word; or a lone known first name that does not start a sentence (unless a verb
    or an age follows) and is not followed by a dose ("Diane 35"). Appends candidates to
    `out`; linear in the chain's length.
    """
    n = len(toks)
    if n == 1 and not _lone_word_may_be_name(text, toks[0][0], toks[0][2]):
        return
    i = 0
    # Context just before the chain decides for its first run.
    mode = _context_before(text, toks[0][0])
    while i < n:
        marker = _marker(toks[i][2])
        if marker:
            # "M" without a dot only acts as a title before a name-like word
            mode, i = marker, i + 1
            continue
        kinds: list[str] = []
        j = i
        while j < n and len(kinds) < 5:
            k = _name_like(toks[j][2])
            if not k:
                break
            kinds.append(k)
            j += 1
            if k != "I" and toks[j - 1][2].endswith("."):
                break  # "...au TROD. Oseltamivir": a sentence ends here
        if not kinds:
            mode, i = "", i + 1
            continue
        if (
            j - i >= 2
            and kinds[0] == "C"
            and not _is_gazetteer(toks[i][2])
            and _SENTENCE_START.search(text[max(0, toks[i][0] - 3) : toks[i][0]])
            and text[toks[i][1] : toks[i + 1][0]].strip()  # joined by a particle: "Résultats de"
        ):
            i, kinds = i + 1, kinds[1:]  # "Résultats de DUMONT Paulette": capital of a sentence
        run = toks[i:j]
        s, e = run[0][0], run[-1][1]
        if mode == "doctor" or mode == "skip":
            pass
        elif mode in ("civil", "patient"):
            strong = any(k == "U" for k in kinds) or any(_is_gazetteer(t[2]) for t in run)
            if any(k != "I" for k in kinds) and (mode == "civil" or strong or len(run) >= 2):
                out.append((_P_NAME, 0.85 if mode == "civil" else 0.75, s, e, "name"))
        else:
            gaz = [_is_gazetteer(t[2]) for t in run]
            first = [_norm(t[2].rstrip(".")) in FIRST_NAMES for t in run]
            has_upper = "U" in kinds
            if len(run) >= 2 and any(gaz) and not all(k == "I" for k in kinds):
                out.append((_P_NAME, 0.8, s, e, "name"))
            elif (len(run) >= 2 and has_upper and ("C" in kinds or "I" in kinds)) or (
                len(run) == 2 and kinds[0] == "I" and "." in run[0][2] and kinds[1] in "UC"
            ):
                out.append((_P_NAME, 0.6, s, e, "name"))
            elif len(run) == 1 and first[0] and kinds[0] == "C" and not _DOSE_AFTER.match(text, e):
                prev = text[max(0, s - 3) : s]
                if not _SENTENCE_START.search(prev) or _following_is_verbish(text, e):
                    out.append((_P_NAME, 0.5, s, e, "name"))
        mode, i = "", j


_VERBISH = re.compile(
    r"[ ,]{1,4}(?:\d{1,3}\s{0,3}ans|est|a|avait|présente|presente|consulte|vient|revient|se\s"
    r"|s['’]|qui|dont|âg[ée]e?|age[ée]?)\b",
    re.IGNORECASE,
)


# A lone first name followed by a number that is not an age, nor the start of a longer number,
# is a drug and its dose: "Diane 35", "Carlin 75".
_DOSE_AFTER = re.compile(
    r"[ \t]{1,2}\d{1,4}(?:[.,]\d{1,2})?(?!\d)(?![ \t]?\d)"
    r"(?![ \t]{0,2}(?:ans?|mois|semaines?|sem|jours?|j|h|heures?)\b)",
    re.IGNORECASE,
)


def _following_is_verbish(text: str, end: int) -> bool:
    """A sentence-initial first name is still a person when a verb or an age follows."""
    return bool(_VERBISH.match(text, end))


# ---------------------------------------------------------------------------------------------
# Resolution
# ---------------------------------------------------------------------------------------------
_ANY_DIGIT = re.compile(r"\d")
# Phones, NIRs, spaced-out digits and record numbers all hold 6+ digits close together.
_LONG_NUMBER = re.compile(r"[0-9](?: ?[.\-]? ?[0-9]){5}")
_LONG_NUMBER_DETECTORS = (_phones, _nirs, _spaced, _records)
_OTHER_DIGIT_DETECTORS = (_dates,)


_WINDOW_CONTEXT = 80
"""Characters of context kept around a long number for the detectors that need one."""


def _number_windows(text: str) -> list[tuple[int, int]]:
    """Spans around the long numbers of `text` (merged, cut at whitespace): phone, NIR, record
    and spaced-digit detectors only read there, not through the whole post.

    Each character is walked over at most once: a backward walk stops at the previous span
    (reaching it means merging anyway), and a forward walk that starts before the point where
    the previous one stopped ends there too (match ends only grow)."""
    spans: list[tuple[int, int]] = []
    size = len(text)
    walked_to = -1  # where the last forward walk stopped: a blank, or the end of the text
    for m in _LONG_NUMBER.finditer(text):
        start = max(0, m.start() - _WINDOW_CONTEXT)
        end = min(size, m.end() + _WINDOW_CONTEXT)
        floor = spans[-1][1] if spans else 0
        while start > floor and not text[start - 1].isspace():
            start -= 1
        if end <= walked_to:
            end = walked_to
        else:
            while end < size and not text[end].isspace():
                end += 1
            walked_to = end
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((start, end))
    return spans


def scan(text: str) -> list[Finding]:
    """Find identifying data in ``text[:MAX_SCAN]``; sorted by start, non-overlapping."""
    if not text:
        return []
    text = text[:MAX_SCAN]
    cands: list[_Cand] = []
    if "@" in text:
        for m in _EMAIL.finditer(text):
            cands.append((_P_EMAIL, 0.95, m.start(), m.end(), "email"))
    if "://" in text:
        for m in _URL.finditer(text):
            url = m.group(0).rstrip(".,;:!?)]")
            if _URL_TOKEN_PARAM.search(url):
                cands.append((_P_URL, 0.9, m.start(), m.start() + len(url), "url_with_token"))
            elif _URL_RANDOM_SEGMENT.search(url):
                cands.append((_P_URL, 0.7, m.start(), m.start() + len(url), "url_with_token"))
            else:  # a plain URL: its digits are not phones or record numbers
                cands.append((_P_URL, 0.0, m.start(), m.start() + len(url), ""))
    has_digit = bool(_ANY_DIGIT.search(text))
    if has_digit:
        for start, end in _number_windows(text):
            found: list[_Cand] = []
            window = text[start:end]
            for detect in _LONG_NUMBER_DETECTORS:
                detect(window, found)
            cands.extend((p, c, s + start, e + start, k) for p, c, s, e, k in found)
        for detect in _OTHER_DIGIT_DETECTORS:
            detect(text, cands)
    _addresses(text, cands, digits=has_digit)
    _names(text, cands)
    cands.sort(key=lambda c: (-c[0], -c[1], c[2] - c[3], c[2]))
    # Best first; a candidate overlapping one already kept is dropped. The kept spans are
    # marked on a map of the text, so the test costs the candidate's length, not the number
    # of spans kept so far (each detector's candidates barely overlap: linear in the text).
    taken = bytearray(len(text))
    kept: list[_Cand] = []
    for c in cands:
        s, e = c[2], c[3]
        if taken.find(1, s, e) >= 0:
            continue
        taken[s:e] = b"\x01" * (e - s)
        if c[4]:
            kept.append(c)
    kept.sort(key=lambda c: c[2])
    return _merge(text, kept)


_MERGE_GAP = {"name": re.compile(r"[ \t]{0,2}$"), "address": re.compile(r"[ \t]*[,–\-]?[ \t]*$")}


def _merge(text: str, kept: list[_Cand]) -> list[Finding]:
    """Join adjacent pieces of one name ("MARTIN" "Jean") or one address (street, ZIP city)."""
    result: list[Finding] = []
    for _, conf, s, e, kind in kept:
        if result:
            last = result[-1]
            gap = _MERGE_GAP.get(kind)
            if last.kind == kind and gap and s - last.end <= 4 and gap.match(text[last.end : s]):
                result[-1] = Finding(kind, last.start, e, max(last.confidence, conf))
                continue
        result.append(Finding(kind, s, e, conf))
    return result
