"""The weekly digest: when it is due (a weekday and time in the room's time zone) and what it
says (counts per specialty, median time to first answer, the week's resolved threads, cases
still waiting, references shared) — ids, numbers, specialties and links, no clinical text.

Exactly once a week: each room has one persistent timer, `digest:<room>`. When it fires, the
digest for the week ending at its due time is posted unless one is recorded for that due
time, then the timer is armed for the next occurrence after both now and that due time — so
a digest missed while the bot was down is posted late once, and the weeks missed in between
are not posted one by one. A timer armed for a changed setting comes at least six days
after the last digest (no second digest of the same days); a timer the scheduler dropped
(the digest failed at every retry) is armed again at its due time by the room's next message.
Its sends take their transaction ids from the due time, so a crash mid-way replays into the
same event.
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.config import parse_weekly
from bot.content import Link, Part, Rich, fill, permalink
from bot.events import Message
from bot.i18n import human_duration
from bot.plugin import Context, Fired, Rooms, Timers, on, timer
from plugins.cases.events import CaseOpened
from plugins.learning.events import DigestLines
from plugins.learning.store import Known, LearningStore
from plugins.specialties import Specialties

WEEK = 7 * 86400.0
APART = WEEK - 86400.0
"""Two digests are never closer (a setting changed after this week's digest waits)."""
LOST = 86400.0
"""A digest this late was dropped by the timers (it failed at each retry, some 8 h): room
activity re-arms it, to be posted late once it can."""
LISTED = 15
"""At most this many resolved cases, waiting cases and references in one digest."""

Names = Callable[[Context, str, Sequence[str]], str]
"""(context, room, specialty ids) -> the specialties as the room names them."""


def specialty_names(specialties: Callable[[], Specialties], ctx: Context, room_id: str,
                    ids: Sequence[str]) -> str:
    """Specialties as the room names them (or "unclassified"): a `Names` once the feature's
    `specialties` is given."""
    if not ids:
        return ctx.t("learning.unclassified")
    label = functools.partial(specialties().label, room_id, lang=ctx.lang)
    return ", ".join(label(s) for s in ids)


def next_due(weekly: tuple[int, int, int], tz: str, after: float) -> float:
    """The first `weekly` time (weekday, hour, minute in zone `tz`) strictly after `after`."""
    zone = ZoneInfo(tz)
    day, hour, minute = weekly
    local = datetime.fromtimestamp(after, zone)
    start = local.date() + timedelta(days=(day - local.weekday()) % 7)
    for extra in (0, 7):
        date = start + timedelta(days=extra)
        due = datetime(date.year, date.month, date.day, hour, minute, tzinfo=zone).timestamp()
        if due > after:
            return due
    raise AssertionError("a week always holds the next occurrence")


def short_date(at: float, tz: str, lang: str) -> str:
    return datetime.fromtimestamp(at, ZoneInfo(tz)).strftime(
        "%d/%m/%Y" if lang == "fr" else "%Y-%m-%d")


@functools.lru_cache(maxsize=256)
def _schedule(setting: str, timezone: str) -> str:
    """A digest setting in a time zone as `Digests.schedule` writes it (parsed once: every
    message of a room with cases asks)."""
    weekly = parse_weekly(setting)
    if weekly is None:
        return "off"
    day, hour, minute = weekly
    return f"{day} {hour:02d}:{minute:02d} {timezone}"


class DigestServices(Timers, Rooms, Protocol):
    """What the digest uses of the bot: the time, its timers, the rooms."""


class Digests:
    """Arms each room's digest timer from its setting (rooms with a case get one), and posts
    the digest when it fires."""

    def __init__(self, bot: DigestServices, store: LearningStore, component: str,
                 setting: Callable[[str], str], names: Names) -> None:
        self.bot = bot
        self.store = store
        self.component = component
        self.setting = setting
        self.names = names
        self.armed: dict[str, str] = {}
        """Each room's schedule as its timer was armed (as `schedule` writes it)."""
        self.last: dict[str, float] = {}
        """Each room's latest digest due time."""
        self.due: dict[str, float] = {}
        """Each room's timer's due time, as armed."""
        self.rooms: set[str] = set()
        """Rooms with a case: the ones that get a digest."""

    async def start(self) -> None:
        self.armed = await self.store.schedules()
        self.last = await self.store.last_digests()
        self.due = await self.store.dues()
        self.rooms = set(await self.store.rooms())

    @on(CaseOpened)
    async def case_opened(self, ctx: Context, event: CaseOpened) -> None:
        """A room's first case gives it a digest."""
        self.rooms.add(event.case.room_id)
        await self.follow(event.case.room_id)

    @on(Message)
    async def room_activity(self, ctx: Context, event: Message) -> None:
        """A room's digest follows its setting (changed with `!config set learning.digest`)."""
        if event.room_id in self.rooms:
            await self.follow(event.room_id)

    def schedule(self, room_id: str) -> str:
        """The room's digest schedule now: `off`, or weekday, time and time zone."""
        return _schedule(self.setting(room_id), self.bot.timezone(room_id))

    async def follow(self, room_id: str) -> None:
        """Arm the room's timer unless it already follows the room's setting (a new room, or
        a setting changed since), or again when its digest is `LOST`: cheap when nothing
        changed (no query)."""
        schedule = self.schedule(room_id)
        if self.armed.get(room_id) != schedule:
            await self._arm(room_id, schedule, self.bot.now())
        elif (due := self.due.get(room_id)) is not None and self.bot.now() > due + LOST:
            await self._arm(room_id, schedule, due - 1)  # the same due time, fires at once

    async def _arm(self, room_id: str, schedule: str, after: float) -> None:
        key = f"digest:{room_id}"
        due: float | None = None
        if schedule == "off":
            await self.bot.cancel(self.component, key)
        else:
            weekly = parse_weekly(self.setting(room_id))
            assert weekly is not None
            if room_id in self.last:
                after = max(after, self.last[room_id] + APART)
            due = next_due(weekly, self.bot.timezone(room_id), after)
            await self.bot.schedule(self.component, key, due, {"room_id": room_id})
        await self.store.set_schedule(room_id, schedule, due)
        self.armed[room_id] = schedule
        if due is None:
            self.due.pop(room_id, None)
        else:
            self.due[room_id] = due

    @timer("digest")
    async def fired(self, ctx: Context, fired: Fired) -> None:
        room_id = ctx.room_id
        schedule = self.schedule(room_id)
        if schedule != self.armed.get(room_id):
            await self._arm(room_id, schedule, self.bot.now())  # follow the new setting
            return
        if self.bot.user_id not in self.bot.room(room_id).members:
            await self.store.set_schedule(room_id, "")  # the bot left: re-armed once back
            self.armed[room_id] = ""
            self.due.pop(room_id, None)
            return
        if not await self.store.digest_sent(room_id, fired.due):
            digest = await self.render(ctx, fired.due)
            event_id = await ctx.send(digest, in_thread=False) if digest else None
            await self.store.record_digest(room_id, fired.due, event_id)
            self.last[room_id] = max(fired.due, self.last.get(room_id, fired.due))
        await self._arm(room_id, schedule, max(self.bot.now(), fired.due))

    async def render(self, ctx: Context, end: float) -> Rich | None:
        """The digest of the week before `end`; None when the room had nothing to show."""
        room_id, start = ctx.room_id, end - WEEK
        opened = await self.store.opened(room_id, start, end)
        resolved = await self.store.resolved(room_id, start, end)
        waiting = await self.store.unanswered(room_id, end, LISTED)
        refs = await self.store.refs(room_id, start, end, limit=LISTED)
        if not (opened or resolved or waiting or refs):
            return None
        tz = self.bot.timezone(room_id)
        lines: list[tuple[Part, ...]] = [
            (ctx.t("learning.digest.header", start=short_date(start, tz, ctx.lang),
                   end=short_date(end - 1, tz, ctx.lang)),),
            (ctx.t("learning.digest.counts", opened=len(opened), resolved=len(resolved)),),
        ]
        lines.extend(self._per_specialty(ctx, opened, resolved))
        delays = [c.first_reply_at - c.opened_at for c in opened if c.first_reply_at]
        if delays:
            lines.append((ctx.t("learning.digest.median",
                                delay=human_duration(ctx.t, statistics.median(delays))),))
        for added in await ctx.ask(DigestLines(room_id, start, end)):
            lines.extend(added)
        thread = ctx.t("learning.thread")
        if resolved:
            lines.append((ctx.t("learning.digest.resolved"),))
            lines.extend((ctx.t("learning.digest.case", number=c.number,
                                specialties=self.names(ctx, room_id, c.specialties)),
                          Link(permalink(room_id, c.root_event_id), thread))
                         for c in resolved[:LISTED])
        if waiting:
            lines.append((ctx.t("learning.digest.waiting"),))
            lines.extend((ctx.t("learning.digest.waiting_case", number=c.number,
                                specialties=self.names(ctx, room_id, c.specialties),
                                age=human_duration(ctx.t, end - c.opened_at)),
                          Link(permalink(room_id, c.root_event_id), thread))
                         for c in waiting)
        if refs:
            lines.append((ctx.t("learning.digest.refs"),))
            lines.extend((*fill("• {link}", link=Link(r.url, r.domain)),
                          ctx.t("learning.digest.ref", number=r.number)) for r in refs)
        return Rich(tuple(lines))

    def _per_specialty(self, ctx: Context, opened: Sequence[Known],
                       resolved: Sequence[Known]) -> list[tuple[Part, ...]]:
        counts: dict[str, list[int]] = {}
        for index, cases in enumerate((opened, resolved)):
            for case in cases:
                for spec in case.specialties or ("",):
                    counts.setdefault(spec, [0, 0])[index] += 1
        busiest = sorted(counts.items(), key=lambda item: (-sum(item[1]), item[0]))
        return [(ctx.t("learning.digest.specialty",
                       name=self.names(ctx, ctx.room_id, (spec,) if spec else ()),
                       opened=o, resolved=r),) for spec, (o, r) in busiest]
