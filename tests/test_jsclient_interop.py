"""Live interop between a plain nio client and Element's SDK (matrix-js-sdk, Rust crypto).

The key proof: in Element's strict "exclude insecure devices" mode (MSC4153) a nio device
without cross-signing can neither read nor be read, and after ``ensure_cross_signed`` it can.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from nio import (
    AsyncClient,
    AsyncClientConfig,
    DownloadResponse,
    Event,
    LoginResponse,
    MegolmEvent,
    ReactionEvent,
    RoomEncryptedImage,
    RoomMessageText,
    RoomSendResponse,
    SyncResponse,
)
from nio.crypto import decrypt_attachment

from bot.crosssign import ensure_cross_signed
from bot.homeserver import LocalSynapse
from tests.support.jsclient import JsClient

pytestmark = pytest.mark.live

PICKLE_KEY = "interop pickle key"
# 1x1 PNG, enough to prove that Element-style encrypted attachments decrypt in nio
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)



def _unique(localpart: str) -> str:
    """Users are per test; the Synapse (tests/conftest.py) is shared by the session."""
    return f"{localpart}_{uuid.uuid4().hex[:8]}"


class NioPeer:
    """A plain nio client (as the bot uses it) with a background sync loop."""

    def __init__(self, synapse: LocalSynapse, user_id: str, store: Path) -> None:
        self.client = AsyncClient(synapse.url, user_id, store_path=str(store),
                                  config=AsyncClientConfig(encryption_enabled=True,
                                                           pickle_key=PICKLE_KEY))
        self.events: list[Event] = []
        self._synced = asyncio.Condition()
        self._sync: asyncio.Task[Any] | None = None

    async def start(self, password: str) -> None:
        assert isinstance(await self.client.login(password, device_name="nio"), LoginResponse)
        await self.client.keys_upload()
        self.client.add_event_callback(self._on_event, Event)  # type: ignore[arg-type]
        self.client.add_response_callback(self._on_sync, SyncResponse)  # type: ignore[arg-type]
        self._sync = asyncio.create_task(self.client.sync_forever(timeout=1000))

    async def _on_event(self, _room: Any, event: Event) -> None:
        self.events.append(event)

    async def _on_sync(self, _response: SyncResponse) -> None:
        async with self._synced:
            self._synced.notify_all()

    async def stop(self) -> None:
        if self._sync is not None:
            self._sync.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sync
        await self.client.close()

    async def join(self, room_id: str, other: str) -> None:
        """Join an invited room and wait until nio sees the other member."""
        await self.client.join(room_id)
        await self.wait_for(lambda: room_id in self.client.rooms
                            and other in self.client.rooms[room_id].users, "room members")

    async def send(self, room_id: str, body: str, **extra: Any) -> str:
        if self.client.should_query_keys:
            await self.client.keys_query()
        response = await self.client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": body, **extra},
            ignore_unverified_devices=True,
        )
        assert isinstance(response, RoomSendResponse), response
        return response.event_id

    async def wait_for(self, predicate: Callable[[], Any], what: str,
                       within: float = 15.0) -> Any:
        """Wait until ``predicate()`` is truthy after some sync; return its value."""
        try:
            async with asyncio.timeout(within), self._synced:
                return await self._synced.wait_for(predicate)
        except TimeoutError:
            raise AssertionError(f"nio: no {what} within {within:.0f} s") from None

    def find(self, kind: type, **fields: Any) -> Any:
        for event in self.events:
            if isinstance(event, kind) and all(
                    getattr(event, k, None) == v for k, v in fields.items()):
                return event
        return None




@pytest.fixture
async def make_nio(tmp_path: Path) -> AsyncIterator[Any]:
    peers: list[NioPeer] = []

    async def make(synapse: LocalSynapse, user_id: str, password: str) -> NioPeer:
        peer = NioPeer(synapse, user_id, tmp_path)
        await peer.start(password)
        peers.append(peer)
        return peer

    yield make
    for peer in peers:
        await peer.stop()


async def _room_with(js: JsClient, nio: NioPeer, js_user: str) -> str:
    room = await js.call("create_room", name="Staff", encrypted=True,
                         invite=[nio.client.user_id])
    room_id = str(room["room_id"])
    await nio.join(room_id, js_user)
    await js.call("wait_member", room_id=room_id, user_id=nio.client.user_id)
    return room_id


async def test_default_mode_both_ways(synapse: LocalSynapse, js: JsClient,
                                      make_nio: Any) -> None:
    doc = synapse.register(_unique("doc_default"), "pw-doc")
    bot_user = synapse.register(_unique("nio_default"), "pw-nio")
    await js.call("login", homeserver=synapse.url, user_id=doc, password="pw-doc")
    await js.call("bootstrap_cross_signing", password="pw-doc")
    nio = await make_nio(synapse, bot_user, "pw-nio")
    room_id = await _room_with(js, nio, doc)

    root = (await js.call("send_text", room_id=room_id, body="!ping cas clinique"))["event_id"]
    text = await nio.wait_for(lambda: nio.find(RoomMessageText, event_id=root), "js -> nio")
    assert text.body == "!ping cas clinique" and text.sender == doc

    reply = await nio.send(room_id, "pong", **{"m.relates_to": {
        "rel_type": "m.thread", "event_id": root, "is_falling_back": True,
        "m.in_reply_to": {"event_id": root}}})
    seen = (await js.call("wait_event", room_id=room_id, timeout_ms=15000,
                          match={"sender": bot_user, "body_contains": "pong"}))["event"]
    assert seen["event_id"] == reply and seen["thread_root"] == root
    assert seen["encryption"]["decrypt_error"] is None
    # an unsigned nio device: readable in the default mode, but with Element's red shield
    assert seen["encryption"]["shield_reason"] == "UNSIGNED_DEVICE"
    assert seen["encryption"]["verified_by_owner"] is False

    in_thread = (await js.call("send_text", room_id=room_id, body="suite",
                               thread_root=root))["event_id"]
    threaded = await nio.wait_for(lambda: nio.find(RoomMessageText, event_id=in_thread),
                                  "thread reply")
    relation = threaded.source["content"]["m.relates_to"]
    assert relation["rel_type"] == "m.thread" and relation["event_id"] == root
    assert relation["m.in_reply_to"] == {"event_id": reply}, "Element replies to the latest"

    await js.call("edit", room_id=room_id, event_id=in_thread, body="suite corrigée")
    edit = await nio.wait_for(lambda: next((e for e in nio.events if isinstance(
        e, RoomMessageText) and e.body == "* suite corrigée"), None), "edit")
    assert edit.source["content"]["m.new_content"]["body"] == "suite corrigée"
    assert edit.source["content"]["m.relates_to"] == {"rel_type": "m.replace",
                                                      "event_id": in_thread}

    await js.call("react", room_id=room_id, event_id=reply, key="👍")
    reaction = await nio.wait_for(lambda: nio.find(ReactionEvent, reacts_to=reply), "reaction")
    assert reaction.key == "👍"  # matrix-js-sdk (so Element Web) sends reactions in the clear
    assert reaction.source["type"] == "m.reaction"
    # Element's ✅ carries the emoji variation selector U+FE0F: nio hands it over unchanged
    await js.call("react", room_id=room_id, event_id=root, key="\u2705\ufe0f", encrypted=True)
    sealed = await nio.wait_for(lambda: nio.find(ReactionEvent, reacts_to=root), "sealed reaction")
    assert sealed.key == "\u2705\ufe0f" and sealed.decrypted, "an encrypted reaction decrypts"

    image = (await js.call("send_image", room_id=room_id, bytes_b64=base64.b64encode(PNG)
                           .decode(), mimetype="image/png", filename="plaie.png",
                           thread_root=root))["event_id"]
    encrypted = await nio.wait_for(lambda: nio.find(RoomEncryptedImage, event_id=image), "image")
    assert encrypted.source["content"]["info"] == {"mimetype": "image/png", "size": len(PNG),
                                                   "w": 1, "h": 1}
    download = await nio.client.download(encrypted.url)
    assert isinstance(download, DownloadResponse)
    plain = decrypt_attachment(download.body, encrypted.key["k"], encrypted.hashes["sha256"],
                               encrypted.iv)
    assert plain == PNG


async def test_strict_mode_needs_cross_signed_nio_device(
        synapse: LocalSynapse, js: JsClient, make_nio: Any, tmp_path: Path) -> None:
    doc = synapse.register(_unique("doc_strict"), "pw-doc")
    bot_user = synapse.register(_unique("nio_strict"), "pw-nio")
    await js.call("login", homeserver=synapse.url, user_id=doc, password="pw-doc")
    await js.call("bootstrap_cross_signing", password="pw-doc")
    await js.call("set_strict", strict=True)
    nio = await make_nio(synapse, bot_user, "pw-nio")
    room_id = await _room_with(js, nio, doc)
    device = nio.client.device_id
    trust = await js.call("user_trust", user_id=bot_user, device_id=device)
    assert trust["device"]["signed_by_owner"] is False

    # unsigned nio device: Element withholds the room key ...
    hidden = (await js.call("send_text", room_id=room_id, body="secret 1"))["event_id"]
    undecrypted = await nio.wait_for(lambda: nio.find(MegolmEvent, event_id=hidden),
                                     "undecryptable event")
    assert undecrypted.session_id
    # ... and refuses to decrypt what the nio device sends
    await nio.send(room_id, "from unsigned")
    refused = (await js.call("wait_event", room_id=room_id, timeout_ms=15000,
                             match={"sender": bot_user, "decrypt_error": True}))["event"]
    assert refused["type"] == "m.room.encrypted"
    assert refused["encryption"]["decrypt_error"]

    result = await ensure_cross_signed(synapse.url, nio.client.access_token, bot_user, device,
                                       tmp_path / "cross_signing.json", PICKLE_KEY, None)
    assert result.status == "created", result.message

    # Element learns of the signature from the device list change in its next sync
    await js.call("wait_device_signed", user_id=bot_user, device_id=device, timeout_ms=20000)

    shown = (await js.call("send_text", room_id=room_id, body="secret 2"))["event_id"]
    text = await nio.wait_for(lambda: nio.find(RoomMessageText, event_id=shown),
                              "decrypted after cross-signing")
    assert text.body == "secret 2"
    assert nio.find(RoomMessageText, event_id=hidden) is None, "old keys stay withheld"

    signed = await nio.send(room_id, "from signed")
    seen = (await js.call("wait_event", room_id=room_id, timeout_ms=15000,
                          match={"sender": bot_user, "body_contains": "from signed"}))["event"]
    assert seen["event_id"] == signed
    assert seen["encryption"] == {"shield_colour": "NONE", "shield_reason": None,
                                  "verified_by_owner": True, "decrypt_error": None}
