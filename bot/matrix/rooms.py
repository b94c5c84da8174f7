"""One `RoomInfo` per room, kept from sync and rebuilt only when the room's state changed.

nio keeps the room model (membership, power levels, join rules, names…) and applies each
response to it; this cache keeps what nio does not (pinned events, room creators) and the
`RoomInfo` built from both. A room's entry is dropped whenever a response that can touch its
state or membership is applied (`observe`, told by `GuardedClient` before and after nio applies
it), or when the bot writes its pins; `room()` rebuilds it on the next call. Everything else
(the messages of a batch, every `ctx.room` of a command) reads the same object.

Forged state cannot get in: nio's model only changes through `GuardedClient`, which applies
real state events only, and pins and creators are read from real state events only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from nio import JoinedMembersResponse, MatrixRoom, RoomForgetResponse, SyncResponse

from bot.events import RoomInfo
from bot.matrix.convert import is_real_state, pinned_events, room_creators, room_info


class RoomStates:
    """The room-state cache; `room(rooms, room_id)` reads it, responses and pins invalidate."""

    def __init__(self) -> None:
        self._pinned: dict[str, tuple[str, ...]] = {}
        self._creators: dict[str, tuple[str, ...]] = {}
        self._built: dict[str, tuple[MatrixRoom, RoomInfo]] = {}
        self.builds = 0
        """How many `RoomInfo`s were built (for tests and profiles)."""

    def room(self, rooms: Mapping[str, MatrixRoom], room_id: str) -> RoomInfo | None:
        """The room as the bot knows it, or None for a room it is not in."""
        nio_room = rooms.get(room_id)
        if nio_room is None:
            self._built.pop(room_id, None)
            return None
        cached = self._built.get(room_id)
        if cached is not None and cached[0] is nio_room:
            return cached[1]
        info = room_info(nio_room, self._pinned.get(room_id, ()),
                         self._creators.get(room_id, ()))
        self.builds += 1
        self._built[room_id] = (nio_room, info)
        return info

    def touch(self, room_ids: Iterable[str]) -> None:
        """These rooms' state may have changed: rebuild them on their next read."""
        for room_id in room_ids:
            self._built.pop(room_id, None)

    def set_pinned(self, room_id: str, pinned: Iterable[Any]) -> None:
        """The bot's own pins write (the next sync brings the same real state event)."""
        self._pinned[room_id] = tuple(pinned)
        self.touch((room_id,))

    def observe(self, response: Any, applied: bool) -> None:
        """Told of each response nio applies to its room model, before (`applied` False)
        and after: the rooms it can change are dropped both times, so a read while nio is
        half-way through cannot stay cached; once applied, pins and creators are noted."""
        if isinstance(response, SyncResponse):
            self.touch(sync_touched(response))
            if applied:
                self._note_sync(response)
                for room_id in response.rooms.leave.keys() - response.rooms.join.keys():
                    self._pinned.pop(room_id, None)  # the room is forgotten (`GuardedClient`)
                    self._creators.pop(room_id, None)
        elif isinstance(response, (JoinedMembersResponse, RoomForgetResponse)):
            self.touch((response.room_id,))

    def _note_sync(self, response: SyncResponse) -> None:
        for room_id, info in response.rooms.join.items():
            for state_event in info.state:  # the state before the timeline comes first
                self._note(room_id, state_event.source or {}, decrypted=False)
            for nio_event in info.timeline.events:
                self._note(room_id, nio_event.source or {},
                           decrypted=bool(getattr(nio_event, "decrypted", False)))

    def _note(self, room_id: str, source: Mapping[str, Any], decrypted: bool) -> None:
        """Keep the state nio does not: pinned events and room creators (v12 power), from
        real state events only."""
        if not is_real_state(source, decrypted):
            return
        kind = source.get("type")
        if kind == "m.room.pinned_events":
            self._pinned[room_id] = pinned_events(source)
        elif kind == "m.room.create":
            self._creators[room_id] = room_creators(source)


def sync_touched(response: SyncResponse) -> set[str]:
    """The rooms whose state or membership a sync response may change: the rooms left, and
    the joined ones with a state section, a summary, or a timeline event that was a state
    event on the wire (only those reach nio's room model, see `GuardedClient`; an encrypted
    event never does)."""
    touched: set[str] = set(response.rooms.leave)
    for room_id, info in response.rooms.join.items():
        summary = info.summary
        if info.state or (summary is not None and (
                summary.joined_member_count is not None
                or summary.invited_member_count is not None or summary.heroes is not None)):
            touched.add(room_id)
            continue
        for event in info.timeline.events:
            source = getattr(event, "source", None)
            if isinstance(source, dict) and isinstance(source.get("state_key"), str):
                touched.add(room_id)
                break
    return touched
