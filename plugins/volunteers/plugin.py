"""Volunteers: page colleagues who volunteered for a specialty when a case of it opens.

Paging is one message in the case thread mentioning a few volunteers (least recently paged
first, skipping the poster, absent people, quiet hours and anyone over the daily cap). If
nobody answers, takes or reacts, a persistent timer pages the next round; after the last
round the poster is told nobody is available. Retagging a case (`!tag`, or an edit) pages the
volunteers of a specialty it did not have yet, as one more round.

One lock serializes every selection with the recording of its pages, so the daily cap holds
even when cases of several rooms (or a timer and a message) are handled at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import Duration, bounded, format_duration, parse_duration
from bot.content import Part, Pill, Rich, emoji_key, fill
from bot.events import MemberChange, Message, Reaction
from bot.logs import report_exception
from bot.plugin import Context, Fired, Plugin, command, on, timer
from bot.router import Arg, BadArguments, Choice, Many, fold
from plugins.cases import Case, Cases
from plugins.cases.plugin import human_duration
from plugins.specialties import Specialty, match_specialties
from plugins.volunteers.store import FOREVER, MIGRATIONS, Prefs, VolunteerStore
from plugins.volunteers.strings import STRINGS

log = logging.getLogger(__name__)

INTEREST_KEYS = frozenset(map(emoji_key, ("🙋", "🙋‍♀️", "🙋‍♂️", "👀")))
"""Compared through `emoji_key`: any skin tone, with or without U+FE0F."""
_HOURS = re.compile(r"^(\d{1,2})[:h](\d{2})?-(\d{1,2})[:h](\d{2})?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DMY_DATE = re.compile(r"^(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2}|\d{4}))?$")
DAY = 86400.0
RETRY = 60.0
"""Seconds before a round whose message could not be sent is tried again."""
MAX_AWAY_YEARS = 5
"""`!away` for a duration or through a date at most this far (longer: `!away` alone)."""
MAX_AWAY_DAYS = MAX_AWAY_YEARS * 366




@dataclass(frozen=True, slots=True)
class VolunteersConfig:
    per_round: int = bounded(3, 1, 20)
    """How many volunteers one round mentions."""
    daily_cap: int = bounded(5, 1, 50)
    """At most this many pages per volunteer in 24 hours (all rooms together)."""
    escalate_after: Duration = bounded(Duration(1800), 1, 7 * 86400)
    max_rounds: int = bounded(3, 1, 10)
    fallback: str = "mg"
    """Specialty whose volunteers are paged for unclassified cases ("" for none)."""
    urgent_word: str = "urgent"
    """The hashtag (without #) that marks a case as urgent."""


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
    except (ZoneInfoNotFoundError, ValueError):
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
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


class Volunteers(Plugin):
    name = "volunteers"
    help_section = "volunteers"
    Config = VolunteersConfig
    strings = STRINGS
    migrations = MIGRATIONS
    room_settings = ("per_round", "max_rounds", "daily_cap", "escalate_after", "fallback",
                     "urgent_word")

    def __init__(self, bot: Any, config: VolunteersConfig) -> None:
        super().__init__(bot, config)
        self.store = VolunteerStore(bot.db)
        self._paged: dict[tuple[str, int], list[str]] = {}
        """Who was paged for each case (for the synchronous card lines)."""
        self._to_page: dict[tuple[str, int], tuple[list[str], bool]] = {}
        """First pages chosen as a case opens, sent once its card is posted."""
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        for room_id, number, user in await self.store.all_pages():
            self._paged.setdefault((room_id, number), []).append(user)
        self.cases.extensions.append(self)
        specialties = self.bot.plugin("specialties")
        if specialties is not None:
            specialties.listeners.append(self)  # type: ignore[attr-defined]

    # ---- helpers -------------------------------------------------------------------------
    @property
    def cases(self) -> Cases:
        plugin = self.bot.plugin("cases")
        if plugin is None:
            raise RuntimeError("the volunteers plugin needs the cases plugin")
        return cast(Cases, plugin)

    def specialties(self, room_id: str) -> tuple[Specialty, ...]:
        return self.cases.specialties(room_id)

    def match(self, room_id: str, words: Sequence[str]) -> tuple[list[str], list[str]]:
        """Specialty ids named by `words` (id or alias, any case or accent) and unknown words."""
        return match_specialties(words, self.specialties(room_id))

    def spec_name(self, room_id: str, specialty_id: str, lang: str) -> str:
        for spec in self.specialties(room_id):
            if spec.id == specialty_id:
                return spec.name(lang)
        return specialty_id

    def _pill(self, room_id: str, user_id: str, notify: bool = False) -> Pill:
        return Pill(user_id, self.bot.room(room_id).display_name(user_id), notify)

    def _pills(self, room_id: str, users: Sequence[str], notify: bool = False) -> list[Part]:
        parts: list[Part] = []
        for i, user in enumerate(users):
            if i:
                parts.append(", ")
            parts.append(self._pill(room_id, user, notify))
        return parts

    def _names(self, room_id: str, users: Sequence[str]) -> str:
        """Display names without pills: who is shown, not pinged (the card, `!take`)."""
        return ", ".join(map(self.bot.room(room_id).display_name, users))

    def _key(self, case: Case) -> str:
        return f"escalate:{case.room_id}:{case.number}"

    # ---- what the specialties feature asks ------------------------------------------------
    async def specialty_removed(self, ctx: Context, specialty: Specialty
                                ) -> list[tuple[Part, ...]]:
        """Unregister the specialty's volunteers and tell them, once, in the announcement."""
        users = await self.store.drop_specialty(ctx.room_id, specialty.id)
        if not users:
            return []
        return [(*self._pills(ctx.room_id, users, notify=True),
                 ctx.t("volunteers.specialty_removed", id=specialty.id))]

    async def specialty_figures(self, ctx: Context) -> dict[str, list[str]]:
        counts: dict[str, int] = {}
        for specialty, _user in await self.store.listing(ctx.room_id):
            counts[specialty] = counts.get(specialty, 0) + 1
        return {sid: [ctx.t("volunteers.count", count=n)] for sid, n in counts.items()}

    # ---- selection -----------------------------------------------------------------------
    async def _tz(self, prefs: Prefs, room_id: str) -> str:
        """A volunteer's timezone: their own (`!mytz`), else the room's (`timezone`)."""
        return prefs.tz or self.bot.timezone(room_id)

    async def _available(self, prefs: Prefs, room_id: str, now: float, urgent: bool) -> bool:
        if prefs.away_until is not None and prefs.away_until > now:
            return False
        if prefs.quiet is None or (urgent and prefs.urgent):
            return True
        return not in_quiet_hours(prefs.quiet, await self._tz(prefs, room_id), now)

    async def _targets(self, case: Case) -> tuple[str, ...]:
        """The specialties whose volunteers a case pages (the fallback when unclassified)."""
        fallback = self.config_for(case.room_id).fallback
        return case.specialties or ((str(fallback),) if fallback else ())

    async def _is_urgent(self, room_id: str, body: str) -> bool:
        word = fold(self.config_for(room_id).urgent_word.lstrip("#"))
        return bool(word) and re.search(rf"(?<!\w)#{re.escape(word)}(?!\w)",
                                        fold(body)) is not None

    async def select(self, case: Case, specs: Sequence[str], exclude: set[str],
                     urgent: bool, found: list[tuple[Prefs, int]] | None = None) -> list[str]:
        """The volunteers of `specs` to page next for `case`, in rotation order (`found`: the
        candidates, when the caller already has them).

        Call it under `self._lock` and record the pages before releasing it (the daily cap).
        """
        room_id = case.room_id
        limit = self.config_for(room_id).per_round
        cap = self.config_for(room_id).daily_cap
        members = self.bot.room(room_id).members
        now = self.bot.now()
        chosen: list[str] = []
        if found is None:
            found = await self.store.candidates(room_id, specs, now - DAY)
        for prefs, pages_today in found:
            user = prefs.user_id
            if len(chosen) >= limit:
                break
            if user in (case.poster, self.bot.user_id) or user in exclude or user not in members:
                continue
            if pages_today >= cap or not await self._available(prefs, room_id, now, urgent):
                continue
            chosen.append(user)
        return chosen

    async def _record(self, case: Case, users: list[str], round_: int) -> None:
        await self.store.record(case.room_id, case.number, users, round_, self.bot.now())
        known = self._paged.setdefault((case.room_id, case.number), [])
        known.extend(u for u in users if u not in known)

    async def _send_page(self, ctx: Context, case: Case, users: list[str], urgent: bool) -> None:
        names = ", ".join(self.spec_name(case.room_id, s, ctx.lang) for s in case.specialties)
        line = fill(ctx.t("volunteers.page_urgent" if urgent else "volunteers.page"),
                    number=case.number, prefix=ctx.prefix,
                    specialties=names or ctx.t("volunteers.unclassified"),
                    who=self._pills(case.room_id, users, True))
        event_id = await ctx.in_thread_of(case.root_event_id).send(Rich((line,)))
        await self.store.add_page_event(case.room_id, case.number, event_id)

    async def _schedule(self, case: Case, round_: int, urgent: bool,
                        delay: float | None = None) -> None:
        """Arm the escalation after `round_` (replacing any earlier timer of the case)."""
        if delay is None:
            delay = self.config_for(case.room_id).escalate_after
        due = self.bot.now() + delay
        async with self.bot.db.transaction():
            await self.bot.schedule(self.name, self._key(case), due,
                                    {"room_id": case.room_id, "number": case.number,
                                     "round": round_, "urgent": urgent})
            await self.store.update_case(case.room_id, case.number, due=due)

    # ---- case extension ------------------------------------------------------------------
    async def case_opened(self, ctx: Context, case: Case) -> None:
        source = ctx.source
        body = source.body if isinstance(source, Message) else ""
        urgent = await self._is_urgent(case.room_id, body)
        specs = await self._targets(case)
        async with self._lock:
            await self.store.start_case(case.room_id, case.number, specs, urgent)
            found = await self.store.candidates(case.room_id, specs, self.bot.now() - DAY)
            if not [p for p, _ in found if p.user_id != case.poster]:
                return
            # A replay after a crash pages the same people again (same transaction ids).
            users = await self.store.paged_in_round(case.room_id, case.number, 1)
            if not users:
                users = await self.select(case, specs, set(), urgent, found)
                await self._record(case, users, 1)
        # Armed now: a page that fails to send does not end the escalation, nor does it
        # keep the case from opening. The page itself follows the card (`case_posted`).
        await self._schedule(case, 1, urgent)
        if users:
            self._to_page[(case.room_id, case.number)] = (users, urgent)

    async def case_posted(self, ctx: Context, case: Case) -> None:
        """The card is in the thread: send the first page under it."""
        pending = self._to_page.pop((case.room_id, case.number), None)
        if pending is None:
            return
        try:
            await self._send_page(ctx, case, *pending)
        except Exception as exc:
            report_exception(log, "volunteers.page", exc)

    async def case_changed(self, ctx: Context, case: Case) -> None:
        if not case.is_open or case.taken_by:
            await self.bot.cancel(self.name, self._key(case))
            return
        await self._page_new_specialties(ctx, case)

    async def _page_new_specialties(self, ctx: Context, case: Case) -> None:
        """After a retag: page the volunteers of the specialties the case did not have.

        Same rules as a round (rotation, exclusions, cap), never someone already paged for
        this case. It counts as the next round and restarts the escalation delay, unless a
        colleague already answered or showed interest.
        """
        targets = await self._targets(case)
        async with self._lock:
            state = await self.store.state(case.room_id, case.number)
            if state is None:  # a case from before this state was kept: start from its tags
                await self.store.start_case(case.room_id, case.number, targets, False,
                                            await self.store.last_round(case.room_id,
                                                                        case.number))
                return
            new = [s for s in targets if s not in state.specialties]
            if not new:
                return
            already = set(await self.store.paged(case.room_id, case.number))
            users = await self.select(case, new, already, state.urgent)
            round_ = state.round + 1 if users else state.round
            async with self.bot.db.transaction():
                await self._record(case, users, round_)
                await self.store.update_case(case.room_id, case.number,
                                             specialties=(*state.specialties, *new),
                                             round=round_)
                if users and not state.stopped and not case.replies:
                    await self._schedule(case, round_, state.urgent)
        if users:
            await self._send_page(ctx, case, users, state.urgent)
            await self.cases.refresh_card(ctx, case)

    def card_lines(self, case: Case, lang: str) -> list[tuple[Part, ...]]:
        lines: list[tuple[Part, ...]] = []
        paged = self._paged.get((case.room_id, case.number))
        if paged:
            lines.append((self.bot.t(lang, "volunteers.card.paged")
                          + self._names(case.room_id, paged),))
        if case.taken_by:
            lines.append(fill(self.bot.t(lang, "volunteers.card.taken"),
                              who=self._names(case.room_id, [case.taken_by])))
        return lines

    # ---- escalation ----------------------------------------------------------------------
    @timer("escalate")
    async def escalate(self, fired: Fired) -> None:
        room_id = str(fired.payload["room_id"])
        round_ = int(fired.payload.get("round", 1))
        urgent = bool(fired.payload.get("urgent", False))
        case = await self.cases.store.get(room_id, int(fired.payload["number"]))
        if case is None or not case.is_open or case.replies or case.taken_by:
            return
        ctx = Context(self.bot, room_id, fired, thread_root=case.root_event_id)
        state = await self.store.state(room_id, case.number)
        if state is not None and (state.stopped or (state.due is not None
                                                   and state.due != fired.due)):
            return  # stopped by a reaction, or superseded by a retag's own round
        if round_ >= self.config_for(room_id).max_rounds:
            await ctx.reply(fill(ctx.t("volunteers.nobody"), prefix=ctx.prefix,
                                 poster=self._pill(room_id, case.poster, notify=True)))
            return
        async with self._lock:
            state = await self.store.state(room_id, case.number)
            if state is not None and state.due is not None and state.due != fired.due:
                return  # a retag paged its own round while this timer waited for the lock
            # A replay after a crash pages the same people again (same transaction ids).
            users = await self.store.paged_in_round(room_id, case.number, round_ + 1)
            if not users:
                already = set(await self.store.paged(room_id, case.number))
                users = await self.select(case, await self._targets(case), already, urgent)
                async with self.bot.db.transaction():
                    await self._record(case, users, round_ + 1)
                    await self.store.update_case(room_id, case.number, round=round_ + 1)
        if users:
            try:
                await self._send_page(ctx, case, users, urgent)
                await self.cases.refresh_card(ctx, case)
            except Exception:
                # The homeserver refused or was unreachable: try this round again soon (the
                # same people), rather than let the escalation die with this timer.
                await self._schedule(case, round_, urgent, delay=RETRY)
                raise
        async with self._lock:
            state = await self.store.state(room_id, case.number)
            if state is None or state.due in (None, fired.due):  # no retag meanwhile
                await self._schedule(case, round_ + 1, urgent)

    @on(Reaction)
    async def interest(self, ctx: Context, event: Reaction) -> None:
        if emoji_key(event.key) not in INTEREST_KEYS:
            return
        case = await self.cases.store.by_root(event.room_id, event.relates_to)
        if case is None:
            number = await self.store.case_of_event(event.room_id, event.relates_to)
            case = await self.cases.store.get(event.room_id, number) if number else None
        if case is not None and event.sender != case.poster:
            await self.store.update_case(case.room_id, case.number, stopped=1)
            await self.bot.cancel(self.name, self._key(case))

    @on(MemberChange)
    async def membership(self, ctx: Context, event: MemberChange) -> None:
        """A volunteer who left or was kicked or banned is unregistered (a late leave of
        someone who is a member again changes nothing)."""
        if event.membership in ("leave", "ban") and event.user_id not in ctx.room.members:
            await self.store.remove(event.room_id, event.user_id)

    # ---- commands ------------------------------------------------------------------------
    @command("volunteer", "benevole", args=(Many("vol_specialty"),),
             summary="volunteers.volunteer.summary")
    async def volunteer(self, ctx: Context, vol_specialty: list[str]) -> None:
        sender = ctx.event.sender
        if sender not in ctx.room.members:
            await ctx.reply(ctx.t("volunteers.not_member"))
            return
        found, unknown = self.match(ctx.room_id, vol_specialty)
        if unknown:
            await ctx.reply(Rich.of(
                ctx.t("volunteers.unknown_specialty", names=", ".join(unknown)),
                ctx.t("usage", usage=f"{ctx.prefix}volunteer <{ctx.t('arg.vol_specialty')}>…")))
            return
        await self.store.add(ctx.room_id, sender, found, self.bot.now())
        mine = await self.store.of_user(ctx.room_id, sender)
        await ctx.reply(ctx.t(
            "volunteers.added", cap=self.config_for(ctx.room_id).daily_cap,
            names=", ".join(self.spec_name(ctx.room_id, s, ctx.lang) for s in mine)))

    @command("unvolunteer", args=(Many("vol_specialty", optional=True),),
             summary="volunteers.unvolunteer.summary")
    async def unvolunteer(self, ctx: Context, vol_specialty: list[str]) -> None:
        sender = ctx.event.sender
        if not vol_specialty:
            removed = await self.store.remove(ctx.room_id, sender)
            await ctx.reply(ctx.t("volunteers.removed_all" if removed
                                  else "volunteers.not_volunteer"))
            return
        found, unknown = self.match(ctx.room_id, vol_specialty)
        if unknown:
            await ctx.reply(Rich.of(
                ctx.t("volunteers.unknown_specialty", names=", ".join(unknown)),
                ctx.t("usage", usage=f"{ctx.prefix}unvolunteer "
                                     f"[{ctx.t('arg.vol_specialty')}…]")))
            return
        if not await self.store.remove(ctx.room_id, sender, found):
            await ctx.reply(ctx.t("volunteers.not_volunteer"))
            return
        await ctx.reply(ctx.t("volunteers.removed", names=", ".join(
            self.spec_name(ctx.room_id, s, ctx.lang) for s in found)))

    @command("volunteers", "benevoles", args=(Arg("vol_which", optional=True),),
             summary="volunteers.volunteers.summary")
    async def volunteers(self, ctx: Context, vol_which: str | None) -> None:
        if vol_which is not None and fold(vol_which) in ("stats", "statistiques"):
            await self._stats(ctx)
            return
        only: str | None = None
        if vol_which is not None:
            found, unknown = self.match(ctx.room_id, [vol_which])
            if unknown:
                await ctx.reply(Rich.of(
                    ctx.t("volunteers.unknown_specialty", names=vol_which),
                    ctx.t("usage", usage=f"{ctx.prefix}volunteers "
                                         f"[{ctx.t('arg.vol_which')}]")))
                return
            only = found[0]
        by_spec: dict[str, list[str]] = {}
        for spec, user in await self.store.listing(ctx.room_id):
            if only is None or spec == only:
                by_spec.setdefault(spec, []).append(user)
        if not by_spec:
            await ctx.reply(ctx.t("volunteers.none", prefix=ctx.prefix))
            return
        lines: list[tuple[Part, ...]] = [(ctx.t("volunteers.list.header"),)]
        for spec, users in by_spec.items():
            name = self.spec_name(ctx.room_id, spec, ctx.lang)
            lines.append((ctx.t("volunteers.list.line", specialty=name),
                          *self._pills(ctx.room_id, users)))
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
            lines.append((self._pill(ctx.room_id, user),
                          ctx.t("volunteers.stats.line", pages=pages, replies=replies,
                                median=median)))
        await ctx.reply(Rich(tuple(lines)))

    @command("away", "absent", args=(AwayUntil("vol_away", optional=True),),
             summary="volunteers.away.summary")
    async def away(self, ctx: Context, vol_away: float | DateText | None) -> None:
        sender = ctx.event.sender
        if isinstance(vol_away, DateText):
            tz = zone(await self._tz(await self.store.prefs(sender), ctx.room_id))
            today = datetime.fromtimestamp(self.bot.now(), tz).date()
            day = parse_date(vol_away, today)
            usage = ctx.t("usage", usage=f"{ctx.prefix}away [{ctx.t('arg.vol_away')}]")
            if day is None:
                await ctx.reply(Rich.of(ctx.t("volunteers.away.bad", value=vol_away) + ".",
                                        usage))
                return
            if day > today + timedelta(days=MAX_AWAY_DAYS):
                await ctx.reply(Rich.of(
                    ctx.t("volunteers.away.too_far", years=MAX_AWAY_YEARS) + ".", usage))
                return
            # Away the whole of that day: back at the next local midnight.
            until = datetime.combine(day + timedelta(days=1), time(0), tz).timestamp()
            shown = day.strftime("%d/%m/%Y") if ctx.lang == "fr" else day.isoformat()
            if until <= self.bot.now():
                await ctx.reply(Rich.of(ctx.t("volunteers.away.past", date=shown), usage))
                return
            await self.store.set_prefs(sender, away_until=until)
            await ctx.reply(ctx.t("volunteers.away_until", date=shown))
            return
        if vol_away is not None:
            await self.store.set_prefs(sender, away_until=self.bot.now() + vol_away)
            await ctx.reply(ctx.t("volunteers.away_for", duration=format_duration(vol_away)))
            return
        await self.store.set_prefs(sender, away_until=FOREVER)
        await ctx.reply(ctx.t("volunteers.away", prefix=ctx.prefix))

    @command("back", summary="volunteers.back.summary")
    async def back(self, ctx: Context) -> None:
        await self.store.set_prefs(ctx.event.sender, away_until=None)
        await ctx.reply(ctx.t("volunteers.back"))

    @command("quiet", "calme", args=(Arg("vol_hours"),), summary="volunteers.quiet.summary")
    async def quiet(self, ctx: Context, vol_hours: str) -> None:
        sender = ctx.event.sender
        if fold(vol_hours) in ("off", "non", "aucune"):
            await self.store.set_prefs(sender, quiet_start=None, quiet_end=None)
            await ctx.reply(ctx.t("volunteers.quiet.off"))
            return
        hours = parse_hours(vol_hours)
        if hours is None:
            await ctx.reply(Rich.of(
                ctx.t("volunteers.quiet.bad", value=vol_hours),
                ctx.t("usage", usage=f"{ctx.prefix}quiet <{ctx.t('arg.vol_hours')}>")))
            return
        await self.store.set_prefs(sender, quiet_start=hours[0], quiet_end=hours[1])
        prefs = await self.store.prefs(sender)
        await ctx.reply(ctx.t("volunteers.quiet.set", start=hhmm(hours[0]), end=hhmm(hours[1]),
                              tz=await self._tz(prefs, ctx.room_id)))

    @command("mytz", "fuseau", args=(Arg("vol_tz"),), summary="volunteers.mytz.summary")
    async def mytz(self, ctx: Context, vol_tz: str) -> None:
        if not valid_tz(vol_tz):
            await ctx.reply(Rich.of(
                ctx.t("volunteers.tz.bad", value=vol_tz),
                ctx.t("usage", usage=f"{ctx.prefix}mytz <{ctx.t('arg.vol_tz')}>")))
            return
        await self.store.set_prefs(ctx.event.sender, tz=vol_tz)
        await ctx.reply(ctx.t("volunteers.tz.set", tz=vol_tz))

    @command("urgent", args=(Choice("vol_switch", choices=("on", "off")),),
             summary="volunteers.urgent.summary")
    async def urgent(self, ctx: Context, vol_switch: str) -> None:
        await self.store.set_prefs(ctx.event.sender, urgent=int(vol_switch == "on"))
        word = self.config_for(ctx.room_id).urgent_word.lstrip("#")
        await ctx.reply(ctx.t(f"volunteers.urgent.{vol_switch}", word=word))

    @command("take", summary="volunteers.take.summary")
    async def take(self, ctx: Context) -> None:
        event = ctx.event
        root = getattr(event, "thread_root", None)
        case = await self.cases.store.by_root(ctx.room_id, root) if root else None
        if case is None or not case.is_open:
            await ctx.reply(ctx.t("volunteers.take.where", prefix=ctx.prefix))
            return
        if event.sender == case.poster:
            await ctx.reply(ctx.t("volunteers.take.own"))
            return
        if case.taken_by:
            await ctx.reply(fill(ctx.t("volunteers.take.already"), number=case.number,
                                 who=self._names(ctx.room_id, [case.taken_by])))
            return
        case = await self.cases.store.update(case, taken_by=event.sender)
        await self.bot.cancel(self.name, self._key(case))
        await self.cases.refresh_card(ctx, case)
        await ctx.reply(fill(ctx.t("volunteers.take.done"), number=case.number,
                             who=self._names(ctx.room_id, [event.sender])))
