"""Suggest, don't guess: a case the tagger is unsure of proposes specialties on its card; a
numbered reaction or `!tag` confirms one and pages it; else its best guess is paged once after
`volunteers.confirm_wait`, across a restart. Members' corrections are counted for `!stats`."""

from __future__ import annotations

from typing import Any

import pytest

from bot.testing import Harness
from plugins.cases import Cases
from plugins.specialties import Specialties
from plugins.volunteers import Volunteers
from tests.support.cases import card_of as card

POSTER, MOD, STRANGER = "@alice:test", "@mod:test", "@stranger:test"
C1, C2, P1, P2 = "@c1:test", "@c2:test", "@p1:test", "@p2:test"
ROOM = "!room:test"
MEMBERS = [POSTER, MOD, STRANGER, C1, C2, P1, P2]
MIN = 60.0
# A small catalogue, so the tagger's confidence here does not depend on the shipped keywords:
# one keyword each for cardio and pneumo is a tie (proposals), a strong keyword is confident.
CATALOGUE = (
    {"id": "cardio", "name_fr": "Cardiologie", "name_en": "Cardiology",
     "keywords": ["palpitations", "souffle"], "strong": ["coronarographie"]},
    {"id": "pneumo", "name_fr": "Pneumologie", "name_en": "Pulmonology",
     "keywords": ["toux", "dyspnée"]},
    {"id": "dermato", "name_fr": "Dermatologie", "name_en": "Dermatology",
     "keywords": ["eczéma"]},
)
UNSURE = "!case palpitations et toux depuis hier, on fait quoi ?"
ONE, TWO = "1\ufe0f\u20e3", "2\ufe0f\u20e3"  # as Element sends keycaps


def harness(**volunteers: Any) -> Harness:
    return Harness([Specialties, Cases, Volunteers],
                   sections={"specialties": {"defaults": list(CATALOGUE)},
                             "volunteers": volunteers})


@pytest.fixture
async def h():
    async with harness() as hh:
        await setup(hh)
        yield hh


async def setup(h: Harness) -> None:
    h.add_room(ROOM, members=MEMBERS, powers={MOD: 50})
    for user, spec in ((C1, "cardio"), (C2, "cardio"), (P1, "pneumo"), (P2, "pneumo")):
        await h.say(user, f"!volunteer {spec}")
    h.clear()


def paged(h: Harness, root: str) -> list[list[str]]:
    return [s.mentions for s in h.in_thread(root) if "un avis ?" in s.body]


async def retags(h: Harness) -> list[tuple[Any, ...]]:
    rows = await h.db.fetchall("SELECT number, from_tag, to_tag, rank FROM case_retags")
    return [tuple(r) for r in rows]


async def test_an_unsure_case_proposes_and_pages_nobody_yet(h: Harness) -> None:
    root = await h.say(POSTER, UNSURE)
    body = card(h, root).body
    assert body.startswith("Cas #1 · Cardiologie ? · ouvert")
    assert "Spécialité à confirmer : 1️⃣ Cardiologie · 2️⃣ Pneumologie." in body
    assert "Sans confirmation, les volontaires Cardiologie seront sollicités dans 10 min." in body
    reactions = [s.content["m.relates_to"]["key"] for s in h.sent
                 if s.event_type == "m.reaction"]
    assert reactions == [ONE, TWO]
    assert paged(h, root) == []
    row = await h.db.fetchone("SELECT tag_source, specialties, proposed, auto_tag FROM cases")
    assert tuple(row) == ("suggested", "cardio,pneumo", "cardio,pneumo", "cardio")


async def test_the_posters_reaction_confirms_and_pages(h: Harness) -> None:
    root = await h.say(POSTER, UNSURE)
    await h.react(POSTER, card(h, root).event_id, TWO)
    body = card(h, root).body
    assert body.startswith("Cas #1 · Pneumologie · ouvert")
    assert "Spécialité choisie par @alice:test (réaction 2️⃣)" in body
    assert "Sans confirmation" not in body
    assert any(s.body == "Cas #1 : Pneumologie." for s in h.in_thread(root))
    assert [sorted(m) for m in paged(h, root)] == [[P1, P2]]
    assert await retags(h) == [(1, "cardio", "pneumo", 2)]
    # The bot withdraws the reactions it offered: only Alice's 2️⃣ stays on the card.
    offered = [s.event_id for s in h.sent if s.event_type == "m.reaction"]
    assert sorted(h.transport.redacted) == sorted(offered) and len(offered) == 2
    await h.advance(10 * MIN)  # the wait is over: it was cancelled, nobody else is paged
    assert [sorted(m) for m in paged(h, root)] == [[P1, P2]]


async def test_only_the_poster_or_a_moderator_picks(h: Harness) -> None:
    root = await h.say(POSTER, UNSURE)
    card_id = card(h, root).event_id
    await h.react(STRANGER, card_id, TWO)
    await h.react(POSTER, root, TWO)  # on the root, not the card
    await h.react(POSTER, card_id, "3\ufe0f\u20e3")  # no third proposal
    assert card(h, root).body.startswith("Cas #1 · Cardiologie ? ·")
    assert await retags(h) == []
    await h.react(MOD, card_id, ONE)
    assert card(h, root).body.startswith("Cas #1 · Cardiologie · ouvert")
    assert await retags(h) == [(1, "cardio", "cardio", 1)]
    await h.react(POSTER, card_id, TWO)  # confirmed already: a late reaction changes nothing
    assert card(h, root).body.startswith("Cas #1 · Cardiologie · ouvert")


async def test_tag_in_the_thread_confirms_too(h: Harness) -> None:
    root = await h.say(POSTER, UNSURE)
    await h.say(POSTER, "!tag dermato", thread_root=root)
    assert card(h, root).body.startswith("Cas #1 · Dermatologie · ouvert")
    assert await retags(h) == [(1, "cardio", "dermato", 0)]


async def test_the_best_guess_is_paged_once_after_the_wait_across_a_restart(tmp_path) -> None:
    db = tmp_path / "bot.db"
    sections = {"specialties": {"defaults": list(CATALOGUE)},
                "volunteers": {"confirm_wait": "15m", "per_round": 1}}
    async with Harness([Specialties, Cases, Volunteers], sections=sections, db_path=db) as h1:
        await setup(h1)
        root = await h1.say(POSTER, UNSURE)
        card_id = card(h1, root).event_id
        await h1.advance(14 * MIN)
        assert paged(h1, root) == []
    async with Harness([Specialties, Cases, Volunteers], sections=sections, db_path=db,
                       clock=h1.clock) as h2:
        h2.add_room(ROOM, members=MEMBERS, powers={MOD: 50})
        await h2.advance(1 * MIN)
        assert paged(h2, root) == [[C1]]
        redrawn = [s.content["m.new_content"]["body"] for s in h2.sent if s.replaces == card_id]
        assert redrawn[-1].startswith("Cas #1 · Cardiologie ? ·")  # still to confirm
        assert "Confrères sollicités : @c1:test" in redrawn[-1]
        await h2.advance(1 * MIN)
    async with Harness([Specialties, Cases, Volunteers], sections=sections, db_path=db,
                       clock=h2.clock) as h3:
        h3.add_room(ROOM, members=MEMBERS, powers={MOD: 50})
        await h3.advance(1 * MIN)
        assert paged(h3, root) == []  # not twice
        # Confirming another proposal afterwards pages that specialty's volunteers.
        await h3.react(POSTER, card_id, TWO)
        assert paged(h3, root) == [[P1]]


async def test_confident_hashtag_and_urgent_cases_do_not_wait(h: Harness) -> None:
    sure = await h.say(POSTER, "!case coronarographie faite, la suite ?")
    assert card(h, sure).body.startswith("Cas #1 · Cardiologie · ouvert")
    assert len(paged(h, sure)) == 1
    tagged = await h.say(POSTER, "!case #pneumo palpitations et toux")
    assert card(h, tagged).body.startswith("Cas #2 · Pneumologie · ouvert")
    assert len(paged(h, tagged)) == 1
    urgent = await h.say(POSTER, "!case #urgent palpitations et toux")
    assert card(h, urgent).body.startswith("Cas #3 · Cardiologie ? ·")
    assert [len(m) for m in paged(h, urgent)] == [2]  # the best guess, at once


async def test_stats_count_the_members_corrections(h: Harness) -> None:
    first = await h.say(POSTER, UNSURE)
    await h.react(POSTER, card(h, first).event_id, ONE)
    second = await h.say(POSTER, "!case palpitations, toux, on fait quoi ?")
    await h.react(POSTER, card(h, second).event_id, TWO)
    third = await h.say(POSTER, "!case coronarographie faite")
    await h.say(POSTER, "!tag dermato", thread_root=third)
    await h.say(POSTER, "!stats")
    body = h.last().body
    assert "Étiquettes corrigées par un membre : 2 cas sur 3 (67 %)" in body
    assert "Cardiologie : 2 sur 3" in body
    assert "Corrections les plus fréquentes : cardio → dermato ×1, cardio → pneumo ×1" in body
    assert ("Spécialités proposées à confirmer : 2 cas · confirmées telles que proposées : 1 "
            "· autre proposition choisie : 1") in body
    assert "Pour mieux étiqueter : !specialite motscles <spécialité> ajouter <mots>" in body


async def test_tag_naming_exactly_the_proposals_confirms_them(h: Harness) -> None:
    """`!tag` with the very specialties proposed (same tags, now chosen) pages them at once."""
    root = await h.say(POSTER, UNSURE)
    await h.say(POSTER, "!tag cardio pneumo", thread_root=root)
    assert card(h, root).body.startswith("Cas #1 · Cardiologie, Pneumologie · ouvert")
    [first] = paged(h, root)  # one round: per_round (3) of the four volunteers
    assert len(first) == 3 and set(first) <= {C1, C2, P1, P2}
    await h.advance(10 * MIN)  # the wait was cancelled: nothing more
    assert paged(h, root) == [first]
