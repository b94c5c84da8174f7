"""Volunteers: page colleagues who volunteered for a specialty when a case of it opens.

Paging is one message in the case thread mentioning a few volunteers (least recently paged
first, skipping the poster, absent people, quiet hours and anyone over the daily cap). If
nobody answers, takes or reacts, a persistent timer pages the next round; after the last
round the poster is told nobody is available.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import Duration, format_duration
from bot.content import Part, Pill, Rich, fill
from bot.events import MemberChange, Message, Reaction
from bot.plugin import Context, Fired, Plugin, command, on, timer
from bot.router import Arg, Choice, Many, fold
from bot.router import Duration as DurationArg
from plugins.cases import Case, Cases
from plugins.specialties import Specialty, match_specialties
from plugins.volunteers.store import FOREVER, MIGRATIONS, Prefs, VolunteerStore
from plugins.volunteers.strings import STRINGS

INTEREST_KEYS = frozenset({"🙋", "🙋‍♀️", "🙋‍♂️", "👀"})
_HOURS = re.compile(r"^(\d{1,2})[:h](\d{2})?-(\d{1,2})[:h](\d{2})?$")
_URGENT = re.compile(r"(?<!\w)#urgent(?!\w)")
DAY = 86400.0


@dataclass(frozen=True, slots=True)
class VolunteersConfig:
    per_round: int = 3
    """How many volunteers one round mentions."""
    daily_cap: int = 5
    """At most this many pages per volunteer in 24 hours (all rooms together)."""
    escalate_after: Duration = Duration(1800)
    max_rounds: int = 3
    fallback: str = "mg"
    """Specialty whose volunteers are paged for unclassified cases ("" for none)."""
    default_tz: str = "Europe/Paris"


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
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("Europe/Paris")
    local = datetime.fromtimestamp(now, zone)
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
    Config = VolunteersConfig
    strings = STRINGS
    migrations = MIGRATIONS

    def __init__(self, bot: Any, config: VolunteersConfig) -> None:
        super().__init__(bot, config)
        self.store = VolunteerStore(bot.db)
        self._paged: dict[tuple[str, int], list[str]] = {}
        """Who was paged for each case (for the synchronous card lines)."""

    async def start(self) -> None:
        for room_id, number, user in await self.store.all_pages():
            self._paged.setdefault((room_id, number), []).append(user)
        self.cases.extensions.append(self)

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

    @staticmethod
    def _expand(line: tuple[Part, ...], name: str, parts: Sequence[Part]) -> tuple[Part, ...]:
        """Put several parts where `fill` left the `{name}` field."""
        out: list[Part] = []
        for part in line:
            if part == "{" + name + "}":
                out.extend(parts)
            else:
                out.append(part)
        return tuple(out)

    def _key(self, case: Case) -> str:
        return f"escalate:{case.room_id}:{case.number}"

    # ---- selection -----------------------------------------------------------------------
    def _available(self, prefs: Prefs, now: float, urgent: bool) -> bool:
        if prefs.away_until is not None and prefs.away_until > now:
            return False
        if prefs.quiet is None or (urgent and prefs.urgent):
            return True
        return not in_quiet_hours(prefs.quiet, prefs.tz or self.config.default_tz, now)

    async def select(self, case: Case, exclude: set[str], urgent: bool) -> list[str]:
        """The volunteers to page next for `case`, in rotation order."""
        room_id = case.room_id
        fallback = await self.setting(room_id, "fallback")
        specs = case.specialties or ((fallback,) if fallback else ())
        limit = int(await self.setting(room_id, "per_round"))
        cap = int(await self.setting(room_id, "daily_cap"))
        members = self.bot.room(room_id).members
        now = self.bot.now()
        chosen: list[str] = []
        for user in await self.store.candidates(room_id, specs):
            if len(chosen) >= limit:
                break
            if user in (case.poster, self.bot.user_id) or user in exclude or user not in members:
                continue
            if not self._available(await self.store.prefs(user), now, urgent):
                continue
            if await self.store.pages_since(user, now - DAY) >= cap:
                continue
            chosen.append(user)
        return chosen

    async def _page(self, ctx: Context, case: Case, users: list[str], round_: int,
                    urgent: bool) -> None:
        await self.store.record(case.room_id, case.number, users, round_, self.bot.now())
        known = self._paged.setdefault((case.room_id, case.number), [])
        known.extend(u for u in users if u not in known)
        names = ", ".join(self.spec_name(case.room_id, s, ctx.lang) for s in case.specialties)
        template = ctx.t("volunteers.page_urgent" if urgent else "volunteers.page",
                         number=case.number, prefix=ctx.prefix,
                         specialties=names or ctx.t("volunteers.unclassified"))
        line = self._expand(fill(template), "who", self._pills(case.room_id, users, True))
        await ctx.in_thread_of(case.root_event_id).send(Rich((line,)))

    async def _schedule(self, case: Case, round_: int, urgent: bool) -> None:
        delay = await self.setting(case.room_id, "escalate_after")
        await self.bot.schedule(self.name, self._key(case), self.bot.now() + float(delay),
                                {"room_id": case.room_id, "number": case.number,
                                 "round": round_, "urgent": urgent})

    # ---- case extension ------------------------------------------------------------------
    async def case_opened(self, ctx: Context, case: Case) -> None:
        source = ctx.source
        body = source.body if isinstance(source, Message) else ""
        urgent = bool(_URGENT.search(fold(body)))
        fallback = await self.setting(case.room_id, "fallback")
        specs = case.specialties or ((fallback,) if fallback else ())
        if not [u for u in await self.store.candidates(case.room_id, specs) if u != case.poster]:
            return
        users = await self.store.paged_in_round(case.room_id, case.number, 1) or (
            await self.select(case, set(), urgent))
        if users:
            await self._page(ctx, case, users, 1, urgent)
        await self._schedule(case, 1, urgent)

    async def case_changed(self, ctx: Context, case: Case) -> None:
        if not case.is_open or case.taken_by:
            await self.bot.cancel(self.name, self._key(case))

    def card_lines(self, case: Case, lang: str) -> list[tuple[Part, ...]]:
        lines: list[tuple[Part, ...]] = []
        paged = self._paged.get((case.room_id, case.number))
        if paged:
            lines.append((self.bot.t(lang, "volunteers.card.paged"),
                          *self._pills(case.room_id, paged)))
        if case.taken_by:
            lines.append(fill(self.bot.t(lang, "volunteers.card.taken"),
                              who=self._pill(case.room_id, case.taken_by)))
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
        if round_ >= int(await self.setting(room_id, "max_rounds")):
            await ctx.reply(fill(ctx.t("volunteers.nobody", prefix=ctx.prefix),
                                 poster=self._pill(room_id, case.poster, notify=True)))
            return
        # A replay after a crash pages the same people again (same transaction ids: no resend).
        users = await self.store.paged_in_round(room_id, case.number, round_ + 1)
        if not users:
            already = set(await self.store.paged(room_id, case.number))
            users = await self.select(case, already, urgent)
        if users:
            await self._page(ctx, case, users, round_ + 1, urgent)
            await self.cases.refresh_card(ctx, case)
        await self._schedule(case, round_ + 1, urgent)

    @on(Reaction)
    async def interest(self, ctx: Context, event: Reaction) -> None:
        if event.key not in INTEREST_KEYS:
            return
        case = await self.cases.store.by_root(event.room_id, event.relates_to)
        if case is not None and event.sender != case.poster:
            await self.bot.cancel(self.name, self._key(case))

    @on(MemberChange)
    async def membership(self, ctx: Context, event: MemberChange) -> None:
        if event.membership in ("leave", "ban"):
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
            "volunteers.added", cap=await self.setting(ctx.room_id, "daily_cap"),
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
        for user, pages, replies in rows:
            lines.append((self._pill(ctx.room_id, user),
                          ctx.t("volunteers.stats.line", pages=pages, replies=replies)))
        await ctx.reply(Rich(tuple(lines)))

    @command("away", "absent", args=(DurationArg("vol_duration", optional=True),),
             summary="volunteers.away.summary")
    async def away(self, ctx: Context, vol_duration: float | None) -> None:
        if vol_duration is not None:
            await self.store.set_prefs(ctx.event.sender,
                                       away_until=self.bot.now() + vol_duration)
            await ctx.reply(ctx.t("volunteers.away_for",
                                  duration=format_duration(vol_duration)))
            return
        await self.store.set_prefs(ctx.event.sender, away_until=FOREVER)
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
                              tz=prefs.tz or self.config.default_tz))

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
        await ctx.reply(ctx.t(f"volunteers.urgent.{vol_switch}"))

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
            await ctx.reply(fill(ctx.t("volunteers.take.already", number=case.number),
                                 who=self._pill(ctx.room_id, case.taken_by)))
            return
        case = await self.cases.store.update(case, taken_by=event.sender)
        await self.bot.cancel(self.name, self._key(case))
        await self.cases.refresh_card(ctx, case)
        await ctx.reply(fill(ctx.t("volunteers.take.done", number=case.number),
                             who=self._pill(ctx.room_id, event.sender)))
