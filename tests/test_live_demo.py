"""`casebot demo` as a physician meets it in Element: a new device of a demo account.

Element Web sends no room-key requests (matrix-js-sdk's Rust crypto turns them off), so a new
Element device reads the scripted exchange only through the key backup that it opens with
the printed recovery key; the same key verifies the new device, and the demo's own devices
are cross-signed, so nothing in Element's first screen warns. These tests follow that path
with Element's own SDK, and the key-request path with a second nio device.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from nio import MegolmEvent

from bot.crosssign import ensure_cross_signed, verify_json
from bot.demo import DEMO_PASSWORD, Demo, instructions
from bot.homeserver import LocalSynapse
from bot.matrix import UserClient
from bot.matrix.physician import PICKLE_KEY
from bot.matrix.recovery import decode_recovery_key, decrypt_secret, encode_recovery_key
from tests.support.jsclient import JsClient

pytestmark = pytest.mark.live


@pytest.fixture
async def demo(synapse: LocalSynapse, tmp_path: Path) -> AsyncIterator[Demo]:
    """The demo's accounts (unique per test on the shared Synapse) after the script ran."""
    played = Demo(tmp_path / "demo", synapse, suffix=f"_{uuid.uuid4().hex[:6]}")
    try:
        martin, benali = await played.start()
        await played.play(martin, benali)
        await asyncio.sleep(0.5)
        await played.back_up()
        yield played
    finally:
        await played.close()


async def _keys_query(client: UserClient, user_id: str) -> dict[str, Any]:
    assert client.client is not None
    async with aiohttp.ClientSession() as http, http.post(
            f"{client.homeserver}/_matrix/client/v3/keys/query",
            json={"device_keys": {user_id: []}},
            headers={"Authorization": f"Bearer {client.client.access_token}"}) as resp:
        assert resp.status == 200
        data = await resp.json()
        assert isinstance(data, dict)
        return data


async def _account_data(client: UserClient, kind: str) -> dict[str, Any]:
    assert client.client is not None
    user = client.user_id.replace("@", "%40").replace(":", "%3A")
    async with aiohttp.ClientSession() as http, http.get(
            f"{client.homeserver}/_matrix/client/v3/user/{user}/account_data/{kind}",
            headers={"Authorization": f"Bearer {client.client.access_token}"}) as resp:
        assert resp.status == 200, kind
        data = await resp.json()
        assert isinstance(data, dict)
        return data


def test_recovery_key_round_trip() -> None:
    key = bytes(range(32))
    text = encode_recovery_key(key)
    assert text.startswith("Es") and len(text.replace(" ", "")) == 48
    assert decode_recovery_key(text) == key
    with pytest.raises(ValueError):
        decode_recovery_key(text[:-1] + ("a" if text[-1] != "a" else "b"))


async def test_demo_devices_are_cross_signed_and_recovery_is_stored(demo: Demo) -> None:
    for client in demo.clients:
        query = await _keys_query(client, client.user_id)
        ssk = next(iter(query["self_signing_keys"][client.user_id]["keys"].values()))
        device = query["device_keys"][client.user_id][client.device_id]
        assert verify_json(device, ssk, client.user_id, f"ed25519:{ssk}"), \
            "the demo device carries its owner's self-signing signature"
        # the recovery key the demo prints opens the account's secret storage
        key = decode_recovery_key(demo.recovery_keys[client.user_id])
        key_id = (await _account_data(client, "m.secret_storage.default_key"))["key"]
        master = await _account_data(client, "m.cross_signing.master")
        assert decrypt_secret(key, "m.cross_signing.master", master["encrypted"][key_id])
    text = "\n".join(instructions(demo))
    assert "Utiliser la clé de récupération" in text
    for key in demo.recovery_keys.values():
        assert key in text


async def test_new_element_device_reads_the_demo_with_a_calm_first_screen(
        demo: Demo, js: JsClient) -> None:
    benali = demo.clients[1]
    await js.call("login", homeserver=demo.hs.url, user_id=benali.user_id,
                  password=DEMO_PASSWORD, recovery_key=demo.recovery_keys[benali.user_id],
                  initial_sync_limit=100, device_name="Element (test)")
    before = await js.call("security_status")
    assert before["this_device_cross_signing_verified"] is False  # "Confirm your identity"

    verified = await js.call("verify_with_recovery_key", reply_within=60)
    assert verified["backup_version"] is not None
    assert verified["restored"]["imported"] > 0

    status = await js.call("security_status")
    # everything Element's DeviceListener checks before it shows a toast
    assert status["this_device_cross_signing_verified"] is True
    assert status["cross_signing_ready"] is True
    assert all(status["private_keys_cached"].values()), status
    assert status["secret_storage_ready"] is True
    assert status["active_backup_version"] == verified["backup_version"]
    assert status["backup_key_cached"] is True
    assert status["other_devices"], "the scripted device is listed"
    assert all(d["cross_signing_verified"] for d in status["other_devices"].values()), \
        "no 'unverified sessions' toast"

    # the scripted exchange, sent before this device existed, decrypts
    deadline = time.monotonic() + 30
    while True:
        events = (await js.call("events", room_id=demo.room_id))["events"]
        encrypted = [e for e in events if e["encryption"] is not None]
        failed = [e for e in encrypted if e["encryption"]["decrypt_error"]]
        bodies = [str(e["content"].get("body", "")) for e in encrypted]
        if encrypted and not failed and any("Cas #1" in b for b in bodies):
            break
        assert time.monotonic() < deadline, f"{len(failed)} of {len(encrypted)} undecrypted"
        await asyncio.sleep(0.5)
    assert any(b.startswith("!case Femme 45 ans") for b in bodies)
    assert any("psoriasis en plaques" in b for b in bodies)
    assert any(e["sender"] == demo.bot_id and "Cas #1" in str(e["content"].get("body"))
               for e in encrypted)
    shields = {(e["sender"] == demo.bot_id, e["encryption"]["shield_reason"])
               for e in encrypted}
    print("shields of history read from the backup:", sorted(shields, key=str))


async def test_own_cross_signed_nio_device_gets_keys_on_request(
        demo: Demo, tmp_path: Path) -> None:
    """Clients that ask for keys (not Element Web) get them from the scripted device."""
    martin = demo.clients[0]
    second = UserClient(demo.hs.url, martin.user_id, DEMO_PASSWORD, tmp_path / "second")
    try:
        await second.start()
        assert second.client is not None and martin.client is not None
        # the new device proves it holds the account's keys: signed by the self-signing key
        result = await ensure_cross_signed(
            demo.hs.url, str(second.client.access_token), martin.user_id, second.device_id,
            martin.cross_signing_key_file, PICKLE_KEY, None)
        assert result.status == "signed", result.message
        if second.client.should_query_keys:
            await second.client.keys_query()
        first = second.client.device_store[martin.user_id][martin.device_id]
        second.client.verify_device(first)  # nio accepts forwarded keys from trusted devices
        response = await second.client.room_messages(demo.room_id, limit=100)
        pending = [e for e in getattr(response, "chunk", []) if isinstance(e, MegolmEvent)]
        assert pending, "history is undecryptable on a new device"
        sessions = {e.session_id: e for e in pending}
        for event in sessions.values():
            await second.client.request_room_key(event)
        deadline = time.monotonic() + 30
        while True:
            left = []
            for event in pending:
                try:
                    second.client.decrypt_event(event)
                except Exception:
                    left.append(event)
            if not left:
                break
            assert time.monotonic() < deadline, f"{len(left)} of {len(pending)} still locked"
            await asyncio.sleep(0.5)
    finally:
        await second.close()


async def test_uncross_signed_own_device_gets_no_keys(demo: Demo, tmp_path: Path) -> None:
    """Knowing the password is not enough: without the recovery key, no key is shared."""
    martin = demo.clients[0]
    intruder = UserClient(demo.hs.url, martin.user_id, DEMO_PASSWORD, tmp_path / "intruder")
    try:
        await intruder.start()
        assert intruder.client is not None
        if intruder.client.should_query_keys:
            await intruder.client.keys_query()
        intruder.client.verify_device(
            intruder.client.device_store[martin.user_id][martin.device_id])
        response = await intruder.client.room_messages(demo.room_id, limit=100)
        pending = [e for e in getattr(response, "chunk", []) if isinstance(e, MegolmEvent)]
        assert pending
        await intruder.client.request_room_key(pending[0])
        await asyncio.sleep(4)
        with pytest.raises(Exception):  # noqa: B017 - any nio decryption error
            intruder.client.decrypt_event(pending[0])
    finally:
        await intruder.close()
