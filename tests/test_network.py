"""The network feature on the fake transport: consent, refusals, the relay, mirrors, the
offer, limits (issue #24)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.testing import Harness, Sent
from plugins.cases import Cases
from plugins.network import Network
from plugins.secrecy.plugin import Secrecy
from plugins.specialties import Specialties
from plugins.trust import Trust
from plugins.volunteers import Volunteers
from tests.support.cases import card_of

A, B = "!cabinet:test", "!aura:test"
POSTER, BOB, ADMIN_A = "@alice:test", "@bob:test", "@admina:test"
ZOE, ADMIN_B = "@zoe:test", "@adminb:test"
CASE = "!case Femme 45 ans, plaques squameuses des coudes depuis 2 mois #dermato"
MARKER = "plaques squameuses des coudes"


def harness(**section: Any) -> Harness:
    return Harness([Specialties, Cases, Secrecy, Volunteers, Trust, Network],
                   sections={"network": section} if section else {})


async def link(h: Harness, accept: bool = True) -> None:
    await h.say(ADMIN_A, f"!config set network.relay_to {B}", room=A)
    if accept:
        await h.say(ADMIN_B, f"!config set network.accept_from {A}", room=B)


@pytest.fixture
async def h():
    async with harness() as hh:
        hh.add_room(A, members=[POSTER, BOB, ADMIN_A], powers={ADMIN_A: 100},
                    name="Cabinet X", display_names={POSTER: "Dr Alice", BOB: "Dr Bob"})
        hh.add_room(B, members=[ZOE, ADMIN_B], powers={ADMIN_B: 100},
                    name="Cas cliniques AURA", display_names={ZOE: "Dr Zoé"})
        await hh.say(ZOE, "!volunteer dermato", room=B)
        yield hh


def in_room(h: Harness, room: str) -> list[Sent]:
    return [s for s in h.sent if s.room_id == room]


def copy_in_b(h: Harness) -> Sent:
    return next(s for s in in_room(h, B) if s.body.startswith("🔁 Cas relayé"))


async def shared_case(h: Harness) -> tuple[str, Sent]:
    await link(h)
    root = await h.say(POSTER, CASE, room=A)
    await h.say(POSTER, "!share", room=A, thread_root=root)
    return root, copy_in_b(h)


async def test_share_needs_a_case_thread_its_poster_and_a_link(h: Harness) -> None:
    await h.say(POSTER, "!share", room=A)
    assert h.last().body == "Tapez !partager dans le fil de votre cas."
    root = await h.say(POSTER, CASE, room=A)
    await h.say(POSTER, "!partager", room=A, thread_root=root)
    assert h.last().body.startswith("Ce salon n’est lié à aucun salon élargi. Un admin : "
                                    "!config set network.relay_to <salon>.")
    await link(h)
    # A moderator cannot relay someone else's case.
    await h.say(ADMIN_A, "!share", room=A, thread_root=root)
    assert h.last().body == ("Seule la personne qui a posté ce cas (Dr Alice) peut le "
                             "partager ou le retirer.")
    assert not [s for s in in_room(h, B) if "Cas relayé" in s.body]
    await h.say(POSTER, "!share", room=A)
    await h.say(POSTER, "!help", room=A)
    assert "!share" in h.last().body


async def test_english_usage_and_refusal(h: Harness) -> None:
    await h.say(ADMIN_A, "!config set language en", room=A)
    root = await h.say(POSTER, CASE, room=A)
    await h.say(POSTER, "!unshare", room=A, thread_root=root)
    assert h.last().body == "This case is not shared anywhere."
    await h.say(POSTER, "!share", room=A)
    assert h.last().body == "Type !share in your case's thread."


async def test_wider_room_consents_with_a_reaction_to_the_request(h: Harness) -> None:
    await link(h, accept=False)
    root = await h.say(POSTER, CASE, room=A)
    await h.say(POSTER, "!share", room=A, thread_root=root)
    assert h.last().body.startswith("Partage refusé : « Cas cliniques AURA » n’a pas (encore) "
                                    "accepté les cas de ce salon. J’ai posé la question")
    request = next(s for s in in_room(h, B) if s.body.startswith("Le salon « Cabinet X »"))
    assert f"!config set network.accept_from {A}" in request.body
    await h.say(POSTER, "!share", room=A, thread_root=root)  # asked once only
    assert len([s for s in in_room(h, B) if s.body.startswith("Le salon")]) == 1
    await h.react(ZOE, request.event_id, "✅", room=B)  # not an admin: nothing
    await h.say(POSTER, "!share", room=A, thread_root=root)
    assert h.last().body.startswith("Partage refusé")
    await h.react(ADMIN_B, request.event_id, "✅️", room=B)
    assert in_room(h, B)[-1].body.endswith("a accepté les cas partagés depuis « Cabinet X ».")
    await h.say(POSTER, "!share", room=A, thread_root=root)
    assert h.last_message().body.startswith("Cas partagé dans « Cas cliniques AURA »")
    # A wider room pauses every relay.
    await h.say(ADMIN_B, "!config set network.accept_from off", room=B)
    other = await h.say(POSTER, "!case Homme 60 ans, prurit diffus #dermato", room=A)
    await h.say(POSTER, "!share", room=A, thread_root=other)
    assert h.last().body == ("Partage refusé : « Cas cliniques AURA » n’accepte plus de cas "
                             "pour le moment.")


async def test_refusals_say_why(h: Harness) -> None:
    await link(h)
    root = await h.say(POSTER, CASE, room=A)
    h.update_room(B, encrypted=False)
    await h.say(POSTER, "!share", room=A, thread_root=root)
    assert h.last().body == ("Partage refusé : les deux salons doivent être chiffrés de bout "
                             "en bout.")
    h.update_room(B, encrypted=True)
    await h.say(ADMIN_A, "!config set trust.policy verified", room=A)
    await h.say(POSTER, "!share", room=A, thread_root=root)
    assert h.last().body.startswith("Partage refusé : ce salon n’admet que des médecins "
                                    "vérifiés (trust.policy verified) et « Cas cliniques AURA »")
    await h.say(ADMIN_A, "!config unset trust.policy", room=A)
    h.update_room(B, power_events_default=50)
    await h.say(POSTER, "!share", room=A, thread_root=root)
    assert h.last().body == ("Partage refusé : je n’ai pas le droit d’écrire dans « Cas "
                             "cliniques AURA ».")
    h.update_room(B, power_events_default=0, members=frozenset([ZOE, ADMIN_B]))
    await h.say(POSTER, "!share", room=A, thread_root=root)
    assert h.last().body.startswith("Je ne suis pas dans « Cas cliniques AURA »")
    assert not [s for s in in_room(h, B) if "Cas relayé" in s.body]


async def test_the_relay_opens_a_case_in_the_wider_room_and_cards_link(h: Harness) -> None:
    root, copy = await shared_case(h)
    assert copy.body.splitlines()[:4] == [
        "🔁 Cas relayé depuis « Cabinet X » par Dr Alice",
        "Vos réponses dans ce fil seront montrées, avec le nom de leur auteur, dans « Cabinet "
        "X ».", "", CASE.removeprefix("!case ")]
    assert copy.thread_root is None and copy.reply_to is None
    card_b = card_of(h, copy.event_id)
    assert card_b.room_id == B and card_b.body.startswith("Cas #1 · Dermatologie · ouvert")
    assert f"🔁 Relayé depuis « Cabinet X » (réponses montrées là-bas) · l’autre fil " \
           f"(https://matrix.to/#/{A}/{root})" in card_b.body
    assert not [s for s in h.in_thread(copy.event_id) if s.body.startswith("Bienvenue")]
    page = [s for s in h.in_thread(copy.event_id) if ZOE in s.mentions]
    assert page, "B's volunteer is paged"
    card_a = card_of(h, root)
    assert f"🔁 Partagé dans « Cas cliniques AURA » · l’autre fil (https://matrix.to/#/{B}/" \
           f"{copy.event_id})" in card_a.body
    assert h.last_message().body.startswith("Cas partagé dans « Cas cliniques AURA » : ouvrir")
    await h.say(POSTER, "!share", room=A, thread_root=root)
    assert h.last().body == "Ce cas est déjà partagé dans « Cas cliniques AURA »."
    # A relayed case is never relayed again.
    await h.say(ADMIN_B, f"!config set network.relay_to {A}", room=B)
    await h.say(ADMIN_A, f"!config set network.accept_from {B}", room=A)
    await h.say(POSTER, "!share", room=B, thread_root=copy.event_id)
    assert h.last().body == ("Ce cas a été relayé depuis un autre salon : il n’est pas "
                             "relayé à nouveau.")


async def test_answers_come_back_both_ways_and_edits_and_redactions_follow(h: Harness
                                                                           ) -> None:
    root, copy = await shared_case(h)
    answer = await h.say(ZOE, "Psoriasis probable, dermocorticoïdes", room=B,
                         thread_root=copy.event_id)
    mirror = h.in_thread(root)[-1]
    assert mirror.room_id == A
    assert mirror.body == "Dr Zoé (Cas cliniques AURA) : Psoriasis probable, dermocorticoïdes"
    assert "<b>Dr Zoé</b>" in mirror.html and mirror.mentions == []
    thanks = await h.say(POSTER, "Merci !\nJe teste", room=A, thread_root=root)
    back = h.in_thread(copy.event_id)[-1]
    assert back.room_id == B and back.body == "Dr Alice (Cabinet X) : Merci !\nJe teste"
    count = len(h.sent)
    await h.say(ZOE, "!take", room=B, thread_root=copy.event_id)  # commands stay
    assert not [s for s in h.sent[count:] if s.room_id == A]
    await h.edit(ZOE, answer, "Psoriasis très probable", room=B, thread_root=copy.event_id)
    edit = h.sent[-1] if h.sent[-1].replaces == mirror.event_id else next(
        s for s in h.sent if s.replaces == mirror.event_id)
    assert edit.content["m.new_content"]["body"] == ("Dr Zoé (Cas cliniques AURA) : "
                                                     "Psoriasis très probable")
    await h.edit(BOB, thanks, "pas le sien", room=A, thread_root=root)  # not its author
    assert not [s for s in h.sent if s.replaces == back.event_id]
    await h.redact(POSTER, thanks, room=A)
    assert back.event_id in h.transport.redacted
    await h.redact(ZOE, answer, room=B)
    assert mirror.event_id in h.transport.redacted
    rows = await h.db.fetchall("SELECT * FROM network_mirrors")
    assert len(rows) == 2 and all(MARKER not in str(dict(r)) for r in rows)
    relays = await h.db.fetchall("SELECT * FROM network_relays")
    assert all(MARKER not in str(dict(r)) for r in relays)


async def test_a_held_answer_is_mirrored_once_edited_clean(h: Harness) -> None:
    root, copy = await shared_case(h)
    held = await h.say(ZOE, "Appelez-moi au 06 12 34 56 78", room=B,
                       thread_root=copy.event_id)
    assert not [s for s in h.in_thread(root) if "Dr Zoé" in s.body]
    await h.edit(ZOE, held, "Écrivez-moi ici plutôt", room=B, thread_root=copy.event_id)
    assert h.in_thread(root)[-1].body == "Dr Zoé (Cas cliniques AURA) : Écrivez-moi ici plutôt"


async def test_poster_resolves_and_reopens_both_cards(h: Harness) -> None:
    root, copy = await shared_case(h)
    await h.say(ZOE, "Psoriasis", room=B, thread_root=copy.event_id)
    await h.react(POSTER, root, "✅", room=A)
    assert card_of(h, root).body.startswith("Cas #1 · Dermatologie · résolu")
    assert card_of(h, copy.event_id).body.startswith("Cas #1 · Dermatologie · résolu")
    await h.say(POSTER, "!reopen", room=A, thread_root=root)
    assert card_of(h, copy.event_id).body.startswith("Cas #1 · Dermatologie · ouvert")
    # ✅ on the mirrored answer resolves as well.
    mirror = next(s for s in h.in_thread(root) if s.body.startswith("Dr Zoé"))
    await h.react(POSTER, mirror.event_id, "✅", room=A)
    assert card_of(h, root).body.startswith("Cas #1 · Dermatologie · résolu")
    assert card_of(h, copy.event_id).body.startswith("Cas #1 · Dermatologie · résolu")
    await h.say(POSTER, "!stats", room=A)
    assert ("Cercle élargi : 1 cas partagés, 1 réponses venues d’autres salons, 1 cas résolus "
            "après elles ; 0 cas reçus d’autres salons.") in h.last().body
    await h.say(ZOE, "!stats", room=B)
    assert "0 cas partagés" in h.last().body and "1 cas reçus" in h.last().body


async def test_a_moderator_resolving_leaves_the_other_card(h: Harness) -> None:
    root, copy = await shared_case(h)
    await h.say(ADMIN_A, "!resolve", room=A, thread_root=root)
    assert card_of(h, root).body.startswith("Cas #1 · Dermatologie · résolu")
    assert card_of(h, copy.event_id).body.startswith("Cas #1 · Dermatologie · ouvert")


async def test_unshare_withdraws_the_copy_and_its_mirrors(h: Harness) -> None:
    root, copy = await shared_case(h)
    await h.say(POSTER, "Précision : pas de fièvre", room=A, thread_root=root)
    mirror = h.in_thread(copy.event_id)[-1]
    await h.say(BOB, "!retirer", room=A, thread_root=root)
    assert h.last().body.startswith("Seule la personne")
    await h.say(POSTER, "!retirer", room=A, thread_root=root)
    assert copy.event_id in h.transport.redacted and mirror.event_id in h.transport.redacted
    assert card_of(h, copy.event_id).body.startswith("Cas #1 · Dermatologie · retiré")
    assert h.last_message().body == "La copie de ce cas a été retirée de « Cas cliniques AURA »."
    assert "Partagé dans" not in card_of(h, root).body
    count = len(h.sent)
    await h.say(ZOE, "Trop tard ?", room=B, thread_root=copy.event_id)
    assert not [s for s in h.sent[count:] if s.room_id == A]


async def test_a_case_with_a_phone_number_is_not_relayed(h: Harness) -> None:
    await link(h)
    root = await h.say(POSTER, "!case Femme 45 ans, plaques des coudes, joignable au "
                               "06 12 34 56 78 #dermato", room=A)
    await h.say(POSTER, "!share", room=A, thread_root=root)
    refusal = h.last()
    assert refusal.body == ("Partage refusé : le cas contient un numéro de téléphone. Modifiez "
                            "le message pour anonymiser, puis !partager à nouveau.")
    assert "06" not in refusal.body
    assert not [s for s in in_room(h, B) if "Cas relayé" in s.body]
    assert await h.db.fetchval("SELECT COUNT(*) FROM network_relays") == 0
    await h.edit(POSTER, root, "!case Femme 45 ans, plaques des coudes #dermato", room=A)
    await h.say(POSTER, "!share", room=A, thread_root=root)
    assert copy_in_b(h).body.endswith("Femme 45 ans, plaques des coudes #dermato")


async def test_root_edits_follow_once_clean(h: Harness) -> None:
    root, copy = await shared_case(h)
    await h.edit(POSTER, root, "!case Femme 45 ans, tél 06 12 34 56 78 #dermato", room=A)
    assert h.last().body.startswith("Dr Alice : la modification contient un numéro de "
                                    "téléphone ; la copie partagée n’est pas mise à jour")
    assert not [s for s in h.sent if s.replaces == copy.event_id]
    await h.edit(POSTER, root, "!case Femme 45 ans, plaques des genoux #dermato", room=A)
    assert h.as_edited(copy).body.endswith("Femme 45 ans, plaques des genoux #dermato")


async def test_the_offer_after_offer_after_and_the_poster_reacts(h: Harness) -> None:
    await link(h)
    root = await h.say(POSTER, CASE, room=A)
    await h.advance(3600)
    assert not [s for s in h.in_thread(root) if "pas de réponse depuis" in s.body]
    await h.advance(3600)
    offer = next(s for s in h.in_thread(root) if "pas de réponse depuis" in s.body)
    assert offer.body == ("Dr Alice, pas de réponse depuis 2 h. Ce cas peut être partagé dans "
                          "« Cas cliniques AURA » (membres : 2) : réagissez 🔁 à ce message ou "
                          "tapez !partager. Rien n’est partagé sans vous.")
    assert offer.mentions == [POSTER]
    await h.react(BOB, offer.event_id, "🔁", room=A)
    assert not [s for s in in_room(h, B) if "Cas relayé" in s.body]
    await h.react(POSTER, offer.event_id, "🔁", room=A)
    assert copy_in_b(h).body.endswith(CASE.removeprefix("!case "))


async def test_no_offer_once_answered(h: Harness) -> None:
    await link(h)
    root = await h.say(POSTER, CASE, room=A)
    await h.say(BOB, "Psoriasis ?", room=A, thread_root=root)
    await h.advance(3 * 3600)
    assert not [s for s in h.in_thread(root) if "pas de réponse depuis" in s.body]


async def test_shares_per_day_are_capped(h: Harness) -> None:
    await link(h)
    await h.say(ADMIN_A, "!config set network.max_shares_per_day 1", room=A)
    first = await h.say(POSTER, CASE, room=A)
    await h.say(POSTER, "!share", room=A, thread_root=first)
    second = await h.say(POSTER, "!case Homme 60 ans, prurit diffus #dermato", room=A)
    await h.say(POSTER, "!share", room=A, thread_root=second)
    assert h.last().body == "Partage refusé : au plus 1 partage(s) par personne et par 24 heures."
    await h.advance(86400)
    await h.say(POSTER, "!share", room=A, thread_root=second)
    assert h.last_message().body.startswith("Cas partagé")


async def test_a_failed_send_leaves_nothing_half_posted(h: Harness) -> None:
    await link(h)
    root = await h.say(POSTER, CASE, room=A)
    h.transport.fail_sends = 1
    await h.say(POSTER, "!share", room=A, thread_root=root)
    assert h.last().body.startswith("Partage impossible dans « Cas cliniques AURA »")
    assert await h.db.fetchval("SELECT COUNT(*) FROM network_relays") == 0


async def test_a_refusal_in_the_wider_room_is_undone(h: Harness) -> None:
    await link(h)
    root = await h.say(POSTER, CASE, room=A)
    h.update_room(B, join_rule="public")  # secrecy refuses cases in a public room
    await h.say(POSTER, "!share", room=A, thread_root=root)
    assert h.last().body.startswith("« Cas cliniques AURA » a refusé le cas ; rien n’y reste :")
    copy = copy_in_b(h)
    assert copy.event_id in h.transport.redacted
    assert await h.db.fetchval("SELECT COUNT(*) FROM network_relays") == 0


async def test_an_answer_from_the_wider_room_counts_in_the_source_room(h: Harness) -> None:
    root, copy = await shared_case(h)
    await h.say(ZOE, "Psoriasis", room=B, thread_root=copy.event_id)
    await h.advance(5 * 3600)
    assert not [s for s in h.in_thread(root) if "pas encore de réponse" in s.body]
    rows = await h.db.fetchall("SELECT sender, counts FROM case_replies WHERE room_id = ?",
                               (A,))
    assert [r["sender"] for r in rows if r["counts"]] == [ZOE]


async def test_share_names_one_of_several_wider_rooms(h: Harness) -> None:
    h.add_room("!cptd:test", members=[ADMIN_B], powers={ADMIN_B: 100}, name="CPTS Sud")
    await h.say(ADMIN_A, f"!config set network.relay_to {B} #cpts:test", room=A)
    h.transport.aliases["#cpts:test"] = "!cptd:test"
    await h.say(ADMIN_B, f"!config set network.accept_from {A}", room="!cptd:test")
    await h.say(ADMIN_B, f"!config set network.accept_from {A}", room=B)
    root = await h.say(POSTER, CASE, room=A)
    await h.say(POSTER, "!share", room=A, thread_root=root)
    assert h.last().body == ("Plusieurs salons élargis sont liés : « Cas cliniques AURA », "
                             "« CPTS Sud ». Tapez !partager <salon>.")
    await h.say(POSTER, "!share cpts sud", room=A, thread_root=root)
    assert h.last_message().body.startswith("Cas partagé dans « CPTS Sud »")
    await h.say(POSTER, "!share #cpts:test", room=A, thread_root=root)
    assert h.last().body == "Ce cas est déjà partagé dans « CPTS Sud »."
    await h.say(POSTER, f"!share {B}", room=A, thread_root=root)
    assert h.last_message().body.startswith("Cas partagé dans « Cas cliniques AURA »")
    copies = [s for s in h.sent if s.body.startswith("🔁 Cas relayé")]
    assert [c.room_id for c in copies] == ["!cptd:test", B]
    note = await h.say(POSTER, "Pas de fièvre", room=A, thread_root=root)
    for c in copies:
        assert h.in_thread(c.event_id)[-1].body == "Dr Alice (Cabinet X) : Pas de fièvre"
    await h.redact(POSTER, note, room=A)
    assert {h.in_thread(c.event_id)[-1].event_id for c in copies} <= set(h.transport.redacted)


async def test_a_long_room_word_is_not_looked_up(h: Harness) -> None:
    await link(h)
    root = await h.say(POSTER, CASE, room=A)
    looked: list[str] = []

    async def resolve(alias: str) -> str | None:
        looked.append(alias)
        return None
    h.transport.resolve_alias = resolve  # type: ignore[method-assign]
    await h.say(POSTER, "!share #" + "a" * 65000, room=A, thread_root=root)
    assert h.last().body.startswith("Ce salon n’est pas lié à ce salon-là. Salons liés : "
                                    "« Cas cliniques AURA ».")
    assert looked == []
    assert "aaaa" not in h.last().body


async def test_the_weekly_digest_says_it_in_one_line() -> None:
    from plugins.learning import Learning

    async with Harness([Specialties, Cases, Secrecy, Volunteers, Trust, Learning,
                        Network]) as hh:
        hh.add_room(A, members=[POSTER, ADMIN_A], powers={ADMIN_A: 100}, name="Cabinet X")
        hh.add_room(B, members=[ZOE, ADMIN_B], powers={ADMIN_B: 100},
                    name="Cas cliniques AURA")
        root, copy = await shared_case(hh)
        await hh.say(ZOE, "Psoriasis", room=B, thread_root=copy.event_id)
        await hh.react(POSTER, root, "✅", room=A)
        await hh.advance(3 * 86400)
        digest = next(s for s in in_room(hh, A) if s.body.startswith("Bilan de la semaine"))
        assert ("Cercle élargi : 1 cas partagés, 1 réponses venues d’autres salons, 1 cas "
                "résolus après elles ; 0 cas reçus d’autres salons.") in digest.body.splitlines()
        digest_b = next(s for s in in_room(hh, B) if s.body.startswith("Bilan de la semaine"))
        assert "0 cas partagés" in digest_b.body and "1 cas reçus" in digest_b.body


async def test_photos_go_when_checked_clean_or_as_clean_copies(h: Harness) -> None:
    import numpy as np
    from PIL import Image

    from tests.support.photos import encode, exif, xray
    from tests.test_secrecy_plugin import photos_checked

    root, copy = await shared_case(h)
    data = encode(xray(np.random.default_rng(3), (640, 480)), "PNG")
    downloads: list[str] = []
    download = h.transport.download

    async def counted(attachment: Any, limit: int = 20 * 1024 * 1024) -> bytes:
        downloads.append(attachment.event_id)
        return await download(attachment, limit)

    h.transport.download = counted  # type: ignore[method-assign]
    photo = await h.attach(ZOE, data, mimetype="image/png", room=B, thread_root=copy.event_id)
    await photos_checked(h)
    assert downloads == [photo]  # read once, for the check; the copy reuses its bytes
    mirror = h.in_thread(root)[-1]
    assert mirror.content["msgtype"] == "m.image" and mirror.room_id == A
    assert mirror.body == "Dr Zoé (Cas cliniques AURA) : photo"
    assert h.file(mirror) == data and mirror.content["info"]["w"] == 640
    await h.redact(ZOE, photo, room=B)
    assert mirror.event_id in h.transport.redacted
    # A photo with a finding (GPS) is not copied; its !clean copy is.
    located = encode(Image.new("RGB", (320, 240), (180, 150, 130)), "JPEG", exif(gps=True))
    await h.attach(POSTER, located, room=A, thread_root=root)
    await photos_checked(h)
    assert not [s for s in in_room(h, B) if s.content.get("msgtype") == "m.image"]
    await h.say(POSTER, "!clean", room=A, thread_root=root)
    await photos_checked(h)
    cleaned = next(s for s in in_room(h, A) if s.content.get("msgtype") == "m.image"
                   and s.thread_root == root and s.event_id != mirror.event_id)
    copied = [s for s in in_room(h, B) if s.content.get("msgtype") == "m.image"]
    assert len(copied) == 1 and copied[0].thread_root == copy.event_id
    assert copied[0].body == "Dr Alice (Cabinet X) : photo"
    assert h.file(copied[0]) == h.file(cleaned) and h.file(copied[0]) != located


async def test_the_offer_survives_a_restart_and_the_text_is_read_from_the_homeserver(
        tmp_path) -> None:
    """No case text is kept by the bot: after a restart, the share reads the case's message
    from the homeserver, as its poster last edited it (an edit by another is no edit)."""
    from bot.testing import FakeClock, FakeTransport

    plugins = [Specialties, Cases, Secrecy, Volunteers, Trust, Network]
    clock, transport, db = FakeClock(), FakeTransport(), tmp_path / "bot.db"
    async with Harness(plugins, db_path=db, clock=clock, transport=transport) as first:
        first.add_room(A, members=[POSTER, ADMIN_A], powers={ADMIN_A: 100}, name="Cabinet X")
        first.add_room(B, members=[ZOE, ADMIN_B], powers={ADMIN_B: 100},
                       name="Cas cliniques AURA")
        await link(first)
        root = await first.say(POSTER, CASE, room=A)
        await first.edit(POSTER, root, CASE + " Merci !", room=A)
        await first.edit(ADMIN_A, root, "!case vandalisé", room=A)
    async with Harness(plugins, db_path=db, clock=clock, transport=transport) as h:
        await h.advance(2 * 3600)
        offer = next(s for s in h.in_thread(root) if "pas de réponse depuis" in s.body)
        await h.react(POSTER, offer.event_id, "🔁", room=A)
        assert copy_in_b(h).body.endswith("#dermato Merci !")
        assert sum("pas de réponse depuis" in s.body for s in h.in_thread(root)) == 1
        transport.texts.clear()  # the homeserver lost it (or the bot never had its key)
        second = await h.say(POSTER, "!case Femme 30 ans, prurit #dermato", room=A)
        transport.texts.clear()
        await h.say(POSTER, "!share", room=A, thread_root=second)
        assert h.last_message().body.startswith("Partage impossible : je ne peux pas lire")


async def test_a_room_that_unlinks_keeps_its_history_and_gets_no_more_copies(h: Harness
                                                                             ) -> None:
    root, copy = await shared_case(h)
    await h.say(ADMIN_B, "!config set network.accept_from off", room=B)  # a pause: copies go on
    await h.say(ZOE, "Psoriasis ?", room=B, thread_root=copy.event_id)
    assert h.in_thread(root)[-1].body == "Dr Zoé (Cas cliniques AURA) : Psoriasis ?"
    await h.say(ADMIN_B, "!config unset network.accept_from", room=B)  # unlinked
    count = len(h.sent)
    await h.say(ZOE, "Encore là ?", room=B, thread_root=copy.event_id)
    await h.say(POSTER, "Merci", room=A, thread_root=root)
    assert not [s for s in h.sent[count:] if s.body.startswith("Dr ")]
    assert h.transport.redacted == []
    await h.say(ADMIN_B, f"!config set network.accept_from {A}", room=B)
    await h.say(ADMIN_A, "!config unset network.relay_to", room=A)  # unlinked the other way
    count = len(h.sent)
    await h.say(ZOE, "Toujours là ?", room=B, thread_root=copy.event_id)
    assert not [s for s in h.sent[count:] if s.body.startswith("Dr ")]


async def test_a_thread_without_relay_costs_no_trip(h: Harness) -> None:
    """Every message of every case thread asks which relays its thread belongs to: a thread
    never relayed is answered from memory (it was one query each)."""
    await link(h)
    root = await h.say(POSTER, CASE, room=A)
    store = h.app.plugins["network"].parts[0].store  # type: ignore[attr-defined]
    trips = h.db.trips
    assert await store.of_thread(A, root) == []
    assert h.db.trips == trips
    await h.say(POSTER, "!share", room=A, thread_root=root)
    (relay,) = await store.of_thread(A, root)
    assert (relay.source_root, relay.target_room) == (root, B)
