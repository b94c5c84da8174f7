"""The room's learning (issue 27): what a `RoomModel` keeps, and how `classify` uses it."""

from __future__ import annotations

from plugins.specialties import RoomModel, classify, load_defaults
from plugins.specialties.learn import CONFIRMED, CORRECTED, SECONDARY, vocabulary, vocabulary_words

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


def test_forget_one_specialty_or_all() -> None:
    model = RoomModel()
    model.learn("genou et eczéma", ["rhumato", "dermato"])
    model.forget("dermato")
    assert model.specialties() == ["rhumato"]
    assert model.top_words("rhumato") == ["eczema", "genou"]
    model.forget()
    assert model.weights == {}
