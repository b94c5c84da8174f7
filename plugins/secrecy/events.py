"""What the secrecy feature asks other features (data flows one way: they subscribe).

`RulesLines` is asked (`ctx.ask`) when the room's rules are shown — `!rules`, `!rules pin` and the
reminder under a member's first case (`first_case`) — and each hook returns lines (tuples of
parts) shown after the secrecy rules (the trust feature's conduct charter).

`PhotoClear` is published when a photo of a case's thread was checked and nothing was found,
`PhotoCleaned` when `!clean` posted a cleaned copy (its bytes, memory only): the only photos
the network feature copies into a linked thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.content import Part
from bot.events import Attachment, PluginEvent, Query


@dataclass(frozen=True, slots=True)
class RulesLines(Query[list[tuple[Part, ...]]]):
    """The rules are being shown in `room_id`; hooks return lines to add after them."""

    answers: ClassVar[type] = list

    room_id: str
    first_case: bool


@dataclass(frozen=True, slots=True)
class PhotoClear(PluginEvent):
    """`photo`, in the thread of the case on `root`, was checked: nothing found. `data` is
    its bytes as read for the check, `size` its (width, height) when it is an image secrecy
    reads (memory only)."""

    photo: Attachment
    root: str
    data: bytes
    size: tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class PhotoCleaned(PluginEvent):
    """`!clean` posted `event_id`, the cleaned copy of `sender`'s flagged photo, in the thread
    on `root`; `data` is that copy (memory only)."""

    room_id: str
    root: str
    sender: str
    event_id: str
    data: bytes
    mimetype: str
    size: tuple[int, int]
