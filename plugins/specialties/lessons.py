"""Where the rooms' learned weights are kept (`specialties.learn`), and the lessons waiting for
a case's confirmation.

The table holds, per scope (a room id, or `*` when the operator pools rooms), one row per
(vocabulary word, specialty id) with a summed weight: no text, no event id, no sender, no
count of posts. A case waiting for its confirmation keeps its post's vocabulary words in
memory only (never its text), at most `MAX_PENDING` cases, and forgets them once confirmed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from bot.storage import Database, Migration
from plugins.specialties.learn import CONFIRMED, CORRECTED, RoomModel, canonical_words

POOLED = "*"
MODES = ("room", "pooled", "off")
MAX_PENDING = 4096

MIGRATIONS = (
    Migration("what each room taught the tagger (vocabulary words only)", """
    CREATE TABLE tagger_weights (
        scope TEXT NOT NULL,
        word TEXT NOT NULL,
        specialty_id TEXT NOT NULL,
        weight REAL NOT NULL,
        PRIMARY KEY (scope, word, specialty_id)
    )
    """),
)


class Lessons:
    """The models of the rooms (or the pooled one), loaded at start and written through."""

    def __init__(self, db: Database, mode: str) -> None:
        self.db = db
        self.mode = mode
        self.models: dict[str, RoomModel] = {}
        self._pending: OrderedDict[tuple[str, str], tuple[tuple[str, ...], str]] = OrderedDict()

    def scope(self, room_id: str) -> str:
        return POOLED if self.mode == "pooled" else room_id

    async def load(self) -> None:
        self.models.clear()
        if self.mode == "off":
            return
        known = canonical_words()
        dropped: set[str] = set()
        for row in await self.db.fetchall("SELECT * FROM tagger_weights"):
            if row["word"] in known:
                model = self.models.setdefault(row["scope"], RoomModel())
                model.weights.setdefault(row["word"], {})[row["specialty_id"]] = row["weight"]
            else:
                dropped.add(row["word"])
        # A word a later vocabulary dropped (a name among the eponyms) is erased, not only unused.
        await self.db.executemany("DELETE FROM tagger_weights WHERE word = ?",
                                  [(word,) for word in sorted(dropped)])

    def model(self, room_id: str) -> RoomModel | None:
        """The model tagging the room's posts (None when learning is off or empty)."""
        return None if self.mode == "off" else self.models.get(self.scope(room_id))

    def expect(self, room_id: str, key: str, words: Sequence[str], guess: str) -> None:
        """A case `key` of the room was tagged; `guess` is its confident tag ("" if none)."""
        if self.mode == "off":
            return
        self._pending[(room_id, key)] = (tuple(words), guess)
        self._pending.move_to_end((room_id, key))
        while len(self._pending) > MAX_PENDING:
            self._pending.popitem(last=False)

    async def confirmed(self, room_id: str, key: str, ids: Sequence[str]) -> int:
        """The room chose `ids` for case `key`: learn from its words (a wrong confident guess
        weighs CORRECTED), store; how many weights changed (0: nothing pending)."""
        pending = self._pending.pop((room_id, key), None)
        if pending is None or not ids or self.mode == "off":
            return 0
        words, guess = pending
        weight = CORRECTED if guess and guess != ids[0] else CONFIRMED
        scope = self.scope(room_id)
        changed = self.models.setdefault(scope, RoomModel()).learn_words(words, ids, weight)
        await self.db.executemany(
            "INSERT INTO tagger_weights (scope, word, specialty_id, weight) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (scope, word, specialty_id) DO UPDATE SET weight = excluded.weight",
            [(scope, word, sid, weight) for word, sid, weight in changed])
        return len(changed)

    async def forget(self, room_id: str, specialty_id: str | None = None) -> None:
        scope = self.scope(room_id)
        model = self.models.get(scope)
        if model is not None:
            model.forget(specialty_id)
        if specialty_id is None:
            await self.db.execute("DELETE FROM tagger_weights WHERE scope = ?", (scope,))
        else:
            await self.db.execute("DELETE FROM tagger_weights WHERE scope = ? AND "
                                  "specialty_id = ?", (scope, specialty_id))
