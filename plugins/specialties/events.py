"""What the specialties feature publishes for the features that keep something per specialty.

Data flows one way: specialties publishes, cases and volunteers subscribe (`@on(...)`) and
return what the announcement or the listing shows; specialties never calls them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.events import PluginEvent
from plugins.specialties.catalog import Specialty


@dataclass(frozen=True, slots=True)
class SpecialtyRemoved(PluginEvent):
    """A room stopped using `specialty` (`!specialty remove`, or `reset` dropped one it had
    added). Each hook follows it (volunteers unregister) and returns a list of lines (tuples
    of parts) to add to the room's announcement."""

    room_id: str
    specialty: Specialty


@dataclass(frozen=True, slots=True)
class SpecialtyFigures(PluginEvent):
    """`!specialties` is listing the room's set: each hook returns short figures per
    specialty id, `{specialty_id: [text, …]}` (« 3 cas ouvert(s) », « 2 volontaire(s) »)."""

    room_id: str
