"""Cases: `!case` opens a numbered case answered in a thread, tagged by specialty, tracked
until it is resolved, withdrawn or closed. The card at the head of the thread is edited in
place so it always shows the current state.

Cases tells the case lifecycle (`plugins.cases.events`) and calls no other feature:
secrecy and volunteers subscribe. It uses the specialties feature directly (`requires`).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.config import Duration, bounded
from bot.content import Link, Rich, emoji_key, fill, permalink
from bot.events import Attachment, Edit, Message, Reaction, Redaction
from bot.i18n import human_duration
from bot.plugin import Check, Context, Fired, Plugin, Refusal, command, on, timer
from bot.router import Rest, split_command
from plugins.cases.card import PICK_KEYS, Line, draw, evidence_words, tag_source
from plugins.cases.events import (
    CASE_COMMANDS,
    CardDirty,
    CardLines,
    CaseChanged,
    CaseEdited,
    CaseNumbered,
    CaseOfThread,
    CaseOpened,
    CaseOpening,
    CaseReplied,
    CaseRootGone,
    CaseStatusWanted,
    OpenCase,
    PosterSigns,
    ReplyMirrored,
    case_text,
)
from plugins.cases.model import (
    CLOSED,
    MANUAL,
    OPEN,
    RESOLVED,
    SUGGESTED,
    WITHDRAWN,
    Case,
    redaction_applies,
)
from plugins.cases.stats import Statistics
from plugins.cases.store import MIGRATIONS as CASE_MIGRATIONS
from plugins.cases.store import CaseStore
from plugins.cases.strings import STRINGS
from plugins.cases.target import (
    CaseNumber,
    CasesFilter,
    Listing,
    NotACaseNumber,
    TagWords,
    bad_number,
    case_number,
    number_in,
    numbered_usage,
    split_tag_words,
)
from plugins.specialties import (
    Specialties,
    Specialty,
    SpecialtyFigures,
    SpecialtyRemoved,
)

RESOLVE_KEYS = frozenset(map(emoji_key, ("✅", "✔️", "☑️")))
"""Compared through `emoji_key`: "✅️" (Element Web) resolves as "✅" does. The three check
marks Element's picker shows for "check" (its French search finds none for "coche": the card
names ✅ and the word; not ✔, the sign of a verified poster on the same card). Not 👍, though
it is among Element's quick reactions: a poster gives it to thank or to agree with an answer
while the discussion goes on, and closing the case then would stop the paging and file the
case as resolved."""
MAX_TAGS = 3
_PICKS = {emoji_key(key): rank for rank, key in enumerate(PICK_KEYS)}


@dataclass(frozen=True, slots=True)
class CasesConfig:
    unanswered_reminder: Duration = bounded(Duration(4 * 3600), 1, 30 * 86400)
    resolve_reminder: Duration = bounded(Duration(3 * 86400), 1, 90 * 86400)
    auto_close: Duration = bounded(Duration(14 * 86400), 1, 365 * 86400)
    resolve_power_level: int = bounded(50, 0, 100)
    list_limit: int = bounded(15, 1, 50)


def poster_or_moderator(command: str) -> Check:
    """A check: the case the command is about exists, and the sender posted it or has the
    room's `resolve_power_level` (a moderator). `command` names its numbered usage line."""
    async def check(ctx: Context, values: dict[str, Any]) -> None:
        cases = ctx.plugin
        assert isinstance(cases, Cases), "declared on the cases plugin's commands"
        case = await cases.case_for(ctx, number_in(values), command)
        level = cases.config_for(ctx.room_id).resolve_power_level
        if ctx.event.sender != case.poster and not ctx.may(level):
            raise Refusal(fill(ctx.t("cases.refused"),
                               poster=ctx.room.display_name(case.poster)))
    return check


class Cases(Plugin):
    name = "cases"
    Config = CasesConfig
    strings = STRINGS
    migrations = CASE_MIGRATIONS
    requires = (Specialties,)
    room_settings = ("unanswered_reminder", "resolve_reminder", "auto_close",
                     "resolve_power_level")

    tagger: Specialties
    """The specialties feature (set when the plugins are bound)."""

    def __init__(self, bot: Any, config: CasesConfig) -> None:
        super().__init__(bot, config)
        self.store = CaseStore(bot.db)
        self.parts = (Statistics(bot, self.store, functools.partial(self.required,
                                                                    Specialties)),)

    def bind(self, loaded: Sequence[Plugin]) -> None:
        super().bind(loaded)
        self.tagger = self.required(Specialties)

    # ---- specialties -------------------------------------------------------------------------
    def specialties(self, room_id: str) -> tuple[Specialty, ...]:
        """The specialties the room tags its cases with."""
        return self.tagger.for_room(room_id)

    def _names(self, ctx: Context, case: Case) -> str:
        """The case's specialties as the room names them (marked when it removed one); the
        likeliest one, marked as a guess, while its tag awaits confirmation."""
        if not case.specialties:
            return ctx.t("cases.unclassified")
        label = self.tagger.label
        if case.awaiting_tag:
            return ctx.t("cases.card.guess", name=label(case.room_id, case.specialties[0],
                                                        ctx.lang))
        return ", ".join(label(case.room_id, s, ctx.lang) for s in case.specialties)

    @on(SpecialtyRemoved)
    async def specialty_removed(self, ctx: Context, event: SpecialtyRemoved) -> list[Line]:
        """The removal's announcement says how many open cases keep the tag."""
        count = (await self.store.open_counts(event.room_id)).get(event.specialty.id, 0)
        return [(ctx.t("cases.specialty_removed", count=count),)] if count else []

    @on(SpecialtyFigures)
    async def specialty_figures(self, ctx: Context, event: SpecialtyFigures
                                ) -> dict[str, list[str]]:
        return {sid: [ctx.t("cases.open_count", count=n)]
                for sid, n in (await self.store.open_counts(event.room_id)).items()}

    # ---- the card ----------------------------------------------------------------------------
    async def card(self, ctx: Context, case: Case, evidence: Sequence[str] = ()) -> Rich:
        """The case's card, with the lines the other features add (`CardLines`) and their
        signs after the poster's name (`PosterSigns`)."""
        extra: list[Line] = [line for lines in await ctx.ask(CardLines(case)) for line in lines]
        signs = [sign for sign in await ctx.ask(PosterSigns(case)) if sign]
        label = self.tagger.label
        proposals = [label(case.room_id, s, ctx.lang) for s in case.proposed]
        return draw(ctx, case, self._names(ctx, case), extra, evidence, proposals, signs)

    def _redraw(self, ctx: Context, room_id: str, number: int,
                evidence: Sequence[str] = ()) -> None:
        """Have the card edited in place once the event's handlers are done: one edit
        however many changes and features marked it, showing the state then (the first
        mark's `evidence`: cases marks before it tells anyone)."""
        ctx.after(("card", room_id, number),
                  functools.partial(self._draw_again, ctx, room_id, number, tuple(evidence)))

    async def _draw_again(self, ctx: Context, room_id: str, number: int,
                          evidence: Sequence[str]) -> None:
        case = await self.store.get(room_id, number)
        if case is not None and case.card_event_id:
            await ctx.in_room(case.room_id, case.root_event_id).edit(
                case.card_event_id, await self.card(ctx, case, evidence))

    async def _changed(self, ctx: Context, case: Case, before: Case,
                       evidence: Sequence[str] = ()) -> None:
        """Mark the card for a redraw, then tell the other features (`CaseChanged`)."""
        self._redraw(ctx, case.room_id, case.number, evidence)
        await ctx.tell(CaseChanged(case, before))

    @on(CardDirty)
    async def card_dirty(self, ctx: Context, event: CardDirty) -> None:
        """Another feature's card lines changed: the card is redrawn after the handlers."""
        self._redraw(ctx, event.room_id, event.number)

    # ---- reminders ---------------------------------------------------------------------------
    async def _timers(self, case: Case, opened: bool = False) -> None:
        """(Re)arm the reminders that fit the case's state; cancel the others (`opened`: a new
        case, which has no reminder to cancel)."""
        keys = {k: f"{k}:{case.room_id}:{case.number}" for k in ("unanswered", "resolve",
                                                                 "autoclose")}
        payload = {"room_id": case.room_id, "thread_root": case.root_event_id,
                   "number": case.number}
        if not case.is_open:
            await self.bot.cancel(self.name, *keys.values())
            return
        config = self.config_for(case.room_id)
        if case.replies == 0:
            await self.bot.schedule(self.name, keys["unanswered"],
                                    case.opened_at + config.unanswered_reminder, payload)
            if not opened:
                await self.bot.cancel(self.name, keys["resolve"])
        else:
            await self.bot.cancel(self.name, keys["unanswered"])
            start = case.first_reply_at or case.opened_at
            await self.bot.schedule(self.name, keys["resolve"],
                                    start + config.resolve_reminder, payload)
        await self.bot.schedule(self.name, keys["autoclose"], case.opened_at + config.auto_close,
                                payload)

    # ---- which case --------------------------------------------------------------------------
    async def case_for(self, ctx: Context, number: int | None, command: str) -> Case:
        """The case a command is about: the numbered one, else its thread's. Refuses (in the
        room's language) an unknown number, or no number outside a case's thread."""
        if number is not None:
            case = await self.store.get(ctx.room_id, number)
            if case is None:
                raise Refusal(ctx.t("cases.unknown", number=number))
            return case
        root = getattr(ctx.event, "thread_root", None)
        case = await self.store.by_root(ctx.room_id, root) if root else None
        if case is None:
            raise Refusal(ctx.t("cases.which", usage=numbered_usage(ctx, command)))
        return case

    # ---- opening -----------------------------------------------------------------------------
    @command(*CASE_COMMANDS, args=(Rest("text", optional=True),), summary="cases.case.summary",
             order=1)
    async def case(self, ctx: Context, text: str | None) -> None:
        """`!case <text>` opens a case; `!case <n°>` shows one.

        Opening follows `plugins.cases.events`: `CaseOpening` (a hook may refuse: nothing is
        stored), then the case is stored, its reminders armed (a case whose card cannot be
        sent is still followed), `CaseNumbered` (hooks settle what the card shows) and its
        card sent, so the card is the first message of the thread and complete; only then
        `CaseOpened`, whose subscribers write under the card. A homeserver
        that is away makes the whole event replay later: same case, same card.
        """
        message = ctx.event
        assert isinstance(message, Message)
        try:
            number = case_number(text.strip()) if text else None
        except NotACaseNumber:
            raise bad_number(ctx, "case") from None
        if number is not None:
            await self._show(ctx, await self.case_for(ctx, number, "case"))
            return
        if not text or message.thread_root:
            # A case is a new post, not a reply inside another case's thread.
            await ctx.reply(ctx.t("cases.template", prefix=ctx.prefix))
            return
        await self._open(ctx, message.event_id, message.sender, text)

    @on(OpenCase)
    async def open_asked(self, ctx: Context, event: OpenCase) -> Case:
        return await self._open(ctx.in_room(event.room_id), event.root, event.poster,
                                event.text)

    async def _open(self, ctx: Context, root: str, poster: str, text: str) -> Case:
        """Open the case on `root` (see `case`) and return it."""
        ctx = ctx.in_thread_of(root)  # the case's thread: its card, pages, warnings
        await ctx.gate(CaseOpening(ctx.room_id, root, poster, text))
        tags = self.tagger.tag(ctx, root, text, MAX_TAGS)
        case = await self.store.open_case(ctx.room_id, root, poster,
                                          [t.specialty_id for t in tags], tag_source(tags),
                                          self.bot.now())
        self.bot.count(self.name, "opened")  # stored: opened, whatever happens to its card
        await self._timers(case, opened=True)
        await ctx.tell(CaseNumbered(case, text))
        card_id = await ctx.reply(await self.card(ctx, case, evidence_words(tags)))
        case = await self.store.update(case, card_event_id=card_id)
        if case.awaiting_tag:
            thread = ctx.in_thread_of(case.root_event_id)
            # Together, not one round trip after the other: the room's next event waits.
            picks = await asyncio.gather(*(thread.react(card_id, key)
                                           for key in PICK_KEYS[:len(case.proposed)]))
            case = await self.store.update(case, pick_events=picks)
        await ctx.tell(CaseOpened(case, text))
        return case

    async def _show(self, ctx: Context, case: Case) -> None:
        await ctx.reply(await self.card(ctx, case) + Rich.of(
            ctx.t("cases.card.replies", count=case.replies),
            (Link(permalink(case.room_id, case.root_event_id),
                  ctx.t("cases.list.open_thread")),)))

    # ---- the thread --------------------------------------------------------------------------
    @on(Message)
    async def track_reply(self, ctx: Context, event: Message) -> None:
        """Record a message of a case's thread (an answer when it is neither the poster's,
        nor a command, nor a notice: another bot's output), then tell `CaseReplied` (not
        for notices), and `CaseChanged` when it counted as an answer."""
        if not event.thread_root:
            return
        case = await self.store.by_root(event.room_id, event.thread_root)
        if case is None:
            return
        notice = event.msgtype == "m.notice"
        is_command = split_command(event.body, ctx.prefixes) is not None
        counts = event.sender != case.poster and not is_command and not notice
        before = case
        case = await self.store.add_reply(case, event.event_id, event.sender,
                                          event.timestamp / 1000, counts)
        if before.replies == 0 and case.replies and case.is_open:
            await self._timers(case)
        if not notice:
            await ctx.tell(CaseReplied(case, event))
        if case.replies != before.replies:
            await ctx.tell(CaseChanged(case, before))

    @on(ReplyMirrored)
    async def reply_mirrored(self, ctx: Context, event: ReplyMirrored) -> None:
        case = await self.store.get(event.room_id, event.number)
        if case is None:
            return
        before = case
        case = await self.store.add_reply(case, event.event_id, event.sender, event.at,
                                          event.sender != case.poster)
        if before.replies == 0 and case.replies and case.is_open:
            await self._timers(case)
        if case.replies != before.replies:
            await self._changed(ctx.in_room(case.room_id, case.root_event_id), case, before)

    @on(CaseOfThread)
    async def case_of_thread(self, ctx: Context, event: CaseOfThread) -> Case | None:
        return await self.store.by_root(event.room_id, event.root)

    @on(Attachment)
    async def attachment(self, ctx: Context, event: Attachment) -> None:
        """An image or a file in a case's thread: `CaseReplied` (it is not counted)."""
        case = await self.store.by_root(event.room_id, event.thread_root or "")
        if case is not None:
            await ctx.tell(CaseReplied(case, event))

    @on(Reaction)
    async def reaction(self, ctx: Context, event: Reaction) -> None:
        """✅ (✔️, ☑️) by the poster on the root, the card or an answer resolves (accepting
        that answer); 1️⃣ 2️⃣ 3️⃣ by the poster or a moderator on the card pick a proposed
        specialty."""
        rank = _PICKS.get(emoji_key(event.key))
        if rank is not None:
            await self._pick(ctx, event, rank)
            return
        if emoji_key(event.key) not in RESOLVE_KEYS:
            return
        case = await self.store.by_root(event.room_id, event.relates_to)
        accepted = None
        if case is None:
            case = await self.store.by_reply(event.room_id, event.relates_to)
            accepted = event.relates_to
        if case is None:
            case = await self.store.by_card(event.room_id, event.relates_to)
            accepted = None
        if case is None or event.sender != case.poster or not case.is_open:
            return
        if accepted is not None and await self.store.sender_of(
                event.room_id, accepted) == case.poster:
            accepted = None
        await self._resolve(ctx, case, event.sender, accepted=accepted)

    async def _pick(self, ctx: Context, event: Reaction, rank: int) -> None:
        case = await self.store.by_card(event.room_id, event.relates_to)
        if case is None or not case.awaiting_tag or rank >= len(case.proposed):
            return
        level = self.config_for(case.room_id).resolve_power_level
        if event.sender != case.poster and not ctx.may(level, event.sender):
            return
        await self._retag(ctx.in_thread_of(case.root_event_id), case, [case.proposed[rank]],
                          event.sender, PICK_KEYS[rank])

    async def _retag(self, ctx: Context, before: Case, chosen: Sequence[str], by: str,
                     pick: str = "") -> None:
        """Member `by` chose the case's specialties (with the reaction `pick`, or `!tag`):
        kept, counted, shown, said in the thread."""
        case = await self.store.retag(before, chosen[:MAX_TAGS], self.bot.now(), by, pick)
        await self.tagger.confirmed(case.room_id, case.root_event_id,
                                                   case.specialties)
        await self._changed(ctx, case, before)
        await ctx.reply(ctx.t("cases.retagged", number=case.number,
                              specialties=self._names(ctx, case)))
        if case.pick_events:  # the offered reactions have served: only the member's stays
            for event_id in case.pick_events:
                await ctx.redact(event_id, "specialty confirmed")
            await self.store.update(case, pick_events=())

    @on(Redaction)
    async def redaction(self, ctx: Context, event: Redaction) -> None:
        """The root gone (its poster, a moderator or the bot redacted it): withdrawn."""
        case = await self.store.by_root(event.room_id, event.redacts)
        if case is None or case.status == WITHDRAWN:
            return
        if not redaction_applies(ctx.room, event, case.poster):
            return
        before = case
        case = await self.store.update(case, status=WITHDRAWN, closed_at=self.bot.now())
        await self._timers(case)
        await self._changed(ctx, case, before)
        await ctx.tell(CaseRootGone(case))

    @on(Edit)
    async def edited(self, ctx: Context, event: Edit) -> None:
        """An edit of the root or of a reply, by that message's author: `CaseEdited`; then
        the root's new text retags the case (unless someone chose its tags by hand)."""
        case = await self.store.by_root(event.room_id, event.original)
        of_root = case is not None
        if case is None:
            case = await self.store.by_reply(event.room_id, event.original)
        if case is None or event.sender != await self.store.sender_of(event.room_id,
                                                                        event.original):
            return
        opened = case_text(event.body, ctx.prefixes)
        text = opened if of_root and opened is not None else event.body
        await ctx.tell(CaseEdited(case, event, text, of_root))
        if not of_root or opened is None or case.tag_source == MANUAL:
            return
        tags = self.tagger.tag(ctx, case.root_event_id, text, MAX_TAGS)
        ids = tuple(t.specialty_id for t in tags)
        source = tag_source(tags)
        if (ids, source) == (case.specialties, case.tag_source):
            return
        before = case
        case = await self.store.update(
            case, specialties=ids, tag_source=source, auto_tag=ids[0] if ids else "",
            proposed=ids if source == SUGGESTED else case.proposed)
        await self._changed(ctx, case, before, evidence_words(tags))

    # ---- resolution --------------------------------------------------------------------------
    async def _resolve(self, ctx: Context, case: Case, who: str, accepted: str | None = None,
                       summary_event: str | None = None) -> None:
        before = case
        case = await self.store.update(case, status=RESOLVED, resolved_at=self.bot.now(),
                                       resolved_by=who, accepted_event_id=accepted,
                                       resolution_event_id=summary_event)
        self.bot.count(self.name, "resolved")
        await self._timers(case)
        await self._changed(ctx, case, before)
        await ctx.in_thread_of(case.root_event_id).reply(
            ctx.t("cases.resolved", number=case.number))

    @command("resolve", "resolu", "resolved",
             args=(CaseNumber("number", optional=True, command="resolve"),
                   Rest("summary", optional=True)),
             summary="cases.resolve.summary", checks=(poster_or_moderator("resolve"),),
             order=3)
    async def resolve(self, ctx: Context, number: int | None, summary: str | None) -> None:
        """The message itself is the summary the card links to (`summary` is not kept)."""
        case = await self.case_for(ctx, number, "resolve")
        if not case.is_open:
            raise Refusal(ctx.t("cases.already", number=case.number,
                                status=ctx.t(f"cases.status.{case.status}")))
        await self._resolve(ctx, case, ctx.event.sender, summary_event=ctx.event.event_id)

    @command("reopen", "rouvrir", args=(CaseNumber("number", optional=True, command="reopen"),),
             summary="cases.reopen.summary", checks=(poster_or_moderator("reopen"),))
    async def reopen(self, ctx: Context, number: int | None) -> None:
        case = await self.case_for(ctx, number, "reopen")
        if case.is_open or case.status == WITHDRAWN:
            raise Refusal(ctx.t("cases.already", number=case.number,
                                status=ctx.t(f"cases.status.{case.status}")))
        await self._reopen(ctx, case)

    async def _reopen(self, ctx: Context, case: Case) -> None:
        before = case
        case = await self.store.update(case, status=OPEN, resolved_at=None, resolved_by=None,
                                       accepted_event_id=None, resolution_event_id=None,
                                       closed_at=None, opened_at=case.opened_at)
        await self._timers(case)
        await self._changed(ctx, case, before)
        await ctx.in_thread_of(case.root_event_id).reply(
            ctx.t("cases.reopened", number=case.number))

    @on(CaseStatusWanted)
    async def status_wanted(self, ctx: Context, event: CaseStatusWanted) -> Case | None:
        """Another feature asks for the poster's act (`CaseStatusWanted`); a case already in
        that status is left as it is (no message, no `CaseChanged`)."""
        case = await self.store.get(event.room_id, event.number)
        if case is None:
            return None
        ctx = ctx.in_room(case.room_id, case.root_event_id)
        if event.status == RESOLVED and case.is_open:
            await self._resolve(ctx, case, event.by)
        elif event.status == OPEN and case.status in (RESOLVED, CLOSED):
            await self._reopen(ctx, case)
        elif event.status == WITHDRAWN and case.status != WITHDRAWN:
            before = case
            case = await self.store.update(case, status=WITHDRAWN, closed_at=self.bot.now())
            await self._timers(case)
            await self._changed(ctx, case, before)
        return await self.store.get(event.room_id, event.number)

    @command("tag", args=(TagWords("specialties"),), summary="cases.tag.summary",
             checks=(poster_or_moderator("tag"),), order=2)
    async def tag(self, ctx: Context, specialties: list[int | Specialty]) -> None:
        number, chosen = split_tag_words(ctx, specialties)
        await self._retag(ctx, await self.case_for(ctx, number, "tag"), chosen,
                          ctx.event.sender)

    # ---- listing and stats -------------------------------------------------------------------
    @command("cases", args=(CasesFilter("filter", optional=True, default=Listing()),),
             summary="cases.cases.summary", order=4)
    async def list_cases(self, ctx: Context, filter: Listing) -> None:
        cases = await self.store.listing(ctx.room_id, self.config.list_limit, filter.specialty,
                                         ctx.event.sender if filter.mine else None)
        if not cases:
            await ctx.reply(ctx.t("cases.none_open"))
            return
        lines: list[Line] = [(ctx.t("cases.list.header", count=len(cases)),)]
        now = self.bot.now()
        for case in cases:
            lines.append((ctx.t("cases.list.line", number=case.number,
                                specialties=self._names(ctx, case),
                                age=human_duration(ctx.t, now - case.opened_at),
                                replies=case.replies),
                          Link(permalink(case.room_id, case.root_event_id),
                               ctx.t("cases.list.open_thread"))))
        await ctx.reply(Rich(tuple(lines)))

    # ---- reminders ---------------------------------------------------------------------------
    async def _fired_case(self, ctx: Context, fired: Fired) -> tuple[Context, Case] | None:
        """The open case a reminder is about, and `ctx` in its thread (a timer armed before
        payloads named their thread has a `ctx` in the main timeline)."""
        case = await self.store.get(ctx.room_id, int(fired.payload["number"]))
        if case is None or not case.is_open:
            return None
        return ctx.in_thread_of(case.root_event_id), case

    @timer("unanswered")
    async def remind_unanswered(self, ctx: Context, fired: Fired) -> None:
        found = await self._fired_case(ctx, fired)
        if found is None or found[1].replies:
            return
        ctx, case = found
        delay = self.config_for(case.room_id).unanswered_reminder
        await ctx.reply(fill(ctx.t("cases.remind.unanswered"),
                             delay=human_duration(ctx.t, delay),
                             poster=ctx.pill(case.poster, notify=True)))

    @timer("resolve")
    async def remind_resolve(self, ctx: Context, fired: Fired) -> None:
        found = await self._fired_case(ctx, fired)
        if found is None:
            return
        ctx, case = found
        await ctx.reply(fill(ctx.t("cases.remind.resolve"), prefix=ctx.prefix,
                             poster=ctx.pill(case.poster, notify=True)))

    @timer("autoclose")
    async def auto_close(self, ctx: Context, fired: Fired) -> None:
        found = await self._fired_case(ctx, fired)
        if found is None:
            return
        ctx, before = found
        delay = self.config_for(before.room_id).auto_close
        case = await self.store.update(before, status=CLOSED, closed_at=self.bot.now())
        await self._timers(case)
        await self._changed(ctx, case, before)
        await ctx.reply(ctx.t("cases.autoclosed", number=case.number, prefix=ctx.prefix,
                              delay=human_duration(ctx.t, delay)))

