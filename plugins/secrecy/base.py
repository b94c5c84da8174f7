"""What secrecy's jobs share: its config, its store, the flags in memory.

Each job (`gate`, `warnings`, `redact`, `rules`, `photos`) is a handler object over this base
that declares its own commands and hooks; `plugin.py` lists them as the plugin's parts."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from bot.plugin import BotAPI
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


class SecrecyPart:
    """Base of secrecy's parts, the handler objects of its jobs: what they share (the bot, the
    config, the store, the flags in memory), given by the plugin's wiring."""

    def __init__(self, bot: BotAPI, name: str, config: SecrecyConfig,
                 config_for: Callable[[str], SecrecyConfig], store: SecrecyStore,
                 flags: Flags) -> None:
        self.bot = bot
        self.name = name
        self.config = config
        self.config_for = config_for
        self.store = store
        self.flags = flags

    async def count(self, room_id: str, kinds: Iterable[str]) -> None:
        """Add one per kind to today's counts (kinds only: no text, no value)."""
        await self.store.count(room_id, kinds, self.bot.now())
