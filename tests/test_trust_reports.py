"""Reports stay between the reporter and the moderators, and neither reports nor knocks can
flood the moderators (issue 25, items 2, 5, 6 and the knocks of 10), on the fake transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import Config
from bot.testing import BOT, Harness, Sent
from plugins.trust import Trust
from plugins.trust.throttle import Window
from tests.test_trust import ALICE, BOB, CAROL, MOD, MODS, OTHER, ROOM, harness

MOD2 = "@mod2:test"


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    """MOD and MOD2 moderate ROOM (MOD is also a bot admin); the bot may delete messages."""
    async with harness(tmp_path) as hh:
        hh.add_room(ROOM, members=[MOD, MOD2, ALICE, BOB, CAROL],
                    powers={MOD: 50, MOD2: 100, BOT: 100},
                    display_names={ALICE: "Dr Alice Reporter", CAROL: "Dr Carol"})
        yield hh


def to(h: Harness, user: str) -> list[Sent]:
    """What the bot sent in its direct room with `user`."""
    room = h.transport.direct.get(user)
    return [s for s in h.sent if room is not None and s.room_id == room]


def in_room(h: Harness, room: str = ROOM) -> list[Sent]:
    return [s for s in h.sent if s.room_id == room]


def told(h: Harness) -> int:
    """How many messages told someone of a report, wherever they went."""
    return sum("Signalement de" in s.body for s in h.sent)


# ---- item 2: a report is never said where the reported member reads --------------------------
async def test_a_report_reaches_each_moderator_privately_and_the_command_is_deleted(
        h: Harness) -> None:
    rude = await h.say(CAROL, "Texte injurieux")
    command = await h.say(ALICE, "!report attaque personnelle", in_reply_to=rude)
    assert in_room(h) == []  # no thread, no acknowledgement, nothing in the room
    assert h.transport.redacted == [command]
    for moderator in (MOD, MOD2):
        [told] = to(h, moderator)
        assert "Signalement de Dr Alice Reporter" in told.body
        assert f"https://matrix.to/#/{ALICE}" in told.html
        assert f"https://matrix.to/#/{ROOM}/{rude}" in told.html
        assert "Auteur du message : Dr Carol" in told.body
        assert "Raison : attaque personnelle" in told.body and "injurieux" not in told.body
        assert h.transport.rooms[told.room_id].members == {BOT, moderator}
    assert to(h, CAROL) == []  # the reported member is told nothing
    [ack] = to(h, ALICE)
    assert "sont prévenus en privé" in ack.body and "effacez-la" not in ack.body


async def test_the_reported_member_is_never_among_the_moderators_told(h: Harness) -> None:
    rude = await h.say(MOD2, "Texte d’un modérateur")
    await h.say(ALICE, "!report", in_reply_to=rude)
    assert to(h, MOD2) == [] and len(to(h, MOD)) == 1
    mine = await h.say(BOB, "Texte")
    await h.say(MOD, "!report", in_reply_to=mine)  # a moderator reporting: the others are told
    assert len(to(h, MOD2)) == 1 and "Signalement de" in to(h, MOD2)[0].body
    assert all("Signalement de" not in s.body for s in to(h, MOD)[1:])


async def test_when_the_bot_cannot_delete_the_command_the_reporter_is_told(h: Harness) -> None:
    h.update_room(ROOM, power_users={MOD: 50, MOD2: 100, BOT: 0})
    rude = await h.say(CAROL, "Texte")
    await h.say(ALICE, "!report", in_reply_to=rude)
    assert h.transport.redacted == [] and in_room(h) == []
    [ack] = to(h, ALICE)
    assert "sont prévenus en privé" in ack.body
    assert "Je n’ai pas pu effacer votre commande du salon" in ack.body


async def test_the_moderation_room_is_not_used_when_the_reported_member_is_in_it(
        h: Harness) -> None:
    h.add_room(MODS, members=[MOD, MOD2])
    await h.app.settings.set_room_value(ROOM, "trust.moderation_room", MODS)
    rude = await h.say(CAROL, "Texte")
    await h.say(ALICE, "!report", in_reply_to=rude)
    [told] = in_room(h, MODS)
    assert "Signalement de" in told.body and to(h, MOD) == []
    h.update_room(MODS, members=frozenset({BOT, MOD, MOD2, CAROL}))  # Carol moderates too
    h.clear()
    await h.say(BOB, "!report", in_reply_to=rude)
    assert in_room(h, MODS) == []
    assert [len(to(h, MOD)), len(to(h, MOD2))] == [1, 1]


async def test_a_room_whose_only_moderator_is_reported_tells_the_bot_admins(
        tmp_path: Path) -> None:
    async with harness(tmp_path) as h:  # MOD is a bot admin, not in the room
        h.add_room(ROOM, members=[ALICE, CAROL], powers={CAROL: 100, BOT: 100})
        rude = await h.say(CAROL, "Texte")
        await h.say(ALICE, "!report", in_reply_to=rude)
        assert "Signalement de" in to(h, MOD)[0].body and to(h, CAROL) == []
    async with Harness([Trust], config=Config(data_dir=Path("/nonexistent"),
                                              admins=("@*:test",))) as h:
        h.add_room(ROOM, members=[ALICE, CAROL], powers={CAROL: 100, BOT: 100})
        rude = await h.say(CAROL, "Texte")
        await h.say(ALICE, "!report", in_reply_to=rude)
        [answer] = to(h, ALICE)  # nobody to tell: not recorded, not said in the room
        assert "aucun autre modérateur" in answer.body and in_room(h) == []
        assert await h.db.fetchval("SELECT COUNT(*) FROM trust_reports") == 0


# ---- item 5: invented ids and floods of reports ----------------------------------------------
async def test_a_report_on_an_event_the_room_does_not_have_is_refused(h: Harness) -> None:
    for invented in ("$invented1", "$invented2"):
        await h.say(ALICE, "!report", in_reply_to=invented)
    h.add_room(OTHER, members=[CAROL])
    elsewhere = await h.say(CAROL, "Texte", room=OTHER)
    await h.say(ALICE, "!report", in_reply_to=elsewhere)  # real, but in another room
    assert told(h) == 0
    answers = to(h, ALICE)
    assert len(answers) == 3 and all("Je ne trouve pas ce message" in a.body for a in answers)
    assert await h.db.fetchval("SELECT COUNT(*) FROM trust_reports") == 0


async def test_reports_are_throttled_per_reporter_and_collapsed_per_message(
        h: Harness) -> None:
    messages = [await h.say(CAROL, f"Message {i}") for i in range(7)]
    await h.say(ALICE, "!report", in_reply_to=messages[0])
    await h.say(ALICE, "!report encore", in_reply_to=messages[0])  # collapsed
    for target in messages[1:]:
        await h.say(ALICE, "!report", in_reply_to=target)
    assert await h.db.fetchval("SELECT COUNT(*) FROM trust_reports") == 5  # five an hour
    assert "déjà fait 5 signalements dans l’heure" in to(h, ALICE)[-1].body
    assert told(h) == 2 * 5 and len(to(h, MOD)) == 5  # each moderator once per report
    await h.say(BOB, "!report", in_reply_to=messages[6])  # another reporter is not held
    assert len(to(h, MOD)) == 6
    await h.advance(3601)
    await h.say(ALICE, "!report", in_reply_to=messages[6])
    assert len(to(h, MOD)) == 7


# ---- item 6: a moderation room named by alias ------------------------------------------------
async def test_a_moderation_alias_is_resolved_through_the_directory_not_claimed(
        h: Harness) -> None:
    decoy = "!decoy:test"  # a room of Bob's, encrypted, the bot invited, claiming the alias
    h.add_room(decoy, members=[BOB], canonical_alias="#mods:test")
    h.add_room(MODS, members=[MOD, MOD2], canonical_alias="#mods:test")
    await h.app.settings.set_room_value(ROOM, "trust.moderation_room", "#mods:test")
    rude = await h.say(CAROL, "Texte")
    await h.say(ALICE, "!report", in_reply_to=rude)
    assert in_room(h, decoy) == [] and in_room(h, MODS) == []  # unknown alias: direct rooms
    assert len(to(h, MOD)) == 1
    h.transport.aliases["#mods:test"] = MODS
    await h.say(BOB, "!report", in_reply_to=rude)
    assert in_room(h, decoy) == [] and "Signalement de" in in_room(h, MODS)[0].body


# ---- item 10: knocks --------------------------------------------------------------------------
async def knock(h: Harness, user: str, room: str = ROOM) -> None:
    await h.member(user, "knock", room=room, displayname="Inconnu")


async def test_knocks_are_throttled_per_knocker_and_per_room(h: Harness) -> None:
    await h.app.settings.set_room_value(ROOM, "trust.policy", "verified")

    def shown() -> int:
        return sum("demande à entrer" in s.body for s in h.sent)

    for _ in range(5):  # knock, leave, knock again…
        await knock(h, "@k:test")
        await h.member("@k:test", "leave")
    assert shown() == 1
    rooms = [f"!r{i}:test" for i in range(4)]
    for room in rooms:
        h.add_room(room, members=[MOD], powers={MOD: 50})
        await h.app.settings.set_room_value(room, "trust.policy", "verified")
        await knock(h, "@roamer:test", room)
    assert shown() == 4  # one knocker, at most three rooms an hour
    for i in range(12):
        await knock(h, f"@crowd{i}:test")
    assert shown() == 4 + 9  # ten an hour in one room (@k's counts)
    floods = [s for s in h.sent if "Beaucoup de demandes d’entrée" in s.body]
    assert len(floods) == 1 and floods[0].room_id == ROOM
    await h.advance(3601)
    await knock(h, "@k:test")
    assert shown() == 14


def test_the_throttle_forgets_keys_past_their_period() -> None:
    window = Window(2, 60.0)
    for i in range(1000):
        assert window.take(f"user{i}", float(i))
    assert len(window) == 60  # only the keys taken within the last minute are kept
    assert window.take("user999", 999.0) and not window.take("user999", 999.5)
    assert window.take("user999", 1059.5)


# ---- reporting from the direct room, by link -------------------------------------------------
async def test_a_report_by_link_in_the_direct_room_never_touches_the_room(h: Harness) -> None:
    rude = await h.say(CAROL, "Texte injurieux")
    h.add_room(OTHER, members=[BOB])  # a room the bot is in, without Alice
    secret = await h.say(BOB, "Texte", room=OTHER)
    await h.say(ALICE, "!report")  # opens Alice's direct room (and says how)
    direct = h.transport.direct[ALICE]
    assert "{prefix}" not in to(h, ALICE)[0].body and "<lien du message>" in to(h, ALICE)[0].body
    link = f"https://matrix.to/#/{ROOM.replace('!', '%21')}/{rude}?via=test"
    await h.say(ALICE, f"!signaler {link} attaque personnelle", room=direct)
    [told] = to(h, MOD)
    assert f"https://matrix.to/#/{ROOM}/{rude}" in told.html
    assert "Raison : attaque personnelle" in told.body
    assert "Auteur du message : Dr Carol" in told.body
    assert "sont prévenus en privé" in to(h, ALICE)[-1].body
    assert in_room(h) == [] and len(h.transport.redacted) == 1  # only the first, bare !report
    h.transport.aliases["#room:test"] = ROOM
    await h.say(BOB, f"!report https://matrix.to/#/#room:test/{rude}", room=OTHER)
    assert len(to(h, MOD)) == 2
    for elsewhere in (f"https://matrix.to/#/{OTHER}/{secret}",  # Alice is not in that room
                      f"https://matrix.to/#/!unknown:test/{rude}",
                      f"https://matrix.to/#/#nowhere:test/{rude}"):
        await h.say(ALICE, f"!report {elsewhere}", room=direct)
        assert "Je ne trouve pas ce message" in to(h, ALICE)[-1].body
    assert len(to(h, MOD)) == 2


async def test_a_direct_room_with_the_bot_keeps_no_record_of_a_member_who_left(
        h: Harness) -> None:
    """The direct rooms the bot opens to answer reporters do not count as rooms it shares
    with them: leaving every other room still drops the reporter's id."""
    rude = await h.say(BOB, "Texte")
    await h.say(CAROL, "!report", in_reply_to=rude)
    await h.say(ALICE, "!report", in_reply_to=rude)
    assert CAROL in h.transport.rooms[h.transport.direct[CAROL]].members
    await h.member(CAROL, "leave")
    reporters = {r[0] for r in await h.db.fetchall("SELECT reporter FROM trust_reports")}
    assert CAROL not in reporters and ALICE in reporters
    h.update_room(ROOM, members=frozenset({MOD, MOD2, BOB, BOT}))  # Alice left unseen
    await h.advance(601)  # the daily sweep
    reporters = {r[0] for r in await h.db.fetchall("SELECT reporter FROM trust_reports")}
    assert ALICE not in reporters and len(reporters) == 2
