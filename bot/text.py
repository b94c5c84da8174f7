"""Text helpers shared by the core and the plugins: the one normalizer (how commands,
specialty names and gazetteers compare words), the one way text is cut short, and names as
the bot prints them."""

from __future__ import annotations

import functools
import re
import unicodedata

# NFKD leaves these ligatures whole; French medical text is full of them (œdème, cœur, œil).
_LIGATURES = {"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE"}


class _Marks(dict[int, int | None]):
    """`str.translate` table deleting combining marks, filled as characters are met (those
    below U+3000 only, so it stays small whatever people send)."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        if code < 0x3000:
            self[code] = kept
        return kept


_MARKS = _Marks()


def fold(text: str) -> str:
    """Case-folded, without accents or ligatures: `Bénévole` -> `benevole`, `Œil` -> `oeil`."""
    if text.isascii():  # nothing to decompose, no mark, no ligature
        return text.casefold()
    for ligature, letters in _LIGATURES.items():  # `replace`: a pass in C each, where
        text = text.replace(ligature, letters)  # `translate` looks every character up
    return unicodedata.normalize("NFKD", text).translate(_MARKS).casefold()


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, the last one an ellipsis when it was longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


MAX_NAME = 256
"""A display name is read up to this many characters (Synapse's own limit)."""
_INVISIBLE = frozenset({"Cf", "Cn", "Co", "Cs"})
"""Format (zero-width, bidi, tags), unassigned, private-use and surrogate code points."""
_BREAKS = frozenset({"Cc", "Zl", "Zp"})
_BLANK = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u2800"
                   "\u3164\uffa0") | frozenset(map(chr, range(0xFE00, 0xFE10))) | frozenset(
    map(chr, range(0xE0100, 0xE01F0)))
"""Characters that show nothing (fillers, variation selectors, the braille blank)."""
CHECK_MARKS = frozenset("√⍻☑✅✓✔✗✘\U00010102\U0001d93f\U0001d940\U0001d941\U0001d977"
                        "\U0001f5f8\U0001f5f9\U0001fbb1")
"""Every check mark Unicode names (and √, ✗, which pass for one): the bot's verified mark
is its own, never part of a name."""
_MARK_WORDS = frozenset({"verifie", "verifiee", "verifies", "verifiees", "verified", "verif",
                         "rpps", "annuaire", "directory", "certifie", "certifiee", "certified"})
"""Words of the verified mark ("✔ (vérifié, annuaire RPPS)"), folded: no name has them."""
_LOOKALIKES = str.maketrans("аеіорсѕԁνυριεαтРЅСЕІАТΡΑΕΙΝΤΥ", "aeiopcsdvupieatPSCEIATPAEINTY")
"""Cyrillic and Greek letters drawn like the Latin ones of those words."""
_WORD = re.compile(r"[^\W\d_]+")
_OPEN, _CLOSE = "([{⦅❨❪❬❮❰❲❴⟮⟦⟨⟪〈《「『【〔〖〘〚", ")]}⦆❩❫❭❯❱❳❵⟯⟧⟩⟫〉》」』】〕〗〙〛"
_EMPTY_BRACKETS = re.compile(
    f"[{re.escape(_OPEN)}][^\\w{re.escape(_OPEN + _CLOSE)}]*[{re.escape(_CLOSE)}]")
"""A bracket holding no letter or digit (what is left of "(vérifié, annuaire RPPS)")."""
_EDGES = " ,;:·|/\\-–—*~+=•"


def shown_name(name: str) -> str:
    """A display name as the bot prints it: on one line, without what would hide or forge
    something — invisible characters (zero-width, bidi, fillers, variation selectors), check
    marks, and the words of the bot's verified mark (look-alike letters included) — so no
    name carries a mark the bot did not give. "" when nothing of a name is left.
    """
    return _shown(name[:MAX_NAME])  # cached by its first characters: bounded memory


@functools.lru_cache(maxsize=4096)
def _shown(name: str) -> str:
    kept: list[str] = []
    for char in name:
        category = unicodedata.category(char)
        if category in _BREAKS:
            kept.append(" ")
        elif category not in _INVISIBLE and char not in _BLANK:
            kept.append(char)
    text = unicodedata.normalize("NFKC", "".join(kept))
    text = "".join(" " if c in CHECK_MARKS else c for c in text)
    text = _WORD.sub(lambda m: "" if fold(m[0].translate(_LOOKALIKES)) in _MARK_WORDS
                     else m[0], text)
    text = _EMPTY_BRACKETS.sub(" ", text)
    return " ".join(text.split()).strip(_EDGES)
