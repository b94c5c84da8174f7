"""What the specialties feature asks the features that keep something per specialty.

Data flows one way: specialties asks (`ctx.ask`), cases and volunteers answer (`@on(...)`)
with what the announcement or the listing shows; specialties never calls them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.content import Part
from bot.events import Query
from plugins.specialties.catalog import Specialty


@dataclass(frozen=True, slots=True)
class SpecialtyRemoved(Query[list[tuple[Part, ...]]]):
    """A room stopped using `specialty` (`!specialty remove`, or `reset` dropped one it had
    added). Each hook follows it (volunteers unregister) and returns a list of lines (tuples
    of parts) to add to the room's announcement."""

    answers: ClassVar[type] = list

    room_id: str
    specialty: Specialty


@dataclass(frozen=True, slots=True)
class SpecialtyFigures(Query[dict[str, list[str]]]):
    """`!specialties` is listing the room's set: each hook returns short figures per
    specialty id, `{specialty_id: [text, …]}` (« 3 cas ouvert(s) », « 2 volontaire(s) »)."""

    answers: ClassVar[type] = dict

    room_id: str
