"""`!report`: a member tells the moderators about a message, and only the moderators learn it.

A report names its reporter, so it goes where the reported member cannot read it: the room's
moderation room when the message's author is not in it, else an encrypted direct room with
each moderator of the room (never the author, nor the reporter), else, when the room has no
other moderator, with each of the bot's admins named by a full id. The `!report` command is
deleted from the room when the bot may (the reporter is told when it may not), and every
answer goes to the reporter's direct room: the bot says nothing of a report in the room.
Members who want nobody to see even the command for an instant send it in their direct room
with the bot, with the message's link (Element: "Share" / "Copy link"): `!report <link>
[reason]`; the link must name a room the bot and the reporter are in.

A report must name an event the homeserver has in that room (an invented id is refused
without a word to anyone), a member reports one event once, and at most `REPORTS_PER_HOUR`
events an hour (counted in the database, over every room).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

from bot.content import Link, Part, Pill, Rich, fill, permalink
from bot.events import Message
from bot.plugin import BotAPI, Context, command
from bot.router import Rest
from bot.text import shorten
from plugins.trust.commands import MAX_REASON, Verification, one_line
from plugins.trust.store import TrustStore

log = logging.getLogger(__name__)

REPORTS_PER_HOUR = 5
"""Reports one member may make in an hour; beyond, they are refused (nobody is told)."""
REPORT_WINDOW = 3600.0
_PERMALINK = re.compile(r"https://matrix\.to/#/([^/?\s]+)/([^/?\s]+)\S*(?:\s+|$)")
"""A message's matrix.to link (room id or alias, event id), as Element copies it."""


class Reports:
    """The `!report` handler; the room's moderation room comes from `Verification`."""

    def __init__(self, bot: BotAPI, store: TrustStore, verification: Verification) -> None:
        self.bot = bot
        self.store = store
        self.verification = verification

    @command("report", "signaler", args=(Rest("reason", optional=True),),
             summary="trust.report.summary")
    async def report(self, ctx: Context, reason: str | None) -> None:
        event = ctx.event
        assert isinstance(event, Message)
        hidden = await self._hide(ctx, event.sender)
        linked = _PERMALINK.match(reason or "")
        if linked is None:
            answer = await self._report(ctx, event.sender, event.in_reply_to or event.thread_root,
                                        reason)
        else:
            answer = await self._linked(ctx, event.sender, unquote(linked[1]),
                                        unquote(linked[2]), (reason or "")[linked.end():])
        lines = [answer] if hidden else [answer, (ctx.t("trust.report.not_hidden"),)]
        private = await ctx.direct(event.sender)
        await private.send(Rich(tuple(lines)), in_thread=False)

    async def _hide(self, ctx: Context, reporter: str) -> bool:
        """Delete the command from the room (it shows who reports whom, and why); False when
        the bot may not. Nothing to hide in a room the reporter shares with the bot alone."""
        if ctx.room.members <= {self.bot.user_id, reporter}:
            return True
        return await ctx.redact(ctx.event.event_id, "")

    async def _linked(self, ctx: Context, reporter: str, room: str, target: str,
                      reason: str) -> tuple[Part, ...]:
        """A report by link: on a room the bot and the reporter are both in (else, as for
        an event that is not there, nothing tells whether the room exists)."""
        room_id = await self.bot.resolve_alias(room) if room.startswith("#") else room
        if (room_id is None or room_id not in self.bot.room_ids()
                or reporter not in self.bot.room(room_id).members):
            return (ctx.t("trust.report.not_found"),)
        return await self._report(ctx.in_room(room_id), reporter, target, reason)

    async def _report(self, ctx: Context, reporter: str, target: str | None,
                      reason: str | None) -> tuple[Part, ...]:
        """Tell the moderators of `ctx`'s room about `target`; what the reporter is answered."""
        room_id = ctx.room_id
        if target is None:
            return (ctx.t("trust.report.where", prefix=ctx.prefix),)
        now = self.bot.now()
        if await self.store.reports_by(reporter, now - REPORT_WINDOW) >= REPORTS_PER_HOUR:
            return (ctx.t("trust.report.throttled", count=REPORTS_PER_HOUR),)
        author = await self.bot.event_sender(room_id, target)
        if author is None:
            return (ctx.t("trust.report.not_found"),)
        moderation_room, moderators = await self.recipients(ctx, author, reporter)
        if moderation_room is None and not moderators:
            return (ctx.t("trust.report.nobody"),)
        if not await self.store.report(room_id, target, reporter, now):
            return (ctx.t("trust.report.twice"),)
        log.info("report in %s", room_id)
        room = ctx.room
        where = Link(permalink(room_id), one_line(room.name or room.canonical_alias or room_id))
        reason = one_line(reason or "").strip()
        lines = Rich((
            fill(ctx.t("trust.report.title"),
                 who=Pill(reporter, one_line(room.display_name(reporter)), False)),
            fill(ctx.t("trust.report.room"), room=where),
            fill(ctx.t("trust.report.event"), link=Link(permalink(room_id, target),
                                                         ctx.t("trust.report.link"))),
            fill(ctx.t("trust.report.author"),
                 who=Pill(author, one_line(room.display_name(author)), False)),
            fill(ctx.t("trust.report.reason"), reason=shorten(reason, MAX_REASON))
            if reason else (ctx.t("trust.report.no_reason"),),
        ))
        try:
            if moderation_room is not None:
                await ctx.in_room(moderation_room).send(lines, in_thread=False)
            for moderator in moderators:
                await (await ctx.direct(moderator)).send(lines, in_thread=False)
        except Exception:  # not told: the member may report again
            await self.store.unreport(room_id, target, reporter)
            raise
        return fill(ctx.t("trust.report.done"), room=where)

    async def recipients(self, ctx: Context, author: str,
                         reporter: str) -> tuple[str | None, list[str]]:
        """Where a report on `author`'s message in `ctx`'s room goes: the moderation room when
        they are not in it, else the moderators to tell in direct rooms (maybe none)."""
        moderation_room = await self.verification.moderation_room(ctx.room_id)
        if moderation_room is not None and author not in self.bot.room(moderation_room).members:
            return moderation_room, []
        skip = {author, reporter, self.bot.user_id}
        moderators = [u for u in ctx.moderators() if u not in skip]
        if not moderators:  # the operator's people, when the room has nobody else
            moderators = sorted(self.verification.reachable_admins(author, reporter))
        return None, moderators
