"""Issue 28 end to end: real Synapse, encrypted room, nio physicians sending as Element Web
does. Commands of the main timeline are answered with replies (only cases open threads),
`!help` fits, a new case's card is sent once naming who is paged, and ✔️ sent in the clear
with U+FE0F on the card resolves the case."""

from __future__ import annotations

import pytest

from bot.matrix import Seen
from tests.support.live import Live

pytestmark = pytest.mark.live


async def test_replies_for_commands_a_card_sent_once_and_a_check_mark_on_it(
        live: Live) -> None:
    bot = await live.bot(volunteers={"per_round": 1})
    alice = await live.physician("alice")
    bob = await live.physician("bob")
    room = await live.room_with(alice, bot, others=[bob])

    def answers(event_id: str, text: str = ""):
        return lambda e: (e.sender == bot.user_id and e.answer_to == event_id
                          and e.type == "m.room.message" and text in e.body)

    ask = await alice.say(room, "!help")
    help_ = await alice.wait_for(answers(ask, "Commandes courantes"))
    assert help_.decrypted and help_.thread_root is None  # a reply, not a thread
    assert help_.relation == {"m.in_reply_to": {"event_id": ask}}
    assert len(help_.body.splitlines()) <= 12 and "!help modération" in help_.body
    enlist = await bob.say(room, "!volunteer dermato")
    await bob.wait_for(answers(enlist, "Dermatologie"))

    root = await alice.say(room, "!case Femme 45 ans, plaques squameuses des coudes, "
                                 "psoriasis ? #dermato")
    page = await alice.wait_for(lambda e: answers(root)(e) and bob.user_id in e.mentions)
    thread = [e for e in alice.seen if answers(root)(e)]
    card = thread[0]
    bob_name = bob.user_id.split(":")[0].lstrip("@")
    assert card.body.startswith("Cas #1 · Dermatologie · ouvert")
    assert f"Confrères sollicités : {bob_name}" in card.body  # named from its first sending
    assert "<br>\n" in card.content["formatted_body"]  # Element's summary keeps lines apart
    assert thread.index(page) > 0

    def card_edits() -> list[Seen]:
        return [e for e in alice.seen if e.sender == bot.user_id
                and e.relation.get("rel_type") == "m.replace"
                and e.relation.get("event_id") == card.event_id]
    listing = await alice.say(room, "!cases")  # answered after anything sent for the case
    await alice.wait_for(answers(listing, "#1 · Dermatologie"))
    assert card_edits() == []  # no "(modifié)" seconds after the card

    await alice.react(room, card.event_id, "\u2714\ufe0f", encrypt=False)  # ✔️ as Element Web
    edit = await alice.wait_for(lambda e: e in card_edits() and "résolu" in str(
        e.content["m.new_content"].get("body", "")))
    assert edit.content["m.new_content"]["body"].startswith("Cas #1 · Dermatologie · résolu")
    await alice.wait_for(answers(root, "Cas #1 résolu"))
    roots = {e.thread_root for e in alice.seen if e.sender == bot.user_id and e.thread_root}
    assert roots == {root}  # Element's threads list: the case only
