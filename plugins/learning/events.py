"""What the learning feature asks other features (data flows one way: they subscribe).

`DigestLines` is asked (`ctx.ask`) while the weekly digest is drawn: each hook answers lines
of counts, added after the median delay (the network feature's one line).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.content import Part
from bot.events import Query


@dataclass(frozen=True, slots=True)
class DigestLines(Query[list[tuple[Part, ...]]]):
    """Drawing the weekly digest of `room_id` for [start, end): hooks answer lines."""

    answers: ClassVar[type] = list

    room_id: str
    start: float
    end: float
