"""The secrecy guard end to end: real Synapse, encrypted rooms and attachments, nio clients."""

from __future__ import annotations

from tests.support.live import Live
from tests.test_secrecy_plugin import jpeg


async def test_identifying_case_is_warned_without_echo(live: Live) -> None:
    bot = await live.bot()
    alice = await live.physician("alice")
    room = await live.room_with(alice, bot)
    root = await alice.say(room, "!case Mme Dupont, 45 ans, tél 06 12 34 56 78, "
                                 "douleur thoracique atypique, avis ?")
    warning = await alice.wait_for(lambda e: e.sender == bot.user_id and e.answer_to == root
                                   and "R.4127-73" in e.body)
    assert warning.decrypted
    assert "un nom" in warning.body and "téléphone" in warning.body
    for value in ("Dupont", "06 12", "34 56"):
        assert value not in warning.body and value not in warning.content["formatted_body"]
    assert alice.user_id in warning.mentions
    thread = [e.body for e in alice.seen if e.sender == bot.user_id and e.answer_to == root]
    assert thread[0].startswith("Cas #1 ") and "premier cas" in thread[1]
    assert thread[2] == warning.body  # card, first-case reminder, then the warning

    photo = await alice.send_image(room, jpeg(gps=True), thread_root=root)
    gps = await alice.wait_for(lambda e: e.sender == bot.user_id and e.answer_to == root
                               and "GPS" in e.body)
    assert "tatouage" in gps.body
    assert photo not in gps.body


async def test_unencrypted_room_refuses_cases(live: Live) -> None:
    bot = await live.bot()
    alice = await live.physician("alice")
    room = await live.room_with(alice, bot, encrypted=False)
    root = await alice.say(room, "!case F 30 ans, éruption cutanée #dermato")
    refusal = await alice.wait_for(lambda e: e.sender == bot.user_id and e.answer_to == root)
    assert "chiffrement de bout en bout n’est pas activé" in refusal.body
    assert "Cas #" not in refusal.body


async def test_redact_mode_removes_valid_nir(live: Live) -> None:
    bot = await live.bot(secrecy={"mode": "redact"})
    alice = await live.physician("alice")
    room = await live.room_with(alice, bot, bot_power=100)
    nir13 = "1850575123456"
    nir = f"{nir13}{97 - int(nir13) % 97:02d}"
    root = await alice.say(room, f"!case H 40 ans, NIR {nir}, lombalgie depuis 3 semaines")
    await alice.wait_for(lambda e: e.type == "m.room.redaction" and e.sender == bot.user_id
                         and e.content.get("redacts") == root, timeout=30)
    notice = await alice.wait_for(lambda e: e.sender == bot.user_id and e.answer_to == root)
    assert "j’ai masqué votre message" in notice.body and nir not in notice.body
    assert alice.user_id in notice.mentions
    # No case was left open behind the deleted post: the next case is #1, and the deleted
    # post's thread holds the notice alone.
    again = await alice.say(room, "!case H 40 ans, lombalgie depuis 3 semaines")
    card = await alice.wait_for(lambda e: e.sender == bot.user_id and e.answer_to == again)
    assert card.body.startswith("Cas #1 ")
    assert [e.event_id for e in alice.seen
            if e.sender == bot.user_id and e.answer_to == root] == [notice.event_id]
