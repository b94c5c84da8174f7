"""What the room learns, in its own tables: case ids, event ids, specialties, timestamps,
roles and normalised reference links — never clinical text.

Cases are mirrored from the case lifecycle the cases feature publishes (`CaseOpened`,
`CaseChanged`…), so these tables hold the cases opened since this feature was enabled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.storage import Database, Migration
from plugins.cases.model import Case
from plugins.learning.references import link_identifies

POSTED, ANSWERED, RESOLVED = "posted", "answered", "resolved"
ROLES = (POSTED, ANSWERED, RESOLVED)


async def purge_identifying_refs(db: Database) -> None:
    """References kept before links were checked for a patient's identifiers: a message with
    one identifying link keeps none (`references.cited`; the message itself is not stored).
    Each distinct link is scanned once."""
    rows = await db.fetchall("SELECT room_id, event_id, url FROM learning_refs")
    failing = {url for url in {r["url"] for r in rows} if link_identifies(url)}
    found = {(r["room_id"], r["event_id"]) for r in rows if r["url"] in failing}
    await db.executemany("DELETE FROM learning_refs WHERE room_id = ? AND event_id = ?",
                         sorted(found))


MIGRATIONS = (
    Migration("cases as the room learns from them, roles, references, digests", """
    CREATE TABLE learning_cases (
        room_id TEXT NOT NULL,
        number INTEGER NOT NULL,
        root_event_id TEXT NOT NULL,
        poster TEXT NOT NULL,
        specialties TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        opened_at REAL NOT NULL,
        first_reply_at REAL,
        resolved_at REAL,
        PRIMARY KEY (room_id, number)
    );
    CREATE INDEX learning_cases_opened ON learning_cases (room_id, opened_at);
    CREATE INDEX learning_cases_resolved ON learning_cases (room_id, resolved_at);
    CREATE TABLE learning_roles (
        room_id TEXT NOT NULL,
        number INTEGER NOT NULL,
        user_id TEXT NOT NULL,
        role TEXT NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (user_id, room_id, number, role)
    );
    CREATE TABLE learning_refs (
        room_id TEXT NOT NULL,
        number INTEGER NOT NULL,
        url TEXT NOT NULL,
        domain TEXT NOT NULL,
        event_id TEXT NOT NULL,
        sender TEXT NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (room_id, number, url)
    );
    CREATE INDEX learning_refs_at ON learning_refs (room_id, at);
    CREATE INDEX learning_refs_event ON learning_refs (room_id, event_id);
    CREATE TABLE learning_digests (
        room_id TEXT NOT NULL,
        due REAL NOT NULL,
        event_id TEXT,
        PRIMARY KEY (room_id, due)
    );
    CREATE TABLE learning_rooms (
        room_id TEXT PRIMARY KEY,
        schedule TEXT NOT NULL
    )
    """),
    Migration("the due time each room's digest timer was armed for",
              "ALTER TABLE learning_rooms ADD COLUMN due REAL"),
    Migration("no reference whose link names a patient (a name, a birth date, a phone…)",
              purge_identifying_refs),
)


@dataclass(frozen=True, slots=True)
class Known:
    """A case as this feature knows it."""

    room_id: str
    number: int
    root_event_id: str
    poster: str
    specialties: tuple[str, ...]
    status: str
    opened_at: float
    first_reply_at: float | None
    resolved_at: float | None


@dataclass(frozen=True, slots=True)
class Ref:
    room_id: str
    number: int
    url: str
    domain: str
    at: float
    specialties: tuple[str, ...]
    root_event_id: str


@dataclass(frozen=True, slots=True)
class LogRow:
    """One line of a member's learning log: a case and what they did in it."""

    at: float
    room_id: str
    number: int
    specialties: tuple[str, ...]
    role: str
    root_event_id: str
    urls: tuple[str, ...]


def _specs(text: str) -> tuple[str, ...]:
    return tuple(s for s in text.split(",") if s)


_KNOWN = ("room_id, number, root_event_id, poster, specialties, status, opened_at, "
          "first_reply_at, resolved_at")


class LearningStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- cases and roles ---------------------------------------------------------------------
    async def mirror(self, case: Case) -> None:
        """Keep the case's ids, specialties, status and times (its poster's role too)."""
        await self.db.execute_later(
            f"INSERT INTO learning_cases ({_KNOWN}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (room_id, number) DO UPDATE SET specialties = excluded.specialties, "
            "status = excluded.status, first_reply_at = excluded.first_reply_at, "
            "resolved_at = excluded.resolved_at",
            (case.room_id, case.number, case.root_event_id, case.poster,
             ",".join(case.specialties), case.status, case.opened_at, case.first_reply_at,
             case.resolved_at))
        await self.add_role(case.room_id, case.number, case.poster, POSTED, case.opened_at)
        if case.resolved_by and case.resolved_at is not None:
            await self.add_role(case.room_id, case.number, case.resolved_by, RESOLVED,
                                case.resolved_at)

    async def add_role(self, room_id: str, number: int, user_id: str, role: str,
                       at: float) -> None:
        """The first time a member took this role in the case is the one kept."""
        await self.db.execute_later(
            "INSERT OR IGNORE INTO learning_roles (room_id, number, user_id, role, at) "
            "VALUES (?, ?, ?, ?, ?)", (room_id, number, user_id, role, at))

    async def rooms(self) -> list[str]:
        return [r["room_id"] for r in await self.db.fetchall(
            "SELECT DISTINCT room_id FROM learning_cases")]

    async def opened(self, room_id: str, start: float, end: float) -> list[Known]:
        return [self._known(r) for r in await self.db.fetchall(
            f"SELECT {_KNOWN} FROM learning_cases WHERE room_id = ? AND opened_at >= ? "
            "AND opened_at < ? ORDER BY opened_at", (room_id, start, end))]

    async def resolved(self, room_id: str, start: float, end: float) -> list[Known]:
        return [self._known(r) for r in await self.db.fetchall(
            f"SELECT {_KNOWN} FROM learning_cases WHERE room_id = ? AND status = 'resolved' "
            "AND resolved_at >= ? AND resolved_at < ? ORDER BY number",
            (room_id, start, end))]

    async def unanswered(self, room_id: str, before: float, limit: int) -> list[Known]:
        """Open cases no one answered yet, oldest first."""
        return [self._known(r) for r in await self.db.fetchall(
            f"SELECT {_KNOWN} FROM learning_cases WHERE room_id = ? AND status = 'open' "
            "AND first_reply_at IS NULL AND opened_at < ? ORDER BY opened_at LIMIT ?",
            (room_id, before, limit))]

    @staticmethod
    def _known(row: object) -> Known:
        values = dict(row)  # type: ignore[call-overload]
        values["specialties"] = _specs(values["specialties"])
        return Known(**values)

    # ---- references --------------------------------------------------------------------------
    async def add_refs(self, room_id: str, number: int, event_id: str, sender: str, at: float,
                       refs: Sequence[tuple[str, str]]) -> None:
        """(url, domain) pairs cited in a case's thread; a link already there stays as first
        cited."""
        await self.db.executemany_later(
            "INSERT OR IGNORE INTO learning_refs (room_id, number, url, domain, event_id, "
            "sender, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(room_id, number, url, domain, event_id, sender, at) for url, domain in refs])

    async def replace_refs(self, room_id: str, number: int, event_id: str, sender: str,
                           at: float, refs: Sequence[tuple[str, str]]) -> None:
        """An edit by `sender` of the message `event_id`: its references are now `refs` (none:
        the edit removed them), cited when the message first cited any (else at `at`)."""
        if not refs:  # most edits: one write, nothing to read
            await self.db.execute_later(
                "DELETE FROM learning_refs WHERE room_id = ? AND event_id = ? AND sender = ?",
                (room_id, event_id, sender))
            return
        async with self.db.transaction():
            first = await self.db.fetchval(
                "SELECT MIN(at) FROM learning_refs WHERE room_id = ? AND event_id = ? "
                "AND sender = ?", (room_id, event_id, sender))
            await self.db.execute(
                "DELETE FROM learning_refs WHERE room_id = ? AND event_id = ? AND sender = ?",
                (room_id, event_id, sender))
            await self.add_refs(room_id, number, event_id, sender,
                                at if first is None else first, refs)

    async def citer(self, room_id: str, event_id: str) -> str | None:
        """Who sent the message that cited references (None: it cited none)."""
        return await self.db.fetchval(
            "SELECT sender FROM learning_refs WHERE room_id = ? AND event_id = ? LIMIT 1",
            (room_id, event_id))

    async def drop_refs(self, room_id: str, event_id: str) -> None:
        """The message that cited them was redacted."""
        await self.db.execute_later("DELETE FROM learning_refs WHERE room_id = ? AND event_id = ?",
                              (room_id, event_id))

    async def refs(self, room_id: str, since: float, until: float | None = None,
                   specialty: str | None = None, limit: int = 50) -> list[Ref]:
        """The room's references cited in [since, until), newest first."""
        rows = await self.db.fetchall(
            "SELECT r.room_id, r.number, r.url, r.domain, r.at, c.specialties, "
            "c.root_event_id FROM learning_refs r JOIN learning_cases c "
            "ON c.room_id = r.room_id AND c.number = r.number "
            "WHERE r.room_id = ? AND r.at >= ? AND r.at < ? "
            "AND (? IS NULL OR instr(',' || c.specialties || ',', ',' || ? || ',') > 0) "
            "ORDER BY r.at DESC, r.url LIMIT ?",
            (room_id, since, until if until is not None else float("inf"), specialty,
             specialty, limit))
        return [Ref(r["room_id"], r["number"], r["url"], r["domain"], r["at"],
                    _specs(r["specialties"]), r["root_event_id"]) for r in rows]

    # ---- a member's log ----------------------------------------------------------------------
    async def log(self, user_id: str, since: float) -> list[LogRow]:
        """The cases `user_id` posted, answered or resolved since `since`, oldest first, with
        the references cited in each."""
        rows = await self.db.fetchall(
            "SELECT o.at, o.room_id, o.number, o.role, c.specialties, c.root_event_id, "
            "(SELECT group_concat(url, ' ') FROM (SELECT url FROM learning_refs r "
            " WHERE r.room_id = o.room_id AND r.number = o.number ORDER BY r.at, r.url)) "
            "AS urls FROM learning_roles o JOIN learning_cases c "
            "ON c.room_id = o.room_id AND c.number = o.number "
            "WHERE o.user_id = ? AND o.at >= ? ORDER BY o.at, o.room_id, o.number",
            (user_id, since))
        return [LogRow(r["at"], r["room_id"], r["number"], _specs(r["specialties"]),
                       r["role"], r["root_event_id"], tuple((r["urls"] or "").split()))
                for r in rows]

    # ---- the digest --------------------------------------------------------------------------
    async def schedules(self) -> dict[str, str]:
        """Each room's digest schedule as it was armed (setting and time zone)."""
        return {r["room_id"]: r["schedule"] for r in await self.db.fetchall(
            "SELECT room_id, schedule FROM learning_rooms")}

    async def dues(self) -> dict[str, float]:
        """The due time of each room's digest timer as it was armed (none when off)."""
        return {r["room_id"]: r["due"] for r in await self.db.fetchall(
            "SELECT room_id, due FROM learning_rooms WHERE due IS NOT NULL")}

    async def set_schedule(self, room_id: str, schedule: str, due: float | None = None) -> None:
        await self.db.execute(
            "INSERT INTO learning_rooms (room_id, schedule, due) VALUES (?, ?, ?) "
            "ON CONFLICT (room_id) DO UPDATE SET schedule = excluded.schedule, "
            "due = excluded.due", (room_id, schedule, due))

    async def digest_sent(self, room_id: str, due: float) -> bool:
        return bool(await self.db.fetchval(
            "SELECT 1 FROM learning_digests WHERE room_id = ? AND due = ?", (room_id, due)))

    async def last_digests(self) -> dict[str, float]:
        """Each room's latest digest due time (posted, or empty and so not posted)."""
        return {r["room_id"]: r["due"] for r in await self.db.fetchall(
            "SELECT room_id, MAX(due) AS due FROM learning_digests GROUP BY room_id")}

    async def record_digest(self, room_id: str, due: float, event_id: str | None) -> None:
        await self.db.execute(
            "INSERT OR IGNORE INTO learning_digests (room_id, due, event_id) VALUES (?, ?, ?)",
            (room_id, due, event_id))
