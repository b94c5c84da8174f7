"""The secrecy feature on the fake transport: room checks, warnings, redaction, rules, photos."""

from __future__ import annotations

import pytest
from PIL import Image

from bot.testing import BOT, Harness
from plugins.cases import Cases
from plugins.secrecy.plugin import Secrecy
from plugins.specialties import Specialties
from tests.support.photos import encode, exif

POSTER = "@alice:test"
DOC = "@bob:test"
MOD = "@mod:test"
ROOM = "!room:test"
CLEAN = "!case Femme 45 ans, plaques érythémato-squameuses des coudes, psoriasis ? traitement"
DIRTY = "!case Mme Dupont, 45 ans, tél 06 12 34 56 78, douleur thoracique atypique"
NIR13 = "1850575123456"
NIR = f"{NIR13}{97 - int(NIR13) % 97:02d}"


def harness(**sections: dict[str, str]) -> Harness:
    return Harness([Specialties, Cases, Secrecy], sections=dict(sections))


@pytest.fixture
async def h():
    async with harness() as hh:
        hh.add_room(ROOM, members=[POSTER, DOC, MOD], powers={MOD: 50, BOT: 100})
        yield hh


async def photos_checked(h: Harness) -> None:
    """Wait for the photos queued for their check (they are checked behind the handlers)."""
    await h.app.lane.idle()


async def cases(h: Harness) -> list[dict]:
    return [dict(r) for r in await h.db.fetchall("SELECT * FROM cases")]


def warnings(h: Harness, root: str) -> list[str]:
    return [s.body for s in h.in_thread(root) if "identifiant" in s.body]


def jpeg(*, gps: bool = True) -> bytes:
    """A small JPEG whose EXIF holds a GPS position (or no EXIF at all)."""
    return encode(Image.new("RGB", (64, 48), (200, 170, 150)), "JPEG", exif(gps=gps))


# ---- 1. room checks ----------------------------------------------------------------------------
async def test_unencrypted_room_refuses_case(h: Harness) -> None:
    h.add_room("!plain:test", members=[POSTER], encrypted=False)
    root = await h.say(POSTER, CLEAN, room="!plain:test")
    reply = h.answers(root)
    assert len(reply) == 1 and "chiffrement" in reply[0].body
    assert await cases(h) == []


async def test_public_room_refuses_case(h: Harness) -> None:
    h.add_room("!pub:test", members=[POSTER], join_rule="public",
               history_visibility="world_readable")
    root = await h.say(POSTER, CLEAN, room="!pub:test")
    body = h.answers(root)[0].body
    assert "public" in body and "historique" in body and "administrateur" in body
    assert await cases(h) == []


async def test_room_turned_public_refuses_from_then_on(h: Harness) -> None:
    await h.say(POSTER, CLEAN)
    assert len(await cases(h)) == 1
    await h.state_change(ROOM, "m.room.join_rules", join_rule="public")
    await h.say(POSTER, CLEAN)
    assert len(await cases(h)) == 1
    assert "public" in h.last().body


# ---- 2. warnings -------------------------------------------------------------------------------
async def test_identifying_case_gets_thread_warning_with_kinds_only(h: Harness) -> None:
    root = await h.say(POSTER, DIRTY)
    assert len(await cases(h)) == 1
    found = [s for s in h.in_thread(root) if "identifiant" in s.body]
    assert len(found) == 1
    warning = found[0]
    assert POSTER in warning.mentions
    assert "un nom" in warning.body and "un numéro de téléphone" in warning.body
    assert "R.4127-73" in warning.body and "!redact" in warning.body
    for leaked in ("Dupont", "06 12"):
        assert leaked not in warning.body and leaked not in warning.html
    for sent in h.sent:
        assert "Dupont" not in sent.body and "06 12" not in sent.body


async def test_clean_case_gets_no_warning(h: Harness) -> None:
    root = await h.say(POSTER, CLEAN)
    assert warnings(h, root) == []


async def test_thread_reply_with_email_is_warned(h: Harness) -> None:
    root = await h.say(POSTER, CLEAN)
    await h.say(DOC, "écrivez-moi à jean.martin@gmail.com pour le bilan", thread_root=root)
    found = warnings(h, root)
    assert len(found) == 1 and "une adresse e-mail" in found[0]
    assert "jean.martin" not in found[0]
    assert DOC in h.last().mentions


async def test_message_outside_case_thread_is_ignored(h: Harness) -> None:
    await h.say(DOC, "écrivez-moi à jean.martin@gmail.com")
    assert h.sent == []


async def test_edit_updates_the_warning_then_clears_it(h: Harness) -> None:
    root = await h.say(POSTER, CLEAN)
    reply = await h.say(DOC, "mail : jean.martin@gmail.com", thread_root=root)
    warning = h.last()
    await h.edit(DOC, reply, "mail : jean.martin@gmail.com, tél 06 12 34 56 78",
                 thread_root=root)
    edit = h.last()
    assert edit.replaces == warning.event_id
    new = edit.content["m.new_content"]["body"]
    assert "un numéro de téléphone" in new and "une adresse e-mail" in new
    assert "06 12" not in new
    await h.edit(DOC, reply, "mail : voir messagerie sécurisée", thread_root=root)
    assert h.last().replaces == warning.event_id
    assert "ne détecte plus" in h.last().content["m.new_content"]["body"]


async def test_edit_of_case_root_adding_data_is_warned(h: Harness) -> None:
    root = await h.say(POSTER, CLEAN)
    await h.edit(POSTER, root, CLEAN + " né le 12/03/1985")
    found = warnings(h, root)
    assert len(found) == 1 and "une date de naissance" in found[0]


# ---- 3. !redact --------------------------------------------------------------------------------
async def test_redact_command_redacts_flagged_message(h: Harness) -> None:
    root = await h.say(POSTER, CLEAN)
    reply = await h.say(DOC, "mail : jean.martin@gmail.com", thread_root=root)
    await h.say(DOC, "!redact", thread_root=root)
    assert h.transport.redacted == [reply]
    assert "masqué" in h.last().body


async def test_redact_by_other_user_is_refused_but_moderator_may(h: Harness) -> None:
    root = await h.say(POSTER, CLEAN)
    reply = await h.say(DOC, "mail : jean.martin@gmail.com", thread_root=root)
    await h.say(POSTER, "!masquer", thread_root=root)
    assert h.transport.redacted == []
    assert "rien signalé" in h.last().body
    await h.say(MOD, "!redact", thread_root=root)
    assert h.transport.redacted == [reply]


async def test_redact_without_power_asks_poster_to_delete(h: Harness) -> None:
    h.add_room("!weak:test", members=[POSTER, DOC])
    root = await h.say(POSTER, CLEAN, room="!weak:test")
    await h.say(DOC, "mail : jean.martin@gmail.com", room="!weak:test", thread_root=root)
    await h.say(DOC, "!redact", room="!weak:test", thread_root=root)
    assert h.transport.redacted == []
    assert "supprimez-le vous-même" in h.last().body and DOC in h.last().mentions


async def test_redact_outside_case_thread(h: Harness) -> None:
    await h.say(DOC, "!redact")
    assert "fil du cas" in h.last().body


async def test_redact_in_a_case_thread_after_a_restart(tmp_path) -> None:
    """Which threads are cases comes from cases, restart or not: `!redact` in an old case's
    thread answers there (nothing flagged since the restart), not "type it in the case's
    thread"."""
    db = tmp_path / "bot.db"
    async with Harness([Specialties, Cases, Secrecy], db_path=db) as h1:
        h1.add_room(ROOM, members=[POSTER, DOC, MOD], powers={MOD: 50, BOT: 100})
        root = await h1.say(POSTER, CLEAN)
    async with Harness([Specialties, Cases, Secrecy], db_path=db, clock=h1.clock) as h2:
        h2.add_room(ROOM, members=[POSTER, DOC, MOD], powers={MOD: 50, BOT: 100})
        await h2.say(DOC, "!redact", thread_root=root)
        assert "rien signalé" in h2.last().body
        await h2.say(DOC, "!redact", thread_root="$not-a-case:test")
        assert "fil du cas" in h2.last().body


async def test_redact_mode_removes_valid_nir_at_once() -> None:
    async with harness(secrecy={"mode": "redact"}) as h:
        h.add_room(ROOM, members=[POSTER], powers={BOT: 100})
        root = await h.say(POSTER, f"!case homme 40 ans NIR {NIR} douleur thoracique")
        assert h.transport.redacted == [root]
        last = h.last()
        assert "masqué" in last.body and "NIR" in last.body and NIR not in last.body
        assert POSTER in last.mentions
        assert await cases(h) == [] and h.answers(root) == [last]


async def test_redact_mode_room_setting_keeps_low_confidence_as_warning(h: Harness) -> None:
    await h.app.set_room_setting(ROOM, "secrecy.mode", "redact")
    root = await h.say(POSTER, CLEAN)
    await h.say(DOC, "patient né le 12/03/1985", thread_root=root)
    assert h.transport.redacted == []
    assert "une date de naissance" in h.last().body


# ---- 4. onboarding -----------------------------------------------------------------------------
async def test_onboarding_once_per_user_and_room(h: Harness) -> None:
    first = await h.say(POSTER, CLEAN)
    assert sum("premier cas" in s.body for s in h.in_thread(first)) == 1
    second = await h.say(POSTER, CLEAN)
    assert not any("premier cas" in s.body for s in h.in_thread(second))
    third = await h.say(DOC, CLEAN)
    assert any("premier cas" in s.body for s in h.in_thread(third))


async def test_onboarding_is_short_after_the_card_and_names_the_member(h: Harness) -> None:
    h.add_room(ROOM, members=[POSTER, DOC, MOD], powers={MOD: 50, BOT: 100},
               display_names={POSTER: "Dr Alice", DOC: "Dr Bob"})
    await h.say(POSTER, CLEAN)
    root = await h.say(DOC, CLEAN)  # case #2, but Bob's first
    card, reminder = h.in_thread(root)
    assert card.body.startswith("Cas #2 ·")
    assert reminder.body.splitlines() == [
        "Bienvenue, Dr Bob : c’est votre premier cas dans ce salon.",
        "Le patient ne doit pas être identifiable : ni nom, ni date de naissance ou précise, "
        "ni adresse, téléphone ou n° de dossier ; photos sans visage ni métadonnées.",
        "Les règles complètes : !rules",
    ]
    assert reminder.mentions == [] and "matrix.to" not in reminder.html


# ---- 5. !rules ---------------------------------------------------------------------------------
async def test_rules_and_custom_text() -> None:
    async with harness(secrecy={"rules_text_fr": "Nos règles maison."}) as h:
        h.add_room(ROOM, members=[POSTER])
        await h.say(POSTER, "!règles")
        assert h.last().body == "Nos règles maison."
    async with harness() as h:
        h.add_room(ROOM, members=[POSTER])
        await h.say(POSTER, "!rules")
        assert "R.4127-73" in h.last().body


async def test_rules_pin_needs_moderator(h: Harness) -> None:
    await h.say(POSTER, "!rules pin")
    assert "modérateur" in h.last().body
    assert h.transport.state == []
    await h.say(MOD, "!rules pin")
    pinned = h.last()
    assert "R.4127-73" in pinned.body and pinned.thread_root is None
    assert h.transport.state == [(ROOM, "m.room.pinned_events", {"pinned": [pinned.event_id]})]
    assert h.transport.rooms[ROOM].pinned_events == (pinned.event_id,)


# ---- 6. photos ---------------------------------------------------------------------------------
async def test_photo_with_gps_is_warned(h: Harness) -> None:
    root = await h.say(POSTER, CLEAN)
    h.clear()
    await h.attach(DOC, jpeg(gps=False), thread_root=root)
    await photos_checked(h)
    assert h.sent == []
    photo = await h.attach(DOC, jpeg(), thread_root=root)
    await photos_checked(h)
    warning = h.last()
    assert warning.thread_root == root and DOC in warning.mentions
    assert "position GPS" in warning.body and "tatouage" in warning.body
    await h.say(DOC, "!redact", thread_root=root)
    assert h.transport.redacted == [photo]


# ---- storage -----------------------------------------------------------------------------------
async def test_counts_hold_kinds_only(h: Harness) -> None:
    root = await h.say(POSTER, DIRTY)
    await h.say(DOC, "mail : jean.martin@gmail.com", thread_root=root)
    rows = [dict(r) for r in await h.db.fetchall(
        "SELECT room_id, kind, day, count FROM secrecy_counts ORDER BY kind")]
    assert [(r["kind"], r["count"]) for r in rows] == [("email", 1), ("name", 1), ("phone", 1)]
    dump = " ".join(str(v) for r in rows for v in r.values())
    for leaked in ("Dupont", "06", "jean", "gmail"):
        assert leaked not in dump
    onboarded = [dict(r) for r in await h.db.fetchall("SELECT * FROM secrecy_onboarded")]
    assert onboarded == [{"room_id": ROOM, "user_id": POSTER}]


# ---- 6. counts in !stats, English rooms ------------------------------------------------------
async def test_stats_show_counts_by_kind_never_values(h: Harness) -> None:
    await h.say(POSTER, DIRTY)
    root = await h.say(POSTER, CLEAN)
    await h.say(DOC, "rappelez le 06 98 76 54 32", thread_root=root)
    await h.say(POSTER, "!stats")
    body = h.last().body
    assert "Secret médical : 3 alerte(s) — un numéro de téléphone × 2, un nom × 1." in body
    assert "06" not in body and "Dupont" not in body
    rows = await h.db.fetchall("SELECT kind, count FROM secrecy_counts ORDER BY kind")
    assert [tuple(r) for r in rows] == [("name", 1), ("phone", 2)]


async def test_stats_without_warnings(h: Harness) -> None:
    await h.say(POSTER, CLEAN)
    await h.say(POSTER, "!stats")
    assert "Secret médical : aucune alerte." in h.last().body


async def test_english_room_warning_and_refusal(h: Harness) -> None:
    await h.app.set_room_setting(ROOM, "language", "en")
    root = await h.say(POSTER, DIRTY)
    body = "\n".join(s.body for s in h.in_thread(root))
    assert "seems to contain identifying data: a name and a phone number" in body
    assert "R.4127-73" in body and "!redact" in body
    assert "Dupont" not in body and "06 12" not in body
    h.add_room("!plain:test", members=[POSTER], encrypted=False)
    await h.app.set_room_setting("!plain:test", "language", "en")
    refused = await h.say(POSTER, CLEAN, room="!plain:test")
    assert "encrypt" in h.answers(refused)[0].body
    await h.say(POSTER, "!rules")
    assert "patient" in h.last().body and "secret" not in h.last().body
