"""The room's learning (issue 27): what a `RoomModel` keeps, and how `classify` uses it."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path
from typing import Any

from bench.learning import room_order
from bot.storage import Database
from bot.testing import Harness
from plugins.cases import Cases
from plugins.secrecy._gazetteer import FIRST_NAMES, SURNAMES
from plugins.specialties import RoomModel, Specialties, classify, load_defaults
from plugins.specialties.learn import (
    CONFIRMED,
    CORRECTED,
    SECONDARY,
    VOCABULARY_FILES,
    vocabulary,
    vocabulary_words,
)
from plugins.specialties.lessons import MIGRATIONS, Lessons
from tests.support.cases import card_of
from tests.test_tagging_corpus import DEV, POSTS

DEFAULTS = load_defaults()
MARKER = "zorglubine"  # no vocabulary word: stands for a name or any word of a patient's


def test_a_marker_word_in_a_post_never_reaches_the_table() -> None:
    model = RoomModel()
    post = f"Mme {MARKER.title()} 54 ans, genou gonflé et chaud depuis {MARKER} hier"
    changed = model.learn(post, ["rhumato", "mg"], CORRECTED)
    assert MARKER not in vocabulary()
    assert changed and all(MARKER not in word for word, _, _ in changed)
    rows = list(model.rows())
    assert {word for word, _, _ in rows} == {"genou", "chaud"} or "genou" in {w for w, _, _ in rows}
    assert all(MARKER not in word and word in vocabulary().values() for word, _, _ in rows)
    assert all(MARKER not in repr(row) for row in rows)


def test_a_patient_name_that_is_also_an_eponym_never_reaches_the_table() -> None:
    """Gilbert, Raynaud, Achille name syndromes of the catalogue and patients too."""
    model = RoomModel()
    model.learn("M. Gilbert Raynaud, 54 ans, tendon d'Achille douloureux", ["rhumato"])
    assert {word for word, _, _ in model.rows()} == {"tendon", "douloureux"}


def test_no_vocabulary_word_is_a_first_name_or_a_surname() -> None:
    names = FIRST_NAMES | SURNAMES
    assert set(vocabulary()) & names <= {"dos"}  # the back: a common word


async def test_a_stored_word_the_vocabulary_dropped_is_erased_at_start(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "casebot.db")
    try:
        await db.migrate("specialties.lessons", MIGRATIONS)
        await db.executemany("INSERT INTO tagger_weights VALUES (?, ?, ?, ?)",
                             [(ROOM, "gilbert", "gastro", 1.0), (ROOM, "ictere", "gastro", 1.0)])
        lessons = Lessons(db, "room")
        await lessons.load()
        assert [tuple(r) for r in await db.fetchall("SELECT * FROM tagger_weights")] == [
            (ROOM, "ictere", "gastro", 1.0)]
        assert lessons.models[ROOM].weights == {"ictere": {"gastro": 1.0}}
    finally:
        await db.close()


def test_the_vocabulary_files_ship_with_the_package() -> None:
    """An installed bot reads them as package data: pyproject's package-data must cover them."""
    root = Path(__file__).resolve().parents[1]
    with (root / "pyproject.toml").open("rb") as f:
        shipped = tomllib.load(f)["tool"]["setuptools"]["package-data"]["*"]
    for name in VOCABULARY_FILES:
        assert (root / "plugins" / "specialties" / name).is_file()
        assert any(fnmatch.fnmatch(name, pattern) for pattern in shipped), name


def test_public_drug_names_are_vocabulary_words() -> None:
    assert {"vortioxetine", "tofacitinib", "ivabradine"} <= set(vocabulary_words(
        "Vortioxétine, tofacitinib et ivabradine ?"))


def test_only_distinct_vocabulary_words_are_kept_without_order_or_counts() -> None:
    model = RoomModel()
    model.learn("genou genou genou, fièvre, genou", ["rhumato"])
    assert model.weights == {"genou": {"rhumato": CONFIRMED}, "fievre": {"rhumato": CONFIRMED}}


def test_a_negated_word_is_not_learned() -> None:
    assert "fievre" not in vocabulary_words("genou gonflé, pas de fièvre")


def test_a_correction_weighs_more_than_a_confirmation_and_secondary_ids_less() -> None:
    model = RoomModel()
    model.learn("eczéma du genou", ["dermato", "rhumato"], CORRECTED)
    assert model.weights["genou"] == {"dermato": CORRECTED, "rhumato": CORRECTED * SECONDARY}


def test_two_confirmed_cases_make_a_third_similar_post_confident() -> None:
    third = "Mollet douloureux et gonflé, avis ?"
    assert classify(third, DEFAULTS) == []  # the catalogue alone knows none of these words
    model = RoomModel()
    model.learn("Mollet gonflé et douloureux après un long trajet, écho ?", ["cardio"])
    model.learn("Mollet droit gonflé, douloureux depuis hier", ["cardio"])
    after = classify(third, DEFAULTS, learned=model)
    assert after[0].specialty_id == "cardio" and after[0].confident
    assert set(after[0].learned) == {"mollet", "gonfle", "douloureux"}


def test_learning_that_changes_nothing_is_not_shown() -> None:
    model = RoomModel()
    model.learn("Douleur thoracique, infarctus ?", ["cardio"])
    model.learn("Douleur thoracique et troponine", ["cardio"])
    plain = classify("#cardio douleur thoracique", DEFAULTS, learned=model)
    assert plain[0].learned == ()


def test_learned_words_of_a_runner_up_do_not_make_a_sure_tag_unsure() -> None:
    """The catalogue is sure of endocrinology; the room's two psychiatry posts shared two
    words with this one: psychiatry gains but stays behind, and the tag still pages."""
    post = "Fatigue, insomnie, TSH à 12 : hypothyroïdie ?"
    plain = classify(post, DEFAULTS)
    assert plain[0].specialty_id == "endocrino" and plain[0].confident
    model = RoomModel()
    model.learn("Fatigue et insomnie depuis le deuil, antidépresseur ?", ["psy"])
    model.learn("Insomnie et fatigue, idées noires", ["psy"])
    assert model.scores(post)["psy"][0] > 1.0  # enough to cut the margin under the ratio
    assert classify(post, DEFAULTS, learned=model) == plain


def test_forget_one_specialty_or_all() -> None:
    model = RoomModel()
    model.learn("genou et eczéma", ["rhumato", "dermato"])
    model.forget("dermato")
    assert model.specialties() == ["rhumato"]
    assert model.top_words("rhumato") == ["eczema", "genou"]
    model.forget()
    assert model.weights == {}


# --- the room's learning, wired: picks and `!tag` teach it, the card says so, `!tagger` ------

POSTER, MOD = "@alice:test", "@mod:test"
ROOM = "!room:test"
CATALOGUE = (
    {"id": "cardio", "name_fr": "Cardiologie", "name_en": "Cardiology",
     "keywords": ["palpitations", "souffle"], "strong": ["coronarographie"]},
    {"id": "pneumo", "name_fr": "Pneumologie", "name_en": "Pulmonology",
     "keywords": ["toux", "dyspnée"]},
)
ONE = "1\ufe0f\u20e3"


def harness(learn: str = "room") -> Harness:
    return Harness([Specialties, Cases],
                   sections={"specialties": {"defaults": list(CATALOGUE), "learn": learn}})


async def weights(h: Harness) -> list[tuple[Any, ...]]:
    rows = await h.db.fetchall("SELECT * FROM tagger_weights ORDER BY word, specialty_id")
    return [tuple(r) for r in rows]


async def test_two_picks_make_a_third_post_confident_and_the_card_says_why() -> None:
    async with harness() as h:
        h.add_room(ROOM, members=[POSTER, MOD], powers={MOD: 100})
        for text in (f"palpitations et toux, douleur, {MARKER} ?", "toux, palpitations, douleur"):
            root = await h.say(POSTER, f"!case {text}")
            assert "Spécialité à confirmer" in card_of(h, root).body
            await h.react(POSTER, card_of(h, root).event_id, ONE)
        rows = await weights(h)
        assert rows == [(ROOM, w, "cardio", 2.0) for w in ("douleur", "palpitations", "toux")]
        assert all(MARKER not in repr(row) for row in await h.db.fetchall(
            "SELECT * FROM tagger_weights"))
        root = await h.say(POSTER, "!case palpitations, toux et douleur depuis ce matin")
        body = card_of(h, root).body
        assert body.startswith("Cas #3 · Cardiologie · ouvert")
        assert "appris dans ce salon : " in body and "Spécialité à confirmer" not in body

        h.clear()
        await h.say(MOD, "!tagger")
        shown = h.sent[-1].body
        assert "#cardio — Cardiologie : douleur, palpitations, toux" in shown
        await h.say(MOD, "!tagger forget cardio")
        assert await weights(h) == []
        root = await h.say(POSTER, "!case palpitations, toux et douleur, encore")
        assert "Spécialité à confirmer" in card_of(h, root).body


async def test_a_retag_of_a_wrong_confident_guess_weighs_more() -> None:
    async with harness() as h:
        h.add_room(ROOM, members=[POSTER, MOD], powers={MOD: 100})
        root = await h.say(POSTER, "!case dyspnée et toux, douleur")
        assert card_of(h, root).body.startswith("Cas #1 · Pneumologie · ouvert")
        await h.say(POSTER, "!tag 1 cardio")
        assert await weights(h) == [(ROOM, w, "cardio", CORRECTED)
                                    for w in ("douleur", "dyspnee", "toux")]


async def test_learning_off_keeps_nothing_and_tagger_says_so() -> None:
    async with harness("off") as h:
        h.add_room(ROOM, members=[POSTER, MOD], powers={MOD: 100})
        root = await h.say(POSTER, "!case palpitations et toux, douleur")
        await h.react(POSTER, card_of(h, root).event_id, ONE)
        assert await weights(h) == []
        await h.say(MOD, "!tagger")
        assert "désactivé" in h.sent[-1].body


async def test_pooled_rooms_share_one_model_that_no_room_admin_erases() -> None:
    other = "!other:test"
    async with harness("pooled") as h:
        h.add_room(ROOM, members=[POSTER, MOD], powers={MOD: 100})
        h.add_room(other, members=[POSTER, MOD], powers={MOD: 100})
        for text in ("palpitations et toux, douleur", "toux, palpitations, douleur"):
            root = await h.say(POSTER, f"!case {text}")
            await h.react(POSTER, card_of(h, root).event_id, ONE)
        assert {row[0] for row in await weights(h)} == {"*"}
        root = await h.say(POSTER, "!case palpitations, toux et douleur", room=other)
        assert "appris par les salons : " in card_of(h, root).body
        await h.say(MOD, "!tagger forget", room=other)
        assert "opérateur" in h.sent[-1].body
        assert len(await weights(h)) == 3


# --- the benchmark's replay (bench/learning.py) ----------------------------------------------


def test_a_room_order_is_blind_to_labels_and_to_the_file_order() -> None:
    posts = [(f"post {i}", ["cardio"] if i < 10 else ["pneumo"]) for i in range(20)]
    texts = [text for text, _ in room_order(posts, 1)]
    assert texts == [text for text, _ in room_order(posts[::-1], 1)]
    assert texts == [text for text, _ in room_order([(t, ["mg"]) for t, _ in posts], 1)]
    assert texts != [text for text, _ in room_order(posts, 2)]
    assert sorted(texts) == sorted(text for text, _ in posts)


def test_in_a_room_order_the_first_half_taught_the_second_half_specialties() -> None:
    """The corpus file is sorted by specialty: replayed in file order, the first half of the
    development part taught 5 of the 141 tagged posts' specialties."""
    posts = [(p.text, p.labels) for p in POSTS if p.part == DEV]
    half = len(posts) // 2
    for number in range(3):
        order = room_order(posts, number)
        taught = {ids[0] for _, ids in order[:half]}
        assert sum(ids[0] in taught for _, ids in order[half:]) >= 0.95 * (len(posts) - half)
    taught = {ids[0] for _, ids in posts[:half]}
    assert sum(ids[0] in taught for _, ids in posts[half:]) < 0.1 * (len(posts) - half)
