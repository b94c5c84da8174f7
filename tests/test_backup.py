"""`casebot backup` / `restore` on real files: SQLite copies, encryption, checks, refusals.
(The live run — back up a running bot, wipe, restore, run again — is in test_live_ops.py.)"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import secrets
import sqlite3
import stat
import tarfile
import tempfile
from pathlib import Path

import pytest
from Crypto.Cipher import AES
from Crypto.Protocol.KDF import scrypt

from bot.__main__ import main
from bot.backup import MAGIC, BackupError, Manifest, backup, read, restore
from bot.crosssign import CrossSigningKeys, load_keys, save_keys, unpadded_b64
from bot.storage import Database
from bot.testing import Harness
from plugins.cases import Cases
from plugins.specialties import Specialties

PICKLE = "pickle-key"
PASS = "correct horse battery staple"


async def make_data_dir(root: Path) -> Path:
    data = root / "data"
    async with Harness([Specialties, Cases], db_path=data / "casebot.db") as h:
        h.add_room("!r:test", members=["@alice:test"])
        await h.say("@alice:test", "!case Toux chronique #pneumo", room="!r:test")
    (data / "credentials.json").write_text(json.dumps(
        {"homeserver": "http://hs", "user_id": "@bot:test", "device_id": "BOTDEVICE",
         "access_token": "syt_secret"}))
    save_keys(data / "cross_signing.keys", CrossSigningKeys.generate(), PICKLE)
    (data / "store").mkdir()
    store = sqlite3.connect(data / "store" / "@bot:test_BOTDEVICE.db")
    store.execute("CREATE TABLE accounts (pickle TEXT)")
    store.execute("INSERT INTO accounts VALUES ('olm-account-pickle')")
    store.commit()
    store.close()
    return data


def known(component: str) -> int | None:
    return 99


async def test_round_trip_keeps_every_file_and_sets_owner_only(tmp_path: Path) -> None:
    data = await make_data_dir(tmp_path)
    archive = tmp_path / "bot.backup"
    made = backup(data, archive, PASS)
    assert made.device_id == "BOTDEVICE" and made.user_id == "@bot:test"
    assert next(iter(made.files)) == "casebot.db"
    assert made.schema["cases"] == len(Cases.migrations)
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    raw = archive.read_bytes()
    assert raw.startswith(MAGIC) and b"syt_secret" not in raw and b"BOTDEVICE" not in raw
    target = tmp_path / "new" / "data"
    manifest, warnings = restore(archive, target, PASS, PICKLE, known)
    assert warnings == [] and manifest.files == made.files
    assert json.loads((target / "credentials.json").read_text())["device_id"] == "BOTDEVICE"
    assert load_keys(target / "cross_signing.keys", PICKLE) is not None
    store = sqlite3.connect(target / "store" / "@bot:test_BOTDEVICE.db")
    assert store.execute("SELECT pickle FROM accounts").fetchall() == [("olm-account-pickle",)]
    db = sqlite3.connect(target / "casebot.db")
    assert db.execute("SELECT number, specialties FROM cases").fetchall() == [(1, "pneumo")]
    assert db.execute("SELECT count(*) FROM timers").fetchone()[0] >= 1
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    for path in target.rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path


async def test_a_backup_taken_while_the_bot_writes_holds_what_was_committed(
        tmp_path: Path) -> None:
    data = await make_data_dir(tmp_path)
    db = await Database.open(data / "casebot.db")  # WAL mode: commits sit in the -wal file
    try:
        await db.execute("INSERT INTO kv (key, value) VALUES ('sync_token', 's42')")
        assert (data / "casebot.db-wal").stat().st_size > 0
        backup(data, tmp_path / "live.backup", PASS)
    finally:
        await db.close()
    into = tmp_path / "out"
    into.mkdir()
    read(tmp_path / "live.backup", PASS, into)
    assert not list((into / "data").glob("*-wal"))
    copy = sqlite3.connect(into / "data" / "casebot.db")
    assert copy.execute("SELECT value FROM kv WHERE key = 'sync_token'").fetchone() == ("s42",)


async def test_wrong_passphrase_and_altered_archives_are_refused(tmp_path: Path) -> None:
    data = await make_data_dir(tmp_path)
    archive = tmp_path / "bot.backup"
    backup(data, archive, PASS)
    with pytest.raises(BackupError, match="wrong passphrase"):
        restore(archive, tmp_path / "a", "not it", PICKLE, known)
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").iterdir())
    raw = bytearray(archive.read_bytes())
    raw[len(raw) // 2] ^= 1
    (tmp_path / "altered.backup").write_bytes(bytes(raw))
    with pytest.raises(BackupError, match="damaged or altered"):
        restore(tmp_path / "altered.backup", tmp_path / "b", PASS, PICKLE, known)
    (tmp_path / "short.backup").write_bytes(bytes(raw[:len(MAGIC) + 40]))
    with pytest.raises(BackupError):
        restore(tmp_path / "short.backup", tmp_path / "c", PASS, PICKLE, known)
    (tmp_path / "other.backup").write_bytes(b"PK\x03\x04 not ours")
    with pytest.raises(BackupError, match="not a casebot backup"):
        restore(tmp_path / "other.backup", tmp_path / "d", PASS, PICKLE, known)


async def test_restore_refuses_a_non_empty_data_dir_and_warns_of_mismatches(
        tmp_path: Path) -> None:
    data = await make_data_dir(tmp_path)
    archive = tmp_path / "bot.backup"
    backup(data, archive, PASS)
    with pytest.raises(BackupError, match="not empty"):
        restore(archive, data, PASS, PICKLE, known)
    _manifest, warnings = restore(archive, tmp_path / "e", PASS, "another pickle key",
                                  lambda component: 0)
    assert any("CASEBOT_PICKLE_KEY does not open" in w for w in warnings)
    assert any("upgrade casebot" in w for w in warnings)
    with pytest.raises(BackupError, match=r"no casebot\.db"):
        backup(tmp_path / "e" / "store", tmp_path / "x.backup", PASS)
    with pytest.raises(BackupError, match="empty passphrase"):
        backup(data, tmp_path / "x.backup", "")
    with pytest.raises(BackupError, match="at least 12 characters"):
        backup(data, tmp_path / "x.backup", "hunter2")  # minutes of guessing, scrypt or not
    assert not (tmp_path / "x.backup").exists()
    backup(data, tmp_path / "x.backup", "twelve chars")
    backup(data, data / "first.backup", PASS)  # an archive left in the data directory
    assert "first.backup" not in backup(data, data / "second.backup", PASS).files


async def cli_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data directory, its config file and the command line's secrets in the environment:
    the config's path."""
    await make_data_dir(tmp_path)
    config = tmp_path / "config.yaml"
    config.write_text("matrix: {user_id: '@bot:test'}\ndata_dir: data\n")
    monkeypatch.setenv("CASEBOT_BACKUP_PASSPHRASE", PASS)
    monkeypatch.setenv("CASEBOT_PICKLE_KEY", PICKLE)
    return config


async def test_cli_backup_and_restore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    config = await cli_setup(tmp_path, monkeypatch)
    (tmp_path / "backups").mkdir()
    assert main(["backup", str(tmp_path / "backups"), "-c", str(config)]) == 0
    [archive] = (tmp_path / "backups").iterdir()
    assert "device BOTDEVICE" in capsys.readouterr().out
    assert main(["restore", str(archive), "-c", str(config)]) == 1
    assert "not empty" in capsys.readouterr().err
    other = tmp_path / "other.yaml"
    other.write_text("matrix: {user_id: '@bot:test'}\ndata_dir: fresh\n")
    assert main(["restore", str(archive), "-c", str(other)]) == 0
    out = capsys.readouterr()
    assert "Restored 4 files" in out.out and out.err == ""
    assert (tmp_path / "fresh" / "casebot.db").exists()


def seal(members: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    """An archive in casebot's format (right passphrase, valid tag) holding `members`: what a
    hostile or broken archive looks like once the encryption is no obstacle."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return seal_bytes(raw.getvalue())


def seal_bytes(plain: bytes) -> bytes:
    params = {"n": 2**10, "r": 8, "p": 1}
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    header = MAGIC + json.dumps({"format": 1, "kdf": "scrypt", **params,
                                 "salt": unpadded_b64(salt), "nonce": unpadded_b64(nonce),
                                 "cipher": "aes-256-gcm"}).encode() + b"\n"
    cipher = AES.new(scrypt(PASS, salt, 32, N=2**10, r=8, p=1), AES.MODE_GCM, nonce=nonce)
    cipher.update(header)
    body, tag = cipher.encrypt_and_digest(plain)
    return header + body + tag


def member(name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE,
           link: str = "") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, link, 0o600
    return info, data


def good_members() -> list[tuple[tarfile.TarInfo, bytes]]:
    db = b"not really sqlite"
    manifest = {"format": 1, "created": 0.0, "user_id": "@bot:test", "device_id": "D",
                "schema": {}, "files": {"casebot.db": {
                    "sha256": hashlib.sha256(db).hexdigest(), "size": len(db),
                    "sqlite": False}}}
    return [member("manifest.json", json.dumps(manifest).encode()),
            member("data/casebot.db", db)]


@pytest.mark.parametrize("bad", [
    member("data/store", kind=tarfile.SYMTYPE, link=".."),
    member("data/keys", kind=tarfile.SYMTYPE, link="casebot.db"),
    member("data/copy", kind=tarfile.LNKTYPE, link="data/casebot.db"),
    member("/tmp/casebot-evil", b"x"),
    member("data/../../evil", b"x"),
    member("data/tty", kind=tarfile.CHRTYPE),
    member("data/fifo", kind=tarfile.FIFOTYPE),
    member("data/unlisted.json", b"{}"),
], ids=["symlink-out", "symlink-in", "hardlink", "absolute", "dotdot", "device", "fifo",
        "not-in-manifest"])
def test_restore_refuses_links_devices_paths_out_and_unlisted_files(
        tmp_path: Path, bad: tuple[tarfile.TarInfo, bytes]) -> None:
    archive = tmp_path / "hostile.backup"
    archive.write_bytes(seal([*good_members(), bad]))
    target = tmp_path / "restored" / "data"
    with pytest.raises(BackupError, match="damaged"):
        restore(archive, target, PASS, None, known)
    assert not target.exists() or not any(target.iterdir())
    assert {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")} <= {
        "hostile.backup", "restored", "restored/data"}  # the target, empty, at most
    assert not Path("/tmp/casebot-evil").exists()


def test_a_sound_handmade_archive_restores(tmp_path: Path) -> None:
    """The hostile archives above differ from this one only by their bad member."""
    archive = tmp_path / "fine.backup"
    archive.write_bytes(seal(good_members()))
    manifest, _warnings = restore(archive, tmp_path / "restored", PASS, None, known)
    assert (tmp_path / "restored" / "casebot.db").read_bytes() == b"not really sqlite"
    assert list(manifest.files) == ["casebot.db"]


def test_an_archive_that_decrypts_to_garbage_is_a_clear_error(tmp_path: Path) -> None:
    for name, sealed in (("notgz", seal_bytes(b"garbage" * 9)),
                         ("nomanifest", seal([member("data/casebot.db", b"x")])),
                         ("badmanifest", seal([member("manifest.json", b'{"format": 1}')]))):
        archive = tmp_path / f"{name}.backup"
        archive.write_bytes(sealed)
        with pytest.raises(BackupError, match="damaged"):
            restore(archive, tmp_path / name, PASS, None, known)


def test_kdf_parameters_read_from_a_header_are_bounded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A header asking for terabytes of scrypt memory (or years of work) is refused before
    any work, not obeyed."""
    import bot.backup

    def costly(*args: object, **kwargs: object) -> bytes:
        raise AssertionError(f"scrypt ran with {kwargs}")

    for kdf in ({"n": 2**40}, {"r": 2**20}, {"p": 2**20}):
        archive = tmp_path / "costly.backup"
        archive.write_bytes(seal(good_members()))
        raw = archive.read_bytes()
        header_end = raw.index(b"\n", len(MAGIC)) + 1
        params = json.loads(raw[len(MAGIC):header_end])
        params.update(kdf)
        archive.write_bytes(MAGIC + json.dumps(params).encode() + b"\n" + raw[header_end:])
        monkeypatch.setattr(bot.backup, "scrypt", costly)
        with pytest.raises(BackupError, match="damaged header"):
            restore(archive, tmp_path / "x", PASS, None, known)
        monkeypatch.undo()


async def test_backup_stages_nothing_in_the_system_temp_dir(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The staged copies (access token in clear, crypto store) stay beside the data they
    copy, never in /tmp where a crash would leave them; and they are not backed up."""
    import bot.backup

    data = await make_data_dir(tmp_path)
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    seen: list[list[Path]] = []
    real = bot.backup.snapshot

    def watched(data_dir: Path, stage: Path) -> Manifest:
        made = real(data_dir, stage)
        seen.append(list(system_tmp.rglob("*")))
        assert stat.S_IMODE(stage.stat().st_mode) == 0o700
        return made

    monkeypatch.setattr(bot.backup, "snapshot", watched)

    def listing() -> list[str]:  # SQLite's own -wal and -shm come and go
        return sorted(p.relative_to(data).as_posix() for p in data.rglob("*")
                      if not p.name.endswith(("-wal", "-shm")))

    before = listing()
    made = backup(data, tmp_path / "bot.backup", PASS)
    assert seen == [[]]
    assert sorted(made.files) == [p for p in before if (data / p).is_file()]
    assert listing() == before


async def test_the_archive_is_owner_only_whatever_was_left_at_its_partial_name(
        tmp_path: Path) -> None:
    data = await make_data_dir(tmp_path)
    dest = tmp_path / "bot.backup"
    partial = tmp_path / "bot.backup.tmp"
    partial.write_bytes(b"left by a crash")
    os.chmod(partial, 0o644)
    backup(data, dest, PASS)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    partial.symlink_to(victim)
    backup(data, dest, PASS)
    assert victim.read_bytes() == b"precious"
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600 and not dest.is_symlink()


async def test_restore_into_a_mounted_data_dir(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A container's data directory is a volume: a file cannot be renamed into it from the
    parent's filesystem (EXDEV), and the parent may be read-only. Restore works within it."""
    data = await make_data_dir(tmp_path)
    archive = tmp_path / "bot.backup"
    backup(data, archive, PASS)
    volume = tmp_path / "volume"
    volume.mkdir()
    real = os.replace

    def across_mounts(src: object, dst: object) -> None:
        inside = [Path(str(p)).resolve().is_relative_to(volume) for p in (src, dst)]
        if inside[0] != inside[1]:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", across_mounts)
    manifest, _warnings = restore(archive, volume, PASS, PICKLE, known)
    assert sorted(p.name for p in volume.iterdir()) == sorted(
        {rel.split("/")[0] for rel in manifest.files})
    assert json.loads((volume / "credentials.json").read_text())["device_id"] == "BOTDEVICE"
    assert sorted(os.listdir(tmp_path)) == ["bot.backup", "data", "volume"]
