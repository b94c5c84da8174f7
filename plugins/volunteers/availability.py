"""When a volunteer may be paged: away, quiet hours, time zones (pure functions, no I/O)."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import parse_duration
from bot.router import Arg, BadArguments
from bot.text import fold
from plugins.volunteers.store import Prefs

if TYPE_CHECKING:
    from bot.plugin import Context

_HOURS = re.compile(r"^(\d{1,2})[:h](\d{2})?-(\d{1,2})[:h](\d{2})?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DMY_DATE = re.compile(r"^(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2}|\d{4}))?$")
DAY = 86400.0
MAX_AWAY_YEARS = 5
"""`!away` for a duration or through a date at most this far (longer: `!away` alone)."""
MAX_AWAY_DAYS = MAX_AWAY_YEARS * 366


class DateText(str):
    """A word shaped like a date; read with `parse_date` once the sender's "today" is known."""


@dataclass(frozen=True, slots=True)
class AwayUntil(Arg):
    """`!away` argument: a duration (`4h`, `3j`: seconds) or a date (`15/08`, `15/08/2027`,
    `2027-08-15`: a `DateText`)."""

    def convert(self, raw: str, ctx: Context) -> float | DateText:
        try:
            seconds = float(parse_duration(raw))
        except ValueError:
            pass
        else:
            if seconds > MAX_AWAY_DAYS * DAY:  # inf too
                raise BadArguments("volunteers.away.too_far", years=MAX_AWAY_YEARS)
            return seconds
        if not (_ISO_DATE.match(raw) or _DMY_DATE.match(raw)):
            raise BadArguments("volunteers.away.bad", value=raw)
        return DateText(raw)


@dataclass(frozen=True, slots=True)
class QuietHours(Arg):
    """`!quiet` argument: `22:00-07:00` as (start, end) minutes, or None for `off`."""

    def convert(self, raw: str, ctx: Context) -> tuple[int, int] | None:
        if fold(raw) in ("off", "non", "aucune"):
            return None
        hours = parse_hours(raw)
        if hours is None:
            raise BadArguments("volunteers.quiet.bad", value=raw)
        return hours


@dataclass(frozen=True, slots=True)
class TimeZone(Arg):
    """`!mytz` argument: an IANA time zone name."""

    def convert(self, raw: str, ctx: Context) -> str:
        if not valid_tz(raw):
            raise BadArguments("volunteers.tz.bad", value=raw)
        return raw


def parse_date(text: str, today: date) -> date | None:
    """`2027-08-15`, `15/08/2027`, `15/08/27`, or `15/08` (its next occurrence from `today`)."""
    text = text.strip()
    try:
        if match := _ISO_DATE.match(text):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _DMY_DATE.match(text):
            day, month = int(match[1]), int(match[2])
            if match[3]:
                year = int(match[3])
                return date(year + 2000 if year < 100 else year, month, day)
            for year in range(today.year, today.year + 5):  # 29/02: the next leap year
                with contextlib.suppress(ValueError):
                    found = date(year, month, day)
                    if found >= today:
                        return found
    except ValueError:
        return None
    return None


def zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        return ZoneInfo("Europe/Paris")


def parse_hours(text: str) -> tuple[int, int] | None:
    """`22:00-07:00` -> (1320, 420) minutes; None when it is not a valid, non-empty range."""
    match = _HOURS.match(text.strip().replace(" ", ""))
    if not match:
        return None
    h1, m1, h2, m2 = (int(g or 0) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        return None
    start, end = h1 * 60 + m1, h2 * 60 + m2
    return None if start == end else (start, end)


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def in_quiet_hours(quiet: tuple[int, int], tz: str, now: float) -> bool:
    """Whether `now` falls in the quiet range, read in timezone `tz` (ranges may span midnight)."""
    local = datetime.fromtimestamp(now, zone(tz))
    minute = local.hour * 60 + local.minute
    start, end = quiet
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


def valid_tz(name: str) -> bool:
    if not name or name.startswith("/") or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        return False
    return True


def available(prefs: Prefs, tz: str, now: float, urgent: bool) -> bool:
    """Whether a volunteer may be paged at `now`: not away, and out of their quiet hours
    (read in `tz`) unless the case is urgent and they accept urgent pages."""
    if prefs.away_until is not None and prefs.away_until > now:
        return False
    if prefs.quiet is None or (urgent and prefs.urgent):
        return True
    return not in_quiet_hours(prefs.quiet, tz, now)
