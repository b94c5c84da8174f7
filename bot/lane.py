"""The lane: background work about an event (a photo's check, `!clean`'s copy), run behind
the event handlers, one job at a time, under the same contract as a handler.

A job is queued (`submit`) and runs in the lane's own task: the room's events, and the sync
batch every room waits for, go on meanwhile. One job at a time, so that at most one heavy
piece of work (a photo downloaded, decoded and run through the models) holds memory at once.
The queue is bounded per member (`PER_MEMBER`) and in all (`WAITING`), and its turns go round
the members, so one member's burst neither grows memory nor delays another member's job.

A job records what its `Context` is built from (room, thread, source event), never a
`Context`: the App builds one when the job runs (`Dispatcher.run_job`), with transaction ids
of its own, the same on every try. A failure is logged and answered in the room with a
reference; an outage (database, homeserver: `Unavailable`) pauses the lane and the same job
runs again once the service is back; a job whose room the bot left is dropped. Jobs waiting
are in memory only: a restart forgets them.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.events import NotInRoom, Unavailable
from bot.logs import report_exception

log = logging.getLogger(__name__)

PER_MEMBER = 20
"""Jobs of one member waiting at most (the one running not counted); more are refused."""
WAITING = 200
"""Jobs waiting in all at most (every member's)."""
RETRY_FIRST = 1.0
RETRY_MAX = 60.0
"""Seconds the lane waits after an outage before trying the same job again (doubling)."""


@dataclass(frozen=True, slots=True)
class Job:
    """One piece of background work about an event, and what its `Context` is made from."""

    owner: str
    """The plugin's name."""
    name: str
    """What the job is (`photo.check`): in the logs, the metrics and its transaction ids."""
    member: str
    """Whose turn it takes (the member whose message asked for it)."""
    room_id: str
    event_id: str
    """The event it is about: its answers are replies to it (or in `thread_root`)."""
    thread_root: str | None
    work: Callable[[Any], Awaitable[None]]
    """`async def work(ctx)`, given the job's `Context`: hold data, not a `Context`."""


class Lane:
    """The App's lane; `run` runs one job under the guard (`Dispatcher.run_job`)."""

    def __init__(self, run: Callable[[Job], Awaitable[None]]) -> None:
        self._run_job = run
        self._waiting: OrderedDict[str, deque[Job]] = OrderedDict()
        self._count = 0
        self._worker: asyncio.Task[None] | None = None

    def submit(self, job: Job) -> bool:
        """Queue `job` after its member's other waiting ones; False, and not queued, when
        that member or the lane has too many waiting."""
        queue = self._waiting.get(job.member)
        if self._count >= WAITING or (queue is not None and len(queue) >= PER_MEMBER):
            return False
        self._waiting.setdefault(job.member, deque()).append(job)
        self._count += 1
        if self._worker is None or self._worker.done():
            # A context of its own: not the event's that queued the job (its deferred writes,
            # its transaction), which a task would inherit.
            self._worker = asyncio.create_task(self._run(), context=contextvars.Context())
        return True

    def waiting(self, member: str) -> int:
        """How many of `member`'s jobs wait (the one running not counted)."""
        return len(self._waiting.get(member, ()))

    async def _run(self) -> None:
        """The jobs, one at a time, one per member in turn (a member's next job goes to the
        back of the round); after an outage, the same job again, first."""
        pause = RETRY_FIRST
        while self._waiting:
            member, queue = self._waiting.popitem(last=False)
            job = queue.popleft()
            self._count -= 1
            if queue:
                self._waiting[member] = queue
            try:
                await self._run_job(job)
            except Unavailable as exc:
                if pause == RETRY_FIRST:
                    log.error("lane paused: %s", exc.reason)
                self._waiting.setdefault(member, deque()).appendleft(job)
                self._waiting.move_to_end(member, last=False)
                self._count += 1
                await asyncio.sleep(pause)
                pause = min(RETRY_MAX, pause * 2)
                continue
            except NotInRoom:
                log.info("%s.%s dropped: the bot is no longer in its room", job.owner, job.name)
            except Exception as exc:  # the guard's own failure: the lane goes on
                report_exception(log, f"lane {job.owner}.{job.name}", exc)
            if pause > RETRY_FIRST:
                log.info("lane resumed")
                pause = RETRY_FIRST

    async def idle(self) -> None:
        """Return once every queued job has run."""
        while self._worker is not None and not self._worker.done():
            await asyncio.shield(self._worker)

    async def stop(self) -> None:
        """Drop the waiting jobs and stop the running one."""
        self._waiting.clear()
        self._count = 0
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
