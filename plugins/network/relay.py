"""Sharing a case with a wider room: `!share` (`!partager`), the offer after
`network.offer_after` (🔁), the relay itself, `!unshare` (`!retirer`), the cards' links and
the `!stats` line.

Nothing is relayed without the poster's own act. The case text is scanned by the secrecy
detector first (any finding stops the relay: the poster is told its kind, never its value);
then the bot posts the case in the wider room as its own message and asks cases to open a
case on it there (`OpenCase`): its own number, tags and volunteers. A relay that fails half-way
is undone (the copy redacted, its row deleted) and the poster told why.

The case's text is never kept: at `!share` the bot reads the case's message from the
homeserver, as its poster last edited it, decrypted in memory (`message_text`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from bot.content import Bold, Link, Part, Rich, emoji_key, fill, permalink
from bot.events import Reaction, Unavailable
from bot.i18n import human_duration
from bot.plugin import BotAPI, Context, Fired, Refusal, command, on, timer
from bot.router import Rest
from plugins.cases.events import (
    CardDirty,
    CardLines,
    CaseEdited,
    CaseOfThread,
    CaseOpened,
    CaseRootGone,
    CaseStatusWanted,
    OpenCase,
    PosterSigns,
    StatsLines,
    case_text,
)
from plugins.cases.model import WITHDRAWN, Case
from plugins.learning.events import DigestLines
from plugins.network.links import Links, NetworkConfig, room_name
from plugins.network.store import NetworkStore, Relay
from plugins.secrecy.text import scan_off_loop
from plugins.secrecy.words import kinds_text

log = logging.getLogger(__name__)

SHARE_KEYS = frozenset(map(emoji_key, ("🔁",)))
DAY = 86400.0


async def case_of(ctx: Context, room_id: str, root: str) -> Case | None:
    """The case whose thread starts at `root`, as cases answers (`CaseOfThread`)."""
    return next(iter(await ctx.ask(CaseOfThread(room_id, root))), None)


async def kinds_found(text: str) -> frozenset[str]:
    """The kinds of identifying data in `text` (never a value): secrecy's scan, off the loop;
    named for members with secrecy's `kinds_text`."""
    return frozenset(finding.kind for finding in await scan_off_loop(text, None, text))


def text_lines(text: str) -> list[tuple[Part, ...]]:
    return [(line,) for line in text.split("\n")]


class Relays:
    """The poster's acts (`!share`, 🔁, `!unshare`), the offer timer and the relay."""

    def __init__(self, bot: BotAPI, store: NetworkStore, links: Links, component: str,
                 config_for: Callable[[str], NetworkConfig]) -> None:
        self.bot = bot
        self.store = store
        self.links = links
        self.component = component
        self.config_for = config_for

    # ---- the case's text ---------------------------------------------------------------------
    @on(CaseOpened)
    async def opened(self, ctx: Context, event: CaseOpened) -> None:
        """Arm the offer when the room names a wider room."""
        case = event.case
        if not self.config_for(case.room_id).relay_to or await self._relayed_here(case):
            return
        await self.bot.schedule(
            self.component, f"offer:{case.room_id}:{case.number}",
            case.opened_at + self.config_for(case.room_id).offer_after,
            {"room_id": case.room_id, "thread_root": case.root_event_id})

    async def _text(self, ctx: Context, case: Case) -> str | None:
        """The case's text as its poster last edited it (without the `!case` command), read
        from the homeserver; None when the bot cannot read it (deleted, no key)."""
        body = await self.bot.message_text(case.room_id, case.root_event_id)
        if body is None:
            return None
        text = case_text(body, ctx.prefixes)
        return body if text is None else text

    async def _relayed_here(self, case: Case) -> bool:
        """Whether `case` is itself a relayed copy (never relayed again)."""
        return any(r.target_room == case.room_id and r.target_root == case.root_event_id
                   for r in await self.store.of_thread(case.room_id, case.root_event_id))

    @on(CaseEdited)
    async def root_edited(self, ctx: Context, event: CaseEdited) -> None:
        """The poster edited the case: the relayed copies follow, once the text is clean."""
        if not event.of_root:
            return
        case = event.case
        relays = [r for r in await self.store.of_thread(case.room_id, case.root_event_id)
                  if r.active and r.source_room == case.room_id]
        if not relays:
            return
        here = ctx.in_thread_of(case.root_event_id)
        kinds = await kinds_found(event.text)
        if kinds:
            await here.reply(fill(here.t("network.edit_held"), poster=here.pill(case.poster),
                                  kinds=kinds_text(here, kinds)))
            return
        for relay in relays:
            there = ctx.in_room(relay.target_room)
            await there.edit(relay.target_root, await self._copy(ctx, there, case, event.text))

    # ---- commands ----------------------------------------------------------------------------
    @command("share", "partager", args=(Rest("room", optional=True),),
             summary="network.share.summary")
    async def share(self, ctx: Context, room: str | None) -> None:
        case = await self._own_case(ctx, "share")
        await self.relay(ctx, case, room)

    @command("unshare", "retirer", summary="network.unshare.summary")
    async def unshare(self, ctx: Context) -> None:
        case = await self._own_case(ctx, "unshare")
        relays = [r for r in await self.store.of_thread(ctx.room_id, case.root_event_id)
                  if r.active]
        if not relays:
            raise Refusal(ctx.t("network.not_shared"))
        for relay in relays:
            await self.withdraw(ctx, relay)

    async def _own_case(self, ctx: Context, command: str) -> Case:
        """The case of the thread the command was typed in, posted by its sender."""
        root = getattr(ctx.event, "thread_root", None)
        case = await case_of(ctx, ctx.room_id, root) if root else None
        if case is None:
            raise Refusal(ctx.t("network.in_thread", prefix=ctx.prefix,
                                command=ctx.t(f"network.{command}.word")))
        if ctx.event.sender != case.poster:
            raise Refusal(fill(ctx.t("network.poster_only"),
                               poster=ctx.room.display_name(case.poster)))
        return case

    # ---- the offer ---------------------------------------------------------------------------
    @timer("offer")
    async def offer(self, ctx: Context, fired: Fired) -> None:
        """Still unanswered after `offer_after`: offer the wider room(s) in the thread."""
        room_id, root = ctx.room_id, str(ctx.thread_root)
        case = await case_of(ctx, room_id, root)
        if case is None or not case.is_open or case.replies:
            return
        if any(r.active for r in await self.store.of_thread(room_id, root)):
            return
        targets = [t for t in await self.links.targets(room_id)
                   if await self.links.refusal(room_id, t) is None]
        if not targets:
            return
        places = ", ".join(ctx.t("network.offer.place", room=room_name(ctx, self.bot.room(t)),
                                 members=len(self.bot.room(t).members - {self.bot.user_id}))
                           for t in targets)
        how = ctx.t("network.offer.how_one" if len(targets) == 1 else "network.offer.how_many",
                    prefix=ctx.prefix)
        event_id = await ctx.reply(fill(
            ctx.t("network.offer"), poster=ctx.pill(case.poster, notify=True),
            delay=human_duration(ctx.t, self.config_for(room_id).offer_after), places=places,
            how=how))
        await self.store.add_offer(room_id, event_id, root)

    @on(Reaction)
    async def reacted(self, ctx: Context, event: Reaction) -> None:
        """🔁 by the poster on the offer: shared (to the first wider room named)."""
        if emoji_key(event.key) not in SHARE_KEYS:
            return
        root = await self.store.offer_root(event.room_id, event.relates_to)
        if root is None:
            return
        case = await case_of(ctx, event.room_id, root)
        if case is None or event.sender != case.poster:
            return
        here = ctx.in_thread_of(root)
        try:
            await self.relay(here, case, None, first=True)
        except Refusal as refused:
            await here.reply(refused.message)

    # ---- the relay ---------------------------------------------------------------------------
    async def _target(self, ctx: Context, case: Case, word: str | None, first: bool) -> str:
        targets = await self.links.targets(case.room_id)
        if not targets:
            raise Refusal(ctx.t("network.refused.no_link", prefix=ctx.prefix))
        if word is not None:
            word = word.strip()
            chosen = await self.links.room_of(word)
            named = [t for t in targets if t == chosen or room_name(ctx, self.bot.room(t))
                     .casefold() == word.casefold()]
            if not named:
                raise Refusal(ctx.t("network.refused.not_linked", names=self._names(ctx,
                                                                                   targets)))
            return named[0]
        if len(targets) > 1 and not first:
            raise Refusal(ctx.t("network.refused.which", prefix=ctx.prefix,
                                names=self._names(ctx, targets)))
        return targets[0]

    def _names(self, ctx: Context, rooms: Sequence[str]) -> str:
        return ", ".join(f"« {room_name(ctx, self.bot.room(r))} »" for r in rooms)

    async def relay(self, ctx: Context, case: Case, word: str | None, first: bool = False
                    ) -> None:
        """Relay `case` (its poster's act) to the wider room `word` names, or the only one."""
        here = ctx.in_thread_of(case.root_event_id)
        if not case.is_open:
            raise Refusal(ctx.t("network.refused.not_open", number=case.number))
        relays = await self.store.of_thread(case.room_id, case.root_event_id)
        if any(r.target_room == case.room_id for r in relays):
            raise Refusal(ctx.t("network.refused.relayed"))
        target = await self._target(ctx, case, word, first)
        wider = room_name(ctx, self.bot.room(target))
        if any(r.active and r.target_room == target for r in relays):
            raise Refusal(ctx.t("network.refused.already", room=wider))
        reason = await self.links.refusal(case.room_id, target)
        if reason == "network.refused.not_accepted":
            await self.links.ask(ctx, case.room_id, target)
        if reason is not None:
            raise Refusal(ctx.t(reason, room=wider, prefix=ctx.prefix))
        cap = self.config_for(case.room_id).max_shares_per_day
        if await self.store.shares_since(case.poster, self.bot.now() - DAY) >= cap:
            raise Refusal(ctx.t("network.refused.limit", cap=cap))
        text = await self._text(ctx, case)
        if text is None:
            raise Refusal(ctx.t("network.refused.unreadable"))
        kinds = await kinds_found(text)
        if kinds:
            raise Refusal(fill(ctx.t("network.refused.secrecy"), kinds=kinds_text(ctx, kinds),
                               prefix=ctx.prefix))
        there = ctx.in_room(target)
        try:
            copy = await there.send(await self._copy(ctx, there, case, text), in_thread=False)
        except Unavailable:
            raise
        except Exception as failed:  # removed from the room, no power: nothing was posted
            log.warning("network: relay to %s failed (%s)", target, type(failed).__name__)
            raise Refusal(ctx.t("network.refused.failed", room=wider)) from None
        relay_id = await self.store.add_relay(case.room_id, case.root_event_id, case.number,
                                              target, copy, case.poster, self.bot.now())
        opened = None
        try:
            opened = next(iter(await ctx.ask(OpenCase(target, copy, case.poster, text))), None)
        except Refusal as refused:
            await self._undo(there, relay_id, copy)
            raise Refusal(Rich.of(ctx.t("network.refused.there", room=wider)) +
                          (refused.message if isinstance(refused.message, Rich)
                           else Rich.of(refused.message))) from None
        if opened is None:
            await self._undo(there, relay_id, copy)
            raise Refusal(ctx.t("network.refused.failed", room=wider))
        await self.store.numbered(relay_id, opened.number)
        self.bot.count(self.component, "relayed")
        log.info("network: case %s of %s relayed to %s as case %s", case.number, case.room_id,
                 target, opened.number)
        await ctx.tell(CardDirty(case.room_id, case.number))
        await here.reply(fill(ctx.t("network.shared"), room=wider, link=Link(
            permalink(target, copy), ctx.t("network.open_there"))))

    async def _undo(self, there: Context, relay_id: int, copy: str) -> None:
        await there.redact(copy, "relay failed")
        await self.store.forget(relay_id)

    async def _copy(self, ctx: Context, there: Context, case: Case, text: str) -> Rich:
        """The relayed post: whence and by whom, that answers go back, then the text."""
        source = self.bot.room(case.room_id)
        poster: list[Part] = [source.display_name(case.poster)]
        for sign in await ctx.ask(PosterSigns(case)):
            if sign:
                poster.extend((" ", sign))
        name = room_name(there, source)
        return Rich((fill(there.t("network.copy.head"), room=Bold(name), poster=poster),
                     (there.t("network.copy.answers", room=name),), ("",),
                     *text_lines(text)))

    async def withdraw(self, ctx: Context, relay: Relay) -> None:
        """Withdraw the relayed copy, its card's case and the mirrors posted there."""
        there = ctx.in_room(relay.target_room)
        await self.store.withdrawn(relay.id, self.bot.now())
        if relay.target_number is not None:
            withdraw = CaseStatusWanted(relay.target_room, relay.target_number, WITHDRAWN,
                                        relay.poster)
            await ctx.ask(withdraw)
        for event_id in [relay.target_root,
                         *await self.store.mirrors_into(relay.id, relay.target_room)]:
            await there.redact(event_id, "withdrawn by its poster")
        await ctx.tell(CardDirty(relay.source_room, relay.source_number))
        here = ctx.in_room(relay.source_room, relay.source_root)
        await here.send(here.t("network.withdrawn", room=room_name(
            here, self.bot.room(relay.target_room))))

    @on(CaseRootGone)
    async def root_gone(self, ctx: Context, event: CaseRootGone) -> None:
        """The source case's post was deleted: its relayed copies go too."""
        for relay in await self.store.of_thread(event.case.room_id, event.case.root_event_id):
            if relay.active and relay.source_room == event.case.room_id:
                await self.withdraw(ctx, relay)

    # ---- card and stats ----------------------------------------------------------------------
    @on(CardLines)
    async def card_lines(self, ctx: Context, event: CardLines) -> list[tuple[Part, ...]]:
        case = event.case
        lines: list[tuple[Part, ...]] = []
        for relay in await self.store.of_thread(case.room_id, case.root_event_id):
            if not relay.active:
                continue
            room, root, _ = relay.other_side(case.room_id)
            link = Link(permalink(room, root), ctx.t("network.card.link"))
            name = room_name(ctx, self.bot.room(room))
            if relay.source_room == case.room_id:
                lines.append(fill(ctx.t("network.card.shared"), room=name, link=link))
            else:
                lines.append(fill(ctx.t("network.card.relayed"), room=name, link=link))
        return lines

    @on(StatsLines)
    async def stats_lines(self, ctx: Context, event: StatsLines) -> list[tuple[Part, ...]]:
        return await self._line(ctx, event.room_id, event.since)

    @on(DigestLines)
    async def digest_lines(self, ctx: Context, event: DigestLines) -> list[tuple[Part, ...]]:
        """The weekly digest's one line (when the room shared or received a case)."""
        return await self._line(ctx, event.room_id, event.start, event.end)

    async def _line(self, ctx: Context, room_id: str, since: float,
                    until: float = float("inf")) -> list[tuple[Part, ...]]:
        figures = await self.store.figures(room_id, since, until)
        if not (figures.shared or figures.received):
            return []
        return [(ctx.t("network.stats", shared=figures.shared, answers=figures.answers,
                       resolved=figures.resolved, received=figures.received),)]


__all__ = ["Relays"]
