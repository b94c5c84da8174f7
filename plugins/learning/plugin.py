"""The learning feature, wired: what the room learns from its cases.

Three handler objects declare its hooks, timer and commands: `lifecycle.CaseLog` keeps what
it knows of cases (from the lifecycle the cases feature publishes, `plugins.cases.events`) in
its own tables (ids, times, specialties, roles, links); `digest.Digests` posts a weekly
digest per room; `commands.Answers` answers `!biblio` (the references shared in case
threads), `!fmc` (a member's FMC/DPC log as a CSV in an encrypted direct room) and draws a
chart under `!stats`.
"""

from __future__ import annotations

import functools
from typing import Any

from bot.plugin import Plugin
from plugins.learning.commands import Answers, LearningConfig
from plugins.learning.digest import Digests, specialty_names
from plugins.learning.lifecycle import CaseLog
from plugins.learning.store import MIGRATIONS, LearningStore
from plugins.learning.strings import STRINGS
from plugins.secrecy import Secrecy
from plugins.specialties import Specialties


class Learning(Plugin):
    name = "learning"
    Config = LearningConfig
    strings = STRINGS
    migrations = MIGRATIONS
    requires = (Specialties, Secrecy)
    """Secrecy: its detector decides which references a message may keep."""
    room_settings = ("digest", "sources")

    def __init__(self, bot: Any, config: LearningConfig) -> None:
        super().__init__(bot, config)
        store = LearningStore(bot.db)
        names = functools.partial(specialty_names, functools.partial(self.required, Specialties))
        self.digests = Digests(bot, store, self.name,
                               lambda room: self.config_for(room).digest, names)
        self.parts = (CaseLog(store, lambda room: self.config_for(room).sources), self.digests,
                      Answers(bot, store, names, self.config_for))

    async def start(self) -> None:
        await self.digests.start()


__all__ = ["Learning", "LearningConfig"]
