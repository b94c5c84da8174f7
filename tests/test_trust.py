"""The trust feature on the fake transport: the directory import, RPPS checks, `!verify`,
the verified room policy, knocks and `!admit`, reports, the charter, the ✔ marks."""

from __future__ import annotations

import asyncio
import io
import sqlite3
import tracemalloc
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from bench.directory import luhn_key, write_extract
from bot.config import Config
from bot.testing import BOT, Harness, Sent
from plugins.cases import Cases
from plugins.secrecy.plugin import Secrecy
from plugins.specialties import Specialties
from plugins.trust import Trust
from plugins.trust.cli import ProgressBar, _prepare, main
from plugins.trust.directory import (
    HEADER,
    DirectoryError,
    import_directory,
    name_key,
    names_match,
)
from plugins.trust.rpps import is_rpps, luhn_ok
from plugins.volunteers import Volunteers

ROOM, OTHER, MODS = "!room:test", "!other:test", "!mods:test"
MOD, ALICE, BOB, CAROL = "@mod:test", "@alice:test", "@bob:test", "@carol:test"


def rpps(n: int) -> str:
    base = f"1{n:09d}"
    return base + luhn_key(base)


DUPONT, MARTIN, NURSE, GHOST = rpps(11), rpps(12), rpps(13), rpps(14)
BAD_KEY = DUPONT[:-1] + str((int(DUPONT[-1]) + 1) % 10)


def row(number: str, last: str, first: str, code: str = "10", label: str = "Médecin",
        specialty: str = "", department: str = "",
        header: Sequence[str] = HEADER) -> str:
    cells = dict.fromkeys(header, "")
    cells.update({"Type d'identifiant PP": "8", "Identifiant PP": number,
                  "Identification nationale PP": "8" + number, "Nom d'exercice": last,
                  "Prénom d'exercice": first, "Code profession": code,
                  "Libellé profession": label, "Libellé savoir-faire": specialty,
                  "Code département (coord. structure)": department,
                  "Code Département (structure)": department,
                  "Raison sociale site": "CABINET", "Téléphone (coord. structure)": "0102030405"})
    return "|".join(cells[c] for c in header) + "|"


PEOPLE = [
    row(DUPONT, "DUPONT", "Marie-Hélène", specialty="Cardiologie et maladies vasculaires",
        department="69"),
    row(MARTIN, "MARTIN", "Jean", department="75"),  # first activity: no savoir-faire
    row(MARTIN, "MARTIN", "Jean", specialty="Médecine générale", department="92"),
    row(NURSE, "DURAND", "Paul", code="60", label="Infirmier"),
    row(BAD_KEY, "FAUX", "Numéro"),
]


def extract(path: Path, rows: Sequence[str] = PEOPLE,
            header: Sequence[str] = HEADER) -> Path:
    path.write_text("\n".join(["|".join(header) + "|", *rows]) + "\n", encoding="utf-8")
    return path


def harness(tmp_path: Path, **trust: Any) -> Harness:
    """MOD is a bot admin: the first verifications need someone vouched for."""
    return Harness([Specialties, Cases, Secrecy, Volunteers, Trust],
                   config=Config(data_dir=Path("/nonexistent"), admins=(MOD,)),
                   sections={"trust": trust}, db_path=tmp_path / "casebot.db")


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(tmp_path) as hh:
        await load(hh, tmp_path)
        yield hh


async def load(h: Harness, tmp_path: Path) -> None:
    import_directory(extract(tmp_path / "extract.txt"), Path(h.db_path))
    h.add_room(ROOM, members=[MOD, ALICE, BOB, CAROL], powers={MOD: 50, BOT: 100})


def policy(h: Harness, value: str, room: str = ROOM) -> Any:
    return h.app.settings.set_room_value(room, "trust.policy", value)


async def verify(h: Harness, user: str, number: str) -> Sent:
    """`!verify` then a moderator's ✅ on the moderators' notice (not the copy the bot admins
    get in direct messages); returns the notice."""
    await h.say(user, f"!verify {number}")
    notice = next(s for s in reversed(h.sent) if "Demande de vérification" in s.body
                  and s.room_id not in h.transport.direct.values())
    await h.react(MOD, notice.event_id, "✅", room=notice.room_id)
    return notice


async def verified_row(h: Harness, user: str) -> Any:
    return await h.db.fetchone(
        "SELECT status, rpps FROM trust_verifications WHERE user_id = ?", (user,))


# ---- RPPS numbers and names ---------------------------------------------------------------
def test_rpps_shape_and_luhn_key() -> None:
    # Real RPPS numbers of the public extract (Identifiant PP) pass the Luhn key.
    assert is_rpps("10001045367") and is_rpps("10100779536")
    assert not is_rpps("10001045368")  # last digit changed
    assert not is_rpps("1000104536")  # 10 digits
    assert not is_rpps("1000104536a") and not is_rpps("１0001045367")
    assert luhn_ok("79927398713") and not luhn_ok("79927398710")


def test_names_compare_without_accents_case_order_hyphens_or_titles() -> None:
    assert names_match("Dr Marie Helene Dupont", "Marie-Hélène", "DUPONT")
    assert names_match("DUPONT marie-hélène (cardio, Lyon)", "Marie-Hélène", "DUPONT")
    assert not names_match("Marie Dupond", "Marie-Hélène", "DUPONT")
    assert not names_match("Marie-Hélène", "Marie-Hélène", "DUPONT")
    assert name_key("Pr Dupont Marie-Hélène") == name_key("marie helene DUPONT")


# ---- the directory import ---------------------------------------------------------------
async def test_import_keeps_physicians_once_each_and_is_idempotent(h: Harness,
                                                                   tmp_path: Path) -> None:
    rows = await h.db.fetchall(
        "SELECT rpps, last_name, first_name, profession, specialty, department "
        "FROM trust_directory ORDER BY rpps")
    assert [tuple(r) for r in rows] == [
        (DUPONT, "DUPONT", "Marie-Hélène", "Médecin", "Cardiologie et maladies vasculaires",
         "69"),
        (MARTIN, "MARTIN", "Jean", "Médecin", "Médecine générale", "75"),
    ]
    again = import_directory(tmp_path / "extract.txt", Path(h.db_path))
    assert (again.rows, again.physicians, again.skipped) == (5, 2, 1)
    assert await h.db.fetchval("SELECT COUNT(*) FROM trust_directory") == 2
    # The phone of the site, the address, the civil status: none of it is stored.
    columns = [r[1] for r in await h.db.fetchall("PRAGMA table_info(trust_directory)")]
    assert columns == ["rpps", "last_name", "first_name", "name_key", "profession",
                       "specialty", "department"]


async def test_import_reads_the_older_header_and_refuses_other_files(h: Harness,
                                                                    tmp_path: Path) -> None:
    older = [c for c in HEADER if c not in ("Code département (coord. structure)",
                                            "Code fonction")]
    older.insert(44, "Code Département (structure)")
    file = extract(tmp_path / "old.txt", [row(GHOST, "NOUVEAU", "Néo", department="13",
                                              header=older)], header=older)
    result = import_directory(file, Path(h.db_path))
    assert result.physicians == 1
    assert await h.db.fetchval("SELECT department FROM trust_directory") == "13"
    bad = tmp_path / "finess.txt"
    bad.write_text("nofinesset;rs\n010000024;CH\n", encoding="utf-8")
    with pytest.raises(DirectoryError, match="Identifiant PP"):
        import_directory(bad, Path(h.db_path))
    # A refused file leaves the directory as it was.
    assert await h.db.fetchval("SELECT COUNT(*) FROM trust_directory") == 1


def test_cli_imports_into_the_data_directory_with_a_progress_bar(tmp_path: Path,
                                                                capsys: Any) -> None:
    big = tmp_path / "big.txt"
    physicians = write_extract(big, 12_000)
    config = Config(data_dir=tmp_path / "data")
    assert main(config, big) == 0
    conn = sqlite3.connect(tmp_path / "data" / "casebot.db")
    assert conn.execute("SELECT COUNT(*) FROM trust_directory").fetchone()[0] == physicians
    conn.close()
    captured = capsys.readouterr()
    assert "100 %" in captured.err and f"{physicians} physicians imported" in captured.out
    assert main(config, tmp_path / "missing.txt") == 1
    out = io.StringIO()
    bar = ProgressBar(out)
    bar(1, 4)
    bar(1, 4)  # the same percent is not redrawn
    assert out.getvalue().count("\r") == 1 and "25 %" in out.getvalue()


# ---- !verify --------------------------------------------------------------------------------
async def test_verify_checks_the_number_before_anything_is_stored(h: Harness) -> None:
    await h.say(ALICE, "!verify")
    assert "pas vérifié" in h.last().body
    await h.say(ALICE, "!verify 1234")
    assert "11 chiffres" in h.last().body
    await h.say(ALICE, f"!verify {BAD_KEY}")
    assert "clé" in h.last().body
    await h.say(ALICE, f"!verify {NURSE}")  # a nurse: not a physician of the directory
    assert "annuaire importé (2 médecins)" in h.last().body
    await h.say(ALICE, f"!verify {GHOST}")
    assert "n’est pas celui d’un médecin" in h.last().body
    assert await h.db.fetchval("SELECT COUNT(*) FROM trust_verifications") == 0


async def test_verify_tells_the_moderators_and_a_reaction_confirms(h: Harness) -> None:
    h.update_room(ROOM, display_names={ALICE: "Dr Marie-Hélène Dupont", MOD: "Modo"})
    root = await h.say(ALICE, f"!verify {DUPONT[:5]} {DUPONT[5:]}")
    notice = next(s for s in h.in_thread(root) if "Demande de vérification" in s.body)
    assert notice.mentions == [MOD]
    assert "DUPONT Marie-Hélène — Médecin, Cardiologie et maladies vasculaires" in notice.body
    assert "Le nom affiché correspond" in notice.body
    assert DUPONT not in notice.body and "69" not in notice.body  # name, profession, specialty
    assert "Demande envoyée" in h.last().body
    assert tuple(await verified_row(h, ALICE)) == ("pending", DUPONT)

    await h.react(BOB, notice.event_id, "✅")  # not a moderator: nothing happens
    assert (await verified_row(h, ALICE))["status"] == "pending"
    await h.react(MOD, notice.event_id, "✅")
    assert (await verified_row(h, ALICE))["status"] == "verified"
    assert "est vérifié (par Modo)" in h.last().body and h.last().thread_root == root
    await h.say(ALICE, "!verify")
    assert "Vous êtes vérifié" in h.last().body
    await h.say(ALICE, f"!verify {DUPONT}")
    assert "déjà vérifié" in h.last().body
    # The number is now linked to Alice's account: nobody else can claim it.
    await h.say(BOB, f"!verify {DUPONT}")
    assert "déjà lié à un autre compte" in h.last().body


async def test_moderators_approve_or_refuse_by_command(h: Harness) -> None:
    await h.say(BOB, f"!verify {MARTIN}")
    assert "ne correspond pas" in next(s.body for s in h.sent if "Demande" in s.body)
    await h.say(CAROL, f"!verify approve {BOB}")
    assert "Seuls les modérateurs" in h.last().body
    await h.say(MOD, f"!verifier refuser {BOB}")
    assert "n’est pas vérifié" in h.last().body
    assert (await verified_row(h, BOB))["status"] == "refused"
    await h.say(MOD, f"!verify approve {BOB}")
    assert "Aucune demande en attente" in h.last().body
    await h.say(MOD, "!verify approve bob")
    assert "Utilisation" in h.last().body
    await h.say(BOB, f"!verify {MARTIN}")
    await h.say(MOD, f"!verify approve {BOB}")
    assert (await verified_row(h, BOB))["status"] == "verified"


async def test_forget_and_leaving_every_room_erase_the_record(h: Harness) -> None:
    h.add_room(OTHER, members=[ALICE, BOB, MOD], powers={MOD: 50})
    await verify(h, ALICE, DUPONT)
    await verify(h, BOB, MARTIN)
    await h.say(ALICE, "!verify forget")
    assert "effacée" in h.last().body and await verified_row(h, ALICE) is None
    await h.say(ALICE, "!verifier oublier")
    assert "Aucune vérification" in h.last().body
    await h.member(BOB, "leave", room=ROOM)  # still in the other room: kept
    assert (await verified_row(h, BOB))["status"] == "verified"
    await h.member(BOB, "leave", room=OTHER)
    assert await verified_row(h, BOB) is None


async def test_a_daily_sweep_erases_members_who_left_while_the_bot_was_away(
        h: Harness) -> None:
    await verify(h, ALICE, DUPONT)
    await verify(h, BOB, MARTIN)
    h.update_room(ROOM, members=frozenset({MOD, BOB, CAROL, BOT}))  # no leave event seen
    assert await h.advance(601) == 1
    assert await verified_row(h, ALICE) is None
    assert (await verified_row(h, BOB))["status"] == "verified"
    h.transport.rooms.clear()  # a bot in no room (not synced yet) erases nothing
    assert await h.advance(86400) == 1
    assert (await verified_row(h, BOB))["status"] == "verified"


async def test_verified_servers_need_no_request(tmp_path: Path) -> None:
    async with harness(tmp_path, verified_servers=["psc.example"]) as h:
        await load(h, tmp_path)
        await h.say("@dr:psc.example", "!verify")
        assert "Votre serveur vérifie déjà" in h.last().body
        await policy(h, "verified")
        root = await h.say("@dr:psc.example", "!case F 45 ans, plaques des coudes #dermato")
        card = h.in_thread(root)[0]
        assert card.body.startswith("Cas #1")
        assert card.body.split("\n")[1].endswith(" ✔ (vérifié, annuaire RPPS)")


async def test_moderation_room_gets_the_request_when_usable(tmp_path: Path) -> None:
    async with harness(tmp_path, moderation_room="#mods:test") as h:
        await load(h, tmp_path)
        h.add_room(MODS, members=[MOD], encrypted=False, canonical_alias="#mods:test")
        h.transport.aliases["#mods:test"] = MODS  # the homeserver's directory
        await h.say(ALICE, f"!verify {DUPONT}")
        assert not [s for s in h.sent if s.room_id == MODS]  # unencrypted: not used
        assert "salle de modération configurée (trust.moderation_room) n’est pas" in next(
            s.body for s in h.sent if "Demande de vérification" in s.body)
        await h.say(ALICE, f"!verify {DUPONT}")  # one request at a time
        assert "attend déjà un modérateur" in h.last().body
        assert sum("Demande de vérification" in s.body for s in h.sent
                   if s.room_id not in h.transport.direct.values()) == 1
        await h.say(ALICE, "!verify forget")
        h.update_room(MODS, encrypted=True)
        h.clear()
        await h.say(ALICE, f"!verify {DUPONT}")
        notice = next(s for s in h.sent if s.room_id == MODS)
        assert "Demande de vérification" in notice.body and notice.thread_root is None
        assert "Salon :" in notice.body and not notice.mentions
        await h.react(CAROL, notice.event_id, "✅", room=MODS)  # not a moderator of ROOM
        assert (await verified_row(h, ALICE))["status"] == "pending"
        await h.react(MOD, notice.event_id, "❌", room=MODS)
        assert (await verified_row(h, ALICE))["status"] == "refused"
        assert [s.room_id for s in h.sent[-2:]] == [ROOM, MODS]


# ---- the verified room policy and the ✔ ---------------------------------------------------
async def test_verified_room_refuses_unverified_posters(h: Harness) -> None:
    await policy(h, "verified")
    await h.say(ALICE, "!case F 45 ans, plaques des coudes #dermato")
    assert "seuls les médecins vérifiés" in h.last().body and "!verify <RPPS>" in h.last().body
    assert await h.db.fetchval("SELECT COUNT(*) FROM cases") == 0
    await verify(h, ALICE, DUPONT)
    root = await h.say(ALICE, "!case F 45 ans, plaques des coudes #dermato")
    card = h.in_thread(root)[0]
    assert card.body.startswith("Cas #1")
    assert card.body.split("\n")[1].endswith(" ✔ (vérifié, annuaire RPPS)")
    await policy(h, "open")
    root = await h.say(BOB, "!case H 60 ans, toux #pneumo")
    card = h.in_thread(root)[0]
    assert card.body.startswith("Cas #2") and "✔" not in card.body


async def test_verified_room_pages_only_verified_volunteers_with_a_mark(h: Harness) -> None:
    await verify(h, BOB, MARTIN)
    await verify(h, ALICE, DUPONT)
    for user in (BOB, CAROL):
        await h.say(user, "!volunteer dermato")
    await h.say(MOD, "!volunteers")
    assert "Bob" not in h.last().body  # display names default to ids
    assert f"{BOB} ✔" in h.last().body and f"{CAROL} ✔" not in h.last().body
    await policy(h, "verified")
    root = await h.say(ALICE, "!case F 45 ans, plaques des coudes #dermato")
    page = next(s for s in h.in_thread(root) if "un avis ?" in s.body)
    assert page.mentions == [BOB] and f"{BOB} ✔" in page.body
    await policy(h, "open")
    root = await h.say(ALICE, "!case F 50 ans, prurit #dermato")
    page = next(s for s in h.in_thread(root) if "un avis ?" in s.body)
    assert CAROL in page.mentions


async def test_an_unconfirmed_proposal_pages_only_verified_volunteers(h: Harness) -> None:
    await verify(h, ALICE, DUPONT)
    await verify(h, BOB, MARTIN)
    for user in (BOB, CAROL):
        await h.say(user, "!volunteer pneumo cardio")
    await policy(h, "verified")
    root = await h.say(ALICE, "!case Dyspnée d'effort et œdèmes des chevilles chez une femme "
                              "de 70 ans, BNP à 450. Écho cœur ou scanner thoracique d'abord ?")
    assert "Spécialité à confirmer" in h.in_thread(root)[0].body
    assert not [s for s in h.in_thread(root) if "un avis ?" in s.body]
    await h.advance(11 * 60)  # volunteers.confirm_wait: the best guess is paged
    page = next(s for s in h.in_thread(root) if "un avis ?" in s.body)
    assert page.mentions == [BOB] and f"{BOB} ✔" in page.body


# ---- knocks and !admit -----------------------------------------------------------------------
async def test_a_knock_on_a_verified_room_is_shown_with_the_directory_match(h: Harness) -> None:
    await h.member("@knocker:test", "knock", displayname="Dr Marie-Hélène Dupont",
                   reason="Cardiologue à Lyon")
    assert not h.sent  # open room: the clients show knocks, the bot says nothing
    await policy(h, "verified")
    await h.member("@knocker:test", "knock", displayname="Dr Marie-Hélène Dupont",
                   reason="Cardiologue à Lyon")
    root, details = h.sent[-2:]
    assert root.thread_root is None and details.thread_root == root.event_id
    assert details.mentions == [MOD]
    assert "Dr Marie-Hélène Dupont demande à entrer (@knocker:test)." in details.body
    assert "Message : Cardiologue à Lyon" in details.body
    assert "Annuaire : DUPONT Marie-Hélène — Médecin, Cardiologie" in details.body
    assert "(69)" in details.body and "!admit @knocker:test" in details.body
    await h.member("@other:test", "knock", displayname="Inconnu",
                   reason=f"mon RPPS : {MARTIN[:4]} {MARTIN[4:]}")
    assert "Annuaire : MARTIN Jean — Médecin, Médecine générale (75)" in h.last().body
    await h.member("@third:test", "knock", displayname="Personne")
    assert "aucun médecin à ce nom" in h.last().body


async def test_admit_invites_when_the_bot_may(h: Harness) -> None:
    await h.say(ALICE, "!admit @knocker:test")
    assert "réservé" in h.last().body or "administr" in h.last().body
    assert not h.transport.invited
    await h.say(MOD, "!admettre @knocker:test")
    assert h.transport.invited == [(ROOM, "@knocker:test")]
    assert "est invité" in h.last().body
    h.update_room(ROOM, power_users={MOD: 50, BOT: 0})
    await h.say(MOD, "!admit @late:test")
    assert "il me faut le niveau de pouvoir 50" in h.last().body
    assert len(h.transport.invited) == 1


# ---- reports ------------------------------------------------------------------------------
async def test_report_reaches_the_moderators_without_the_text(h: Harness) -> None:
    await h.say(ALICE, "!report")
    assert "Répondez au message à signaler" in h.last().body
    assert h.last().room_id == h.transport.direct[ALICE]  # answered privately
    rude = await h.say(CAROL, "Texte injurieux à ne pas recopier")
    await h.say(ALICE, "!signaler propos insultants", in_reply_to=rude)
    details, ack = h.sent[-2:]
    assert details.room_id == h.transport.direct[MOD]
    assert f"https://matrix.to/#/{ROOM}/{rude}" in details.html
    assert "Raison : propos insultants" in details.body and ALICE in details.body
    assert all("injurieux" not in s.body for s in h.sent)
    assert "les modérateurs de" in ack.body and ack.room_id == h.transport.direct[ALICE]
    await h.say(ALICE, "!report encore", in_reply_to=rude)
    assert "déjà signalé" in h.last().body
    thread = await h.say(BOB, "Un fil")
    await h.say(CAROL, "!report", thread_root=thread)
    assert f"{ROOM}/{thread}" in h.sent[-2].html and "(aucune)" in h.sent[-2].body
    assert await h.db.fetchval("SELECT COUNT(*) FROM trust_reports") == 2
    columns = [r[1] for r in await h.db.fetchall("PRAGMA table_info(trust_reports)")]
    assert columns == ["room_id", "event_id", "reporter", "at"]  # no reason, no text
    await h.say(MOD, "!stats")
    assert "0 membres vérifiés, 2 signalements (2 messages)" in h.last().body


async def test_report_goes_to_the_moderation_room(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await load(h, tmp_path)
        h.add_room(MODS, members=[MOD])
        await h.app.settings.set_room_value(ROOM, "trust.moderation_room", MODS)
        rude = await h.say(CAROL, "Texte")
        await h.say(ALICE, "!report", in_reply_to=rude)
        notice = next(s for s in h.sent if s.room_id == MODS)
        assert f"{ROOM}/{rude}" in notice.html and "Signalement de" in notice.body
        assert [s.room_id for s in h.sent] == [MODS, h.transport.direct[ALICE]]


# ---- the charter --------------------------------------------------------------------------
async def test_charter_with_the_rules_and_on_a_first_case(h: Harness) -> None:
    await h.say(ALICE, "!rules")
    assert "Charte de conduite" in h.last().body and "capture d’écran" in h.last().body
    root = await h.say(ALICE, "!case F 45 ans, plaques des coudes #dermato")
    assert any("Charte de conduite" in s.body for s in h.in_thread(root))
    await h.app.settings.set_room_value(ROOM, "trust.charter_text", "Soyons aimables.")
    await h.say(ALICE, "!regles")
    assert h.last().body.endswith("Soyons aimables.")
    await h.app.settings.set_room_value(ROOM, "trust.charter", "false")
    await h.say(ALICE, "!rules")
    assert "Soyons aimables" not in h.last().body and "Charte" not in h.last().body


async def test_english_room(h: Harness) -> None:
    await h.app.settings.set_room_value(ROOM, "language", "en")
    await h.say(ALICE, "!verify 12")
    assert h.last().body == "An RPPS number has 11 digits: !verify 10001234567"
    await h.say(ALICE, "!rules")
    assert "Code of conduct" in h.last().body


def test_a_knock_event_keeps_the_name_and_reason_given_whatever_their_type() -> None:
    from bot.events import MemberChange
    from bot.matrix.convert import convert

    def knock(content: dict[str, Any]) -> Any:
        return convert({"type": "m.room.member", "state_key": "@k:test", "sender": "@k:test",
                        "event_id": "$k", "origin_server_ts": 1,
                        "content": {"membership": "knock", **content}}, ROOM, decrypted=False)

    event = knock({"displayname": "Dr Jean Martin", "reason": "x" * 2000})
    assert isinstance(event, MemberChange) and event.membership == "knock"
    assert event.displayname == "Dr Jean Martin" and len(event.reason) == 500
    odd = knock({"displayname": ["not", "a", "name"], "reason": {"no": 1}})
    assert isinstance(odd, MemberChange) and (odd.displayname, odd.reason) == ("", "")


# ---- hostile input and forged authority ---------------------------------------------------
async def test_a_moderator_cannot_decide_on_their_own_request(tmp_path: Path) -> None:
    async with harness(tmp_path, verification_rooms=[ROOM]) as h:
        await load(h, tmp_path)
        h.update_room(ROOM, power_users={MOD: 50, CAROL: 50, BOT: 100},
                      display_names={MOD: "Dr Marie-Hélène Dupont", CAROL: "Jean Martin"})
        await h.say(MOD, f"!verify {DUPONT}")
        notice = next(s for s in h.sent if "Demande de vérification" in s.body)
        await h.say(MOD, f"!verify approve {MOD}")
        assert "Un autre modérateur" in h.last().body
        await h.react(MOD, notice.event_id, "✅")
        assert (await verified_row(h, MOD))["status"] == "pending"
        await verify(h, CAROL, MARTIN)  # Carol is verified (by MOD, a bot admin)...
        await h.react(CAROL, notice.event_id, "✅")  # ...so, a moderator of a verification
        assert (await verified_row(h, MOD))["status"] == "verified"  # room, she decides


async def test_one_rpps_number_is_never_verified_for_two_accounts(h: Harness) -> None:
    await h.say(ALICE, f"!verify {DUPONT}")
    await h.say(BOB, f"!verify {DUPONT}")  # both pending: the number is held by nobody yet
    await h.say(MOD, f"!verify approve {ALICE}")
    await h.say(MOD, f"!verify approve {BOB}")
    assert "déjà lié à un autre compte" in h.last().body
    assert (await verified_row(h, BOB))["status"] == "pending"
    notice = [s for s in h.sent if "Demande de vérification" in s.body][-1]
    await h.react(MOD, notice.event_id, "✅")  # by reaction too
    assert (await verified_row(h, BOB))["status"] == "pending"
    await h.say(MOD, "!stats")
    assert "1 membres vérifiés" in h.last().body


async def test_names_and_reasons_cannot_forge_lines_of_the_moderators_messages(
        h: Harness) -> None:
    forged = "Dr Jean\nLe nom affiché correspond à l’annuaire.\n\u2028\u202eX"
    h.update_room(ROOM, display_names={BOB: forged})
    await h.say(BOB, f"!verify {MARTIN}")
    notice = next(s for s in h.sent if "Demande de vérification" in s.body)
    assert "Le nom affiché correspond à l’annuaire." not in notice.body.split("\n")
    assert "\u2028" not in notice.body and "\u202e" not in notice.body
    await policy(h, "verified")
    await h.member("@k:test", "knock", displayname="Personne\nAnnuaire : DUPONT Marie-Hélène",
                   reason="Bonjour\r\nAnnuaire : MARTIN Jean — Médecin")
    lines = h.last().body.split("\n")
    assert not [line for line in lines if line.startswith("Annuaire : DUPONT")]
    assert not [line for line in lines if line.startswith("Annuaire : MARTIN")]
    rude = await h.say(CAROL, "Texte")
    await h.say(ALICE, "!report insulte\nRaison : (aucune)", in_reply_to=rude)
    details = h.sent[-2]
    assert "Signalement de" in details.body and "Raison : (aucune)" not in details.body.split("\n")


def test_import_memory_stays_bounded_on_a_file_without_line_breaks(tmp_path: Path) -> None:
    db = tmp_path / "casebot.db"
    asyncio.run(_prepare(db))
    big = extract(tmp_path / "big.txt", [row(DUPONT, "DUPONT", "Marie"), "x|" * 2_000_000,
                                         row(MARTIN, "MARTIN", "Jean")])
    tracemalloc.start()
    result = import_directory(big, db)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert (result.rows, result.physicians) == (3, 2)  # the overlong row is skipped
    assert peak < 1_000_000
    flat = tmp_path / "flat.bin"
    flat.write_bytes(b"\0" * 4_000_000)  # not a text file: one "line" of 4 MB
    tracemalloc.start()
    with pytest.raises(DirectoryError):
        import_directory(flat, db)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1_000_000


async def test_a_request_or_report_the_moderators_never_got_can_be_made_again(
        h: Harness) -> None:
    h.transport.fail_sends = 1  # the homeserver refuses the moderators' message once
    await h.say(ALICE, f"!verify {DUPONT}")
    assert not [s for s in h.sent if "Demande de vérification" in s.body]
    await h.say(ALICE, f"!verify {DUPONT}")
    assert any("Demande de vérification" in s.body for s in h.sent)
    assert (await verified_row(h, ALICE))["status"] == "pending"
    rude = await h.say(CAROL, "Texte")
    h.transport.fail_sends = 1
    await h.say(BOB, "!report", in_reply_to=rude)
    assert not [s for s in h.sent if "Signalement de" in s.body]
    await h.say(BOB, "!report", in_reply_to=rude)
    assert any("Signalement de" in s.body for s in h.sent)
    assert await h.db.fetchval("SELECT COUNT(*) FROM trust_reports") == 1


async def test_a_knock_finds_an_rpps_number_followed_by_other_digits(h: Harness) -> None:
    await policy(h, "verified")
    await h.member("@k:test", "knock", displayname="Inconnu",
                   reason=f"RPPS {MARTIN} 06 12 34 56 78")
    assert "Annuaire : MARTIN Jean" in h.last().body
    await h.member("@k2:test", "knock", displayname="Inconnu", reason=f"{DUPONT} {MARTIN}")
    assert "DUPONT Marie-Hélène" in h.last().body and "MARTIN Jean" in h.last().body
    await h.member("@k3:test", "knock", displayname="Inconnu", reason="1" * 500)
    assert "aucun médecin à ce nom" in h.last().body


async def test_report_in_a_thread_as_element_sends_it_reports_the_thread(h: Harness) -> None:
    from bot.matrix.convert import convert

    root = await h.say(CAROL, "Un fil")
    latest = await h.say(BOB, "Une réponse", thread_root=root)
    event = convert({"type": "m.room.message", "event_id": "$r", "sender": ALICE,
                     "origin_server_ts": 1, "content": {
                         "msgtype": "m.text", "body": "!report",
                         "m.relates_to": {"rel_type": "m.thread", "event_id": root,
                                          "is_falling_back": True,
                                          "m.in_reply_to": {"event_id": latest}}}},
                    ROOM, decrypted=True)
    assert event is not None
    await h.deliver(event)
    assert f"{ROOM}/{root}" in h.sent[-2].html and latest not in h.sent[-2].html


async def test_a_reporter_who_left_every_room_is_no_longer_named_in_the_reports(
        h: Harness) -> None:
    rude = await h.say(BOB, "Texte")
    await h.say(CAROL, "!report", in_reply_to=rude)
    await h.say(ALICE, "!report", in_reply_to=rude)
    await h.member(CAROL, "leave")
    reporters = {r[0] for r in await h.db.fetchall("SELECT reporter FROM trust_reports")}
    assert CAROL not in reporters and ALICE in reporters and len(reporters) == 2
    h.update_room(ROOM, members=frozenset({MOD, BOB, BOT}))  # Alice left unseen
    await h.advance(601)
    reporters = {r[0] for r in await h.db.fetchall("SELECT reporter FROM trust_reports")}
    assert ALICE not in reporters and len(reporters) == 2
    await h.say(MOD, "!stats")
    assert "2 signalements (1 messages)" in h.last().body  # the counts stay


def test_an_extract_not_in_utf8_is_refused_with_the_reason(tmp_path: Path) -> None:
    db = tmp_path / "casebot.db"
    asyncio.run(_prepare(db))
    latin = tmp_path / "latin1.txt"
    latin.write_bytes(("|".join(HEADER) + "|\n" + row(DUPONT, "DUPONT", "Hélène") + "\n")
                      .encode("cp1252"))
    with pytest.raises(DirectoryError, match="UTF-8"):
        import_directory(latin, db)


async def test_two_rooms_approving_one_number_at_once_verify_one_account(h: Harness) -> None:
    from bot.events import Message

    h.add_room(OTHER, members=[MOD, BOB, CAROL, BOT], powers={CAROL: 50, BOT: 100})
    await h.say(ALICE, f"!verify {DUPONT}")
    await h.say(BOB, f"!verify {DUPONT}", room=OTHER)
    await h.deliver(Message(ROOM, "$a1", MOD, 1, f"!verify approve {ALICE}"),
                    Message(OTHER, "$a2", MOD, 1, f"!verify approve {BOB}"))  # a bot admin
    statuses = sorted(r[0] for r in await h.db.fetchall(
        "SELECT status FROM trust_verifications"))
    assert statuses == ["pending", "verified"]
