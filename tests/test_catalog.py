"""`match_specialties`: what `!tag`, `!volunteer`, `!cases <spécialité>` look words up with."""

from __future__ import annotations

import pytest

from plugins.specialties import catalog
from plugins.specialties.catalog import MAX_MATCH_WORDS, load_defaults, match_specialties


def test_ids_and_aliases_in_order_without_repeats() -> None:
    specs = load_defaults()
    found, unknown = match_specialties(["#Cardio", "dermato", "#cardiologie", "zzz", "#"], specs)
    assert found == ["cardio", "dermato"]
    assert unknown == ["zzz", "#"]
    assert match_specialties([], specs) == ([], [])
    assert match_specialties(["cardio"], list(specs)) == (["cardio"], [])  # any sequence


def test_words_beyond_the_cap_are_unknown_and_unread() -> None:
    specs = load_defaults()
    words = ["pneumo"] * MAX_MATCH_WORDS + ["cardio", "dermato"] * 5000
    found, unknown = match_specialties(words, specs)
    assert found == ["pneumo"]
    assert unknown == words[MAX_MATCH_WORDS:]


def test_lookups_do_not_grow_with_specialties_times_words(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Each specialty's tags are normalised once per set, not once per word (a 48 KB `!tag`
    used to normalise every alias of every specialty for each of its words)."""
    specs = load_defaults()
    tags = sum(1 + len(s.aliases) for s in specs)
    calls = 0
    real = catalog.hashtag_key

    def counting(tag: str) -> str:
        nonlocal calls
        calls += 1
        return real(tag)

    monkeypatch.setattr(catalog, "hashtag_key", counting)
    catalog._TAGS_BY_IDENTITY.clear()
    words = ["zzz"] * 40
    match_specialties(words, specs)
    assert calls <= tags + len(words)
    calls = 0
    match_specialties(words, specs)  # the same tuple: its tags are not normalised again
    assert calls == len(words)
