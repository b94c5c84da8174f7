"""The specialties plugin's start: the default set's matcher is ready before the first case."""

from __future__ import annotations

from bot.testing import Harness
from plugins.cases import Cases
from plugins.specialties import Specialties
from plugins.specialties.classify import _BY_IDENTITY, _compile

POSTER = "@alice:test"
ROOM = "!room:test"


async def test_the_default_matcher_is_compiled_at_start_not_on_the_first_case() -> None:
    _compile.cache_clear()
    _BY_IDENTITY.clear()  # the default set is one tuple, compiled by an earlier test maybe
    async with Harness([Specialties, Cases]) as h:
        h.add_room(ROOM, members=[POSTER])
        assert _compile.cache_info().misses == 1  # compiled by `start()`
        root = await h.say(POSTER, "!case Femme 45 ans, plaques des coudes, psoriasis ?")
        assert h.in_thread(root)[0].body.startswith("Cas #1 · Dermatologie · ouvert")
        assert _compile.cache_info().misses == 1  # the first case found it compiled
