"""Secrecy's tables: warning counts per room, kind and day, and the members shown the rules.
Kinds and ids only: no text, no found value."""

from __future__ import annotations

from collections.abc import Iterable

from bot.storage import Database, Migration

DAY = 86400

MIGRATIONS = (
    Migration("warning counts per room, kind and day; members shown the rules", """
    CREATE TABLE secrecy_counts (
        room_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        day INTEGER NOT NULL,
        count INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (room_id, kind, day)
    );
    CREATE TABLE secrecy_onboarded (
        room_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        PRIMARY KEY (room_id, user_id)
    )
    """),
)


class SecrecyStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._onboarded: set[tuple[str, str]] = set()
        """(room, member) pairs known to be shown the rules: this store is the only writer
        of `secrecy_onboarded` and never deletes a row, so a pair seen there stays."""

    async def count(self, room_id: str, kinds: Iterable[str], at: float) -> None:
        """Add one per kind to the counts of the day of `at` (a write nobody reads at once:
        queued, see `Database.execute_later`)."""
        day = int(at // DAY)
        rows = [(room_id, kind, day) for kind in kinds]
        if rows:
            await self.db.executemany_later(
                "INSERT INTO secrecy_counts (room_id, kind, day, count) VALUES (?, ?, ?, 1) "
                "ON CONFLICT (room_id, kind, day) DO UPDATE SET count = count + 1", rows)

    async def counts_since(self, room_id: str, since: float) -> list[tuple[str, int]]:
        """(kind, warnings) in the room from the day of `since` on, most frequent first."""
        rows = await self.db.fetchall(
            "SELECT kind, SUM(count) AS n FROM secrecy_counts WHERE room_id = ? AND day >= ? "
            "GROUP BY kind ORDER BY n DESC, kind", (room_id, int(since // DAY)))
        return [(row["kind"], row["n"]) for row in rows]

    async def first_time(self, room_id: str, user_id: str) -> bool:
        """Record that `user_id` was shown the rules in the room; False when already so (a
        pair this store has seen costs no trip to the database)."""
        if (room_id, user_id) in self._onboarded:
            return False
        added = bool(await self.db.execute(
            "INSERT OR IGNORE INTO secrecy_onboarded (room_id, user_id) VALUES (?, ?)",
            (room_id, user_id)))
        self._onboarded.add((room_id, user_id))
        return added
