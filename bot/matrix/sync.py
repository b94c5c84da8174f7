"""The sync loop: the App's exactly-once contract, retries, back-fill.

Each sync response is a batch: its events (and those back-filled into a `limited` timeline,
and those whose keys arrived since) go to the App in one `handle_batch`, and only once the
whole batch was handled is its token saved. A crash in between replays the batch; the App
skips the ids it already handled and replies reuse transaction ids derived from the event
they answer, so nothing is answered twice and nothing is skipped. Events held for their
keys are `bot.matrix.held`'s, invites `bot.matrix.invites`'s.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import aiohttp
from nio import Event as NioEvent
from nio import (
    MegolmEvent,
    MessageDirection,
    RoomMessagesResponse,
    SyncError,
    SyncResponse,
)

from bot.config import Config
from bot.events import Event, Unavailable
from bot.matrix.convert import as_dict, convert
from bot.matrix.guarded import GuardedClient
from bot.matrix.held import HeldEvents, HeldStore
from bot.matrix.invites import InvitePolicy
from bot.matrix.session import Session, TransportError

log = logging.getLogger(__name__)

SYNC_FILTER = {
    "presence": {"not_types": ["*"]},
    "account_data": {"not_types": ["*"]},
    "room": {
        "state": {"not_types": ["m.room.topic", "m.room.avatar", "m.room.guest_access"]},
        "timeline": {"limit": 100},
        "ephemeral": {"not_types": ["*"]},
        "account_data": {"not_types": ["*"]},
    },
}
"""No presence, account data, receipts or typing; no room state the bot never reads (every
start's first sync carries every room's whole state, each event parsed and validated by nio)."""
BACKFILL_PAGES = 20
"""At most this many pages of 100 events are fetched to fill a gap in a room's timeline."""
BACKFILL_CONCURRENCY = 8
"""Rooms back-filled at once (a restart after a long downtime may find many gaps)."""


class Sink(Protocol):
    """The App's side of the exactly-once contract: it handles each batch, then keeps the
    batch's token (`bot.app.App`)."""

    async def load_sync_token(self) -> str | None: ...
    async def save_sync_token(self, token: str) -> None: ...
    async def handle_batch(self, events: Sequence[Event]) -> None: ...


class _Stopping(Exception):
    """Asked to stop while waiting for the database: leave the batch for the next run."""


class SyncLoop:
    """Syncs the session's client until `stop()`, handing each batch to a `Sink`."""

    def __init__(self, config: Config, session: Session) -> None:
        self.config = config
        self.session = session
        self.user_id = session.user_id
        self.started_at = time.time()
        self._stopping = False
        self._sync_task: asyncio.Task[Any] | None = None
        self._early: tuple[str | None, asyncio.Task[Any]] | None = None
        self.held = HeldEvents(config, session)
        self.invites = InvitePolicy(config, session)
        self._state = "starting"
        self.last_sync_at: float | None = None
        """When a sync last completed (its batch handled, its token saved): for /healthz."""

    @property
    def pending(self) -> int:
        """How many events wait for their keys."""
        return len(self.held)

    @property
    def undecryptable(self) -> int:
        """Events that arrived undecryptable since the start (held for their keys)."""
        return self.held.undecryptable

    @property
    def client(self) -> GuardedClient:
        client = self.session.client
        assert client is not None
        return client

    def _set_state(self, state: str, detail: str = "") -> None:
        if state != self._state:
            self._state = state
            log.info("homeserver %s%s", state, f" ({detail})" if detail else "")

    def stop(self) -> None:
        """Finish the batch in hand, then leave the sync loop."""
        self._stopping = True
        if self._sync_task and not self._sync_task.done():
            self._sync_task.cancel()
        self._drop_early()

    def prepare(self, token: str | None) -> None:
        """Send the first sync request now, with `token` (the stored one), while the App still
        starts: Synapse works on it meanwhile, and `run()` takes its answer as its first
        batch. The request only fetches: its events reach the App through `run()`, once the
        App has started; should `run()` load another token, the answer is dropped."""
        self._drop_early()
        self._early = (token, asyncio.ensure_future(self._first_sync(token)))

    def _first_sync(self, token: str | None) -> Awaitable[Any]:
        """The first sync: the whole state, no waiting."""
        return self.client.sync(timeout=0, since=token, full_state=True,
                                sync_filter=SYNC_FILTER)

    def _drop_early(self) -> None:
        if self._early is not None:
            task = self._early[1]
            self._early = None
            task.cancel()
            task.add_done_callback(_retrieve)

    async def run(self, sink: Sink, store: HeldStore) -> None:
        """Sync until `stop()`: handle each batch, then save its token (exactly-once); the
        events held for their keys are kept in `store`.

        The first sync (`full_state`, no wait) only learns the rooms: its events are not
        handed over, so the bot never answers history. A failed sync is retried with
        back-off (0.5 s doubling, at most 60 s); a refused access token ends the loop. While
        the database or the homeserver is unavailable the batch stays in hand and is retried
        (`_until_available`); the token is saved only after the whole batch went through.
        """
        client = self.client
        try:
            token = await self._until_available(sink.load_sync_token)
            await self.held.restore(store, self._until_available)
        except _Stopping:
            return
        first = True
        failures = 0
        timeout_ms = int(self.config.matrix.sync_timeout * 1000)
        early, self._early = self._early, None
        if early is not None and early[0] != token:  # not the token `prepare` was given
            self._early = early
            self._drop_early()
            early = None
        while not self._stopping:
            if early is not None:  # the first request, sent by `prepare` (same arguments)
                self._sync_task, early = early[1], None
            elif first:
                self._sync_task = asyncio.ensure_future(self._first_sync(token))
            else:
                self._sync_task = asyncio.ensure_future(client.sync(
                    timeout=timeout_ms, since=token, sync_filter=SYNC_FILTER))
            try:
                resp = await self._sync_task
            except asyncio.CancelledError:
                if self._stopping:
                    break
                raise
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                resp = SyncError(type(exc).__name__)
            if not isinstance(resp, SyncResponse):
                failures += 1
                self._set_state("unreachable", getattr(resp, "message", "") or "no answer")
                if getattr(resp, "status_code", None) in ("M_UNKNOWN_TOKEN",):
                    raise TransportError("the access token was refused: run `casebot login`")
                await asyncio.sleep(min(60.0, 0.5 * 2 ** min(failures, 7)))
                continue
            failures = 0
            self._set_state("connected")
            await self.invites.answer(resp)
            await self.session.keys_upkeep()
            events = await self._collect(resp, since=token)
            events.extend(self.held.ready(self._take))
            try:
                if events:
                    await self._until_available(sink.handle_batch, events)
                await self._until_available(sink.save_sync_token, resp.next_batch)
                await self.held.save(store, self._until_available)
            except _Stopping:
                break  # the database could not be written: this batch replays next run
            token = resp.next_batch
            first = False
            self.last_sync_at = time.time()

    async def _until_available(self, work: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        """`work(*args)`, retried with back-off while the database or the homeserver is
        unavailable (the batch stays in hand: nothing is lost, nothing is skipped; replies
        reuse their transaction ids); `_Stopping` if the bot is asked to stop meanwhile."""
        delay = 1.0
        while True:
            try:
                result = await work(*args)
            except Unavailable as exc:
                if self._stopping:
                    raise _Stopping from None
                if delay == 1.0:
                    log.error("%s: the events in hand are kept and retried until it is back",
                              exc.reason)
                await asyncio.sleep(delay)
                delay = min(60.0, delay * 2)
                continue
            if delay > 1.0:
                log.info("available again; resuming")
            return result

    async def _collect(self, resp: SyncResponse, since: str | None) -> list[Event]:
        """The batch's events for the App (none on the very first sync: the bot does not
        answer history). The real state each room's section and timeline carry was noted
        already, when nio applied the response (`bot.matrix.rooms`)."""
        out: list[Event] = []
        if since is None:
            return out
        gaps = {room_id: info.timeline.prev_batch
                for room_id, info in resp.rooms.join.items()
                if info.timeline.limited and info.timeline.prev_batch
                and not self._joined_in(info.timeline.events)}
        filled: dict[str, list[NioEvent]] = {}
        if gaps:  # one request after another would cost a round trip per room
            limit = asyncio.Semaphore(BACKFILL_CONCURRENCY)

            async def fill(room_id: str, start: str) -> None:
                async with limit:
                    filled[room_id] = await self._backfill(room_id, start, since)

            await asyncio.gather(*(fill(r, s) for r, s in gaps.items()))
        for room_id, info in resp.rooms.join.items():
            for nio_event in [*filled.get(room_id, ()), *info.timeline.events]:
                event = self._take(nio_event, room_id)
                if event is not None:
                    out.append(event)
        return out

    def _joined_in(self, timeline: Sequence[NioEvent]) -> bool:
        """Whether the bot's own join is in this timeline: what came before it is history
        from before the bot was there, not a gap to fill."""
        for event in timeline:
            source = event.source if isinstance(event.source, dict) else {}
            if (source.get("type") == "m.room.member" and source.get("state_key") == self.user_id
                    and as_dict(source.get("content")).get("membership") == "join"):
                return True
        return False

    def _take(self, nio_event: NioEvent, room_id: str) -> Event | None:
        """One timeline event for the App, or None (own, too old, held for its key…)."""
        source = nio_event.source if isinstance(nio_event.source, dict) else {}
        if nio_event.sender == self.user_id and source.get("type") != "m.room.redaction":
            return None  # the bot's own redactions matter: a case root it deleted is gone
        if getattr(nio_event, "server_timestamp", 0) < self._oldest_ms:
            return None
        if nio_event.event_id in self.client.malformed:
            return None
        if isinstance(nio_event, MegolmEvent):
            self.held.hold(nio_event, room_id)
            return None
        return convert(source, room_id, decrypted=bool(getattr(nio_event, "decrypted", False)))

    @property
    def _oldest_ms(self) -> float:
        return (self.started_at - self.config.matrix.max_catch_up) * 1000

    async def _backfill(self, room_id: str, start: str, since: str) -> list[NioEvent]:
        """The events a `limited` timeline left out (more arrived while the bot was away than
        a sync returns), back to the previous sync or to `max_catch_up`, oldest first.

        Pages of 100 go backwards from the timeline's `prev_batch` to the previous sync's
        token, at most `BACKFILL_PAGES` of them; a failed page stops the back-fill (the
        events found so far are kept). Encrypted events come decrypted when their key is
        known (`GuardedClient`); the others are held like any undecryptable event.
        """
        client = self.client
        found: list[NioEvent] = []
        for _page in range(BACKFILL_PAGES):
            resp = await client.room_messages(room_id, start=start, end=since,
                                              direction=MessageDirection.back, limit=100)
            if not isinstance(resp, RoomMessagesResponse):
                log.warning("back-fill of %s stopped: %s", room_id,
                            getattr(resp, "status_code", "no answer"))
                break
            found.extend(resp.chunk)
            oldest = min((getattr(e, "server_timestamp", 0) for e in resp.chunk), default=0)
            if not resp.chunk or not resp.end or resp.end == start or oldest < self._oldest_ms:
                break
            start = resp.end
        else:
            log.warning("back-fill of %s stopped after %d pages", room_id, BACKFILL_PAGES)
        log.info("back-filled %d events in %s", len(found), room_id)
        return found[::-1]


def _retrieve(task: asyncio.Task[Any]) -> None:
    """A dropped request's outcome, read so that asyncio does not log it as never retrieved."""
    if not task.cancelled():
        task.exception()
