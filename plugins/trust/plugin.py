"""The trust feature, declared: who is in the room (verified physicians, knocks), reports to
the moderators, and a conduct charter next to the secrecy rules.

Handlers live in `commands.Trust`; tables in `store`. One way only: trust subscribes to the
case lifecycle (`CaseOpening` refuses an unverified poster in a verified room, `PosterSigns`
shows ✔, `StatsLines` counts), to the volunteers' `VolunteerMarks` (skip unverified
volunteers in a verified room, ✔ after names) and to the secrecy rules' `RulesLines` (the
charter). None of them knows about trust.

`!report` is handled by `reports.Reports`; knocks shown are throttled by `throttle`.
"""

from __future__ import annotations

from typing import Any

from bot.content import Bold, Part
from bot.events import MemberChange, Reaction
from bot.plugin import Context, Fired, Plugin, command, on, timer
from bot.router import Rest, User
from plugins.cases.events import CaseOpening, PosterSigns, StatsLines
from plugins.secrecy.events import RulesLines
from plugins.trust.commands import Trust as Handlers
from plugins.trust.commands import TrustConfig
from plugins.trust.reports import Reports
from plugins.trust.store import MIGRATIONS, REFUSED, VERIFIED, TrustStore
from plugins.trust.strings import STRINGS
from plugins.volunteers.events import Marks, VolunteerMarks

VERIFIED_SIGN = "✔"
SWEEP_AFTER_START = 600.0
"""Seconds after a start before the first sweep (the rooms are synced by then)."""
SWEEP_EVERY = 86400.0


class Trust(Plugin):
    name = "trust"
    Config = TrustConfig
    strings = STRINGS
    migrations = MIGRATIONS
    room_settings = ("policy", "moderation_room", "charter", "charter_text")

    def __init__(self, bot: Any, config: TrustConfig) -> None:
        super().__init__(bot, config)
        self.store = TrustStore(bot.db)
        self.handlers = Handlers(bot, self.store, config, self.config_for)
        self.reports = Reports(bot, self.store, self.handlers)

    @classmethod
    def check(cls, config: TrustConfig) -> list[str]:
        return [f"trust.verification_rooms: {room!r} is not a room id (!…; an alias may "
                "later name another room)"
                for room in config.verification_rooms if not room.startswith("!")]

    async def start(self) -> None:
        await self.store.load()
        await self.bot.schedule(self.name, "sweep", self.bot.now() + SWEEP_AFTER_START)

    @timer("sweep")
    async def sweep(self, fired: Fired) -> None:
        """Daily: records of members who share no room with the bot are erased."""
        await self.handlers.sweep()
        await self.bot.schedule(self.name, "sweep", self.bot.now() + SWEEP_EVERY)

    # ---- what other features ask ---------------------------------------------------------------
    @on(CaseOpening)
    async def opening(self, ctx: Context, event: CaseOpening) -> None:
        self.handlers.check_case(ctx, event.poster)

    @on(PosterSigns)
    async def poster_sign(self, ctx: Context, event: PosterSigns) -> Part:
        """✔ after a verified poster's name on the case card, in bold: the bot's formatting,
        which no display name carries (and names lose any ✔ or "vérifié" they hold)."""
        return (Bold(ctx.t("trust.card.verified")) if self.handlers.is_verified(event.case.poster)
                else "")

    @on(VolunteerMarks)
    async def volunteer_marks(self, ctx: Context, event: VolunteerMarks) -> Marks:
        verified = {u for u in event.users if self.handlers.is_verified(u)}
        skip = frozenset(event.users) - verified if self.handlers.strict(event.room_id) else ()
        return Marks(frozenset(skip), dict.fromkeys(verified, Bold(VERIFIED_SIGN)))

    @on(RulesLines)
    async def rules_lines(self, ctx: Context, event: RulesLines) -> list[tuple[Part, ...]]:
        return self.handlers.charter(ctx)

    @on(StatsLines)
    async def stats_lines(self, ctx: Context, event: StatsLines) -> list[tuple[Part, ...]]:
        reports, events = await self.store.report_counts(event.room_id, event.since)
        verified = sum(1 for u in ctx.room.members if self.handlers.is_verified(u))
        return [(ctx.t("trust.stats", verified=verified, reports=reports, events=events),)]

    # ---- Matrix events -------------------------------------------------------------------------
    @on(Reaction)
    async def reaction(self, ctx: Context, event: Reaction) -> None:
        await self.handlers.reaction(ctx, event)

    @on(MemberChange)
    async def membership(self, ctx: Context, event: MemberChange) -> None:
        await self.handlers.knock(ctx, event)
        await self.handlers.left(event)

    # ---- commands ------------------------------------------------------------------------------
    @command("verify", "verifier", args=(Rest("rpps", optional=True),),
             summary="trust.verify.summary")
    async def verify(self, ctx: Context, rpps: str | None) -> None:
        await self.handlers.verify(ctx, rpps)

    @command("verify approve", "verifier valider", args=(User("user"),),
             summary="trust.approve.summary", section="moderation")
    async def approve(self, ctx: Context, user: str) -> None:
        await self.handlers.decide(ctx, user, VERIFIED, ctx.event.sender)

    @command("verify refuse", "verifier refuser", args=(User("user"),),
             summary="trust.refuse.summary", section="moderation")
    async def refuse(self, ctx: Context, user: str) -> None:
        await self.handlers.decide(ctx, user, REFUSED, ctx.event.sender)

    @command("verify forget", "verifier oublier", summary="trust.forget.summary")
    async def forget(self, ctx: Context) -> None:
        await self.handlers.forget(ctx)

    @command("verify revoke", "verifier retirer", args=(User("user"),),
             summary="trust.revoke.summary")
    async def revoke(self, ctx: Context, user: str) -> None:
        await self.handlers.revoke(ctx, user)

    @command("admit", "admettre", args=(User("user"),), admin=True,
             summary="trust.admit.summary", section="moderation")
    async def admit(self, ctx: Context, user: str) -> None:
        await self.handlers.admit(ctx, user)

    @command("report", "signaler", args=(Rest("reason", optional=True),),
             summary="trust.report.summary")
    async def report(self, ctx: Context, reason: str | None) -> None:
        await self.reports.report(ctx, reason)


__all__ = ["Trust", "TrustConfig"]
