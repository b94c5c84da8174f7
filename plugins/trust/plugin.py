"""The trust feature, wired: who is in the room (verified physicians, knocks), reports to
the moderators, and a conduct charter next to the secrecy rules.

Two handler objects declare its commands, hooks and timer: `commands.Verification`
(verification, knocks, what the other features ask) and `reports.Reports` (`!report`); tables
in `store`. One way only: trust subscribes to the case lifecycle (`CaseOpening` refuses an
unverified poster in a verified room, `PosterSigns` shows ✔, `StatsLines` counts), to the
volunteers' `VolunteerMarks` (skip unverified volunteers in a verified room, ✔ after names)
and to the secrecy rules' `RulesLines` (the charter). None of them knows about trust.
"""

from __future__ import annotations

from typing import Any

from bot.plugin import Plugin
from plugins.trust.commands import SWEEP_AFTER_START, TrustConfig, Verification
from plugins.trust.reports import Reports
from plugins.trust.store import MIGRATIONS, TrustStore
from plugins.trust.strings import STRINGS


class Trust(Plugin):
    name = "trust"
    Config = TrustConfig
    strings = STRINGS
    migrations = MIGRATIONS
    room_settings = ("policy", "moderation_room", "charter", "charter_text")

    def __init__(self, bot: Any, config: TrustConfig) -> None:
        super().__init__(bot, config)
        self.store = TrustStore(bot.db)
        verification = Verification(bot, self.store, self.name, config, self.config_for)
        self.parts = (verification, Reports(bot, self.store, verification))

    @classmethod
    def check(cls, config: TrustConfig) -> list[str]:
        return [f"trust.verification_rooms: {room!r} is not a room id (!…; an alias may "
                "later name another room)"
                for room in config.verification_rooms if not room.startswith("!")]

    async def start(self) -> None:
        await self.store.load()
        await self.bot.schedule(self.name, "sweep", self.bot.now() + SWEEP_AFTER_START)


__all__ = ["Trust", "TrustConfig"]
