"""Cases: `!case` opens a numbered case answered in a thread, tagged by specialty, tracked
until it is resolved, withdrawn or closed. The card at the head of the thread is edited in
place so it always shows the current state.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.config import Duration, bounded
from bot.content import Bold, Link, Part, Rich, emoji_key, fill, permalink
from bot.events import Edit, Message, Reaction, Redaction, RoomInfo, Unavailable
from bot.logs import report_exception
from bot.plugin import Context, Fired, Plugin, command, on, timer
from bot.router import Int, Rest, split_command
from plugins.cases.store import CLOSED, OPEN, RESOLVED, WITHDRAWN, Case, CaseStore
from plugins.cases.store import MIGRATIONS as CASE_MIGRATIONS
from plugins.cases.strings import STRINGS
from plugins.specialties import (
    Specialty,
    classify,
    load_defaults,
    match_specialties,
    normalize,
)

log = logging.getLogger(__name__)

RESOLVE_KEYS = frozenset(map(emoji_key, ("✅", "✔️", "☑️")))
"""Compared through `emoji_key`: "✅️" (Element Web) resolves as "✅" does."""
MAX_TAGS = 3
MAX_CASE_DIGITS = 9


@dataclass(frozen=True, slots=True)
class CasesConfig:
    unanswered_reminder: Duration = bounded(Duration(4 * 3600), 1, 30 * 86400)
    resolve_reminder: Duration = bounded(Duration(3 * 86400), 1, 90 * 86400)
    auto_close: Duration = bounded(Duration(14 * 86400), 1, 365 * 86400)
    resolve_power_level: int = bounded(50, 0, 100)
    list_limit: int = bounded(15, 1, 50)


class CaseExtension(Protocol):
    """What another feature (volunteers, secrecy) may add to a case's life; a feature that
    subclasses it inherits these do-nothing defaults for what it does not need."""

    async def case_opened(self, ctx: Context, case: Case) -> None:
        """The case exists, its card is not sent yet (what the card shows is decided here)."""

    async def case_posted(self, ctx: Context, case: Case) -> None:
        """The card is the first message of the thread; what follows it goes here, in the
        order the features were loaded (secrecy's reminder before volunteers' page)."""

    async def case_changed(self, ctx: Context, case: Case) -> None:
        """The case's state or tags changed (its card was refreshed)."""

    def card_lines(self, case: Case, lang: str) -> list[tuple[Part, ...]]:
        """Lines this feature adds to the card."""
        return []


class StatsSource(Protocol):
    """A feature that adds its own figures (counts only) to `!stats`."""

    async def stats_lines(self, ctx: Context, since: float) -> list[tuple[Part, ...]]: ...


class SpecialtySource(Protocol):
    listeners: list[Any]

    def for_room(self, room_id: str) -> tuple[Specialty, ...]: ...
    def label(self, room_id: str, specialty_id: str, lang: str) -> str: ...


class NotACaseNumber(ValueError):
    """A word shaped like a number that names no case (`²`, `٣`, twenty digits)."""


def case_number(word: str) -> int | None:
    """The case number `word` names (`12`, `#12`), None when it is not a number at all.

    Only ASCII digits, at most `MAX_CASE_DIGITS` of them; other numerals (`²`, `٣`) and longer
    numbers raise `NotACaseNumber`, so a command can answer clearly instead of failing.
    """
    digits = word.lstrip("#")
    if not digits.isnumeric():
        return None
    if not (digits.isascii() and digits.isdigit() and len(digits) <= MAX_CASE_DIGITS):
        raise NotACaseNumber(word)
    return int(digits)


def redaction_applies(room: RoomInfo, redaction: Redaction, author: str) -> bool:
    """Whether the homeserver applies `redaction` to a message by `author`: sent by its
    author, or by a member (the bot too) holding the room's redact power."""
    return (redaction.sender == author
            or room.power_level(redaction.sender) >= room.power_redact)


def tag_source(tags: Sequence[Any]) -> str:
    """How the tags were found: `hashtag`, `keywords` or `none`."""
    if not tags:
        return "none"
    return "hashtag" if tags[0].evidence[0].startswith("#") else "keywords"


def human_duration(ctx_t: Any, seconds: float) -> str:
    """3 min, 2 h, 4 j (rounded down to the largest unit)."""
    if seconds >= 86400:
        return ctx_t("unit.d", n=int(seconds // 86400))
    if seconds >= 3600:
        return ctx_t("unit.h", n=int(seconds // 3600))
    return ctx_t("unit.min", n=max(1, int(seconds // 60)))


class Cases(Plugin):
    name = "cases"
    Config = CasesConfig
    strings = STRINGS
    migrations = CASE_MIGRATIONS
    room_settings = ("unanswered_reminder", "resolve_reminder", "auto_close",
                     "resolve_power_level")

    def __init__(self, bot: Any, config: CasesConfig) -> None:
        super().__init__(bot, config)
        self.store = CaseStore(bot.db)
        self.extensions: list[CaseExtension] = []
        self.stats_sources: list[StatsSource] = []
        self._defaults = load_defaults()

    # ---- helpers ---------------------------------------------------------------------------
    @property
    def _source(self) -> SpecialtySource | None:
        return self.bot.plugin("specialties")  # type: ignore[return-value]

    async def start(self) -> None:
        if self._source is not None:
            self._source.listeners.append(self)

    def specialties(self, room_id: str) -> tuple[Specialty, ...]:
        source = self._source
        return source.for_room(room_id) if source is not None else self._defaults

    def specialty_name(self, room_id: str, specialty_id: str, lang: str) -> str:
        """The specialty's name in the room (marked when the room removed it)."""
        if self._source is not None:
            return self._source.label(room_id, specialty_id, lang)
        return next((s.name(lang) for s in self._defaults if s.id == specialty_id),
                    specialty_id)

    # ---- what the specialties feature asks -----------------------------------------------------
    async def specialty_removed(self, ctx: Context, specialty: Specialty
                                ) -> list[tuple[Part, ...]]:
        count = (await self.store.open_counts(ctx.room_id)).get(specialty.id, 0)
        return [(ctx.t("cases.specialty_removed", count=count),)] if count else []

    async def specialty_figures(self, ctx: Context) -> dict[str, list[str]]:
        return {sid: [ctx.t("cases.open_count", count=n)]
                for sid, n in (await self.store.open_counts(ctx.room_id)).items()}

    def _names(self, ctx: Context, case: Case) -> str:
        if not case.specialties:
            return ctx.t("cases.unclassified")
        return ", ".join(self.specialty_name(case.room_id, s, ctx.lang) for s in case.specialties)


    def card(self, ctx: Context, case: Case, evidence: Sequence[str] = ()) -> Rich:
        """The case card: title line, then what a reader needs to act on it."""
        status = ctx.t(f"cases.status.{case.status}")
        lines: list[tuple[Part, ...]] = [(Bold(ctx.t(
            "cases.card.title", number=case.number, specialties=self._names(ctx, case),
            status=status)),)]
        # Names without a pill: the card pings nobody, the poster least of all (each edit).
        name = ctx.room.display_name
        lines.append(fill(ctx.t("cases.card.poster"), poster=name(case.poster)))
        if case.tag_source == "hashtag":
            lines.append((ctx.t("cases.card.hashtag", tags=", ".join(
                f"#{e}" for e in evidence)) if evidence else ctx.t("cases.card.keywords"),))
        elif case.tag_source == "keywords":
            lines.append((ctx.t("cases.card.detected", words=", ".join(evidence))
                          if evidence else ctx.t("cases.card.keywords"),))
        elif case.tag_source == "manual":
            lines.append((ctx.t("cases.card.manual"),))
        elif case.is_open:
            lines.append((ctx.t("cases.card.untagged", prefix=ctx.prefix),))
        for ext in self.extensions:
            lines.extend(ext.card_lines(case, ctx.lang))
        if case.status == RESOLVED:
            if case.resolved_by:
                lines.append(fill(ctx.t("cases.card.resolved_by"),
                                  who=name(case.resolved_by)))
            if case.accepted_event_id:
                lines.append(fill(ctx.t("cases.card.accepted"), link=Link(
                    permalink(case.room_id, case.accepted_event_id),
                    ctx.t("cases.card.this_answer"))))
            if case.resolution_event_id:
                lines.append(fill(ctx.t("cases.card.summary_link"), link=Link(
                    permalink(case.room_id, case.resolution_event_id),
                    ctx.t("cases.card.this_summary"))))
        elif case.status == WITHDRAWN:
            lines.append((ctx.t("cases.card.withdrawn"),))
        elif case.status == CLOSED:
            lines.append((ctx.t("cases.card.closed"),))
        if case.is_open:
            lines.append((ctx.t("cases.card.how", prefix=ctx.prefix),))
        elif case.status in (RESOLVED, CLOSED):
            lines.append((ctx.t("cases.card.reopen", prefix=ctx.prefix),))
        return Rich(tuple(lines))

    async def refresh_card(self, ctx: Context, case: Case) -> None:
        """Edit the card in place so the thread head shows the current state."""
        if case.card_event_id:
            thread = ctx.in_thread_of(case.root_event_id)
            await thread.edit(case.card_event_id, self.card(ctx, case))
        for ext in self.extensions:
            await ext.case_changed(ctx, case)

    async def _timers(self, case: Case, opened: bool = False) -> None:
        """(Re)arm the reminders that fit the case's state; cancel the others (`opened`: a new
        case, which has no reminder to cancel)."""
        keys = {k: f"{k}:{case.room_id}:{case.number}" for k in ("unanswered", "resolve",
                                                                 "autoclose")}
        payload = {"room_id": case.room_id, "number": case.number}
        if not case.is_open:
            await self.bot.cancel(self.name, *keys.values())
            return
        if case.replies == 0:
            delay = self.config_for(case.room_id).unanswered_reminder
            await self.bot.schedule(self.name, keys["unanswered"], case.opened_at + delay,
                                    payload)
            if not opened:
                await self.bot.cancel(self.name, keys["resolve"])
        else:
            await self.bot.cancel(self.name, keys["unanswered"])
            delay = self.config_for(case.room_id).resolve_reminder
            start = case.first_reply_at or case.opened_at
            await self.bot.schedule(self.name, keys["resolve"], start + delay, payload)
        close = self.config_for(case.room_id).auto_close
        await self.bot.schedule(self.name, keys["autoclose"], case.opened_at + close, payload)

    async def _may_manage(self, ctx: Context, case: Case) -> bool:
        if ctx.event.sender == case.poster:
            return True
        level = self.config_for(ctx.room_id).resolve_power_level
        if ctx.may(level):
            return True
        await ctx.reply(fill(ctx.t("cases.refused"),
                             poster=ctx.room.display_name(case.poster)))
        return False

    async def _target(self, ctx: Context, text: str | None, command: str
                      ) -> tuple[Case | None, str]:
        """The case a command is about: its thread's, else a leading number; and the rest.

        `command` names the usage line shown when neither is given (`cases.usage.<command>`).
        """
        words = (text or "").split(maxsplit=1)
        try:
            number = case_number(words[0]) if words else None
        except NotACaseNumber:
            await self._bad_number(ctx, command)
            return None, ""
        if number is not None:
            case = await self.store.get(ctx.room_id, number)
            if case is None:
                await ctx.reply(ctx.t("cases.unknown", number=number))
            return case, words[1] if len(words) > 1 else ""
        event = ctx.event
        root = getattr(event, "thread_root", None)
        case = await self.store.by_root(ctx.room_id, root) if root else None
        if case is None:
            await ctx.reply(ctx.t("cases.which", usage=self._usage(ctx, command)))
        return case, text or ""

    @staticmethod
    def _usage(ctx: Context, command: str) -> str:
        return ctx.prefix + ctx.t(f"cases.usage.{command}")

    async def _bad_number(self, ctx: Context, command: str) -> None:
        await ctx.reply(Rich.of(ctx.t("cases.bad_number", max=MAX_CASE_DIGITS),
                                ctx.t("usage", usage=self._usage(ctx, command))))

    # ---- opening -----------------------------------------------------------------------------
    @command("case", "cas", args=(Rest("text", optional=True),), summary="cases.case.summary")
    async def case(self, ctx: Context, text: str | None) -> None:
        if not text:
            await ctx.reply(ctx.t("cases.template", prefix=ctx.prefix))
            return
        try:
            number = case_number(text.strip())
        except NotACaseNumber:
            await self._bad_number(ctx, "case")
            return
        if number is not None:
            case = await self.store.get(ctx.room_id, number)
            if case is None:
                await ctx.reply(ctx.t("cases.unknown", number=number))
                return
            await ctx.reply(self.card(ctx, case) + Rich.of(
                ctx.t("cases.card.replies", count=case.replies),
                (Link(permalink(case.room_id, case.root_event_id),
                      ctx.t("cases.list.open_thread")),)))
            return
        message = ctx.event
        assert isinstance(message, Message)
        if message.thread_root:
            # A case is a new post, not a reply inside another case's thread.
            await ctx.reply(ctx.t("cases.template", prefix=ctx.prefix))
            return
        guard = self.bot.plugin("secrecy")
        refusal = await guard.refuse_case(ctx) if guard is not None else None  # type: ignore[attr-defined]
        if refusal:
            return
        tags = classify(text, self.specialties(ctx.room_id), MAX_TAGS)
        source = tag_source(tags)
        case = await self.store.open_case(ctx.room_id, message.event_id, message.sender,
                                          [t.specialty_id for t in tags], source, self.bot.now())
        evidence = self._evidence(tags)
        for ext in self.extensions:
            await ext.case_opened(ctx, case)
        case = await self.store.get(case.room_id, case.number) or case
        # Reminders first: a case whose card cannot be sent is still followed. (A homeserver
        # that is away makes the whole event replay later: same case, same card.)
        await self._timers(case, opened=True)
        card_id = await ctx.reply(self.card(ctx, case, evidence))
        case = await self.store.update(case, card_event_id=card_id)
        for ext in self.extensions:  # one feature failing here does not silence the next
            try:
                await ext.case_posted(ctx, case)
            except Unavailable:
                raise
            except Exception as exc:
                report_exception(log, f"{type(ext).__name__}.case_posted", exc)

    @staticmethod
    def _evidence(tags: Sequence[Any]) -> list[str]:
        words: list[str] = []
        for tag in tags:
            for word in tag.evidence:
                clean = word.lstrip("#")
                if clean not in words:
                    words.append(clean)
        return words[:5]

    # ---- thread tracking -----------------------------------------------------------------------
    @on(Message)
    async def track_reply(self, ctx: Context, event: Message) -> None:
        if not event.thread_root:
            return
        case = await self.store.by_root(event.room_id, event.thread_root)
        if case is None:
            return
        is_command = split_command(event.body, ctx.prefixes) is not None
        counts = event.sender != case.poster and not is_command
        before = case.replies
        case = await self.store.add_reply(case, event.event_id, event.sender,
                                          event.timestamp / 1000, counts)
        if case.replies != before and before == 0 and case.is_open:
            await self._timers(case)

    @on(Reaction)
    async def reaction(self, ctx: Context, event: Reaction) -> None:
        if emoji_key(event.key) not in RESOLVE_KEYS:
            return
        case = await self.store.by_root(event.room_id, event.relates_to)
        accepted = None
        if case is None:
            case = await self.store.by_reply(event.room_id, event.relates_to)
            accepted = event.relates_to
        if case is None or event.sender != case.poster or not case.is_open:
            return
        if accepted is not None and await self.store.sender_of(
                event.room_id, accepted) == case.poster:
            accepted = None
        await self._resolve(ctx, case, event.sender, accepted=accepted)

    @on(Redaction)
    async def redaction(self, ctx: Context, event: Redaction) -> None:
        case = await self.store.by_root(event.room_id, event.redacts)
        if case is None or case.status == WITHDRAWN:
            return
        if not redaction_applies(ctx.room, event, case.poster):
            return
        case = await self.store.update(case, status=WITHDRAWN, closed_at=self.bot.now())
        await self._timers(case)
        await self.refresh_card(ctx, case)

    @on(Edit)
    async def edited(self, ctx: Context, event: Edit) -> None:
        case = await self.store.by_root(event.room_id, event.original)
        if case is None or event.sender != case.poster:
            return
        split = split_command(event.body, ctx.prefixes)
        if split is None or split[0] not in ("case", "cas") or case.tag_source == "manual":
            return
        tags = classify(split[1], self.specialties(event.room_id), MAX_TAGS)
        ids = tuple(t.specialty_id for t in tags)
        if ids == case.specialties:
            return
        case = await self.store.update(case, specialties=ids, tag_source=tag_source(tags))
        if case.card_event_id:
            await ctx.in_thread_of(case.root_event_id).edit(case.card_event_id,
                                                 self.card(ctx, case, self._evidence(tags)))
        for ext in self.extensions:
            await ext.case_changed(ctx, case)

    # ---- resolution ----------------------------------------------------------------------------
    async def _resolve(self, ctx: Context, case: Case, who: str, accepted: str | None = None,
                       summary_event: str | None = None) -> None:
        case = await self.store.update(case, status=RESOLVED, resolved_at=self.bot.now(),
                                       resolved_by=who, accepted_event_id=accepted,
                                       resolution_event_id=summary_event)
        await self._timers(case)
        await self.refresh_card(ctx, case)
        thread = ctx.in_thread_of(case.root_event_id)
        await thread.reply(ctx.t("cases.resolved", number=case.number))

    @command("resolve", "resolu", "resolved", args=(Rest("resolution", optional=True),),
             summary="cases.resolve.summary")
    async def resolve(self, ctx: Context, resolution: str | None) -> None:
        case, _summary = await self._target(ctx, resolution, "resolve")
        if case is None or not await self._may_manage(ctx, case):
            return
        if not case.is_open:
            await ctx.reply(ctx.t("cases.already", number=case.number,
                                  status=ctx.t(f"cases.status.{case.status}")))
            return
        await self._resolve(ctx, case, ctx.event.sender, summary_event=ctx.event.event_id)

    @command("reopen", "rouvrir", args=(Rest("number", optional=True),),
             summary="cases.reopen.summary")
    async def reopen(self, ctx: Context, number: str | None) -> None:
        case, _ = await self._target(ctx, number, "reopen")
        if case is None or not await self._may_manage(ctx, case):
            return
        if case.is_open or case.status == WITHDRAWN:
            await ctx.reply(ctx.t("cases.already", number=case.number,
                                  status=ctx.t(f"cases.status.{case.status}")))
            return
        case = await self.store.update(case, status=OPEN, resolved_at=None, resolved_by=None,
                                       accepted_event_id=None, resolution_event_id=None,
                                       closed_at=None, opened_at=case.opened_at)
        await self._timers(case)
        await self.refresh_card(ctx, case)
        thread = ctx.in_thread_of(case.root_event_id)
        await thread.reply(ctx.t("cases.reopened", number=case.number))

    @command("tag", args=(Rest("specialties"),), summary="cases.tag.summary")
    async def tag(self, ctx: Context, specialties: str) -> None:
        case, rest = await self._target(ctx, specialties, "tag")
        if case is None or not await self._may_manage(ctx, case):
            return
        chosen, unknown = match_specialties(rest.split(), self.specialties(ctx.room_id))
        if unknown or not chosen:
            await ctx.reply(ctx.t("cases.unknown_specialty", names=", ".join(unknown) or "—",
                                  prefix=ctx.prefix))
            return
        case = await self.store.update(case, specialties=tuple(chosen[:MAX_TAGS]),
                                       tag_source="manual")
        await self.refresh_card(ctx, case)
        await ctx.reply(ctx.t("cases.retagged", number=case.number,
                              specialties=self._names(ctx, case)))

    # ---- listing and stats -----------------------------------------------------------------------
    @command("cases", args=(Rest("filter", optional=True),), summary="cases.cases.summary")
    async def list_cases(self, ctx: Context, filter: str | None) -> None:
        specialty = poster = None
        if filter:
            word = filter.strip().lstrip("#")
            if normalize(word) in ("mine", "moi", "mes cas", "miens"):
                poster = ctx.event.sender
            else:
                found, _ = match_specialties([word], self.specialties(ctx.room_id))
                if not found:
                    await ctx.reply(ctx.t("cases.unknown_specialty", names=word,
                                          prefix=ctx.prefix))
                    return
                specialty = found[0]
        cases = await self.store.listing(ctx.room_id, self.config.list_limit, specialty, poster)
        if not cases:
            await ctx.reply(ctx.t("cases.none_open"))
            return
        lines: list[tuple[Part, ...]] = [(ctx.t("cases.list.header", count=len(cases)),)]
        now = self.bot.now()
        for case in cases:
            lines.append((ctx.t("cases.list.line", number=case.number,
                                specialties=self._names(ctx, case),
                                age=human_duration(ctx.t, now - case.opened_at),
                                replies=case.replies),
                          Link(permalink(case.room_id, case.root_event_id),
                               ctx.t("cases.list.open_thread"))))
        await ctx.reply(Rich(tuple(lines)))

    @command("stats", args=(Int("days", optional=True, default=30, low=1, high=3650),),
             summary="cases.stats.summary")
    async def stats(self, ctx: Context, days: int) -> None:
        since = self.bot.now() - days * 86400
        figures = await self.store.stats(ctx.room_id, since)

        def duration(seconds: float | None) -> str:
            return human_duration(ctx.t, seconds) if seconds is not None else ctx.t(
                "cases.stats.na")

        share = (f"{round(100 * figures.answered_within_hour / figures.counted)} %"
                 if figures.counted else ctx.t("cases.stats.na"))
        count = figures.by_status.get
        lines: list[tuple[Part, ...]] = [
            (Bold(ctx.t("cases.stats.header", days=days)),),
            (ctx.t("cases.stats.counts", opened=figures.opened, resolved=count(RESOLVED, 0),
                   withdrawn=count(WITHDRAWN, 0), closed=count(CLOSED, 0),
                   still_open=count(OPEN, 0)),),
            (ctx.t("cases.stats.times", first=duration(figures.median_first_reply),
                   resolution=duration(figures.median_resolution), within_hour=share),),
        ]
        for spec, opened, resolved in figures.per_specialty:
            name = self.specialty_name(ctx.room_id, spec, ctx.lang) if spec else ctx.t(
                "cases.unclassified")
            lines.append((ctx.t("cases.stats.specialty", name=name, opened=opened,
                                resolved=resolved),))
        for source in self.stats_sources:
            lines.extend(await source.stats_lines(ctx, since))
        await ctx.reply(Rich(tuple(lines)))

    # ---- reminders -------------------------------------------------------------------------------
    async def _fired_case(self, fired: Fired) -> tuple[Context, Case] | None:
        case = await self.store.get(fired.payload["room_id"], int(fired.payload["number"]))
        if case is None or not case.is_open:
            return None
        return Context(self.bot, case.room_id, fired, thread_root=case.root_event_id), case

    @timer("unanswered")
    async def remind_unanswered(self, fired: Fired) -> None:
        found = await self._fired_case(fired)
        if found is None or found[1].replies:
            return
        ctx, case = found
        delay = self.config_for(case.room_id).unanswered_reminder
        await ctx.reply(fill(ctx.t("cases.remind.unanswered"),
                             delay=human_duration(ctx.t, delay),
                             poster=ctx.pill(case.poster, notify=True)))

    @timer("resolve")
    async def remind_resolve(self, fired: Fired) -> None:
        found = await self._fired_case(fired)
        if found is None:
            return
        ctx, case = found
        await ctx.reply(fill(ctx.t("cases.remind.resolve"), prefix=ctx.prefix,
                             poster=ctx.pill(case.poster, notify=True)))

    @timer("autoclose")
    async def auto_close(self, fired: Fired) -> None:
        found = await self._fired_case(fired)
        if found is None:
            return
        ctx, case = found
        delay = self.config_for(case.room_id).auto_close
        case = await self.store.update(case, status=CLOSED, closed_at=self.bot.now())
        await self._timers(case)
        await self.refresh_card(ctx, case)
        await ctx.reply(ctx.t("cases.autoclosed", number=case.number, prefix=ctx.prefix,
                              delay=human_duration(ctx.t, delay)))
