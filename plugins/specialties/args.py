"""`SpecialtyArg`: a command argument that names one of the room's specialties.

Converters are synchronous and get only the command's context, so they cannot await a
plugin. The room's set is kept in memory by the `Specialties` plugin: it registers itself
here for its bot when it is created (`serve`), and a converter reads the set of
`ctx.room_id` through `room_specialties(ctx)`. The registry holds the plugin weakly, by its
bot, so several bots (tests) each see their own, and nothing outlives its bot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from weakref import WeakValueDictionary

from bot.i18n import echo
from bot.plugin import Context, Refusal
from bot.router import Arg
from plugins.specialties.catalog import Specialty, match_specialties

if TYPE_CHECKING:
    from plugins.specialties.plugin import Specialties

_SERVING: WeakValueDictionary[int, Specialties] = WeakValueDictionary()


def serve(bot: Any, plugin: Specialties) -> None:
    """Make `plugin` the one converters of `bot`'s commands read."""
    _SERVING[id(bot)] = plugin


def room_specialties(ctx: Context) -> tuple[Specialty, ...]:
    """The specialties of the context's room (the set its cases are tagged with)."""
    return _SERVING[id(ctx.bot)].for_room(ctx.room_id)


def find_specialty(ctx: Context, word: str) -> Specialty | None:
    """The room's specialty `word` names (id or alias, `#`, case and accents optional)."""
    found, _ = match_specialties([word], room_specialties(ctx))
    return next((s for s in room_specialties(ctx) if s.id == found[0]), None) if found else None


@dataclass(frozen=True, slots=True)
class SpecialtyArg(Arg):
    """One word naming a specialty of the room, converted to its `Specialty`.

    A word naming none refuses the command with the string `unknown` (given `name`, the
    word, and `prefix`), which points to `!specialties` rather than to a usage line.
    """

    unknown: str = "specialties.unknown"

    def convert(self, raw: str, ctx: Context) -> Specialty:
        found = find_specialty(ctx, raw)
        if found is None:
            raise Refusal(ctx.t(self.unknown, name=echo(raw), prefix=ctx.prefix))
        return found
