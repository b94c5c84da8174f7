"""SQLite through aiosqlite, with per-component migrations.

Each component (the core, each plugin) owns its tables and a `schema_version` row. Steps run
in order, each in its own transaction; a database newer than the code is refused rather than
guessed at. One connection serves the whole bot: statements are serialized by a lock so a
transaction of one task never swallows another task's statements.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

Step = str | Callable[["Database"], Awaitable[None]]
"""A migration step: an SQL script, or a coroutine function given the database."""

_in_tx: contextvars.ContextVar[bool] = contextvars.ContextVar("casebot_in_tx", default=False)


class SchemaTooNew(RuntimeError):
    """The database was written by a newer casebot; refuse to touch it."""


class Database:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()

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
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
        )
        if str(path) != ":memory:":
            for suffix in ("", "-wal", "-shm"):
                extra = Path(f"{path}{suffix}")
                if extra.exists():  # noqa: ASYNC240 - once, at start
                    os.chmod(extra, 0o600)
        return cls(conn)

    async def close(self) -> None:
        async with self._lock:
            await self._conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        """Run the block's statements atomically (nested use joins the outer one)."""
        if _in_tx.get():
            yield self
            return
        async with self._lock:
            token = _in_tx.set(True)
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            else:
                await self._conn.execute("COMMIT")
            finally:
                _in_tx.reset(token)

    async def _run(self, sql: str, params: Sequence[Any] | dict[str, Any]) -> aiosqlite.Cursor:
        if _in_tx.get():
            return await self._conn.execute(sql, params)
        async with self._lock:
            return await self._conn.execute(sql, params)

    async def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        """Run one statement; return the number of rows changed (or the new rowid on insert)."""
        cursor = await self._run(sql, params)
        result = cursor.lastrowid if sql.lstrip().upper().startswith("INSERT") else None
        changed = cursor.rowcount
        await cursor.close()
        return int(result if result else changed)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        if _in_tx.get():
            await self._conn.executemany(sql, rows)
            return
        async with self._lock:
            await self._conn.executemany(sql, rows)

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()
                       ) -> aiosqlite.Row | None:
        cursor = await self._run(sql, params)
        row = await cursor.fetchone()
        await cursor.close()
        return row

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()
                       ) -> list[aiosqlite.Row]:
        cursor = await self._run(sql, params)
        rows = await cursor.fetchall()
        await cursor.close()
        return list(rows)

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
        for number, step in enumerate(steps[current:], start=current + 1):
            async with self.transaction():
                if isinstance(step, str):
                    for statement in _statements(step):
                        await self._conn.execute(statement)
                else:
                    await step(self)
                await self._conn.execute(
                    "INSERT INTO schema_version (component, version) VALUES (?, ?) "
                    "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                    (component, number),
                )


def _statements(script: str) -> list[str]:
    """Split an SQL script on `;` (our migrations hold no semicolons inside literals)."""
    return [s.strip() for s in script.split(";") if s.strip()]
