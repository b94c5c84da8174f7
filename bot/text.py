"""Text helpers shared by the core and the plugins: the one normalizer (how commands,
specialty names and gazetteers compare words) and the one way text is cut short."""

from __future__ import annotations

import unicodedata

# NFKD leaves these ligatures whole; French medical text is full of them (œdème, cœur, œil).
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE"})


def fold(text: str) -> str:
    """Case-folded, without accents or ligatures: `Bénévole` -> `benevole`, `Œil` -> `oeil`."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, the last one an ellipsis when it was longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
