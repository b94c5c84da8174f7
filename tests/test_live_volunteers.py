"""Volunteers end to end: real Synapse, an encrypted room, three nio physicians.

Alice posts; Bob and Carol volunteer for dermatology (Bob first in the rotation, by user id).
The escalation delay is shortened to a few seconds and one volunteer is paged per round, so
each round is one message naming one person.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from bot.matrix import Seen, UserClient
from tests.support.live import BotHandle, Live

CASE = "!case Femme 45 ans, plaques squameuses des coudes depuis 2 mois, psoriasis ? #dermato"
MARGIN = 2.5
"""Seconds to leave a late (or duplicated) message the time to show up."""
DOWNTIME = 2.5
"""How long the bot stays stopped during the wait, in the restart test."""


async def enlisted_room(live: Live, escalate_after: float, max_rounds: int
                        ) -> tuple[BotHandle, UserClient, UserClient, UserClient, str]:
    bot = await live.bot(volunteers={"per_round": 1, "escalate_after": escalate_after,
                                     "max_rounds": max_rounds})
    alice = await live.physician("alice")
    bob = await live.physician("bob")
    carol = await live.physician("carol")
    assert bob.user_id < carol.user_id  # the rotation's tie-break: Bob is paged first
    room = await live.room_with(alice, bot, others=[bob, carol])
    for who, command in ((bob, "!volunteer dermatologie"), (carol, "!benevole dermato")):
        ask = await who.say(room, command)
        ack = await who.wait_for(lambda e, a=ask: e.sender == bot.user_id and e.answer_to == a)
        assert ack.body.startswith("Vous êtes bénévole ici pour : Dermatologie."), ack.body
    return bot, alice, bob, carol, room


def bot_thread_messages(client: UserClient, bot: BotHandle, root: str) -> list[Seen]:
    """The bot's messages in the case thread, as `client` received them (card edits relate
    to the card with m.replace, not to the thread: they are not in it)."""
    return [e for e in client.seen if e.sender == bot.user_id and e.answer_to == root
            and e.type == "m.room.message"]


def page_for(bot: BotHandle, root: str, user_id: str) -> Callable[[Seen], bool]:
    return lambda e: (e.sender == bot.user_id and e.answer_to == root
                      and "un avis ?" in e.body and user_id in e.mentions)


def pages_naming(client: UserClient, bot: BotHandle, root: str, user_id: str) -> list[Seen]:
    match = page_for(bot, root, user_id)
    return [e for e in bot_thread_messages(client, bot, root) if match(e)]


async def test_case_pages_a_volunteer_escalates_to_the_next_and_a_reply_stops_it(
        live: Live) -> None:
    delay = 3.0
    bot, alice, bob, carol, room = await enlisted_room(live, delay, max_rounds=2)
    posted_at = time.monotonic()  # the wait starts later: when the bot pages
    root = await alice.say(room, CASE)

    first = await bob.wait_for(page_for(bot, root, bob.user_id))
    assert first.decrypted
    assert first.thread_root == root
    assert first.content["msgtype"] == "m.notice"
    assert first.mentions == [bob.user_id]
    assert first.body.startswith("Cas #1 (Dermatologie) : ")
    assert f"https://matrix.to/#/{bob.user_id}" in first.content["formatted_body"]
    assert "@room" not in first.body and "@room" not in first.content["formatted_body"]
    # In the thread the card comes first, the page after it (whatever secrecy adds between).
    seen_page = await alice.wait_for(page_for(bot, root, bob.user_id))
    thread = bot_thread_messages(alice, bot, root)
    card = thread[0]
    assert card.body.startswith("Cas #1 · Dermatologie"), [e.body for e in thread]
    assert card.mentions == [] and thread.index(seen_page) > 0
    on_bobs_side = bot_thread_messages(bob, bot, root)  # the paged volunteer's client too
    assert on_bobs_side[0].event_id == card.event_id and on_bobs_side.index(first) > 0
    # The card names (not pings) who was paged as it is first sent: no edit seconds later.
    bob_name = bob.user_id.split(":")[0].lstrip("@")
    assert "Confrères sollicités" in card.body and bob_name in card.body
    assert bob.user_id not in card.content["formatted_body"]

    # Nobody answers: after the delay the next volunteer is paged, in the same thread.
    second = await carol.wait_for(page_for(bot, root, carol.user_id), timeout=delay + 15)
    waited = time.monotonic() - posted_at
    assert waited >= delay, f"escalated {waited:.1f} s after the post, before the delay"
    assert second.decrypted and second.thread_root == root
    assert second.mentions == [carol.user_id]
    assert second.event_id != first.event_id
    carol_name = carol.user_id.split(":")[0].lstrip("@")

    def card_edits() -> list[Seen]:
        return [e for e in alice.seen if e.sender == bot.user_id
                and e.relation.get("rel_type") == "m.replace"
                and e.relation.get("event_id") == card.event_id]
    await alice.wait_for(lambda e: any(carol_name in x.content["m.new_content"].get("body", "")
                                       for x in card_edits()))
    assert len(card_edits()) == 1  # the escalation's round, the card's only edit so far

    # Carol answers: no further round and no "nobody is available" for Alice.
    answer = await carol.say(room, "Psoriasis probable : dermocorticoïde + calcipotriol",
                             thread_root=root)
    await alice.wait_for(lambda e: e.event_id == answer)
    before = len(bot_thread_messages(alice, bot, root))
    await asyncio.sleep(delay + MARGIN)
    after = bot_thread_messages(alice, bot, root)
    assert not any("aucun bénévole" in e.body for e in after), [e.body for e in after]
    assert len(after) == before, [e.body for e in after[before:]]
    assert len(pages_naming(bob, bot, root, bob.user_id)) == 1
    assert len(pages_naming(carol, bot, root, carol.user_id)) == 1


async def test_restart_during_the_wait_escalates_exactly_once(live: Live) -> None:
    delay = 6.0
    bot, alice, bob, carol, room = await enlisted_room(live, delay, max_rounds=3)
    posted_at = time.monotonic()
    root = await alice.say(room, CASE)
    await bob.wait_for(page_for(bot, root, bob.user_id))
    paged_at = time.monotonic()

    await bot.stop()
    stopped = time.monotonic() - paged_at
    assert stopped < delay, f"stopped after {stopped:.1f} s: not during the wait"
    await asyncio.sleep(DOWNTIME)  # down for part of the wait
    restarting_at = time.monotonic()
    await bot.start()  # same data directory: same device, database and timers

    second = await carol.wait_for(page_for(bot, root, carol.user_id), timeout=delay + 30)
    assert second.decrypted and second.mentions == [carol.user_id]
    # On time: not before the delay, and counted from the page, not from the restart (that
    # would come at least `delay` after `restarting_at`, which is DOWNTIME after the page).
    waited = time.monotonic() - posted_at
    assert waited >= delay, f"escalated {waited:.1f} s after the post, before the delay"
    late = time.monotonic() - restarting_at
    assert late < delay, f"escalated {late:.1f} s after the restart: the wait started again"

    await asyncio.sleep(MARGIN)  # less than the next round's delay
    assert len(pages_naming(carol, bot, root, carol.user_id)) == 1
    assert len(pages_naming(alice, bot, root, carol.user_id)) == 1
    assert len(pages_naming(alice, bot, root, bob.user_id)) == 1  # round 1 not replayed
    edits = [e for e in alice.seen if e.sender == bot.user_id
             and e.relation.get("rel_type") == "m.replace"]
    carol_name = carol.user_id.split(":")[0].lstrip("@")  # named, not pinged, on the card
    assert any(carol_name in e.content["m.new_content"].get("body", "")
               and carol.user_id not in e.content["m.new_content"].get("formatted_body", "")
               for e in edits), "the card was not updated with the second volunteer"
