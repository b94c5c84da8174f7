"""Self cross-signing: unit tests for the signing pieces, live tests against a real Synapse."""

from __future__ import annotations

import json
import stat
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from nio import AsyncClient, AsyncClientConfig, LoginResponse

from bot.crosssign import (
    CrossSignError,
    CrossSigningKeys,
    canonical_json,
    ensure_cross_signed,
    fingerprint,
    load_keys,
    save_keys,
    saved_public_keys,
    sign_json,
    verify_json,
)
from bot.homeserver import LocalSynapse

PICKLE_KEY = "test pickle key"


def test_canonical_json_sorted_compact_utf8() -> None:
    obj = {"b": 1, "a": {"d": [1, 2], "c": "é✓"}, "aa": None}
    assert canonical_json(obj) == '{"a":{"c":"é✓","d":[1,2]},"aa":null,"b":1}'.encode()


def test_sign_verify_round_trip_ignores_signatures_and_unsigned() -> None:
    keys = CrossSigningKeys.generate()
    key_id = f"ed25519:{keys.master_public}"
    obj = {"user_id": "@a:x", "keys": {"k": "v"}, "unsigned": {"n": 1},
           "signatures": {"@a:x": {"ed25519:DEV": "other"}}}
    signed = sign_json(obj, keys.master, "@a:x", key_id)
    assert "unsigned" in signed and signed["signatures"]["@a:x"]["ed25519:DEV"] == "other"
    assert "=" not in signed["signatures"]["@a:x"][key_id]
    assert obj["signatures"] == {"@a:x": {"ed25519:DEV": "other"}}, "input left untouched"
    assert verify_json(signed, keys.master_public, "@a:x", key_id)
    # unsigned data may change without breaking the signature; signed data may not
    assert verify_json({**signed, "unsigned": {"n": 2}}, keys.master_public, "@a:x", key_id)
    assert not verify_json({**signed, "keys": {"k": "w"}}, keys.master_public, "@a:x", key_id)
    assert not verify_json(signed, keys.self_signing_public, "@a:x", key_id)


def test_public_keys_are_unpadded_base64_and_distinct() -> None:
    keys = CrossSigningKeys.generate()
    publics = {keys.master_public, keys.self_signing_public, keys.user_signing_public}
    assert len(publics) == 3 and all(len(p) == 43 for p in publics)
    assert fingerprint(keys.master_public).split(" ")[0] == keys.master_public[:4]
    assert repr(keys) == "CrossSigningKeys()", "seeds never appear in logs"


def test_save_load_round_trip_mode_0600(tmp_path: Path) -> None:
    keys = CrossSigningKeys.generate()
    path = tmp_path / "sub" / "cross_signing.json"
    save_keys(path, keys, PICKLE_KEY)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keys.master.hex() not in path.read_text()
    assert load_keys(path, PICKLE_KEY) == keys
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no temporary file left"


def test_load_with_wrong_pickle_key_fails(tmp_path: Path) -> None:
    path = tmp_path / "cross_signing.json"
    save_keys(path, CrossSigningKeys.generate(), PICKLE_KEY)
    with pytest.raises(CrossSignError, match="wrong pickle key"):
        load_keys(path, "another key")
    assert load_keys(tmp_path / "missing.json", PICKLE_KEY) is None
    assert saved_public_keys(tmp_path / "missing.json") is None


# --- live, against the session's real Synapse (the `synapse` fixture of tests/conftest.py) -----


async def _nio_login(synapse: LocalSynapse, localpart: str, password: str,
                     store: Path) -> AsyncClient:
    """A plain nio client with encryption, logged in, its device keys uploaded."""
    user_id = synapse.register(f"{localpart}{uuid.uuid4().hex[:8]}", password)
    client = AsyncClient(synapse.url, user_id, store_path=str(store),
                         config=AsyncClientConfig(encryption_enabled=True,
                                                  pickle_key=PICKLE_KEY))
    assert isinstance(await client.login(password, device_name="casebot"), LoginResponse)
    await client.keys_upload()
    return client


async def _query(synapse: LocalSynapse, token: str, user_id: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.post(
        f"{synapse.url}/_matrix/client/v3/keys/query",
        json={"device_keys": {user_id: []}},
        headers={"Authorization": f"Bearer {token}"},
    ) as resp:
        assert resp.status == 200
        return dict(await resp.json())


@pytest.mark.live
async def test_live_cross_sign_own_device(synapse: LocalSynapse, tmp_path: Path) -> None:
    client = await _nio_login(synapse, "xsbot", "secret-pw", tmp_path)
    key_file = tmp_path / "data" / "cross_signing.json"
    try:
        args = (synapse.url, client.access_token, client.user_id, client.device_id)
        result = await ensure_cross_signed(*args, key_file, PICKLE_KEY, password=None)
        assert result.status == "created", result.message
        keys = load_keys(key_file, PICKLE_KEY)
        assert keys is not None
        assert result.master_fingerprint == fingerprint(keys.master_public)

        query = await _query(synapse, client.access_token, client.user_id)
        uid = client.user_id
        master = query["master_keys"][uid]
        ssk = query["self_signing_keys"][uid]
        assert master["keys"] == {f"ed25519:{keys.master_public}": keys.master_public}
        ssk_id = f"ed25519:{keys.self_signing_public}"
        assert ssk["keys"] == {ssk_id: keys.self_signing_public}
        assert verify_json(ssk, keys.master_public, uid, f"ed25519:{keys.master_public}")
        device = query["device_keys"][uid][client.device_id]
        assert verify_json(device, keys.self_signing_public, uid, ssk_id)
        # the device's own signature is still there next to ours
        assert f"ed25519:{client.device_id}" in device["signatures"][uid]

        again = await ensure_cross_signed(*args, key_file, PICKLE_KEY, password=None)
        assert again.status == "already"
        assert again.master_fingerprint == result.master_fingerprint
        # A start that finds its device signed reads the public keys kept in clear and does
        # not decrypt the private ones (scrypt, ~0.1 s): a wrong pickle key goes unread.
        assert saved_public_keys(key_file) == (keys.master_public, keys.self_signing_public)
        quick = await ensure_cross_signed(*args, key_file, "another key", password=None)
        assert quick.status == "already"
        # A key file written before that field: decrypted once, then rewritten with it.
        document = json.loads(key_file.read_text())
        del document["self_signing_public"]
        key_file.write_text(json.dumps(document))
        assert saved_public_keys(key_file) is None
        with pytest.raises(CrossSignError, match="wrong pickle key"):
            await ensure_cross_signed(*args, key_file, "another key", password=None)
        upgraded = await ensure_cross_signed(*args, key_file, PICKLE_KEY, password=None)
        assert upgraded.status == "already"
        assert saved_public_keys(key_file) == (keys.master_public, keys.self_signing_public)
        assert load_keys(key_file, PICKLE_KEY) == keys

        fresh = tmp_path / "other" / "cross_signing.json"
        foreign = await ensure_cross_signed(*args, fresh, PICKLE_KEY, password=None)
        assert foreign.status == "foreign_keys" and "--reset" in foreign.message
        assert not fresh.exists()

        needs = await ensure_cross_signed(*args, fresh, PICKLE_KEY, password=None, reset=True)
        assert needs.status == "needs_password" and "CASEBOT_PASSWORD" in needs.message
        assert not fresh.exists()
        assert load_keys(key_file, PICKLE_KEY) == keys, "a refused reset keeps the old file"
    finally:
        await client.close()


@pytest.mark.live
async def test_live_reset_and_new_device(synapse: LocalSynapse, tmp_path: Path) -> None:
    first = await _nio_login(synapse, "xsreset", "secret-pw", tmp_path)
    key_file = tmp_path / "cross_signing.json"
    try:
        created = await ensure_cross_signed(first.homeserver, first.access_token, first.user_id,
                                            first.device_id, key_file, PICKLE_KEY, None)
        assert created.status == "created"
        old = load_keys(key_file, PICKLE_KEY)

        reset = await ensure_cross_signed(first.homeserver, first.access_token, first.user_id,
                                          first.device_id, key_file, PICKLE_KEY, "secret-pw",
                                          reset=True)
        assert reset.status == "created" and reset.master_fingerprint != created.master_fingerprint
        new = load_keys(key_file, PICKLE_KEY)
        assert new is not None and new != old

        # a second device of the same account (a re-login) gets signed with the saved keys
        # same store directory: nio names its database after the user and the device
        second = AsyncClient(first.homeserver, first.user_id, store_path=str(tmp_path),
                             config=AsyncClientConfig(encryption_enabled=True,
                                                      pickle_key=PICKLE_KEY))
        assert isinstance(await second.login("secret-pw"), LoginResponse)
        await second.keys_upload()
        try:
            # signing it needs the private keys: a wrong pickle key is an error, not new keys
            with pytest.raises(CrossSignError, match="wrong pickle key"):
                await ensure_cross_signed(second.homeserver, second.access_token,
                                          second.user_id, second.device_id, key_file, "wrong",
                                          None)
            signed = await ensure_cross_signed(second.homeserver, second.access_token,
                                               second.user_id, second.device_id, key_file,
                                               PICKLE_KEY, None)
            assert signed.status == "signed"
            query = await _query(synapse, second.access_token, second.user_id)
            device = query["device_keys"][second.user_id][second.device_id]
            assert verify_json(device, new.self_signing_public, second.user_id,
                               f"ed25519:{new.self_signing_public}")
        finally:
            await second.close()
    finally:
        await first.close()
