"""6. Photos of a case's thread: checked in the core's lane (`bot.lane`: one at a time, off the
loop, behind the room's events; metadata, faces, written identifiers), warned about; `!clean`
posts a cleaned copy of a flagged one."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.content import Rich, fill
from bot.events import Attachment, DownloadFailed, Message
from bot.lane import Job
from bot.plugin import Context, Refusal, command, on
from plugins.cases.events import CaseReplied
from plugins.secrecy.base import SecrecyPart
from plugins.secrecy.events import PhotoCleaned, PhotoClear
from plugins.secrecy.flags import Flag, target
from plugins.secrecy.photo import (
    MAX_PHOTO,
    CleanPhoto,
    clean,
    inspect,
    worth_reading,
)
from plugins.secrecy.words import kinds_text

CLEAN_COMMANDS = ("clean", "nettoyer")


class Photos(SecrecyPart):
    def __init__(self, *shared: Any) -> None:
        super().__init__(*shared)
        self.overflowing: set[tuple[str, str]] = set()
        """(room, member) told that their next photos are not checked, until their jobs
        waiting in the lane are done."""

    @on(CaseReplied)
    async def photo_replied(self, ctx: Context, event: CaseReplied) -> None:
        """Queue a photo's check in the lane; when the poster has too many jobs waiting, say
        once that the next photos are not checked."""
        photo = event.event
        if not isinstance(photo, Attachment) or not worth_reading(photo):
            return
        root = event.case.root_event_id
        key = (photo.room_id, photo.sender)
        if self.bot.lane.submit(Job(self.name, "photo.check", photo.sender, photo.room_id,
                                    photo.event_id, root,
                                    lambda job_ctx: self._check_photo(job_ctx, photo, root))):
            return
        if key not in self.overflowing:
            self.overflowing.add(key)
            await ctx.in_thread_of(root).reply(fill(
                ctx.t("secrecy.photo.busy"), poster=ctx.pill(photo.sender, notify=True)))

    async def _check_photo(self, ctx: Context, event: Attachment, root: str) -> None:
        """A warning (kinds only) that `!redact` and `!clean` answer; `ctx` answers in the
        case's thread. Run again after an outage: the warning keeps its transaction id."""
        if not self.bot.lane.waiting(event.sender):
            self.overflowing.discard((event.room_id, event.sender))
        if self.flags.gone(ctx.room, event):
            return
        data = await self._bytes(event)
        if data is None:  # gone, or bigger than it claimed
            return
        found = await asyncio.to_thread(inspect, data)  # the event loop decodes no pixel
        kinds = found.kinds
        if not kinds:
            await ctx.tell(PhotoClear(event, root, data, found.size))
            return
        warning = await ctx.reply(
            Rich.of(
                fill(
                    ctx.t("secrecy.photo"), kinds=kinds_text(ctx, kinds),
                    poster=ctx.pill(event.sender, notify=True),
                ),
                ctx.t("secrecy.rule"),
                ctx.t("secrecy.photo.fix", prefix=ctx.prefix),
            )
        )
        await self.count(ctx.room_id, kinds)  # after the warning: a retry counts once
        self.flags.remember(event.event_id, Flag(ctx.room_id, root, event.sender,
                                                 frozenset(kinds), warning, photo=event))

    async def _bytes(self, attachment: Attachment) -> bytes | None:
        try:
            return await self.bot.download(attachment, MAX_PHOTO)
        except DownloadFailed:  # bigger than it claimed, or gone
            return None

    async def _clean(self, attachment: Attachment) -> CleanPhoto | None:
        """A cleaned copy of the photo (None: gone, or not an image we read)."""
        data = await self._bytes(attachment)
        return None if data is None else await asyncio.to_thread(clean, data)

    @command(*CLEAN_COMMANDS, summary="secrecy.clean.summary")
    async def clean(self, ctx: Context) -> None:
        """A cleaned copy of a flagged photo of the thread (the one replied to, else the
        sender's latest; a moderator may clean anyone's), posted encrypted in the thread."""
        event = ctx.event
        assert isinstance(event, Message)
        root = event.thread_root
        photos = self.flags.in_thread(event.room_id, root, photos=True)
        found = target(event, photos, ctx.is_admin()) if root else None
        if found is None:
            raise Refusal(ctx.t("secrecy.clean.nothing"))
        flag = dict(photos)[found]
        if not self.bot.lane.submit(Job(self.name, "photo.clean", event.sender, event.room_id,
                                        event.event_id, root,
                                        lambda job_ctx: self._send_clean(job_ctx, flag))):
            raise Refusal(ctx.t("secrecy.clean.busy", prefix=ctx.prefix))

    async def _send_clean(self, ctx: Context, flag: Flag) -> None:
        """`!clean`'s work, in the lane (a 50-MP photo takes seconds: not in the handler)."""
        assert flag.photo is not None
        cleaned = await self._clean(flag.photo)
        if cleaned is None:
            await ctx.reply(ctx.t("secrecy.clean.failed", prefix=ctx.prefix))
            return
        size = (cleaned.width, cleaned.height)
        copy = await ctx.send_file(cleaned.data, ctx.t("secrecy.clean.filename"),
                                   cleaned.mimetype, image_size=size)
        done = PhotoCleaned(ctx.room_id, flag.root, flag.sender, copy, cleaned.data,
                            cleaned.mimetype, size)
        await ctx.tell(done)
        await ctx.reply(fill(ctx.t("secrecy.clean.done"), regions=cleaned.blurred,
                             prefix=ctx.prefix, poster=ctx.pill(flag.sender, notify=True)))
