"""Which messages and photos were flagged, in memory only: after a restart nothing is."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from bot.events import Attachment, Message, Redaction, RoomInfo
from plugins.cases.model import redaction_applies

MEMORY = 2000
"""How many flagged events (and redactions of unflagged ones) are remembered; the oldest are
forgotten first."""


@dataclass(slots=True)
class Flag:
    """One flagged event: where it is, who posted it, what kinds."""

    room_id: str
    root: str
    sender: str
    kinds: frozenset[str]
    warning: str | None = None
    photo: Attachment | None = None
    """The flagged photo itself (for `!clean`), None for a text."""


class Flags:
    def __init__(self) -> None:
        self._flags: OrderedDict[str, Flag] = OrderedDict()
        self._gone: OrderedDict[str, Redaction] = OrderedDict()
        """Redactions of events not flagged (yet): a photo deleted while it waits its turn."""

    def get(self, event_id: str) -> Flag | None:
        return self._flags.get(event_id)

    def remember(self, event_id: str, flag: Flag) -> None:
        self._flags[event_id] = flag
        self._flags.move_to_end(event_id)
        while len(self._flags) > MEMORY:
            self._flags.popitem(last=False)

    def forget(self, event_id: str) -> None:
        self._flags.pop(event_id, None)

    def in_thread(self, room_id: str, root: str | None,
                  photos: bool = False) -> list[tuple[str, Flag]]:
        """The thread's flagged events (only its photos when `photos`), oldest first."""
        return [(eid, f) for eid, f in self._flags.items()
                if f.room_id == room_id and f.root == root and (not photos or f.photo is not None)]

    def redacted(self, room: RoomInfo, redaction: Redaction) -> None:
        """A flagged message is forgotten once gone: the homeserver applies the redaction
        (its sender or a member with the redact power sent it). One not flagged is kept:
        maybe a photo waiting for its check, not checked once gone (`gone`)."""
        flag = self._flags.get(redaction.redacts)
        if flag is not None and redaction_applies(room, redaction, flag.sender):
            del self._flags[redaction.redacts]
        elif flag is None:
            self._gone[redaction.redacts] = redaction
            while len(self._gone) > MEMORY:
                self._gone.popitem(last=False)

    def gone(self, room: RoomInfo, event: Attachment) -> bool:
        """Whether `event` was deleted (by a redaction that applies) before its check."""
        redaction = self._gone.pop(event.event_id, None)
        return redaction is not None and redaction_applies(room, redaction, event.sender)


def target(event: Message, flagged: Sequence[tuple[str, Flag]], moderator: bool) -> str | None:
    """Which flagged message of the thread `!redact` (or `!clean`) acts on: the one `event`
    replies to, else the sender's latest; a moderator's, else the thread's latest."""
    if event.in_reply_to:
        for eid, flag in flagged:
            if eid == event.in_reply_to and (moderator or flag.sender == event.sender):
                return eid
    own = [eid for eid, f in flagged if f.sender == event.sender]
    if own:
        return own[-1]
    return flagged[-1][0] if moderator and flagged else None
