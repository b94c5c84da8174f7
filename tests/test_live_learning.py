"""The learning feature on the real Synapse: a physician's client receives `!fmc`'s CSV in
an encrypted direct room (then the note about it) and `!stats`'s chart in the command's
thread, and decrypts both; `!biblio` lists no link naming a patient."""

from __future__ import annotations

import csv
import io
import struct
from collections.abc import Callable
from typing import Any

from tests.support.live import Live

CASE = "!case Femme 45 ans, plaques squameuses des coudes, psoriasis ? #dermato"
REF = "https://www.has-sante.fr/jcms/p_3191108/fr/psoriasis"
NAMED = ("https://www.has-sante.fr/jcms/p_3191108/"
         "Mme-Jeanne-DUPONT-nee-12-03-1950-tel-0612345678")


async def case_room(live: Live) -> tuple[Any, Any, Any, str, str, Callable[[str], Any]]:
    """Casebot with learning, Alice and Bob in an encrypted room, and Alice's case whose card
    Bob received; `from_bot(event_id)` matches the bot's answers to that event."""
    bot = await live.bot(plugins=["specialties", "cases", "learning"])
    alice = await live.physician("alice")
    bob = await live.physician("bob")
    room = await live.room_with(alice, bot, others=[bob])

    def from_bot(root: str) -> Callable[[Any], bool]:
        return lambda e: e.sender == bot.user_id and e.answer_to == root

    root = await alice.say(room, CASE)
    await bob.wait_for(from_bot(root))
    return bot, alice, bob, room, root, from_bot


async def test_fmc_csv_and_stats_chart_arrive_encrypted_and_decrypt(live: Live) -> None:
    bot, alice, bob, room, root, from_bot = await case_room(live)
    await bob.say(room, f"Voir la reco {REF}?utm_source=mail#traitement", thread_root=root)
    resolve = await alice.say(room, "!resolve", thread_root=root)
    await alice.wait_for(lambda e: from_bot(root)(e) and "résolu" in e.body
                         and e.event_id != resolve)

    ask = await bob.say(room, "!fmc")
    told = await bob.wait_for(from_bot(ask), timeout=40)
    assert told.body == "Votre journal (1 lignes) vous attend en message direct chiffré."
    got = await bob.wait_for(lambda e: e.sender == bot.user_id and e.room_id != room
                             and e.content.get("msgtype") == "m.file", timeout=40)
    assert got.decrypted and "url" not in got.content
    direct = bob.client.rooms[got.room_id]  # type: ignore[union-attr]
    assert direct.encrypted and set(direct.users) == {bob.user_id, bot.user_id}
    assert got.content["info"]["mimetype"] == "text/csv"
    data = await bob.attachment(got.content)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["date", "salon", "cas", "spécialité", "rôle", "lien", "références"]
    assert [r[2:5] for r in rows[1:]] == [["1", "Dermatologie", "a répondu"]]
    assert rows[1][5] == f"https://matrix.to/#/{room}/{root}" and rows[1][6] == REF
    note = await bob.wait_for(lambda e: e.room_id == got.room_id
                              and e.content.get("msgtype") == "m.notice", timeout=40)
    assert note.body.startswith("Journal FMC/DPC casebot")
    assert bob.seen.index(got) < bob.seen.index(note)  # the file first, then the note

    stats = await alice.say(room, "!stats 7")
    image = await alice.wait_for(lambda e: from_bot(stats)(e)
                                 and e.content.get("msgtype") == "m.image", timeout=60)
    text = [e for e in alice.seen if from_bot(stats)(e) and e.content.get("msgtype") == "m.notice"]
    assert text and text[0].body.startswith("Statistiques sur 7 jours")
    assert image.decrypted and "url" not in image.content
    png = await alice.attachment(image.content)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert struct.unpack(">II", png[16:24]) == (600, 600)
    assert image.content["info"] == {"mimetype": "image/png", "size": len(png),
                                     "w": 600, "h": 600}


async def test_biblio_lists_a_clean_link_and_not_one_naming_a_patient(live: Live) -> None:
    _, _, bob, room, root, from_bot = await case_room(live)
    await bob.say(room, f"cf {NAMED}", thread_root=root)
    await bob.say(room, f"Reco : {REF}", thread_root=root)
    ask = await bob.say(room, "!biblio")
    listing = await bob.wait_for(from_bot(ask), timeout=40)
    assert listing.body.startswith("Références partagées sur 30 jours (1) :")
    html = listing.content["formatted_body"]
    assert f'href="{REF}"' in html
    assert "DUPONT" not in listing.body + html and "0612345678" not in html
