"""What other features may import from cases: a case as they see it, its statuses, the
figures `!stats` draws, and when a redaction applies. The cases plugin alone writes cases
(`store.py`); the others learn of them from its events (`events.py`) and ask it
(`CaseOfThread`), never reading its tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.events import Redaction, RoomInfo

OPEN, RESOLVED, WITHDRAWN, CLOSED = "open", "resolved", "withdrawn", "closed"
SUGGESTED, MANUAL = "suggested", "manual"
"""Tag sources besides `hashtag`, `keywords` and `none`: the tagger was not confident and
proposed specialties to confirm (`proposed`); a member chose them (`!tag`, a numbered
reaction)."""

LISTS = ("specialties", "proposed", "pick_events")
"""Case fields stored as comma-separated ids."""


@dataclass(frozen=True, slots=True)
class Case:
    room_id: str
    number: int
    root_event_id: str
    card_event_id: str | None
    poster: str
    specialties: tuple[str, ...]
    tag_source: str
    status: str
    opened_at: float
    first_reply_at: float | None = None
    first_reply_by: str | None = None
    replies: int = 0
    resolved_at: float | None = None
    resolved_by: str | None = None
    resolution_event_id: str | None = None
    accepted_event_id: str | None = None
    closed_at: float | None = None
    auto_tag: str = ""
    """The tagger's first specialty when it last tagged the case ("": none)."""
    proposed: tuple[str, ...] = ()
    """The specialties the tagger proposed to confirm, best first (kept once confirmed)."""
    pick_events: tuple[str, ...] = ()
    """The bot's own 1️⃣ 2️⃣ 3️⃣ reactions on the card, withdrawn once a member picked."""
    tagged_by: str | None = None
    """Who chose the case's specialties (`MANUAL`; None for cases tagged before this
    was kept)."""
    tag_pick: str = ""
    """The reaction that chose them, as the bot offered it ("": `!tag`)."""
    is_open: bool = field(init=False, compare=False)
    awaiting_tag: bool = field(init=False, compare=False)
    """Open, with proposed specialties nobody confirmed yet."""

    def __post_init__(self) -> None:
        # Kept as fields, not properties: every hook of a case's lifecycle reads them.
        object.__setattr__(self, "is_open", self.status == OPEN)
        object.__setattr__(self, "awaiting_tag", self.is_open and self.tag_source == SUGGESTED)

    @classmethod
    def from_row(cls, row: Any) -> Case:
        values = dict(row)
        for name in LISTS:
            values[name] = tuple(filter(None, values[name].split(",")))
        return cls(**values)



@dataclass(frozen=True, slots=True)
class ChartFigures:
    """What the `!stats` chart draws, for cases opened in the period."""

    per_day: list[tuple[int, int]]
    """(UTC day: days since 1970-01-01, cases opened), oldest first, days without none."""
    first_answer: list[tuple[str, float, int]]
    """(specialty id or "" for unclassified, median delay to the first answer in seconds,
    within its `CHART_STEPS` class, answered cases), most answered first."""


def redaction_applies(room: RoomInfo, redaction: Redaction, author: str) -> bool:
    """Whether the homeserver applies `redaction` to a message by `author`: sent by its
    author, or by a member (the bot too) holding the room's redact power."""
    return (redaction.sender == author
            or room.power_level(redaction.sender) >= room.power_redact)
