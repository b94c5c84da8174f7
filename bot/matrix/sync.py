"""The sync loop: the App's exactly-once contract, retries, back-fill, held events, invites.

Each sync response is a batch: its events (and those back-filled into a `limited` timeline,
and those whose keys arrived since) go to the App in one `handle_batch`, and only once the
whole batch was handled is its token saved. A crash in between replays the batch; the App
skips the ids it already handled and replies reuse transaction ids derived from the event
they answer, so nothing is answered twice and nothing is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from nio import Event as NioEvent
from nio import (
    InviteMemberEvent,
    JoinError,
    LocalProtocolError,
    MegolmEvent,
    MessageDirection,
    RoomMessagesResponse,
    SyncError,
    SyncResponse,
)

from bot.config import Config
from bot.events import Event, Unavailable, Undecryptable
from bot.matrix.convert import as_dict, convert, thread_root
from bot.matrix.guarded import GuardedClient
from bot.matrix.session import Session, TransportError

log = logging.getLogger(__name__)

SYNC_FILTER = {
    "presence": {"not_types": ["*"]},
    "account_data": {"not_types": ["*"]},
    "room": {
        "timeline": {"limit": 100},
        "ephemeral": {"not_types": ["*"]},
        "account_data": {"not_types": ["*"]},
    },
}
BACKFILL_PAGES = 20
"""At most this many pages of 100 events are fetched to fill a gap in a room's timeline."""
BACKFILL_CONCURRENCY = 8
"""Rooms back-filled at once (a restart after a long downtime may find many gaps)."""
PENDING_KEY = "undecryptable_pending"


class Sink(Protocol):
    async def load_sync_token(self) -> str | None: ...
    async def save_sync_token(self, token: str) -> None: ...
    async def handle_batch(self, events: Sequence[Event]) -> None: ...
    async def load_value(self, key: str) -> str | None: ...
    async def save_value(self, key: str, value: str) -> None: ...


class _Stopping(Exception):
    """Asked to stop while waiting for the database: leave the batch for the next run."""


@dataclass
class _Pending:
    event: MegolmEvent
    room_id: str
    since: float


class SyncLoop:
    """Syncs the session's client until `stop()`, handing each batch to a `Sink`."""

    def __init__(self, config: Config, session: Session) -> None:
        self.config = config
        self.session = session
        self.user_id = session.user_id
        self.started_at = time.time()
        self._stopping = False
        self._sync_task: asyncio.Task[Any] | None = None
        self._pending: dict[str, _Pending] = {}
        self._saved_pending: list[tuple[str, str, float]] = []
        self._restored: list[tuple[NioEvent, str]] = []
        self._background: set[asyncio.Future[Any]] = set()
        self._state = "starting"
        self.last_sync_at: float | None = None
        """When a sync last completed (its batch handled, its token saved): for /healthz."""
        self.undecryptable = 0
        """Events that arrived undecryptable since the start (held for their keys)."""

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

    async def run(self, sink: Sink) -> None:
        """Sync until `stop()`: handle each batch, then save its token (exactly-once).

        The first sync (`full_state`, no wait) only learns the rooms: its events are not
        handed over, so the bot never answers history. A failed sync is retried with
        back-off (0.5 s doubling, at most 60 s); a refused access token ends the loop. While
        the database or the homeserver is unavailable the batch stays in hand and is retried
        (`_until_available`); the token is saved only after the whole batch went through.
        """
        client = self.client
        try:
            token = await self._until_available(sink.load_sync_token)
            await self._restore_pending(sink)
        except _Stopping:
            return
        first = True
        failures = 0
        timeout_ms = int(self.config.matrix.sync_timeout * 1000)
        while not self._stopping:
            self._sync_task = asyncio.ensure_future(client.sync(
                timeout=0 if first else timeout_ms, since=token, full_state=first or None,
                sync_filter=SYNC_FILTER))
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
            await self._handle_invites(resp)
            await self.session.keys_upkeep()
            events = await self._collect(resp, since=token)
            events.extend(self._retry_pending())
            try:
                if events:
                    await self._until_available(sink.handle_batch, events)
                await self._until_available(sink.save_sync_token, resp.next_batch)
                await self._save_pending(sink)
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
            self._hold(nio_event, room_id)
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

    # ---- events waiting for their keys ---------------------------------------------------------
    def _hold(self, event: MegolmEvent, room_id: str, since: float | None = None) -> None:
        """Keep an undecryptable event and ask the sender's devices for its key."""
        if since is None:
            self.undecryptable += 1
        self._pending[event.event_id] = _Pending(event, room_id, since or time.time())
        with contextlib.suppress(LocalProtocolError):
            task = asyncio.ensure_future(self.client.request_room_key(event))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        log.info("undecryptable event in %s; key requested", room_id)

    @property
    def pending(self) -> int:
        """How many events wait for their keys."""
        return len(self._pending)

    def _pending_ids(self) -> list[tuple[str, str, float]]:
        """What is kept of the held events: (room, event id, held since), in a fixed order."""
        return sorted((p.room_id, e, p.since) for e, p in self._pending.items())

    async def _save_pending(self, sink: Sink) -> None:
        """Remember which events wait for their keys, so a restart does not lose them."""
        ids = self._pending_ids()
        if ids != self._saved_pending:
            await self._until_available(sink.save_value, PENDING_KEY, json.dumps(ids))
            self._saved_pending = ids

    async def _restore_pending(self, sink: Sink) -> None:
        """Fetch again the events a previous run was still waiting keys for."""
        client = self.client
        raw = await self._until_available(sink.load_value, PENDING_KEY)
        try:
            saved = json.loads(raw) if isinstance(raw, str) else []
        except ValueError:
            saved = []
        for item in saved if isinstance(saved, list) else []:
            if not (isinstance(item, list) and len(item) == 3):
                continue
            room_id, event_id, since = item
            resp = await client.room_get_event(str(room_id), str(event_id))
            event = getattr(resp, "event", None)
            if isinstance(event, MegolmEvent):
                self._hold(event, str(room_id), float(since))
            elif isinstance(event, NioEvent):  # its key arrived while the bot was away
                self._restored.append((event, str(room_id)))
        self._saved_pending = self._pending_ids()

    def _retry_pending(self) -> list[Event]:
        """Events whose keys arrived since, and notices for those past the grace period.

        nio never retries a decryption: each batch, every held event whose session is now in
        the store is decrypted again; one still unreadable after `undecryptable_grace` becomes
        an `Undecryptable` (the App tells its sender, in a thread on it).
        """
        client = self.client
        out: list[Event] = []
        for nio_event, room_id in self._restored:
            if (event := self._take(nio_event, room_id)) is not None:
                out.append(event)
        self._restored.clear()
        grace = self.config.matrix.undecryptable_grace
        for event_id, pending in list(self._pending.items()):
            ev = pending.event
            decrypted: NioEvent | None = None
            if client.olm and client.olm.inbound_group_store.get(
                    pending.room_id, ev.sender_key, ev.session_id):
                decrypted = client.safe_decrypt(ev, pending.room_id)
            if decrypted is not None or event_id in client.malformed:
                del self._pending[event_id]
                if decrypted is not None:
                    converted = convert(decrypted.source or {}, pending.room_id,
                                        decrypted=True)
                    if converted is not None:
                        out.append(converted)
            elif time.time() - pending.since >= grace:
                del self._pending[event_id]
                out.append(Undecryptable(pending.room_id, ev.event_id, ev.sender,
                                         int(ev.server_timestamp),
                                         thread_root=thread_root(as_dict(
                                             (ev.source or {}).get("content")))))
        return out

    # ---- invites -----------------------------------------------------------------------------
    async def _handle_invites(self, resp: SyncResponse) -> None:
        client = self.client
        for room_id, info in resp.rooms.invite.items():
            inviter = next((e.sender for e in info.invite_state
                            if isinstance(e, InviteMemberEvent)
                            and e.state_key == self.user_id and e.membership == "invite"), None)
            if inviter is None:
                continue
            if self.invite_allowed(inviter):
                resp_join = await client.join(room_id)
                if isinstance(resp_join, JoinError):
                    log.warning("could not join %s: %s", room_id, resp_join.message)
                else:
                    log.info("joined %s on invite", room_id)
            else:
                await client.room_leave(room_id)
                log.info("declined an invite to %s from a user not in allowed_inviters", room_id)

    def invite_allowed(self, inviter: str) -> bool:
        patterns = self.config.matrix.allowed_inviters or (
            f"@*:{self.user_id.split(':', 1)[1]}",)
        return any(fnmatch.fnmatchcase(inviter, p) for p in patterns)
