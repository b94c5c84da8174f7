"""What the trust feature does: verification, reports, knocks, and the moderators it tells.

Moderators are the room's members with the room's admin power level (`admin_power_level`,
50 by default), read from the real power levels. They are reached in the room's
`trust.moderation_room` when it names an encrypted room the bot is in, else in a thread the
bot opens in the room itself, mentioning them. Nothing here copies a message's text; a
report's reason goes to the moderators and is not stored.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from bot.content import Link, Part, Pill, Rich, emoji_key, fill, permalink
from bot.events import MemberChange, Message, Reaction
from bot.plugin import BotAPI, Context, Refusal
from bot.text import shorten
from plugins.trust import rpps
from plugins.trust.directory import name_key, names_match
from plugins.trust.store import PENDING, REFUSED, VERIFIED, Entry, TrustStore

log = logging.getLogger(__name__)

APPROVE_KEYS = frozenset({emoji_key("✅"), emoji_key("✔️"), emoji_key("👍")})
REFUSE_KEYS = frozenset({emoji_key("❌"), emoji_key("👎")})
MAX_REASON = 300
"""A report's reason or a knock's message is shown cut to this many characters."""
_NUMBER = re.compile(r"(?<!\d)\d(?:[ .]{0,2}\d){10}(?!\d)")
"""Eleven digits, maybe grouped by spaces or dots (a phone number after it is not part of it)."""
_LINE_BREAKERS = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")


def one_line(text: str) -> str:
    """A name or reason a member chose, on one line: line breaks, control and bidi characters
    become a space, so it cannot forge lines of what the bot tells the moderators."""
    return _LINE_BREAKERS.sub(" ", text)


@dataclass(frozen=True, slots=True)
class TrustConfig:
    policy: Literal["open", "verified"] = "open"
    """`verified`: only verified members open cases and are paged; knocks are shown."""
    moderation_room: str = ""
    """An encrypted room the bot is in (id or alias) where moderators are told; empty: a
    thread in the room itself."""
    charter: bool = True
    """Show the conduct charter with the rules."""
    charter_text: str = ""
    """The room's own charter (every language); empty: the built-in one."""
    verified_servers: tuple[str, ...] = ()
    """Homeservers whose accounts are verified at login (e.g. Pro Santé Connect)."""


class Trust:
    """The handlers behind the trust plugin's declarations."""

    def __init__(self, bot: BotAPI, store: TrustStore, config: TrustConfig,
                 config_for: Callable[[str], TrustConfig]) -> None:
        self.bot = bot
        self.store = store
        self.verified_servers = frozenset(config.verified_servers)
        self.config_for = config_for

    # ---- who is what -------------------------------------------------------------------------
    def server_verified(self, user_id: str) -> bool:
        server = user_id.partition(":")[2]
        return server in self.verified_servers

    def is_verified(self, user_id: str) -> bool:
        return user_id in self.store.verified or self.server_verified(user_id)

    def strict(self, room_id: str) -> bool:
        return self.config_for(room_id).policy == "verified"

    def is_moderator(self, room_id: str, user_id: str) -> bool:
        return (user_id != self.bot.user_id
                and (self.bot.room(room_id).power_level(user_id) >= self.bot.admin_level(room_id)
                     or self.bot.is_bot_admin(user_id)))

    def moderators(self, room_id: str) -> list[str]:
        level = self.bot.admin_level(room_id)
        room = self.bot.room(room_id)
        return sorted(u for u in room.members
                      if u != self.bot.user_id and room.power_level(u) >= level)

    def moderation_room(self, room_id: str) -> str | None:
        """The room's moderation room when it is usable: encrypted, and the bot is in it."""
        wanted = self.config_for(room_id).moderation_room.strip()
        if not wanted:
            return None
        for candidate in self.bot.room_ids():
            info = self.bot.room(candidate)
            if wanted in (candidate, info.canonical_alias):
                if info.encrypted and self.bot.user_id in info.members:
                    return candidate
                break
        log.warning("moderation room of %s unusable (unknown, not encrypted or bot absent)",
                    room_id)
        return None

    async def tell_moderators(self, ctx: Context, lines: list[tuple[Part, ...]],
                              thread_root: str | None = None) -> tuple[str, str]:
        """Send `lines` to the room's moderators; the (room, event) of the message.

        In the moderation room: one message naming the room. Otherwise in the room: in the
        thread on `thread_root`, or in a thread the bot opens, mentioning the moderators.
        """
        room_id = ctx.room_id
        target = self.moderation_room(room_id)
        if target is not None:
            where = fill(ctx.t("trust.request.room"), room=Link(
                permalink(room_id), ctx.room.name or ctx.room.canonical_alias or room_id))
            elsewhere = ctx.in_room(target)
            return target, await elsewhere.send(Rich((*lines, where)), in_thread=False)
        if thread_root is None:
            thread_root = await ctx.send(ctx.t("trust.moderators.root"), in_thread=False)
        mods = self.moderators(room_id)
        who: list[Part] = [ctx.t("trust.request.for")]
        for i, user in enumerate(mods):
            who.extend((", " if i else "", Pill(user, one_line(ctx.room.display_name(user)),
                                                True)))
        if not mods:
            who.append(ctx.t("trust.no_moderator"))
        unusable = ([(ctx.t("trust.moderation_room.unusable"),)]
                    if self.config_for(room_id).moderation_room.strip() else [])
        return room_id, await ctx.in_thread_of(thread_root).send(
            Rich((*lines, tuple(who), *unusable)))

    def entry_text(self, ctx: Context, entry: Entry) -> str:
        text = ctx.t("trust.entry", last=entry.last_name, first=entry.first_name,
                     profession=entry.profession)
        return f"{text}, {entry.specialty}" if entry.specialty else text

    # ---- verification ------------------------------------------------------------------------
    async def verify(self, ctx: Context, number: str | None) -> None:
        sender = ctx.event.sender
        if not number:
            await ctx.reply(await self._status(ctx, sender))
            return
        number = rpps.clean(number)
        if not rpps.shape_ok(number):
            raise Refusal(ctx.t("trust.rpps.shape", prefix=ctx.prefix))
        if not rpps.luhn_ok(number):
            raise Refusal(ctx.t("trust.rpps.key"))
        if self.is_verified(sender):
            raise Refusal(ctx.t("trust.status.server" if self.server_verified(sender)
                                else "trust.already"))
        entry = await self.store.entry(number)
        if entry is None:
            raise Refusal(ctx.t("trust.not_found", count=await self.store.directory_size()))
        record = await self.store.record(sender)
        if record is not None and record.status == PENDING:  # one request at a time
            raise Refusal(ctx.t("trust.status.pending_again", prefix=ctx.prefix))
        holder = await self.store.holder(number)
        if holder is not None and holder != sender:
            raise Refusal(ctx.t("trust.taken"))
        await self.store.request(sender, number, ctx.room_id, ctx.thread_root or ctx.event.event_id,
                                 self.bot.now())
        display = one_line(ctx.room.display_name(sender))
        lines = [
            fill(ctx.t("trust.request.title"), who=Pill(sender, display, False)),
            fill(ctx.t("trust.request.found"), entry=self.entry_text(ctx, entry)),
            (ctx.t("trust.request.match" if names_match(display, entry.first_name,
                                                        entry.last_name)
                   else "trust.request.mismatch"),),
            fill(ctx.t("trust.request.how"), prefix=ctx.prefix, user=sender),
        ]
        try:
            notice_room, notice = await self.tell_moderators(
                ctx, lines, ctx.thread_root or ctx.event.event_id)
        except Exception:  # not told: the member may ask again
            await self.store.forget(sender)
            raise
        await self.store.noticed(sender, notice_room, notice)
        await ctx.reply(ctx.t("trust.requested"))

    async def _status(self, ctx: Context, user_id: str) -> str:
        if self.server_verified(user_id):
            return ctx.t("trust.status.server")
        record = await self.store.record(user_id)
        status = record.status if record else None
        key = {PENDING: "trust.status.pending", VERIFIED: "trust.status.verified",
               REFUSED: "trust.status.refused"}.get(status or "", "trust.status.none")
        return ctx.t(key, prefix=ctx.prefix)

    async def decide(self, ctx: Context, user_id: str, status: str, by: str) -> None:
        """A moderator of the request's room approves or refuses it (command or reaction)."""
        record = await self.store.record(user_id)
        if record is None or record.status != PENDING:
            raise Refusal(ctx.t("trust.no_request"))
        if not self.is_moderator(record.room_id, by):
            raise Refusal(ctx.t("trust.not_moderator"))
        if by == user_id:  # a moderator's own request: someone else must check it
            raise Refusal(ctx.t("trust.not_yourself"))
        if status == VERIFIED and not (self.is_verified(by) or self.bot.is_bot_admin(by)):
            # Verification is global while any room's moderators grant it: only vouched-for
            # people vouch, or a moderator of a room of their own could verify a second account.
            raise Refusal(ctx.t("trust.approver_unverified", prefix=ctx.prefix))
        if not await self.store.decide(user_id, status, by, self.bot.now()):
            taken = status == VERIFIED and await self.store.holder(record.rpps) not in (
                None, user_id)  # one account per RPPS number
            raise Refusal(ctx.t("trust.taken" if taken else "trust.no_request"))
        log.info("verification of %s %s by %s", user_id, status, by)
        room = self.bot.room(record.room_id)
        said = fill(ctx.t("trust.approved" if status == VERIFIED else "trust.refused"),
                    who=Pill(user_id, one_line(room.display_name(user_id)), True),
                    by=one_line(room.display_name(by)))
        origin = ctx.in_room(record.room_id, record.request_event)
        await origin.send(said)
        if record.notice_room and record.notice_event and record.notice_room != record.room_id:
            await ctx.in_room(record.notice_room, record.notice_event).send(said)

    async def reaction(self, ctx: Context, event: Reaction) -> None:
        key = emoji_key(event.key)
        if key not in APPROVE_KEYS | REFUSE_KEYS:
            return
        record = await self.store.by_notice(event.relates_to)
        if record is None or record.status != PENDING or record.notice_room != event.room_id:
            return
        if not self.is_moderator(record.room_id, event.sender) or event.sender == record.user_id:
            return  # anyone may react; only another moderator's reaction decides
        await self.decide(ctx, record.user_id, VERIFIED if key in APPROVE_KEYS else REFUSED,
                          event.sender)

    async def forget(self, ctx: Context) -> None:
        erased = await self.store.forget(ctx.event.sender)
        await ctx.reply(ctx.t("trust.forgotten" if erased else "trust.nothing_to_forget"))

    async def left(self, event: MemberChange) -> None:
        """A member who shares no room with the bot any more: their record is erased."""
        if event.membership not in ("leave", "ban"):
            return
        user = event.user_id
        if any(user in self.bot.room(r).members for r in self.bot.room_ids()):
            return
        await self.store.forget_reporter(user)
        if await self.store.forget(user):
            log.info("erased the verification of a member who left every room")

    async def sweep(self) -> int:
        """Erase the records of members who share no room with the bot any more (they may
        have left while the bot was away longer than its catch-up); how many were erased."""
        rooms = self.bot.room_ids()
        if not rooms:  # not synced yet: nothing can be told
            return 0
        shared: set[str] = set()
        for room_id in rooms:
            shared |= self.bot.room(room_id).members
        gone = [u for u in await self.store.users() if u not in shared]
        for user in gone:
            await self.store.forget(user)
            await self.store.forget_reporter(user)
        if gone:
            log.info("erased the records of %d members who left every room", len(gone))
        return len(gone)

    # ---- policy ------------------------------------------------------------------------------
    def check_case(self, ctx: Context, poster: str) -> None:
        if self.strict(ctx.room_id) and not self.is_verified(poster):
            raise Refusal(ctx.t("trust.case_refused", prefix=ctx.prefix))

    # ---- knocks ------------------------------------------------------------------------------
    async def knock(self, ctx: Context, event: MemberChange) -> None:
        """In a verified room, a knock is shown to the moderators with the directory's
        physicians of the name given (and of an RPPS number in the knock's message)."""
        if event.membership != "knock" or not self.strict(event.room_id):
            return
        user = event.user_id
        given = one_line(event.displayname).strip() or user
        lines: list[tuple[Part, ...]] = [
            fill(ctx.t("trust.knock.title"), who=given, user=Pill(user, user, False))]
        if event.reason:
            lines.append(fill(ctx.t("trust.knock.reason"),
                              reason=shorten(one_line(event.reason), MAX_REASON)))
        found, count = await self.store.by_name(name_key(given))
        for number in _NUMBER.findall(event.reason):
            number = rpps.clean(number)
            entry = await self.store.entry(number) if rpps.is_rpps(number) else None
            if entry is not None and entry not in found:
                found.append(entry)
                count += 1
        if found:
            text = "; ".join(self.entry_text(ctx, e) + (f" ({e.department})" if e.department
                                                        else "") for e in found)
            if count > len(found):
                text += ctx.t("trust.knock.more", count=count - len(found))
            lines.append(fill(ctx.t("trust.knock.match"), entries=text))
        else:
            lines.append((ctx.t("trust.knock.none"),))
        lines.append(fill(ctx.t("trust.knock.how"), prefix=ctx.prefix, user=user))
        await self.tell_moderators(ctx, lines)

    async def admit(self, ctx: Context, user: str) -> None:
        room = ctx.room
        if not room.can_invite(self.bot.user_id):
            raise Refusal(ctx.t("trust.admit.no_power", level=room.power_invite))
        if not await self.bot.invite(ctx.room_id, user):
            raise Refusal(fill(ctx.t("trust.admit.failed"), user=user))
        log.info("room admin: admit in %s by %s", ctx.room_id, ctx.event.sender)
        await ctx.reply(fill(ctx.t("trust.admitted"), user=user))

    # ---- reports -----------------------------------------------------------------------------
    async def report(self, ctx: Context, reason: str | None) -> None:
        event = ctx.event
        assert isinstance(event, Message)
        target = event.in_reply_to or event.thread_root
        if target is None:
            raise Refusal(ctx.t("trust.report.where", prefix=ctx.prefix))
        if not await self.store.report(ctx.room_id, target, event.sender, self.bot.now()):
            raise Refusal(ctx.t("trust.report.twice"))
        log.info("report in %s", ctx.room_id)
        reason = one_line(reason or "").strip()
        lines = [
            fill(ctx.t("trust.report.title"),
                 who=Pill(event.sender, one_line(ctx.room.display_name(event.sender)), False)),
            fill(ctx.t("trust.report.event"), link=Link(permalink(ctx.room_id, target),
                                                         ctx.t("trust.report.link"))),
            fill(ctx.t("trust.report.reason"), reason=shorten(reason, MAX_REASON))
            if reason else (ctx.t("trust.report.no_reason"),),
        ]
        try:
            await self.tell_moderators(ctx, lines)
        except Exception:  # not told: the member may report again
            await self.store.unreport(ctx.room_id, target, event.sender)
            raise
        await ctx.reply(ctx.t("trust.report.done"))

    # ---- charter -----------------------------------------------------------------------------
    def charter(self, ctx: Context) -> list[tuple[Part, ...]]:
        config = self.config_for(ctx.room_id)
        if not config.charter:
            return []
        return [(config.charter_text.strip() or ctx.t("trust.charter"),)]
