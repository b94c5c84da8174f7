"""What secrecy's jobs share: its config, its store, the flags in memory.

Each job (`gate`, `warnings`, `redact`, `rules`, `photos`) is a class over this base that
declares its own commands and hooks; `plugin.py` joins them into the `Secrecy` plugin, so no
handler is a forwarder (the core reads declarations on the plugin's class)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from bot.plugin import BotAPI, Plugin
from plugins.secrecy.flags import Flags
from plugins.secrecy.store import SecrecyStore


@dataclass(frozen=True, slots=True)
class SecrecyConfig:
    mode: Literal["warn", "redact"] = "warn"
    rules_text: str = ""
    """One rules text for every language (a room's own); wins over the per-language ones."""
    rules_text_fr: str = ""
    rules_text_en: str = ""
    """Empty: the built-in rules text."""


class SecrecyBase(Plugin):
    config: SecrecyConfig

    def __init__(self, bot: BotAPI, config: SecrecyConfig) -> None:
        super().__init__(bot, config)
        self.store = SecrecyStore(bot.db)
        self.flags = Flags()
        self.overflowing: set[tuple[str, str]] = set()
        """(room, member) told that their next photos are not checked, until their jobs
        waiting in the lane are done."""

    async def count(self, room_id: str, kinds: Iterable[str]) -> None:
        """Add one per kind to today's counts (kinds only: no text, no value)."""
        await self.store.count(room_id, kinds, self.bot.now())
