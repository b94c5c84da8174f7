"""The volunteers feature, declared: its commands, the events it follows, its timer.

Each declaration hands over to a handler object: `commands.Commands` (what members type) and
`paging.Pager` (choosing, paging, escalation). What it knows of cases comes from the case
lifecycle the cases feature publishes (`plugins.cases.events`), and what it knows of
specialties from the specialties feature it requires; it never reaches into either.
"""

from __future__ import annotations

import functools
from typing import Any

from bot.content import Part
from bot.events import MemberChange, Reaction
from bot.plugin import Context, Fired, Plugin, command, on, timer
from bot.router import Choice, Many
from plugins.cases.events import (
    CardLines,
    CaseChanged,
    CaseNumbered,
    CaseOpened,
    CaseReplied,
    CaseRootGone,
)
from plugins.specialties import Specialties
from plugins.specialties.events import SpecialtyFigures, SpecialtyRemoved
from plugins.volunteers.availability import AwayUntil, DateText, QuietHours, TimeZone
from plugins.volunteers.commands import (
    Commands,
    RoomSpecialty,
    SpecialtyOrStats,
    members_only,
)
from plugins.volunteers.paging import Pager, VolunteersConfig, pills
from plugins.volunteers.store import MIGRATIONS, VolunteerStore
from plugins.volunteers.strings import STRINGS


class Volunteers(Plugin):
    name = "volunteers"
    help_section = "volunteers"
    Config = VolunteersConfig
    strings = STRINGS
    migrations = MIGRATIONS
    requires = (Specialties,)
    room_settings = ("per_round", "max_rounds", "daily_cap", "escalate_after", "fallback",
                     "urgent_word", "confirm_wait")

    def __init__(self, bot: Any, config: VolunteersConfig) -> None:
        super().__init__(bot, config)
        self.store = VolunteerStore(bot.db)
        specialties = functools.partial(self.required, Specialties)
        self.pager = Pager(bot, self.store, self.name, self.config_for, specialties)
        self.commands = Commands(bot, self.store, self.pager, self.config_for, specialties)

    # ---- the case lifecycle ------------------------------------------------------------------
    @on(CaseNumbered)
    async def case_numbered(self, ctx: Context, event: CaseNumbered) -> None:
        await self.pager.numbered(ctx, event.case, event.text)

    @on(CaseOpened)
    async def case_opened(self, ctx: Context, event: CaseOpened) -> None:
        await self.pager.opened(ctx, event.case, event.text)

    @on(CaseChanged)
    async def case_changed(self, ctx: Context, event: CaseChanged) -> None:
        before, case = event.before, event.case
        if (before.is_open, before.replies > 0, before.specialties, before.card_event_id,
                before.awaiting_tag) == (case.is_open, case.replies > 0, case.specialties,
                                         case.card_event_id, case.awaiting_tag):
            return  # one more answer to an answered case: nothing paging cares about
        await self.pager.changed(ctx, case)

    @on(CaseRootGone)
    async def case_gone(self, ctx: Context, event: CaseRootGone) -> None:
        await self.pager.gone(event.case)

    @on(CaseReplied)
    async def case_replied(self, ctx: Context, event: CaseReplied) -> None:
        """A colleague's reply counts in `!volunteers stats` (who and when, nothing else):
        a volunteer's, or that of someone paged for this case (the stats list only them)."""
        case, reply = event.case, event.event
        if reply.sender != case.poster and (
                reply.sender in await self.store.enlisted(case.room_id)
                or reply.sender in await self.store.paged(case.room_id, case.number)):
            await self.store.add_reply(reply.event_id, case.room_id, case.number, reply.sender,
                                       reply.timestamp / 1000)

    @on(CardLines)
    async def card_lines(self, ctx: Context, event: CardLines) -> list[tuple[Part, ...]]:
        return await self.pager.card_lines(ctx, event.case)

    @timer("escalate")
    async def escalate(self, fired: Fired) -> None:
        await self.pager.escalate(fired)

    @timer("confirm")
    async def confirm_wait_over(self, fired: Fired) -> None:
        await self.pager.confirm_wait_over(fired)

    @on(Reaction)
    async def interest(self, ctx: Context, event: Reaction) -> None:
        await self.pager.interest(event)

    # ---- the room and its specialties --------------------------------------------------------
    @on(MemberChange)
    async def membership(self, ctx: Context, event: MemberChange) -> None:
        """A volunteer who left or was kicked or banned is unregistered (a late leave of
        someone who is a member again changes nothing)."""
        if event.membership in ("leave", "ban") and event.user_id not in ctx.room.members:
            await self.store.remove(event.room_id, event.user_id)

    @on(SpecialtyRemoved)
    async def specialty_removed(self, ctx: Context, event: SpecialtyRemoved
                                ) -> list[tuple[Part, ...]]:
        """Unregister the specialty's volunteers and tell them, once, in the announcement."""
        users = await self.store.drop_specialty(event.room_id, event.specialty.id)
        if not users:
            return []
        return [(*pills(ctx.room, users, notify=True),
                 ctx.t("volunteers.specialty_removed", id=event.specialty.id))]

    @on(SpecialtyFigures)
    async def specialty_figures(self, ctx: Context, event: SpecialtyFigures
                                ) -> dict[str, list[str]]:
        """`!specialties`: how many volunteers each specialty has here."""
        counts: dict[str, int] = {}
        for specialty, _user in await self.store.listing(event.room_id):
            counts[specialty] = counts.get(specialty, 0) + 1
        return {sid: [ctx.t("volunteers.count", count=n)] for sid, n in counts.items()}

    # ---- commands ------------------------------------------------------------------------------
    @command("volunteer", "benevole", args=(Many("specialty", item=RoomSpecialty("specialty")),),
             summary="volunteers.volunteer.summary", checks=(members_only,))
    async def volunteer(self, ctx: Context, specialty: list[str]) -> None:
        await self.commands.volunteer(ctx, specialty)

    @command("unvolunteer",
             args=(Many("specialty", optional=True, item=RoomSpecialty("specialty")),),
             summary="volunteers.unvolunteer.summary")
    async def unvolunteer(self, ctx: Context, specialty: list[str]) -> None:
        await self.commands.unvolunteer(ctx, specialty)

    @command("volunteers", "benevoles", args=(SpecialtyOrStats("which", optional=True),),
             summary="volunteers.volunteers.summary")
    async def volunteers(self, ctx: Context, which: str | None) -> None:
        await self.commands.volunteers(ctx, which)

    @command("away", "absent", args=(AwayUntil("until", optional=True),),
             summary="volunteers.away.summary")
    async def away(self, ctx: Context, until: float | DateText | None) -> None:
        await self.commands.away(ctx, until)

    @command("back", summary="volunteers.back.summary")
    async def back(self, ctx: Context) -> None:
        await self.commands.back(ctx)

    @command("quiet", "calme", args=(QuietHours("hours"),), summary="volunteers.quiet.summary")
    async def quiet(self, ctx: Context, hours: tuple[int, int] | None) -> None:
        await self.commands.quiet(ctx, hours)

    @command("mytz", "fuseau", args=(TimeZone("tz"),), summary="volunteers.mytz.summary")
    async def mytz(self, ctx: Context, tz: str) -> None:
        await self.commands.mytz(ctx, tz)

    @command("urgent", args=(Choice("switch", choices=("on", "off")),),
             summary="volunteers.urgent.summary")
    async def urgent(self, ctx: Context, switch: str) -> None:
        await self.commands.urgent(ctx, switch)

    @command("take", summary="volunteers.take.summary")
    async def take(self, ctx: Context) -> None:
        await self.commands.take(ctx)


__all__ = ["Volunteers", "VolunteersConfig"]
