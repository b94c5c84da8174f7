"""`scan`: every detector's candidates, overlaps resolved by priority, adjacent pieces of a
name or an address merged."""

from __future__ import annotations

import re

from plugins.secrecy.detector import addresses, dates, names, numbers
from plugins.secrecy.detector.common import MAX_SCAN, P_EMAIL, P_URL, Cand, Finding

# E-mail and URLs: found in `scan` itself
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


_ANY_DIGIT = re.compile(r"\d")


def scan(text: str) -> list[Finding]:
    """Find identifying data in ``text[:MAX_SCAN]``; sorted by start, non-overlapping."""
    if not text:
        return []
    text = text[:MAX_SCAN]
    cands: list[Cand] = []
    if "@" in text:
        for m in _EMAIL.finditer(text):
            cands.append((P_EMAIL, 0.95, m.start(), m.end(), "email"))
    if "://" in text:
        for m in _URL.finditer(text):
            url = m.group(0).rstrip(".,;:!?)]")
            if _URL_TOKEN_PARAM.search(url):
                cands.append((P_URL, 0.9, m.start(), m.start() + len(url), "url_with_token"))
            elif _URL_RANDOM_SEGMENT.search(url):
                cands.append((P_URL, 0.7, m.start(), m.start() + len(url), "url_with_token"))
            else:  # a plain URL: its digits are not phones or record numbers
                cands.append((P_URL, 0.0, m.start(), m.start() + len(url), ""))
    has_digit = bool(_ANY_DIGIT.search(text))
    if has_digit:
        numbers.find(text, cands)
        dates.find(text, cands)
    addresses.find(text, cands, digits=has_digit)
    names.find(text, cands)
    cands.sort(key=lambda c: (-c[0], -c[1], c[2] - c[3], c[2]))
    # Best first; a candidate overlapping one already kept is dropped. The kept spans are
    # marked on a map of the text, so the test costs the candidate's length, not the number
    # of spans kept so far (each detector's candidates barely overlap: linear in the text).
    taken = bytearray(len(text))
    kept: list[Cand] = []
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


def _merge(text: str, kept: list[Cand]) -> list[Finding]:
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
