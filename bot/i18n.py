"""Translations: every user-facing string exists in French (default) and English.

Each component registers its own strings as `{key: {"fr": ..., "en": ...}}`; registering a
string without both languages is an error at start, not a surprise in a room.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.text import shorten

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"

Strings = Mapping[str, Mapping[str, str]]

CORE_STRINGS: Strings = {
    "usage": {"fr": "Utilisation : {usage}", "en": "Usage: {usage}"},
    "unknown_command": {
        "fr": "Commande inconnue : {name}. Tapez {prefix}help pour la liste.",
        "en": "Unknown command: {name}. Type {prefix}help for the list.",
    },
    "help.header.everyday": {"fr": "Commandes courantes :", "en": "Everyday commands:"},
    "help.header.volunteers": {
        "fr": "Volontaires (être sollicité pour les cas de sa spécialité) :",
        "en": "Volunteers (being asked about cases in one's specialty):",
    },
    "help.header.admin": {
        "fr": "Administration du salon (modérateurs) :",
        "en": "Room administration (moderators):",
    },
    "help.more.volunteers": {
        "fr": "Volontaires : {prefix}help volontaires",
        "en": "Volunteers: {prefix}help volunteers",
    },
    "help.more.admin": {
        "fr": "Réglages : {prefix}help admin",
        "en": "Settings: {prefix}help admin",
    },
    "help.footer": {
        "fr": "Détail : {prefix}help <commande>",
        "en": "Details: {prefix}help <command>",
    },
    "unit.min": {"fr": "{n} min", "en": "{n} min"},
    "unit.h": {"fr": "{n} h", "en": "{n} h"},
    "unit.d": {"fr": "{n} j", "en": "{n} d"},
    "help.aliases": {"fr": "Alias : {aliases}", "en": "Aliases: {aliases}"},
    "help.summary": {
        "fr": "Affiche l’aide des commandes.", "en": "Shows help about the commands.",
    },
    "arg.command": {"fr": "commande", "en": "command"},
    "internal_error": {
        "fr": "Erreur interne, référence {ref}. Votre message n’est pas perdu ; "
              "réessayez ou signalez la référence à l’administrateur.",
        "en": "Internal error, reference {ref}. Your message is not lost; "
              "try again or give the reference to the administrator.",
    },
    "rate_limited": {
        "fr": "Trop de commandes d’affilée : réessayez dans {seconds} s.",
        "en": "Too many commands in a row: try again in {seconds} s.",
    },
    "undecryptable": {
        "fr": "Je n’ai pas pu déchiffrer ce message (clé de chiffrement non reçue). "
              "Vérifiez que votre session partage ses clés avec les sessions non vérifiées "
              "ou vérifiez la session du bot, puis renvoyez le message.",
        "en": "I could not decrypt this message (encryption key not received). "
              "Check that your session shares keys with this bot's session, or verify it, "
              "then send the message again.",
    },
    "bad.int": {
        "fr": "« {value} » n’est pas un nombre entier", "en": "“{value}” is not a whole number",
    },
    "bad.range": {
        "fr": "{name} doit être entre {low} et {high}",
        "en": "{name} must be between {low} and {high}",
    },
    "bad.duration": {
        "fr": "« {value} » n’est pas une durée (ex. 30m, 4h, 14j)",
        "en": "“{value}” is not a duration (e.g. 30m, 4h, 14d)",
    },
    "bad.choice": {
        "fr": "« {value} » : choisir parmi {choices}",
        "en": "“{value}”: choose one of {choices}",
    },
    "bad.user": {
        "fr": "« {value} » n’est pas un identifiant Matrix (@nom:serveur)",
        "en": "“{value}” is not a Matrix user id (@name:server)",
    },
    "bad.missing": {"fr": "il manque {name}", "en": "{name} is missing"},
    "bad.extra": {"fr": "argument en trop : « {value} »", "en": "unexpected argument: “{value}”"},
    "bad.quote": {"fr": "guillemet non fermé", "en": "unclosed quote"},
    # session 5: help that fits Element's thread panel
    "help.header.moderation": {
        "fr": "Modération (modérateurs du salon) :",
        "en": "Moderation (the room's moderators):",
    },
    "help.more.moderation": {
        "fr": "Modération : {prefix}help modération",
        "en": "Moderation: {prefix}help moderation",
    },
    "help.also": {"fr": "Aussi : {commands}", "en": "Also: {commands}"},
    # session 6: timers and the lane under the guard
    "background_error": {
        "fr": "Erreur interne dans une tâche de fond (rappel, vérification), référence {ref}. "
              "Signalez la référence à l’administrateur si besoin.",
        "en": "Internal error in a background task (a reminder, a check), reference {ref}. "
              "Give the reference to the administrator if needed.",
    },
}


ECHO_LIMIT = 80
"""Longest piece of a member's input quoted back in a reply (a command name, a value)."""


def echo(text: str, limit: int = ECHO_LIMIT) -> str:
    """`text` as quoted back to its author: cut to `limit` characters, one line."""
    return shorten(text.replace("\n", " "), limit)


def human_duration(t: Callable[..., str], seconds: float) -> str:
    """3 min, 2 h, 4 j (rounded down to the largest unit); `t` is a context's `t`."""
    if seconds >= 86400:
        return t("unit.d", n=int(seconds // 86400))
    if seconds >= 3600:
        return t("unit.h", n=int(seconds // 3600))
    return t("unit.min", n=max(1, int(seconds // 60)))


class _KeepMissing(dict[str, object]):
    """Leaves `{field}`s with no value in place, for `bot.content.fill` to put pills there."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Catalog:
    """All registered strings; `t` picks the language, falling back to French."""

    def __init__(self) -> None:
        self._strings: dict[str, Mapping[str, str]] = {}
        self._owners: dict[str, str] = {}
        self.add(CORE_STRINGS, "core")

    def add(self, strings: Strings, owner: str) -> None:
        """Register `owner`'s strings; a key another component already declared is an error
        at start (it would silently replace the other's text)."""
        for key, texts in strings.items():
            missing = [lang for lang in LANGUAGES if not texts.get(lang)]
            if missing:
                raise ValueError(f"string {key} lacks {', '.join(missing)}")
            other = self._owners.setdefault(key, owner)
            if other != owner:
                raise ValueError(f"string {key} declared by both {other} and {owner}")
            self._strings[key] = texts

    def label(self, lang: str, owner: str, name: str) -> str:
        """An argument's name in usage lines: the owner's `<owner>.arg.<name>`, else the
        shared `arg.<name>`, else the name itself."""
        for key in (f"{owner}.arg.{name}", f"arg.{name}"):
            if key in self._strings:
                return self.t(lang, key)
        return name

    def has(self, key: str) -> bool:
        return key in self._strings

    def t(self, lang: str, key: str, /, **values: object) -> str:
        texts = self._strings.get(key)
        if texts is None:
            raise KeyError(f"no string {key!r}")
        text = texts.get(lang) or texts[DEFAULT_LANGUAGE]
        return text.format_map(_KeepMissing(values)) if values else text
