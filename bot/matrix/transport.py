"""The Matrix transport: nio behind the `bot.app.Transport` interface, in layers.

- `session`: the bot's one device (credentials, login, the guarded nio client, key upkeep,
  cross-signing);
- `rooms`: one `RoomInfo` per room, rebuilt only when a response touched its state;
- `sync`: the sync loop with the App's exactly-once contract, retries, back-fill; with
  `held` (events held for their keys, kept across restarts) and `invites` (the policy);
- `send`: send, redact, read and write state, download, upload, direct rooms, an
  event's sender, aliases.

`MatrixTransport` composes them; it adds no behaviour of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.config import Config, Secrets
from bot.crosssign import CrossSignResult
from bot.events import Attachment, RoomInfo
from bot.matrix.guarded import GuardedClient
from bot.matrix.held import HeldStore
from bot.matrix.rooms import RoomStates
from bot.matrix.send import MAX_DOWNLOAD, Actions
from bot.matrix.session import (
    INSECURE_DEV_PICKLE_KEY,
    Credentials,
    HomeserverUnavailable,
    Session,
    TransportError,
    secure_tree,
    write_private,
)
from bot.matrix.sync import SYNC_FILTER, Sink, SyncLoop

__all__ = [
    "INSECURE_DEV_PICKLE_KEY",
    "MAX_DOWNLOAD",
    "SYNC_FILTER",
    "Credentials",
    "HomeserverUnavailable",
    "MatrixTransport",
    "Sink",
    "TransportError",
    "secure_tree",
    "write_private",
]


class MatrixTransport:
    """nio behind the `bot.app.Transport` interface, plus login and the sync loop."""

    def __init__(self, config: Config, secrets: Secrets, insecure_dev: bool = False) -> None:
        self.config = config
        self.rooms = RoomStates()
        self.session = Session(config, secrets, insecure_dev, observer=self.rooms.observe)
        self.sync = SyncLoop(config, self.session)
        self.actions = Actions(self.session, self.rooms)
        self.user_id = self.session.user_id
        self.data_dir = config.data_dir

    # ---- the device --------------------------------------------------------------------------
    @property
    def client(self) -> GuardedClient | None:
        return self.session.client

    @property
    def credentials_path(self) -> Path:
        return self.session.credentials_path

    @property
    def store_path(self) -> Path:
        return self.session.store_path

    @property
    def device_id(self) -> str:
        return self.session.device_id

    @property
    def access_token(self) -> str:
        return self.session.access_token

    @property
    def cross_signing(self) -> CrossSignResult | None:
        return self.session.cross_signing

    async def login(self, password: str) -> Credentials:
        """Create the bot's device with a password login and persist its credentials."""
        return await self.session.login(password)

    async def connect(self) -> None:
        """Restore the bot's device (logging in the first time if a password is given)."""
        await self.session.connect()

    async def cross_sign(self, reset: bool = False) -> CrossSignResult:
        """Sign the bot's device with its own cross-signing keys (Element's strict mode)."""
        return await self.session.cross_sign(reset=reset)

    async def close(self) -> None:
        self.sync.stop()  # a first request `prepare` sent and no `run` took is dropped
        await self.session.close()

    # ---- the sync loop -----------------------------------------------------------------------
    @property
    def started_at(self) -> float:
        return self.sync.started_at

    @started_at.setter
    def started_at(self, value: float) -> None:
        self.sync.started_at = value

    def prepare(self, token: str | None) -> None:
        """Send the first sync request now, with the stored `token`, for `run()` to take as
        its first batch (the homeserver answers it while the App starts)."""
        self.sync.prepare(token)

    async def run(self, sink: Sink, store: HeldStore) -> None:
        """Sync until `stop()`: handle each batch, then save its token (exactly-once); the
        events held for their keys are kept in `store` (`bot.syncstore.SyncStore`)."""
        await self.sync.run(sink, store)

    def stop(self) -> None:
        """Finish the batch in hand, then leave the sync loop."""
        self.sync.stop()

    # ---- Transport interface -----------------------------------------------------------------
    def room(self, room_id: str) -> RoomInfo | None:
        """The room as of the last sync, from the cache (no request, no rebuild unless its
        state changed)."""
        client = self.session.client
        if client is None:
            return None
        return self.rooms.room(client.rooms, room_id)

    async def send(self, room_id: str, event_type: str, body: dict[str, Any],
                   txn_id: str) -> str:
        return await self.actions.send(room_id, event_type, body, txn_id)

    async def redact(self, room_id: str, event_id: str, reason: str, txn_id: str) -> bool:
        return await self.actions.redact(room_id, event_id, reason, txn_id)

    def room_ids(self) -> tuple[str, ...]:
        """The rooms the bot is in, as of the last sync."""
        client = self.session.client
        return tuple(client.rooms) if client is not None else ()

    async def invite(self, room_id: str, user_id: str) -> bool:
        return await self.actions.invite(room_id, user_id)

    async def get_state(self, room_id: str, event_type: str,
                        state_key: str = "") -> dict[str, Any] | None:
        return await self.actions.get_state(room_id, event_type, state_key)

    async def put_state(self, room_id: str, event_type: str, body: dict[str, Any],
                        state_key: str = "") -> bool:
        return await self.actions.put_state(room_id, event_type, body, state_key)

    async def download(self, attachment: Attachment, limit: int = MAX_DOWNLOAD) -> bytes:
        return await self.actions.download(attachment, limit)

    async def upload(self, data: bytes, mimetype: str, filename: str) -> dict[str, Any]:
        return await self.actions.upload(data, mimetype, filename)

    async def direct_room(self, user_id: str) -> str:
        return await self.actions.direct_room(user_id)

    async def event_sender(self, room_id: str, event_id: str) -> str | None:
        return await self.actions.event_sender(room_id, event_id)

    async def resolve_alias(self, alias: str) -> str | None:
        return await self.actions.resolve_alias(alias)
