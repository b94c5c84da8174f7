"""The core's lane (`bot/lane.py`): background work runs on its own, not as part of the event
that queued it."""

from __future__ import annotations

from bot.lane import Job
from bot.plugin import Context
from bot.testing import Harness

ROOM = "!room:test"


async def test_a_jobs_writes_are_not_held_for_the_next_event() -> None:
    """A job queued while an event is handled ran with the event's deferred writes on: its
    `execute_later` waited for some later statement of any task (the lane's task was created
    inside the event's `deferring` block and inherited it)."""
    async with Harness([]) as h:
        h.add_room(ROOM, members=["@alice:test"])
        await h.db.execute("CREATE TABLE seen (n INTEGER)")
        pending: list[int] = []

        async def work(ctx: Context) -> None:
            await h.db.execute_later("INSERT INTO seen (n) VALUES (1)")
            pending.append(len(h.db._pending))

        with h.db.deferring():  # as while an event is handled
            h.app.lane.submit(Job("test", "write", "@alice:test", ROOM, "$ev", None, work))
        await h.app.lane.idle()
        assert pending == [0]  # written at once, as anywhere outside an event
