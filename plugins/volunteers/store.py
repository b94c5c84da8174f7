"""Volunteer tables: who volunteers for what, their availability and the pages sent.

Only ids, specialty ids, times and counts are stored: never any clinical text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.storage import Database

FOREVER = 1e18
"""`away_until` of someone away with no end date."""

MIGRATIONS = (
    """
    CREATE TABLE volunteers (
        room_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        specialty TEXT NOT NULL,
        since REAL NOT NULL,
        PRIMARY KEY (room_id, user_id, specialty)
    );
    CREATE INDEX volunteers_specialty ON volunteers (room_id, specialty);
    CREATE TABLE volunteer_prefs (
        user_id TEXT PRIMARY KEY,
        away_until REAL,
        quiet_start INTEGER,
        quiet_end INTEGER,
        tz TEXT,
        urgent INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE volunteer_rotation (
        room_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        last_paged_at REAL NOT NULL,
        turn INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (room_id, user_id)
    );
    CREATE TABLE volunteer_pages (
        room_id TEXT NOT NULL,
        number INTEGER NOT NULL,
        user_id TEXT NOT NULL,
        round INTEGER NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (room_id, number, user_id)
    );
    CREATE INDEX volunteer_pages_user ON volunteer_pages (user_id, at)
    """,
    """
    CREATE TABLE volunteer_cases (
        room_id TEXT NOT NULL,
        number INTEGER NOT NULL,
        specialties TEXT NOT NULL DEFAULT '',
        urgent INTEGER NOT NULL DEFAULT 0,
        round INTEGER NOT NULL DEFAULT 1,
        due REAL,
        stopped INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (room_id, number)
    );
    CREATE TABLE volunteer_page_events (
        event_id TEXT PRIMARY KEY,
        room_id TEXT NOT NULL,
        number INTEGER NOT NULL
    )
    """,
)


@dataclass(frozen=True, slots=True)
class Prefs:
    """One person's availability (the same in every room)."""

    user_id: str
    away_until: float | None = None
    quiet: tuple[int, int] | None = None
    """Quiet hours as (start, end) minutes after local midnight; end < start spans midnight."""
    tz: str | None = None
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class PagingState:
    """Where the paging of one case stands."""

    specialties: tuple[str, ...]
    """Specialties whose volunteers were already considered (retagging pages only new ones)."""
    urgent: bool
    round: int
    """The round last paged."""
    due: float | None
    """When the current escalation timer is due: an older one that fires is superseded."""
    stopped: bool
    """A colleague showed interest (🙋 / 👀): no more escalation."""


def _prefs(user_id: str, row: Any) -> Prefs:
    """A volunteer's preferences from a row of volunteer_prefs columns (None: defaults)."""
    if row is None:
        return Prefs(user_id)
    quiet = None
    if row["quiet_start"] is not None and row["quiet_end"] is not None:
        quiet = (int(row["quiet_start"]), int(row["quiet_end"]))
    return Prefs(user_id, row["away_until"], quiet, row["tz"], bool(row["urgent"]))


class VolunteerStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- who volunteers ------------------------------------------------------------------
    async def add(self, room_id: str, user_id: str, specialties: Iterable[str],
                  at: float) -> None:
        await self.db.executemany(
            "INSERT OR IGNORE INTO volunteers (room_id, user_id, specialty, since) "
            "VALUES (?, ?, ?, ?)", [(room_id, user_id, s, at) for s in specialties])

    async def remove(self, room_id: str, user_id: str,
                     specialties: Sequence[str] | None = None) -> int:
        if specialties is None:
            return await self.db.execute(
                "DELETE FROM volunteers WHERE room_id = ? AND user_id = ?", (room_id, user_id))
        marks = ", ".join("?" for _ in specialties)
        return await self.db.execute(
            f"DELETE FROM volunteers WHERE room_id = ? AND user_id = ? "
            f"AND specialty IN ({marks})", (room_id, user_id, *specialties))

    async def drop_specialty(self, room_id: str, specialty: str) -> list[str]:
        """Unregister every volunteer of `specialty` in the room; who they were."""
        async with self.db.transaction():
            rows = await self.db.fetchall(
                "SELECT user_id FROM volunteers WHERE room_id = ? AND specialty = ? "
                "ORDER BY user_id", (room_id, specialty))
            await self.db.execute("DELETE FROM volunteers WHERE room_id = ? AND specialty = ?",
                                  (room_id, specialty))
        return [r["user_id"] for r in rows]

    async def of_user(self, room_id: str, user_id: str) -> list[str]:
        rows = await self.db.fetchall(
            "SELECT specialty FROM volunteers WHERE room_id = ? AND user_id = ? "
            "ORDER BY specialty", (room_id, user_id))
        return [r["specialty"] for r in rows]

    async def listing(self, room_id: str) -> list[tuple[str, str]]:
        """(specialty, user) pairs of the room, by specialty then user."""
        rows = await self.db.fetchall(
            "SELECT specialty, user_id FROM volunteers WHERE room_id = ? "
            "ORDER BY specialty, user_id", (room_id,))
        return [(r["specialty"], r["user_id"]) for r in rows]

    async def candidates(self, room_id: str, specialties: Sequence[str], since: float
                         ) -> list[tuple[Prefs, int]]:
        """Volunteers of any of `specialties` with their preferences and how many pages they
        got since `since` (all rooms), least recently paged here first, then by id — in one
        query, as it runs for every new case.

        People paged in the same round share a time; `turn` keeps the order they were picked
        in, so the rotation is a true queue rather than favouring low ids.
        """
        if not specialties:
            return []
        marks = ", ".join("?" for _ in specialties)
        rows = await self.db.fetchall(
            "SELECT v.user_id, COALESCE(MAX(r.last_paged_at), 0) AS last, "
            "COALESCE(MAX(r.turn), 0) AS turn, p.away_until, p.quiet_start, p.quiet_end, "
            "p.tz, p.urgent, (SELECT COUNT(*) FROM volunteer_pages g "
            "WHERE g.user_id = v.user_id AND g.at > ?) AS pages FROM volunteers v "
            "LEFT JOIN volunteer_rotation r ON r.room_id = v.room_id AND r.user_id = v.user_id "
            "LEFT JOIN volunteer_prefs p ON p.user_id = v.user_id "
            f"WHERE v.room_id = ? AND v.specialty IN ({marks}) "
            "GROUP BY v.user_id ORDER BY last, turn, v.user_id",
            (since, room_id, *specialties))
        return [(_prefs(r["user_id"], r), int(r["pages"])) for r in rows]

    # ---- availability --------------------------------------------------------------------
    async def prefs(self, user_id: str) -> Prefs:
        row = await self.db.fetchone(
            "SELECT away_until, quiet_start, quiet_end, tz, urgent FROM volunteer_prefs "
            "WHERE user_id = ?", (user_id,))
        return _prefs(user_id, row)

    async def set_prefs(self, user_id: str, **changes: Any) -> None:
        """Change columns of `volunteer_prefs` (away_until, quiet_start, quiet_end, tz, urgent)."""
        async with self.db.transaction():
            await self.db.execute(
                "INSERT OR IGNORE INTO volunteer_prefs (user_id) VALUES (?)", (user_id,))
            sets = ", ".join(f"{k} = ?" for k in changes)
            await self.db.execute(f"UPDATE volunteer_prefs SET {sets} WHERE user_id = ?",
                                  (*changes.values(), user_id))

    # ---- pages -----------------------------------------------------------------------------
    async def record(self, room_id: str, number: int, users: Sequence[str], round_: int,
                     at: float) -> None:
        async with self.db.transaction():
            for user in users:
                await self.db.execute(
                    "INSERT OR IGNORE INTO volunteer_pages (room_id, number, user_id, round, at) "
                    "VALUES (?, ?, ?, ?, ?)", (room_id, number, user, round_, at))
                await self.db.execute(
                    "INSERT INTO volunteer_rotation (room_id, user_id, last_paged_at, turn) "
                    "VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(turn), 0) + 1 "
                    "FROM volunteer_rotation WHERE room_id = ?1)) "
                    "ON CONFLICT(room_id, user_id) DO UPDATE SET "
                    "last_paged_at = excluded.last_paged_at, turn = excluded.turn",
                    (room_id, user, at))

    async def paged(self, room_id: str, number: int) -> list[str]:
        rows = await self.db.fetchall(
            "SELECT user_id FROM volunteer_pages WHERE room_id = ? AND number = ? "
            "ORDER BY round, user_id", (room_id, number))
        return [r["user_id"] for r in rows]

    async def paged_in_round(self, room_id: str, number: int, round_: int) -> list[str]:
        rows = await self.db.fetchall(
            "SELECT user_id FROM volunteer_pages WHERE room_id = ? AND number = ? AND round = ? "
            "ORDER BY user_id", (room_id, number, round_))
        return [r["user_id"] for r in rows]

    async def add_page_event(self, room_id: str, number: int, event_id: str) -> None:
        await self.db.execute(
            "INSERT OR IGNORE INTO volunteer_page_events (event_id, room_id, number) "
            "VALUES (?, ?, ?)", (event_id, room_id, number))

    async def case_of_event(self, room_id: str, event_id: str) -> int | None:
        """The case whose paging message or card `event_id` is (reactions on them count)."""
        number = await self.db.fetchval(
            "SELECT number FROM volunteer_page_events WHERE room_id = ? AND event_id = ?",
            (room_id, event_id))
        if number is None:
            number = await self.db.fetchval(
                "SELECT number FROM cases WHERE room_id = ? AND card_event_id = ?",
                (room_id, event_id))
        return None if number is None else int(number)

    # ---- paging state of a case ------------------------------------------------------------
    async def state(self, room_id: str, number: int) -> PagingState | None:
        row = await self.db.fetchone(
            "SELECT specialties, urgent, round, due, stopped FROM volunteer_cases "
            "WHERE room_id = ? AND number = ?", (room_id, number))
        if row is None:
            return None
        return PagingState(tuple(s for s in row["specialties"].split(",") if s),
                           bool(row["urgent"]), int(row["round"]), row["due"],
                           bool(row["stopped"]))

    async def start_case(self, room_id: str, number: int, specialties: Sequence[str],
                         urgent: bool, round_: int = 1) -> None:
        await self.db.execute(
            "INSERT OR IGNORE INTO volunteer_cases (room_id, number, specialties, urgent, round) "
            "VALUES (?, ?, ?, ?, ?)", (room_id, number, ",".join(specialties), int(urgent),
                                       round_))

    async def update_case(self, room_id: str, number: int, **changes: Any) -> None:
        """Change columns of `volunteer_cases` (specialties, round, due, stopped)."""
        if "specialties" in changes:
            changes["specialties"] = ",".join(changes["specialties"])
        sets = ", ".join(f"{k} = ?" for k in changes)
        await self.db.execute(
            f"UPDATE volunteer_cases SET {sets} WHERE room_id = ? AND number = ?",
            (*changes.values(), room_id, number))

    async def last_round(self, room_id: str, number: int) -> int:
        return int(await self.db.fetchval(
            "SELECT MAX(round) FROM volunteer_pages WHERE room_id = ? AND number = ?",
            (room_id, number), 1))

    async def all_pages(self) -> list[tuple[str, int, str]]:
        rows = await self.db.fetchall(
            "SELECT room_id, number, user_id FROM volunteer_pages ORDER BY round, user_id")
        return [(r["room_id"], int(r["number"]), r["user_id"]) for r in rows]

    async def stats(self, room_id: str) -> list[tuple[str, int, int, list[float]]]:
        """Per volunteer or paged user of the room: pages received, replies written in others'
        cases, and the delays between each page and that user's first reply in the case.
        """
        rows = await self.db.fetchall(
            "SELECT u.user_id, "
            " (SELECT COUNT(*) FROM volunteer_pages p WHERE p.room_id = ?1 "
            "  AND p.user_id = u.user_id) AS pages, "
            " (SELECT COUNT(*) FROM case_replies r JOIN cases c "
            "  ON c.room_id = r.room_id AND c.number = r.number "
            "  WHERE r.room_id = ?1 AND r.sender = u.user_id AND c.poster != r.sender) AS replies "
            "FROM (SELECT user_id FROM volunteers WHERE room_id = ?1 "
            "      UNION SELECT user_id FROM volunteer_pages WHERE room_id = ?1) u "
            "ORDER BY u.user_id", (room_id,))
        delays: dict[str, list[float]] = {}
        for row in await self.db.fetchall(
                "SELECT p.user_id, MIN(r.at) - p.at AS delay FROM volunteer_pages p "
                "JOIN case_replies r ON r.room_id = p.room_id AND r.number = p.number "
                "AND r.sender = p.user_id AND r.at >= p.at "
                "WHERE p.room_id = ? GROUP BY p.user_id, p.number", (room_id,)):
            delays.setdefault(row["user_id"], []).append(float(row["delay"]))
        return [(r["user_id"], int(r["pages"]), int(r["replies"]),
                 sorted(delays.get(r["user_id"], []))) for r in rows]
