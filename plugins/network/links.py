"""Which rooms a room's cases may go to, both sides consenting, and why not.

A room's admins name the wider rooms (`network.relay_to`); the wider room accepts relays from
it (`network.accept_from`, or ✅ by one of its admins on the request the bot posts there), or
pauses them all (`network.accept_from off`). Both rooms encrypted, the bot in both and allowed
to post in the wider one; a room whose `trust.policy` is `verified` relays only to rooms that
are `verified` too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.config import Duration, bounded
from bot.content import Rich, emoji_key, fill
from bot.events import Reaction, RoomInfo
from bot.plugin import BotAPI, Context, on
from plugins.network.store import NetworkStore
from plugins.trust import Trust

ACCEPT_KEYS = frozenset(map(emoji_key, ("✅", "✔️", "☑️")))
PAUSED = "off"
MAX_ID = 255
"""Matrix room ids and aliases are at most 255 bytes."""


@dataclass(frozen=True, slots=True)
class NetworkConfig:
    relay_to: tuple[str, ...] = ()
    """Wider rooms (ids or aliases) this room's cases may be relayed to."""
    accept_from: tuple[str, ...] = ()
    """Rooms (ids or aliases) whose cases this room accepts; `off` pauses every relay."""
    offer_after: Duration = bounded(Duration(2 * 3600), 1, 30 * 86400)
    """A case unanswered this long is offered to the wider room (before cases' reminder)."""
    max_shares_per_day: int = bounded(3, 0, 100)
    """Relays per member in 24 hours (all rooms)."""


def room_name(ctx: Context, info: RoomInfo) -> str:
    """A room as members know it: its name, else its alias, else "a room" (never its id)."""
    return info.name or info.canonical_alias or ctx.t("network.a_room")


class Links:
    """The consent of both rooms, read from their settings and the requests accepted."""

    def __init__(self, bot: BotAPI, store: NetworkStore,
                 config_for: Callable[[str], NetworkConfig], trust: Callable[[], Trust]) -> None:
        self.bot = bot
        self.store = store
        self.config_for = config_for
        self.trust = trust

    async def room_of(self, word: str) -> str | None:
        """The room a setting's word names: a room id as is, an alias through the directory
        (a word longer than Matrix allows names none: never sent to the homeserver)."""
        if len(word) > MAX_ID:
            return None
        if word.startswith("!"):
            return word
        if word.startswith("#"):
            return await self.bot.resolve_alias(word)
        return None

    async def targets(self, room_id: str) -> list[str]:
        """The wider rooms `room_id` names, in its order (unknown aliases left out)."""
        found: list[str] = []
        for word in self.config_for(room_id).relay_to:
            target = await self.room_of(word)
            if target and target != room_id and target not in found:
                found.append(target)
        return found

    async def accepts(self, target: str, source: str) -> bool | None:
        """Whether `target` accepts relays from `source`; None while it pauses them all."""
        words = self.config_for(target).accept_from
        if any(word.lower() == PAUSED for word in words):
            return None
        for word in words:
            if await self.room_of(word) == source:
                return True
        return await self.store.accepted(source, target)

    def joined(self, room_id: str) -> bool:
        return (room_id in self.bot.room_ids()
                and self.bot.user_id in self.bot.room(room_id).members)

    def verified(self, room_id: str) -> bool:
        return bool(self.trust().config_for(room_id).policy == "verified")

    async def refusal(self, source: str, target: str) -> str | None:
        """Why a case of `source` may not go to `target` now (a string key), or None."""
        if not self.joined(target):
            return "network.refused.not_joined"
        wider = self.bot.room(target)
        if not wider.encrypted or not self.bot.room(source).encrypted:
            return "network.refused.unencrypted"
        if self.verified(source) and not self.verified(target):
            return "network.refused.unverified"
        level = wider.power_events.get("m.room.message", wider.power_events_default)
        if wider.power_level(self.bot.user_id) < level:
            return "network.refused.no_power"
        accepted = await self.accepts(target, source)
        if accepted is None:
            return "network.refused.paused"
        if not accepted:
            return "network.refused.not_accepted"
        return None

    async def ask(self, ctx: Context, source: str, target: str) -> None:
        """Post, once, the request to accept `source`'s cases in `target` (✅ by an admin)."""
        if await self.store.request(source, target) is not None:
            return
        there = ctx.in_room(target)
        event_id = await there.send(fill(
            there.t("network.request"), room=room_name(there, self.bot.room(source)),
            prefix=there.prefix, room_id=source), in_thread=False)
        await self.store.add_request(source, target, event_id, self.bot.now())

    @on(Reaction)
    async def accepted_by_reaction(self, ctx: Context, event: Reaction) -> None:
        """✅ by an admin of the wider room on the bot's request: relays accepted."""
        if emoji_key(event.key) not in ACCEPT_KEYS:
            return
        source = await self.store.request_at(event.room_id, event.relates_to)
        if source is None or not ctx.is_admin(event.sender):
            return
        await self.store.accept(source, event.room_id, event.sender, self.bot.now())
        await ctx.announce(Rich.of(fill(ctx.t("network.request.accepted"), who=ctx.pill(),
                                        room=room_name(ctx, self.bot.room(source)))),
                           "network accept")


