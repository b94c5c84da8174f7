"""The Matrix transport: nio behind the `bot.app.Transport` interface, in layers.

- `session`: the bot's one device (credentials, login, the guarded nio client, key upkeep,
  cross-signing);
- `rooms`: one `RoomInfo` per room, rebuilt only when a response touched its state;
- `sync`: the sync loop with the App's exactly-once contract, retries, back-fill; with
  `held` (events held for their keys, kept across restarts) and `invites` (the policy);
- `send`: send, redact, read and write state, download, upload, direct rooms, an
  event's sender, a message's latest text, aliases.

`MatrixTransport` composes them; it adds no behaviour of its own.
"""

from __future__ import annotations

from pathlib import Path

from bot.config import Config, Secrets
from bot.crosssign import CrossSignResult
from bot.events import RoomInfo
from bot.matrix.guarded import GuardedClient
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
        # The layers' own methods, under the names the App and the command line use: no
        # layer of the transport's own between them.
        session, sync, actions = self.session, self.sync, self.actions
        self.login = session.login
        """`login(password)`: create the bot's device and persist its credentials."""
        self.connect = session.connect
        """Restore the bot's device (logging in the first time if a password is given)."""
        self.cross_sign = session.cross_sign
        """`cross_sign(reset=False)`: sign the device with its own cross-signing keys."""
        self.prepare = sync.prepare
        """`prepare(token)`: send the first sync request now, for `run()` to take."""
        self.run = sync.run
        """`run(sink, held_store)`: sync until `stop()`, each batch handled, then its token
        saved (exactly-once)."""
        self.stop = sync.stop
        """Finish the batch in hand, then leave the sync loop."""
        self.send = actions.send
        self.redact = actions.redact
        self.invite = actions.invite
        self.get_state = actions.get_state
        self.put_state = actions.put_state
        self.download = actions.download
        self.upload = actions.upload
        self.direct_room = actions.direct_room
        self.event_sender = actions.event_sender
        self.message_text = actions.message_text
        self.resolve_alias = actions.resolve_alias

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

    # ---- Transport interface -----------------------------------------------------------------
    def room(self, room_id: str) -> RoomInfo | None:
        """The room as of the last sync, from the cache (no request, no rebuild unless its
        state changed)."""
        client = self.session.client
        if client is None:
            return None
        return self.rooms.room(client.rooms, room_id)

    def room_ids(self) -> tuple[str, ...]:
        """The rooms the bot is in, as of the last sync."""
        client = self.session.client
        return tuple(client.rooms) if client is not None else ()
