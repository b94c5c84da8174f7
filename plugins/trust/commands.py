"""What the trust feature does: verification, knocks, and the moderators it tells (reports
reach them privately, see `reports`); and what it answers the other features: a case refused
to an unverified poster in a verified room (`CaseOpening`), ✔ on the card (`PosterSigns`) and
after volunteers' names (`VolunteerMarks`), the charter (`RulesLines`), `!stats` counts.

A verification counts in every room, so it is not granted by whoever controls the room it
was asked in: a bot admin (`admins`) confirms it from anywhere; a verified moderator only
confirms a request made in one of the operator's `trust.verification_rooms` whose display
name matches the directory. Any other request also goes to the bot admins, privately (an
encrypted direct room each), and so does a number already held by another account when
the requester's display name matches the directory.

Moderators are the room's members with the room's admin power level (`admin_power_level`,
50 by default), read from the real power levels (`Context.is_moderator`, `moderators`). They
are reached in the room's `trust.moderation_room` when it names an encrypted room the bot is
in, else in a thread the bot opens in the room itself, mentioning them. Nothing here copies a
message's text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from bot.content import Bold, Link, Part, Pill, Rich, emoji_key, fill, permalink
from bot.events import MemberChange, Reaction, Unavailable
from bot.logs import report_exception
from bot.plugin import BotAPI, Context, Fired, Refusal, command, on, timer
from bot.router import Rest, User
from bot.text import shorten, shown_name
from plugins.cases.events import CaseOpening, PosterSigns, StatsLines
from plugins.secrecy.events import RulesLines
from plugins.trust import rpps as _rpps
from plugins.trust.directory import name_key, names_match
from plugins.trust.store import PENDING, REFUSED, VERIFIED, Entry, Record, TrustStore
from plugins.trust.throttle import KnockThrottle
from plugins.volunteers.events import Marks, VolunteerMarks

log = logging.getLogger(__name__)

VERIFIED_SIGN = "✔"
SWEEP_AFTER_START = 600.0
"""Seconds after a start before the first sweep (the rooms are synced by then)."""
SWEEP_EVERY = 86400.0
_PATTERN = re.compile(r"[*?\[]")
"""An `admins` entry with these is a pattern: nobody to write to."""

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
    """An encrypted room the bot is in (id, or alias as the homeserver's directory resolves
    it) where moderators are told; empty: a thread in the room itself (reports: a direct room
    with each moderator)."""
    charter: bool = True
    """Show the conduct charter with the rules."""
    charter_text: str = ""
    """The room's own charter (every language); empty: the built-in one."""
    verified_servers: tuple[str, ...] = ()
    """Homeservers whose accounts are verified at login (e.g. Pro Santé Connect)."""
    verification_rooms: tuple[str, ...] = ()
    """Room ids whose verified moderators may confirm the verifications asked there. The
    operator's list, never a room setting: a room's own admins are who the rule guards
    against. Elsewhere (and for a name the directory does not match) a bot admin confirms."""


@dataclass(frozen=True, slots=True)
class _Request:
    """A verification request as the moderators and bot admins are shown it."""

    user_id: str
    display: str
    entry: Entry
    matches: bool
    """The display name carries the directory's name."""
    room_id: str
    holder: str | None
    """Another account already verified with this number."""


class Verification:
    """Who is verified, and everything the trust feature does with it: `!verify` and its
    decisions, knocks, the records of members gone, and the answers to the other features."""

    def __init__(self, bot: BotAPI, store: TrustStore, component: str, config: TrustConfig,
                 config_for: Callable[[str], TrustConfig]) -> None:
        self.bot = bot
        self.store = store
        self.component = component
        """The sweep timer's component (the plugin's name)."""
        self.verified_servers = frozenset(config.verified_servers)
        self.verification_rooms = frozenset(config.verification_rooms)
        self.config_for = config_for
        self.knocks = KnockThrottle()

    # ---- who is what -------------------------------------------------------------------------
    def server_verified(self, user_id: str) -> bool:
        server = user_id.partition(":")[2]
        return server in self.verified_servers

    def is_verified(self, user_id: str) -> bool:
        return user_id in self.store.verified or self.server_verified(user_id)

    def strict(self, room_id: str) -> bool:
        return self.config_for(room_id).policy == "verified"

    async def moderation_room(self, room_id: str) -> str | None:
        """The room's moderation room when it is usable: encrypted, and the bot is in it. An
        alias is resolved through the homeserver's directory (a room's own `canonical_alias`
        is only its claim: any room the bot is invited to can claim any alias)."""
        wanted = self.config_for(room_id).moderation_room.strip()
        if not wanted:
            return None
        target = await self.bot.resolve_alias(wanted) if wanted.startswith("#") else wanted
        if target is not None:
            info = self.bot.room(target)
            if info.encrypted and self.bot.user_id in info.members:
                return target
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
        target = await self.moderation_room(room_id)
        if target is not None:
            where = fill(ctx.t("trust.request.room"), room=Link(
                permalink(room_id), ctx.room.name or ctx.room.canonical_alias or room_id))
            elsewhere = ctx.in_room(target)
            return target, await elsewhere.send(Rich((*lines, where)), in_thread=False)
        if thread_root is None:
            thread_root = await ctx.send(ctx.t("trust.moderators.root"), in_thread=False)
        mods = ctx.moderators()
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
    @command("verify", "verifier", args=(Rest("rpps", optional=True),),
             summary="trust.verify.summary")
    async def verify(self, ctx: Context, rpps: str | None) -> None:
        sender = ctx.event.sender
        if not rpps:
            await ctx.reply(await self._status(ctx, sender))
            return
        number = _rpps.clean(rpps)
        if not _rpps.shape_ok(number):
            raise Refusal(ctx.t("trust.rpps.shape", prefix=ctx.prefix))
        if not _rpps.luhn_ok(number):
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
        display = one_line(ctx.room.display_name(sender))
        matches = names_match(display, entry.first_name, entry.last_name)
        holder = await self.store.holder(number)
        contested = holder is not None and holder != sender
        if contested and not (matches and self.reachable_admins(sender)):
            raise Refusal(ctx.t("trust.taken"))
        by_room = ctx.room_id in self.verification_rooms and matches
        if not by_room and not self.bot.config.admins:
            raise Refusal(ctx.t("trust.rule.nobody"))
        await self.store.request(sender, number, ctx.room_id, ctx.thread_root or ctx.event.event_id,
                                 self.bot.now())
        request = _Request(sender, display, entry, matches, ctx.room_id, holder)
        try:
            if contested:  # a dispute: the bot admins only, not the room
                if not await self.tell_admins(ctx, request):
                    raise Refusal(ctx.t("trust.taken"))
                await ctx.reply(ctx.t("trust.taken.contested"))
                return
            lines = self.request_lines(ctx, request)
            if by_room:
                lines.append(fill(ctx.t("trust.request.how"), prefix=ctx.prefix, user=sender))
            else:
                lines.extend(self.admins_lines(ctx, request))
            notice_room, notice = await self.tell_moderators(
                ctx, lines, ctx.thread_root or ctx.event.event_id)
            if not by_room:
                await self.tell_admins(ctx, request)
        except Exception:  # not told: the member may ask again
            await self.store.forget(sender)
            raise
        await self.store.noticed(sender, notice_room, notice)
        await ctx.reply(ctx.t("trust.requested" if by_room else "trust.requested.admins"))

    def request_lines(self, ctx: Context, request: _Request) -> list[tuple[Part, ...]]:
        """Who asks, the directory's entry for the number, whether the names match."""
        return [
            fill(ctx.t("trust.request.title"),
                 who=Pill(request.user_id, request.display, False)),
            fill(ctx.t("trust.request.found"), entry=self.entry_text(ctx, request.entry)),
            (ctx.t("trust.request.match" if request.matches else "trust.request.mismatch"),),
        ]

    def admins_lines(self, ctx: Context, request: _Request) -> list[tuple[Part, ...]]:
        """Why only a bot admin may confirm this request, and whether they were told."""
        why = ("trust.rule.name" if request.room_id in self.verification_rooms
               else "trust.rule.room")
        told = ("trust.request.admins_told" if self.reachable_admins(request.user_id)
                else "trust.request.admins_unreachable")
        return [(ctx.t(why),), (ctx.t(told),),
                fill(ctx.t("trust.request.how_admins"), prefix=ctx.prefix,
                     user=request.user_id)]

    def reachable_admins(self, *besides: str) -> list[str]:
        """The bot admins named by a full id (a pattern names nobody to write to)."""
        return [a for a in dict.fromkeys(self.bot.config.admins)
                if not _PATTERN.search(a) and a != self.bot.user_id and a not in besides]

    async def tell_admins(self, ctx: Context, request: _Request) -> int:
        """The request, to each bot admin in an encrypted direct room; how many were told."""
        told = 0
        for admin in self.reachable_admins(request.user_id):
            try:
                direct = await ctx.direct(admin)
                lines = self.request_lines(direct, request)
                lines.append(fill(direct.t("trust.request.room"), room=Link(
                    permalink(request.room_id), self.bot.room(request.room_id).name
                    or request.room_id)))
                if request.holder is not None:
                    lines.append(self.holder_line(direct, request))
                lines.append(fill(direct.t("trust.request.how_direct"), prefix=direct.prefix,
                                  user=request.user_id))
                await direct.send(Rich(tuple(lines)))
                told += 1
            except Unavailable:
                raise
            except Exception as exc:  # that admin's server refused: the others are told
                report_exception(log, "trust: a bot admin's direct room", exc)
        return told

    def holder_line(self, ctx: Context, request: _Request) -> tuple[Part, ...]:
        """A contested number: who holds it, and whether their name matches the directory."""
        holder = request.holder or ""
        name = next((self.bot.room(r).display_name(holder) for r in self.bot.room_ids()
                     if holder in self.bot.room(r).members), holder)
        entry = request.entry
        key = ("trust.contest.match" if names_match(name, entry.first_name, entry.last_name)
               else "trust.contest.mismatch")
        return fill(ctx.t(key), holder=Pill(holder, one_line(name), False),
                    prefix=ctx.prefix, holder_id=holder, user=request.user_id)

    async def _status(self, ctx: Context, user_id: str) -> str:
        if self.server_verified(user_id):
            return ctx.t("trust.status.server")
        record = await self.store.record(user_id)
        status = record.status if record else None
        key = {PENDING: "trust.status.pending", VERIFIED: "trust.status.verified",
               REFUSED: "trust.status.refused"}.get(status or "", "trust.status.none")
        return ctx.t(key, prefix=ctx.prefix)

    @command("verify approve", "verifier valider", args=(User("user"),),
             summary="trust.approve.summary", section="moderation")
    async def approve(self, ctx: Context, user: str) -> None:
        await self.decide(ctx, user, VERIFIED, ctx.event.sender)

    @command("verify refuse", "verifier refuser", args=(User("user"),),
             summary="trust.refuse.summary", section="moderation")
    async def refuse(self, ctx: Context, user: str) -> None:
        await self.decide(ctx, user, REFUSED, ctx.event.sender)

    async def decide(self, ctx: Context, user_id: str, status: str, by: str) -> None:
        """A moderator of the request's room approves or refuses it (command or reaction)."""
        record = await self.store.record(user_id)
        if record is None or record.status != PENDING:
            raise Refusal(ctx.t("trust.no_request"))
        if not ctx.is_moderator(by, record.room_id):
            raise Refusal(ctx.t("trust.not_moderator"))
        if by == user_id:  # a moderator's own request: someone else must check it
            raise Refusal(ctx.t("trust.not_yourself"))
        if status == VERIFIED and not self.bot.is_bot_admin(by):
            await self._may_confirm(ctx, record, by)
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
        if ctx.room_id not in (record.room_id, record.notice_room):  # a bot admin, elsewhere
            await ctx.reply(said)

    async def _may_confirm(self, ctx: Context, record: Record, by: str) -> None:
        """Refuse a moderator's confirmation unless the request was made in one of the
        operator's verification rooms, the moderator is verified, and the requester's name
        matches the directory. A verification counts in every room: a moderator of a room of
        their own must not grant one (to a second account of theirs, say)."""
        if record.room_id not in self.verification_rooms:
            raise Refusal(ctx.t("trust.rule.room"))
        if not self.is_verified(by):
            raise Refusal(ctx.t("trust.approver_unverified", prefix=ctx.prefix))
        entry = await self.store.entry(record.rpps)
        name = self.bot.room(record.room_id).display_name(record.user_id)
        if entry is None or not names_match(one_line(name), entry.first_name, entry.last_name):
            raise Refusal(ctx.t("trust.rule.name"))

    @command("verify revoke", "verifier retirer", args=(User("user"),),
             summary="trust.revoke.summary")
    async def revoke(self, ctx: Context, user: str) -> None:
        """A bot admin withdraws a member's verification (a contested number, say)."""
        user_id = user
        if not self.bot.is_bot_admin(ctx.event.sender):
            raise Refusal(ctx.t("trust.revoke.refused"))
        record = await self.store.record(user_id)
        if record is None or record.status != VERIFIED:
            raise Refusal(ctx.t("trust.revoke.none"))
        await self.store.forget(user_id)
        log.info("verification of %s revoked by %s", user_id, ctx.event.sender)
        await ctx.reply(fill(ctx.t("trust.revoked"),
                             who=Pill(user_id, one_line(ctx.room.display_name(user_id)), False)))

    @on(Reaction)
    async def reaction(self, ctx: Context, event: Reaction) -> None:
        key = emoji_key(event.key)
        if key not in APPROVE_KEYS | REFUSE_KEYS:
            return
        record = await self.store.by_notice(event.relates_to)
        if record is None or record.status != PENDING or record.notice_room != event.room_id:
            return
        if (not ctx.is_moderator(event.sender, record.room_id)
                or event.sender == record.user_id):
            return  # anyone may react; only another moderator's reaction decides
        try:
            await self.decide(ctx, record.user_id, VERIFIED if key in APPROVE_KEYS else REFUSED,
                              event.sender)
        except Refusal as refusal:  # said in the notice's thread: a reaction cannot root one
            root = (record.request_event if record.notice_room == record.room_id
                    else record.notice_event)
            await ctx.in_room(event.room_id, root).send(refusal.message)

    @command("verify forget", "verifier oublier", summary="trust.forget.summary")
    async def forget(self, ctx: Context) -> None:
        erased = await self.store.forget(ctx.event.sender)
        await ctx.reply(ctx.t("trust.forgotten" if erased else "trust.nothing_to_forget"))

    def _company(self, room_id: str) -> frozenset[str]:
        """The room's members who share it with the bot and someone else: nobody in a direct
        room (the bot opens those itself, to answer a report or send a file)."""
        members = self.bot.room(room_id).members - {self.bot.user_id}
        return members if len(members) > 1 else frozenset()

    @on(MemberChange)
    async def left(self, ctx: Context, event: MemberChange) -> None:
        """A member who shares no room with the bot any more: their record is erased."""
        if event.membership not in ("leave", "ban"):
            return
        user = event.user_id
        if any(user in self._company(r) for r in self.bot.room_ids()):
            return
        await self.store.forget_reporter(user)
        if await self.store.forget(user):
            log.info("erased the verification of a member who left every room")

    @timer("sweep")
    async def sweep(self, ctx: Context | None, fired: Fired) -> None:
        """Daily: erase the records of members who share no room with the bot any more (they
        may have left while the bot was away longer than its catch-up)."""
        await self._erase_gone()
        await self.bot.schedule(self.component, "sweep", self.bot.now() + SWEEP_EVERY)

    async def _erase_gone(self) -> None:
        rooms = self.bot.room_ids()
        if not rooms:  # not synced yet: nothing can be told
            return
        shared: set[str] = set()
        for room_id in rooms:
            shared |= self._company(room_id)
        gone = [u for u in await self.store.users() if u not in shared]
        for user in gone:
            await self.store.forget(user)
            await self.store.forget_reporter(user)
        if gone:
            log.info("erased the records of %d members who left every room", len(gone))

    # ---- what other features ask ---------------------------------------------------------------
    @on(CaseOpening)
    async def opening(self, ctx: Context, event: CaseOpening) -> None:
        """A verified room refuses a case to an unverified poster."""
        if self.strict(ctx.room_id) and not self.is_verified(event.poster):
            raise Refusal(ctx.t("trust.case_refused", prefix=ctx.prefix))

    @on(PosterSigns)
    async def poster_sign(self, ctx: Context, event: PosterSigns) -> Part:
        """✔ after a verified poster's name on the case card, in bold: the bot's formatting,
        which no display name carries (and names lose any ✔ or "vérifié" they hold)."""
        return (Bold(ctx.t("trust.card.verified")) if self.is_verified(event.case.poster)
                else "")

    @on(VolunteerMarks)
    async def volunteer_marks(self, ctx: Context, event: VolunteerMarks) -> Marks:
        """Unverified volunteers are not paged in a verified room; ✔ after verified names."""
        verified = {u for u in event.users if self.is_verified(u)}
        skip = frozenset(event.users) - verified if self.strict(event.room_id) else ()
        return Marks(frozenset(skip), dict.fromkeys(verified, Bold(VERIFIED_SIGN)))

    @on(StatsLines)
    async def stats_lines(self, ctx: Context, event: StatsLines) -> list[tuple[Part, ...]]:
        reports, events = await self.store.report_counts(event.room_id, event.since)
        verified = sum(1 for u in ctx.room.members if self.is_verified(u))
        return [(ctx.t("trust.stats", verified=verified, reports=reports, events=events),)]

    # ---- knocks ------------------------------------------------------------------------------
    @on(MemberChange)
    async def knock(self, ctx: Context, event: MemberChange) -> None:
        """In a verified room, a knock is shown to the moderators with the directory's
        physicians of the name given (and of an RPPS number in the knock's message)."""
        if event.membership != "knock" or not self.strict(event.room_id):
            return
        shown = self.knocks.knock(event.room_id, event.user_id, self.bot.now())
        if shown != "show":  # a knocker (or many) cannot flood the moderators
            if shown == "flood":
                await self.tell_moderators(ctx, [(ctx.t("trust.knock.flood"),)])
            return
        user = event.user_id
        given = shown_name(event.displayname) or user
        lines: list[tuple[Part, ...]] = [
            fill(ctx.t("trust.knock.title"), who=given, user=Pill(user, user, False))]
        if event.reason:
            lines.append(fill(ctx.t("trust.knock.reason"),
                              reason=shorten(one_line(event.reason), MAX_REASON)))
        found, count = await self.store.by_name(name_key(given))
        for number in _NUMBER.findall(event.reason):
            number = _rpps.clean(number)
            entry = await self.store.entry(number) if _rpps.is_rpps(number) else None
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

    @command("admit", "admettre", args=(User("user"),), admin=True,
             summary="trust.admit.summary", section="moderation")
    async def admit(self, ctx: Context, user: str) -> None:
        room = ctx.room
        if not room.can_invite(self.bot.user_id):
            raise Refusal(ctx.t("trust.admit.no_power", level=room.power_invite))
        if not await self.bot.invite(ctx.room_id, user):
            raise Refusal(fill(ctx.t("trust.admit.failed"), user=user))
        log.info("room admin: admit in %s by %s", ctx.room_id, ctx.event.sender)
        await ctx.reply(fill(ctx.t("trust.admitted"), user=user))

    # ---- charter -----------------------------------------------------------------------------
    @on(RulesLines)
    async def rules_lines(self, ctx: Context, event: RulesLines) -> list[tuple[Part, ...]]:
        """The conduct charter, shown with the secrecy rules."""
        config = self.config_for(ctx.room_id)
        if not config.charter:
            return []
        return [(config.charter_text.strip() or ctx.t("trust.charter"),)]
