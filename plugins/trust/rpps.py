"""RPPS numbers: shape and check digit.

An RPPS number has 11 digits, the last being a Luhn check digit. Checked here, since no
registry documents it in a page we could reach: the project guide (§5) states it, and all
nine RPPS numbers of real rows of the public extract quoted in public code (ANS "Identifiant
PP" column, for instance 10001045367 and 10100779536) pass it, which a random last digit
would do with a probability of 10⁻⁹. python-stdnum has no RPPS module (checked, 2026-11).
The directory's "Identification nationale PP" is the same number prefixed with 8 (type RPPS).
"""

from __future__ import annotations

import re

RPPS_LENGTH = 11
_SEPARATORS = re.compile(r"[\s.\-]+")


def clean(text: str) -> str:
    """The text without the spaces, dots and dashes people type inside numbers."""
    return _SEPARATORS.sub("", text)


def luhn_ok(digits: str) -> bool:
    """Whether an all-digit string passes the Luhn check (its last digit is the key)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def shape_ok(number: str) -> bool:
    """Eleven ASCII digits."""
    return len(number) == RPPS_LENGTH and number.isascii() and number.isdigit()


def is_rpps(number: str) -> bool:
    """Eleven digits with a valid Luhn key."""
    return shape_ok(number) and luhn_ok(number)
