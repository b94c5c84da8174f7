"""Persistent timers: rows in SQLite, re-armed at start, fired at most once per due time.

A timer is identified by (component, key); scheduling it again replaces it. A row is deleted
only after its handler returned, and only if it was not rescheduled meanwhile, so a crash
during the handler fires it again after restart (the handler's sends reuse the same
transaction ids, so nothing shows twice). A handler that raises is retried later with
back-off (`retry_at`), keeping its due time and so its transaction ids (the App tells its
room the first time, `bot.dispatch`); a database that cannot be written pauses the timers
until it can.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.events import NotInRoom, Unavailable
from bot.logs import Reported, report_exception
from bot.plugin import Fired
from bot.storage import Database, Migration

log = logging.getLogger(__name__)

MIGRATIONS = (
    Migration("timers", """
    CREATE TABLE timers (
        component TEXT NOT NULL,
        key TEXT NOT NULL,
        due REAL NOT NULL,
        payload TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (component, key)
    );
    CREATE INDEX timers_due ON timers (due)
    """),
    Migration("retries: a failed handler runs again at retry_at, due time (and ids) kept", """
    ALTER TABLE timers ADD COLUMN retry_at REAL;
    ALTER TABLE timers ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0
    """),
)
RETRY_FIRST = 60.0
RETRY_MAX = 6 * 3600.0
ATTEMPTS = 10
"""A timer whose handler failed this many times (about two days of back-off) is dropped."""
OVERDUE_AFTER = 300.0
OVERDUE_SQL = "SELECT count(*) FROM timers WHERE COALESCE(retry_at, due) < ?"
"""Timers still waiting `OVERDUE_AFTER` s past their time (the bot is down or its timer loop
stuck), given `now - OVERDUE_AFTER`: read by the metrics and by `casebot doctor`."""


class Scheduler:
    def __init__(self, db: Database, now: Callable[[], float],
                 fire: Callable[[Fired, int], Awaitable[None]]) -> None:
        """`fire(timer, attempts)`: run a timer's handler (`attempts`: its failures so far)."""
        self._db = db
        self._now = now
        self._fire = fire
        self._wake = asyncio.Event()

    async def schedule(self, component: str, key: str, due: float,
                       payload: Mapping[str, Any] | None = None) -> None:
        """Arm (or re-arm) a timer. `payload` is JSON; its `room_id` (and `thread_root`)
        say where the handler's `Context` answers (see `bot.plugin.timer`)."""
        await self._db.execute_later(  # the loop's next read runs it first
            "INSERT INTO timers (component, key, due, payload) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(component, key) DO UPDATE SET due = excluded.due, "
            "payload = excluded.payload, retry_at = NULL, attempts = 0",
            (component, key, due, json.dumps(dict(payload or {}))),
        )
        self._wake.set()

    async def cancel(self, component: str, *keys: str) -> None:
        """Forget the timers `keys` of `component` (one statement for them all)."""
        marks = ", ".join("?" for _ in keys)
        await self._db.execute_later(
            f"DELETE FROM timers WHERE component = ? AND key IN ({marks})", (component, *keys))

    async def overdue(self) -> int:
        """How many timers are overdue (see `OVERDUE_SQL`)."""
        return int(await self._db.fetchval(OVERDUE_SQL, (self._now() - OVERDUE_AFTER,), 0))

    async def next_due(self) -> float | None:
        return await self._db.fetchval("SELECT MIN(COALESCE(retry_at, due)) FROM timers")

    async def run_due(self) -> int:
        """Fire every timer due now, oldest first; return how many fired."""
        rows = await self._db.fetchall(
            "SELECT component, key, due, payload, attempts FROM timers "
            "WHERE COALESCE(retry_at, due) <= ? ORDER BY due, component, key", (self._now(),))
        for row in rows:
            fired = Fired(row["component"], row["key"], row["due"], json.loads(row["payload"]))
            try:
                await self._fire(fired, row["attempts"])
            except Unavailable:
                raise
            except NotInRoom:  # its room is gone for the bot: nothing to retry
                log.info("timer %s:%s dropped: the bot is no longer in its room",
                         fired.component, fired.key.split(":")[0])
            except Exception as exc:
                if not isinstance(exc, Reported):
                    report_exception(log, f"timer {fired.component}:{fired.key.split(':')[0]}",
                                     exc)
                if row["attempts"] + 1 < ATTEMPTS:
                    await self._retry_later(fired, row["attempts"] + 1)
                    continue
                log.error("timer %s:%s dropped after %d failures", fired.component,
                          fired.key.split(":")[0], ATTEMPTS)
            await self._db.execute(
                "DELETE FROM timers WHERE component = ? AND key = ? AND due = ?",
                (fired.component, fired.key, fired.due))
        return len(rows)

    async def _retry_later(self, fired: Fired, attempts: int) -> None:
        delay = min(RETRY_MAX, RETRY_FIRST * 2 ** (attempts - 1))
        await self._db.execute(
            "UPDATE timers SET retry_at = ?, attempts = ? "
            "WHERE component = ? AND key = ? AND due = ?",
            (self._now() + delay, attempts, fired.component, fired.key, fired.due))

    async def run(self) -> None:
        """Fire timers as they come due, until cancelled; never dies of an error."""
        pause = 1.0
        while True:
            self._wake.clear()
            try:
                await self.run_due()
                due = await self.next_due()
            except Unavailable as exc:
                if pause == 1.0:
                    log.error("timers paused: %s", exc.reason)
                await asyncio.sleep(pause)
                pause = min(60.0, pause * 2)
                continue
            except Exception as exc:
                report_exception(log, "timers", exc)
                await asyncio.sleep(5.0)
                continue
            if pause > 1.0:
                log.info("timers resumed")
                pause = 1.0
            delay = 3600.0 if due is None else max(0.0, min(3600.0, due - self._now()))
            # Not asyncio.wait_for: on Python 3.11 it can swallow a cancellation that lands
            # just after the event was set (CPython gh-86296), and the bot would never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()
