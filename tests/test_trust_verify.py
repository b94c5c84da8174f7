"""Who may confirm a verification (issue 25, item 1), on the fake transport.

A verification counts in every room, so the room it is asked in must not be one its requester
(or a friend) controls: a bot admin confirms from anywhere, a verified moderator only in a
verification room the operator lists, and only when the display name matches the directory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import Config, ConfigError
from bot.testing import BOT, Harness, Sent
from plugins.trust import Trust
from tests.test_trust import (
    ALICE,
    BOB,
    DUPONT,
    MARTIN,
    MOD,
    ROOM,
    harness,
    load,
    verified_row,
    verify,
)

OWN = "!own:test"
"""A room Alice created and invited the bot into: she is its admin."""
ALICE2 = "@alice2:test"
"""Alice's second account."""
VROOM = "!hospital:test"
"""The operator's verification room; CAROL moderates it."""
CAROL = "@carol:test"


def directs(h: Harness, user: str) -> list[Sent]:
    """What the bot wrote to `user` in their direct room."""
    room = h.transport.direct.get(user)
    return [s for s in h.sent if s.room_id == room]


def notice_in(h: Harness, room: str) -> Sent:
    return next(s for s in reversed(h.sent)
                if s.room_id == room and "Demande de vérification" in s.body)


async def status(h: Harness, user: str) -> str | None:
    row = await verified_row(h, user)
    return None if row is None else str(row["status"])


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    """Alice (Dr Marie-Hélène Dupont) is verified by the bot admin; Bob is Dr Jean Martin."""
    async with harness(tmp_path, verification_rooms=[VROOM]) as hh:
        await load(hh, tmp_path)
        hh.update_room(ROOM, display_names={ALICE: "Dr Marie-Hélène Dupont",
                                            BOB: "Dr Jean Martin"})
        await verify(hh, ALICE, DUPONT)
        assert await status(hh, ALICE) == "verified"
        hh.add_room(OWN, members=[ALICE, ALICE2], powers={ALICE: 100, BOT: 100})
        yield hh


async def test_a_verified_member_cannot_verify_a_second_account_in_a_room_of_their_own(
        h: Harness) -> None:
    h.update_room(OWN, display_names={ALICE2: "Eve"})
    ask = await h.say(ALICE2, f"!verify {MARTIN}", room=OWN)  # a colleague's number
    notice = notice_in(h, OWN)
    await h.react(ALICE, notice.event_id, "✅", room=OWN)
    assert await status(h, ALICE2) == "pending"
    # Said in the request's thread (a thread cannot start on a reaction).
    assert "Ce salon n’en est pas un" in h.last().body and h.last().thread_root == ask
    await h.say(ALICE, f"!verify approve {ALICE2}", room=OWN)
    assert "Ce salon n’en est pas un" in h.last().body
    assert await status(h, ALICE2) == "pending"
    assert any("Demande envoyée : ici, seul un administrateur du bot peut la confirmer"
               in s.body for s in h.answers(ask))
    assert "ne correspond pas à l’annuaire" in notice.body
    assert "Ce salon n’en est pas un" in notice.body
    # The name mismatch reaches the bot admin, privately, not only Alice.
    told = directs(h, MOD)[-1]
    assert "MARTIN Jean" in told.body and "ne correspond pas à l’annuaire" in told.body
    assert f"!verify approve {ALICE2}" in told.body
    # The list is the operator's: Alice cannot add her room to it.
    await h.say(ALICE, f"!config set trust.verification_rooms {OWN}", room=OWN)
    assert "Réglage inconnu" in h.last().body
    # With the colleague's name as display name it is refused all the same.
    await h.say(ALICE, f"!verify refuse {ALICE2}", room=OWN)
    h.update_room(OWN, display_names={ALICE2: "Dr Jean Martin"})
    await h.say(ALICE2, f"!verify {MARTIN}", room=OWN)
    await h.react(ALICE, notice_in(h, OWN).event_id, "✅", room=OWN)
    assert "Ce salon n’en est pas un" in h.last().body
    assert await status(h, ALICE2) == "pending"
    await h.say(MOD, "!stats")
    assert "1 membres vérifiés" in h.last().body
    # The real physician is not told the number is taken: the bot admin confirms him.
    await h.say(BOB, f"!verify {MARTIN}")
    assert "déjà lié" not in h.last().body
    await h.say(MOD, f"!verify approve {BOB}")
    assert await status(h, BOB) == "verified"


async def test_a_verified_moderator_confirms_in_a_verification_room_when_names_match(
        h: Harness) -> None:
    h.add_room(VROOM, members=[MOD, ALICE, BOB, ALICE2], powers={ALICE: 50, BOT: 100},
               display_names={BOB: "Jean MARTIN (MG, Nanterre)", ALICE2: "Eve"})
    await h.say(ALICE2, f"!verify {MARTIN}", room=VROOM)
    assert "Un administrateur du bot confirme" in notice_in(h, VROOM).body
    await h.react(ALICE, notice_in(h, VROOM).event_id, "✅", room=VROOM)
    assert "Le nom affiché ne correspond pas à l’annuaire : seul un administrateur" in (
        h.last().body)
    assert await status(h, ALICE2) == "pending"
    await h.say(ALICE, f"!verify refuse {ALICE2}", room=VROOM)
    assert await status(h, ALICE2) == "refused"

    before = len(directs(h, MOD))
    await h.say(BOB, f"!verify {MARTIN}", room=VROOM)
    assert "Demande envoyée aux modérateurs" in h.last().body
    assert len(directs(h, MOD)) == before  # the room's verified moderators decide
    await h.react(ALICE, notice_in(h, VROOM).event_id, "✅", room=VROOM)
    assert await status(h, BOB) == "verified"
    assert "est vérifié" in h.last().body


async def test_an_unverified_moderator_of_a_verification_room_does_not_confirm(
        h: Harness) -> None:
    h.add_room(VROOM, members=[CAROL, BOB], powers={CAROL: 50, BOT: 100},
               display_names={BOB: "Dr Jean Martin"})
    await h.say(BOB, f"!verify {MARTIN}", room=VROOM)
    await h.say(CAROL, f"!verify approve {BOB}", room=VROOM)
    assert "Seul un modérateur lui-même vérifié" in h.last().body
    assert await status(h, BOB) == "pending"


async def test_a_bot_admin_confirms_from_their_direct_room(h: Harness) -> None:
    h.update_room(OWN, display_names={ALICE2: "Eve"})
    ask = await h.say(ALICE2, f"!verify {MARTIN}", room=OWN)
    direct = h.transport.direct[MOD]
    await h.say(MOD, f"!verify approve {ALICE2}", room=direct)
    assert await status(h, ALICE2) == "verified"
    assert "est vérifié" in h.last().body and h.last().room_id == direct
    told = [s for s in h.in_thread(ask) if "est vérifié" in s.body]
    assert told and told[0].room_id == OWN and ALICE2 in told[0].mentions


async def test_a_contested_number_goes_to_the_bot_admins(h: Harness) -> None:
    h.update_room(OWN, display_names={ALICE2: "Eve"})
    await h.say(ALICE2, f"!verify {MARTIN}", room=OWN)
    await h.say(MOD, f"!verify approve {ALICE2}")  # the bot admin was fooled once
    assert await status(h, ALICE2) == "verified"
    before = len(directs(h, MOD))

    h.update_room(ROOM, display_names={ALICE: "Dr Marie-Hélène Dupont", BOB: "Bob"})
    await h.say(BOB, f"!verify {MARTIN}")  # not the directory's name: only "taken"
    assert "déjà lié à un autre compte : parlez-en" in h.last().body
    assert len(directs(h, MOD)) == before and await status(h, BOB) is None

    h.update_room(ROOM, display_names={ALICE: "Dr Marie-Hélène Dupont",
                                       BOB: "Dr Jean Martin"})
    await h.say(BOB, f"!verify {MARTIN}")
    assert "les administrateurs du bot sont prévenus" in h.last().body
    assert not [s for s in h.sent[-2:] if "Demande de vérification" in s.body
                and s.room_id == ROOM]  # a dispute is not aired in the room
    told = directs(h, MOD)[-1]
    assert "déjà lié à Eve, dont le nom affiché ne correspond pas" in told.body
    assert f"!verify revoke {ALICE2}, puis !verify approve {BOB}" in told.body

    await h.say(ALICE, f"!verify revoke {ALICE2}")
    assert "Seul un administrateur du bot" in h.last().body
    await h.say(MOD, f"!verify approve {BOB}")
    assert "déjà lié" in h.last().body
    await h.say(MOD, f"!verifier retirer {ALICE2}")
    assert "est retirée" in h.last().body and await status(h, ALICE2) is None
    await h.say(MOD, f"!verify approve {BOB}")
    assert await status(h, BOB) == "verified"
    await h.say(MOD, f"!verify revoke {ALICE2}")
    assert "n’est pas vérifié" in h.last().body


async def test_without_bot_admins_only_verification_rooms_verify(tmp_path: Path) -> None:
    async with Harness([Trust], config=Config(data_dir=Path("/nonexistent")),
                       sections={"trust": {"verification_rooms": [VROOM]}},
                       db_path=tmp_path / "casebot.db") as h:
        await load(h, tmp_path)
        await h.say(BOB, f"!verify {MARTIN}")
        assert "personne ne peut confirmer une vérification" in h.last().body
        assert await status(h, BOB) is None


async def test_refusals_explain_the_rule_in_english(h: Harness) -> None:
    await h.app.settings.set_room_value(OWN, "language", "en")
    await h.say(ALICE2, f"!verify {MARTIN}", room=OWN)
    assert "only a bot admin can confirm it" in h.last().body
    await h.say(ALICE, f"!verify approve {ALICE2}", room=OWN)
    assert h.last().body.startswith("A verification counts in every room: only a bot admin")


async def test_verification_rooms_are_room_ids(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="verification_rooms"):
        async with harness(tmp_path, verification_rooms=["#hospital:test"]):
            pass


# ---- item 4: a display name cannot carry the verified mark ---------------------------------
FORGED = [
    "Dr Eve ✔ (vérifié, annuaire RPPS)",
    "Dr Eve ✔\ufe0f (verified, RPPS directory)",
    "Dr Eve ✓", "Dr Eve ✅", "Dr Eve ☑", "Dr Eve 🗸", "Dr Eve √",
    "Dr Eve (vérifiée)", "Dr Eve [Verified]", "Dr Eve (ＲＰＰＳ)", "Dr Eve - RPPS",
    "Dr Eve (v\u200bé\u200drif\u2060ié)",  # zero-width characters inside the word
    "Dr Eve (vеrifiе)",  # Cyrillic е
    "Dr Eve\u2066 ✔\u2069", "Dr Eve \u3164✔\u2800",
    "Dr Eve\n✔ (vérifié, annuaire RPPS)",
]


@pytest.mark.parametrize("name", FORGED)
def test_names_as_printed_lose_every_look_alike_of_the_mark(name: str) -> None:
    from bot.events import RoomInfo
    from bot.text import shown_name

    assert shown_name(name) == "Dr Eve"
    assert RoomInfo("!r:test", display_names={"@eve:test": name}).display_name(
        "@eve:test") == "Dr Eve"


def test_names_keep_what_is_theirs() -> None:
    from bot.events import RoomInfo
    from bot.text import shown_name

    for name in ("Dr Marie-Hélène D'Aubigné", "Jean MARTIN (MG, Nanterre)", "Ève Lefèvre",
                 "Dr J. Martin", "李明", "Αλέξανδρος Παπαδόπουλος", "Дмитрий Иванов"):
        assert shown_name(name) == name
    # Right-to-left override: "(vérifié)" drawn from reversed letters shows as they are.
    assert shown_name("Dr Eve \u202e(éifirév)\u202c") == "Dr Eve (éifirév)"
    room = RoomInfo("!r:test", display_names={"@eve:test": "✔ \u200b (vérifié)"})
    assert room.display_name("@eve:test") == "@eve:test"  # nothing left: the id
    assert shown_name("x" * 70_000) == "x" * 256  # a hostile name is read up to 256


async def test_a_display_name_cannot_forge_the_verified_mark_on_a_card(h: Harness) -> None:
    eve = "@eve:test"
    h.update_room(ROOM, members=frozenset({MOD, ALICE, BOB, eve, BOT}),
                  display_names={ALICE: "Dr Marie-Hélène Dupont",
                                 eve: "Dr Eve ✔ (vérifié, annuaire RPPS)"})
    root = await h.say(eve, "!case F 45 ans, plaques des coudes #dermato")
    line = h.in_thread(root)[0].body.split("\n")[1]
    assert line == "Posté par Dr Eve"
    root = await h.say(ALICE, "!case H 60 ans, prurit #dermato")
    card = h.in_thread(root)[0]
    assert card.body.split("\n")[1] == "Posté par Dr Marie-Hélène Dupont ✔ (vérifié, annuaire RPPS)"
    # The real mark is the bot's formatting, which no display name carries.
    assert "Dr Marie-Hélène Dupont <b>✔ (vérifié, annuaire RPPS)</b>" in card.html


async def test_a_display_name_cannot_forge_the_mark_in_the_volunteers_list(h: Harness) -> None:
    h.update_room(ROOM, display_names={ALICE: "Alice", BOB: "Bob ✔"})
    for user in (ALICE, BOB):
        await h.say(user, "!volunteer dermato")
    await h.say(MOD, "!volunteers")
    assert "Alice ✔" in h.last().body and "Bob ✔" not in h.last().body
    assert "Alice</a> <b>✔</b>" in h.last().html


async def test_a_knock_cannot_show_the_mark_to_the_moderators(h: Harness) -> None:
    await h.app.settings.set_room_value(ROOM, "trust.policy", "verified")
    await h.member("@k:test", "knock", displayname="Dr Eve ✔\ufe0f (vérifié, annuaire RPPS)")
    assert "Dr Eve demande à entrer (@k:test)." in h.last().body
    assert "✔" not in h.last().body and "vérifié" not in h.last().body
