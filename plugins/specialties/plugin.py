"""The specialties feature: which specialties a room tags its cases with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.plugin import Plugin
from plugins.specialties.catalog import Specialty, load_defaults, specialties_from_data


@dataclass(frozen=True, slots=True)
class SpecialtiesConfig:
    defaults: tuple[dict[str, Any], ...] | None = None
    """A replacement for the shipped set (same fields as defaults.yaml); None keeps it."""


class Specialties(Plugin):
    name = "specialties"
    Config = SpecialtiesConfig

    def __init__(self, bot: Any, config: SpecialtiesConfig) -> None:
        super().__init__(bot, config)
        self.defaults: tuple[Specialty, ...] = (
            specialties_from_data(list(config.defaults)) if config.defaults else load_defaults())

    def for_room(self, room_id: str) -> tuple[Specialty, ...]:
        """The specialties cases of `room_id` are tagged with."""
        return self.defaults
