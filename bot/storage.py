"""SQLite through aiosqlite, with per-component migrations.

Each component (the core, each plugin) owns its tables and a `schema_version` row. Steps run
in order, each in its own transaction; a database newer than the code is refused rather than
guessed at. One connection serves the whole bot: statements are serialized by a lock so a
transaction of one task never swallows another task's statements (a second one, in a worker
thread, only checkpoints the WAL: see `CHECKPOINT_TRIPS`).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from bot.events import Unavailable


@dataclass(frozen=True, slots=True)
class Migration:
    """One named step of a component's schema: an SQL script, or a coroutine function given
    the database. Steps run once each, in order, each in its own transaction."""

    description: str
    run: str | Callable[[Database], Awaitable[None]]


Step = Migration | str | Callable[["Database"], Awaitable[None]]
"""A migration step: named (`Migration`), or a bare SQL script or coroutine function."""

log = logging.getLogger(__name__)

_in_tx: contextvars.ContextVar[bool] = contextvars.ContextVar("casebot_in_tx", default=False)
_deferring: contextvars.ContextVar[bool] = contextvars.ContextVar("casebot_deferring",
                                                                  default=False)
Params = Sequence[Any] | dict[str, Any]
Pending = tuple[str, Params | Iterable[Sequence[Any]], bool]
"""A queued write: (sql, parameters, whether it is an executemany)."""


CHECKPOINT_TRIPS = 100
"""Trips to aiosqlite's thread between two checkpoints (the WAL's pages copied into the
database file), each run in a worker thread on a connection of its own, passive (writers go
on meanwhile). SQLite's own ran inside the commit that crossed 1,000 pages of WAL: the event
being handled waited for its two fsyncs and its copy, ~4 ms every ~90 events of the
in-process benchmark's mix (~40 µs per event)."""
BACKSTOP_PAGES = 10_000
"""SQLite's own checkpoint, in a commit, once the WAL holds this many pages (~40 MiB):
when the worker's have not caught up (writes never paused long enough for one to finish,
then little is left to copy) or failed."""


class SchemaTooNew(RuntimeError):
    """The database was written by a newer casebot; refuse to touch it."""


class StorageUnavailable(Unavailable):
    """The database cannot be used now (read-only, disk full, I/O error, locked): the
    caller keeps what it was doing and retries later, rather than losing it."""


_UNAVAILABLE = {5: "locked", 6: "locked", 8: "read-only", 10: "I/O error", 13: "disk full",
                14: "cannot open the file"}
"""SQLite's primary result codes that say the storage, not the statement, is at fault."""


def _unavailable(exc: sqlite3.Error) -> StorageUnavailable | None:
    """The `StorageUnavailable` an SQLite error means, if the storage is at fault."""
    code = getattr(exc, "sqlite_errorcode", None)
    reason = _UNAVAILABLE.get(code & 0xFF) if isinstance(code, int) else None
    return None if reason is None else StorageUnavailable(
        f"the database cannot be used ({reason})")


@asynccontextmanager
async def _storage_errors() -> AsyncIterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        if (unavailable := _unavailable(exc)) is None:
            raise
        raise unavailable from None


class _Unqueued(Exception):
    """A queued write failed after `done` of them went through."""

    def __init__(self, done: int, error: sqlite3.Error) -> None:
        super().__init__(done)
        self.done, self.error = done, error


class Database:
    def __init__(self, conn: aiosqlite.Connection, path: Path | None = None) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self._pending: list[Pending] = []
        self.trips = 0
        """Trips to aiosqlite's thread so far (the benchmark counts them)."""
        self._path = path
        """The database's file (None: in memory, nothing to checkpoint)."""
        self._next_checkpoint = CHECKPOINT_TRIPS
        self._checkpointer: sqlite3.Connection | None = None
        self._checkpointing: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        """Open (creating it owner-only if needed) the database at `path`."""
        if str(path) != ":memory:":
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not path.exists():
                path.touch(mode=0o600)
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        conn.row_factory = aiosqlite.Row
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                       f"wal_autocheckpoint={BACKSTOP_PAGES}"):
            await conn.execute_fetchall(f"PRAGMA {pragma}")
        await conn.execute_fetchall(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
        )
        if str(path) != ":memory:":
            for suffix in ("", "-wal", "-shm"):
                extra = Path(f"{path}{suffix}")
                if extra.exists():  # noqa: ASYNC240 - once, at start
                    os.chmod(extra, 0o600)
            return cls(conn, path)
        return cls(conn)

    async def close(self) -> None:
        """Run the queued writes (if the database takes them), then close (the last
        connection to close checkpoints the WAL into the file: this one, after the worker's)."""
        async with self._lock:
            try:
                if self._pending:
                    await self._turn("SELECT 1", held=True)
            finally:
                if self._checkpointing is not None:
                    await asyncio.wait([self._checkpointing])
                if self._checkpointer is not None:
                    with suppress(sqlite3.Error):
                        self._checkpointer.close()
                await self._conn.close()

    def _checkpoint_soon(self) -> None:
        """A checkpoint in a worker thread, unless one is running (see `CHECKPOINT_TRIPS`)."""
        self._next_checkpoint = self.trips + CHECKPOINT_TRIPS
        if self._path is not None and (self._checkpointing is None
                                       or self._checkpointing.done()):
            self._checkpointing = asyncio.get_running_loop().create_task(
                asyncio.to_thread(self._checkpoint))

    def _checkpoint(self) -> None:
        """In a worker thread: a passive checkpoint (what no reader needs is copied, no lock
        waited for) on the worker's connection; a failure is logged, and the next checkpoint
        (or SQLite's backstop) does the work."""
        try:
            if self._checkpointer is None:
                self._checkpointer = sqlite3.connect(self._path, isolation_level=None,
                                                     check_same_thread=False)
                self._checkpointer.execute("PRAGMA synchronous=NORMAL")
            self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:
            log.warning("database: checkpoint failed (%s), tried again later",
                        type(exc).__name__)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        """Run the block's statements atomically (nested use joins the outer one)."""
        if _in_tx.get():
            yield self
            return
        async with self._lock, _storage_errors():
            await self._turn("BEGIN IMMEDIATE", held=True)
            token = _in_tx.set(True)
            try:
                yield self
            except BaseException:
                self.trips += 1
                await self._conn.execute_fetchall("ROLLBACK")
                raise
            else:
                self.trips += 1
                await self._conn.execute_fetchall("COMMIT")
            finally:
                _in_tx.reset(token)

    async def _turn(self, sql: str, params: Params | Iterable[Sequence[Any]] = (),
                    many: bool = False, held: bool = False
                    ) -> tuple[list[sqlite3.Row], int]:
        """One trip to aiosqlite's thread in this task's turn on the connection (`held`
        already, or inside a transaction): the queued writes (not inside a transaction: they
        are not its own), then the statement; a storage fault raised as
        `StorageUnavailable`. (One function, no context manager: this runs for every
        statement.)"""
        in_tx = _in_tx.get()
        locking = not (in_tx or held)
        if locking:
            await self._lock.acquire()
        try:
            self.trips += 1
            if self.trips >= self._next_checkpoint:
                self._checkpoint_soon()
            pending: list[Pending] = []
            if self._pending and not in_tx:
                pending, self._pending = self._pending, []
            try:
                return await self._conn._execute(self._run, pending, sql, params, many)
            except _Unqueued as failed:
                if _unavailable(failed.error):  # tried again by the next statement: the
                    self._pending[:0] = pending[failed.done:]  # event waits for them
                raise failed.error from None
        except sqlite3.Error as exc:
            if in_tx or (unavailable := _unavailable(exc)) is None:
                raise
            raise unavailable from None
        finally:
            if locking:
                self._lock.release()

    @contextmanager
    def deferring(self) -> Iterator[None]:
        """Within the block (an event being handled), `execute_later` queues its writes."""
        token = _deferring.set(True)
        try:
            yield
        finally:
            _deferring.reset(token)

    @property
    def queuing(self) -> bool:
        """Whether `execute_later` queues writes here and now. Writes queued one after the
        other, with no await between them, run together in one transaction: a caller that
        only writes needs no `transaction()` (four trips) then."""
        return _deferring.get() and not _in_tx.get()

    async def execute_later(self, sql: str, params: Params = ()) -> None:
        """A write whose result nobody reads. Within `deferring`, it is queued and runs
        just before the next statement of any task, in the order the writes were asked for
        (so every later read sees it), in that statement's trip to aiosqlite's thread; the
        App's record of the handled event is such a statement. Elsewhere it runs now."""
        if _deferring.get() and not _in_tx.get():  # (`queuing`, inline: every write)
            self._pending.append((sql, params, False))
        else:
            await self.execute(sql, params)

    async def executemany_later(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """`executemany`, queued as `execute_later` queues a statement."""
        if _deferring.get() and not _in_tx.get():
            self._pending.append((sql, list(rows), True))
        else:
            await self.executemany(sql, rows)

    def _run(self, pending: list[Pending], sql: str, params: Params | Iterable[Sequence[Any]],
             many: bool) -> tuple[list[sqlite3.Row], int]:
        """In aiosqlite's thread: the queued writes, then the statement; its rows and the
        number of rows it changed. With queued writes, all run in one transaction (a commit
        each was a third of a write's cost); a failure says how many of the queued writes
        went through (`_Unqueued`): none when the storage refused (rolled back, to be tried
        again), those before it otherwise (committed, as they would have been one by one)."""
        conn = self._conn._conn
        grouped = bool(pending) and not conn.in_transaction and not sql.startswith("BEGIN")
        done = 0
        try:
            if grouped:
                conn.execute("BEGIN IMMEDIATE")
            for queued in pending:
                self._statement(conn, *queued).close()
                done += 1
            before = conn.total_changes
            cursor = self._statement(conn, sql, params, many)
            try:
                result = ([] if many else cursor.fetchall()), conn.total_changes - before
            finally:
                cursor.close()
        except sqlite3.Error as exc:
            if grouped and conn.in_transaction:
                if _unavailable(exc) is not None:
                    conn.execute("ROLLBACK")
                else:
                    conn.execute("COMMIT")
            if grouped and not conn.in_transaction and _unavailable(exc) is not None:
                done = 0  # rolled back, by us or by SQLite
            if pending:
                raise _Unqueued(done, exc) from exc
            raise
        if grouped:
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise _Unqueued(0, exc) from exc
        return result

    @staticmethod
    def _statement(conn: sqlite3.Connection, sql: str,
                   params: Params | Iterable[Sequence[Any]], many: bool) -> sqlite3.Cursor:
        """One statement, in aiosqlite's thread (where the fault tests make writes fail)."""
        if many:
            return conn.executemany(sql, params)  # type: ignore[arg-type]
        return conn.execute(sql, params)  # type: ignore[arg-type]

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; return the number of rows it changed.

        Every statement is one trip to aiosqlite's thread (execute, fetch and close there,
        with the writes queued before it): the trips, not SQLite, are what an event costs.
        """
        return (await self._turn(sql, params))[1]

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._turn(sql, list(rows), many=True)

    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        return (await self._turn(sql, params))[0]

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()
                       ) -> aiosqlite.Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, params: Sequence[Any] | dict[str, Any] = (),
                       default: Any = None) -> Any:
        row = await self.fetchone(sql, params)
        return default if row is None or row[0] is None else row[0]

    async def version(self, component: str) -> int:
        return int(await self.fetchval(
            "SELECT version FROM schema_version WHERE component = ?", (component,), 0))

    async def migrate(self, component: str, steps: Sequence[Step]) -> None:
        """Bring `component`'s tables to version len(steps), one transaction per step."""
        current = await self.version(component)
        if current > len(steps):
            raise SchemaTooNew(
                f"database schema of {component!r} is version {current}, this casebot knows "
                f"{len(steps)}: upgrade casebot or restore a matching backup"
            )
        for number, named in enumerate(steps[current:], start=current + 1):
            step = named.run if isinstance(named, Migration) else named
            if isinstance(named, Migration):
                log.info("database: %s step %d: %s", component, number, named.description)
            async with self.transaction():
                if isinstance(step, str):
                    for statement in _statements(step):
                        await self._conn.execute_fetchall(statement)
                else:
                    await step(self)
                await self._conn.execute_fetchall(
                    "INSERT INTO schema_version (component, version) VALUES (?, ?) "
                    "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                    (component, number),
                )


def _statements(script: str) -> list[str]:
    """Split an SQL script into statements (a trigger's body keeps its inner `;`)."""
    statements: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n\t;"):
                statements.append(pending.strip())
            pending = ""
    return statements
