"""Photos are checked and cleaned one at a time, in a worker thread, behind the event handlers.

One lane, so that at most one photo is downloaded, decoded and run through the models at once
(memory stays that of one photo: ≤ `MAX_PHOTO` bytes plus the decoded image and its
conversions) and the event loop never decodes a pixel. A photo's check, or `!clean`'s copy,
is queued (`submit`) and runs in the lane's own task: the room's events, and the sync batch
every room waits for, go on meanwhile (a check takes up to a second or two; inline, a member
posting 500 photos held every room for minutes). The queue is bounded per member
(`PER_SENDER`) and in all (`WAITING`), and its turns go round the members, so one member's
burst neither grows memory nor delays another member's photo. Photos waiting hold nothing but
their event; a restart forgets them (nothing of them is stored).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable

from bot.events import Attachment, DownloadFailed
from bot.logs import report_exception
from bot.plugin import BotAPI
from plugins.secrecy.photo import MAX_PHOTO, CleanPhoto, PhotoFindings, clean, inspect

log = logging.getLogger(__name__)

PER_SENDER = 20
"""Photos of one member waiting for their check at most; more are not checked."""
WAITING = 200
"""Photos waiting in all at most (every member's)."""

Job = Callable[[], Awaitable[None]]


class PhotoLane:
    def __init__(self, bot: BotAPI) -> None:
        self._bot = bot
        self._turn = asyncio.Lock()
        self._waiting: OrderedDict[str, deque[Job]] = OrderedDict()
        self._count = 0
        self._worker: asyncio.Task[None] | None = None

    def submit(self, sender: str, job: Job) -> bool:
        """Queue `job` (a photo's check) after `sender`'s other waiting ones; False, and
        not queued, when `sender` or the lane has too many waiting."""
        queue = self._waiting.get(sender)
        if self._count >= WAITING or (queue is not None and len(queue) >= PER_SENDER):
            return False
        self._waiting.setdefault(sender, deque()).append(job)
        self._count += 1
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run())
        return True

    def waiting(self, sender: str) -> int:
        """How many of `sender`'s photos wait for their check."""
        return len(self._waiting.get(sender, ()))

    async def _run(self) -> None:
        """The jobs, one at a time, one per member in turn (a member's next job goes to the
        back of the round)."""
        while self._waiting:
            sender, queue = self._waiting.popitem(last=False)
            job = queue.popleft()
            self._count -= 1
            if queue:
                self._waiting[sender] = queue
            try:
                await job()
            except Exception as exc:  # one photo's failure stops no other
                report_exception(log, "secrecy.photo", exc)

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

    async def _bytes(self, attachment: Attachment) -> bytes | None:
        try:
            return await self._bot.download(attachment, MAX_PHOTO)
        except DownloadFailed:  # bigger than it claimed, or gone
            return None

    async def inspect(self, attachment: Attachment) -> PhotoFindings:
        """What identifies the patient in the photo (nothing when it cannot be downloaded)."""
        async with self._turn:
            data = await self._bytes(attachment)
            return PhotoFindings() if data is None else await asyncio.to_thread(inspect, data)

    async def clean(self, attachment: Attachment) -> CleanPhoto | None:
        """A cleaned copy of the photo (None: gone, or not an image we read)."""
        async with self._turn:
            data = await self._bytes(attachment)
            return None if data is None else await asyncio.to_thread(clean, data)
