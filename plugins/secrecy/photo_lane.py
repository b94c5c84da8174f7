"""Photos are checked and cleaned one at a time, in a worker thread.

One lane, so that at most one photo is downloaded, decoded and run through the models at once
(memory stays that of one photo, ≤ `MAX_PHOTO` bytes plus one decoded image) and the event loop
never decodes a pixel. Photos arriving meanwhile wait their turn holding nothing but their event.
"""

from __future__ import annotations

import asyncio

from bot.events import Attachment, DownloadFailed
from bot.plugin import BotAPI
from plugins.secrecy.photo import MAX_PHOTO, CleanPhoto, PhotoFindings, clean, inspect


class PhotoLane:
    def __init__(self, bot: BotAPI) -> None:
        self._bot = bot
        self._turn = asyncio.Lock()

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
