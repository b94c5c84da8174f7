"""What the App asks of the homeserver: send, redact, read and write state, download,
upload encrypted files, open a direct room, learn who sent an event, resolve a room alias.

A request the homeserver did not answer, or refused for now (429, 5xx), raises
`HomeserverUnavailable`: the sync loop keeps the batch and retries it, and replies reuse
their transaction ids, so a retried event is answered once. Other refusals are
`TransportError`s (or a False result).
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from typing import Any, NoReturn

import aiohttp
from nio import (
    AsyncClient,
    MatrixRoom,
    MegolmEvent,
    RoomCreateError,
    RoomGetStateEventResponse,
    RoomInviteResponse,
    RoomPreset,
    RoomSendError,
    UploadResponse,
)
from nio.api import MATRIX_API_PATH_V1, Api
from nio.crypto.attachments import decrypt_attachment, encrypt_attachment

from bot.events import Attachment, DownloadFailed, Edit, Message, NotInRoom
from bot.matrix.convert import as_dict, convert
from bot.matrix.guarded import GuardedClient
from bot.matrix.rooms import RoomStates
from bot.matrix.session import HomeserverUnavailable, Session, TransportError

MAX_DOWNLOAD = 20 * 1024 * 1024
"""Largest attachment read into memory unless the caller asks for less."""
NETWORK_ERRORS = (aiohttp.ClientError, OSError, TimeoutError)
ENCRYPTION = {"type": "m.room.encryption", "state_key": "",
              "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


def _no_answer(exc: BaseException) -> NoReturn:
    raise HomeserverUnavailable(
        f"the homeserver did not answer ({type(exc).__name__})") from None


async def upload_encrypted(client: AsyncClient, data: bytes, filename: str) -> dict[str, Any]:
    """Encrypt `data` (off the event loop) and upload it: the `file` of an encrypted
    attachment (url, key, iv, hashes, v)."""
    ciphertext, keys = await asyncio.to_thread(encrypt_attachment, data)
    try:
        resp, _ = await client.upload(lambda *_: ciphertext,
                                      content_type="application/octet-stream",
                                      filename=filename, filesize=len(ciphertext))
    except NETWORK_ERRORS as exc:
        _no_answer(exc)
    if not isinstance(resp, UploadResponse):
        status = getattr(getattr(resp, "transport_response", None), "status", 0) or 0
        if status >= 500 or status == 429:
            raise HomeserverUnavailable(f"the homeserver refused an upload for now ({status})")
        raise TransportError(f"upload refused: {getattr(resp, 'status_code', '')}")
    return {"url": resp.content_uri, "key": keys["key"], "iv": keys["iv"],
            "hashes": keys["hashes"], "v": keys["v"]}


class Actions:
    """Requests on behalf of the App, through the session's client."""

    def __init__(self, session: Session, rooms: RoomStates) -> None:
        self.session = session
        self.rooms = rooms
        self._direct: dict[str, list[str]] | None = None
        """The bot's `m.direct` account data (user → rooms), read once, then kept here."""
        self._direct_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    @property
    def client(self) -> GuardedClient:
        client = self.session.client
        assert client is not None
        return client

    async def send(self, room_id: str, event_type: str, body: dict[str, Any],
                   txn_id: str) -> str:
        client = self.client
        if room_id not in client.rooms:  # left (kicked, banned): never sent as if still there
            raise NotInRoom(f"send refused: the bot is not in {room_id}")
        await self.session.query_keys_if_needed()
        try:
            resp = await client.room_send(room_id, event_type, body, tx_id=txn_id,
                                          ignore_unverified_devices=True)
        except NETWORK_ERRORS as exc:
            _no_answer(exc)
        if isinstance(resp, RoomSendError):
            status = getattr(resp.transport_response, "status", 0) or 0
            if resp.status_code == "M_LIMIT_EXCEEDED" or status >= 500 or status == 429:
                raise HomeserverUnavailable(
                    f"the homeserver refused a send for now ({resp.status_code or status})")
            raise TransportError(f"send refused: {resp.status_code}")
        return str(resp.event_id)

    async def redact(self, room_id: str, event_id: str, reason: str, txn_id: str) -> bool:
        try:
            resp = await self.client.room_redact(room_id, event_id, reason, tx_id=txn_id)
        except NETWORK_ERRORS as exc:
            _no_answer(exc)
        return hasattr(resp, "event_id")

    async def invite(self, room_id: str, user_id: str) -> bool:
        """Invite `user_id` (a knock becomes an invite); False when the homeserver refuses."""
        try:
            resp = await self.client.room_invite(room_id, user_id)
        except NETWORK_ERRORS as exc:
            _no_answer(exc)
        return isinstance(resp, RoomInviteResponse)

    async def get_state(self, room_id: str, event_type: str,
                        state_key: str = "") -> dict[str, Any] | None:
        """The room's current state event content, asked of the homeserver (not our copy,
        which may be a sync behind); None when there is none."""
        try:
            resp = await self.client.room_get_state_event(room_id, event_type, state_key)
        except NETWORK_ERRORS as exc:
            _no_answer(exc)
        if isinstance(resp, RoomGetStateEventResponse):
            return dict(as_dict(resp.content))
        if getattr(resp, "status_code", "") == "M_NOT_FOUND":
            return None
        raise TransportError(f"state read refused: {getattr(resp, 'status_code', '')}")

    async def put_state(self, room_id: str, event_type: str, body: dict[str, Any],
                        state_key: str = "") -> bool:
        """Write a state event; the bot's own pins show in `room()` at once (other state
        arrives with the next sync, as the homeserver applied it)."""
        try:
            resp = await self.client.room_put_state(room_id, event_type, body, state_key)
        except NETWORK_ERRORS as exc:
            _no_answer(exc)
        ok = hasattr(resp, "event_id")
        if ok and event_type == "m.room.pinned_events":
            self.rooms.set_pinned(room_id, body.get("pinned", ()))
        return ok

    async def download(self, attachment: Attachment, limit: int = MAX_DOWNLOAD) -> bytes:
        """Fetch an attachment into memory (at most `limit` bytes, read as it streams in,
        whatever size the event claims), decrypting it when it is encrypted."""
        client = self.client
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
        except NETWORK_ERRORS as exc:
            _no_answer(exc)
        enc = attachment.encryption
        if enc:
            key, hashes = as_dict(enc.get("key")), as_dict(enc.get("hashes"))
            return decrypt_attachment(bytes(data), str(key.get("k")), str(hashes.get("sha256")),
                                      str(enc.get("iv")))
        return bytes(data)

    async def upload(self, data: bytes, mimetype: str, filename: str) -> dict[str, Any]:
        """Upload `data` encrypted; the `file` dict an m.file / m.image event carries
        (`mimetype` goes in the event's `info`: the upload itself is opaque bytes)."""
        return await upload_encrypted(self.client, data, filename)

    async def direct_room(self, user_id: str) -> str:
        """The encrypted direct room with `user_id`: the one `m.direct` remembers if the bot
        is still in it with them alone (joined or invited), else a new one (remembered)."""
        async with self._direct_locks[user_id]:
            direct = await self._direct_rooms()
            for room_id in reversed(direct.get(user_id, [])):
                room = self.client.rooms.get(room_id)
                if room is not None and room.encrypted and set(room.users) == {
                        self.client.user_id, user_id}:
                    return room_id
            room_id = await self._create_direct(user_id)
            direct[user_id] = [*direct.get(user_id, []), room_id]
            await self._account_data("PUT", direct)
            return room_id

    async def _create_direct(self, user_id: str) -> str:
        """Create the room, and enter it in nio's room model at once (the sync that brings
        it may be a batch away): the first send then shares its key with the invitee."""
        client = self.client
        try:
            resp = await client.room_create(is_direct=True, invite=[user_id],
                                            preset=RoomPreset.private_chat,
                                            initial_state=[ENCRYPTION])
        except NETWORK_ERRORS as exc:
            _no_answer(exc)
        if isinstance(resp, RoomCreateError):
            raise TransportError(f"room creation refused: {resp.status_code}")
        room_id = str(resp.room_id)
        if room_id not in client.rooms:
            room = MatrixRoom(room_id, client.user_id, encrypted=True)
            room.add_member(client.user_id, None, None)
            room.add_member(user_id, None, None, invited=True)
            client.rooms[room_id] = room
            client.encrypted_rooms.add(room_id)
            if client.olm is not None:
                client.olm.update_tracked_users(room)
            self.rooms.touch((room_id,))
        return room_id

    async def _direct_rooms(self) -> dict[str, list[str]]:
        if self._direct is None:
            found = await self._account_data("GET")
            self._direct = {user: [r for r in rooms if isinstance(r, str)]
                            for user, rooms in found.items() if isinstance(rooms, list)}
        return self._direct

    async def _account_data(self, method: str, body: dict[str, Any] | None = None
                            ) -> dict[str, Any]:
        """Read (GET) or write (PUT `body`) the bot's `m.direct`; {} when it has none."""
        client = self.client
        path = Api._build_path(["user", client.user_id, "account_data", "m.direct"])
        status, found = await self._request(method, path, body, "account data")
        if status == 404 and method == "GET":
            return {}
        if status != 200:
            raise TransportError(f"account data refused: HTTP {status}")
        return found if isinstance(found, dict) else {}

    async def event_sender(self, room_id: str, event_id: str) -> str | None:
        """Who sent `event_id` in `room_id`, asked of the homeserver (nothing is decrypted);
        None when it has no such event in that room, or will not show it to the bot."""
        found = await self._event(room_id, event_id)
        sender = found.get("sender") if found is not None else None
        return sender if isinstance(sender, str) else None

    async def message_text(self, room_id: str, event_id: str) -> str | None:
        """The text of a message as its author last edited it, asked of the homeserver and
        decrypted in memory (nothing kept); None when it is gone, hidden from the bot, not a
        text, or its key is unknown. Edits count only from the message's own author."""
        raw = await self._event(room_id, event_id)
        original = self._read(raw, room_id) if raw is not None else None
        if not isinstance(original, Message):
            return None
        path = Api._build_path(["rooms", room_id, "relations", event_id, "m.replace"],
                               {"dir": "b", "limit": "20"}, base_path=MATRIX_API_PATH_V1)
        status, found = await self._request("GET", path, None, "an edit")
        chunk = found.get("chunk") if status == 200 and isinstance(found, dict) else None
        for raw in chunk if isinstance(chunk, list) else ():  # the newest first
            if isinstance(raw, dict) and raw.get("sender") == original.sender:
                edit = self._read(raw, room_id)
                if isinstance(edit, Edit) and edit.original == event_id:
                    return edit.body
        return original.body

    async def _event(self, room_id: str, event_id: str) -> dict[str, Any] | None:
        """The raw event as the homeserver has it in `room_id` (None: not there, hidden)."""
        path = Api._build_path(["rooms", room_id, "event", event_id])
        status, found = await self._request("GET", path, None, "an event")
        if status != 200 or not isinstance(found, dict) or found.get("room_id") != room_id:
            return None
        return found

    def _read(self, raw: dict[str, Any], room_id: str) -> Any:
        """A raw event (decrypted when encrypted) as the bot's own type, or None."""
        if raw.get("type") != "m.room.encrypted":
            return convert(raw, room_id, decrypted=False)
        try:
            encrypted = MegolmEvent.from_dict(raw)
        except Exception:
            return None
        if not isinstance(encrypted, MegolmEvent):
            return None
        decrypted = self.client.safe_decrypt(encrypted, room_id)
        return None if decrypted is None else convert(decrypted.source or {}, room_id,
                                                      decrypted=True)

    async def resolve_alias(self, alias: str) -> str | None:
        """The room an alias names in the homeserver's directory (never a room's own claim
        in its `canonical_alias` state); None when the directory has no such alias."""
        path = Api._build_path(["directory", "room", alias])
        status, found = await self._request("GET", path, None, "an alias")
        room_id = found.get("room_id") if status == 200 and isinstance(found, dict) else None
        return room_id if isinstance(room_id, str) else None

    async def _request(self, method: str, path: str, body: dict[str, Any] | None,
                       what: str) -> tuple[int, Any]:
        """A client-server API request with the bot's token: its status and JSON body (None
        when not JSON). 429 and 5xx raise `HomeserverUnavailable` (the batch is retried)."""
        client = self.client
        headers = {"Authorization": f"Bearer {client.access_token}"}
        data = json.dumps(body) if body is not None else None
        try:
            resp = await client.send(method, path, data, headers=headers)
            try:
                if resp.status >= 500 or resp.status == 429:
                    raise HomeserverUnavailable(
                        f"the homeserver refused {what} for now ({resp.status})")
                try:
                    found = await resp.json(content_type=None)
                except ValueError:
                    found = None
            finally:
                resp.release()
        except NETWORK_ERRORS as exc:
            _no_answer(exc)
        return resp.status, found
