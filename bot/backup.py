"""`casebot backup` and `casebot restore`: the whole data directory as one encrypted archive.

A backup is taken while the bot runs: every SQLite database (the bot's, then nio's crypto
store) is copied with SQLite's online backup API, so each copy is consistent; other files
(credentials, cross-signing keys) are copied as they are. The bot's database is copied first:
a crypto store newer than the sync token only means a few events are read again (and skipped
as already handled), while the reverse could lose room keys that arrived in between.

The archive holds private keys, so it is encrypted with a passphrase: scrypt derives an
AES-256-GCM key; the header (format, KDF parameters, nonce) is authenticated with the data.
Inside, a gzip'd tar with `manifest.json` (files, sizes, SHA-256, schema versions, the device)
and the files. Restore decrypts to a private temporary directory, checks the tag and every
checksum, and only then moves the files into an empty data directory, owner-only.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from Crypto.Cipher import AES
from Crypto.Protocol.KDF import scrypt

from bot.crosssign import CrossSignError, b64decode, load_keys, unpadded_b64
from bot.matrix import secure_tree

MAGIC = b"casebot-backup\n"
FORMAT = 1
_SCRYPT = {"n": 2**17, "r": 8, "p": 1}
"""About 0.3 s and 128 MiB: cheap once per backup, costly for whoever guesses passphrases."""
_SCRYPT_MAX = {"n": 2**20, "r": 8, "p": 4}
"""The most a header may ask for (1 GiB): a damaged or hostile header cannot exhaust the
memory or the CPU before its tag is checked."""
_TAG = 16
_CHUNK = 1 << 20
_SQLITE = b"SQLite format 3\x00"
_SKIP = ("-wal", "-shm", "-journal", ".tmp", ".backup")
"""SQLite's side files (their content is in the online copy), half-written files, and
archives someone wrote into the data directory."""
MAIN_DB = "casebot.db"
MIN_PASSPHRASE = 12
"""Characters: below that a passphrase falls to guessing whatever the KDF costs."""


class BackupError(Exception):
    """What went wrong, in words for the operator (wrong passphrase, damaged archive…)."""


@dataclass(frozen=True)
class Manifest:
    created: float
    user_id: str | None
    device_id: str | None
    files: dict[str, dict[str, Any]]
    schema: dict[str, int]

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "created": self.created, "user_id": self.user_id,
                           "device_id": self.device_id, "files": self.files,
                           "schema": self.schema}, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BackupError("unknown backup format (made by a newer casebot?)")
        return cls(float(data["created"]), data.get("user_id"), data.get("device_id"),
                   dict(data["files"]), dict(data.get("schema") or {}))


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    key = scrypt(passphrase, salt, 32, N=n, r=r, p=p)
    assert isinstance(key, bytes)
    return key


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def is_sqlite(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(_SQLITE)) == _SQLITE


def read_only(path: Path) -> sqlite3.Connection:
    """A connection that cannot write `path` (safe beside the running bot)."""
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _files(data_dir: Path) -> list[Path]:
    """What a backup holds, the bot's database first (see the module's docstring)."""
    found = [p for p in sorted(data_dir.rglob("*")) if p.is_file() and not any(
        part.endswith(_SKIP) for part in p.relative_to(data_dir).parts)]
    return sorted(found, key=lambda p: p.relative_to(data_dir) != Path(MAIN_DB))


def snapshot(data_dir: Path, stage: Path) -> Manifest:
    """Copy the data directory into `stage` (SQLite through its online backup API)."""
    files: dict[str, dict[str, Any]] = {}
    for path in _files(data_dir):
        rel = path.relative_to(data_dir)
        target = stage / "data" / rel
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        database = is_sqlite(path)
        if database:
            source, copy = read_only(path), sqlite3.connect(target)
            try:
                source.backup(copy)
            finally:
                copy.close()
                source.close()
        else:
            shutil.copyfile(path, target)
        files[rel.as_posix()] = {"sha256": _sha256(target), "size": target.stat().st_size,
                                 "sqlite": database}
    if MAIN_DB not in files:
        raise BackupError(f"no {MAIN_DB} in {data_dir}: is data_dir right?")
    creds = stage / "data" / "credentials.json"
    device = json.loads(creds.read_text()) if creds.exists() else {}
    conn = sqlite3.connect(stage / "data" / MAIN_DB)
    try:
        schema = {str(c): int(v) for c, v in conn.execute(
            "SELECT component, version FROM schema_version")}
    except sqlite3.Error:
        schema = {}
    finally:
        conn.close()
    return Manifest(time.time(), device.get("user_id"), device.get("device_id"), files, schema)


class _Sealing:
    """A write-only file object that encrypts what goes through it."""

    def __init__(self, out: IO[bytes], cipher: Any) -> None:
        self.out = out
        self.cipher = cipher

    def write(self, data: bytes) -> int:
        self.out.write(self.cipher.encrypt(bytes(data)))
        return len(data)

    def flush(self) -> None:
        self.out.flush()


def check_destination(dest: Path) -> None:
    """Refuse, in words, an archive path whose directory does not exist. It is not created:
    the archive holds the bot's private keys, and a mistyped path would put them in a
    directory nobody chose (the operator creates it, e.g. `mkdir -m 700 /srv/backups`)."""
    folder = dest.parent
    if not folder.is_dir():
        raise BackupError(f"{folder} does not exist (or is not a directory): create it first, "
                          f"owner-only (mkdir -m 700 {folder})")


def backup(data_dir: Path, dest: Path, passphrase: str) -> Manifest:
    """Write the encrypted archive of `data_dir` to `dest` (0600); return its manifest."""
    check_destination(dest)
    if not passphrase:
        raise BackupError("an empty passphrase protects nothing")
    if len(passphrase) < MIN_PASSPHRASE:
        raise BackupError(f"the passphrase must be at least {MIN_PASSPHRASE} characters: the "
                          "archive holds the bot's private keys and access token")
    if not (data_dir / MAIN_DB).exists():
        raise BackupError(f"no {MAIN_DB} in {data_dir}: is data_dir right?")
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    header = MAGIC + json.dumps({"format": FORMAT, "kdf": "scrypt", **_SCRYPT,
                                 "salt": unpadded_b64(salt), "nonce": unpadded_b64(nonce),
                                 "cipher": "aes-256-gcm"}).encode() + b"\n"
    cipher = AES.new(_derive(passphrase, salt, **_SCRYPT), AES.MODE_GCM, nonce=nonce)
    cipher.update(header)
    # Staged beside the data it copies (never in /tmp, where a crash would leave the access
    # token in clear); its name ends in .tmp, so it is not backed up itself.
    with tempfile.TemporaryDirectory(prefix=".casebot-backup-", suffix=".tmp",
                                     dir=data_dir) as tmp:
        stage = Path(tmp)
        manifest = snapshot(data_dir, stage)
        (stage / "manifest.json").write_text(manifest.to_json())
        partial = dest.with_name(dest.name + ".tmp")
        partial.unlink(missing_ok=True)  # a crash's leftover keeps its mode, a link its target
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except OSError as exc:
            raise BackupError(f"cannot write {partial}: {exc.strerror}") from None
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(header)
                sealing = _Sealing(out, cipher)
                with tarfile.open(fileobj=sealing, mode="w|gz") as tar:
                    tar.add(stage / "manifest.json", "manifest.json")
                    for rel in manifest.files:
                        tar.add(stage / "data" / rel, f"data/{rel}")
                out.write(cipher.digest())
            os.replace(partial, dest)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return manifest


def _open(src: Path, passphrase: str, plain: Path) -> None:
    """Decrypt `src` into the file `plain`, checking the tag (BackupError if it fails)."""
    size = src.stat().st_size
    with src.open("rb") as handle:
        if handle.read(len(MAGIC)) != MAGIC:
            raise BackupError(f"{src} is not a casebot backup")
        line = handle.readline(4096)
        try:
            params = json.loads(line)
            if params["format"] != FORMAT or params["kdf"] != "scrypt":
                raise BackupError("unknown backup format (made by a newer casebot?)")
            if any(not 0 < int(params[k]) <= most for k, most in _SCRYPT_MAX.items()):
                raise ValueError("scrypt parameters out of bounds")
            key = _derive(passphrase, b64decode(params["salt"]), int(params["n"]),
                          int(params["r"]), int(params["p"]))
            cipher = AES.new(key, AES.MODE_GCM, nonce=b64decode(params["nonce"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise BackupError(f"{src}: damaged header") from exc
        cipher.update(MAGIC + line)
        left = size - handle.tell() - _TAG
        if left < 0:
            raise BackupError(f"{src}: truncated")
        with plain.open("wb") as out:
            while left:
                chunk = handle.read(min(_CHUNK, left))
                if not chunk:
                    raise BackupError(f"{src}: truncated")
                left -= len(chunk)
                out.write(cipher.decrypt(chunk))
        try:
            cipher.verify(handle.read(_TAG))
        except ValueError:
            raise BackupError("wrong passphrase, or the archive was damaged or altered") \
                from None


def read(src: Path, passphrase: str, into: Path) -> Manifest:
    """Decrypt and unpack `src` into the directory `into`; check every file's checksum."""
    plain = into / "archive.tar.gz"
    _open(src, passphrase, plain)
    try:
        with tarfile.open(plain, "r:gz") as tar:
            names = _members(tar)
            tar.extractall(into, filter="data")
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise BackupError(f"{src}: damaged archive ({exc})") from None
    plain.unlink()
    try:
        manifest = Manifest.from_json((into / "manifest.json").read_text())
        sums = {rel: str(info["sha256"]) for rel, info in manifest.files.items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{src}: damaged archive (manifest: {type(exc).__name__})") from None
    if set(sums) != names or MAIN_DB not in names:
        raise BackupError(f"{src}: damaged archive (its files are not the manifest's)")
    for rel, digest in sums.items():
        if _sha256(into / "data" / rel) != digest:
            raise BackupError(f"{rel}: checksum does not match the manifest")
    return manifest


def _members(tar: tarfile.TarFile) -> set[str]:
    """The data files an archive holds (relative to data/), refusing what `backup` never
    writes: links, devices, directories, absolute paths, `..`, anything beside data/."""
    names = set()
    for info in tar.getmembers():
        parts = PurePosixPath(info.name).parts
        if info.name == "manifest.json" and info.isfile():
            continue
        if not info.isfile() or len(parts) < 2 or parts[0] != "data" or ".." in parts:
            raise BackupError(f"damaged archive: unexpected member {info.name!r}")
        names.add(PurePosixPath(*parts[1:]).as_posix())
    return names


def restore(src: Path, data_dir: Path, passphrase: str, pickle_key: str | None,
            known_schema: Callable[[str], int | None]) -> tuple[Manifest, list[str]]:
    """Restore `src` into `data_dir`, which must be absent or empty. Returns the manifest
    and warnings (pickle key that does not open the keys, a schema newer than this casebot).
    """
    if data_dir.exists() and any(data_dir.iterdir()):
        raise BackupError(f"{data_dir} is not empty: restore only into an empty data "
                          "directory (move the old one away first)")
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Staged inside the data directory: the files are then renamed within one filesystem (a
    # container's volume is one of its own, its parent may be read-only).
    with tempfile.TemporaryDirectory(prefix=".casebot-restore-", suffix=".tmp",
                                     dir=data_dir) as tmp:
        into = Path(tmp)
        os.chmod(into, 0o700)
        manifest = read(src, passphrase, into)
        warnings = []
        for component, version in sorted(manifest.schema.items()):
            known = known_schema(component)
            if known is not None and version > known:
                warnings.append(f"the backup's {component} schema is version {version}, this "
                                f"casebot knows {known}: upgrade casebot before running it")
        keys = into / "data" / "cross_signing.keys"
        if keys.exists() and pickle_key:
            try:
                load_keys(keys, pickle_key)
            except CrossSignError:
                warnings.append("CASEBOT_PICKLE_KEY does not open the backed-up keys: set the "
                                "pickle key of the bot that made the backup")
        for item in (into / "data").iterdir():
            os.replace(item, data_dir / item.name)
    secure_tree(data_dir)
    return manifest, warnings
