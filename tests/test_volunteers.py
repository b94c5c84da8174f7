"""The volunteers feature on the fake transport: opt-in, selection, fairness, escalation."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from bot.events import Message
from bot.testing import Harness, Sent
from plugins.cases import Cases
from plugins.secrecy.plugin import Secrecy
from plugins.specialties import Specialties
from plugins.volunteers import Volunteers
from plugins.volunteers.availability import in_quiet_hours, parse_hours, valid_tz, zone
from tests.support.cases import card_of

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


def pages(h: Harness, root: str) -> list[Sent]:
    return [s for s in h.in_thread(root) if "un avis ?" in s.body or "can you help" in s.body]


async def paged_rows(h: Harness) -> list[tuple[int, str, int]]:
    rows = await h.db.fetchall(
        "SELECT number, user_id, round FROM volunteer_pages ORDER BY number, round, user_id")
    return [(r["number"], r["user_id"], r["round"]) for r in rows]


def lose_next_page(h: Harness) -> None:
    """The next page the bot sends fails (the card and other messages go through)."""
    send = h.transport.send

    async def flaky(room_id: str, event_type: str, body: dict[str, Any], txn_id: str) -> str:
        if "un avis ?" in str(body.get("body", "")):
            h.transport.send = send  # type: ignore[method-assign]
            raise ConnectionError("page lost")
        return await send(room_id, event_type, body, txn_id)

    h.transport.send = flaky  # type: ignore[method-assign]


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
    assert h.last().body.splitlines() == [
        "« bientôt » n’est ni une durée ni une date (ex. 4h, 3j, 15/08, 2027-08-15).",
        "Utilisation : !away [durée|date]"]
    await h.say(V1, "!away 31/02")
    assert "Utilisation : !away [durée|date]" in h.last().body
    await h.say(V1, "!away 2027-01-14")
    assert h.last().body.splitlines() == ["Le 14/01/2027 est déjà passé.",
                                          "Utilisation : !away [durée|date]"]
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
    async with harness(daily_cap=50, per_round=2) as h:
        h.add_room(ROOM, members=[POSTER, V1, V2, V3])
        await enlist(h, V1, V2, V3)
        for _ in range(100):
            await h.say(POSTER, DERMATO)
            h.clock.value += 3600  # about 16 pages a day each: under the cap
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
    assert h.last_message().body == "Cas #1 pris en charge par @v1:test. Merci !"
    assert h.last_message().mentions == []
    assert "Pris en charge par @v1:test" in card_of(h, root).body
    assert await h.db.fetchval("SELECT taken_by FROM volunteer_cases") == V1
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


@pytest.mark.parametrize("key", ["🙋🏽", "🙋\ufe0f", "👀\ufe0f", "🙋🏽\u200d♀️", "🙋\u200d♂"])
async def test_interest_reaction_in_any_skin_tone_or_presentation(h1: Harness,
                                                                  key: str) -> None:
    h = h1
    root = await h.say(POSTER, DERMATO)
    await h.react(V3, pages(h, root)[0].event_id, key)
    await h.advance(2 * 3600)
    assert len(pages(h, root)) == 1


async def test_card_comes_first_then_the_page(h1: Harness) -> None:
    h = h1
    root = await h.say(POSTER, DERMATO)
    card, page = h.in_thread(root)
    assert card.body.startswith("Cas #1 · Dermatologie · ouvert") and card.mentions == []
    assert page.mentions == [V1]
    # The card, redrawn after the page, names who was paged without pinging them.
    redrawn = card_of(h, root)
    assert "Confrères sollicités : @v1:test" in redrawn.body and redrawn.mentions == []
    assert "matrix.to" not in redrawn.html


async def test_thread_order_card_reminder_warning_then_page() -> None:
    async with Harness([Specialties, Cases, Secrecy, Volunteers]) as h:
        h.add_room(ROOM, members=[POSTER, V1])
        await enlist(h, V1)
        root = await h.say(POSTER, DERMATO + ", tél 06 12 34 56 78")
        card, reminder, warning, page = h.in_thread(root)
        assert card.body.startswith("Cas #1 · Dermatologie · ouvert")
        assert "premier cas" in reminder.body
        assert "un numéro de téléphone" in warning.body and warning.mentions == [POSTER]
        assert page.mentions == [V1]


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


async def test_stats_counts_pages_replies_and_median_reply_time(h1: Harness) -> None:
    h = h1
    root = await h.say(POSTER, DERMATO)  # pages V1
    h.clock.value += 10 * MIN
    await h.say(V1, "une réponse", thread_root=root)
    h.clock.value += 5 * MIN
    await h.say(V1, "et une autre", thread_root=root)
    root2 = await h.say(POSTER, DERMATO)  # pages V2, who never answers
    assert pages(h, root2)[0].mentions == [V2]
    root3 = await h.say(POSTER, DERMATO)  # pages V3
    h.clock.value += 3 * 3600
    await h.say(V3, "réponse tardive", thread_root=root3)
    root4 = await h.say(POSTER, DERMATO)  # pages V4
    h.clock.value += 20 * MIN
    await h.say(V4, "vu", thread_root=root4)
    mine = await h.say(V1, DERMATO)  # V1's own case: their thread messages are no replies
    assert pages(h, mine)[0].mentions == [V2]
    await h.say(V1, "précision", thread_root=mine)
    await h.say(POSTER, "!volunteers stats")
    body = h.last().body.splitlines()
    assert body[0] == "Bénévoles : sollicitations reçues, réponses, délai médian de réponse"
    assert "@v1:test : 1 sollicitations, 2 réponses, délai médian 10 min" in body
    assert "@v2:test : 2 sollicitations, 0 réponses, délai médian —" in body
    assert "@v3:test : 1 sollicitations, 1 réponses, délai médian 3 h" in body
    assert "@v4:test : 1 sollicitations, 1 réponses, délai médian 20 min" in body
    assert h.last_message().mentions == []
    # V3 answers a second case quickly: the median of 3 h and 2 min is their mean (1 h 31).
    assert pages(h, await h.say(POSTER, DERMATO))[0].mentions == [V1]
    root5 = await h.say(POSTER, DERMATO)
    assert pages(h, root5)[0].mentions == [V3]
    h.clock.value += 2 * MIN
    await h.say(V3, "vite", thread_root=root5)
    await h.app.set_room_setting(ROOM, "language", "en")
    await h.say(POSTER, "!volunteers stats")
    assert "@v3:test: 2 pages, 2 replies, median reply time 1 h" in h.last().body


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
    for table in ("volunteers", "volunteer_prefs", "volunteer_rotation", "volunteer_pages",
                  "volunteer_cases", "volunteer_page_events", "volunteer_replies"):
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


# ---- availability: dates, timezones, DST --------------------------------------------------------
def test_quiet_hours_follow_daylight_saving_time() -> None:
    spring = 1_806_211_800.0  # 2027-03-28 05:30 UTC: 07:30 in Paris (summer time since 01:00)
    autumn = 1_824_960_600.0  # 2027-10-31 05:30 UTC: 06:30 in Paris (winter time since 01:00)
    night = (22 * 60, 7 * 60)
    assert not in_quiet_hours(night, "Europe/Paris", spring)
    assert in_quiet_hours(night, "Europe/Paris", spring - 3600)  # 03:30 UTC: 05:30 CEST
    assert in_quiet_hours(night, "Europe/Paris", autumn)
    assert not in_quiet_hours(night, "Europe/Paris", autumn + 3600)
    # The same instant the day before the change is read with the other offset.
    assert in_quiet_hours(night, "Europe/Paris", spring - 86400)  # 06:30 CET
    assert not in_quiet_hours(night, "Europe/Paris", autumn - 86400)  # 07:30 CEST
    assert in_quiet_hours(night, "America/Martinique", spring)  # 01:30, no DST there


async def test_paging_on_the_morning_of_the_dst_change() -> None:
    async with harness() as h:
        h.add_room(ROOM, members=[POSTER, V1, V2])
        await enlist(h, V1, V2)
        await h.say(V1, "!quiet 22:00-07:00")
        await h.say(V2, "!quiet 22:00-08:00")
        h.clock.value = 1_806_211_800.0  # 07:30 summer time in Paris
        root = await h.say(POSTER, DERMATO)
        assert pages(h, root)[0].mentions == [V1]


async def test_room_timezone_is_the_default_of_its_volunteers(h: Harness) -> None:
    await enlist(h, V1, V2)
    await h.app.set_room_setting(ROOM, "timezone", "America/New_York")
    await h.say(V1, "!quiet 00:00-06:00")  # 03:00 in New York: quiet
    assert h.last().body == "Heures calmes : 00:00-06:00 (America/New_York)."
    await h.say(V2, "!quiet 00:00-06:00")
    await h.say(V2, "!mytz Europe/Paris")  # 09:00 for V2 themselves
    root = await h.say(POSTER, DERMATO)
    assert pages(h, root)[0].mentions == [V2]


async def test_room_admin_changes_paging_settings() -> None:
    async with harness() as h:
        h.add_room(ROOM, members=[POSTER, V1, V2, V3], powers={POSTER: 50})
        await enlist(h, V1, V2, V3)
        await h.say(POSTER, "!config set volunteers.per_round 30")
        assert "Valeur refusée" in h.last().body and "entre 1 et 20" in h.last().body
        await h.say(POSTER, "!config set volunteers.per_round 1")
        await h.say(POSTER, "!config set escalate_after 5m")
        await h.say(POSTER, "!config set volunteers.urgent_word prio")
        root = await h.say(POSTER, DERMATO)
        assert [p.mentions for p in pages(h, root)] == [[V1]]
        await h.advance(5 * MIN)
        assert [p.mentions for p in pages(h, root)] == [[V1], [V2]]
        await h.say(V3, "!urgent on")
        assert "#prio" in h.last().body


async def test_away_until_a_date_in_the_volunteers_timezone(h: Harness) -> None:
    await enlist(h, V1)
    await h.say(V1, "!away 16/01")  # through Saturday 16 January (Paris)
    assert h.last().body == "Absent jusqu’au 16/01/2027 inclus : plus de sollicitation d’ici là."
    root = await h.say(POSTER, DERMATO)
    assert pages(h, root) == []
    h.clock.value = 1_800_140_400.0 - 60  # 2027-01-16 23:59 in Paris
    assert pages(h, await h.say(POSTER, DERMATO)) == []
    h.clock.value += 120  # 00:01 on the 17th
    assert pages(h, await h.say(POSTER, DERMATO))[0].mentions == [V1]
    await h.say(V1, "!away 14/01")  # already past this year: next year's
    assert h.last().body.startswith("Absent jusqu’au 14/01/2028 inclus")
    await h.say(V1, "!away 2027-02-01")
    assert h.last().body.startswith("Absent jusqu’au 01/02/2027 inclus")
    prefs = await h.db.fetchone("SELECT away_until FROM volunteer_prefs WHERE user_id = ?",
                                (V1,))
    assert prefs["away_until"] == 1_801_522_800.0  # 2027-02-02 00:00 in Paris
    await h.app.set_room_setting(ROOM, "language", "en")
    await h.say(V1, "!away 29/02")
    assert h.last().body == "Away through 2028-02-29: no pages until then."


# ---- urgent word ---------------------------------------------------------------------------------
async def test_urgent_word_is_configurable() -> None:
    async with harness(urgent_word="prio") as h:
        h.add_room(ROOM, members=[POSTER, V1])
        await enlist(h, V1)
        await h.say(V1, "!quiet 22:00-10:00")
        await h.say(V1, "!urgent on")
        assert h.last().body == ("Vous pourrez être sollicité pour les cas #prio même pendant "
                                 "vos heures calmes.")
        assert pages(h, await h.say(POSTER, DERMATO + " #urgent")) == []
        page = pages(h, await h.say(POSTER, DERMATO + " #PRIO"))[0]
        assert page.mentions == [V1] and "— urgent" in page.body


# ---- the cap holds under concurrency ------------------------------------------------------------
async def test_daily_cap_holds_when_rooms_page_at_the_same_time() -> None:
    rooms = [f"!r{i}:test" for i in range(4)]
    async with harness(daily_cap=2) as h:
        for room in rooms:
            h.add_room(room, members=[POSTER, V1])
            await h.say(V1, "!volunteer dermato", room=room)
        # One sync batch with a case in each room: the rooms are handled in parallel.
        await h.deliver(*[Message(room, f"$case{i}", POSTER, h._ts(), DERMATO)
                          for i, room in enumerate(rooms)])
        assert await h.db.fetchval("SELECT COUNT(*) FROM volunteer_pages") == 2
        assert sum(1 for s in h.sent if V1 in s.mentions) == 2


# ---- interest on the paging message or the card -------------------------------------------------
async def test_interest_on_the_page_or_the_card_stops_escalation(h1: Harness) -> None:
    h = h1
    root = await h.say(POSTER, DERMATO)
    await h.react(V1, pages(h, root)[0].event_id, "🙋")
    await h.advance(2 * 3600)
    assert len(pages(h, root)) == 1
    assert not any("aucun bénévole" in s.body for s in h.sent)
    other = await h.say(POSTER, DERMATO)
    await h.react(V3, h.in_thread(other)[0].event_id, "👀")  # the card (not its edits)
    await h.advance(2 * 3600)
    assert len(pages(h, other)) == 1
    third = await h.say(POSTER, DERMATO)
    await h.react(POSTER, pages(h, third)[0].event_id, "🙋")  # the poster's own: no claim
    await h.react(V1, pages(h, third)[0].event_id, "👍")  # not an interest reaction
    await h.advance(30 * MIN)
    assert len(pages(h, third)) == 2


# ---- retagging ----------------------------------------------------------------------------------
@pytest.fixture
async def ht():
    """per_round 1; V1, V2 volunteer for dermato, V3 for rhumato, V4 for both."""
    async with harness(per_round=1) as hh:
        hh.add_room(ROOM, members=[POSTER, V1, V2, V3, V4])
        await enlist(hh, V1, V2)
        await enlist(hh, V3, specialty="rhumato")
        await hh.say(V4, "!volunteer dermato rhumato")
        yield hh


async def test_tag_pages_a_new_specialty_as_the_next_round(ht: Harness) -> None:
    h = ht
    root = await h.say(POSTER, DERMATO)
    assert [p.mentions for p in pages(h, root)] == [[V1]]
    await h.advance(10 * MIN)
    await h.say(POSTER, "!tag dermato rhumato", thread_root=root)
    sent = pages(h, root)
    assert [p.mentions for p in sent] == [[V1], [V3]]
    assert sent[1].body.startswith("Cas #1 (Dermatologie, Rhumatologie) : @v3:test, un avis ?")
    assert "Confrères sollicités : @v1:test, @v3:test" in card_of(h, root).body
    assert h.last_message().body == "Cas #1 : Dermatologie, Rhumatologie."
    await h.say(POSTER, "!tag rhumato dermato", thread_root=root)  # nothing new
    await h.say(POSTER, "!tag rhumato", thread_root=root)  # a specialty removed
    assert len(pages(h, root)) == 2
    # The retag restarted the delay: the timer due 30 min after the case was replaced.
    await h.advance(20 * MIN)
    assert len(pages(h, root)) == 2
    await h.advance(10 * MIN)  # 30 min after the retag: round 3, from the current tags
    assert [p.mentions for p in pages(h, root)] == [[V1], [V3], [V4]]
    await h.advance(30 * MIN)
    assert "aucun bénévole disponible" in h.last().body
    assert await paged_rows(h) == [(1, V1, 1), (1, V3, 2), (1, V4, 3)]
    # After "nobody is available", widening with a new tag still pages, then tells again.
    await h.say(V2, "!volunteer cardio")
    await h.say(POSTER, "!tag rhumato cardio", thread_root=root)
    assert pages(h, root)[-1].mentions == [V2]
    count = sum("aucun bénévole" in s.body for s in h.sent)
    await h.advance(30 * MIN)
    assert sum("aucun bénévole" in s.body for s in h.sent) == count + 1
    await h.advance(3 * 3600)
    assert sum("aucun bénévole" in s.body for s in h.sent) == count + 1
    assert len(pages(h, root)) == 4
    assert await paged_rows(h) == [(1, V1, 1), (1, V3, 2), (1, V4, 3), (1, V2, 4)]


async def test_tag_never_repages_and_respects_rules(ht: Harness) -> None:
    h = ht
    await h.say(V3, "!away")
    root = await h.say(POSTER, DERMATO)  # V1
    await h.advance(30 * MIN)  # V2
    await h.say(POSTER, "!tag rhumato", thread_root=root)
    # V3 is away; V4 is rhumato's other volunteer.
    assert [p.mentions for p in pages(h, root)] == [[V1], [V2], [V4]]
    await h.say(V1, "!volunteer cardio")
    await h.say(POSTER, "!tag rhumato cardio", thread_root=root)  # V1 was already paged
    assert len(pages(h, root)) == 3
    # A case taken by someone pages nobody more.
    other = await h.say(POSTER, "!case douleur thoracique #cardio")
    assert pages(h, other)[0].mentions == [V1]
    await h.say(V1, "!take", thread_root=other)
    await h.say(POSTER, "!tag cardio dermato", thread_root=other)
    assert len(pages(h, other)) == 1
    # Only the poster (or a moderator) may retag: a refused !tag pages no one.
    third = await h.say(POSTER, "!case douleur thoracique #cardio")
    await h.say(V2, "!tag dermato", thread_root=third)
    assert h.last().body.startswith("Seuls l’auteur du cas")
    assert len(pages(h, third)) == 1


async def test_tag_respects_the_daily_cap() -> None:
    async with harness(per_round=1, daily_cap=1) as h:
        h.add_room(ROOM, members=[POSTER, V1, V2])
        await enlist(h, V1)
        await enlist(h, V2, specialty="rhumato")
        assert pages(h, await h.say(POSTER, "!case #rhumato gonalgie"))[0].mentions == [V2]
        root = await h.say(POSTER, DERMATO)
        assert pages(h, root)[0].mentions == [V1]
        await h.say(POSTER, "!tag dermato rhumato", thread_root=root)
        assert len(pages(h, root)) == 1  # V2 already had their page of the day


async def test_unclassified_case_tagged_then_pages_that_specialty(ht: Harness) -> None:
    h = ht
    await enlist(h, V2, specialty="mg")
    root = await h.say(POSTER, "!case question rapide, avis ?")
    assert pages(h, root)[0].mentions == [V2]
    await h.say(POSTER, "!tag dermato", thread_root=root)
    assert [p.mentions for p in pages(h, root)] == [[V2], [V1]]


async def test_edit_that_retags_pages_the_new_specialty(ht: Harness) -> None:
    h = ht
    root = await h.say(POSTER, DERMATO)
    await h.edit(POSTER, root, DERMATO + " et arthralgies #rhumato")
    assert [p.mentions for p in pages(h, root)] == [[V1], [V3]]


async def test_tag_after_an_answer_or_interest_pages_without_escalating(ht: Harness) -> None:
    h = ht
    root = await h.say(POSTER, DERMATO)
    await h.say(V1, "plutôt rhumato, je pense", thread_root=root)
    await h.say(POSTER, "!tag rhumato", thread_root=root)
    assert [p.mentions for p in pages(h, root)] == [[V1], [V3]]
    other = await h.say(POSTER, DERMATO)
    await h.react(V2, other, "👀")
    await h.say(POSTER, "!tag dermato rhumato", thread_root=other)
    assert len(pages(h, other)) == 2
    await h.advance(3 * 3600)
    assert len(pages(h, root)) == 2 and len(pages(h, other)) == 2
    assert not any("aucun bénévole" in s.body for s in h.sent)
    assert await h.db.fetchval(
        "SELECT COUNT(*) FROM timers WHERE component = 'volunteers'") == 0


async def test_retag_racing_the_escalation_timer_pages_each_once(ht: Harness) -> None:
    h = ht
    root = await h.say(POSTER, DERMATO)
    h.clock.value += 30 * MIN
    tag = Message(ROOM, "$tag", POSTER, h._ts(), "!tag dermato rhumato", thread_root=root)
    await asyncio.gather(h.app.scheduler.run_due(), h.deliver(tag))
    mentioned = [u for p in pages(h, root) for u in p.mentions]
    assert sorted(mentioned) == sorted(set(mentioned)) and len(mentioned) == 3
    rounds = [r for _, _, r in await paged_rows(h)]
    assert sorted(rounds) == [1, 2, 3]
    await h.advance(30 * MIN)  # round 3 was the last: the poster is told, once
    await h.advance(3 * 3600)
    assert sum("aucun bénévole" in s.body for s in h.sent) == 1
    assert len(pages(h, root)) == 3


async def test_a_page_that_fails_to_send_is_retried_and_escalation_goes_on(h1: Harness) -> None:
    h = h1
    lose_next_page(h)  # the first page of the case is lost
    root = await h.say(POSTER, DERMATO)
    assert pages(h, root) == []
    assert card_of(h, root).body.startswith("Cas #1 · Dermatologie · ouvert")  # still opened
    h.transport.fail_sends = 0
    await h.advance(30 * MIN)
    assert [p.mentions for p in pages(h, root)] == [[V2]]
    h.transport.fail_sends = 1  # round 3's message fails: retried a minute later
    await h.advance(30 * MIN)
    assert len(pages(h, root)) == 1
    await h.advance(1 * MIN)
    assert [p.mentions for p in pages(h, root)] == [[V2], [V3]]
    await h.advance(30 * MIN)
    assert "aucun bénévole disponible" in h.last().body
    assert await paged_rows(h) == [(1, V1, 1), (1, V2, 2), (1, V3, 3)]


def test_time_zones_that_are_folders_or_too_long_are_refused() -> None:
    """With the tzdata package installed (matplotlib pulls it), "Europe" is a folder and
    a 300-letter name is too long for the file system: both raise OSError, not a lookup miss."""
    for name in ("Europe", "x" * 300):
        assert not valid_tz(name)
        assert str(zone(name)) == "Europe/Paris"
    assert valid_tz("America/Montreal")
