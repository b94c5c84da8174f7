"""The learning feature's answers: `!biblio`, `!fmc`, and the `!stats` picture.

The CSV is built in a worker thread (`asyncio.to_thread`), the chart in a process of its own
(`charts.draw`): the event loop only reads the rows and sends.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.content import Link, Part, Rich, fill, permalink
from bot.events import Unavailable
from bot.logs import report_exception
from bot.plugin import BotAPI, Context, Refusal
from bot.router import Arg, BadArguments
from bot.text import fold
from plugins.cases.model import ChartFigures
from plugins.learning.charts import HEIGHT, WIDTH, ChartData, draw
from plugins.learning.digest import Names, short_date
from plugins.learning.fmc import to_csv
from plugins.learning.store import LearningStore
from plugins.specialties import Specialty, SpecialtyArg

logger = logging.getLogger(__name__)

YEAR = "year"
"""What `!fmc année` (or `year`) converts to: since January 1st, in the room's time zone."""
YEAR_WORDS = frozenset({"annee", "an", "year"})
MAX_DAYS = 3650
MAX_NAME = 16
"""Specialty names are cut there on the chart's axis (with "…"): what its left third holds."""
MAX_BARS = 8
"""The chart's specialties: those with the most answered cases (a bar costs a label to
draw, and more would not read in a thread's thumbnail)."""
WEEK, MONTH, QUARTER, YEAR = "week", "month", "quarter", "year"
MAX_PERIODS = 26
"""The chart's bars over time at most: weeks, else months, quarters or years."""
EPOCH = date(1970, 1, 1)
DELAY_UNITS = ((86400, "d"), (3600, "h"), (60, "min"))
"""The delay axis's unit: the largest the slowest shown median holds twice."""


@dataclass(frozen=True, slots=True)
class SpecialtyOrDays(SpecialtyArg):
    """`!biblio`'s first word: a specialty of the room, or already the number of days."""

    def convert(self, raw: str, ctx: Context) -> Specialty | int:  # type: ignore[override]
        if raw.isascii() and raw.isdigit():
            if len(raw) > 4 or not 1 <= int(raw) <= MAX_DAYS:
                raise BadArguments("bad.range", name="days", low=1, high=MAX_DAYS)
            return int(raw)
        return SpecialtyArg.convert(self, raw, ctx)


@dataclass(frozen=True, slots=True)
class Period(Arg):
    """`!fmc`'s period: a number of days (1-3650) or `année` / `year`."""

    def convert(self, raw: str, ctx: Context) -> int | str:
        if fold(raw) in YEAR_WORDS:
            return YEAR
        if raw.isascii() and raw.isdigit() and len(raw) <= 4 and 1 <= int(raw) <= MAX_DAYS:
            return int(raw)
        raise BadArguments("learning.bad_period", value=raw)


def room_label(bot: BotAPI, room_id: str) -> str:
    """A room as a member recognises it: its name, else its alias, else its id."""
    room = bot.room(room_id)
    return room.name or room.canonical_alias or room_id


class Answers:
    def __init__(self, bot: BotAPI, store: LearningStore, names: Names) -> None:
        self.bot = bot
        self.store = store
        self.names = names

    async def biblio(self, ctx: Context, specialty: Specialty | int | None, days: int | None,
                     limit: int) -> None:
        if isinstance(specialty, int):
            specialty, days = None, days or specialty
        days = days or 30
        refs = await self.store.refs(ctx.room_id, self.bot.now() - days * 86400,
                                     specialty=specialty.id if specialty else None, limit=limit)
        if not refs:
            await ctx.reply(ctx.t("learning.biblio.none", days=days))
            return
        tz = self.bot.timezone(ctx.room_id)
        lines: list[tuple[Part, ...]] = [
            (ctx.t("learning.biblio.header", days=days, count=len(refs)),)]
        thread = ctx.t("learning.thread")
        lines.extend(fill(ctx.t("learning.biblio.line"), link=Link(r.url, r.domain),
                          number=r.number, specialties=self.names(ctx, r.room_id, r.specialties),
                          date=short_date(r.at, tz, ctx.lang),
                          thread=Link(permalink(r.room_id, r.root_event_id), thread))
                     for r in refs)
        await ctx.reply(Rich(tuple(lines)))

    def _since(self, ctx: Context, period: int | str) -> float:
        now = self.bot.now()
        if period == YEAR:
            local = datetime.fromtimestamp(now, ZoneInfo(self.bot.timezone(ctx.room_id)))
            return local.replace(month=1, day=1, hour=0, minute=0, second=0,
                                 microsecond=0).timestamp()
        assert isinstance(period, int)
        return now - period * 86400

    async def fmc(self, ctx: Context, period: int | str) -> None:
        """The member's log as a CSV, in the encrypted direct room with them."""
        since = self._since(ctx, period)
        user = ctx.event.sender
        log = await self.store.log(user, since)
        if not log:
            await ctx.reply(ctx.t("learning.fmc.none"))
            return
        rows = [(datetime.fromtimestamp(r.at, ZoneInfo(self.bot.timezone(r.room_id)))
                 .date().isoformat(), room_label(self.bot, r.room_id), str(r.number),
                 self.names(ctx, r.room_id, r.specialties), ctx.t(f"learning.role.{r.role}"),
                 permalink(r.room_id, r.root_event_id), " ".join(r.urls)) for r in log]
        data = await asyncio.to_thread(to_csv, ctx.t("learning.csv.header"), rows)
        tz = self.bot.timezone(ctx.room_id)
        try:
            direct = await ctx.direct(user)
        except Unavailable:
            raise  # the homeserver did not answer: the command is replayed
        except Exception as exc:  # refused (their server, an invitation they block…)
            report_exception(logger, "learning.fmc direct room", exc)
            raise Refusal(ctx.t("learning.fmc.no_direct")) from None
        day = datetime.fromtimestamp(self.bot.now(), ZoneInfo(tz)).date().isoformat()
        # The file first: a note about a file that failed to arrive would mislead.
        await direct.send_file(data, f"fmc-{day}.csv", "text/csv")
        await direct.send(ctx.t("learning.fmc.file", start=short_date(since, tz, ctx.lang),
                                end=short_date(self.bot.now(), tz, ctx.lang)))
        await ctx.reply(ctx.t("learning.fmc.sent", count=len(rows)))

    async def chart(self, ctx: Context, since: float, figures: ChartFigures) -> None:
        """Cases per period and the median delay to a first answer per specialty, as a PNG
        in the thread of the `!stats` command."""
        if not figures.per_day:
            return
        zone = ZoneInfo(self.bot.timezone(ctx.room_id))
        unit, starts = periods(datetime.fromtimestamp(since, zone).date(),
                               datetime.fromtimestamp(self.bot.now(), zone).date())
        opened = dict.fromkeys(starts, 0)
        for day, count in figures.per_day:  # UTC days: a case opened near midnight may count
            start = period_start(EPOCH + timedelta(days=day), unit)  # in the next period
            opened[start] = opened.get(start, 0) + count
        busiest = figures.first_answer[:MAX_BARS]
        slowest = max((seconds for _, seconds, _ in busiest), default=0)
        scale, scale_name = next((s, name) for s, name in DELAY_UNITS if slowest >= 2 * s
                                 or name == "min")
        data = ChartData(
            [(period_label(ctx, start, unit), count) for start, count in sorted(opened.items())],
            [(short(self.names(ctx, ctx.room_id, (s,) if s else ())), seconds / scale)
             for s, seconds, _ in busiest],
            ctx.t(f"learning.chart.{unit}"),
            ctx.t("learning.chart.first", unit=ctx.t(f"learning.chart.unit.{scale_name}")))
        png = await draw(data)
        await ctx.send_file(png, ctx.t("learning.chart.file"), "image/png",
                            image_size=(WIDTH, HEIGHT))


def short(name: str) -> str:
    return name if len(name) <= MAX_NAME else name[:MAX_NAME - 1].rstrip() + "…"


def period_start(day: date, unit: str) -> date:
    """The first day of the week (Monday), month, quarter or year holding `day`."""
    if unit == WEEK:
        return day - timedelta(days=day.weekday())
    if unit == MONTH:
        return day.replace(day=1)
    if unit == QUARTER:
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def periods(first: date, last: date) -> tuple[str, list[date]]:
    """The shortest unit giving at most `MAX_PERIODS` bars from `first` to `last`, and the
    starts of its periods."""
    for unit in (WEEK, MONTH, QUARTER, YEAR):
        starts = [period_start(first, unit)]
        while (following := period_start(starts[-1] + timedelta(days=366 if unit == YEAR else
                                                                 92 if unit == QUARTER else
                                                                 31 if unit == MONTH else 7),
                                          unit)) <= last:
            starts.append(following)
        if len(starts) <= MAX_PERIODS:
            break
    return unit, starts


def period_label(ctx: Context, start: date, unit: str) -> str:
    if unit == WEEK:
        return start.strftime("%d/%m")
    if unit == MONTH:
        return start.strftime("%m/%y")
    if unit == QUARTER:
        return ctx.t("learning.chart.quarter_label", n=(start.month + 2) // 3,
                     year=start.strftime("%y"))
    return str(start.year)
