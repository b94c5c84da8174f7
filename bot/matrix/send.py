"""What the App asks of the homeserver: send, redact, read and write state, download.

A request the homeserver did not answer, or refused for now (429, 5xx), raises
`HomeserverUnavailable`: the sync loop keeps the batch and retries it, and replies reuse
their transaction ids, so a retried event is answered once. Other refusals are
`TransportError`s (or a False result).
"""

from __future__ import annotations

from typing import Any, NoReturn

import aiohttp
from nio import RoomGetStateEventResponse, RoomInviteResponse, RoomSendError
from nio.api import Api
from nio.crypto.attachments import decrypt_attachment

from bot.events import Attachment, DownloadFailed
from bot.matrix.convert import as_dict
from bot.matrix.guarded import GuardedClient
from bot.matrix.rooms import RoomStates
from bot.matrix.session import HomeserverUnavailable, Session, TransportError

MAX_DOWNLOAD = 20 * 1024 * 1024
"""Largest attachment read into memory unless the caller asks for less."""
NETWORK_ERRORS = (aiohttp.ClientError, OSError, TimeoutError)


def _no_answer(exc: BaseException) -> NoReturn:
    raise HomeserverUnavailable(
        f"the homeserver did not answer ({type(exc).__name__})") from None


class Actions:
    """Requests on behalf of the App, through the session's client."""

    def __init__(self, session: Session, rooms: RoomStates) -> None:
        self.session = session
        self.rooms = rooms

    @property
    def client(self) -> GuardedClient:
        client = self.session.client
        assert client is not None
        return client

    async def send(self, room_id: str, event_type: str, body: dict[str, Any],
                   txn_id: str) -> str:
        client = self.client
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
                        state_key: str) -> bool:
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
