"""The Matrix transport: one device for the bot's whole life, the sync loop, sending.

It keeps one device (credentials and crypto store in the data directory, owner-only), runs
the sync loop with the App's exactly-once contract, keeps end-to-end encryption healthy (key
upload/query/claim, room key requests for undecryptable messages) and sends what the App
asks for.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiohttp
from nio import (
    AsyncClientConfig,
    InviteMemberEvent,
    JoinError,
    LocalProtocolError,
    LoginResponse,
    MegolmEvent,
    MessageDirection,
    RoomGetStateEventResponse,
    RoomMessagesResponse,
    RoomSendError,
    SyncError,
    SyncResponse,
    WhoamiResponse,
)
from nio import (
    Event as NioEvent,
)
from nio.api import Api
from nio.crypto.attachments import decrypt_attachment

from bot.config import Config, Secrets
from bot.crosssign import CrossSignError, CrossSignResult, ensure_cross_signed
from bot.events import (
    Attachment,
    DownloadFailed,
    Event,
    RoomInfo,
    Unavailable,
    Undecryptable,
)
from bot.matrix.convert import (
    as_dict,
    convert,
    is_real_state,
    pinned_events,
    room_creators,
    room_info,
    thread_root,
)
from bot.matrix.guarded import GuardedClient

log = logging.getLogger(__name__)

INSECURE_DEV_PICKLE_KEY = "casebot-insecure-dev-key"
SYNC_FILTER = {
    "presence": {"not_types": ["*"]},
    "account_data": {"not_types": ["*"]},
    "room": {
        "timeline": {"limit": 100},
        "ephemeral": {"not_types": ["*"]},
        "account_data": {"not_types": ["*"]},
    },
}


class TransportError(RuntimeError):
    """A request the homeserver refused or that could not be made."""


class HomeserverUnavailable(Unavailable):
    """The homeserver did not answer, or asked to slow down: try the same request later."""


class Sink(Protocol):
    async def load_sync_token(self) -> str | None: ...
    async def save_sync_token(self, token: str) -> None: ...
    async def handle_batch(self, events: Sequence[Event]) -> None: ...
    async def load_value(self, key: str) -> str | None: ...
    async def save_value(self, key: str, value: str) -> None: ...


@dataclass
class Credentials:
    homeserver: str
    user_id: str
    device_id: str
    access_token: str

    @classmethod
    def load(cls, path: Path) -> Credentials | None:
        if not path.exists():
            return None
        return cls(**json.loads(path.read_text()))

    def save(self, path: Path) -> None:
        write_private(path, json.dumps(self.__dict__, indent=2))


def write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def secure_tree(root: Path) -> None:
    """Owner-only permissions on the data directory and everything in it."""
    if not root.exists():
        return
    os.chmod(root, 0o700)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            os.chmod(os.path.join(dirpath, name), 0o700)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o600)


def _client_config(pickle_key: str) -> AsyncClientConfig:
    return AsyncClientConfig(
        encryption_enabled=True,
        store_sync_tokens=False,
        pickle_key=pickle_key,
        max_limit_exceeded=6,
        max_timeouts=4,
        request_timeout=60,
    )



MAX_DOWNLOAD = 20 * 1024 * 1024
"""Largest attachment read into memory unless the caller asks for less."""
BACKFILL_PAGES = 20
"""At most this many pages of 100 events are fetched to fill a gap in a room's timeline."""
PENDING_KEY = "undecryptable_pending"


class _Stopping(Exception):
    """Asked to stop while waiting for the database: leave the batch for the next run."""


@dataclass
class _Pending:
    event: MegolmEvent
    room_id: str
    since: float


class MatrixTransport:
    """nio behind the `bot.app.Transport` interface, plus login and the sync loop."""

    def __init__(self, config: Config, secrets: Secrets, insecure_dev: bool = False) -> None:
        if not secrets.pickle_key and not insecure_dev:
            raise TransportError(
                "CASEBOT_PICKLE_KEY is not set: it encrypts the crypto store. Set it in the "
                "environment or .env (or pass --insecure-dev for a throwaway test bot)")
        self.config = config
        self.secrets = secrets
        self.data_dir = config.data_dir
        self.user_id = config.matrix.user_id
        self._pickle_key = secrets.pickle_key or INSECURE_DEV_PICKLE_KEY
        self.client: GuardedClient | None = None
        self._stopping = False
        self._sync_task: asyncio.Task[Any] | None = None
        self._keys_lock = asyncio.Lock()
        self._pending: dict[str, _Pending] = {}
        self._saved_pending: list[tuple[str, str, float]] = []
        self._restored: list[tuple[NioEvent, str]] = []
        self._background: set[asyncio.Future[Any]] = set()
        self._pinned: dict[str, tuple[str, ...]] = {}
        self._creators: dict[str, tuple[str, ...]] = {}
        self._state = "starting"
        self.started_at = time.time()
        self.cross_signing: CrossSignResult | None = None

    # ---- paths -----------------------------------------------------------------------------
    @property
    def credentials_path(self) -> Path:
        return self.data_dir / "credentials.json"

    @property
    def store_path(self) -> Path:
        return self.data_dir / "store"

    def _new_client(self, device_id: str | None = None) -> GuardedClient:
        self.store_path.mkdir(parents=True, exist_ok=True, mode=0o700)
        secure_tree(self.data_dir)
        return GuardedClient(self.config.matrix.homeserver, self.user_id, device_id=device_id,
                           store_path=str(self.store_path),
                           config=_client_config(self._pickle_key))

    # ---- login -----------------------------------------------------------------------------
    async def login(self, password: str) -> Credentials:
        """Create the bot's device with a password login and persist its credentials."""
        client = self._new_client()
        try:
            resp = await client.login(password, device_name=self.config.matrix.device_name)
            if not isinstance(resp, LoginResponse):
                raise TransportError(f"login refused: {getattr(resp, 'message', resp)}")
            creds = Credentials(self.config.matrix.homeserver, resp.user_id, resp.device_id,
                                resp.access_token)
            creds.save(self.credentials_path)
            if client.should_upload_keys:
                await client.keys_upload()
        finally:
            await client.close()
        secure_tree(self.data_dir)
        log.info("logged in as %s, device %s", creds.user_id, creds.device_id)
        return creds

    async def connect(self) -> None:
        """Restore the bot's device (logging in the first time if a password is given)."""
        creds = Credentials.load(self.credentials_path)
        if creds and creds.user_id != self.user_id:
            raise TransportError(
                f"{self.credentials_path} belongs to {creds.user_id}, not {self.user_id}")
        if creds is None and self.secrets.access_token:
            creds = await self._adopt_token(self.secrets.access_token)
        if creds is None and self.secrets.password:
            creds = await self.login(self.secrets.password)
        if creds is None:
            raise TransportError(
                "no credentials yet: run `casebot login` once, or set CASEBOT_PASSWORD "
                "(or CASEBOT_ACCESS_TOKEN)")
        self.client = self._new_client(creds.device_id)
        self.client.restore_login(creds.user_id, creds.device_id, creds.access_token)
        secure_tree(self.data_dir)
        await self._keys_upkeep()
        log.info("device %s restored for %s", creds.device_id, creds.user_id)
        try:
            await self.cross_sign()
        except (CrossSignError, aiohttp.ClientError, OSError) as exc:
            log.warning("cross-signing skipped (%s): Element's strict mode will not trust "
                        "the bot until `casebot cross-sign` succeeds", type(exc).__name__)

    async def cross_sign(self, reset: bool = False) -> CrossSignResult:
        """Sign the bot's device with its own cross-signing keys (Element's strict mode).

        Without it, clients that exclude insecure devices (MSC4153) share no room keys with
        the bot and flag its messages. Logs the master key fingerprint for admins to check.
        """
        client = self.client
        assert client is not None
        result = await ensure_cross_signed(
            self.config.matrix.homeserver, str(client.access_token), self.user_id,
            str(client.device_id), self.data_dir / "cross_signing.keys", self._pickle_key,
            self.secrets.password, reset=reset)
        level = logging.INFO if result.status in ("created", "signed", "already") \
            else logging.WARNING
        log.log(level, "%s", result.message)
        secure_tree(self.data_dir)
        self.cross_signing = result
        return result

    async def _adopt_token(self, token: str) -> Credentials:
        client = self._new_client()
        client.access_token = token
        try:
            resp = await client.whoami()
        finally:
            await client.close()
        if not isinstance(resp, WhoamiResponse) or not resp.device_id:
            raise TransportError("CASEBOT_ACCESS_TOKEN was refused by the homeserver")
        creds = Credentials(self.config.matrix.homeserver, resp.user_id, resp.device_id, token)
        creds.save(self.credentials_path)
        return creds

    @property
    def device_id(self) -> str:
        assert self.client is not None
        return str(self.client.device_id)

    @property
    def access_token(self) -> str:
        assert self.client is not None
        return str(self.client.access_token)

    # ---- encryption upkeep -------------------------------------------------------------------
    async def _keys_upkeep(self) -> None:
        client = self.client
        assert client is not None
        async with self._keys_lock:
            if client.should_upload_keys:
                await client.keys_upload()
            if client.should_query_keys:
                await client.keys_query()
            if client.should_claim_keys:
                await client.keys_claim(client.get_users_for_key_claiming())
            await client.send_to_device_messages()

    # ---- the sync loop -----------------------------------------------------------------------
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
        """Sync until `stop()`: handle each batch, then save its token (exactly-once)."""
        client = self.client
        assert client is not None
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
            await self._keys_upkeep()
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
        answer history), after noting the real state each room's section and timeline carry."""
        out: list[Event] = []
        for room_id, info in resp.rooms.join.items():
            for state_event in info.state:  # the state before the timeline comes first
                self._note_state(room_id, state_event.source or {}, decrypted=False)
            timeline = list(info.timeline.events)
            for nio_event in timeline:
                self._note_state(room_id, nio_event.source or {},
                                 decrypted=bool(getattr(nio_event, "decrypted", False)))
            if since is None:
                continue
            if info.timeline.limited and info.timeline.prev_batch:
                timeline = await self._backfill(room_id, info.timeline.prev_batch,
                                                since) + timeline
            for nio_event in timeline:
                event = self._take(nio_event, room_id)
                if event is not None:
                    out.append(event)
        return out

    def _take(self, nio_event: NioEvent, room_id: str) -> Event | None:
        """One timeline event for the App, or None (own, too old, held for its key…)."""
        client = self.client
        assert client is not None
        source = nio_event.source if isinstance(nio_event.source, dict) else {}
        if nio_event.sender == self.user_id and source.get("type") != "m.room.redaction":
            return None  # the bot's own redactions matter: a case root it deleted is gone
        if getattr(nio_event, "server_timestamp", 0) < self._oldest_ms:
            return None
        if nio_event.event_id in client.malformed:
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
        a sync returns), back to the previous sync or to `max_catch_up`, oldest first."""
        client = self.client
        assert client is not None
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

    def _note_state(self, room_id: str, source: dict[str, Any], decrypted: bool) -> None:
        """Keep the state nio does not: pinned events and room creators (v12 power), from
        real state events only."""
        if not is_real_state(source, decrypted):
            return
        kind = source.get("type")
        if kind == "m.room.pinned_events":
            self._pinned[room_id] = pinned_events(source)
        elif kind == "m.room.create":
            self._creators[room_id] = room_creators(source)

    def _hold(self, event: MegolmEvent, room_id: str, since: float | None = None) -> None:
        """Keep an undecryptable event and ask the sender's devices for its key."""
        client = self.client
        assert client is not None
        self._pending[event.event_id] = _Pending(event, room_id, since or time.time())
        with contextlib.suppress(LocalProtocolError):
            task = asyncio.ensure_future(client.request_room_key(event))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        log.info("undecryptable event in %s; key requested", room_id)

    async def _save_pending(self, sink: Sink) -> None:
        """Remember which events wait for their keys, so a restart does not lose them."""
        ids = sorted((p.room_id, e, p.since) for e, p in self._pending.items())
        if ids != self._saved_pending:
            await self._until_available(sink.save_value, PENDING_KEY, json.dumps(ids))
            self._saved_pending = ids

    async def _restore_pending(self, sink: Sink) -> None:
        """Fetch again the events a previous run was still waiting keys for."""
        client = self.client
        assert client is not None
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
        self._saved_pending = sorted(
            (p.room_id, e, p.since) for e, p in self._pending.items())

    def _retry_pending(self) -> list[Event]:
        """Events whose keys arrived since, and notices for those past the grace period."""
        client = self.client
        assert client is not None
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

    async def _handle_invites(self, resp: SyncResponse) -> None:
        client = self.client
        assert client is not None
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

    # ---- Transport interface -----------------------------------------------------------------
    def room(self, room_id: str) -> RoomInfo | None:
        if self.client is None or room_id not in self.client.rooms:
            return None
        return room_info(self.client.rooms[room_id], self._pinned.get(room_id, ()),
                         self._creators.get(room_id, ()))

    async def send(self, room_id: str, event_type: str, body: dict[str, Any],
                   txn_id: str) -> str:
        client = self.client
        assert client is not None
        if client.should_query_keys:
            async with self._keys_lock:
                if client.should_query_keys:
                    await client.keys_query()
        try:
            resp = await client.room_send(room_id, event_type, body, tx_id=txn_id,
                                          ignore_unverified_devices=True)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise HomeserverUnavailable(
                f"the homeserver did not answer ({type(exc).__name__})") from None
        if isinstance(resp, RoomSendError):
            status = getattr(resp.transport_response, "status", 0) or 0
            if resp.status_code == "M_LIMIT_EXCEEDED" or status >= 500 or status == 429:
                raise HomeserverUnavailable(
                    f"the homeserver refused a send for now ({resp.status_code or status})")
            raise TransportError(f"send refused: {resp.status_code}")
        return str(resp.event_id)

    async def redact(self, room_id: str, event_id: str, reason: str, txn_id: str) -> bool:
        client = self.client
        assert client is not None
        try:
            resp = await client.room_redact(room_id, event_id, reason, tx_id=txn_id)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise HomeserverUnavailable(
                f"the homeserver did not answer ({type(exc).__name__})") from None
        return hasattr(resp, "event_id")

    async def get_state(self, room_id: str, event_type: str,
                        state_key: str = "") -> dict[str, Any] | None:
        """The room's current state event content, asked of the homeserver (not our copy,
        which may be a sync behind); None when there is none."""
        client = self.client
        assert client is not None
        try:
            resp = await client.room_get_state_event(room_id, event_type, state_key)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise HomeserverUnavailable(
                f"the homeserver did not answer ({type(exc).__name__})") from None
        if isinstance(resp, RoomGetStateEventResponse):
            return dict(as_dict(resp.content))
        if getattr(resp, "status_code", "") == "M_NOT_FOUND":
            return None
        raise TransportError(f"state read refused: {getattr(resp, 'status_code', '')}")

    async def put_state(self, room_id: str, event_type: str, body: dict[str, Any],
                        state_key: str) -> bool:
        client = self.client
        assert client is not None
        resp = await client.room_put_state(room_id, event_type, body, state_key)
        ok = hasattr(resp, "event_id")
        if ok and event_type == "m.room.pinned_events":
            self._pinned[room_id] = tuple(body.get("pinned", ()))
        return ok

    async def download(self, attachment: Attachment, limit: int = MAX_DOWNLOAD) -> bytes:
        """Fetch an attachment into memory (at most `limit` bytes, read as it streams in,
        whatever size the event claims), decrypting it when it is encrypted."""
        client = self.client
        assert client is not None
        server, _, media_id = attachment.url.removeprefix("mxc://").partition("/")
        if not server or not media_id:
            raise DownloadFailed("download refused: not an mxc:// address")
        method, path = Api.download(server, media_id, access_token=client.access_token)
        data = bytearray()
        try:
            resp = await client.send(method, path)
            try:
                if resp.status != 200:
                    raise DownloadFailed(f"download failed: HTTP {resp.status}")
                if (resp.content_length or 0) > limit:
                    raise DownloadFailed("download refused: larger than allowed")
                async for chunk in resp.content.iter_chunked(64 * 1024):
                    data += chunk
                    if len(data) > limit:
                        raise DownloadFailed("download stopped: larger than allowed")
            finally:
                resp.release()
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise HomeserverUnavailable(
                f"the homeserver did not answer ({type(exc).__name__})") from None
        enc = attachment.encryption
        if enc:
            key, hashes = as_dict(enc.get("key")), as_dict(enc.get("hashes"))
            return decrypt_attachment(bytes(data), str(key.get("k")), str(hashes.get("sha256")),
                                      str(enc.get("iv")))
        return bytes(data)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()


