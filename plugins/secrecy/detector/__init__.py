"""Pure detector of identifying data in French clinical posts.

``scan(text)`` returns non-overlapping :class:`Finding` objects (kind + character span +
confidence). It never logs, never touches the network, and keeps no state between calls
apart from precompiled regexes and small bounded caches (phone validations, normalised words,
capitalised words' classification), so it is safe to run in a worker thread.

Cost is linear in the text: only the first :data:`MAX_SCAN` characters are read, every
quantifier that can meet a long run of one character class is bounded (or is the only one
that can consume that run, so a failed attempt costs the run once), context is looked up in
fixed-size windows, and overlaps are resolved on an occupancy map of the text.

Design: each detector proposes candidates with a priority; overlaps are resolved by priority,
then confidence, then length. Validation is done where a format carries a check
(NIR key, phone numbering plans via ``phonenumbers``); formats without a check are only
reported next to a context word, or with a lower confidence.

One module per family: `numbers` (phones, NIR, digits written one by one, record numbers),
`dates`, `addresses`, `names`; `scanner` runs them and resolves overlaps; `common` holds
what they share.
"""

from __future__ import annotations

from plugins.secrecy.detector.common import HIGH_CONFIDENCE, KINDS, MAX_SCAN, Finding
from plugins.secrecy.detector.numbers import nir_key
from plugins.secrecy.detector.scanner import scan

__all__ = ["HIGH_CONFIDENCE", "KINDS", "MAX_SCAN", "Finding", "nir_key", "scan"]
