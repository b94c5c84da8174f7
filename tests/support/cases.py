"""Reading a case's card on the Harness (the cases feature's first bot message in a thread)."""

from __future__ import annotations

from bot.testing import Harness, Sent


def card_of(h: Harness, root: str) -> Sent:
    """The case card of the thread on `root`, as it reads now (its last edit applied)."""
    return h.as_edited(next(s for s in h.in_thread(root) if s.body.startswith(("Cas #", "Case #"))
                            and " · " in s.body.split("\n")[0]))
