"""The volunteers feature, wired: its config, tables, strings, and the two handler objects
that declare its commands, hooks and timers: `commands.Commands` (what members type, and who
volunteers as the room changes) and `paging.Pager` (the case lifecycle: choosing, paging,
escalation).

What it knows of cases comes from the case lifecycle the cases feature publishes
(`plugins.cases.events`), and what it knows of specialties from the specialties feature it
requires; it never reaches into either.
"""

from __future__ import annotations

import functools
from typing import Any

from bot.plugin import Plugin
from plugins.specialties import Specialties
from plugins.volunteers.commands import Commands
from plugins.volunteers.paging import Pager, VolunteersConfig
from plugins.volunteers.store import MIGRATIONS, VolunteerStore
from plugins.volunteers.strings import STRINGS


class Volunteers(Plugin):
    name = "volunteers"
    help_section = "volunteers"
    Config = VolunteersConfig
    strings = STRINGS
    migrations = MIGRATIONS
    requires = (Specialties,)
    room_settings = ("per_round", "max_rounds", "daily_cap", "escalate_after", "fallback",
                     "urgent_word", "confirm_wait")

    def __init__(self, bot: Any, config: VolunteersConfig) -> None:
        super().__init__(bot, config)
        store = VolunteerStore(bot.db)
        specialties = functools.partial(self.required, Specialties)
        pager = Pager(bot, store, self.name, self.config_for, specialties)
        self.parts = (pager, Commands(bot, store, pager, self.config_for, specialties))


__all__ = ["Volunteers", "VolunteersConfig"]
