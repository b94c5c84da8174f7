"""A physician's encrypted client (nio), driven step by step: the demo's and the live tests'."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
from nio import (
    AsyncClient,
    DownloadResponse,
    InviteMemberEvent,
    KeysQueryResponse,
    LocalProtocolError,
    LoginResponse,
    MatrixRoom,
    MegolmEvent,
    RoomCreateError,
    RoomKeyRequest,
    RoomPreset,
    RoomSendError,
    RoomSendResponse,
    SyncResponse,
    UploadResponse,
)
from nio import (
    Event as NioEvent,
)
from nio.api import Api
from nio.crypto.attachments import decrypt_attachment

from bot.crosssign import (
    CrossSignResult,
    ensure_cross_signed,
    load_keys,
    sign_json,
    unpadded_b64,
    verify_json,
)
from bot.matrix.recovery import (
    BACKUP_ALGORITHM,
    encode_recovery_key,
    encrypt_for_backup,
    encrypt_secret,
    key_description,
    new_backup_key,
)
from bot.matrix.send import upload_encrypted
from bot.matrix.session import TransportError, client_config

log = logging.getLogger(__name__)
PICKLE_KEY = "physician-test-key"


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
    def answer_to(self) -> str | None:
        """The event this one answers: its thread's root, else the event it replies to (the
        bot answers a command of the main timeline with a reply)."""
        reply = self.relation.get("m.in_reply_to")
        return self.thread_root or (reply.get("event_id") if isinstance(reply, dict) else None)

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
    share_with_own_devices: bool = False
    _task: asyncio.Task[Any] | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _http: aiohttp.ClientSession | None = None
    _backup: tuple[str, str] | None = None  # (version, public key) once recovery is set up
    _backed_up: set[tuple[str, int]] = field(default_factory=set)
    _backup_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _background: set[asyncio.Task[Any]] = field(default_factory=set)

    async def start(self) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(self.homeserver, self.user_id, store_path=str(self.store_dir),
                                  config=client_config(PICKLE_KEY))
        resp = await self.client.login(self.password, device_name="physician")
        if not isinstance(resp, LoginResponse):
            raise TransportError(f"login failed for {self.user_id}: {resp}")
        self.client.add_event_callback(self._on_event, NioEvent)
        self.client.add_event_callback(self._on_invite, InviteMemberEvent)
        self.client.add_to_device_callback(self._on_key_request, RoomKeyRequest)  # type: ignore[arg-type]
        self.client.add_response_callback(self._on_sync, SyncResponse)  # type: ignore[arg-type]
        await self.client.sync(timeout=0, full_state=True)
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        self._task = asyncio.create_task(self.client.sync_forever(timeout=1000))

    async def close(self) -> None:
        for task in (self._task, *self._background):
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self.client:
            await self.client.close()
        if self._http:
            await self._http.close()

    @property
    def device_id(self) -> str:
        assert self.client is not None
        return str(self.client.device_id)

    # ---- cross-signing, secret storage, key backup, key sharing -----------------------------
    @property
    def cross_signing_key_file(self) -> Path:
        return self.store_dir / "cross_signing.keys"

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        return self._http

    async def _request(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """One client-server API call with this device's token (what nio does not offer)."""
        assert self.client is not None
        url = self.homeserver.rstrip("/") + "/_matrix/client/v3" + path
        headers = {"Authorization": f"Bearer {self.client.access_token}"}
        async with self._session().request(method, url, json=body, headers=headers) as resp:
            data = await resp.json(content_type=None)
            if resp.status != 200:
                raise TransportError(f"{method} {path.split('?')[0]}: HTTP {resp.status} "
                                     f"{(data or {}).get('errcode', '')}")
            return data if isinstance(data, dict) else {}

    async def cross_sign(self) -> CrossSignResult:
        """Sign this device with the user's cross-signing keys, created the first time.

        A physician who then logs in to Element finds every other session of the account
        "verified by its owner", so Element shows no "unverified sessions" warning.
        """
        assert self.client is not None
        result = await ensure_cross_signed(
            self.homeserver, str(self.client.access_token), self.user_id, self.device_id,
            self.cross_signing_key_file, PICKLE_KEY, self.password, session=self._session())
        if result.status not in ("created", "signed", "already"):
            raise TransportError(result.message)
        return result

    async def set_up_recovery(self) -> str:
        """Secret storage and a key backup for this account, as Element sets them up.

        Stores the cross-signing private keys and the backup key in secret storage, creates a
        server-side key backup (signed by the master key and this device), uploads every room
        key this device holds, and keeps uploading new ones after each sync. Returns the
        recovery key: typed into Element's "Confirm your identity", it verifies the new device
        and lets it download the keys of the whole history from the backup.
        """
        assert self.client is not None and self.client.olm is not None
        keys = await asyncio.to_thread(load_keys, self.cross_signing_key_file, PICKLE_KEY)
        if keys is None:
            await self.cross_sign()
            keys = await asyncio.to_thread(load_keys, self.cross_signing_key_file, PICKLE_KEY)
            assert keys is not None
        private, public = new_backup_key()
        auth = sign_json({"public_key": public}, keys.master, self.user_id,
                         f"ed25519:{keys.master_public}")
        auth["signatures"][self.user_id][f"ed25519:{self.device_id}"] = \
            self.client.olm.sign_json({"public_key": public})
        created = await self._request("POST", "/room_keys/version",
                                      {"algorithm": BACKUP_ALGORITHM, "auth_data": auth})
        key = secrets.token_bytes(32)
        key_id = secrets.token_hex(16)
        account = {
            f"m.secret_storage.key.{key_id}": key_description(key),
            "m.cross_signing.master": unpadded_b64(keys.master),
            "m.cross_signing.self_signing": unpadded_b64(keys.self_signing),
            "m.cross_signing.user_signing": unpadded_b64(keys.user_signing),
            "m.megolm_backup.v1": private,
        }
        user = quote(self.user_id, safe="")
        for kind, value in account.items():
            content = value if isinstance(value, dict) else \
                {"encrypted": {key_id: encrypt_secret(key, kind, value)}}
            await self._request("PUT", f"/user/{user}/account_data/{kind}", content)
        await self._request("PUT", f"/user/{user}/account_data/m.secret_storage.default_key",
                            {"key": key_id})
        self._backup = (str(created["version"]), public)
        await self.back_up_room_keys()
        return encode_recovery_key(key)

    async def back_up_room_keys(self) -> int:
        """Upload the room keys not backed up yet; the number uploaded."""
        if self._backup is None:
            return 0
        assert self.client is not None and self.client.olm is not None
        version, public = self._backup
        async with self._backup_lock:
            rooms: dict[str, dict[str, Any]] = {}
            done: list[tuple[str, int]] = []
            for session in list(self.client.olm.inbound_group_store):
                index = session.first_known_index
                if (session.id, index) in self._backed_up:
                    continue
                data = encrypt_for_backup(public, {
                    "algorithm": "m.megolm.v1.aes-sha2",
                    "forwarding_curve25519_key_chain": list(session.forwarding_chain),
                    "sender_claimed_keys": {"ed25519": session.ed25519},
                    "sender_key": session.sender_key,
                    "session_key": session.export_session(index),
                })
                rooms.setdefault(session.room_id, {"sessions": {}})["sessions"][session.id] = {
                    "first_message_index": index,
                    "forwarded_count": len(session.forwarding_chain),
                    "is_verified": False,
                    "session_data": data,
                }
                done.append((session.id, index))
            if rooms:
                await self._request("PUT", f"/room_keys/keys?version={quote(version)}",
                                    {"rooms": rooms})
                self._backed_up.update(done)
            return len(done)

    async def _on_sync(self, _response: SyncResponse) -> None:
        if self._backup is not None and not self._background:
            task = asyncio.create_task(self._back_up_quietly())
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _back_up_quietly(self) -> None:
        try:
            await self.back_up_room_keys()
        except (TransportError, aiohttp.ClientError, OSError) as exc:
            log.warning("key backup upload failed (%s); retried after the next sync",
                        type(exc).__name__)

    async def _own_device_cross_signed(self, device_id: str) -> bool:
        """True if our self-signing key signed that device of ours (Element's verified)."""
        keys = await asyncio.to_thread(load_keys, self.cross_signing_key_file, PICKLE_KEY)
        if keys is None:
            return False
        query = await self._request("POST", "/keys/query",
                                    {"device_keys": {self.user_id: [device_id]}})
        device = query.get("device_keys", {}).get(self.user_id, {}).get(device_id)
        ssk = keys.self_signing_public
        return isinstance(device, dict) and verify_json(device, ssk, self.user_id,
                                                        f"ed25519:{ssk}")

    async def _on_key_request(self, event: RoomKeyRequest) -> None:
        """Answer room-key requests from our own other devices once they are cross-signed.

        nio shares keys only with verified devices and hands the other requests to us. A new
        device of the same person that proved it holds the recovery key (it is signed by our
        self-signing key) gets the keys; anyone else who merely knows the password does not.
        Element Web sends no key requests (it reads the key backup), other clients do.
        """
        assert self.client is not None
        if (not self.share_with_own_devices or event.sender != self.user_id
                or event.requesting_device_id == self.device_id):
            return
        try:
            if not await self._own_device_cross_signed(event.requesting_device_id):
                return
            if self.client.should_query_keys:
                await self.client.keys_query()
            device = self.client.device_store[self.user_id].get(event.requesting_device_id)
            if device is None:
                return
            self.client.verify_device(device)
            self.client.continue_key_share(event)
            await self.client.send_to_device_messages()
        except (TransportError, aiohttp.ClientError, OSError, LocalProtocolError) as exc:
            log.warning("key request from own device not answered (%s)", type(exc).__name__)

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

    async def wait_for(self, match: Callable[[Seen], bool], timeout: float = 60.0) -> Seen:
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

    async def wait_joined(self, room_id: str, user_id: str, timeout: float = 60.0) -> None:
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

    async def set_avatar(self, png: bytes) -> str:
        """Upload `png` (in the clear, as profile pictures are) and make it this account's
        avatar; its mxc:// address."""
        assert self.client is not None
        resp, _ = await self.client.upload(lambda *_: png, content_type="image/png",
                                           filename="avatar.png", filesize=len(png))
        if not isinstance(resp, UploadResponse):
            raise TransportError(f"avatar upload refused: {resp}")
        await self.client.set_avatar(resp.content_uri)
        return str(resp.content_uri)

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
        content: dict[str, Any] = {
            "msgtype": "m.image", "body": "photo.jpg",
            "info": {"mimetype": mimetype, "size": len(data)},
            "file": await upload_encrypted(self.client, data, "photo.jpg"),
        }
        if thread_root:
            content["m.relates_to"] = {"rel_type": "m.thread", "event_id": thread_root,
                                       "is_falling_back": True,
                                       "m.in_reply_to": {"event_id": thread_root}}
        return await self.send(room_id, content)

    async def attachment(self, content: dict[str, Any]) -> bytes:
        """Download and decrypt the encrypted file an m.file / m.image event carries."""
        assert self.client is not None
        file = content["file"]
        resp = await self.client.download(mxc=file["url"])
        if not isinstance(resp, DownloadResponse):
            raise TransportError(f"download failed: {resp}")
        return decrypt_attachment(resp.body, file["key"]["k"], file["hashes"]["sha256"],
                                  file["iv"])

    async def withhold_keys_from(self, user_id: str, timeout: float = 60.0) -> None:
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
