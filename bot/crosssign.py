"""Self cross-signing of the bot's own device.

Element is moving to sharing room keys only with devices that their owner cross-signed
(MSC4153, "exclude insecure devices"). matrix-nio has no cross-signing, so an unsigned bot
would read nothing in rooms where a physician turned that mode on. This module gives the bot
its own cross-signing identity and signs the bot's device with it:

1. generate master / self-signing / user-signing Ed25519 keys and upload their public parts
   (``POST /keys/device_signing/upload``; user-interactive auth with the bot's password when
   the server asks, which Synapse does only when keys already exist, MSC3967);
2. sign the device keys that nio uploaded, exactly as ``/keys/query`` returns them, with the
   self-signing key (``POST /keys/signatures/upload``);
3. keep the private keys, encrypted with the bot's pickle key, so later starts only re-check.

It deliberately does not import nio (``bot.matrix`` is the only module that may): it speaks
plain HTTP with aiohttp and signs with pycryptodome's RFC 8032 Ed25519.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import aiohttp
from Crypto.Cipher import AES
from Crypto.Protocol.KDF import scrypt
from Crypto.PublicKey import ECC
from Crypto.Signature import eddsa

__all__ = [
    "CrossSignError",
    "CrossSignResult",
    "CrossSigningKeys",
    "b64decode",
    "canonical_json",
    "ensure_cross_signed",
    "fingerprint",
    "load_keys",
    "save_keys",
    "saved_public_keys",
    "sign_json",
    "unpadded_b64",
    "verify_json",
]

_KEY_FILE_VERSION = 1
# scrypt cost: about 0.1 s and 32 MiB, enough to make a stolen key file with a weak pickle
# key expensive to brute-force; paid only when a device is to be signed or keys created (a
# start that finds its device signed reads the public keys kept in clear beside them).
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**15, 8, 1

Status = Literal["created", "signed", "already", "needs_password", "foreign_keys"]


class CrossSignError(RuntimeError):
    """The server refused a request, or the local key file cannot be read."""


def unpadded_b64(data: bytes) -> str:
    """Matrix encodes keys and signatures as standard base64 without ``=`` padding."""
    return base64.b64encode(data).decode("ascii").rstrip("=")


def b64decode(text: str) -> bytes:
    """Matrix base64, with or without its padding, as bytes."""
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _public_key(seed: bytes) -> str:
    key = ECC.construct(curve="Ed25519", seed=seed)
    return unpadded_b64(key.public_key().export_key(format="raw"))


@dataclass(frozen=True)
class CrossSigningKeys:
    """The three private Ed25519 seeds (32 bytes each) of one account's cross-signing identity.

    The seeds are kept out of ``repr`` so that logging the object never leaks them.
    """

    master: bytes = field(repr=False)
    self_signing: bytes = field(repr=False)
    user_signing: bytes = field(repr=False)

    def __post_init__(self) -> None:
        for name in ("master", "self_signing", "user_signing"):
            if len(getattr(self, name)) != 32:
                raise ValueError(f"{name} seed must be 32 bytes")

    @classmethod
    def generate(cls) -> CrossSigningKeys:
        """Fresh random seeds from the OS CSPRNG."""
        return cls(secrets.token_bytes(32), secrets.token_bytes(32), secrets.token_bytes(32))

    @property
    def master_public(self) -> str:
        return _public_key(self.master)

    @property
    def self_signing_public(self) -> str:
        return _public_key(self.self_signing)

    @property
    def user_signing_public(self) -> str:
        return _public_key(self.user_signing)


@dataclass(frozen=True)
class CrossSignResult:
    """What :func:`ensure_cross_signed` did, for one log line at start-up."""

    status: Status
    master_fingerprint: str | None = None

    @property
    def message(self) -> str:
        """A single human-readable line, without secrets, for the bot's log."""
        fingerprint = f" (master key {self.master_fingerprint})" if self.master_fingerprint else ""
        return {
            "created": "cross-signing keys created and this device signed",
            "signed": "this device is now signed by the account's self-signing key",
            "already": "this device is already cross-signed",
            "needs_password": "cross-signing needs the account password: "
            "run `casebot cross-sign` once with CASEBOT_PASSWORD set",
            "foreign_keys": "the account has cross-signing keys this bot does not hold: "
            "run `casebot cross-sign --reset` (with CASEBOT_PASSWORD set) to replace them",
        }[self.status] + fingerprint


def fingerprint(public_key: str) -> str:
    """Group an unpadded base64 key by 4 characters, as Element shows keys to people."""
    return " ".join(public_key[i : i + 4] for i in range(0, len(public_key), 4))


def canonical_json(obj: Any) -> bytes:
    """Matrix canonical JSON: sorted keys, no whitespace, UTF-8 without escaping non-ASCII.

    Signatures are computed over these exact bytes, so any difference from what the server and
    other clients compute makes the signature invalid.
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _signable(obj: dict[str, Any]) -> bytes:
    return canonical_json({k: v for k, v in obj.items() if k not in ("signatures", "unsigned")})


def sign_json(obj: dict[str, Any], seed: bytes, user_id: str, key_id: str) -> dict[str, Any]:
    """Return a copy of ``obj`` with ``signatures[user_id][key_id]`` added.

    The signed bytes exclude ``signatures`` and ``unsigned`` (the spec's signing algorithm), so
    existing signatures (e.g. the device's own) are kept alongside the new one.
    """
    key = ECC.construct(curve="Ed25519", seed=seed)
    signature = eddsa.new(key, "rfc8032").sign(_signable(obj))
    signed = copy.deepcopy(obj)
    signed.setdefault("signatures", {}).setdefault(user_id, {})[key_id] = unpadded_b64(signature)
    return signed


def verify_json(obj: dict[str, Any], public_key: str, user_id: str, key_id: str) -> bool:
    """True if ``obj`` carries a valid signature by ``public_key`` under ``user_id``/``key_id``."""
    signature = obj.get("signatures", {}).get(user_id, {}).get(key_id)
    if not isinstance(signature, str):
        return False
    try:
        verifier = eddsa.new(eddsa.import_public_key(b64decode(public_key)), "rfc8032")
        verifier.verify(_signable(obj), b64decode(signature))
    except ValueError:
        return False
    return True


def _derive(pickle_key: str, salt: bytes, n: int = _SCRYPT_N, r: int = _SCRYPT_R,
            p: int = _SCRYPT_P) -> bytes:
    key = scrypt(pickle_key, salt, 32, N=n, r=r, p=p)
    assert isinstance(key, bytes)  # one key requested, so not a tuple
    return key


def save_keys(path: Path, keys: CrossSigningKeys, pickle_key: str) -> None:
    """Write the private keys encrypted (scrypt + AES-256-GCM), mode 0600, atomically.

    Atomic (temporary file in the same directory, then ``os.replace``) because losing the file
    half-written would orphan the account's cross-signing identity, which then needs a reset.
    """
    salt = secrets.token_bytes(16)
    cipher = AES.new(_derive(pickle_key, salt), AES.MODE_GCM)
    plaintext = keys.master + keys.self_signing + keys.user_signing
    ciphertext, tag = cipher.encrypt_and_digest(plaintext)
    document = {
        "version": _KEY_FILE_VERSION,
        "kdf": {"name": "scrypt", "n": _SCRYPT_N, "r": _SCRYPT_R, "p": _SCRYPT_P,
                "salt": unpadded_b64(salt)},
        "cipher": "aes-256-gcm",
        "nonce": unpadded_b64(cipher.nonce),
        "ciphertext": unpadded_b64(ciphertext),
        "tag": unpadded_b64(tag),
        "master_public": keys.master_public,  # lets a person match the file to the server
        "self_signing_public": keys.self_signing_public,  # and a start skip the decryption
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def saved_public_keys(path: Path) -> tuple[str, str] | None:
    """The master and self-signing public keys kept in clear in the key file (no
    decryption); None when the file is missing, unreadable or older than that field."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict):
        return None
    master, ssk = document.get("master_public"), document.get("self_signing_public")
    return (master, ssk) if isinstance(master, str) and isinstance(ssk, str) else None


def load_keys(path: Path, pickle_key: str) -> CrossSigningKeys | None:
    """Read keys written by :func:`save_keys`; ``None`` if the file does not exist.

    Raises :class:`CrossSignError` when the file is corrupt or the pickle key is wrong: that is
    a configuration error to report, never a reason to silently create new keys.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise CrossSignError(f"cannot read cross-signing key file {path}: {exc}") from exc
    try:
        if document["version"] != _KEY_FILE_VERSION:
            raise CrossSignError(f"unsupported cross-signing key file version in {path}")
        kdf = document["kdf"]
        key = _derive(pickle_key, b64decode(kdf["salt"]), kdf["n"], kdf["r"], kdf["p"])
        cipher = AES.new(key, AES.MODE_GCM, nonce=b64decode(document["nonce"]))
        plaintext = cipher.decrypt_and_verify(
            b64decode(document["ciphertext"]), b64decode(document["tag"])
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CrossSignError(
            f"cannot decrypt cross-signing key file {path}: wrong pickle key or corrupt file"
        ) from exc
    return CrossSigningKeys(plaintext[:32], plaintext[32:64], plaintext[64:96])


class _Api:
    """The four client-server endpoints this module needs, with the bot's access token."""

    def __init__(self, session: aiohttp.ClientSession, homeserver: str, token: str) -> None:
        self._session = session
        self._base = homeserver.rstrip("/") + "/_matrix/client/v3"
        self._headers = {"Authorization": f"Bearer {token}"}

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        async with self._session.post(self._base + path, json=body,
                                      headers=self._headers) as resp:
            try:
                data = await resp.json(content_type=None)
            except ValueError:
                data = {}
            return resp.status, data if isinstance(data, dict) else {}

    async def post_ok(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        status, data = await self.post(path, body)
        if status != 200:
            raise CrossSignError(
                f"POST {path} failed: HTTP {status} {data.get('errcode', '')} "
                f"{data.get('error', '')}".rstrip()
            )
        return data


def _key_object(user_id: str, usage: str, public_key: str) -> dict[str, Any]:
    return {"user_id": user_id, "usage": [usage], "keys": {f"ed25519:{public_key}": public_key}}


def _single_key(key_object: dict[str, Any] | None) -> str | None:
    """The public key of a cross-signing key object from ``/keys/query``."""
    if not key_object:
        return None
    keys = list(key_object.get("keys", {}).values())
    return keys[0] if len(keys) == 1 and isinstance(keys[0], str) else None


async def _upload_keys(api: _Api, user_id: str, keys: CrossSigningKeys,
                       password: str | None) -> bool:
    """Upload the public keys; False if the server wants a password that we do not have."""
    master_id = f"ed25519:{keys.master_public}"
    body: dict[str, Any] = {
        "master_key": _key_object(user_id, "master", keys.master_public),
        "self_signing_key": sign_json(
            _key_object(user_id, "self_signing", keys.self_signing_public),
            keys.master, user_id, master_id),
        "user_signing_key": sign_json(
            _key_object(user_id, "user_signing", keys.user_signing_public),
            keys.master, user_id, master_id),
    }
    status, data = await api.post("/keys/device_signing/upload", body)
    if status == 200:
        return True
    if status != 401 or "flows" not in data:
        raise CrossSignError(f"cross-signing key upload failed: HTTP {status} "
                             f"{data.get('errcode', '')} {data.get('error', '')}".rstrip())
    flows = [flow.get("stages", []) for flow in data.get("flows", [])]
    if ["m.login.password"] not in flows:
        raise CrossSignError(f"the server offers no password flow for cross-signing: {flows}")
    if password is None:
        return False
    body["auth"] = {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": user_id},
        "password": password,
        "session": data.get("session"),
    }
    await api.post_ok("/keys/device_signing/upload", body)
    return True


async def _sign_device(api: _Api, user_id: str, device_id: str, device_keys: dict[str, Any],
                       keys: CrossSigningKeys) -> bool:
    """Sign the device with the self-signing key unless it already is; True if we uploaded."""
    ssk_id = f"ed25519:{keys.self_signing_public}"
    if verify_json(device_keys, keys.self_signing_public, user_id, ssk_id):
        return False
    unsigned = {k: v for k, v in device_keys.items() if k not in ("signatures", "unsigned")}
    signed = sign_json(unsigned, keys.self_signing, user_id, ssk_id)
    # Only our signature is uploaded; the server merges it with the device's own.
    signed["signatures"] = {user_id: {ssk_id: signed["signatures"][user_id][ssk_id]}}
    data = await api.post_ok("/keys/signatures/upload", {user_id: {device_id: signed}})
    if data.get("failures"):
        raise CrossSignError(f"the server rejected the device signature: {data['failures']}")
    return True


async def ensure_cross_signed(
    homeserver: str,
    access_token: str,
    user_id: str,
    device_id: str,
    key_file: Path,
    pickle_key: str,
    password: str | None,
    reset: bool = False,
    session: aiohttp.ClientSession | None = None,
) -> CrossSignResult:
    """Make sure the account has cross-signing keys we hold and that this device is signed.

    Idempotent, so the bot can run it on every start after nio uploaded the device keys:

    - no keys on the server: create, upload (the first upload needs no password on Synapse
      with MSC3967; if the server still asks and ``password`` is None: ``needs_password``),
      save them to ``key_file`` and sign the device -> ``created``;
    - the server's keys are ours: sign the device if needed -> ``signed`` or ``already``;
    - the server's keys are not the ones in ``key_file`` (or there is no file):
      ``foreign_keys``, unless ``reset``, which replaces them (the server then requires the
      password) -> ``created``.

    Keys are saved only after the server accepted them, so a refused upload never overwrites
    a key file that still matches the server.
    """
    own_session = session is None
    http = session or aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
    try:
        api = _Api(http, homeserver, access_token)
        query = await api.post_ok("/keys/query", {"device_keys": {user_id: [device_id]}})
        device_keys = query.get("device_keys", {}).get(user_id, {}).get(device_id)
        if not device_keys:
            raise CrossSignError(f"device {device_id} has no uploaded keys; upload them first")
        server_master = _single_key(query.get("master_keys", {}).get(user_id))
        server_ssk = _single_key(query.get("self_signing_keys", {}).get(user_id))
        saved = None if reset else saved_public_keys(key_file)
        if (server_master is not None and server_ssk is not None
                and saved == (server_master, server_ssk)
                and verify_json(device_keys, server_ssk, user_id, f"ed25519:{server_ssk}")):
            # the usual start: our keys on the server, the device signed; nothing to decrypt
            return CrossSignResult("already", fingerprint(server_master))
        # scrypt takes ~0.1 s: keep it off the event loop
        local = None if reset else await asyncio.to_thread(load_keys, key_file, pickle_key)

        if server_master is not None and not reset:
            if (local is None or local.master_public != server_master
                    or local.self_signing_public != server_ssk):
                return CrossSignResult("foreign_keys", fingerprint(server_master))
            uploaded = await _sign_device(api, user_id, device_id, device_keys, local)
            if saved is None:  # a file from before the public keys were kept in clear
                await asyncio.to_thread(save_keys, key_file, local, pickle_key)
            return CrossSignResult("signed" if uploaded else "already",
                                   fingerprint(server_master))

        keys = CrossSigningKeys.generate()
        if not await _upload_keys(api, user_id, keys, password):
            return CrossSignResult("needs_password",
                                   fingerprint(server_master) if server_master else None)
        await asyncio.to_thread(save_keys, key_file, keys, pickle_key)
        await _sign_device(api, user_id, device_id, device_keys, keys)
        return CrossSignResult("created", fingerprint(keys.master_public))
    finally:
        if own_session:
            await http.close()
