"""The volunteers feature on the case events alone: no cases plugin, the test publishes
`CaseNumbered`, `CaseOpened`, `CaseChanged`… itself, as the cases feature does, and records
`CardDirty`."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bot.events import Message, Query
from bot.plugin import Context, Plugin, on
from bot.storage import Database
from bot.testing import Harness
from plugins.cases.events import (
    CardDirty,
    CardLines,
    CaseChanged,
    CaseNumbered,
    CaseOpened,
    CaseReplied,
    CaseRootGone,
)
from plugins.cases.model import Case
from plugins.cases.store import MIGRATIONS as CASE_MIGRATIONS
from plugins.specialties import Specialties, load_defaults
from plugins.specialties.events import SpecialtyFigures, SpecialtyRemoved
from plugins.volunteers import Volunteers
from plugins.volunteers.store import MIGRATIONS

POSTER, V1, V2, V3 = "@alice:test", "@v1:test", "@v2:test", "@v3:test"
ROOM = "!room:test"
MIN = 60.0


class Cards(Plugin):
    """Stands in for the cases feature: remembers which cards were asked to be redrawn."""

    name = "cards"

    def __init__(self, bot: Any, config: Any) -> None:
        super().__init__(bot, config)
        self.stale: list[CardDirty] = []

    @on(CardDirty)
    async def redraw(self, ctx: Context, event: CardDirty) -> None:
        self.stale.append(event)


@pytest.fixture
async def h():
    async with Harness([Specialties, Volunteers, Cards],
                       sections={"volunteers": {"per_round": 1}}) as hh:
        hh.add_room(ROOM, members=[POSTER, V1, V2, V3])
        for user in (V1, V2):
            await hh.say(user, "!volunteer dermato")
        await hh.say(V3, "!volunteer rhumato")
        hh.clear()
        yield hh


def a_case(number: int = 1, **changes: Any) -> Case:
    case = Case(room_id=ROOM, number=number, root_event_id=f"$root{number}",
                card_event_id=f"$card{number}", poster=POSTER, specialties=("dermato",),
                tag_source="hashtag", status="open", opened_at=0.0)
    return dataclasses.replace(case, **changes)


async def publish(h: Harness, event: Any, root: str = "$root1") -> list[Any]:
    """Tell `event` (ask it, if a query) from the context of a message in `root`'s thread
    (as cases does); the answers."""
    source = Message(ROOM, f"$src{len(h.sent)}", POSTER, h._ts(), "!case", thread_root=root)
    ctx = Context.for_event(h.app, source)
    if isinstance(event, Query):
        return await ctx.ask(event)
    await ctx.tell(event)
    return []


async def open_case(h: Harness, case: Case, text: str) -> None:
    """What cases publishes for a new case: `CaseNumbered` (no card yet), the card is drawn
    and sent, then `CaseOpened`."""
    root = case.root_event_id
    await publish(h, CaseNumbered(dataclasses.replace(case, card_event_id=None), text), root)
    await publish(h, CaseOpened(case, text), root)


def stale(h: Harness) -> list[CardDirty]:
    return h.app.plugins["cards"].stale  # type: ignore[attr-defined]


def pages(h: Harness, root: str = "$root1") -> list[list[str]]:
    return [s.mentions for s in h.in_thread(root) if "un avis ?" in s.body]


async def lines(h: Harness, case: Case) -> list[str]:
    found = await publish(h, CardLines(case))
    return ["".join(str(getattr(p, "text", p)) for p in line)
            for result in found for line in result]


async def test_the_card_is_drawn_once_with_who_is_paged_then_the_page_follows(
        h: Harness) -> None:
    new = dataclasses.replace(a_case(), card_event_id=None)
    await publish(h, CaseNumbered(new, "plaques #dermato"))
    assert pages(h) == []  # chosen and recorded, not sent: the card comes first
    assert await lines(h, new) == ["Confrères sollicités : @v1:test"]  # its first drawing
    await publish(h, CaseOpened(a_case(), "plaques #dermato"))
    assert pages(h) == [[V1]]
    assert stale(h) == []  # nothing to redraw: the card was sent complete
    row = await h.db.fetchone("SELECT * FROM volunteer_cases")
    assert (row["root_event_id"], row["card_event_id"], row["poster"], row["tags"]) == (
        "$root1", "$card1", POSTER, "dermato")


async def test_escalation_reads_only_its_own_tables(h: Harness) -> None:
    await open_case(h, a_case(), "plaques")
    await h.advance(30 * MIN)
    assert pages(h) == [[V1], [V2]]
    assert stale(h) == [CardDirty(ROOM, 1)]  # the second round: the card lists it too
    await h.advance(30 * MIN)
    await h.advance(30 * MIN)
    assert "aucun bénévole disponible" in h.last().body and h.last().mentions == [POSTER]


async def test_first_reply_or_closing_stops_the_escalation(h: Harness) -> None:
    await open_case(h, a_case(), "plaques")
    await publish(h, CaseChanged(a_case(replies=1), a_case()))
    assert await h.db.fetchval("SELECT COUNT(*) FROM timers") == 0
    await h.advance(2 * 3600)
    assert pages(h) == [[V1]]
    await open_case(h, a_case(2), "plaques")
    await publish(h, CaseChanged(a_case(2, status="resolved"), a_case(2)), root="$root2")
    await open_case(h, a_case(3), "plaques")
    await publish(h, CaseRootGone(a_case(3)), root="$root3")
    assert await h.db.fetchval("SELECT COUNT(*) FROM timers") == 0


async def test_retag_pages_the_new_specialty_as_the_next_round(h: Harness) -> None:
    await open_case(h, a_case(), "plaques")
    retagged = a_case(specialties=("dermato", "rhumato"))
    await publish(h, CaseChanged(retagged, a_case()))
    assert pages(h) == [[V1], [V3]]
    assert h.in_thread("$root1")[-1].body.startswith("Cas #1 (Dermatologie, Rhumatologie)")
    await publish(h, CaseChanged(retagged, retagged))  # nothing new: nobody paged
    assert pages(h) == [[V1], [V3]]
    assert len(stale(h)) == 1  # the retag's round (the first was on the card already)


async def test_take_records_it_here_and_asks_for_a_redraw(h: Harness) -> None:
    await open_case(h, a_case(), "plaques")
    await h.say(V2, "!take", thread_root="$root1")
    assert h.last().body == "Cas #1 pris en charge par @v2:test. Merci !"
    assert stale(h)[-1] == CardDirty(ROOM, 1)
    assert await h.db.fetchval("SELECT taken_by FROM volunteer_cases") == V2
    assert await lines(h, a_case()) == ["Confrères sollicités : @v1:test",
                                        "Pris en charge par @v2:test"]
    assert await h.db.fetchval("SELECT COUNT(*) FROM timers") == 0
    await h.say(V1, "!take", thread_root="$root1")
    assert h.last().body == "Cas #1 déjà pris en charge par @v2:test."
    await h.say(V1, "!take", thread_root="$elsewhere")
    assert "dans le fil d’un cas ouvert" in h.last().body


@pytest.mark.parametrize("target", ["$root1", "$card1", "page"])
async def test_interest_on_root_card_or_page_stops_the_escalation(h: Harness,
                                                                 target: str) -> None:
    await open_case(h, a_case(), "plaques")
    if target == "page":
        target = h.in_thread("$root1")[-1].event_id
    await h.react(V3, target, "🙋🏽")
    await h.advance(2 * 3600)
    assert pages(h) == [[V1]]


async def test_replies_of_colleagues_count_in_the_stats(h: Harness) -> None:
    await open_case(h, a_case(), "plaques")
    h.clock.value += 10 * MIN
    for sender in (V1, POSTER):
        reply = Message(ROOM, f"$reply{sender}", sender, h._ts(), "réponse",
                        thread_root="$root1")
        await publish(h, CaseReplied(a_case(replies=1), reply))
    await h.say(POSTER, "!volunteers stats")
    assert "@v1:test : 1 sollicitations, 1 réponses, délai médian 10 min" in h.last().body
    assert await h.db.fetchval("SELECT COUNT(*) FROM volunteer_replies") == 1


async def test_specialty_removed_and_figures(h: Harness) -> None:
    figures = await publish(h, SpecialtyFigures(ROOM))
    assert {"dermato": ["2 volontaire(s)"], "rhumato": ["1 volontaire(s)"]} in figures
    dermato = next(s for s in load_defaults() if s.id == "dermato")
    announced = await publish(h, SpecialtyRemoved(ROOM, dermato))
    parts = [p for result in announced for line in result for p in line]
    assert [getattr(p, "user_id", None) for p in parts][:3] == [V1, None, V2]
    assert await h.db.fetchval("SELECT COUNT(*) FROM volunteers") == 1


async def test_a_database_from_before_keeps_who_took_a_case(tmp_path) -> None:
    db = await Database.open(tmp_path / "bot.db")
    try:
        await db.migrate("cases", CASE_MIGRATIONS[:2])
        await db.execute(
            "INSERT INTO cases (room_id, number, root_event_id, card_event_id, poster, "
            "specialties, status, opened_at, replies, taken_by) "
            "VALUES (?, 1, '$r', '$c', ?, 'dermato', 'open', 0, 1, ?)", (ROOM, POSTER, V1))
        await db.execute("INSERT INTO case_replies (event_id, room_id, number, sender, at) "
                         "VALUES ('$a', ?, 1, ?, 5), ('$b', ?, 1, ?, 6)",
                         (ROOM, V1, ROOM, POSTER))
        await db.migrate("volunteers", MIGRATIONS[:2])
        await db.execute("INSERT INTO volunteer_cases (room_id, number, specialties, round) "
                         "VALUES (?, 1, 'dermato', 2)", (ROOM,))
        await db.migrate("volunteers", MIGRATIONS)
        row = await db.fetchone("SELECT * FROM volunteer_cases")
        assert (row["root_event_id"], row["card_event_id"], row["poster"], row["taken_by"],
                row["considered"], row["round"], row["open"], row["replied"]) == (
            "$r", "$c", POSTER, V1, "dermato", 2, 1, 1)
        assert await db.fetchval("SELECT user_id FROM volunteer_replies") == V1
    finally:
        await db.close()


async def test_a_best_guess_nobody_can_take_yet_redraws_the_card_and_escalates(
        h: Harness) -> None:
    """Once `confirm_wait` is over, a best guess whose volunteers are all away pages nobody:
    its card stops promising the page, and the escalation runs as after any first round
    (they may be back, else the poster is told nobody is available)."""
    for user in (V1, V2):
        await h.say(user, "!away 1h")
    h.clear()
    case = a_case(specialties=("dermato", "rhumato"), tag_source="suggested")
    await open_case(h, case, "plaques")
    assert any(line.startswith("Sans confirmation") for line in await lines(h, case))
    await h.advance(10 * MIN)
    assert pages(h) == []
    assert stale(h) == [CardDirty(ROOM, 1)]  # redrawn: no more "will be paged in 10 min"
    assert not any(line.startswith("Sans confirmation") for line in await lines(h, case))
    await h.advance(30 * MIN)  # still away
    await h.advance(30 * MIN)  # back: the next round pages the first of them
    assert pages(h) == [[V1]]


async def test_an_urgent_best_guess_names_only_the_specialty_it_pages(h: Harness) -> None:
    """An urgent case does not wait for its proposals to be confirmed: its best guess is
    paged at once, and the page names that specialty only (as the page after the wait and
    the escalation do), not the other proposals whose volunteers it does not ask."""
    case = a_case(specialties=("dermato", "rhumato"), tag_source="suggested")
    await open_case(h, case, "plaques #urgent")
    assert pages(h) == [[V1]]
    page = [s.body for s in h.in_thread("$root1") if "un avis ?" in s.body]
    assert page[0].startswith("Cas #1 (Dermatologie) — urgent : ")
    await h.advance(30 * MIN)
    page = [s.body for s in h.in_thread("$root1") if "un avis ?" in s.body]
    assert [p.split(" : ")[0] for p in page] == ["Cas #1 (Dermatologie) — urgent"] * 2
