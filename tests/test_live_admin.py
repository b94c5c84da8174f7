"""Room administration end to end: real Synapse, encrypted room, power levels from the room."""

from __future__ import annotations

from tests.support.live import Live, unique


async def test_moderator_adds_specialty_member_refused_case_tagged(live: Live) -> None:
    bot = await live.bot()
    owner = await live.physician("owner")
    mod = await live.physician("mod")
    member = await live.physician("member")
    room = await owner.create_room(unique("admin"), invite=[bot.user_id, mod.user_id,
                                                            member.user_id],
                                   powers={mod.user_id: 50})
    await owner.wait_joined(room, bot.user_id)
    for client in (mod, member):
        await client.wait_joined(room, client.user_id)
        await owner.wait_joined(room, client.user_id)

    def from_bot(text: str):
        return lambda e: e.sender == bot.user_id and text in e.body

    refused = await member.say(room, '!specialty add sommeil "Médecine du sommeil"')
    answer = await member.wait_for(lambda e: e.sender == bot.user_id
                                   and e.answer_to == refused)
    assert answer.decrypted
    assert "seuls les membres de niveau 50 ou plus" in answer.body

    await mod.say(room, '!specialty add sommeil "Médecine du sommeil" somno')
    added = await member.wait_for(from_bot("a ajouté la spécialité #sommeil"))
    assert added.thread_root is None and added.decrypted
    assert "a ajouté la spécialité #sommeil (Médecine du sommeil)" in added.body
    assert f"https://matrix.to/#/{mod.user_id}" in added.content["formatted_body"]
    assert added.mentions == []
    await mod.say(room, '!specialty keywords sommeil add somnologie "réveils nocturnes"')
    await member.wait_for(from_bot("a ajouté 2 mot(s)-clé(s) à #sommeil"))

    root = await member.say(room, "!case Homme 50 ans, réveils nocturnes répétés, "
                                  "somnologie à demander ?")
    card = await member.wait_for(lambda e: e.sender == bot.user_id and e.answer_to == root
                                 and e.body.startswith("Cas #"))
    assert card.body.startswith("Cas #1 · Médecine du sommeil · ouvert")

    await mod.say(room, "!config set cases.unanswered_reminder 2h")
    changed = await member.wait_for(from_bot("cases.unanswered_reminder"))
    assert "sur 2h (avant : 4h)" in changed.body
