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
is redrawn (`CardStale`).

One lock serializes every selection with the recording of its pages, so the daily cap holds
even when cases of several rooms (or a timer and a message) are handled at the same time.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.config import Duration, bounded
from bot.content import Part, Pill, Rich, emoji_key, fill
from bot.events import Reaction, RoomInfo
from bot.i18n import human_duration
from bot.logs import report_exception
from bot.plugin import BotAPI, Context, Fired
from bot.text import fold
from plugins.cases.events import CardStale
from plugins.cases.model import Case
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
    for found in await ctx.publish(VolunteerMarks(room_id, tuple(users))):
        if isinstance(found, Marks):
            skip |= found.skip
            signs.update(found.signs)
    return Marks(frozenset(skip), signs)


def names(room: RoomInfo, users: Sequence[str]) -> str:
    """Display names without pills: who is shown, not pinged (the card, `!take`)."""
    return ", ".join(map(room.display_name, users))


class Pager:
    """Chooses and pages volunteers for the cases the feature follows, and escalates."""

    def __init__(self, bot: BotAPI, store: VolunteerStore, component: str,
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
    async def numbered(self, ctx: Context, case: Case, text: str) -> None:
        """A new case, before its card is drawn: follow it, choose and record its first
        round and arm the escalation, so the card lists who is paged when it is first sent
        (`opened` sends the page under it)."""
        urgent = self._is_urgent(case.room_id, text)
        if case.awaiting_tag and not urgent:
            await self.store.follow(case, (), urgent, round_=0)
            await self.bot.schedule(
                self.component, self._confirm_key(case.room_id, case.number),
                case.opened_at + self.config_for(case.room_id).confirm_wait,
                {"room_id": case.room_id, "number": case.number})
            return
        specs = self._targets(case.room_id, case.specialties[:1] if case.awaiting_tag
                              else case.specialties)
        async with self._lock:
            await self.store.follow(case, specs, urgent)
            found = await self.store.candidates(case.room_id, specs, self.bot.now() - DAY)
            if not [p for p, _ in found if p.user_id != case.poster]:
                return
            # A replay after a crash pages the same people again (same transaction ids).
            users = await self.store.paged_in_round(case.room_id, case.number, 1)
            if not users:
                skip = (await marks(ctx, case.room_id, (p.user_id for p, _ in found))).skip
                users = await self.select(case.room_id, case.poster, specs, set(skip), urgent,
                                          found)
                await self.store.record(case.room_id, case.number, users, 1, self.bot.now())
        # Armed before the page is sent: a page that fails to send does not end the escalation.
        await self._schedule(case.room_id, case.number, 1, urgent)

    async def opened(self, ctx: Context, case: Case, text: str) -> None:
        """A new case's card is in its thread: page the round `numbered` chose, under it."""
        await self.store.update_case(case.room_id, case.number,
                                     card_event_id=case.card_event_id)
        users = await self.store.paged_in_round(case.room_id, case.number, 1)
        if not users:
            return
        try:
            await self._send_page(ctx, case.room_id, case.number, case.root_event_id,
                                  case.specialties, users, self._is_urgent(case.room_id, text))
        except Exception as exc:
            report_exception(log, "volunteers.page", exc)

    async def changed(self, ctx: Context, case: Case) -> None:
        """A case changed: keep what it says; stop the escalation when it is no longer open
        or was answered; page the volunteers of specialties it was just tagged with."""
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
            await self._page_new_specialties(ctx, followed)

    async def gone(self, case: Case) -> None:
        """The case was withdrawn (its root redacted): no more paging."""
        await self.store.update_case(case.room_id, case.number, open=0)
        await self.bot.cancel(self.component, self._key(case.room_id, case.number),
                              self._confirm_key(case.room_id, case.number))

    async def confirm_wait_over(self, fired: Fired) -> None:
        """Nobody confirmed a proposed specialty in time: page the best guess, once (a replay
        pages the same people with the same transaction ids), and arm the escalation."""
        room_id, number = str(fired.payload["room_id"]), int(fired.payload["number"])
        async with self._lock:
            followed = await self.store.get(room_id, number)
            if followed is None or not followed.awaiting or not followed.escalating:
                return
            ctx = Context(self.bot, room_id, fired, thread_root=followed.root_event_id)
            best = followed.tags[:1]
            users = await self.store.paged_in_round(room_id, number, 1)
            if not users:
                if followed.considered:
                    return  # already done: nobody was available for the best guess
                skip = (await marks(ctx, room_id, self.bot.room(room_id).members)).skip
                users = await self.select(room_id, followed.poster,
                                          self._targets(room_id, best), set(skip),
                                          followed.urgent)
                async with self.bot.db.transaction():
                    await self.store.record(room_id, number, users, 1, self.bot.now())
                    await self.store.update_case(room_id, number, considered=best, round=1)
            if users:
                await self._schedule(room_id, number, 1, followed.urgent)
        if users:
            await self._send_page(ctx, room_id, number, followed.root_event_id, best, users,
                                  followed.urgent)
            await ctx.publish(CardStale(room_id, number))

    async def stop(self, followed: Followed) -> None:
        """No more escalation for this case (its timer, if any, is cancelled)."""
        await self.bot.cancel(self.component, self._key(followed.room_id, followed.number))

    async def interest(self, event: Reaction) -> None:
        """🙋 or 👀 by a colleague on a case's root, card or page: escalation stops."""
        if emoji_key(event.key) not in INTEREST_KEYS:
            return
        followed = await self.store.by_event(event.room_id, event.relates_to)
        if followed is not None and event.sender != followed.poster:
            await self.store.update_case(followed.room_id, followed.number, stopped=1)
            await self.stop(followed)

    async def card_lines(self, ctx: Context, case: Case) -> list[tuple[Part, ...]]:
        """The card's lines: when a proposed specialty will be paged, who was paged, who
        took the case (names, never pills)."""
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

    async def select(self, room_id: str, poster: str, specs: Sequence[str], exclude: set[str],
                     urgent: bool, found: list[tuple[Prefs, int]] | None = None) -> list[str]:
        """The volunteers of `specs` to page next for a case of `poster`, in rotation order
        (`found`: the candidates, when the caller already has them).

        Call it under `self._lock` and record the pages before releasing it (the daily cap).
        """
        config = self.config_for(room_id)
        members = self.bot.room(room_id).members
        now = self.bot.now()
        chosen: list[str] = []
        if found is None:
            found = await self.store.candidates(room_id, specs, now - DAY)
        for prefs, pages_today in found:
            user = prefs.user_id
            if len(chosen) >= config.per_round:
                break
            if user in (poster, self.bot.user_id) or user in exclude or user not in members:
                continue
            tz = prefs.tz or self.bot.timezone(room_id)
            if pages_today >= config.daily_cap or not available(prefs, tz, now, urgent):
                continue
            chosen.append(user)
        return chosen

    async def _page_new_specialties(self, ctx: Context, followed: Followed) -> None:
        """After a retag: page the volunteers of the specialties the case did not have.

        Same rules as a round (rotation, exclusions, cap), never someone already paged for
        this case. It counts as the next round and restarts the escalation delay, unless a
        colleague already answered or showed interest.
        """
        room_id, number = followed.room_id, followed.number
        async with self._lock:
            # Read again under the lock: an escalation round may have been paged meanwhile.
            followed = await self.store.get(room_id, number) or followed
            targets = self._targets(room_id, followed.tags)
            new = [s for s in targets if s not in followed.considered]
            if not new:
                return
            already = set(await self.store.paged(room_id, number))
            already |= (await marks(ctx, room_id, self.bot.room(room_id).members)).skip
            users = await self.select(room_id, followed.poster, new, already, followed.urgent)
            round_ = followed.round + 1 if users else followed.round
            async with self.bot.db.transaction():
                await self.store.record(room_id, number, users, round_, self.bot.now())
                await self.store.update_case(room_id, number,
                                             considered=(*followed.considered, *new),
                                             round=round_)
                if users and followed.escalating:
                    await self._schedule(room_id, number, round_, followed.urgent)
        if users:
            await self._send_page(ctx, room_id, number, followed.root_event_id, followed.tags,
                                  users, followed.urgent)
            await ctx.publish(CardStale(room_id, number))

    # ---- paging ----------------------------------------------------------------------------
    async def _send_page(self, ctx: Context, room_id: str, number: int, root: str,
                         tags: Sequence[str], users: list[str], urgent: bool) -> None:
        label = self.specialties().label
        line = fill(ctx.t("volunteers.page_urgent" if urgent else "volunteers.page"),
                    number=number, prefix=ctx.prefix,
                    specialties=", ".join(label(room_id, s, ctx.lang) for s in tags)
                    or ctx.t("volunteers.unclassified"),
                    who=pills(self.bot.room(room_id), users, True,
                              (await marks(ctx, room_id, users)).signs))
        event_id = await ctx.in_thread_of(root).send(Rich((line,)))
        self.bot.count("volunteers", "pages_sent")
        await self.store.add_page_event(room_id, number, event_id)

    @staticmethod
    def _key(room_id: str, number: int) -> str:
        return f"escalate:{room_id}:{number}"

    @staticmethod
    def _confirm_key(room_id: str, number: int) -> str:
        return f"confirm:{room_id}:{number}"

    async def _schedule(self, room_id: str, number: int, round_: int, urgent: bool,
                        delay: float | None = None) -> None:
        """Arm the escalation after `round_` (replacing any earlier timer of the case)."""
        if delay is None:
            delay = self.config_for(room_id).escalate_after
        due = self.bot.now() + delay
        async with self.bot.db.transaction():
            await self.bot.schedule(self.component, self._key(room_id, number), due,
                                    {"room_id": room_id, "number": number, "round": round_,
                                     "urgent": urgent})
            await self.store.update_case(room_id, number, due=due)

    # ---- escalation ------------------------------------------------------------------------
    async def escalate(self, fired: Fired) -> None:
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
        room_id = str(fired.payload["room_id"])
        number = int(fired.payload["number"])
        round_ = int(fired.payload.get("round", 1))
        urgent = bool(fired.payload.get("urgent", False))
        followed = await self.store.get(room_id, number)
        if followed is None or not followed.escalating:
            return
        if followed.due is not None and followed.due != fired.due:
            return  # superseded by a retag's own round
        ctx = Context(self.bot, room_id, fired, thread_root=followed.root_event_id)
        if round_ >= self.config_for(room_id).max_rounds:
            await ctx.reply(fill(ctx.t("volunteers.nobody"), prefix=ctx.prefix,
                                 poster=Pill(followed.poster,
                                             ctx.room.display_name(followed.poster), True)))
            return
        async with self._lock:
            followed = await self.store.get(room_id, number)
            if followed is None or followed.due not in (None, fired.due):
                return  # a retag paged its own round while this timer waited for the lock
            users = await self.store.paged_in_round(room_id, number, round_ + 1)
            if not users:
                already = set(await self.store.paged(room_id, number))
                already |= (await marks(ctx, room_id, self.bot.room(room_id).members)).skip
                users = await self.select(room_id, followed.poster,
                                          self._targets(room_id, followed.paging_tags),
                                          already, urgent)
                async with self.bot.db.transaction():
                    await self.store.record(room_id, number, users, round_ + 1, self.bot.now())
                    await self.store.update_case(room_id, number, round=round_ + 1)
        if users:
            try:
                await self._send_page(ctx, room_id, number, followed.root_event_id,
                                      followed.paging_tags, users, urgent)
            except Exception:
                await self._schedule(room_id, number, round_, urgent, delay=RETRY)
                raise
            await ctx.publish(CardStale(room_id, number))
        async with self._lock:
            followed = await self.store.get(room_id, number)
            if followed is not None and followed.due in (None, fired.due):  # no retag since
                await self._schedule(room_id, number, round_ + 1, urgent)
