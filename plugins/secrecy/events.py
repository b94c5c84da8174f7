"""What the secrecy feature asks other features (data flows one way: they subscribe).

`RulesLines` is asked (`ctx.ask`) when the room's rules are shown — `!rules`, `!rules pin` and the
reminder under a member's first case (`first_case`) — and each hook returns lines (tuples of
parts) shown after the secrecy rules (the trust feature's conduct charter).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.content import Part
from bot.events import Query


@dataclass(frozen=True, slots=True)
class RulesLines(Query[list[tuple[Part, ...]]]):
    """The rules are being shown in `room_id`; hooks return lines to add after them."""

    answers: ClassVar[type] = list

    room_id: str
    first_case: bool
