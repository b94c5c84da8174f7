"""How many knocks the moderators are shown: a knocker cannot flood them.

A member's knocks on one room are shown once an hour, a member's knocks on at most
`KNOCKS_PER_USER` rooms an hour, and at most `KNOCKS_PER_ROOM` knocks per room an hour; the
first knock past a room's limit is replaced by one line saying that further knocks are not
shown (the room's member list still has them). Kept in memory: a restart starts afresh.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Literal

KNOCK_PERIOD = 3600.0
KNOCKS_PER_USER = 3
KNOCKS_PER_ROOM = 10


class Window:
    """At most `limit` takes per key over the last `period` seconds. Memory holds only the
    keys taken within the period, and each take costs amortized constant time."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self._times: OrderedDict[str, deque[float]] = OrderedDict()
        """Each key's take times, keys in the order of their latest take."""

    def take(self, key: str, now: float) -> bool:
        """Count one for `key` now; False (and nothing counted) when it is at its limit."""
        start = now - self.period
        while self._times:  # forget the keys not taken within the period
            oldest = next(iter(self._times.values()))
            if oldest[-1] > start:
                break
            self._times.popitem(last=False)
        times = self._times.get(key)
        if times is None:
            times = self._times[key] = deque()
        while times and times[0] <= start:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        self._times.move_to_end(key)
        return True

    def __len__(self) -> int:
        return len(self._times)


class KnockThrottle:
    """Which knocks are shown, per knocker, per knocker and room, and per room."""

    def __init__(self, per_user: int = KNOCKS_PER_USER, per_room: int = KNOCKS_PER_ROOM,
                 period: float = KNOCK_PERIOD) -> None:
        self.again = Window(1, period)
        self.users = Window(per_user, period)
        self.rooms = Window(per_room, period)
        self.floods = Window(1, period)

    def knock(self, room_id: str, user_id: str,
              now: float) -> Literal["show", "flood", "quiet"]:
        """`show` the knock, say once that the room's knocks `flood` (and stop showing them
        for a while), or stay `quiet`."""
        if not self.again.take(f"{room_id}\x1f{user_id}", now):
            return "quiet"
        if not self.users.take(user_id, now):
            return "quiet"
        if self.rooms.take(room_id, now):
            return "show"
        return "flood" if self.floods.take(room_id, now) else "quiet"
