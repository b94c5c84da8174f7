"""A physician's encrypted client (nio), driven step by step: the demo's and the live tests'."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    InviteMemberEvent,
    KeysQueryResponse,
    LoginResponse,
    MatrixRoom,
    MegolmEvent,
    RoomCreateError,
    RoomPreset,
    RoomSendError,
    RoomSendResponse,
)
from nio import (
    Event as NioEvent,
)
from nio.api import Api
from nio.crypto.attachments import encrypt_attachment

from bot.matrix.transport import TransportError, _client_config


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
