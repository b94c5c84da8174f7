"""Dates: day-month-year with digits or a month's name, year first (ISO); a birth date by its
context ("née le", "DDN", an age after it), a law's date left out."""

from __future__ import annotations

import re

from plugins.secrecy.detector.common import P_BIRTH, P_DATE, Cand

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


def date_ok(d: int, m: int) -> bool:
    return 1 <= d <= 31 and 1 <= m <= 12


def date_candidate(text: str, s: int, e: int, out: list[Cand]) -> None:
    if _LEGAL_BEFORE.search(text, max(0, s - 40), s):
        return  # "Loi du 4 mars 2002": a law, not a person
    if _BIRTH_CONTEXT.search(text, max(0, s - 30), s) or _AGE_AFTER.match(text, e):
        out.append((P_BIRTH, 0.85, s, e, "birth_date"))
    else:
        out.append((P_DATE, 0.5, s, e, "date"))


def find(text: str, out: list[Cand]) -> None:
    """Append the dates of `text` to `out` (birth dates at a higher priority)."""
    for m in _DATE_NUM.finditer(text):
        d, mo, y, sep = m.group("d"), m.group("m"), m.group("y"), m.group("sep")
        if not date_ok(int(d), int(mo)):
            continue
        if len(y) == 4 and not ("1880" <= y <= "2099"):
            continue
        # "3.4.24" is too close to version numbers and scores: 2-digit years need 2-digit fields
        if len(y) == 2 and sep in ".-" and (len(d) < 2 or len(mo) < 2):
            continue
        date_candidate(text, m.start(), m.end(), out)
    for m in _DATE_ISO.finditer(text):
        s, e = m.span()
        if (s and _ISO_BEFORE.match(text, s - 1)) or _ISO_AFTER.match(text, e):
            continue
        if "1880" <= m.group("y") <= "2099" and date_ok(int(m.group("d")), int(m.group("m"))):
            date_candidate(text, s, e, out)
    for m in _DATE_TXT.finditer(text):
        d = m.group("d")
        if d.isdigit() and not 1 <= int(d) <= 31:
            continue
        date_candidate(text, m.start(), m.end(), out)
