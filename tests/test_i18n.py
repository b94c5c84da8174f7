"""Strings: both languages, one owner per key, argument labels scoped to their plugin."""

from __future__ import annotations

import pytest

from bot.i18n import Catalog


def test_a_key_declared_by_two_components_is_refused() -> None:
    catalog = Catalog()
    catalog.add({"x.hello": {"fr": "bonjour", "en": "hello"}}, "x")
    catalog.add({"x.hello": {"fr": "bonjour", "en": "hello"}}, "x")  # same owner: fine
    with pytest.raises(ValueError, match="declared by both x and y"):
        catalog.add({"x.hello": {"fr": "salut", "en": "hi"}}, "y")


def test_a_string_needs_both_languages() -> None:
    with pytest.raises(ValueError, match="lacks en"):
        Catalog().add({"x.only_fr": {"fr": "seulement"}}, "x")


def test_argument_labels_are_looked_up_in_their_plugin_first() -> None:
    catalog = Catalog()
    catalog.add({"arg.specialty": {"fr": "spécialité", "en": "specialty"}}, "a")
    catalog.add({"b.arg.specialty": {"fr": "spé", "en": "spec"}}, "b")
    assert catalog.label("fr", "b", "specialty") == "spé"
    assert catalog.label("en", "c", "specialty") == "specialty"
    assert catalog.label("fr", "c", "unknown") == "unknown"
