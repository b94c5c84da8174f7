"""Recovery key, secret storage and server-side key backup, as Element expects them.

Why the demo needs this: Element Web (matrix-js-sdk with Rust crypto) never sends room-key
requests (``roomKeyRequestsEnabled = false``), so a physician's *new* Element device can read
history only from the server-side key backup, whose decryption key it finds in secret storage
(SSSS) once the person types the account's recovery key. The same recovery key gives the new
device the cross-signing private keys, so it signs itself: "Confirm your identity" is answered
with the key and no "unverified session" warning remains.

Formats (Matrix spec, client-server API, "Secrets" and "Server-side key backups"):

- recovery key: base58 (bitcoin alphabet) of ``0x8B 0x01 || key || parity``, parity being the
  XOR of every previous byte, shown in groups of 4 characters;
- ``m.secret_storage.v1.aes-hmac-sha2``: HKDF-SHA-256 (salt 32 zero bytes, info the secret's
  name) of the 32-byte key gives an AES-256-CTR key and an HMAC-SHA-256 key; the key
  description's ``iv``/``mac`` encrypt 32 zero bytes under the name ``""`` so clients can check
  a typed key;
- ``m.megolm_backup.v1.curve25519-aes-sha2``: each room key is encrypted to the backup's
  Curve25519 public key (vodozemac's libolm-compatible ``PkEncryption``).

This module is pure: no HTTP, no nio. ``bot.matrix.physician`` uses it.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
from hashlib import sha256
from typing import Any

import vodozemac
from Crypto.Cipher import AES
from Crypto.Hash import SHA256
from Crypto.Protocol.KDF import HKDF

from bot.crosssign import b64decode, unpadded_b64

__all__ = [
    "BACKUP_ALGORITHM",
    "SSSS_ALGORITHM",
    "decode_recovery_key",
    "decrypt_from_backup",
    "decrypt_secret",
    "encode_recovery_key",
    "encrypt_for_backup",
    "encrypt_secret",
    "key_description",
    "new_backup_key",
]

SSSS_ALGORITHM = "m.secret_storage.v1.aes-hmac-sha2"
BACKUP_ALGORITHM = "m.megolm_backup.v1.curve25519-aes-sha2"
_PREFIX = b"\x8b\x01"
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, digit = divmod(number, 58)
        out = _B58[digit] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def _b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        index = _B58.find(char)
        if index < 0:
            raise ValueError(f"not a base58 character: {char!r}")
        number = number * 58 + index
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def encode_recovery_key(key: bytes) -> str:
    """The recovery key people type into Element (``EsT…`` in groups of four)."""
    if len(key) != 32:
        raise ValueError("a secret storage key is 32 bytes")
    raw = _PREFIX + key
    parity = 0
    for byte in raw:
        parity ^= byte
    text = _b58encode(raw + bytes([parity]))
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def decode_recovery_key(text: str) -> bytes:
    """The 32-byte key of a recovery key; ValueError when it is mistyped."""
    raw = _b58decode("".join(text.split()))
    parity = 0
    for byte in raw:
        parity ^= byte
    if len(raw) != 35 or not raw.startswith(_PREFIX) or parity != 0:
        raise ValueError("not a valid recovery key")
    return raw[2:34]


def _keys(key: bytes, name: str) -> tuple[bytes, bytes]:
    derived = HKDF(key, 64, b"\0" * 32, SHA256, context=name.encode())
    assert isinstance(derived, bytes)  # one key asked for, so not a tuple
    return derived[:32], derived[32:]


def encrypt_secret(key: bytes, name: str, secret: str, iv: bytes | None = None) -> dict[str, str]:
    """Encrypt one secret for account data (``{"iv", "ciphertext", "mac"}``, padded base64)."""
    aes_key, mac_key = _keys(key, name)
    if iv is None:
        iv = bytearray(secrets.token_bytes(16))
        iv[8] &= 0x7F  # the spec clears bit 63 so the 64-bit counter never wraps
        iv = bytes(iv)
    cipher = AES.new(aes_key, AES.MODE_CTR, nonce=b"", initial_value=iv)
    ciphertext = cipher.encrypt(secret.encode())
    mac = hmac.new(mac_key, ciphertext, sha256).digest()
    return {"iv": _b64(iv), "ciphertext": _b64(ciphertext), "mac": _b64(mac)}


def decrypt_secret(key: bytes, name: str, encrypted: dict[str, str]) -> str:
    """Inverse of :func:`encrypt_secret`; ValueError on a wrong key or a tampered secret."""
    aes_key, mac_key = _keys(key, name)
    ciphertext = b64decode(encrypted["ciphertext"])
    mac = hmac.new(mac_key, ciphertext, sha256).digest()
    if not hmac.compare_digest(mac, b64decode(encrypted["mac"])):
        raise ValueError(f"bad MAC for secret {name!r}: wrong key?")
    cipher = AES.new(aes_key, AES.MODE_CTR, nonce=b"", initial_value=b64decode(encrypted["iv"]))
    return cipher.decrypt(ciphertext).decode()


def key_description(key: bytes, name: str = "Recovery key") -> dict[str, str]:
    """``m.secret_storage.key.<id>`` content: lets a client check the key a person typed."""
    check = encrypt_secret(key, "", "\0" * 32)
    return {"algorithm": SSSS_ALGORITHM, "name": name, "iv": check["iv"], "mac": check["mac"]}


def new_backup_key() -> tuple[str, str]:
    """A fresh Curve25519 backup key pair: (private key, public key), unpadded base64.

    The private key, as stored in secret storage under ``m.megolm_backup.v1``, is the
    unpadded base64 of its 32 bytes.
    """
    secret = vodozemac.Curve25519SecretKey()
    return secret.to_base64(), secret.public_key().to_base64()


def encrypt_for_backup(public_key: str, session: dict[str, Any]) -> dict[str, str]:
    """``session_data`` of one backed-up room key (unpadded base64, as the spec shows)."""
    encryption = vodozemac.PkEncryption.from_key(vodozemac.Curve25519PublicKey.from_base64(
        public_key))
    message = encryption.encrypt(json.dumps(session, separators=(",", ":")).encode())
    return {"ephemeral": unpadded_b64(message.ephemeral_key),
            "ciphertext": unpadded_b64(message.ciphertext),
            "mac": unpadded_b64(message.mac)}


def decrypt_from_backup(private_key: str, session_data: dict[str, str]) -> dict[str, Any]:
    """Inverse of :func:`encrypt_for_backup`, for tests."""
    decryption = vodozemac.PkDecryption.from_key(
        vodozemac.Curve25519SecretKey.from_base64(private_key))
    message = vodozemac.Message(b64decode(session_data["ciphertext"]),
                                b64decode(session_data["mac"]),
                                b64decode(session_data["ephemeral"]))
    plain = json.loads(decryption.decrypt(message))
    assert isinstance(plain, dict)
    return plain
