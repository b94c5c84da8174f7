"""What the in-process throughput work (issue #26 item 5) keeps in memory or defers: queued
writes run before any later statement, in order, and at close; each cache follows the table
it mirrors when that changes, checked against a store that reads the database afresh."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage import CHECKPOINT_TRIPS, Database
from plugins.cases.store import MIGRATIONS as CASE_MIGRATIONS
from plugins.cases.store import Case, CaseStore
from plugins.secrecy.store import MIGRATIONS as SECRECY_MIGRATIONS
from plugins.secrecy.store import SecrecyStore
from plugins.trust.store import MIGRATIONS as TRUST_MIGRATIONS
from plugins.trust.store import TrustStore
from plugins.volunteers.store import MIGRATIONS as VOLUNTEER_MIGRATIONS
from plugins.volunteers.store import VolunteerStore

ROOM = "!room:test"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    opened = await Database.open(tmp_path / "x.db")
    await opened.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, v TEXT NOT NULL)")
    yield opened
    await opened.close()


async def test_queued_writes_run_in_order_before_the_next_read(db: Database) -> None:
    with db.deferring():
        await db.execute_later("INSERT INTO t (n, v) VALUES (1, 'a')")
        await db.execute_later("UPDATE t SET v = 'b' WHERE n = 1")
        await db.executemany_later("INSERT INTO t (n, v) VALUES (?, ?)", [(2, "c"), (3, "d")])
        assert db._pending, "nothing was queued"
    assert [tuple(r) for r in await db.fetchall("SELECT n, v FROM t ORDER BY n")] == [
        (1, "b"), (2, "c"), (3, "d")]
    assert not db._pending


async def test_a_write_outside_an_event_runs_at_once(tmp_path: Path, db: Database) -> None:
    await db.execute_later("INSERT INTO t (n, v) VALUES (1, 'a')")
    assert not db._pending
    with sqlite3.connect(tmp_path / "x.db") as other:
        assert other.execute("SELECT v FROM t").fetchall() == [("a",)]


async def test_a_statement_counts_only_its_own_changes(db: Database) -> None:
    with db.deferring():
        await db.execute_later("INSERT INTO t (n, v) VALUES (1, 'a')")
        await db.execute_later("INSERT INTO t (n, v) VALUES (2, 'a')")
        assert await db.execute("UPDATE t SET v = 'z' WHERE n = 1") == 1


async def test_close_runs_the_queued_writes(tmp_path: Path, db: Database) -> None:
    with db.deferring():
        await db.execute_later("INSERT INTO t (n, v) VALUES (1, 'a')")
    await db.close()
    with sqlite3.connect(tmp_path / "x.db") as other:
        assert other.execute("SELECT v FROM t").fetchall() == [("a",)]


async def test_a_worker_copies_the_wal_into_the_database_file_while_the_bot_runs(
        tmp_path: Path) -> None:
    """Every `CHECKPOINT_TRIPS` trips a worker checkpoints: what was committed is in the
    database file itself, not only in the WAL (SQLite's own checkpoint, now a backstop at
    10,000 pages, would not have run yet); closing waits for it and loses nothing."""
    path = tmp_path / "x.db"
    db = await Database.open(path)
    try:
        await db.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)")
        for n in range(CHECKPOINT_TRIPS - 2):
            await db.execute("INSERT INTO t (n) VALUES (?)", (n,))
        assert await db.fetchval("SELECT count(*) FROM t") == CHECKPOINT_TRIPS - 2  # trip 100
        if db._checkpointing is not None:
            await asyncio.wait([db._checkpointing])
        shutil.copyfile(path, tmp_path / "file-alone.db")  # without its -wal
        alone = sqlite3.connect(tmp_path / "file-alone.db")
        assert alone.execute("SELECT count(*) FROM t").fetchone() == (CHECKPOINT_TRIPS - 2,)
        alone.close()
        await db.execute("INSERT INTO t (n) VALUES (-1)")
    finally:
        await db.close()
    assert "x.db-wal" not in os.listdir(tmp_path)  # the last connection closed deleted it
    assert sqlite3.connect(path).execute("SELECT count(*) FROM t").fetchone() == (
        CHECKPOINT_TRIPS - 1,)


async def test_a_transaction_runs_the_writes_queued_before_it_not_inside_it(
        db: Database) -> None:
    with db.deferring():
        await db.execute_later("INSERT INTO t (n, v) VALUES (1, 'kept')")
        with pytest.raises(RuntimeError):
            async with db.transaction():
                await db.execute_later("INSERT INTO t (n, v) VALUES (2, 'rolled back')")
                raise RuntimeError
    assert [tuple(r) for r in await db.fetchall("SELECT n, v FROM t")] == [(1, "kept")]


async def _trust(path: Path) -> tuple[Database, TrustStore]:
    db = await Database.open(path)
    await db.migrate("trust", TRUST_MIGRATIONS)
    store = TrustStore(db)
    await store.load()
    return db, store


async def test_the_notices_known_follow_new_notices_and_a_restart(tmp_path: Path) -> None:
    db, store = await _trust(tmp_path / "x.db")
    try:
        await store.request("@a:test", "10000000007", ROOM, "$request", 1.0)
        assert await store.by_notice("$notice") is None
        await store.noticed("@a:test", ROOM, "$notice")
        found = await store.by_notice("$notice")
        assert found is not None and found.user_id == "@a:test"
    finally:
        await db.close()
    db, store = await _trust(tmp_path / "x.db")
    try:
        again = await store.by_notice("$notice")
        assert again is not None and again.user_id == "@a:test"
        await store.request("@a:test", "10000000007", ROOM, "$request2", 2.0)
        assert await store.by_notice("$notice") is None, "a new request drops the old notice"
    finally:
        await db.close()


async def _volunteers(path: Path) -> tuple[Database, VolunteerStore]:
    db = await Database.open(path)
    await db.migrate("volunteers", VOLUNTEER_MIGRATIONS)
    return db, VolunteerStore(db)


def _case(number: int) -> Case:
    return Case(ROOM, number, f"$root{number}", f"$card{number}", "@poster:test", ("cardio",),
                "hashtag", "open", 1.0)


async def test_the_rounds_paged_follow_each_round_as_the_table_has_it(tmp_path: Path) -> None:
    db, store = await _volunteers(tmp_path / "x.db")
    try:
        await store.follow(_case(1), ["cardio"], urgent=False)
        assert await store.paged_in_round(ROOM, 1, 1) == []
        await store.record(ROOM, 1, ["@b:test", "@a:test"], 1, 10.0)
        await store.record(ROOM, 1, ["@c:test", "@a:test"], 2, 20.0)  # @a: paged once a case
        await store.record(ROOM, 1, ["@d:test"], 2, 21.0)
        cached = [await store.paged_in_round(ROOM, 1, r) for r in (1, 2, 3)]
        fresh = VolunteerStore(db)
        assert cached == [await fresh.paged_in_round(ROOM, 1, r) for r in (1, 2, 3)]
        assert cached == [["@a:test", "@b:test"], ["@c:test", "@d:test"], []]
    finally:
        await db.close()


async def test_a_followed_case_changed_is_the_row_read_afresh(tmp_path: Path) -> None:
    db, store = await _volunteers(tmp_path / "x.db")
    try:
        await store.follow(_case(1), ["cardio"], urgent=False)
        with db.deferring():
            await store.update_case(ROOM, 1, considered=["cardio", "pneumo"], round=2,
                                    due=99.0, stopped=1, open=0, taken_by="@t:test",
                                    card_event_id="$card2")
            cached = await store.get(ROOM, 1)
        assert cached == await VolunteerStore(db).get(ROOM, 1)
        assert cached is not None and cached.round == 2 and cached.stopped is True
    finally:
        await db.close()


async def test_a_statement_that_fails_keeps_the_writes_queued_before_it(db: Database) -> None:
    """The queued writes and the statement share a transaction: the statement's own error
    (here a constraint) is the caller's, and the writes before it stay."""
    await db.execute("INSERT INTO t (n, v) VALUES (1, 'a')")
    with db.deferring():
        await db.execute_later("INSERT INTO t (n, v) VALUES (2, 'b')")
        with pytest.raises(sqlite3.IntegrityError):
            await db.execute("INSERT INTO t (n, v) VALUES (1, 'again')")
    assert [tuple(r) for r in await db.fetchall("SELECT n, v FROM t ORDER BY n")] == [
        (1, "a"), (2, "b")]


async def test_writes_the_storage_refused_are_tried_again(db: Database) -> None:
    """A full disk (SQLITE_FULL) on a queued write: nothing of the group is kept, the caller
    learns the storage is unavailable, and the next statement runs them all once it can."""
    from bot.storage import StorageUnavailable

    real = db._statement
    full = True

    def statement(conn: sqlite3.Connection, sql: str, *args: object) -> sqlite3.Cursor:
        if full and sql.startswith("INSERT INTO t (n, v) VALUES (3"):
            exc = sqlite3.OperationalError("database or disk is full")
            exc.sqlite_errorcode = sqlite3.SQLITE_FULL  # type: ignore[attr-defined]
            raise exc
        return real(conn, sql, *args)  # type: ignore[arg-type]

    db._statement = statement  # type: ignore[method-assign]
    with db.deferring():
        await db.execute_later("INSERT INTO t (n, v) VALUES (2, 'b')")
        await db.execute_later("INSERT INTO t (n, v) VALUES (3, 'c')")
        with pytest.raises(StorageUnavailable):
            await db.execute("INSERT INTO t (n, v) VALUES (4, 'd')")
    assert len(db._pending) == 2, "the refused writes are not queued again"
    full = False
    await db.execute("INSERT INTO t (n, v) VALUES (4, 'd')")
    assert [r[0] for r in await db.fetchall("SELECT n FROM t ORDER BY n")] == [2, 3, 4]


async def _cases(path: Path) -> tuple[Database, CaseStore]:
    db = await Database.open(path)
    await db.migrate("cases", CASE_MIGRATIONS)
    return db, CaseStore(db)


async def test_a_reply_recorded_twice_counts_once_in_a_case_opened_here_or_before(
        tmp_path: Path) -> None:
    """A case this store opened records its messages with no trip of their own (queued) and
    knows a message it already kept; one opened before (by an earlier run's store) asks the
    database. Either way a replayed message counts once, in memory and in the table."""
    db, store = await _cases(tmp_path / "x.db")
    try:
        before = await store.open_case(ROOM, "$old", "@poster:test", ["cardio"], "hashtag", 1.0)
        store = CaseStore(db)  # a restart: `$old` was opened by the previous run
        new = await store.open_case(ROOM, "$new", "@poster:test", ["cardio"], "hashtag", 2.0)
        for case in (before, new):
            for _ in range(2):
                with db.deferring():
                    trips = db.trips
                    case = await store.add_reply(case, f"{case.root_event_id}:r", "@doc:test",
                                                 5.0, counts=True)
                    queued = db.trips == trips
                assert queued is (case.number == new.number)
            assert case.replies == 1 and case.first_reply_by == "@doc:test"
        fresh = CaseStore(db)
        for case in (before, new):
            assert await fresh.get(ROOM, case.number) == await store.get(ROOM, case.number)
            assert await db.fetchval("SELECT COUNT(*) FROM case_replies WHERE number = ?",
                                     (case.number,)) == 1
    finally:
        await db.close()


async def test_a_case_opened_again_for_its_root_is_the_first_one(tmp_path: Path) -> None:
    """A replayed `!case` (its root already a case, opened by an earlier run) gets that case
    back, and its messages are then checked in the database (not known to be new)."""
    db, store = await _cases(tmp_path / "x.db")
    try:
        first = await store.open_case(ROOM, "$root", "@poster:test", ["cardio"], "hashtag", 1.0)
        await store.add_reply(first, "$r", "@doc:test", 5.0, counts=True)
        store = CaseStore(db)
        again = await store.open_case(ROOM, "$root", "@poster:test", [], "none", 9.0)
        assert (again.number, again.opened_at, again.replies) == (first.number, 1.0, 1)
        again = await store.add_reply(again, "$r", "@doc:test", 5.0, counts=True)
        assert again.replies == 1
        assert await store.by_root(ROOM, "$r") is None  # a thread message starts no case
    finally:
        await db.close()


async def test_a_member_greeted_once_is_not_greeted_again_even_after_a_restart(
        tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "x.db")
    try:
        await db.migrate("secrecy", SECRECY_MIGRATIONS)
        store = SecrecyStore(db)
        assert await store.first_time(ROOM, "@a:test") is True
        trips = db.trips
        assert await store.first_time(ROOM, "@a:test") is False
        assert db.trips == trips  # known here: no trip
        assert await SecrecyStore(db).first_time(ROOM, "@a:test") is False
        assert await store.first_time(ROOM, "@b:test") is True
    finally:
        await db.close()


async def test_a_new_case_is_followed_with_no_trip_and_a_replayed_one_keeps_its_row(
        tmp_path: Path) -> None:
    """Cases are numbered upwards and never deleted: one above the highest followed is new
    (its row queued); one at or below it (a replay after a restart) keeps the row it has."""
    db, store = await _volunteers(tmp_path / "x.db")
    try:
        await store.follow(_case(1), ["cardio"], urgent=False)  # reads the highest: none
        await store.update_case(ROOM, 1, round=3)
        with db.deferring():
            trips = db.trips
            await store.follow(_case(2), ["cardio"], urgent=True)
            assert db.trips == trips
        store = VolunteerStore(db)  # a restart, then both cases replayed
        for number in (1, 2):
            before = await VolunteerStore(db).get(ROOM, number)
            await store.follow(_case(number), ["pneumo"], urgent=False)
            assert await store.get(ROOM, number) == before
        assert before is not None and before.urgent is True
        assert (await store.get(ROOM, 1)).round == 3  # type: ignore[union-attr]
    finally:
        await db.close()
