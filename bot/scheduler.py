"""Persistent timers: rows in SQLite, re-armed at start, fired at most once per due time.

A timer is identified by (component, key); scheduling it again replaces it. A row is deleted
only after its handler returned, and only if it was not rescheduled meanwhile, so a crash
during the handler fires it again after restart (the handler's sends reuse the same
transaction ids, so nothing shows twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.logs import report_exception
from bot.plugin import Fired
from bot.storage import Database

log = logging.getLogger(__name__)

MIGRATIONS = (
    """
    CREATE TABLE timers (
        component TEXT NOT NULL,
        key TEXT NOT NULL,
        due REAL NOT NULL,
        payload TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (component, key)
    );
    CREATE INDEX timers_due ON timers (due)
    """,
)


class Scheduler:
    def __init__(self, db: Database, now: Callable[[], float],
                 fire: Callable[[Fired], Awaitable[None]]) -> None:
        self._db = db
        self._now = now
        self._fire = fire
        self._wake = asyncio.Event()

    async def schedule(self, component: str, key: str, due: float,
                       payload: Mapping[str, Any] | None = None) -> None:
        await self._db.execute(
            "INSERT INTO timers (component, key, due, payload) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(component, key) DO UPDATE SET due = excluded.due, "
            "payload = excluded.payload",
            (component, key, due, json.dumps(dict(payload or {}))),
        )
        self._wake.set()

    async def cancel(self, component: str, *keys: str) -> None:
        """Forget the timers `keys` of `component` (one statement for them all)."""
        marks = ", ".join("?" for _ in keys)
        await self._db.execute(
            f"DELETE FROM timers WHERE component = ? AND key IN ({marks})", (component, *keys))

    async def next_due(self) -> float | None:
        return await self._db.fetchval("SELECT MIN(due) FROM timers")

    async def run_due(self) -> int:
        """Fire every timer due now, oldest first; return how many fired."""
        rows = await self._db.fetchall(
            "SELECT component, key, due, payload FROM timers WHERE due <= ? "
            "ORDER BY due, component, key", (self._now(),))
        for row in rows:
            fired = Fired(row["component"], row["key"], row["due"], json.loads(row["payload"]))
            try:
                await self._fire(fired)
            except Exception as exc:
                report_exception(log, f"timer {fired.component}:{fired.key.split(':')[0]}", exc)
            await self._db.execute(
                "DELETE FROM timers WHERE component = ? AND key = ? AND due = ?",
                (fired.component, fired.key, fired.due))
        return len(rows)

    async def run(self) -> None:
        """Fire timers as they come due, until cancelled."""
        while True:
            self._wake.clear()
            await self.run_due()
            due = await self.next_due()
            delay = 3600.0 if due is None else max(0.0, min(3600.0, due - self._now()))
            # Not asyncio.wait_for: on Python 3.11 it can swallow a cancellation that lands
            # just after the event was set (CPython gh-86296), and the bot would never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()
