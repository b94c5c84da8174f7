"""Events held for their keys: an undecryptable event waits until its room key arrives, then
goes to the App with the batch in which it became readable; one still unreadable after
`matrix.undecryptable_grace` becomes an `Undecryptable` (the App tells its sender). Which
events wait is saved after each batch, so a restart does not lose them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from nio import Event as NioEvent
from nio import LocalProtocolError, MegolmEvent

from bot.config import Config
from bot.events import Event, Undecryptable
from bot.matrix.convert import as_dict, convert, thread_root
from bot.matrix.guarded import GuardedClient
from bot.matrix.session import Session
from bot.syncstore import Held

log = logging.getLogger(__name__)

Retry = Callable[..., Awaitable[Any]]
"""`SyncLoop._until_available`: a database call, retried while the database is unavailable."""


class HeldStore(Protocol):
    """Where the held events' ids are kept across restarts (`bot.syncstore.SyncStore`)."""

    async def held(self) -> list[Held]: ...
    async def save_held(self, held: Sequence[Held]) -> None: ...


@dataclass
class _Pending:
    event: MegolmEvent
    room_id: str
    since: float


class HeldEvents:
    """The undecryptable events of the session's client, until readable or past the grace."""

    def __init__(self, config: Config, session: Session) -> None:
        self.config = config
        self.session = session
        self._pending: dict[str, _Pending] = {}
        self._saved: list[Held] = []
        self._restored: list[tuple[NioEvent, str]] = []
        self._background: set[asyncio.Future[Any]] = set()
        self.undecryptable = 0
        """Events that arrived undecryptable since the start (held for their keys)."""

    @property
    def client(self) -> GuardedClient:
        client = self.session.client
        assert client is not None
        return client

    def __len__(self) -> int:
        """How many events wait for their keys."""
        return len(self._pending)

    def hold(self, event: MegolmEvent, room_id: str, since: float | None = None) -> None:
        """Keep an undecryptable event and ask the sender's devices for its key."""
        if since is None:
            self.undecryptable += 1
        self._pending[event.event_id] = _Pending(event, room_id, since or time.time())
        task = asyncio.ensure_future(self._request_key(event))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        log.info("undecryptable event in %s; key requested", room_id)

    async def _request_key(self, event: MegolmEvent) -> None:
        """Ask for the event's key; nio raises, from the coroutine, when a request for its
        session is already out (another event of the same session, or a restored one)."""
        with contextlib.suppress(LocalProtocolError):
            await self.client.request_room_key(event)

    def _ids(self) -> list[Held]:
        """What is kept of the held events, in a fixed order."""
        return sorted(Held(p.room_id, e, p.since) for e, p in self._pending.items())

    async def save(self, store: HeldStore, until: Retry) -> None:
        """Remember which events wait for their keys (written only when that changed)."""
        ids = self._ids()
        if ids != self._saved:
            await until(store.save_held, ids)
            self._saved = ids

    async def restore(self, store: HeldStore, until: Retry) -> None:
        """Fetch again the events a previous run was still waiting keys for."""
        client = self.client
        for room_id, event_id, since in await until(store.held):
            resp = await client.room_get_event(room_id, event_id)
            event = getattr(resp, "event", None)
            if isinstance(event, MegolmEvent):
                self.hold(event, room_id, since)
            elif isinstance(event, NioEvent):  # its key arrived while the bot was away
                self._restored.append((event, room_id))
        self._saved = self._ids()

    def ready(self, take: Callable[[NioEvent, str], Event | None]) -> list[Event]:
        """Events whose keys arrived since, and notices for those past the grace period.

        Those fetched again at the start go through `take` (the sync loop's filter). nio
        never retries a decryption: each batch, every held event whose session is now in the
        store is decrypted again; one still unreadable after `undecryptable_grace` becomes an
        `Undecryptable` (the App tells its sender, in a thread on it).
        """
        client = self.client
        out: list[Event] = []
        for nio_event, room_id in self._restored:
            if (event := take(nio_event, room_id)) is not None:
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

