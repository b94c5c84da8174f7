"""The trust tables: the directory (public professional data), verification records and
reports (personal data: ids and times only, never a message's text or a report's reason).

A verification record links a Matrix account to an RPPS number once a moderator confirmed
it. It is erased by `!verify forget` and when the member is in no room the bot shares; a
reporter's id leaves their reports then too (the reports stay counted).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.storage import Database, Migration

PENDING, VERIFIED, REFUSED = "pending", "verified", "refused"

MIGRATIONS = (
    Migration("the directory (physicians of the public extract), verifications, reports", """
        CREATE TABLE trust_directory (
            rpps TEXT PRIMARY KEY,
            last_name TEXT NOT NULL,
            first_name TEXT NOT NULL,
            name_key TEXT NOT NULL,
            profession TEXT NOT NULL,
            specialty TEXT NOT NULL DEFAULT '',
            department TEXT NOT NULL DEFAULT ''
        ) WITHOUT ROWID;
        CREATE INDEX trust_directory_name ON trust_directory (name_key);
        CREATE TABLE trust_directory_meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE trust_verifications (
            user_id TEXT PRIMARY KEY,
            rpps TEXT NOT NULL,
            status TEXT NOT NULL,
            room_id TEXT NOT NULL,
            request_event TEXT NOT NULL,
            notice_room TEXT,
            notice_event TEXT,
            requested_at REAL NOT NULL,
            decided_by TEXT,
            decided_at REAL
        );
        CREATE INDEX trust_verifications_notice ON trust_verifications (notice_event);
        CREATE INDEX trust_verifications_rpps ON trust_verifications (rpps);
        CREATE TABLE trust_reports (
            room_id TEXT NOT NULL,
            event_id TEXT NOT NULL,
            reporter TEXT NOT NULL,
            at REAL NOT NULL,
            PRIMARY KEY (room_id, event_id, reporter)
        );
        CREATE INDEX trust_reports_at ON trust_reports (room_id, at)
    """),
)


@dataclass(frozen=True, slots=True)
class Entry:
    """A physician of the directory (what a moderator is shown: never anything else)."""

    rpps: str
    last_name: str
    first_name: str
    profession: str
    specialty: str
    department: str


@dataclass(frozen=True, slots=True)
class Record:
    user_id: str
    rpps: str
    status: str
    room_id: str
    request_event: str
    notice_room: str | None
    notice_event: str | None


_ENTRY = ("SELECT rpps, last_name, first_name, profession, specialty, department "
          "FROM trust_directory")
_RECORD = ("SELECT user_id, rpps, status, room_id, request_event, notice_room, notice_event "
           "FROM trust_verifications")


class TrustStore:
    """This feature's tables; the verified accounts are also kept in memory (this store is
    their only writer), since paging and cards ask about them often."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.verified: set[str] = set()
        self.notices: set[str] = set()
        """Every notice event a record names (and some it named before): a reaction
        elsewhere, the usual one, needs no query."""

    async def load(self) -> None:
        rows = await self.db.fetchall(
            "SELECT user_id FROM trust_verifications WHERE status = ?", (VERIFIED,))
        self.verified = {str(r[0]) for r in rows}
        self.notices = {str(r[0]) for r in await self.db.fetchall(
            "SELECT notice_event FROM trust_verifications WHERE notice_event IS NOT NULL")}

    # ---- the directory -----------------------------------------------------------------------
    async def entry(self, rpps: str) -> Entry | None:
        row = await self.db.fetchone(f"{_ENTRY} WHERE rpps = ?", (rpps,))
        return Entry(*row) if row else None

    async def by_name(self, key: str, limit: int = 3) -> tuple[list[Entry], int]:
        """Up to `limit` physicians whose name has exactly these words, and how many have."""
        if not key:
            return [], 0
        rows = await self.db.fetchall(f"{_ENTRY} WHERE name_key = ? LIMIT 50", (key,))
        return [Entry(*r) for r in rows[:limit]], len(rows)

    async def directory_size(self) -> int:
        value = await self.db.fetchval(
            "SELECT value FROM trust_directory_meta WHERE key = 'physicians'")
        return int(value) if value else 0

    # ---- verification records ----------------------------------------------------------------
    async def record(self, user_id: str) -> Record | None:
        row = await self.db.fetchone(f"{_RECORD} WHERE user_id = ?", (user_id,))
        return Record(*row) if row else None

    async def by_notice(self, notice_event: str) -> Record | None:
        if notice_event not in self.notices:
            return None
        row = await self.db.fetchone(f"{_RECORD} WHERE notice_event = ?", (notice_event,))
        return Record(*row) if row else None

    async def holder(self, rpps: str) -> str | None:
        """The account already verified with this RPPS number, if any."""
        value = await self.db.fetchval(
            "SELECT user_id FROM trust_verifications WHERE rpps = ? AND status = ?",
            (rpps, VERIFIED))
        return str(value) if value else None

    async def request(self, user_id: str, rpps: str, room_id: str, request_event: str,
                      now: float) -> None:
        await self.db.execute(
            "INSERT INTO trust_verifications (user_id, rpps, status, room_id, request_event, "
            "requested_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET "
            "rpps = excluded.rpps, status = excluded.status, room_id = excluded.room_id, "
            "request_event = excluded.request_event, requested_at = excluded.requested_at, "
            "notice_room = NULL, notice_event = NULL, decided_by = NULL, decided_at = NULL",
            (user_id, rpps, PENDING, room_id, request_event, now))
        self.verified.discard(user_id)

    async def noticed(self, user_id: str, notice_room: str, notice_event: str) -> None:
        await self.db.execute(
            "UPDATE trust_verifications SET notice_room = ?, notice_event = ? WHERE user_id = ?",
            (notice_room, notice_event, user_id))
        self.notices.add(notice_event)

    async def decide(self, user_id: str, status: str, by: str, now: float) -> bool:
        """Settle a pending request; False when there was none, or when verifying it would
        link its number to a second account (checked in the same statement: two rooms
        approving one number at once cannot both win)."""
        changed = await self.db.execute(
            "UPDATE trust_verifications SET status = ?, decided_by = ?, decided_at = ? "
            "WHERE user_id = ? AND status = ? AND (? != ? OR NOT EXISTS ("
            " SELECT 1 FROM trust_verifications AS other"
            " WHERE other.rpps = trust_verifications.rpps AND other.status = ?"
            " AND other.user_id != trust_verifications.user_id))",
            (status, by, now, user_id, PENDING, status, VERIFIED, VERIFIED))
        if changed and status == VERIFIED:
            self.verified.add(user_id)
        return bool(changed)

    async def users(self) -> list[str]:
        """Every account with a verification record (whatever its status) or named as a
        reporter."""
        return [str(r[0]) for r in await self.db.fetchall(
            "SELECT user_id FROM trust_verifications UNION "
            "SELECT reporter FROM trust_reports WHERE reporter LIKE '@%'")]

    async def forget(self, user_id: str) -> bool:
        """Erase the member's verification record; False when there was none."""
        self.verified.discard(user_id)
        return bool(await self.db.execute(
            "DELETE FROM trust_verifications WHERE user_id = ?", (user_id,)))

    # ---- reports -----------------------------------------------------------------------------
    async def report(self, room_id: str, event_id: str, reporter: str, now: float) -> bool:
        """Record a report; False when this member already reported this event."""
        return bool(await self.db.execute(
            "INSERT OR IGNORE INTO trust_reports (room_id, event_id, reporter, at) "
            "VALUES (?, ?, ?, ?)", (room_id, event_id, reporter, now)))

    async def forget_reporter(self, user_id: str) -> None:
        """A member gone from every room: their reports stay counted, no longer naming them."""
        await self.db.execute(
            "UPDATE trust_reports SET reporter = 'gone:' || rowid WHERE reporter = ?",
            (user_id,))

    async def unreport(self, room_id: str, event_id: str, reporter: str) -> None:
        """Withdraw a report the moderators never got."""
        await self.db.execute(
            "DELETE FROM trust_reports WHERE room_id = ? AND event_id = ? AND reporter = ?",
            (room_id, event_id, reporter))

    async def reports_by(self, reporter: str, since: float) -> int:
        """How many reports `reporter` made since `since`, in every room."""
        return int(await self.db.fetchval(
            "SELECT COUNT(*) FROM trust_reports WHERE reporter = ? AND at >= ?",
            (reporter, since)) or 0)

    async def report_counts(self, room_id: str, since: float) -> tuple[int, int]:
        """Reports in the room since `since`, and how many events they were about."""
        row = await self.db.fetchone(
            "SELECT COUNT(*), COUNT(DISTINCT event_id) FROM trust_reports "
            "WHERE room_id = ? AND at >= ?", (room_id, since))
        return (int(row[0]), int(row[1])) if row else (0, 0)
