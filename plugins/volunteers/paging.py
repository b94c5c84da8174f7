"""Paging: who is asked for a case, the page in its thread, the escalation rounds.

Paging is one message in the case thread mentioning a few volunteers (least recently paged
first, skipping the poster, absent people, quiet hours and anyone over the daily cap). If
nobody answers, takes or reacts, a persistent timer pages the next round; after the last
round the poster is told nobody is available. Retagging a case (`!tag`, or an edit) pages the
volunteers of a specialty it did not have yet, as one more round.

A case whose specialties the tagger only proposed (`Case.awaiting_tag`) pages nobody until
the poster or a moderator confirms one (a `CaseChanged` then pages it, as a retag does), or,
once `confirm_wait` has passed without confirmation, its best guess (a persistent timer: once,
across restarts). An urgent case does not wait: its best guess is paged at once.

Everything here reads this feature's own tables: what it knows of a case came with the case
events (`store.Followed`). A new case's first round is chosen before its card is drawn
(`CaseNumbered`), so the card is sent once with who is paged; after each later page the card
is redrawn (`CardDirty`).

Every round (the first, the best guess, a retag's, an escalation's) is paged by `Pager._round`
from a `Round` its caller describes. One lock serializes every selection with the recording
of its pages, so the daily cap holds even when cases of several rooms (or a timer and a
message) are handled at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from bot.config import Duration, bounded
from bot.content import Part, Pill, Rich, emoji_key, fill
from bot.events import Reaction, RoomInfo
from bot.i18n import human_duration
from bot.logs import report_exception
from bot.plugin import Context, Fired, Rooms, Timers, on, timer
from bot.storage import Database
from bot.text import fold
from plugins.cases.events import (
    CardDirty,
    CardLines,
    CaseChanged,
    CaseNumbered,
    CaseOpened,
    CaseReplied,
    CaseRootGone,
)
from plugins.specialties import Specialties
from plugins.volunteers.availability import DAY, available
from plugins.volunteers.events import Marks, VolunteerMarks
from plugins.volunteers.store import Followed, Prefs, VolunteerStore

log = logging.getLogger(__name__)

INTEREST_KEYS = frozenset(map(emoji_key, ("🙋", "🙋‍♀️", "🙋‍♂️", "👀")))
"""Compared through `emoji_key`: any skin tone, with or without U+FE0F."""
RETRY = 60.0
"""Seconds before a round whose message could not be sent is tried again."""


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
    confirm_wait: Duration = bounded(Duration(600), 0, 86400)
    """How long a case whose specialty is only proposed waits for the poster's confirmation
    before its best guess is paged."""


@dataclass(frozen=True, slots=True)
class Round:
    """One paging round of a case, as its caller decides it from the case read under the
    lock: what differs between the first page, the best guess, a retag and an escalation."""

    number: int
    """The round its pages are recorded as (1: nobody was paged for the case before)."""
    specs: tuple[str, ...]
    """The specialties whose volunteers may be paged (`tags`: those the page names)."""
    tags: tuple[str, ...]
    urgent: bool
    considered: tuple[str, ...] | None = None
    """Recorded with the pages as the specialties considered (None: unchanged)."""
    counts_empty: bool = True
    """Recorded as the case's round even when nobody is paged (not a retag)."""
    arm: Literal["never", "paged", "volunteers", "sent"] = "paged"
    """When the escalation is armed, before the page is sent: never, if someone is paged, if
    the room has volunteers for it besides the poster; or "sent": by the escalation timer
    itself, once its page is sent (arming replaces the timer: until then a crash fires it
    again, which resends the page)."""
    send: bool = True
    """Send the page and redraw the card now (the first round: `opened` does, under the card)."""
    replay_only: bool = False
    """Choose nobody: only page again those already recorded for this round (a replay)."""


def pills(room: RoomInfo, users: Sequence[str], notify: bool = False,
          signs: Mapping[str, Part] | None = None) -> list[Part]:
    """Users as pills with their names in the room, comma-separated (`notify` pings), each
    followed by its sign from `signs` if it has one (`VolunteerMarks`)."""
    parts: list[Part] = []
    for i, user in enumerate(users):
        if i:
            parts.append(", ")
        parts.append(Pill(user, room.display_name(user), notify))
        if signs and user in signs:
            parts.extend((" ", signs[user]))
    return parts


async def marks(ctx: Context, room_id: str, users: Iterable[str]) -> Marks:
    """What the other features say of these users here (`VolunteerMarks`), merged."""
    skip: set[str] = set()
    signs: dict[str, Part] = {}
    for found in await ctx.ask(VolunteerMarks(room_id, tuple(users))):
        skip |= found.skip
        signs.update(found.signs)
    return Marks(frozenset(skip), signs)


def names(room: RoomInfo, users: Sequence[str]) -> str:
    """Display names without pills: who is shown, not pinged (the card, `!take`)."""
    return ", ".join(map(room.display_name, users))


class PagerServices(Timers, Rooms, Protocol):
    """What paging uses of the bot: the time, its timers, the rooms, its metrics and the
    database (one transaction records a round's pages)."""

    db: Database

    def count(self, component: str, name: str, amount: int = 1) -> None: ...


class Pager:
    """Chooses and pages volunteers for the cases the feature follows, and escalates: it
    follows the case lifecycle and runs the feature's timers."""

    def __init__(self, bot: PagerServices, store: VolunteerStore, component: str,
                 config_for: Callable[[str], VolunteersConfig],
                 specialties: Callable[[], Specialties]) -> None:
        self.bot = bot
        self.store = store
        self.component = component
        """The timers' component (the plugin's name)."""
        self.config_for = config_for
        self.specialties = specialties
        self._lock = asyncio.Lock()

    # ---- the case lifecycle ----------------------------------------------------------------
    @on(CaseNumbered)
    async def numbered(self, ctx: Context, event: CaseNumbered) -> None:
        """A new case, before its card is drawn: follow it, choose and record its first
        round and arm the escalation, so the card lists who is paged when it is first sent
        (`opened` sends the page under it)."""
        case, text = event.case, event.text
        urgent = self._is_urgent(case.room_id, text)
        if case.awaiting_tag and not urgent:
            await self.store.follow(case, (), urgent, round_=0)
            await self.bot.schedule(
                self.component, self._confirm_key(case.room_id, case.number),
                case.opened_at + self.config_for(case.room_id).confirm_wait,
                {"room_id": case.room_id, "thread_root": case.root_event_id,
                 "number": case.number})
            return
        specs = self._targets(case.room_id, case.specialties[:1] if case.awaiting_tag
                              else case.specialties)
        await self.store.follow(case, specs, urgent)
        # Sent by `opened`, under the card; armed before: a page that fails to send does not
        # end the escalation.
        await self._round(ctx, case.room_id, case.number, lambda followed: Round(
            1, specs, case.specialties, urgent, arm="volunteers", send=False))

    @on(CaseOpened)
    async def opened(self, ctx: Context, event: CaseOpened) -> None:
        """A new case's card is in its thread: page the round `numbered` chose, under it."""
        case = event.case
        followed = await self.store.get(case.room_id, case.number)
        await self.store.update_case(case.room_id, case.number,
                                     card_event_id=case.card_event_id)
        users = await self.store.paged_in_round(case.room_id, case.number, 1)
        if followed is None or not users:
            return
        try:
            await self._send_page(ctx, case.room_id, case.number, case.root_event_id,
                                  followed.paging_tags, users, followed.urgent)
        except Exception as exc:
            report_exception(log, "volunteers.page", exc)

    @on(CaseChanged)
    async def changed(self, ctx: Context, event: CaseChanged) -> None:
        """A case changed: keep what it says; stop the escalation when it is no longer open
        or was answered; page the volunteers of specialties it was just tagged with."""
        before, case = event.before, event.case
        if (before.is_open, before.replies > 0, before.specialties, before.card_event_id,
                before.awaiting_tag) == (case.is_open, case.replies > 0, case.specialties,
                                         case.card_event_id, case.awaiting_tag):
            return  # one more answer to an answered case: nothing paging cares about
        followed = await self.store.track(case)
        if followed is None:  # opened before this feature followed cases: from its tags on
            await self.store.follow(case, self._targets(case.room_id, case.specialties), False,
                                    await self.store.last_round(case.room_id, case.number))
            return
        if not followed.awaiting:
            await self.bot.cancel(self.component, self._confirm_key(case.room_id,
                                                                    case.number))
        if not followed.escalating:
            await self.stop(followed)
        if followed.open and not followed.taken_by and not followed.awaiting:
            # Read again under the lock: an escalation round may have been paged meanwhile.
            await self._round(ctx, case.room_id, case.number, self._retag_round)

    @on(CaseRootGone)
    async def gone(self, ctx: Context, event: CaseRootGone) -> None:
        """The case was withdrawn (its root redacted): no more paging."""
        case = event.case
        await self.store.update_case(case.room_id, case.number, open=0)
        await self.bot.cancel(self.component, self._key(case.room_id, case.number),
                              self._confirm_key(case.room_id, case.number))

    @timer("confirm")
    async def confirm_wait_over(self, ctx: Context, fired: Fired) -> None:
        """Nobody confirmed a proposed specialty in time: page the best guess, once (a replay
        pages the same people with the same transaction ids), and arm the escalation as after
        a first round (when its specialty has volunteers, even none available now)."""
        room_id, number = ctx.room_id, int(fired.payload["number"])
        def plan(followed: Followed) -> Round | None:
            best = followed.tags[:1]
            return Round(1, self._targets(room_id, best), best, followed.urgent,
                         considered=best, arm="volunteers",
                         replay_only=bool(followed.considered)
                         ) if followed.awaiting and followed.escalating else None

        followed = await self.store.get(room_id, number)
        if followed is not None:
            await self._round(ctx.in_thread_of(followed.root_event_id), room_id, number, plan)

    @on(CaseReplied)
    async def replied(self, ctx: Context, event: CaseReplied) -> None:
        """A colleague's reply counts in `!volunteers stats` (who and when, nothing else):
        a volunteer's, or that of someone paged for this case (the stats list only them)."""
        case, reply = event.case, event.event
        if reply.sender != case.poster and (
                reply.sender in await self.store.enlisted(case.room_id)
                or reply.sender in await self.store.paged(case.room_id, case.number)):
            await self.store.add_reply(reply.event_id, case.room_id, case.number, reply.sender,
                                       reply.timestamp / 1000)

    async def stop(self, followed: Followed) -> None:
        """No more escalation for this case (its timer, if any, is cancelled)."""
        await self.bot.cancel(self.component, self._key(followed.room_id, followed.number))

    @on(Reaction)
    async def interest(self, ctx: Context, event: Reaction) -> None:
        """🙋 or 👀 by a colleague on a case's root, card or page: escalation stops."""
        if emoji_key(event.key) not in INTEREST_KEYS:
            return
        followed = await self.store.by_event(event.room_id, event.relates_to)
        if followed is not None and event.sender != followed.poster:
            await self.store.update_case(followed.room_id, followed.number, stopped=1)
            await self.stop(followed)

    @on(CardLines)
    async def card_lines(self, ctx: Context, event: CardLines) -> list[tuple[Part, ...]]:
        """The card's lines: when a proposed specialty will be paged, who was paged, who
        took the case (names, never pills)."""
        case = event.case
        lines: list[tuple[Part, ...]] = []
        followed = await self.store.get(case.room_id, case.number)
        if case.awaiting_tag and not (followed and followed.considered):
            wait = case.opened_at + self.config_for(case.room_id).confirm_wait - self.bot.now()
            lines.append((ctx.t("volunteers.card.awaiting",
                                specialty=self.specialties().label(
                                    case.room_id, case.specialties[0], ctx.lang),
                                delay=human_duration(ctx.t, max(wait, 60))),))
        if followed is None:  # not followed: nobody was paged
            return lines
        paged = await self.store.paged(case.room_id, case.number)
        if paged:
            lines.append((ctx.t("volunteers.card.paged") + names(ctx.room, paged),))
        if followed.taken_by:
            lines.append(fill(ctx.t("volunteers.card.taken"),
                              who=names(ctx.room, [followed.taken_by])))
        return lines

    # ---- choosing --------------------------------------------------------------------------
    def _targets(self, room_id: str, tags: Sequence[str]) -> tuple[str, ...]:
        """The specialties whose volunteers a case pages (the fallback when unclassified)."""
        fallback = self.config_for(room_id).fallback
        return tuple(tags) or ((str(fallback),) if fallback else ())

    def _is_urgent(self, room_id: str, text: str) -> bool:
        word = fold(self.config_for(room_id).urgent_word.lstrip("#"))
        return bool(word) and re.search(rf"(?<!\w)#{re.escape(word)}(?!\w)",
                                        fold(text)) is not None

    async def select(self, room_id: str, poster: str, found: list[tuple[Prefs, int]],
                     exclude: set[str], urgent: bool) -> list[str]:
        """The volunteers to page next for a case of `poster` among the candidates `found`
        (`VolunteerStore.candidates`, in rotation order).

        Call it under `self._lock` and record the pages before releasing it (the daily cap).
        """
        config = self.config_for(room_id)
        members = self.bot.room(room_id).members
        now = self.bot.now()
        room_tz = self.bot.timezone(room_id)
        chosen: list[str] = []
        for prefs, pages_today in found:
            user = prefs.user_id
            if len(chosen) >= config.per_round:
                break
            if user in (poster, self.bot.user_id) or user in exclude or user not in members:
                continue
            if pages_today >= config.daily_cap or not available(prefs, prefs.tz or room_tz,
                                                                 now, urgent):
                continue
            chosen.append(user)
        return chosen

    def _retag_round(self, followed: Followed) -> Round | None:
        """After a retag: the volunteers of the specialties the case did not have.

        Same rules as a round (rotation, exclusions, cap), never someone already paged for
        this case. It counts as the next round and restarts the escalation delay, unless a
        colleague already answered or showed interest.
        """
        new = tuple(s for s in self._targets(followed.room_id, followed.tags)
                    if s not in followed.considered)
        return Round(followed.round + 1, new, followed.tags, followed.urgent,
                     considered=(*followed.considered, *new), counts_empty=False,
                     arm="paged" if followed.escalating else "never") if new else None

    # ---- paging ----------------------------------------------------------------------------
    async def _round(self, ctx: Context, room_id: str, number: int,
                     plan: Callable[[Followed], Round | None]) -> None:
        """Page one round of a case: under the lock, read the case and let `plan` decide the
        round (None: no round), choose its volunteers (a replay after a crash finds those
        already recorded: the same people with the same transaction ids), record them and
        arm the escalation; then send the page and redraw the card."""
        signs: Mapping[str, Part] | None = None
        async with self._lock:
            followed = await self.store.get(room_id, number)
            if followed is None or (round_ := plan(followed)) is None:
                return
            waited = followed.awaiting and not followed.considered  # what the card says
            users = await self.store.paged_in_round(room_id, number, round_.number)
            if not users and round_.replay_only:
                return
            volunteers, chosen = bool(users), not users
            if chosen:
                found = await self.store.candidates(room_id, round_.specs, self.bot.now() - DAY)
                volunteers = any(p.user_id != followed.poster for p, _ in found)
                if volunteers:
                    # Never someone already paged for the case (nobody before round 1).
                    exclude = set(await self.store.paged(room_id, number)
                                  if round_.number > 1 else ())
                    seen = await marks(ctx, room_id, (p.user_id for p, _ in found))
                    signs = seen.signs
                    users = await self.select(room_id, followed.poster, found,
                                              exclude | seen.skip, round_.urgent)
            # Pages recorded are committed before they are sent (a replay finds them);
            # otherwise the round's writes are queued together (see `_schedule`).
            db = self.bot.db
            async with (db.transaction() if (chosen and users) or not db.queuing
                        else contextlib.nullcontext()):
                if chosen:
                    done = round_.number if users or round_.counts_empty else followed.round
                    if users:
                        await self.store.record(room_id, number, users, done, self.bot.now())
                    changes: dict[str, object] = {} if done == followed.round else {
                        "round": done}
                    if round_.considered is not None:
                        changes["considered"] = round_.considered
                    if changes:
                        await self.store.update_case(room_id, number, **changes)
                if ((round_.arm == "paged" and users)
                        or (round_.arm == "volunteers" and volunteers)):
                    await self._schedule(followed, round_.number, round_.urgent)
        if not round_.send:
            return
        if users:
            try:
                await self._send_page(ctx, room_id, number, followed.root_event_id,
                                      round_.tags, users, round_.urgent, signs)
            except Exception:
                if round_.arm == "sent":  # the same page again in a minute
                    await self._schedule(followed, round_.number - 1, round_.urgent,
                                         delay=RETRY)
                raise
        if users or (waited and round_.considered):  # listed on the card, or promised there
            await ctx.tell(CardDirty(room_id, number))
        if round_.arm == "sent":
            async with self._lock:
                followed = await self.store.get(room_id, number)
                if followed is not None and plan(followed) is not None:  # not superseded
                    await self._schedule(followed, round_.number, round_.urgent)

    async def _send_page(self, ctx: Context, room_id: str, number: int, root: str,
                         tags: Sequence[str], users: list[str], urgent: bool,
                         signs: Mapping[str, Part] | None = None) -> None:
        """The page: `users` pinged, each with its sign (`signs`: the marks already asked for
        when they were chosen)."""
        if signs is None:
            signs = (await marks(ctx, room_id, users)).signs
        label = self.specialties().label
        line = fill(ctx.t("volunteers.page_urgent" if urgent else "volunteers.page"),
                    number=number, prefix=ctx.prefix,
                    specialties=", ".join(label(room_id, s, ctx.lang) for s in tags)
                    or ctx.t("volunteers.unclassified"),
                    who=pills(self.bot.room(room_id), users, True, signs))
        event_id = await ctx.in_thread_of(root).send(Rich((line,)))
        self.bot.count("volunteers", "pages_sent")
        await self.store.add_page_event(room_id, number, event_id)

    @staticmethod
    def _key(room_id: str, number: int) -> str:
        return f"escalate:{room_id}:{number}"

    @staticmethod
    def _confirm_key(room_id: str, number: int) -> str:
        return f"confirm:{room_id}:{number}"

    async def _schedule(self, followed: Followed, round_: int, urgent: bool,
                        delay: float | None = None) -> None:
        """Arm the escalation after `round_` (replacing any earlier timer of the case)."""
        room_id, number = followed.room_id, followed.number
        if delay is None:
            delay = self.config_for(room_id).escalate_after
        due = self.bot.now() + delay
        # The timer and its `due` together: while an event is handled, queued one after the
        # other (no await between them), they run in one transaction with the next
        # statement, with no trip of their own; elsewhere, in a transaction (four trips).
        db = self.bot.db
        async with contextlib.nullcontext() if db.queuing else db.transaction():
            await self.bot.schedule(self.component, self._key(room_id, number), due,
                                    {"room_id": room_id, "thread_root": followed.root_event_id,
                                     "number": number, "round": round_, "urgent": urgent})
            await self.store.update_case(room_id, number, due=due)

    # ---- escalation ------------------------------------------------------------------------
    @timer("escalate")
    async def escalate(self, ctx: Context, fired: Fired) -> None:
        """The escalation timer of a case, due `escalate_after` past its last round.

        Nothing happens when the case is no longer awaiting anyone (closed, answered, taken,
        a colleague reacted) or when this timer was superseded (a retag paged its own round
        and re-armed the timer: only the timer whose `due` is the stored one counts). After
        the last round (`max_rounds`) the poster is told that nobody is available. Otherwise
        the next round is chosen and recorded under the lock, sent, and the next timer armed.

        Exactly once across crashes and races:
        - a replay (the same `fired` after a crash) finds the round already recorded and pages
          the same people with the same transaction ids: the homeserver sends nothing twice;
        - a retag that pages while this timer waits for the lock moves `due`: re-checked
          under the lock, this timer then gives way;
        - a page the homeserver refuses re-arms this round a minute later (`RETRY`), the
          same people, rather than letting the escalation die with this timer.
        """
        room_id = ctx.room_id
        number = int(fired.payload["number"])
        round_ = int(fired.payload.get("round", 1))
        urgent = bool(fired.payload.get("urgent", False))
        followed = await self.store.get(room_id, number)
        if followed is None or not followed.escalating:
            return
        if followed.due is not None and followed.due != fired.due:
            return  # superseded by a retag's own round
        ctx = ctx.in_thread_of(followed.root_event_id)
        if round_ >= self.config_for(room_id).max_rounds:
            await ctx.reply(fill(ctx.t("volunteers.nobody"), prefix=ctx.prefix,
                                 poster=Pill(followed.poster,
                                             ctx.room.display_name(followed.poster), True)))
            return
        # Not when a retag paged its own round while this timer waited for the lock.
        await self._round(ctx, room_id, number, lambda followed: Round(
            round_ + 1, self._targets(room_id, followed.paging_tags), followed.paging_tags,
            urgent, arm="sent") if followed.due in (None, fired.due) else None)
