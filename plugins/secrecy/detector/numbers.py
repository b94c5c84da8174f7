"""Long numbers: phones (validated against the numbering plans), NIRs (by their key, or a
context word), digits written one by one, patient record numbers. They are read only in
windows around the runs of 6+ digits of a text."""

from __future__ import annotations

import re
from functools import lru_cache

from plugins.secrecy.detector.common import (
    P_NIR_CTX,
    P_NIR_KEY,
    P_PHONE_OK,
    P_PHONE_SHAPE,
    P_RECORD_BARE,
    P_RECORD_CTX,
    Cand,
)
from plugins.secrecy.detector.dates import date_candidate, date_ok

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


def _phones(text: str, out: list[Cand]) -> None:
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
            out.append((P_PHONE_OK, 0.95, s, e, "phone"))
        else:
            out.append(
                (P_PHONE_SHAPE, min(0.85, shape + (0.2 if context else 0.0)), s, e, "phone")
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


def _nir_candidate(text: str, s: int, e: int, raw: str, out: list[Cand]) -> bool:
    parts = _nir_parts(raw)
    if parts is None:
        return False
    body, key = parts
    if key and nir_key(body) == int(key):
        out.append((P_NIR_KEY, 0.97, s, e, "nir"))
        return True
    if _NIR_CONTEXT.search(text, max(0, s - 45), s):
        out.append((P_NIR_CTX, 0.6, s, e, "nir"))
        return True
    return False


def _nirs(text: str, out: list[Cand]) -> None:
    for m in _NIR.finditer(text):
        _nir_candidate(text, m.start(), m.end(), m.group(0), out)


# ---------------------------------------------------------------------------------------------
# Digits written one by one ("1 2 0 5 1 9 5 0"), as copied from forms: segment the run into
# dates (8 digits), NIRs (13/15) and phones (10).
# ---------------------------------------------------------------------------------------------
_SPACED = re.compile(r"\d(?<![\w.,/\-]\d)(?<!\b\d \d)(?: \d){7,}(?! \d\b)(?![\w/])")


def _spaced(text: str, out: list[Cand]) -> None:
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
                    ok = (date_ok(int(digits[i : i + 2]), int(digits[i + 2 : i + 4]))
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
                date_candidate(text, s, e, out)
            elif kind == "nir":
                _nir_candidate(text, s, e, text[s:e], out)
            else:
                valid = _phone_valid("", digits[i:j])
                out.append(
                    (P_PHONE_OK, 0.95, s, e, "phone")
                    if valid
                    else (P_PHONE_SHAPE, 0.5, s, e, "phone")
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


def _records(text: str, out: list[Cand]) -> None:
    if not _SIX_DIGITS.search(text):
        return  # both patterns need a run of 6+ digits
    for m in _RECORD_CTX.finditer(text):
        out.append((P_RECORD_CTX, 0.85, m.start("num"), m.end("num"), "record_number"))
    for m in _BARE_NUMBER.finditer(text):
        if _NOT_PATIENT_ID.search(text, max(0, m.start() - 35), m.start()):
            continue
        out.append((P_RECORD_BARE, 0.45, m.start(), m.end(), "record_number"))


# ---------------------------------------------------------------------------------------------
# Windows
# ---------------------------------------------------------------------------------------------
# Phones, NIRs, spaced-out digits and record numbers all hold 6+ digits close together.
_LONG_NUMBER = re.compile(r"[0-9](?: ?[.\-]? ?[0-9]){5}")
_LONG_NUMBER_DETECTORS = (_phones, _nirs, _spaced, _records)


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


def find(text: str, out: list[Cand]) -> None:
    """Phones, NIRs, spaced-out digits and record numbers, read in the windows around the long
    numbers of `text` only."""
    for start, end in _number_windows(text):
        found: list[Cand] = []
        window = text[start:end]
        for detect in _LONG_NUMBER_DETECTORS:
            detect(window, found)
        out.extend((p, c, s + start, e + start, k) for p, c, s, e, k in found)
