"""The Matrix transport: the only module of casebot that imports nio.

It keeps one device for the bot's whole life (credentials and crypto store in the data
directory, owner-only), runs the sync loop with the App's exactly-once contract, turns nio's
events into `bot.events`, keeps end-to-end encryption healthy (key upload/query/claim, room
key requests for undecryptable messages) and sends what the App asks for.

`UserClient` is a small nio client playing a physician, used by the demo and the live tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    DownloadError,
    InviteMemberEvent,
    JoinError,
    KeysQueryResponse,
    LocalProtocolError,
    LoginResponse,
    MatrixRoom,
    MegolmEvent,
    PowerLevelsEvent,
    ReactionEvent,
    RedactionEvent,
    RoomCreateError,
    RoomEncryptedMedia,
    RoomEncryptionEvent,
    RoomHistoryVisibilityEvent,
    RoomJoinRulesEvent,
    RoomMemberEvent,
    RoomMessageFormatted,
    RoomMessageMedia,
    RoomPreset,
    RoomSendError,
    RoomSendResponse,
    SyncError,
    SyncResponse,
    UnknownEvent,
    WhoamiResponse,
)
from nio import (
    Event as NioEvent,
)
from nio.api import Api
from nio.crypto.attachments import decrypt_attachment, encrypt_attachment

from bot.config import Config, Secrets
from bot.crosssign import CrossSignError, CrossSignResult, ensure_cross_signed
from bot.events import (
    Attachment,
    Edit,
    Event,
    MemberChange,
    Message,
    Reaction,
    Redaction,
    RoomInfo,
    StateChange,
    Undecryptable,
)

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
WATCHED_STATE = {
    "m.room.encryption", "m.room.join_rules", "m.room.history_visibility",
    "m.room.power_levels", "m.room.pinned_events", "m.room.name",
}


class TransportError(RuntimeError):
    """A request the homeserver refused or that could not be made."""


class Sink(Protocol):
    async def load_sync_token(self) -> str | None: ...
    async def save_sync_token(self, token: str) -> None: ...
    async def handle_batch(self, events: Sequence[Event]) -> None: ...


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


def _relation(source: dict[str, Any]) -> dict[str, Any]:
    rel = (source.get("content") or {}).get("m.relates_to")
    return rel if isinstance(rel, dict) else {}


def _thread_root(source: dict[str, Any]) -> str | None:
    rel = _relation(source)
    return rel.get("event_id") if rel.get("rel_type") == "m.thread" else None


CREATOR_POWER = 2**53 - 1
"""Room version 12 gives creators unlimited power; they are absent from the users map."""


def _privileged_creators(room: MatrixRoom, creators: Sequence[str]) -> bool:
    return room.room_version.isdigit() and int(room.room_version) >= 12 and bool(creators)


def room_info(room: MatrixRoom, pinned: Sequence[str] = (),
              creators: Sequence[str] = ()) -> RoomInfo:
    """Our snapshot of a nio room (no request: all from the synced state)."""
    joined = frozenset(u for u in room.users if u not in room.invited_users)
    levels = room.power_levels
    users = dict(levels.users)
    if _privileged_creators(room, creators):
        users.update(dict.fromkeys(creators, CREATOR_POWER))
    return RoomInfo(
        room_id=room.room_id,
        name=room.display_name,
        encrypted=room.encrypted,
        join_rule=room.join_rule,
        history_visibility=room.history_visibility,
        members=joined,
        display_names={u: (room.user_name(u) or u) for u in joined},
        power_users=users,
        power_users_default=levels.defaults.users_default,
        power_events=dict(levels.events),
        power_events_default=levels.defaults.events_default,
        power_redact=levels.defaults.redact,
        pinned_events=tuple(pinned),
        canonical_alias=room.canonical_alias,
    )


def convert(event: NioEvent, room_id: str) -> Event | None:
    """A nio timeline event as one of ours, or None for what plugins do not need."""
    source = event.source or {}
    ts = int(getattr(event, "server_timestamp", 0) or source.get("origin_server_ts", 0))
    base = (room_id, event.event_id, event.sender, ts)
    rel = _relation(source)
    if isinstance(event, RoomMessageFormatted):
        msg_content = source.get("content", {})
        if rel.get("rel_type") == "m.replace":
            new = msg_content.get("m.new_content") or {}
            return Edit(*base, original=rel.get("event_id", ""),
                        body=str(new.get("body", event.body.removeprefix("* "))),
                        msgtype=str(new.get("msgtype", "m.text")))
        mentions = (msg_content.get("m.mentions") or {}).get("user_ids") or []
        return Message(*base, body=event.body, msgtype=str(msg_content.get("msgtype", "m.text")),
                       formatted_body=getattr(event, "formatted_body", None),
                       thread_root=_thread_root(source),
                       in_reply_to=(rel.get("m.in_reply_to") or {}).get("event_id"),
                       mentions=tuple(m for m in mentions if isinstance(m, str)))
    if isinstance(event, RoomMessageMedia | RoomEncryptedMedia):
        media = source.get("content", {})
        info = media.get("info") or {}
        file_info = media.get("file") if isinstance(event, RoomEncryptedMedia) else None
        url = file_info.get("url", "") if file_info else media.get("url", "")
        return Attachment(*base, msgtype=str(media.get("msgtype", "m.file")),
                          mimetype=str(info.get("mimetype", "")), size=int(info.get("size", 0)),
                          url=url, encryption=file_info, thread_root=_thread_root(source))
    if isinstance(event, ReactionEvent):
        return Reaction(*base, relates_to=event.reacts_to, key=event.key)
    if isinstance(event, UnknownEvent) and event.type == "m.reaction":
        return Reaction(*base, relates_to=str(rel.get("event_id", "")), key=str(rel.get("key", "")))
    if isinstance(event, RedactionEvent):
        return Redaction(*base, redacts=event.redacts)
    if isinstance(event, RoomMemberEvent):
        prev = (event.prev_content or {}).get("membership")
        return MemberChange(*base, user_id=event.state_key, membership=event.membership,
                            prev_membership=prev)
    if isinstance(event, RoomEncryptionEvent | RoomJoinRulesEvent | RoomHistoryVisibilityEvent
                  | PowerLevelsEvent):
        return StateChange(*base, event_type=str(source.get("type", "")))
    if isinstance(event, UnknownEvent) and event.type in WATCHED_STATE:
        return StateChange(*base, event_type=event.type,
                           state_key=str(source.get("state_key", "")))
    return None


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
        self.client: AsyncClient | None = None
        self._stopping = False
        self._sync_task: asyncio.Task[Any] | None = None
        self._keys_lock = asyncio.Lock()
        self._pending: dict[str, _Pending] = {}
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

    def _new_client(self, device_id: str | None = None) -> AsyncClient:
        self.store_path.mkdir(parents=True, exist_ok=True, mode=0o700)
        secure_tree(self.data_dir)
        return AsyncClient(self.config.matrix.homeserver, self.user_id, device_id=device_id,
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
        token = await sink.load_sync_token()
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
            events = [] if token is None else self._collect(resp)
            events.extend(self._retry_pending())
            if events:
                await sink.handle_batch(events)
            token = resp.next_batch
            await sink.save_sync_token(token)
            first = False

    def _collect(self, resp: SyncResponse) -> list[Event]:
        client = self.client
        assert client is not None
        oldest = (self.started_at - self.config.matrix.max_catch_up) * 1000
        out: list[Event] = []
        for room_id, info in resp.rooms.join.items():
            for nio_event in info.timeline.events:
                self._note_state(room_id, nio_event.source or {})
                if nio_event.sender == self.user_id:
                    continue
                if getattr(nio_event, "server_timestamp", 0) < oldest:
                    continue
                if isinstance(nio_event, MegolmEvent):
                    self._hold(nio_event, room_id)
                    continue
                event = convert(nio_event, room_id)
                if event is not None:
                    out.append(event)
            for state_event in info.state:
                self._note_state(room_id, state_event.source or {})
        return out

    def _note_state(self, room_id: str, source: dict[str, Any]) -> None:
        """Keep the state nio does not: pinned events and room creators (v12 power)."""
        content = source.get("content") or {}
        if source.get("type") == "m.room.pinned_events":
            pinned = content.get("pinned") or []
            self._pinned[room_id] = tuple(p for p in pinned if isinstance(p, str))
        elif source.get("type") == "m.room.create":
            extra = content.get("additional_creators") or []
            self._creators[room_id] = (str(source.get("sender", "")),
                                       *(c for c in extra if isinstance(c, str)))

    def _hold(self, event: MegolmEvent, room_id: str) -> None:
        """Keep an undecryptable event and ask the sender's devices for its key."""
        client = self.client
        assert client is not None
        self._pending[event.event_id] = _Pending(event, room_id, time.time())
        with contextlib.suppress(LocalProtocolError):
            task = asyncio.ensure_future(client.request_room_key(event))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        log.info("undecryptable event in %s; key requested", room_id)

    def _retry_pending(self) -> list[Event]:
        """Events whose keys arrived since, and notices for those past the grace period."""
        client = self.client
        assert client is not None
        out: list[Event] = []
        grace = self.config.matrix.undecryptable_grace
        for event_id, pending in list(self._pending.items()):
            ev = pending.event
            decrypted: NioEvent | None = None
            if client.olm and client.olm.inbound_group_store.get(
                    pending.room_id, ev.sender_key, ev.session_id):
                try:
                    decrypted = client.decrypt_event(ev)
                except Exception:
                    decrypted = None
            if decrypted is not None and not isinstance(decrypted, MegolmEvent):
                del self._pending[event_id]
                converted = convert(decrypted, pending.room_id)
                if converted is not None:
                    out.append(converted)
            elif time.time() - pending.since >= grace:
                del self._pending[event_id]
                out.append(Undecryptable(pending.room_id, ev.event_id, ev.sender,
                                         int(ev.server_timestamp),
                                         thread_root=_thread_root(ev.source or {})))
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
        resp = await client.room_send(room_id, event_type, body, tx_id=txn_id,
                                      ignore_unverified_devices=True)
        if isinstance(resp, RoomSendError):
            raise TransportError(f"send refused: {resp.status_code} {resp.message}")
        return str(resp.event_id)

    async def redact(self, room_id: str, event_id: str, reason: str, txn_id: str) -> bool:
        client = self.client
        assert client is not None
        resp = await client.room_redact(room_id, event_id, reason, tx_id=txn_id)
        return hasattr(resp, "event_id")

    async def put_state(self, room_id: str, event_type: str, body: dict[str, Any],
                        state_key: str) -> bool:
        client = self.client
        assert client is not None
        resp = await client.room_put_state(room_id, event_type, body, state_key)
        ok = hasattr(resp, "event_id")
        if ok and event_type == "m.room.pinned_events":
            self._pinned[room_id] = tuple(body.get("pinned", ()))
        return ok

    async def download(self, attachment: Attachment) -> bytes:
        """Fetch an attachment into memory, decrypting it when it is encrypted."""
        client = self.client
        assert client is not None
        resp = await client.download(mxc=attachment.url)
        if isinstance(resp, DownloadError):
            raise TransportError(f"download failed: {resp.message}")
        data = bytes(resp.body)
        enc = attachment.encryption
        if enc:
            data = decrypt_attachment(data, enc["key"]["k"], enc["hashes"]["sha256"], enc["iv"])
        return data

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()


# ---- a physician's client, for the demo and the live tests ----------------------------------

@dataclass
class Seen:
    """An event a UserClient received, decrypted when it could be."""

    room_id: str
    event_id: str
    sender: str
    type: str
    content: dict[str, Any]
    decrypted: bool
    state_key: str | None = None

    @property
    def body(self) -> str:
        return str(self.content.get("body", ""))

    @property
    def relation(self) -> dict[str, Any]:
        rel = self.content.get("m.relates_to")
        return rel if isinstance(rel, dict) else {}

    @property
    def thread_root(self) -> str | None:
        rel = self.relation
        return rel.get("event_id") if rel.get("rel_type") == "m.thread" else None

    @property
    def mentions(self) -> list[str]:
        return list((self.content.get("m.mentions") or {}).get("user_ids") or [])


@dataclass
class UserClient:
    """A physician's encrypted client (nio), driven step by step."""

    homeserver: str
    user_id: str
    password: str
    store_dir: Path
    seen: list[Seen] = field(default_factory=list)
    auto_join: bool = True
    client: AsyncClient | None = None
    _task: asyncio.Task[Any] | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(self.homeserver, self.user_id, store_path=str(self.store_dir),
                                  config=_client_config("physician-test-key"))
        resp = await self.client.login(self.password, device_name="physician")
        if not isinstance(resp, LoginResponse):
            raise TransportError(f"login failed for {self.user_id}: {resp}")
        self.client.add_event_callback(self._on_event, NioEvent)
        self.client.add_event_callback(self._on_invite, InviteMemberEvent)
        await self.client.sync(timeout=0, full_state=True)
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        self._task = asyncio.create_task(self.client.sync_forever(timeout=1000))

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self.client:
            await self.client.close()

    @property
    def device_id(self) -> str:
        assert self.client is not None
        return str(self.client.device_id)

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if self.auto_join and event.state_key == self.user_id and event.membership == "invite":
            assert self.client is not None
            await self.client.join(room.room_id)

    async def _on_event(self, room: MatrixRoom, event: NioEvent) -> None:
        source = event.source or {}
        decrypted = bool(getattr(event, "decrypted", False))
        content = dict(source.get("content") or {})
        if "redacts" in source:  # room versions before 11 keep it outside the content
            content.setdefault("redacts", source["redacts"])
        self.seen.append(Seen(room.room_id, event.event_id, event.sender,
                              str(source.get("type", "")), content,
                              decrypted or not isinstance(event, MegolmEvent),
                              source.get("state_key")))
        self._changed.set()

    async def wait_for(self, match: Callable[[Seen], bool], timeout: float = 20.0) -> Seen:
        """The first received event that matches (waiting for it if needed)."""
        deadline = time.monotonic() + timeout
        while True:
            for seen in self.seen:
                if match(seen):
                    return seen
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.user_id}: no matching event within {timeout} s")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=remaining)

    async def create_room(self, name: str, invite: Sequence[str] = (), encrypted: bool = True,
                          public: bool = False, powers: dict[str, int] | None = None) -> str:
        assert self.client is not None
        state = [{"type": "m.room.encryption", "state_key": "",
                  "content": {"algorithm": "m.megolm.v1.aes-sha2"}}] if encrypted else []
        resp = await self.client.room_create(
            name=name, invite=list(invite), initial_state=state,
            preset=RoomPreset.public_chat if public else RoomPreset.private_chat,
            power_level_override={"users": dict(powers)} if powers else None)
        if isinstance(resp, RoomCreateError):
            raise TransportError(f"room creation failed: {resp.message}")
        return str(resp.room_id)

    async def wait_joined(self, room_id: str, user_id: str, timeout: float = 20.0) -> None:
        assert self.client is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            room = self.client.rooms.get(room_id)
            if room and user_id in room.users and user_id not in room.invited_users:
                return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"{user_id} did not join {room_id}")

    async def send(self, room_id: str, content: dict[str, Any],
                   event_type: str = "m.room.message", encrypt: bool = True) -> str:
        assert self.client is not None
        if self.client.should_query_keys:
            resp = await self.client.keys_query()
            assert isinstance(resp, KeysQueryResponse), resp
        if event_type == "m.reaction" and encrypt and self.client.rooms[room_id].encrypted:
            # Element encrypts reactions; nio's room_send does not, so seal it by hand.
            if self.client.olm.should_share_group_session(room_id):  # type: ignore[union-attr]
                await self.client.share_group_session(room_id, ignore_unverified_devices=True)
            sealed_type, sealed = self.client.encrypt(room_id, event_type, content)
            method, path, data = Api.room_send(self.client.access_token, room_id, sealed_type,
                                               sealed, uuid.uuid4())
            resp = await self.client._send(RoomSendResponse, method, path, data, (room_id,))
        else:
            resp = await self.client.room_send(room_id, event_type, content,
                                               ignore_unverified_devices=True)
        if isinstance(resp, RoomSendError):
            raise TransportError(f"send failed: {resp.message}")
        return str(resp.event_id)

    async def say(self, room_id: str, body: str, thread_root: str | None = None) -> str:
        content: dict[str, Any] = {"msgtype": "m.text", "body": body}
        if thread_root:
            content["m.relates_to"] = {"rel_type": "m.thread", "event_id": thread_root,
                                       "is_falling_back": True,
                                       "m.in_reply_to": {"event_id": thread_root}}
        return await self.send(room_id, content)

    async def edit(self, room_id: str, event_id: str, body: str) -> str:
        return await self.send(room_id, {
            "msgtype": "m.text", "body": f"* {body}",
            "m.new_content": {"msgtype": "m.text", "body": body},
            "m.relates_to": {"rel_type": "m.replace", "event_id": event_id}})

    async def react(self, room_id: str, event_id: str, key: str, encrypt: bool = True) -> str:
        return await self.send(room_id, {"m.relates_to": {
            "rel_type": "m.annotation", "event_id": event_id, "key": key}},
            event_type="m.reaction", encrypt=encrypt)

    async def send_image(self, room_id: str, data: bytes, mimetype: str = "image/jpeg",
                         thread_root: str | None = None) -> str:
        """Upload an encrypted image and post it as Element does in encrypted rooms."""
        assert self.client is not None
        ciphertext, keys = encrypt_attachment(data)
        resp, _ = await self.client.upload(
            lambda *_: ciphertext, content_type="application/octet-stream",
            filesize=len(ciphertext))
        url = getattr(resp, "content_uri", None)
        if not url:
            raise TransportError(f"upload failed: {resp}")
        content: dict[str, Any] = {
            "msgtype": "m.image", "body": "photo.jpg",
            "info": {"mimetype": mimetype, "size": len(data)},
            "file": {"url": url, "key": keys["key"], "iv": keys["iv"],
                     "hashes": keys["hashes"], "v": keys["v"]},
        }
        if thread_root:
            content["m.relates_to"] = {"rel_type": "m.thread", "event_id": thread_root,
                                       "is_falling_back": True,
                                       "m.in_reply_to": {"event_id": thread_root}}
        return await self.send(room_id, content)

    async def withhold_keys_from(self, user_id: str, timeout: float = 20.0) -> None:
        """Blacklist every device of `user_id`: our messages become unreadable to it."""
        assert self.client is not None
        deadline = time.monotonic() + timeout
        devices = list(self.client.device_store.active_user_devices(user_id))
        while not devices:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no device known for {user_id}")
            if self.client.should_query_keys:
                await self.client.keys_query()
            await asyncio.sleep(0.1)
            devices = list(self.client.device_store.active_user_devices(user_id))
        for device in devices:
            self.client.blacklist_device(device)
