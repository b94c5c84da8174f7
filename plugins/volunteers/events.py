"""What the volunteers feature asks other features (data flows one way: they subscribe).

`VolunteerMarks` is asked (`ctx.ask`) before a round is chosen and before volunteers are named (the
page, `!volunteers`): each hook returns a `Marks` for the given users — who must not be
paged in this room, and a short sign shown after a name (the trust feature's ✔ for verified
physicians). No hook: nobody is skipped, no sign.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from bot.content import Part
from bot.events import Query


@dataclass(frozen=True, slots=True)
class Marks:
    skip: frozenset[str] = frozenset()
    """Users not to page in this room."""
    signs: Mapping[str, Part] = field(default_factory=dict)
    """A sign shown after a user's name (e.g. trust's bold `✔`)."""


@dataclass(frozen=True, slots=True)
class VolunteerMarks(Query[Marks]):
    """Volunteers is about to page or name `users` in `room_id`: hooks return a `Marks`."""

    answers: ClassVar[type] = Marks

    room_id: str
    users: tuple[str, ...]
