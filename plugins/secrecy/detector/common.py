"""What every detector of the package shares: the finding, the candidate, the priorities
that settle overlaps, the letter classes and the word normaliser."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from bot.text import fold

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
Cand = tuple[int, float, int, int, str]

P_EMAIL, P_URL, P_NIR_KEY, P_PHONE_OK = 100, 95, 90, 85
P_RECORD_CTX, P_BIRTH, P_ADDRESS, P_NIR_CTX = 80, 75, 70, 65
P_DATE, P_PHONE_SHAPE, P_NAME, P_RECORD_BARE = 60, 55, 50, 30

UP = "A-ZÀ-ÖØ-Þ"
LO = "a-zß-öø-ÿ"


@lru_cache(maxsize=16384)
def norm(word: str) -> str:
    """The gazetteer key: folded (`bot.text.fold`), curly apostrophes made straight."""
    return fold(word).replace("’", "'")


def first_letters(alternatives: str) -> str:
    """The first letters of a regex's list of words that each start with a letter
    ("rue|av\\.?|all[ée]e" -> "ar"), for a lookahead that fails fast where none can start.
    Pieces of a nested group ("dix(?:-sept|-huit)") can only add letters to the set."""
    return "".join(sorted({a[0] for a in alternatives.split("|") if a[:1].isalpha()}))
