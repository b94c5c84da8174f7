"""The volunteers feature on the fake transport: opt-in, selection, fairness, escalation."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from bot.testing import Harness, Sent
from plugins.cases import Cases
from plugins.specialties import Specialties
from plugins.volunteers import Volunteers
from plugins.volunteers.plugin import in_quiet_hours, parse_hours

POSTER = "@alice:test"
V1, V2, V3, V4 = "@v1:test", "@v2:test", "@v3:test", "@v4:test"
STRANGER = "@stranger:test"
ROOM = "!room:test"
DERMATO = "!case F 45 ans, plaques squameuses des coudes #dermato"
MIN = 60.0
# The harness clock starts on 2027-01-15 at 09:00 in Paris (08:00 UTC).


def harness(**section: Any) -> Harness:
    return Harness([Specialties, Cases, Volunteers], sections={"volunteers": section})


@pytest.fixture
async def h():
    async with harness() as hh:
        hh.add_room(ROOM, members=[POSTER, V1, V2, V3, V4])
        yield hh


def card_of(h: Harness, root: str) -> Sent:
    """The case card with its edits applied (content of the last edit)."""
    card = next(s for s in h.in_thread(root)
                if s.body.startswith(("Cas #", "Case #")) and " · " in s.body.split("\n")[0])
    current = card
    for s in h.sent:
        if s.replaces == card.event_id:
            current = Sent(s.room_id, s.event_type, s.content["m.new_content"], s.event_id)
    return current


def pages(h: Harness, root: str) -> list[Sent]:
    return [s for s in h.in_thread(root) if "un avis ?" in s.body or "can you help" in s.body]


async def paged_rows(h: Harness) -> list[tuple[int, str, int]]:
    rows = await h.db.fetchall(
        "SELECT number, user_id, round FROM volunteer_pages ORDER BY number, round, user_id")
    return [(r["number"], r["user_id"], r["round"]) for r in rows]


async def enlist(h: Harness, *users: str, specialty: str = "dermato") -> None:
    for user in users:
        await h.say(user, f"!volunteer {specialty}")


# ---- opting in and out ------------------------------------------------------------------------
async def test_volunteer_unvolunteer_and_listing(h: Harness) -> None:
    await h.say(V1, "!volunteer dermato #Cardiologie")
    assert h.last().body.startswith("Vous êtes bénévole ici pour : Cardiologie, Dermatologie.")
    await h.say(V2, "!benevole DERMATO")
    await h.say(POSTER, "!volunteers")
    listing = h.last()
    assert listing.body.splitlines() == [
        "Bénévoles du salon :", "Cardiologie : @v1:test", "Dermatologie : @v1:test, @v2:test"]
    assert "https://matrix.to/#/@v2:test" in listing.html
    assert listing.mentions == []
    await h.say(POSTER, "!volunteers cardio")
    assert "Dermatologie" not in h.last().body and "@v1:test" in h.last().body
    await h.say(V1, "!unvolunteer cardio")
    assert h.last().body == "Retiré des bénévoles : Cardiologie."
    await h.say(V1, "!unvolunteer cardio")
    assert h.last().body == "Vous n’êtes pas bénévole pour cela ici."
    await h.say(V2, "!unvolunteer")
    assert h.last().body == "Vous n’êtes plus bénévole dans ce salon."
    await h.say(POSTER, "!volunteers")
    assert h.last().body.splitlines() == ["Bénévoles du salon :", "Dermatologie : @v1:test"]


async def test_validation_errors_give_usage_lines(h: Harness) -> None:
    await h.say(V1, "!volunteer")
    assert h.last().body.splitlines() == ["il manque spécialité.",
                                          "Utilisation : !volunteer <spécialité>…"]
    await h.say(V1, "!volunteer banane")
    assert h.last().body.splitlines() == ["Spécialité inconnue : banane.",
                                          "Utilisation : !volunteer <spécialité>…"]
    await h.say(V1, "!unvolunteer banane")
    assert "Utilisation : !unvolunteer [spécialité…]" in h.last().body
    await h.say(V1, "!volunteers banane")
    assert "Utilisation : !volunteers [spécialité|stats]" in h.last().body
    await h.say(V1, "!quiet 25:00-07:00")
    assert h.last().body.splitlines() == [
        "« 25:00-07:00 » n’est pas une plage horaire (ex. 22:00-07:00).",
        "Utilisation : !quiet <HH:MM-HH:MM|off>"]
    await h.say(V1, "!quiet")
    assert "Utilisation : !quiet <HH:MM-HH:MM|off>" in h.last().body
    await h.say(V1, "!mytz Mars/Olympus")
    assert h.last().body.splitlines()[1] == "Utilisation : !mytz <fuseau>"
    await h.say(V1, "!mytz ../../etc/passwd")
    assert "n’est pas un fuseau horaire" in h.last().body
    await h.say(V1, "!mytz America/Martinique")
    assert h.last().body == "Fuseau horaire : America/Martinique."
    await h.say(V1, "!urgent peut-être")
    assert "Utilisation : !urgent <on|off>" in h.last().body
    await h.say(V1, "!away bientôt")
    assert "Utilisation : !away [durée]" in h.last().body
    await h.say(STRANGER, "!volunteer dermato")
    assert h.last().body == "Seuls les membres du salon peuvent être bénévoles."
    assert await h.db.fetchval("SELECT COUNT(*) FROM volunteers") == 0


async def test_leaving_the_room_removes_the_volunteer(h: Harness) -> None:
    await enlist(h, V1, V2)
    await h.member(V1, "leave")
    await h.member(V2, "ban")
    assert await h.db.fetchval("SELECT COUNT(*) FROM volunteers") == 0


def test_quiet_hours_parsing_and_midnight() -> None:
    assert parse_hours("22:00-07:30") == (1320, 450)
    assert parse_hours("22h-7h") == (1320, 420)
    assert parse_hours("10:00-10:00") is None
    assert parse_hours("24:00-07:00") is None
    start = 1_800_000_000.0  # 09:00 in Paris, 03:00 in New York
    assert in_quiet_hours((22 * 60, 10 * 60), "Europe/Paris", start)
    assert not in_quiet_hours((22 * 60, 9 * 60), "Europe/Paris", start)
    assert in_quiet_hours((9 * 60, 10 * 60), "Europe/Paris", start)
    assert in_quiet_hours((0, 6 * 60), "America/New_York", start)
    assert not in_quiet_hours((0, 6 * 60), "Europe/Paris", start)


# ---- paging -------------------------------------------------------------------------------------
async def test_case_pages_volunteers_in_one_thread_message(h: Harness) -> None:
    await enlist(h, POSTER, V1, V2, V3, V4)
    h.clear()
    root = await h.say(POSTER, DERMATO)
    sent = pages(h, root)
    assert len(sent) == 1
    page = sent[0]
    assert page.thread_root == root and page.room_id == ROOM
    assert page.mentions == [V1, V2, V3]
    assert page.body == ("Cas #1 (Dermatologie) : @v1:test, @v2:test, @v3:test, un avis ? "
                         "Réagissez 🙋 ou tapez !take pour le prendre en charge.")
    assert "@room" not in page.body and "@room" not in page.html
    assert all(s.room_id == ROOM for s in h.sent)
    assert await paged_rows(h) == [(1, V1, 1), (1, V2, 1), (1, V3, 1)]
    card = card_of(h, root)
    assert "Confrères sollicités : @v1:test, @v2:test, @v3:test" in card.body
    assert card.mentions == []
    # The next case starts with whoever was not paged yet.
    root2 = await h.say(V1, DERMATO)
    assert pages(h, root2)[0].mentions == sorted([POSTER, V4, V2])


async def test_no_volunteers_no_page(h: Harness) -> None:
    await enlist(h, V1, specialty="cardio")
    root = await h.say(POSTER, DERMATO)
    assert pages(h, root) == []
    await h.advance(31 * MIN)
    assert pages(h, root) == []
    assert "sollicités" not in card_of(h, root).body


async def test_unclassified_case_pages_the_fallback_specialty(h: Harness) -> None:
    await enlist(h, V1, specialty="mg")
    await enlist(h, V2, specialty="dermato")
    root = await h.say(POSTER, "!case question rapide, avis ?")
    assert pages(h, root)[0].mentions == [V1]
    assert "(non classé)" in pages(h, root)[0].body


async def test_selection_exclusions(h: Harness) -> None:
    await enlist(h, POSTER, V1, V2, V3, V4)
    await h.say(STRANGER, "!volunteer dermato")
    # V1 is no longer a member (without a membership event reaching us).
    h.update_room(ROOM, members=frozenset({POSTER, V2, V3, V4, "@casebot:test"}))
    await h.say(V2, "!away 2h")
    assert h.last().body == "Absent pour 2h : plus de sollicitation d’ici là."
    await h.say(V3, "!quiet 22:00-10:00")  # 09:00 in Paris: quiet, across midnight
    assert h.last().body == "Heures calmes : 22:00-10:00 (Europe/Paris)."
    await h.say(V4, "!quiet 22:00-09:00")  # ended at 09:00
    root = await h.say(POSTER, DERMATO)
    assert pages(h, root)[0].mentions == [V4]
    await h.say(V3, "!quiet off")
    await h.say(V3, "!mytz America/New_York")  # 03:00 there
    await h.say(V3, "!quiet 00:00-06:00")
    root = await h.say(POSTER, DERMATO)
    assert pages(h, root)[0].mentions == [V4]
    h.clock.value += 2 * 3600 + 1  # V2 is back by themselves
    root = await h.say(POSTER, DERMATO)
    assert pages(h, root)[0].mentions == [V2, V4]
    await h.say(V2, "!away")
    assert "jusqu’à !back" in h.last().body
    root = await h.say(POSTER, DERMATO)
    assert pages(h, root)[0].mentions == [V4]
    await h.say(V2, "!back")
    root = await h.say(POSTER, DERMATO)
    assert pages(h, root)[0].mentions == [V2, V4]


async def test_daily_cap() -> None:
    async with harness(daily_cap=2, per_round=1) as h:
        h.add_room(ROOM, members=[POSTER, V1])
        await enlist(h, V1)
        roots = [await h.say(POSTER, DERMATO) for _ in range(3)]
        assert [len(pages(h, r)) for r in roots] == [1, 1, 0]
        h.clock.value += 86400
        root = await h.say(POSTER, DERMATO)
        assert pages(h, root)[0].mentions == [V1]


async def test_fair_rotation_over_100_cases() -> None:
    async with harness(daily_cap=1000, per_round=2) as h:
        h.add_room(ROOM, members=[POSTER, V1, V2, V3])
        await enlist(h, V1, V2, V3)
        for _ in range(100):
            await h.say(POSTER, DERMATO)
            h.clock.value += 60
        counts = Counter(user for _, user, _ in await paged_rows(h))
        assert sum(counts.values()) == 200
        assert set(counts) == {V1, V2, V3}
        assert max(counts.values()) - min(counts.values()) <= 1


async def test_urgent_reaches_opted_in_volunteers_in_quiet_hours(h: Harness) -> None:
    await enlist(h, V1, V2)
    for user in (V1, V2):
        await h.say(user, "!quiet 22:00-10:00")
    await h.say(V1, "!urgent on")
    assert "même pendant vos heures calmes" in h.last().body
    root = await h.say(POSTER, DERMATO)
    assert pages(h, root) == []
    root = await h.say(POSTER, DERMATO + " #urgent")
    page = pages(h, root)[0]
    assert page.mentions == [V1] and "urgent" in page.body
    await h.say(V1, "!urgent off")
    root = await h.say(POSTER, DERMATO + " #urgent")
    assert pages(h, root) == []


# ---- escalation ---------------------------------------------------------------------------------
@pytest.fixture
async def h1():
    async with harness(per_round=1) as hh:
        hh.add_room(ROOM, members=[POSTER, V1, V2, V3, V4])
        await enlist(hh, V1, V2, V3, V4)
        yield hh


async def test_escalation_rounds_then_nobody_message(h1: Harness) -> None:
    h = h1
    root = await h.say(POSTER, DERMATO)
    assert [p.mentions for p in pages(h, root)] == [[V1]]
    await h.advance(29 * MIN)
    assert len(pages(h, root)) == 1
    await h.advance(1 * MIN)
    assert [p.mentions for p in pages(h, root)] == [[V1], [V2]]
    assert "Confrères sollicités : @v1:test, @v2:test" in card_of(h, root).body
    await h.advance(30 * MIN)
    assert [p.mentions for p in pages(h, root)] == [[V1], [V2], [V3]]
    await h.advance(30 * MIN)
    last = h.last()
    assert last.thread_root == root and last.mentions == [POSTER]
    assert "aucun bénévole disponible" in last.body and "!tag <spécialité>" in last.body
    count = len(h.sent)
    await h.advance(3 * 3600)
    assert len(pages(h, root)) == 3
    assert not any("aucun bénévole" in s.body for s in h.sent[count:])
    assert await paged_rows(h) == [(1, V1, 1), (1, V2, 2), (1, V3, 3)]


async def test_take_stops_escalation_and_shows_on_card(h1: Harness) -> None:
    h = h1
    root = await h.say(POSTER, DERMATO)
    await h.say(POSTER, "!take", thread_root=root)
    assert h.last().body == "C’est votre propre cas."
    await h.say(V1, "!take", thread_root=root)
    assert h.last().body == "Cas #1 pris en charge par @v1:test. Merci !"
    assert h.last().mentions == []
    assert "Pris en charge par @v1:test" in card_of(h, root).body
    assert await h.db.fetchval("SELECT taken_by FROM cases") == V1
    await h.say(V2, "!take", thread_root=root)
    assert h.last().body == "Cas #1 déjà pris en charge par @v1:test."
    await h.advance(2 * 3600)
    assert len(pages(h, root)) == 1
    await h.say(V1, "!take")
    assert "dans le fil d’un cas ouvert" in h.last().body


async def test_reaction_by_colleague_stops_escalation(h1: Harness) -> None:
    h = h1
    root = await h.say(POSTER, DERMATO)
    await h.react(POSTER, root, "👀")  # the poster's own reaction does not count
    await h.advance(30 * MIN)
    assert len(pages(h, root)) == 2
    await h.react(V3, root, "🙋")
    await h.advance(2 * 3600)
    assert len(pages(h, root)) == 2
    assert not any("aucun bénévole" in s.body for s in h.sent)


async def test_reply_or_resolution_stops_escalation(h1: Harness) -> None:
    h = h1
    root = await h.say(POSTER, DERMATO)
    await h.say(POSTER, "précision : pas de fièvre", thread_root=root)
    await h.advance(30 * MIN)
    assert len(pages(h, root)) == 2  # the poster's own message is no answer
    await h.say(V4, "Psoriasis probable", thread_root=root)
    await h.advance(2 * 3600)
    assert len(pages(h, root)) == 2
    other = await h.say(POSTER, DERMATO)
    await h.say(POSTER, "!resolve", thread_root=other)
    assert await h.db.fetchval(
        "SELECT COUNT(*) FROM timers WHERE component = 'volunteers'") == 0
    await h.advance(2 * 3600)
    assert len(pages(h, other)) == 1


async def test_stats_counts_pages_and_replies(h1: Harness) -> None:
    h = h1
    root = await h.say(POSTER, DERMATO)
    await h.say(V1, "une réponse", thread_root=root)
    await h.say(V1, "et une autre", thread_root=root)
    await h.say(POSTER, "!volunteers stats")
    body = h.last().body.splitlines()
    assert body[0] == "Bénévoles : sollicitations reçues, réponses"
    assert "@v1:test : 1 sollicitations, 2 réponses" in body
    assert "@v2:test : 0 sollicitations, 0 réponses" in body
    assert h.last().mentions == []


async def test_english_room(h: Harness) -> None:
    await h.app.set_room_setting(ROOM, "language", "en")
    await h.say(V1, "!volunteer dermato")
    assert h.last().body.startswith("You volunteer here for: Dermatology.")
    root = await h.say(POSTER, DERMATO)
    assert pages(h, root)[0].body.startswith("Case #1 (Dermatology): @v1:test, can you help?")
    assert "Colleagues paged: @v1:test" in card_of(h, root).body


async def test_database_holds_no_clinical_text(h: Harness) -> None:
    await enlist(h, V1)
    await h.say(POSTER, DERMATO)
    dump: list[str] = []
    for table in ("volunteers", "volunteer_prefs", "volunteer_rotation", "volunteer_pages"):
        dump += [str(v) for row in await h.db.fetchall(f"SELECT * FROM {table}") for v in row]
    assert not any("plaques" in v or "coudes" in v for v in dump)


async def test_escalation_survives_restart(tmp_path) -> None:
    db = tmp_path / "bot.db"
    members = [POSTER, V1, V2, V3]
    section = {"volunteers": {"per_round": 1}}
    async with Harness([Specialties, Cases, Volunteers], sections=section, db_path=db) as h1:
        h1.add_room(ROOM, members=members)
        await enlist(h1, V1, V2, V3)
        root = await h1.say(POSTER, DERMATO)
    async with Harness([Specialties, Cases, Volunteers], sections=section, db_path=db,
                       clock=h1.clock) as h2:
        h2.add_room(ROOM, members=members)
        await h2.advance(30 * MIN)
        assert [p.mentions for p in pages(h2, root)] == [[V2]]
        edit = next(s for s in h2.sent if s.replaces)
        assert "Confrères sollicités : @v1:test, @v2:test" in edit.content["m.new_content"]["body"]
