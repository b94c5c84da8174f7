"""What the sync loop keeps across restarts: the sync token and the events held for their keys.

Two rows of the core's `kv` table (created by `bot.loading.CORE_MIGRATIONS`; the keys are those
of earlier versions, so an upgrade keeps both). The App saves the token once a batch is
handled (its exactly-once contract); the transport saves which events wait for their keys.
Neither reaches into the other for it: each is given this store.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import NamedTuple

from bot.storage import Database

TOKEN_KEY = "sync_token"
HELD_KEY = "undecryptable_pending"
"""Its value: a JSON list of `[room id, event id, held since]` (`casebot doctor` counts it)."""


class Held(NamedTuple):
    """An event held for its key, as kept across a restart (ids only, no content)."""

    room_id: str
    event_id: str
    since: float


class SyncStore:
    """The sync token and the held events' ids, typed, in the database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def _load(self, key: str) -> str | None:
        return await self.db.fetchval("SELECT value FROM kv WHERE key = ?", (key,))

    async def _save(self, key: str, value: str) -> None:
        await self.db.execute(
            "INSERT INTO kv (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    async def token(self) -> str | None:
        """The token of the last batch handled, or None before the first one."""
        return await self._load(TOKEN_KEY)

    async def save_token(self, token: str) -> None:
        await self._save(TOKEN_KEY, token)

    async def held(self) -> list[Held]:
        """The events a previous run was still waiting keys for (a damaged value: none)."""
        raw = await self._load(HELD_KEY)
        try:
            saved = json.loads(raw) if isinstance(raw, str) else []
        except ValueError:
            saved = []
        return [Held(str(item[0]), str(item[1]), float(item[2]))
                for item in (saved if isinstance(saved, list) else [])
                if isinstance(item, list) and len(item) == 3]

    async def save_held(self, held: Sequence[Held]) -> None:
        await self._save(HELD_KEY, json.dumps([list(h) for h in held]))
