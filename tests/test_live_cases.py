"""Cases end to end: real Synapse, encrypted room, nio physicians."""

from __future__ import annotations

import pytest

from bot.matrix import Seen
from tests.support.live import Live

pytestmark = pytest.mark.live


async def test_case_thread_reply_check_reaction_listing_and_stats(live: Live) -> None:
    bot = await live.bot()
    alice = await live.physician("alice")
    bob = await live.physician("bob")
    room = await live.room_with(alice, bot, others=[bob])

    def from_bot(root: str, text: str):
        return lambda e: e.sender == bot.user_id and e.answer_to == root and text in e.body

    root = await alice.say(room, "!case Femme 45 ans, plaques érythémato-squameuses des "
                                 "coudes depuis 2 mois, psoriasis ? Quel traitement ?")
    card = await alice.wait_for(from_bot(root, "Cas #1"))
    assert card.decrypted
    assert card.body.startswith("Cas #1 · Dermatologie · ouvert")
    assert "psoriasis" in card.body

    answer = await bob.say(room, "Dermocorticoïde + calcipotriol, réévaluer à 4 semaines",
                           thread_root=root)
    await bob.wait_for(lambda e: e.event_id == answer)
    await alice.wait_for(lambda e: e.event_id == answer)
    await alice.react(room, answer, "✅")

    def card_edit(e: Seen) -> bool:
        return (e.sender == bot.user_id and e.relation.get("rel_type") == "m.replace"
                and e.relation.get("event_id") == card.event_id)
    edit = await bob.wait_for(card_edit)
    assert edit.decrypted
    new = edit.content["m.new_content"]
    assert new["body"].startswith("Cas #1 · Dermatologie · résolu")
    assert answer in new["formatted_body"]
    await bob.wait_for(from_bot(root, "Cas #1 résolu"))

    listing = await bob.say(room, "!cases")
    reply = await bob.wait_for(lambda e: e.sender == bot.user_id and e.answer_to == listing)
    assert reply.body == "Aucun cas ouvert."
    second = await bob.say(room, "!cas #cardio palpitations à l'effort, ECG normal")
    await bob.wait_for(from_bot(second, "Cas #2 · Cardiologie"))
    listing = await alice.say(room, "!cases")
    reply = await alice.wait_for(lambda e: e.sender == bot.user_id and e.answer_to == listing)
    assert "#2 · Cardiologie" in reply.body and "#1" not in reply.body
    assert f"https://matrix.to/#/{room}/{second}" in reply.content["formatted_body"]

    stats = await alice.say(room, "!stats 7")
    reply = await alice.wait_for(lambda e: e.sender == bot.user_id and e.answer_to == stats)
    assert "Cas ouverts : 2 · résolus : 1" in reply.body
    assert "Dermatologie : 1 ouvert, 1 résolu" in reply.body


async def test_room_creator_counts_as_moderator(live: Live) -> None:
    """Room version 12 gives creators unlimited power without listing them in power levels."""
    bot = await live.bot()
    creator = await live.physician("creator")
    bob = await live.physician("bob")
    room = await live.room_with(creator, bot, others=[bob])
    root = await bob.say(room, "!case #cardio palpitations à l'effort, ECG normal")
    await bob.wait_for(lambda e: e.sender == bot.user_id and e.answer_to == root)
    await creator.wait_for(lambda e: e.event_id == root)
    await creator.say(room, "!resolve", thread_root=root)
    done = await bob.wait_for(lambda e: e.sender == bot.user_id and e.answer_to == root
                              and ("résolu" in e.body or "Seuls" in e.body))
    assert done.body == "Cas #1 résolu. Merci à tous !"


@pytest.mark.parametrize(("key", "encrypted"), [
    ("\u2705", True),          # bare U+2705: nio, Element X
    ("\u2705\ufe0f", False),  # U+2705 U+FE0F in the clear: Element Web
    ("\u2705\ufe0f", True),   # U+2705 U+FE0F encrypted
], ids=["bare-encrypted", "fe0f-clear-element-web", "fe0f-encrypted"])
async def test_check_reaction_resolves_with_or_without_variation_selector(
        live: Live, key: str, encrypted: bool) -> None:
    bot = await live.bot()
    alice = await live.physician("alice")
    bob = await live.physician("bob")
    room = await live.room_with(alice, bot, others=[bob])
    root = await alice.say(room, "!case #cardio palpitations à l'effort, ECG normal")
    card = await alice.wait_for(lambda e: e.sender == bot.user_id and e.answer_to == root
                                and "Cas #1" in e.body)
    answer = await bob.say(room, "Holter ECG et épreuve d'effort", thread_root=root)
    await alice.wait_for(lambda e: e.event_id == answer)
    await alice.react(room, answer, key, encrypt=encrypted)

    def card_edit(e: Seen) -> bool:
        return (e.sender == bot.user_id and e.relation.get("rel_type") == "m.replace"
                and e.relation.get("event_id") == card.event_id)
    edit = await bob.wait_for(card_edit)
    assert edit.content["m.new_content"]["body"].startswith("Cas #1 · Cardiologie · résolu")
    assert answer in edit.content["m.new_content"]["formatted_body"]


async def test_the_card_is_the_first_bot_message_of_the_thread_and_the_page_follows(
        live: Live) -> None:
    """With a volunteer enlisted, the page is sent on `CaseOpened`, after the card: in the
    thread, as both the poster's and the volunteer's clients receive it, the card is first."""
    bot = await live.bot(volunteers={"per_round": 1})
    alice = await live.physician("alice")
    bob = await live.physician("bob")
    room = await live.room_with(alice, bot, others=[bob])
    ask = await bob.say(room, "!volunteer dermato")
    await bob.wait_for(lambda e: e.sender == bot.user_id and e.answer_to == ask)
    root = await alice.say(room, "!case Femme 45 ans, plaques squameuses des coudes, "
                                 "psoriasis ? #dermato")

    def paged(e: Seen) -> bool:
        return (e.sender == bot.user_id and e.answer_to == root
                and bob.user_id in e.mentions)

    for client in (bob, alice):
        page = await client.wait_for(paged)
        thread = [e for e in client.seen if e.sender == bot.user_id
                  and e.answer_to == root and e.type == "m.room.message"]
        assert thread[0].body.startswith("Cas #1 · Dermatologie · ouvert"), [
            e.body for e in thread]
        assert thread[0].mentions == []
        assert thread.index(page) > 0
