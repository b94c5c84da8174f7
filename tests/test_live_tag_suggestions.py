"""Suggest, don't guess, end to end: real Synapse, an encrypted room, nio physicians.

Alice posts a case the tagger is unsure of (a small catalogue makes it so: one cardiology and
one pulmonology keyword). Bob volunteers for cardiology, Carol for pulmonology. The card
proposes both with the bot's own 1️⃣ 2️⃣ reactions; Alice's 2️⃣ (as Element sends it, with
U+FE0F) confirms pulmonology and Carol is paged. Left alone, the best guess (cardiology) is
paged once after the wait, even when the bot restarts during it.
"""

from __future__ import annotations

import asyncio
import time

from bot.matrix import Seen, UserClient
from tests.support.live import BotHandle, Live

CATALOGUE = [
    {"id": "cardio", "name_fr": "Cardiologie", "name_en": "Cardiology",
     "keywords": ["palpitations"]},
    {"id": "pneumo", "name_fr": "Pneumologie", "name_en": "Pulmonology",
     "keywords": ["toux"]},
]
CASE = "!case Palpitations et toux depuis hier chez un homme de 50 ans, vous feriez quoi ?"
ONE, TWO = "1\ufe0f\u20e3", "2\ufe0f\u20e3"
MARGIN = 2.5


async def room_with_volunteers(live: Live, wait: float
                               ) -> tuple[BotHandle, UserClient, UserClient, UserClient, str]:
    bot = await live.bot(specialties={"defaults": CATALOGUE},
                         volunteers={"confirm_wait": wait, "per_round": 1})
    alice = await live.physician("alice")
    bob = await live.physician("bob")
    carol = await live.physician("carol")
    room = await live.room_with(alice, bot, others=[bob, carol])
    for who, command in ((bob, "!volunteer cardio"), (carol, "!volunteer pneumo")):
        ask = await who.say(room, command)
        await who.wait_for(lambda e, a=ask: e.sender == bot.user_id and e.answer_to == a)
    return bot, alice, bob, carol, room


def is_card(bot: BotHandle, root: str) -> object:
    return lambda e: (e.sender == bot.user_id and e.answer_to == root
                      and e.type == "m.room.message" and e.body.startswith("Cas #1 · "))


def page_for(bot: BotHandle, root: str, user_id: str) -> object:
    return lambda e: (e.sender == bot.user_id and e.answer_to == root
                      and "un avis ?" in e.body and user_id in e.mentions)


def pages(client: UserClient, bot: BotHandle, root: str, naming: str | None = None
          ) -> list[Seen]:
    return [e for e in client.seen if e.sender == bot.user_id and e.answer_to == root
            and "un avis ?" in e.body and (naming is None or naming in e.mentions)]


async def test_the_card_proposes_and_a_numbered_reaction_confirms_and_pages(
        live: Live) -> None:
    bot, alice, bob, carol, room = await room_with_volunteers(live, wait=600)
    root = await alice.say(room, CASE)
    card = await alice.wait_for(is_card(bot, root))
    assert card.decrypted
    assert card.body.startswith("Cas #1 · Cardiologie ? · ouvert"), card.body
    assert "Spécialité à confirmer : 1️⃣ Cardiologie · 2️⃣ Pneumologie." in card.body
    offered = []
    for key in (ONE, TWO):
        offered.append(await alice.wait_for(
            lambda e, k=key: e.sender == bot.user_id and e.type == "m.reaction"
            and e.relation.get("event_id") == card.event_id and e.relation.get("key") == k))
    assert len(offered) == 2

    await alice.react(room, card.event_id, TWO)
    page = await carol.wait_for(page_for(bot, root, carol.user_id))
    assert page.decrypted and page.mentions == [carol.user_id]
    assert page.body.startswith("Cas #1 (Pneumologie) : ")
    redrawn = await alice.wait_for(
        lambda e: e.sender == bot.user_id and e.relation.get("rel_type") == "m.replace"
        and e.relation.get("event_id") == card.event_id
        and e.content["m.new_content"].get("body", "").startswith("Cas #1 · Pneumologie · "))
    assert "Spécialité à confirmer" not in redrawn.content["m.new_content"]["body"]
    # The bot withdraws the reactions it offered; Alice's own 2️⃣ stays.
    for offer in offered:
        await alice.wait_for(lambda e, o=offer: e.type == "m.room.redaction"
                             and e.sender == bot.user_id and e.content.get("redacts") == o.event_id)
    await asyncio.sleep(MARGIN)
    assert len(pages(alice, bot, root)) == 1
    assert pages(bob, bot, root, naming=bob.user_id) == []  # cardiology was only proposed


async def test_left_unconfirmed_the_best_guess_is_paged_once_across_a_restart(
        live: Live) -> None:
    wait = 5.0
    bot, alice, bob, carol, room = await room_with_volunteers(live, wait=wait)
    posted_at = time.monotonic()  # the wait starts later: when the bot reads the post
    root = await alice.say(room, CASE)
    await alice.wait_for(is_card(bot, root))
    await bot.stop()
    stopped = time.monotonic() - posted_at
    assert stopped < wait, f"stopped after {stopped:.1f} s: not during the wait"
    await asyncio.sleep(2.5)  # down for part of the wait, or past its end on a loaded machine
    await bot.start()

    page = await bob.wait_for(page_for(bot, root, bob.user_id), timeout=wait + 30)
    assert page.decrypted and page.body.startswith("Cas #1 (Cardiologie) : ")
    assert time.monotonic() - posted_at >= wait, "paged before the wait was over"
    await asyncio.sleep(MARGIN)
    assert len(pages(alice, bot, root)) == 1
    assert pages(carol, bot, root, naming=carol.user_id) == []
