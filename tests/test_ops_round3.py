"""Operations, round three (issue #25 items 7, 8, 10): a directory import beside the running
bot, the memory bound of photos, backups into a missing directory, doctor's temporary copy,
edits whose identifiers are only in their HTML, and the bot removed from a room."""

from __future__ import annotations

import asyncio
import sqlite3
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from bench.directory import write_extract
from bot.__main__ import main
from plugins.secrecy.photo import clean, inspect
from plugins.trust.cli import _prepare
from plugins.trust.directory import BATCH, import_directory
from tests.test_matrix_layers import BOT, INITIAL, ROOM, ev, sync, transport  # noqa: F401


# ---- item 7: a directory import beside the running bot ----------------------------------
def _directory(db: Path) -> tuple[int, list[str]]:
    conn = sqlite3.connect(db)
    try:
        count = conn.execute("SELECT COUNT(*) FROM trust_directory").fetchone()[0]
        indexes = [r[0] for r in conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")]
        return int(count), indexes
    finally:
        conn.close()


def _tables(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = "
                                           "'table' AND name LIKE 'trust_directory%' ORDER BY 1")]
    finally:
        conn.close()


def _with_a_directory(tmp_path: Path) -> tuple[Path, Path, int]:
    """A bot's database holding a first directory of 3,000 physicians: the database, the
    extract it came from, and its count."""
    db = tmp_path / "casebot.db"
    asyncio.run(_prepare(db))
    old = tmp_path / "old.txt"
    write_extract(old, 3_000, seed=3)
    return db, old, import_directory(old, db).physicians


def test_the_bot_writes_and_reads_the_old_directory_while_an_import_runs(
        tmp_path: Path) -> None:
    db, old, before = _with_a_directory(tmp_path)
    new = tmp_path / "new.txt"
    physicians = write_extract(new, 4 * BATCH, seed=4)
    seen: list[int] = []

    def bot_turn(done: int, total: int) -> None:
        # What the bot does between two batches: write at once (no waiting at all) and
        # read the directory it had.
        bot = sqlite3.connect(db, isolation_level=None, timeout=0)
        try:
            bot.execute("BEGIN IMMEDIATE")
            bot.execute("INSERT INTO trust_reports VALUES ('!r', ?, '@a', 0)", (f"${len(seen)}",))
            bot.execute("COMMIT")
            seen.append(bot.execute("SELECT COUNT(*) FROM trust_directory").fetchone()[0])
        finally:
            bot.close()

    result = import_directory(new, db, bot_turn)
    assert result.physicians == physicians != before
    assert len(seen) >= 3 and seen[:-1] == [before] * (len(seen) - 1)  # every batch
    assert seen[-1] == physicians  # after the swap
    count, indexes = _directory(db)
    assert count == physicians
    # The name index is there after the swap, and again after a second import.
    assert len([i for i in indexes if "(name_key)" in i]) == 1
    import_directory(old, db)
    count, indexes = _directory(db)
    assert count == before and len([i for i in indexes if "(name_key)" in i]) == 1
    assert _tables(db) == ["trust_directory", "trust_directory_meta"]


def test_an_interrupted_import_leaves_the_old_directory_and_no_half_table(
        tmp_path: Path) -> None:
    db, _, before = _with_a_directory(tmp_path)
    new = tmp_path / "new.txt"
    write_extract(new, 3 * BATCH, seed=4)

    def stop(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_directory(new, db, stop)
    assert _directory(db)[0] == before
    assert _tables(db) == ["trust_directory", "trust_directory_meta"]


def test_a_second_import_at_once_is_refused_and_the_first_unharmed(tmp_path: Path) -> None:
    from plugins.trust.directory import DirectoryError

    db = tmp_path / "casebot.db"
    asyncio.run(_prepare(db))
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    physicians = write_extract(first, 3 * BATCH, seed=3)
    write_extract(second, 3_000, seed=4)
    refused: list[str] = []

    def meanwhile(done: int, total: int) -> None:
        if not refused:
            with pytest.raises(DirectoryError) as error:
                import_directory(second, db)
            refused.append(str(error.value))

    assert import_directory(first, db, meanwhile).physicians == physicians
    assert refused and "another directory import is running" in refused[0]
    assert _directory(db)[0] == physicians


# ---- item 8: the memory of one photo, by bytes per pixel -------------------------------------
def grey16_png(width: int, height: int) -> bytes:
    """A 16-bit grey PNG of zeros, written row by row: ~100 KB for 49 MP, never decoded here."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    row = bytes(1 + 2 * width)  # filter byte, then two bytes a pixel
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 16, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat)
            + chunk(b"IEND", b""))


def test_a_16_bit_photo_is_bounded_by_its_bytes_not_its_pixels() -> None:
    # 49 MP is under the pixel limit, but at 16 bits a pixel (then 32 bits to stretch it)
    # cleaning it grew the process by ~450-670 MiB: it is now read for its metadata only.
    big = grey16_png(7000, 7000)
    assert len(big) < 200_000
    assert clean(big) is None
    assert inspect(big).kinds == frozenset()
    # A 16-bit X-ray of ordinary size is still cleaned.
    small = clean(grey16_png(1600, 1200))
    assert small is not None and (small.width, small.height) == (1600, 1200)


# ---- item 10: `casebot backup` into a missing directory ---------------------------------------
async def test_backup_into_a_missing_directory_says_so_and_creates_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from tests.test_backup import cli_setup

    config = await cli_setup(tmp_path, monkeypatch)
    missing = tmp_path / "backups"
    for dest in (missing / "bot.backup", f"{missing}/"):
        assert main(["backup", str(dest), "-c", str(config)]) == 1
        err = capsys.readouterr().err
        assert f"{missing} does not exist" in err and "mkdir -m 700" in err
        assert "Traceback" not in err
    assert not missing.exists()
    missing.mkdir()
    assert main(["backup", f"{missing}/", "-c", str(config)]) == 0
    assert [p.suffix for p in missing.iterdir()] == [".backup"]


# ---- item 10: doctor's copy of the crypto store -------------------------------------------
def test_doctor_copies_the_crypto_store_inside_the_data_directory_owner_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import stat
    import tempfile

    from nio.crypto import OlmAccount
    from nio.store import DefaultStore

    from bot.matrix import inspect as doctor_matrix

    data, shared_tmp = tmp_path / "data", tmp_path / "system-tmp"
    (data / "store").mkdir(parents=True)
    shared_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(shared_tmp))
    real = DefaultStore("@bot:test", "BOTDEVICE", str(data / "store"), "pickle")
    real.save_account(OlmAccount())
    real.database.close()
    opened: list[tuple[Path, int]] = []

    class Spy(DefaultStore):
        def __init__(self, user_id: str, device_id: str, path: str, key: str) -> None:
            opened.append((Path(path), stat.S_IMODE(os.stat(path).st_mode)))
            super().__init__(user_id, device_id, path, key)

    monkeypatch.setattr(doctor_matrix, "DefaultStore", Spy)
    found = doctor_matrix._read_store(data / "store", "@bot:test", "BOTDEVICE", "pickle")
    assert found.identity
    [(where, mode)] = opened
    assert where.parent == data and mode == 0o700
    assert not where.exists()  # removed after
    assert list(shared_tmp.iterdir()) == []
    assert sorted(p.name for p in data.iterdir()) == ["store"]


async def test_doctor_says_so_when_it_cannot_write_in_the_data_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    from bot.config import Config
    from bot.doctor import Report
    from bot.matrix import inspect as doctor_matrix
    from bot.matrix.session import Credentials

    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "@bot:test_BOTDEVICE.db").write_bytes(b"")

    def refused(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "TemporaryDirectory", refused)
    report = Report()
    creds = Credentials("http://hs", "@bot:test", "BOTDEVICE", "token")
    assert await doctor_matrix._store(Config(data_dir=tmp_path), creds, "k", {}, report) is None
    [finding] = report.findings
    assert finding.level == "error" and "cannot copy the crypto store" in finding.message
    assert "bot's own user" in finding.fix


# ---- item 10: identifiers only in an edit's HTML ----------------------------------------------
def test_an_edits_html_reaches_the_bot() -> None:
    from bot.events import Edit
    from bot.matrix.convert import convert

    source = {"type": "m.room.message", "event_id": "$e", "sender": "@d:test",
              "origin_server_ts": 1, "content": {
                  "msgtype": "m.text", "body": "* voir ci-dessous",
                  "m.new_content": {"msgtype": "m.text", "body": "voir ci-dessous",
                                    "format": "org.matrix.custom.html",
                                    "formatted_body": "voir <b>06 12 34 56 78</b>"},
                  "m.relates_to": {"rel_type": "m.replace", "event_id": "$orig"}}}
    edit = convert(source, "!r:test", decrypted=True)
    assert isinstance(edit, Edit) and edit.formatted_body == "voir <b>06 12 34 56 78</b>"
    source["content"]["m.new_content"]["formatted_body"] = ["not", "text"]
    edit = convert(source, "!r:test", decrypted=True)
    assert isinstance(edit, Edit) and edit.formatted_body is None


async def test_an_identifier_only_in_an_edits_html_is_warned_without_echo() -> None:
    from bot.events import Edit
    from bot.testing import Harness
    from plugins.cases import Cases
    from plugins.secrecy.plugin import Secrecy
    from plugins.specialties import Specialties

    room, poster, doc = "!room:test", "@alice:test", "@bob:test"
    async with Harness([Specialties, Cases, Secrecy]) as h:
        h.add_room(room, members=[poster, doc])
        root = await h.say(poster, "!case Femme 45 ans, plaques des coudes, psoriasis ?")
        reply = await h.say(doc, "Je peux la voir", thread_root=root)
        before = len(h.sent)
        # The body stays clean; the HTML, which Element shows, holds the phone number.
        await h.deliver(Edit(room, "$edit1", doc, 2, reply, "Je peux la voir, appelez-la",
                             thread_root=root, formatted_body=(
                                 "Je peux la voir, appelez-la au <b>06 12 34 56 78</b>")))
        warned = h.sent[before:]
        assert len(warned) == 1 and "un numéro de téléphone" in warned[0].body
        assert "06 12" not in warned[0].body and "56 78" not in (warned[0].html or "")
        # The root's edit too (its HTML keeps the command: only its text is compared).
        before = len(h.sent)
        await h.deliver(Edit(room, "$edit2", poster, 3, root,
                             "!case Femme 45 ans, plaques des coudes, psoriasis ?",
                             formatted_body="!case Femme 45 ans, née le <i>12/03/1980</i>"))
        assert [s for s in h.sent[before:] if "une date de naissance" in s.body]


# ---- item 10: a bot kicked or banned forgets the room ------------------------------------------
def left(batch: str, membership: str) -> Any:
    """A sync whose `leave` section says the bot was removed from ROOM (kick or ban)."""
    from nio import SyncResponse

    removal = ev("m.room.member", {"membership": membership}, sender="@alice:test",
                 state_key=BOT)
    return SyncResponse.from_dict({
        "next_batch": batch,
        "rooms": {"join": {}, "invite": {}, "leave": {ROOM: {
            "state": {"events": []},
            "timeline": {"events": [removal], "limited": False, "prev_batch": "p"}}}},
        "to_device": {"events": []}, "presence": {"events": []},
        "account_data": {"events": []}, "device_lists": {"changed": [], "left": []},
        "device_one_time_keys_count": {},
    })


@pytest.mark.parametrize("membership", ["leave", "ban"])
async def test_a_kicked_or_banned_bot_forgets_the_room(transport: Any,  # noqa: F811
                                                       membership: str) -> None:
    from bot.events import NotInRoom

    assert ROOM in transport.room_ids() and transport.room(ROOM) is not None
    await transport.client.receive_response(left("s2", membership))
    assert ROOM not in transport.room_ids()
    assert transport.room(ROOM) is None  # no members, no powers as they were
    with pytest.raises(NotInRoom):  # refused without a request
        await transport.send(ROOM, "m.room.message", {"msgtype": "m.notice", "body": "x"},
                             "txn-1")
    # Invited and joined again: the whole state comes back with the join.
    await transport.client.receive_response(sync("s3", state=INITIAL))
    assert ROOM in transport.room_ids() and transport.room(ROOM).name == "Cas cliniques"


async def test_a_timer_whose_room_the_bot_left_is_dropped_not_retried() -> None:
    from bot.events import NotInRoom
    from bot.plugin import Fired
    from bot.scheduler import MIGRATIONS, Scheduler
    from bot.storage import Database

    db = await Database.open(":memory:")
    await db.migrate("scheduler", MIGRATIONS)
    fired: list[str] = []

    async def fire(timer: Fired, attempts: int) -> None:
        fired.append(timer.key)
        if timer.key == "gone":
            raise NotInRoom("send refused: the bot is not in !r:test")
        raise RuntimeError("the homeserver said no")

    scheduler = Scheduler(db, lambda: 100.0, fire)
    await scheduler.schedule("cases", "gone", 50.0)
    await scheduler.schedule("cases", "failing", 50.0)
    await scheduler.run_due()
    rows = await db.fetchall("SELECT key, attempts FROM timers")
    assert fired == ["failing", "gone"]  # by due time, component, key
    assert [tuple(r) for r in rows] == [("failing", 1)]  # only the other one is retried
    await db.close()
