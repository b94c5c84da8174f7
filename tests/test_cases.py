"""The cases feature on the fake transport: every command and state transition."""

from __future__ import annotations

import pytest

from bot.testing import Harness
from plugins.cases import Cases
from plugins.specialties import Specialties

POSTER = "@alice:test"
DOC = "@bob:test"
OTHER = "@carol:test"
MOD = "@mod:test"
ROOM = "!room:test"
ROOM_B = "!other:test"
CASE = "!case Femme 45 ans, plaques érythémato-squameuses des coudes, psoriasis ? traitement"


@pytest.fixture
async def h():
    async with Harness([Specialties, Cases]) as harness:
        harness.add_room(ROOM, members=[POSTER, DOC, OTHER, MOD], powers={MOD: 50})
        harness.add_room(ROOM_B, members=[POSTER, DOC])
        yield harness


def card_of(h: Harness, root: str) -> str:
    """The current card text, edits applied."""
    return h.as_edited(h.in_thread(root)[0]).body


async def rows(h: Harness) -> list[dict]:
    return [dict(r) for r in await h.db.fetchall("SELECT * FROM cases ORDER BY room_id, number")]


async def test_case_opens_numbered_thread_card_with_specialty(h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    card = h.in_thread(root)[0]
    assert card.body.startswith("Cas #1 · Dermatologie · ouvert")
    assert "Détecté : " in card.body and "psoriasis" in card.body
    assert "!resolve" in card.body
    assert card.content["msgtype"] == "m.notice"
    root2 = await h.say(POSTER, "!cas #cardio douleur thoracique atypique")
    assert card_of(h, root2).startswith("Cas #2 · Cardiologie · ouvert")
    assert "hashtag : #cardio" in card_of(h, root2)


async def test_database_holds_no_clinical_text(h: Harness) -> None:
    await h.say(POSTER, CASE)
    dump = "\n".join(str(v) for row in await rows(h) for v in row.values())
    assert "psoriasis" not in dump and "Femme" not in dump
    assert "dermato" in dump


async def test_empty_case_gives_template(h: Harness) -> None:
    await h.say(POSTER, "!case")
    assert "Âge, sexe" in h.last().body
    assert await rows(h) == []


async def test_unclassified_case(h: Harness) -> None:
    root = await h.say(POSTER, "!case question rapide sur un patient, avis ?")
    assert "non classé" in card_of(h, root)
    assert "!tag <spécialité>" in card_of(h, root)


async def test_numbering_is_per_room(h: Harness) -> None:
    await h.say(POSTER, CASE)
    await h.say(POSTER, CASE, room=ROOM_B)
    await h.say(POSTER, CASE)
    assert [(r["room_id"], r["number"]) for r in await rows(h)] == [
        (ROOM_B, 1), (ROOM, 1), (ROOM, 2)]


async def test_reply_tracking_and_resolve_command(h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    h.clock.value += 600
    await h.say(DOC, "Dermocorticoïde fort + calcipotriol", thread_root=root)
    await h.say(POSTER, "merci", thread_root=root)
    row = (await rows(h))[0]
    assert row["replies"] == 1 and row["first_reply_by"] == DOC
    resolve = await h.say(POSTER, "!resolve traité, ça marche", thread_root=root)
    assert card_of(h, root).startswith("Cas #1 · Dermatologie · résolu")
    assert any(resolve in s.content.get("m.new_content", {}).get("formatted_body", "")
               for s in h.sent)
    assert h.last_message().body == "Cas #1 résolu. Merci à tous !"
    row = (await rows(h))[0]
    assert row["status"] == "resolved" and row["resolution_event_id"] == resolve


async def test_resolve_by_number_from_the_room(h: Harness) -> None:
    await h.say(POSTER, CASE)
    await h.say(POSTER, "!resolve 1")
    assert (await rows(h))[0]["status"] == "resolved"


async def test_resolve_refused_for_others_allowed_for_moderators(h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    await h.say(DOC, "!resolve", thread_root=root)
    assert "Seuls l’auteur du cas (@alice:test) ou un modérateur" in h.last().body
    assert (await rows(h))[0]["status"] == "open"
    await h.say(MOD, "!resolve", thread_root=root)
    assert (await rows(h))[0]["status"] == "resolved"


async def test_unknown_case_and_other_room_case_unreachable(h: Harness) -> None:
    await h.say(POSTER, CASE, room=ROOM_B)
    await h.say(POSTER, CASE, room=ROOM_B)
    await h.say(POSTER, CASE, room=ROOM_B)
    await h.say(POSTER, "!resolve 3")
    assert h.last().body == "Aucun cas n°3 dans ce salon."
    await h.say(POSTER, "!case 3")
    assert h.last().body == "Aucun cas n°3 dans ce salon."
    assert {r["status"] for r in await rows(h)} == {"open"}


async def test_resolve_outside_thread_without_number(h: Harness) -> None:
    await h.say(POSTER, "!resolve")
    assert "Dans le fil d’un cas, ou avec son numéro" in h.last().body


async def test_check_reaction_by_poster_on_reply_accepts_it(h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    answer = await h.say(DOC, "Psoriasis en plaques", thread_root=root)
    await h.react(DOC, answer, "✅")
    assert (await rows(h))[0]["status"] == "open"
    await h.react(POSTER, answer, "✅")
    row = (await rows(h))[0]
    assert row["status"] == "resolved" and row["accepted_event_id"] == answer
    assert "Réponse retenue" in card_of(h, root)
    assert h.last_message().body == "Cas #1 résolu. Merci à tous !"
    assert h.last_message().thread_root == root


@pytest.mark.parametrize("key", ["✅", "✅\ufe0f", "✔️", "✔", "☑️", "✅\ufe0e"])
async def test_check_reaction_as_element_web_sends_it(h: Harness, key: str) -> None:
    root = await h.say(POSTER, CASE)
    await h.react(POSTER, root, key)
    assert (await rows(h))[0]["status"] == "resolved"
    assert h.last_message().body == "Cas #1 résolu. Merci à tous !"


async def test_other_reactions_do_not_resolve(h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    for key in ("👍", "❌", "✅" * 40, "\ufe0f", ""):
        await h.react(POSTER, root, key)
    assert (await rows(h))[0]["status"] == "open"


async def test_card_names_the_poster_without_pinging(h: Harness) -> None:
    h.update_room(ROOM, display_names={POSTER: "Dr Alice"})
    root = await h.say(POSTER, CASE)
    card = h.in_thread(root)[0]
    assert "Posté par Dr Alice" in card.body
    assert card.mentions == [] and "matrix.to/#/@alice" not in card.html
    await h.edit(POSTER, root, "!case Homme 60 ans, douleur thoracique, sus-décalage ST #cardio")
    await h.react(POSTER, root, "✅")
    edits = [s for s in h.sent if s.replaces == card.event_id]
    assert len(edits) == 2 and "Résolu par Dr Alice" in edits[-1].body
    for edit in edits:
        new = edit.content["m.new_content"]
        assert edit.mentions == [] and new["m.mentions"] == {}
        assert "matrix.to/#/@alice" not in new["formatted_body"]


async def test_reopen_and_refused_reopen(h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    await h.react(POSTER, root, "✅")
    await h.say(DOC, "!reopen", thread_root=root)
    assert "Seuls l’auteur" in h.last().body
    await h.say(POSTER, "!rouvrir", thread_root=root)
    assert h.last_message().body == "Cas #1 rouvert."
    assert card_of(h, root).startswith("Cas #1 · Dermatologie · ouvert")
    await h.say(POSTER, "!reopen", thread_root=root)
    assert "déjà ouvert" in h.last().body


async def test_redacted_root_withdraws_case(h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    await h.redact(POSTER, root)
    assert (await rows(h))[0]["status"] == "withdrawn"
    assert "retiré" in card_of(h, root)
    assert await h.advance(30 * 86400) == 0


async def test_tag_in_thread(h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    await h.say(POSTER, "!tag #rhumato ORL", thread_root=root)
    assert h.last_message().body == "Cas #1 : Rhumatologie, ORL."
    assert card_of(h, root).startswith("Cas #1 · Rhumatologie, ORL · ouvert")
    await h.say(POSTER, "!tag banane", thread_root=root)
    assert "Spécialité inconnue : banane" in h.last().body
    await h.say(DOC, "!tag cardio", thread_root=root)
    assert "Seuls l’auteur" in h.last().body


async def test_edit_retags_without_new_case(h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    await h.edit(POSTER, root, "!case Homme 60 ans, douleur thoracique, sus-décalage ST #cardio")
    assert len(await rows(h)) == 1
    assert card_of(h, root).startswith("Cas #1 · Cardiologie · ouvert")


async def test_listing(h: Harness) -> None:
    first = await h.say(POSTER, CASE)
    h.clock.value += 3 * 3600
    await h.say(DOC, "!case #cardio palpitations")
    await h.say(POSTER, "!cases")
    body = h.last().body
    assert body.index("#2 · Cardiologie") < body.index("#1 · Dermatologie")
    assert "il y a 3 h" in body
    assert f"https://matrix.to/#/{ROOM}/{first}" in h.last().html
    await h.say(POSTER, "!cases dermato")
    assert "#2" not in h.last().body and "#1 · Dermatologie" in h.last().body
    await h.say(DOC, "!cases mine")
    assert "#2 · Cardiologie" in h.last().body and "#1" not in h.last().body
    await h.say(POSTER, "!case 1")
    assert h.last().body.startswith("Cas #1 · Dermatologie · ouvert")


async def test_reminders_then_auto_close(h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    assert await h.advance(4 * 3600 + 1) == 1
    assert "pas encore de réponse après 4 h" in h.last().body
    assert h.last().mentions == [POSTER]
    await h.say(DOC, "une réponse", thread_root=root)
    assert await h.advance(3 * 86400) == 1
    assert "ce cas est-il résolu" in h.last().body
    await h.advance(11 * 86400)
    assert (await rows(h))[0]["status"] == "closed"
    assert "clos sans résolution" in card_of(h, root)


async def test_timers_survive_restart_once(tmp_path) -> None:
    db = tmp_path / "bot.db"
    async with Harness([Specialties, Cases], db_path=db) as h1:
        h1.add_room(ROOM, members=[POSTER])
        root = await h1.say(POSTER, CASE)
    async with Harness([Specialties, Cases], db_path=db, clock=h1.clock) as h2:
        h2.add_room(ROOM, members=[POSTER])
        assert await h2.advance(4 * 3600 + 1) == 1
        assert await h2.advance(3600) == 0
        assert len([s for s in h2.in_thread(root) if "pas encore" in s.body]) == 1


async def test_stats(h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    h.clock.value += 1800
    await h.say(DOC, "réponse", thread_root=root)
    h.clock.value += 1800
    await h.say(POSTER, "!resolve", thread_root=root)
    other = await h.say(POSTER, "!case #cardio douleur")
    await h.redact(POSTER, other)
    await h.say(POSTER, "!stats")
    body = h.last().body
    assert "Cas ouverts : 2 · résolus : 1 · retirés : 1" in body
    assert "Délai médian de première réponse : 30 min · de résolution : 1 h" in body
    assert "répondus en moins d’1 h : 100 %" in body
    assert "Dermatologie : 1 ouvert, 1 résolu" in body
    third = await h.say(POSTER, "!case #cardio palpitations")
    h.clock.value += 600
    await h.say(DOC, "avis", thread_root=third)
    await h.say(POSTER, "!stats")
    body = h.last().body
    assert "Délai médian de première réponse : 10 min" in body  # the lower of 10 and 30
    assert "Cardiologie : 2 ouverts, 0 résolu" in body
    await h.say(POSTER, "!stats zéro")
    assert "Utilisation : !stats [jours]" in h.last().body


async def test_english_room(h: Harness) -> None:
    await h.app.set_room_setting(ROOM, "language", "en")
    root = await h.say(POSTER, CASE)
    assert card_of(h, root).startswith("Case #1 · Dermatology · open")


async def test_store_cache_matches_the_database(h: Harness) -> None:
    """The store serves recent cases from memory: its copy must be what the table holds."""
    root = await h.say(POSTER, CASE)
    await h.say(DOC, "avis 1", thread_root=root)
    await h.say(POSTER, "merci", thread_root=root)
    await h.say("@carol:test", "avis 2", thread_root=root)
    await h.say(POSTER, "!tag cardio", thread_root=root)
    await h.say(POSTER, "!resolve", thread_root=root)
    store = h.app.plugins["cases"].store
    cached = await store.get(ROOM, 1)
    store._cache.clear()
    assert cached == await store.get(ROOM, 1)
    assert (cached.replies, cached.first_reply_by, cached.status) == (2, DOC, "resolved")


async def test_typed_arguments_name_the_case_and_the_specialties(h: Harness) -> None:
    await h.say(POSTER, CASE)
    await h.say(POSTER, "!tag 1 #cardio rhumato")
    assert h.last_message().body == "Cas #1 : Cardiologie, Rhumatologie."
    await h.say(POSTER, "!tag 1 cardio 2")
    assert "Spécialité inconnue : 2" in h.last().body
    await h.say(POSTER, "!tag 9 cardio")
    assert h.last().body == "Aucun cas n°9 dans ce salon."
    await h.say(POSTER, "!tag cardio")
    assert h.last().body.startswith("Dans le fil d’un cas, ou avec son numéro : !tag <n°>")
    await h.say(POSTER, "!reopen 1")
    assert "déjà ouvert" in h.last().body


async def test_cases_filter_words_in_either_language(h: Harness) -> None:
    await h.say(POSTER, CASE)
    await h.say(DOC, "!case #cardio palpitations")
    for words in ("moi", "mine", '"mes cas"', "mes cas", "my cases", "#MINE"):
        await h.say(DOC, f"!cases {words}")
        assert "#2 · Cardiologie" in h.last().body and "#1" not in h.last().body, words
    await h.say(DOC, "!cases banane")
    assert h.last().body == "Spécialité inconnue : banane. Voir !specialties."


async def test_usage_lines_are_generated_from_the_arguments(h: Harness) -> None:
    for name, usage in (("resolve", "!resolve [n°] [résumé]"), ("reopen", "!reopen [n°]"),
                        ("tag", "!tag [n°] <spécialité>…"), ("cases", "!cases [spécialité|mine]"),
                        ("case", "!case [texte]"), ("stats", "!stats [jours]")):
        await h.say(POSTER, f"!help {name}")
        assert h.last().body.splitlines()[0] == usage


async def test_case_number_in_a_thread_shows_that_case(h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    await h.say(DOC, "!case #cardio palpitations")
    await h.say(DOC, "!case 2", thread_root=root)
    assert h.last().body.startswith("Cas #2 · Cardiologie · ouvert")


async def test_another_bots_notice_is_no_answer(h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    await h.say("@otherbot:test", "rappel automatique", thread_root=root, msgtype="m.notice")
    assert (await rows(h))[0]["replies"] == 0
    assert await h.advance(4 * 3600 + 1) == 1
    assert "pas encore de réponse" in h.last().body
