"""What secrecy says of what it found: kinds only, never the values."""

from __future__ import annotations

from collections.abc import Iterable

from bot.content import Part, fill
from bot.plugin import Context
from plugins.secrecy.detector import KINDS
from plugins.secrecy.photo import PHOTO_KINDS

_ORDER = {k: i for i, k in enumerate((*KINDS, *PHOTO_KINDS))}


def kinds_text(ctx: Context, kinds: Iterable[str]) -> str:
    """The kinds in words, in detector order: « un nom et un numéro de téléphone »."""
    words = [
        ctx.t(f"secrecy.kind.{k}" if k in _ORDER else "secrecy.kind.other")
        for k in sorted(set(kinds), key=lambda k: _ORDER.get(k, len(_ORDER)))
    ]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + ctx.t("secrecy.and") + words[-1]


def redacted_notice(ctx: Context, sender: str, kinds: Iterable[str]) -> tuple[Part, ...]:
    """Said where a post was deleted at once (redact mode), naming its poster."""
    return fill(ctx.t("secrecy.auto_redacted"), kinds=kinds_text(ctx, kinds),
                poster=ctx.pill(sender, notify=True))
