"""What the network feature keeps: links only (room ids, event ids, user ids, times), never a
text — the texts live in the encrypted rooms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.storage import Database, Migration

RELAYS = """
CREATE TABLE IF NOT EXISTS network_relays (
    id INTEGER PRIMARY KEY,
    source_room TEXT NOT NULL, source_root TEXT NOT NULL, source_number INTEGER NOT NULL,
    target_room TEXT NOT NULL, target_root TEXT NOT NULL, target_number INTEGER,
    poster TEXT NOT NULL, shared_at REAL NOT NULL,
    withdrawn_at REAL, resolved_at REAL
);
CREATE INDEX IF NOT EXISTS network_relays_source ON network_relays (source_room, source_root);
CREATE INDEX IF NOT EXISTS network_relays_target ON network_relays (target_room, target_root);
CREATE INDEX IF NOT EXISTS network_relays_poster ON network_relays (poster, shared_at);
CREATE TABLE IF NOT EXISTS network_mirrors (
    relay_id INTEGER NOT NULL,
    from_room TEXT NOT NULL, from_event TEXT NOT NULL,
    to_room TEXT NOT NULL, to_event TEXT NOT NULL,
    at REAL NOT NULL, answer INTEGER NOT NULL,
    PRIMARY KEY (from_room, from_event, to_room)
);
CREATE INDEX IF NOT EXISTS network_mirrors_to ON network_mirrors (to_room, to_event);
CREATE INDEX IF NOT EXISTS network_mirrors_relay ON network_mirrors (relay_id);
CREATE TABLE IF NOT EXISTS network_offers (
    room_id TEXT NOT NULL, event_id TEXT NOT NULL, root TEXT NOT NULL,
    PRIMARY KEY (room_id, event_id)
);
CREATE TABLE IF NOT EXISTS network_requests (
    source_room TEXT NOT NULL, target_room TEXT NOT NULL, event_id TEXT NOT NULL,
    asked_at REAL NOT NULL, accepted_by TEXT, accepted_at REAL,
    PRIMARY KEY (source_room, target_room)
);
CREATE INDEX IF NOT EXISTS network_requests_event ON network_requests (target_room, event_id);
"""

MIGRATIONS = (
    Migration("relayed cases, mirrored messages, offers and consent requests (ids and times "
              "only)", RELAYS),
)


@dataclass(frozen=True, slots=True)
class Relay:
    """A case of `source_room` relayed to `target_room`: both threads' roots and numbers."""

    id: int
    source_room: str
    source_root: str
    source_number: int
    target_room: str
    target_root: str
    target_number: int | None
    poster: str
    shared_at: float
    withdrawn_at: float | None
    resolved_at: float | None

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None

    def other_side(self, room_id: str) -> tuple[str, str, int | None]:
        """(room, root, number) of the thread across from `room_id`'s."""
        if room_id == self.source_room:
            return self.target_room, self.target_root, self.target_number
        return self.source_room, self.source_root, self.source_number


@dataclass(frozen=True, slots=True)
class Figures:
    shared: int
    answers: int
    resolved: int
    received: int


class NetworkStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._threads: set[tuple[str, str]] | None = None
        """Every (room, root) a relay was made from or to, read once: a thread not in it has
        no relay, and asking costs no trip (every message of every case thread asks). A
        relay forgotten leaves its threads in: then the query answers none."""

    @staticmethod
    def _relay(row: Any) -> Relay | None:
        return Relay(**dict(row)) if row is not None else None

    async def add_relay(self, source_room: str, source_root: str, source_number: int,
                        target_room: str, target_root: str, poster: str, at: float) -> int:
        relay_id = int(await self.db.fetchval(
            "INSERT INTO network_relays (source_room, source_root, source_number, target_room,"
            " target_root, poster, shared_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (source_room, source_root, source_number, target_room, target_root, poster, at)))
        if self._threads is not None:
            self._threads.update(((source_room, source_root), (target_room, target_root)))
        return relay_id

    async def numbered(self, relay_id: int, number: int) -> None:
        await self.db.execute("UPDATE network_relays SET target_number = ? WHERE id = ?",
                              (number, relay_id))

    async def forget(self, relay_id: int) -> None:
        """A relay that failed half-way: nothing of it is kept."""
        await self.db.execute("DELETE FROM network_relays WHERE id = ?", (relay_id,))

    async def withdrawn(self, relay_id: int, at: float) -> None:
        await self.db.execute("UPDATE network_relays SET withdrawn_at = ? WHERE id = ?",
                              (at, relay_id))

    async def resolved(self, relay_id: int, at: float | None) -> None:
        await self.db.execute("UPDATE network_relays SET resolved_at = ? WHERE id = ?",
                              (at, relay_id))

    async def of_thread(self, room_id: str, root: str) -> list[Relay]:
        """The relays whose source or relayed thread is this one, oldest first."""
        if self._threads is None:
            self._threads = set()
            for row in await self.db.fetchall("SELECT source_room, source_root, target_room,"
                                              " target_root FROM network_relays"):
                self._threads.update(((row[0], row[1]), (row[2], row[3])))
        if (room_id, root) not in self._threads:
            return []
        rows = await self.db.fetchall(
            "SELECT * FROM network_relays WHERE (source_room = ? AND source_root = ?) "
            "OR (target_room = ? AND target_root = ?) ORDER BY id",
            (room_id, root, room_id, root))
        return [Relay(**dict(r)) for r in rows]

    async def shares_since(self, poster: str, since: float) -> int:
        return int(await self.db.fetchval(
            "SELECT COUNT(*) FROM network_relays WHERE poster = ? AND shared_at > ?",
            (poster, since)))

    # ---- mirrors -----------------------------------------------------------------------------
    async def add_mirror(self, relay_id: int, from_room: str, from_event: str, to_room: str,
                         to_event: str, at: float, answer: bool) -> None:
        await self.db.execute(
            "INSERT OR REPLACE INTO network_mirrors VALUES (?, ?, ?, ?, ?, ?, ?)",
            (relay_id, from_room, from_event, to_room, to_event, at, int(answer)))

    async def mirrors_of(self, from_room: str, from_event: str) -> dict[str, str]:
        """The mirrors of this message: room → event."""
        rows = await self.db.fetchall(
            "SELECT to_room, to_event FROM network_mirrors WHERE from_room = ? AND "
            "from_event = ?", (from_room, from_event))
        return {r["to_room"]: r["to_event"] for r in rows}

    async def mirrors_into(self, relay_id: int, to_room: str) -> list[str]:
        rows = await self.db.fetchall(
            "SELECT to_event FROM network_mirrors WHERE relay_id = ? AND to_room = ?",
            (relay_id, to_room))
        return [r["to_event"] for r in rows]

    # ---- offers and requests -----------------------------------------------------------------
    async def add_offer(self, room_id: str, event_id: str, root: str) -> None:
        await self.db.execute("INSERT OR IGNORE INTO network_offers VALUES (?, ?, ?)",
                              (room_id, event_id, root))

    async def offer_root(self, room_id: str, event_id: str) -> str | None:
        return await self.db.fetchval(
            "SELECT root FROM network_offers WHERE room_id = ? AND event_id = ?",
            (room_id, event_id))

    async def request(self, source_room: str, target_room: str) -> Any:
        return await self.db.fetchone(
            "SELECT * FROM network_requests WHERE source_room = ? AND target_room = ?",
            (source_room, target_room))

    async def add_request(self, source_room: str, target_room: str, event_id: str,
                          at: float) -> None:
        await self.db.execute(
            "INSERT OR REPLACE INTO network_requests (source_room, target_room, event_id, "
            "asked_at) VALUES (?, ?, ?, ?)", (source_room, target_room, event_id, at))

    async def request_at(self, target_room: str, event_id: str) -> str | None:
        """The source room of the consent request `event_id` posted in `target_room`, when
        it is still unanswered."""
        return await self.db.fetchval(
            "SELECT source_room FROM network_requests WHERE target_room = ? AND event_id = ? "
            "AND accepted_at IS NULL", (target_room, event_id))

    async def accept(self, source_room: str, target_room: str, by: str, at: float) -> None:
        await self.db.execute(
            "UPDATE network_requests SET accepted_by = ?, accepted_at = ? WHERE source_room = ?"
            " AND target_room = ?", (by, at, source_room, target_room))

    async def accepted(self, source_room: str, target_room: str) -> bool:
        return bool(await self.db.fetchval(
            "SELECT 1 FROM network_requests WHERE source_room = ? AND target_room = ? AND "
            "accepted_at IS NOT NULL", (source_room, target_room)))

    # ---- figures -----------------------------------------------------------------------------
    async def figures(self, room_id: str, since: float, until: float = float("inf")
                      ) -> Figures:
        """Cases of the room relayed in [since, until), answers that came back to them in
        that period, those resolved after such an answer, and cases relayed into the room."""
        shared = await self.db.fetchval(
            "SELECT COUNT(*) FROM network_relays WHERE source_room = ? AND shared_at >= ? "
            "AND shared_at < ?", (room_id, since, until))
        answers = await self.db.fetchval(
            "SELECT COUNT(*) FROM network_mirrors m JOIN network_relays r ON r.id = m.relay_id"
            " WHERE r.source_room = ? AND m.to_room = ? AND m.answer = 1 AND m.at >= ? "
            "AND m.at < ?", (room_id, room_id, since, until))
        resolved = await self.db.fetchval(
            "SELECT COUNT(*) FROM network_relays r WHERE r.source_room = ? AND "
            "r.resolved_at >= ? AND r.resolved_at < ? AND EXISTS (SELECT 1 FROM "
            "network_mirrors m WHERE m.relay_id = r.id AND m.to_room = r.source_room AND "
            "m.answer = 1 AND m.at <= r.resolved_at)", (room_id, since, until))
        received = await self.db.fetchval(
            "SELECT COUNT(*) FROM network_relays WHERE target_room = ? AND shared_at >= ? "
            "AND shared_at < ?", (room_id, since, until))
        return Figures(int(shared), int(answers), int(resolved), int(received))
