"""The room teaches the tagger, end to end (issue 27): real Synapse, an encrypted room, nio
physicians. Two cases the tagger is unsure of are confirmed with 1️⃣; a third similar post is
then tagged confidently, its card saying it was learned in this room; the bot's database keeps
vocabulary words and weights only, never the marker word the posts carried."""

from __future__ import annotations

import sqlite3

from bot.matrix import Seen
from tests.support.live import BotHandle, Live

CATALOGUE = [
    {"id": "cardio", "name_fr": "Cardiologie", "name_en": "Cardiology",
     "keywords": ["palpitations"]},
    {"id": "pneumo", "name_fr": "Pneumologie", "name_en": "Pulmonology",
     "keywords": ["toux"]},
]
MARKER = "zorglubine"
POSTS = (f"!case Palpitations et toux, douleur thoracique, {MARKER} ?",
         f"!case Toux et palpitations avec douleur depuis hier ({MARKER})")
THIRD = "!case Palpitations, toux et douleur ce matin, vous feriez quoi ?"
ONE = "1\ufe0f\u20e3"


def card_of(bot: BotHandle, root: str, number: int) -> object:
    return lambda e: (e.sender == bot.user_id and e.answer_to == root
                      and e.type == "m.room.message" and e.body.startswith(f"Cas #{number} · "))


def redrawn(bot: BotHandle, card: Seen, start: str) -> object:
    return lambda e: (e.sender == bot.user_id and e.relation.get("rel_type") == "m.replace"
                      and e.relation.get("event_id") == card.event_id
                      and e.content["m.new_content"].get("body", "").startswith(start))


async def test_two_confirmed_cases_make_a_third_similar_post_confident(live: Live) -> None:
    bot = await live.bot(specialties={"defaults": CATALOGUE})
    alice = await live.physician("alice")
    room = await live.room_with(alice, bot)
    for number, post in enumerate(POSTS, start=1):
        root = await alice.say(room, post)
        card = await alice.wait_for(card_of(bot, root, number))
        assert "Spécialité à confirmer : 1️⃣ Cardiologie · 2️⃣ Pneumologie." in card.body
        await alice.react(room, card.event_id, ONE)
        await alice.wait_for(redrawn(bot, card, f"Cas #{number} · Cardiologie · "))

    root = await alice.say(room, THIRD)
    card = await alice.wait_for(card_of(bot, root, 3))
    assert card.decrypted
    assert card.body.startswith("Cas #3 · Cardiologie · ouvert"), card.body
    assert "appris dans ce salon : " in card.body and "Spécialité à confirmer" not in card.body

    data_dir = bot.config.data_dir
    conn = sqlite3.connect(f"file:{data_dir / 'casebot.db'}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT scope, word, specialty_id, weight FROM tagger_weights "
                            "ORDER BY word").fetchall()
    finally:
        conn.close()
    assert {(word, sid) for _, word, sid, _ in rows} >= {
        ("palpitations", "cardio"), ("toux", "cardio"), ("douleur", "cardio")}
    assert all(scope == room and MARKER not in word for scope, word, _, _ in rows)
