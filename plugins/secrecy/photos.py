"""6. Photos of a case's thread: checked in the lane (metadata, faces, written identifiers),
warned about; `!clean` posts a cleaned copy of a flagged one."""

from __future__ import annotations

from bot.content import Rich, fill
from bot.events import Attachment, Message
from bot.plugin import Context, Refusal, command, on
from plugins.cases.events import CaseReplied
from plugins.secrecy.base import SecrecyBase
from plugins.secrecy.events import PhotoCleaned, PhotoClear
from plugins.secrecy.flags import Flag, target
from plugins.secrecy.photo import worth_reading
from plugins.secrecy.words import kinds_text

CLEAN_COMMANDS = ("clean", "nettoyer")


class Photos(SecrecyBase):
    @on(CaseReplied)
    async def photo_replied(self, ctx: Context, event: CaseReplied) -> None:
        """Queue a photo's check (`PhotoLane`: off the loop and behind the room's events);
        when the poster has too many photos waiting, say once that the next ones are not
        checked."""
        photo = event.event
        if not isinstance(photo, Attachment) or not worth_reading(photo):
            return
        root = event.case.root_event_id
        key = (photo.room_id, photo.sender)
        if self.lane.submit(photo.sender, lambda: self._check_photo(ctx, photo, root)):
            return
        if key not in self.overflowing:
            self.overflowing.add(key)
            await ctx.in_thread_of(root).reply(fill(
                ctx.t("secrecy.photo.busy"), poster=ctx.pill(photo.sender, notify=True)))

    async def _check_photo(self, ctx: Context, event: Attachment, root: str) -> None:
        """A warning (kinds only) that `!redact` and `!clean` answer."""
        if not self.lane.waiting(event.sender):
            self.overflowing.discard((event.room_id, event.sender))
        if self.flags.gone(ctx.room, event):
            return
        kinds = (await self.lane.inspect(event)).kinds
        if not kinds:
            await ctx.publish(PhotoClear(event, root))
            return
        await self.count(ctx.room_id, kinds)
        warning = await ctx.in_thread_of(root).reply(
            Rich.of(
                fill(
                    ctx.t("secrecy.photo"), kinds=kinds_text(ctx, kinds),
                    poster=ctx.pill(event.sender, notify=True),
                ),
                ctx.t("secrecy.rule"),
                ctx.t("secrecy.photo.fix", prefix=ctx.prefix),
            )
        )
        self.flags.remember(event.event_id, Flag(ctx.room_id, root, event.sender,
                                                 frozenset(kinds), warning, photo=event))

    async def stop(self) -> None:
        await self.lane.stop()

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
        if not self.lane.submit(event.sender, lambda: self._send_clean(ctx, flag)):
            raise Refusal(ctx.t("secrecy.clean.busy", prefix=ctx.prefix))

    async def _send_clean(self, ctx: Context, flag: Flag) -> None:
        """`!clean`'s work, in the lane (a 50-MP photo takes seconds: not in the handler)."""
        assert flag.photo is not None
        cleaned = await self.lane.clean(flag.photo)
        if cleaned is None:
            await ctx.reply(ctx.t("secrecy.clean.failed", prefix=ctx.prefix))
            return
        size = (cleaned.width, cleaned.height)
        copy = await ctx.send_file(cleaned.data, ctx.t("secrecy.clean.filename"),
                                   cleaned.mimetype, image_size=size)
        done = PhotoCleaned(ctx.room_id, flag.root, flag.sender, copy, cleaned.data,
                            cleaned.mimetype, size)
        await ctx.publish(done)
        await ctx.reply(fill(ctx.t("secrecy.clean.done"), regions=cleaned.blurred,
                             prefix=ctx.prefix, poster=ctx.pill(flag.sender, notify=True)))
