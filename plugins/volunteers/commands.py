"""The volunteers' commands: opting in and out, the listing and stats, availability, `!take`;
and the room events that change who volunteers (a member leaves, a specialty goes).

Arguments are converted and checked before a handler runs (`RoomSpecialty`, `AwayUntil`,
`QuietHours`, `TimeZone`): a wrong one gets its reason and the generated usage line.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from bot.config import format_duration
from bot.content import Part, Rich, fill
from bot.events import MemberChange
from bot.i18n import human_duration
from bot.plugin import Clock, Context, Refusal, command, on
from bot.router import Arg, BadArguments, Choice, Many
from bot.text import fold
from plugins.cases.events import CardDirty
from plugins.specialties import Specialties, find_specialty
from plugins.specialties.events import SpecialtyFigures, SpecialtyRemoved
from plugins.volunteers.availability import (
    MAX_AWAY_DAYS,
    MAX_AWAY_YEARS,
    AwayUntil,
    DateText,
    QuietHours,
    TimeZone,
    hhmm,
    parse_date,
    zone,
)
from plugins.volunteers.paging import Pager, VolunteersConfig, marks, names, pills
from plugins.volunteers.store import FOREVER, VolunteerStore

STATS = "stats"
"""What `!volunteers stats` (or `statistiques`) converts to."""


def room_specialty(raw: str, ctx: Context) -> str:
    """The id of the room's specialty `raw` names (id or alias, any case, accent or `#`); a
    word naming none is a bad argument, answered with the command's usage line."""
    found = find_specialty(ctx, raw)
    if found is None:
        raise BadArguments("volunteers.unknown_specialty", names=raw)
    return found.id


@dataclass(frozen=True, slots=True)
class RoomSpecialty(Arg):
    """A specialty of the room: its id."""

    def convert(self, raw: str, ctx: Context) -> str:
        return room_specialty(raw, ctx)


@dataclass(frozen=True, slots=True)
class SpecialtyOrStats(Arg):
    """`!volunteers` argument: a specialty of the room (its id), or `STATS`."""

    def convert(self, raw: str, ctx: Context) -> str:
        return STATS if fold(raw) in ("stats", "statistiques") else room_specialty(raw, ctx)


async def members_only(ctx: Context, values: dict[str, Any]) -> None:
    """Check: only members of the room may volunteer in it."""
    if ctx.event.sender not in ctx.room.members:
        raise Refusal(ctx.t("volunteers.not_member"))


class Commands:
    """The volunteers' commands, and who volunteers as the room changes."""

    def __init__(self, bot: Clock, store: VolunteerStore, pager: Pager,
                 config_for: Callable[[str], VolunteersConfig],
                 specialties: Callable[[], Specialties]) -> None:
        self.bot = bot
        self.store = store
        self.pager = pager
        self.config_for = config_for
        self.specialties = specialties

    def _labels(self, ctx: Context, ids: list[str]) -> str:
        label = self.specialties().label
        return ", ".join(label(ctx.room_id, sid, ctx.lang) for sid in ids)

    async def _tz(self, user_id: str, room_id: str) -> str:
        """A volunteer's timezone: their own (`!mytz`), else the room's (`timezone`)."""
        return (await self.store.prefs(user_id)).tz or self.bot.timezone(room_id)

    # ---- opting in and out -----------------------------------------------------------------
    @command("volunteer", "benevole", args=(Many("specialty", item=RoomSpecialty("specialty")),),
             summary="volunteers.volunteer.summary", checks=(members_only,))
    async def volunteer(self, ctx: Context, specialty: list[str]) -> None:
        sender = ctx.event.sender
        await self.store.add(ctx.room_id, sender, dict.fromkeys(specialty), self.bot.now())
        mine = await self.store.of_user(ctx.room_id, sender)
        await ctx.reply(ctx.t("volunteers.added", cap=self.config_for(ctx.room_id).daily_cap,
                              names=self._labels(ctx, mine)))

    @command("unvolunteer",
             args=(Many("specialty", optional=True, item=RoomSpecialty("specialty")),),
             summary="volunteers.unvolunteer.summary")
    async def unvolunteer(self, ctx: Context, specialty: list[str]) -> None:
        sender = ctx.event.sender
        if not specialty:
            removed = await self.store.remove(ctx.room_id, sender)
            await ctx.reply(ctx.t("volunteers.removed_all" if removed
                                  else "volunteers.not_volunteer"))
            return
        found = list(dict.fromkeys(specialty))
        if not await self.store.remove(ctx.room_id, sender, found):
            await ctx.reply(ctx.t("volunteers.not_volunteer"))
            return
        await ctx.reply(ctx.t("volunteers.removed", names=self._labels(ctx, found)))

    @command("volunteers", "benevoles", args=(SpecialtyOrStats("which", optional=True),),
             summary="volunteers.volunteers.summary")
    async def volunteers(self, ctx: Context, which: str | None) -> None:
        if which == STATS:
            await self._stats(ctx)
            return
        by_spec: dict[str, list[str]] = {}
        for spec, user in await self.store.listing(ctx.room_id):
            if which is None or spec == which:
                by_spec.setdefault(spec, []).append(user)
        if not by_spec:
            await ctx.reply(ctx.t("volunteers.none", prefix=ctx.prefix))
            return
        lines: list[tuple[Part, ...]] = [(ctx.t("volunteers.list.header"),)]
        signs = (await marks(ctx, ctx.room_id, {u for us in by_spec.values() for u in us})).signs
        for spec, users in by_spec.items():
            lines.append((ctx.t("volunteers.list.line", specialty=self._labels(ctx, [spec])),
                          *pills(ctx.room, users, signs=signs)))
        await ctx.reply(Rich(tuple(lines)))

    async def _stats(self, ctx: Context) -> None:
        rows = await self.store.stats(ctx.room_id)
        if not rows:
            await ctx.reply(ctx.t("volunteers.none", prefix=ctx.prefix))
            return
        lines: list[tuple[Part, ...]] = [(ctx.t("volunteers.stats.header"),)]
        for user, pages, replies, delays in rows:
            median = (human_duration(ctx.t, statistics.median(delays)) if delays
                      else ctx.t("volunteers.stats.na"))
            lines.append((*pills(ctx.room, [user]),
                          ctx.t("volunteers.stats.line", pages=pages, replies=replies,
                                median=median)))
        await ctx.reply(Rich(tuple(lines)))

    # ---- availability ----------------------------------------------------------------------
    @command("away", "absent", args=(AwayUntil("until", optional=True),),
             summary="volunteers.away.summary")
    async def away(self, ctx: Context, until: float | DateText | None) -> None:
        sender = ctx.event.sender
        if isinstance(until, DateText):
            await self._away_through(ctx, until)
            return
        if until is not None:
            await self.store.set_prefs(sender, away_until=self.bot.now() + until)
            await ctx.reply(ctx.t("volunteers.away_for", duration=format_duration(until)))
            return
        await self.store.set_prefs(sender, away_until=FOREVER)
        await ctx.reply(ctx.t("volunteers.away", prefix=ctx.prefix))

    async def _away_through(self, ctx: Context, text: DateText) -> None:
        """Away the whole of a day read in the sender's time zone: back at the next local
        midnight. Whether it exists, is past or too far depends on the sender's "today"."""
        tz = zone(await self._tz(ctx.event.sender, ctx.room_id))
        today = datetime.fromtimestamp(self.bot.now(), tz).date()
        day = parse_date(text, today)
        usage = ctx.t("usage", usage=f"{ctx.prefix}away [{ctx.t('volunteers.arg.until')}]")
        if day is None:
            raise Refusal(Rich.of(ctx.t("volunteers.away.bad", value=text) + ".", usage))
        if day > today + timedelta(days=MAX_AWAY_DAYS):
            raise Refusal(Rich.of(ctx.t("volunteers.away.too_far", years=MAX_AWAY_YEARS)
                                  + ".", usage))
        until = datetime.combine(day + timedelta(days=1), time(0), tz).timestamp()
        shown = day.strftime("%d/%m/%Y") if ctx.lang == "fr" else day.isoformat()
        if until <= self.bot.now():
            raise Refusal(Rich.of(ctx.t("volunteers.away.past", date=shown), usage))
        await self.store.set_prefs(ctx.event.sender, away_until=until)
        await ctx.reply(ctx.t("volunteers.away_until", date=shown))

    @command("back", summary="volunteers.back.summary")
    async def back(self, ctx: Context) -> None:
        await self.store.set_prefs(ctx.event.sender, away_until=None)
        await ctx.reply(ctx.t("volunteers.back"))

    @command("quiet", "calme", args=(QuietHours("hours"),), summary="volunteers.quiet.summary")
    async def quiet(self, ctx: Context, hours: tuple[int, int] | None) -> None:
        sender = ctx.event.sender
        if hours is None:
            await self.store.set_prefs(sender, quiet_start=None, quiet_end=None)
            await ctx.reply(ctx.t("volunteers.quiet.off"))
            return
        await self.store.set_prefs(sender, quiet_start=hours[0], quiet_end=hours[1])
        await ctx.reply(ctx.t("volunteers.quiet.set", start=hhmm(hours[0]), end=hhmm(hours[1]),
                              tz=await self._tz(sender, ctx.room_id)))

    @command("mytz", "fuseau", args=(TimeZone("tz"),), summary="volunteers.mytz.summary")
    async def mytz(self, ctx: Context, tz: str) -> None:
        await self.store.set_prefs(ctx.event.sender, tz=tz)
        await ctx.reply(ctx.t("volunteers.tz.set", tz=tz))

    @command("urgent", args=(Choice("switch", choices=("on", "off")),),
             summary="volunteers.urgent.summary")
    async def urgent(self, ctx: Context, switch: str) -> None:
        await self.store.set_prefs(ctx.event.sender, urgent=int(switch == "on"))
        word = self.config_for(ctx.room_id).urgent_word.lstrip("#")
        await ctx.reply(ctx.t(f"volunteers.urgent.{switch}", word=word))

    # ---- taking a case ---------------------------------------------------------------------
    @command("take", summary="volunteers.take.summary")
    async def take(self, ctx: Context) -> None:
        """`!take` in a case's thread: the sender takes it; the escalation stops and the card
        (redrawn by the cases feature) says who took it."""
        event = ctx.event
        root = getattr(event, "thread_root", None)
        followed = await self.store.by_root(ctx.room_id, root) if root else None
        if followed is None or not followed.open:
            raise Refusal(ctx.t("volunteers.take.where", prefix=ctx.prefix))
        if event.sender == followed.poster:
            raise Refusal(ctx.t("volunteers.take.own"))
        if followed.taken_by:
            raise Refusal(fill(ctx.t("volunteers.take.already"), number=followed.number,
                               who=names(ctx.room, [followed.taken_by])))
        await self.store.update_case(ctx.room_id, followed.number, taken_by=event.sender)
        await self.pager.stop(followed)
        await ctx.tell(CardDirty(ctx.room_id, followed.number))
        await ctx.reply(fill(ctx.t("volunteers.take.done"), number=followed.number,
                             who=names(ctx.room, [event.sender])))

    # ---- the room and its specialties ------------------------------------------------------
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
