"""Room settings: which values a room may change, where each effective value comes from, and
the `!config` commands that show and change them.

A value comes from the built-in default, else from config.yaml (or the environment), else
from the room (set by command, stored in `room_settings`); the room wins. Each plugin names
the fields of its config section a room may set (`Plugin.room_settings`); the core adds its
own (language, prefix aliases, time zone, admin power level).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.config import Config, Invalid, as_dict, parse_setting
from bot.content import Bold, Rich, fill
from bot.i18n import LANGUAGES, Strings, echo
from bot.plugin import Context, Plugin
from bot.router import Arg, CommandSpec, Rest
from bot.storage import Database, Migration
from bot.text import shorten

log = logging.getLogger(__name__)

CORE_SETTINGS = ("language", "prefix_aliases", "timezone", "admin_power_level")
_UNSET = object()
SHOWN_CHARS = 60
"""Longer values (a custom rules text) are shown cut to this length."""


@dataclass(frozen=True, slots=True)
class SettingSpec:
    key: str
    """As typed in `!config set` and stored: `language`, `volunteers.per_round`."""
    holder: type
    """The config dataclass declaring the field (its type, choices and range)."""
    field: str
    configured: Any
    """The bot-wide value: config.yaml's, else the built-in default."""
    from_yaml: bool

    def parse(self, raw: str) -> Any:
        return parse_setting(self.holder, self.field, raw)


def _default(holder: type, name: str) -> Any:
    field = next(f for f in dataclasses.fields(holder) if f.name == name)
    if field.default is not dataclasses.MISSING:
        return field.default
    return field.default_factory()  # type: ignore[misc]


def settable(config: Config, plugins: Iterable[Any]) -> list[SettingSpec]:
    """Every setting a room may change, core first, then each plugin's in load order."""
    specs = [SettingSpec(name, Config, name, getattr(config, name),
                         getattr(config, name) != _default(Config, name))
             for name in CORE_SETTINGS]
    for plugin in plugins:
        section = config.sections.get(plugin.name) or {}
        specs.extend(
            SettingSpec(f"{plugin.name}.{name}", type(plugin.config), name,
                        getattr(plugin.config, name), name in section)
            for name in plugin.room_settings)
    return specs


def show(value: Any) -> str:
    """A value as a room admin would type it: `30m`, `fr`, `! ?`, `5`."""
    plain = as_dict(value)
    if isinstance(plain, list):
        return " ".join(map(str, plain)) or "—"
    text = str(plain) if plain not in ("", None) else "—"
    return shorten(text, SHOWN_CHARS)


def stored(value: Any) -> str:
    """A valid value as text that parses back to it (kept in `room_settings`)."""
    plain = as_dict(value)
    return " ".join(map(str, plain)) if isinstance(plain, list) else str(plain)


class _RoomConfigs(dict[str, Any]):
    """One plugin's config per room, built on first read (`Settings.configs`)."""

    def __init__(self, settings: Settings, plugin: Plugin) -> None:
        super().__init__()
        self.settings = settings
        self.plugin = plugin

    def __missing__(self, room_id: str) -> Any:
        found = self[room_id] = self.settings._build(self.plugin, room_id)
        return found


MIGRATIONS = (
    Migration("each room's own values, as typed by its admins", """
    CREATE TABLE IF NOT EXISTS room_settings (
        room_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
        PRIMARY KEY (room_id, key)
    )
    """),
)


class Settings:
    """Room settings: the registry of what a room may change, the rooms' own values (its
    table, read once and kept in memory), each plugin's config with a room's values applied,
    and the `!config` commands (registered by the App)."""

    def __init__(self, db: Database, config: Config) -> None:
        self.db = db
        self.config = config
        self.specs: list[SettingSpec] = []
        self._by_key: dict[str, SettingSpec] = {}
        self._warned: set[tuple[str, str]] = set()
        self._rooms: dict[str, dict[str, str]] = {}
        self._configs: dict[str, _RoomConfigs] = {}
        self._values: dict[tuple[str, str], Any] = {}

    async def start(self) -> None:
        """Create the table if needed and read every room's values."""
        await self.db.migrate("settings", MIGRATIONS)
        for row in await self.db.fetchall("SELECT room_id, key, value FROM room_settings"):
            self._rooms.setdefault(row["room_id"], {})[row["key"]] = row["value"]

    def load(self, plugins: Iterable[Plugin]) -> None:
        self.specs = settable(self.config, plugins)
        self._by_key = {spec.key: spec for spec in self.specs}

    def room_value(self, room_id: str, key: str) -> str | None:
        """The room's own text for setting `key` (None when the room did not set it)."""
        return self._rooms.get(room_id, {}).get(key)

    async def set_room_value(self, room_id: str, key: str, value: str | None) -> None:
        if value is None:
            await self.db.execute("DELETE FROM room_settings WHERE room_id = ? AND key = ?",
                                  (room_id, key))
            self._rooms.get(room_id, {}).pop(key, None)
        else:
            await self.db.execute(
                "INSERT INTO room_settings (room_id, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT(room_id, key) DO UPDATE SET value = excluded.value",
                (room_id, key, value))
            self._rooms.setdefault(room_id, {})[key] = value
        for configs in self._configs.values():
            configs.pop(room_id, None)
        self._values = {k: v for k, v in self._values.items() if k[0] != room_id}

    def value(self, room_id: str, key: str) -> Any:
        """The value of setting `key` in force in the room (kept until the room changes a
        setting: read for every event)."""
        found = self._values.get((room_id, key), _UNSET)
        if found is _UNSET:
            found = self._values[room_id, key] = self.effective(room_id, self._by_key[key])[0]
        return found

    def lang(self, room_id: str) -> str:
        """The room's language: its `language` setting when the catalogue has it, else the
        bot's."""
        lang = self.value(room_id, "language")
        return lang if lang in LANGUAGES else self.config.language

    def configs(self, plugin: Plugin) -> dict[str, Any]:
        """`plugin`'s config dataclass per room, the room's own values applied: a mapping
        that builds a room's on first read and keeps it until the room changes a setting
        (`Plugin.config_for` is its lookup: no call on the way once built)."""
        return self._configs.setdefault(plugin.name, _RoomConfigs(self, plugin))

    def _build(self, plugin: Plugin, room_id: str) -> Any:
        changes = {name: self.value(room_id, f"{plugin.name}.{name}")
                   for name in plugin.room_settings
                   if self.room_value(room_id, f"{plugin.name}.{name}") is not None}
        return dataclasses.replace(plugin.config, **changes) if changes else plugin.config

    def find(self, word: str) -> SettingSpec | None:
        """The setting named `word`: its key, or its field name when no other has it."""
        word = word.strip().lower()
        exact = [s for s in self.specs if s.key == word]
        if exact:
            return exact[0]
        short = [s for s in self.specs if s.field == word]
        return short[0] if len(short) == 1 else None

    def effective(self, room_id: str, spec: SettingSpec) -> tuple[Any, str]:
        """The value in force in the room and its source: `room`, `yaml` or `default`."""
        raw = self.room_value(room_id, spec.key)
        if raw is not None:
            try:
                return spec.parse(raw), "room"
            except Invalid:
                if (room_id, spec.key) not in self._warned:  # once: it is read per event
                    self._warned.add((room_id, spec.key))
                    log.warning("room setting %s of %s no longer valid; ignored", spec.key,
                                room_id)
        return spec.configured, "yaml" if spec.from_yaml else "default"

    def commands(self) -> list[CommandSpec]:
        return [
            CommandSpec("config", self.show_all, (), ("reglages",), "config.summary", "core",
                        section="admin"),
            CommandSpec("config set", self.set, (Arg("key"), Rest("value")),
                        ("reglages set", "config mettre"), "config.set.summary", "core",
                        section="admin", admin=True),
            CommandSpec("config unset", self.unset, (Arg("key"),),
                        ("reglages unset", "config retirer"), "config.unset.summary", "core",
                        section="admin", admin=True),
        ]

    # ---- commands --------------------------------------------------------------------------
    async def show_all(self, ctx: Context) -> None:
        lines: list[Any] = [Bold(ctx.t("config.header"))]
        for spec in self.specs:
            value, source = self.effective(ctx.room_id, spec)
            lines.append(ctx.t("config.line", key=spec.key, value=show(value),
                               source=ctx.t(f"config.source.{source}")))
        lines.append(ctx.t("config.footer", prefix=ctx.prefix))
        await ctx.reply(Rich.of(*lines))

    async def _spec(self, ctx: Context, key: str) -> SettingSpec | None:
        spec = self.find(key)
        if spec is None:
            await ctx.reply(Rich.of(ctx.t("config.unknown", key=echo(key)), ctx.t(
                "config.keys", keys=", ".join(s.key for s in self.specs))))
        return spec

    async def set(self, ctx: Context, key: str, value: str) -> None:
        spec = await self._spec(ctx, key)
        if spec is None:
            return
        try:
            parsed = spec.parse(value)
        except Invalid as bad:
            await ctx.reply(Rich.of(
                ctx.t("config.invalid", key=spec.key, reason=ctx.t(
                    f"config.invalid.{bad.code}", **bad.values)),
                ctx.t("usage", usage=f"{ctx.prefix}config set {spec.key} <{ctx.t('arg.value')}>"),
            ))
            return
        if (spec.key == "admin_power_level" and not ctx.bot.is_bot_admin(ctx.event.sender)
                and parsed > ctx.room.power_level(ctx.event.sender)):
            await ctx.reply(ctx.t("config.lockout", level=parsed))
            return
        before, _ = self.effective(ctx.room_id, spec)
        await self.set_room_value(ctx.room_id, spec.key, stored(parsed))
        ctx.reread_language()
        await ctx.announce(fill(ctx.t("config.changed", key=spec.key, value=show(parsed),
                                      before=show(before)), who=ctx.pill()),
                           f"config set {spec.key}")

    async def unset(self, ctx: Context, key: str) -> None:
        spec = await self._spec(ctx, key)
        if spec is None:
            return
        if self.room_value(ctx.room_id, spec.key) is None:
            value, source = self.effective(ctx.room_id, spec)
            await ctx.reply(ctx.t("config.not_set", key=spec.key, value=show(value),
                                  source=ctx.t(f"config.source.{source}")))
            return
        await self.set_room_value(ctx.room_id, spec.key, None)
        ctx.reread_language()
        value, source = self.effective(ctx.room_id, spec)
        await ctx.announce(fill(ctx.t("config.reset", key=spec.key, value=show(value),
                                      source=ctx.t(f"config.source.{source}")),
                                who=ctx.pill()), f"config unset {spec.key}")



STRINGS: Strings = {
    "config.summary": {
        "fr": "Affiche les réglages du salon et leur origine.",
        "en": "Shows the room's settings and where each comes from.",
    },
    "config.set.summary": {
        "fr": "Change un réglage pour ce salon (administrateurs du salon).",
        "en": "Changes a setting for this room (room admins).",
    },
    "config.unset.summary": {
        "fr": "Rétablit la valeur par défaut d’un réglage (administrateurs du salon).",
        "en": "Returns a setting to its default value (room admins).",
    },
    "arg.key": {"fr": "réglage", "en": "setting"},
    "arg.value": {"fr": "valeur", "en": "value"},
    "config.header": {"fr": "Réglages de ce salon :", "en": "Settings of this room:"},
    "config.line": {"fr": "{key} = {value} ({source})", "en": "{key} = {value} ({source})"},
    "config.footer": {
        "fr": "Changer : {prefix}config set <réglage> <valeur> · revenir au défaut : "
              "{prefix}config unset <réglage> (administrateurs du salon).",
        "en": "Change: {prefix}config set <setting> <value> · back to default: "
              "{prefix}config unset <setting> (room admins).",
    },
    "config.source.default": {"fr": "par défaut", "en": "default"},
    "config.source.yaml": {"fr": "config.yaml", "en": "config.yaml"},
    "config.source.room": {"fr": "réglé dans ce salon", "en": "set in this room"},
    "config.unknown": {"fr": "Réglage inconnu : « {key} ».", "en": "Unknown setting: “{key}”."},
    "config.keys": {"fr": "Réglages possibles : {keys}.", "en": "Known settings: {keys}."},
    "config.invalid": {
        "fr": "Valeur refusée pour {key} : {reason}.", "en": "Value refused for {key}: {reason}.",
    },
    "config.invalid.choice": {"fr": "choisir parmi {choices}", "en": "choose one of {choices}"},
    "config.invalid.number": {"fr": "un nombre est attendu", "en": "a number is expected"},
    "config.invalid.whole": {
        "fr": "un nombre entier est attendu", "en": "a whole number is expected",
    },
    "config.invalid.range": {
        "fr": "la valeur doit être entre {low} et {high}",
        "en": "the value must be between {low} and {high}",
    },
    "config.invalid.duration": {
        "fr": "une durée est attendue (ex. 30m, 4h, 14j)",
        "en": "a duration is expected (e.g. 30m, 4h, 14d)",
    },
    "config.invalid.negative": {
        "fr": "une durée ne peut pas être négative", "en": "a duration cannot be negative",
    },
    "config.invalid.bool": {"fr": "true ou false est attendu", "en": "true or false is expected"},
    "config.invalid.text": {"fr": "un texte est attendu", "en": "text is expected"},
    "config.invalid.list": {"fr": "une liste est attendue", "en": "a list is expected"},
    "config.invalid.mapping": {"fr": "une table est attendue", "en": "a mapping is expected"},
    "config.invalid.path": {"fr": "un chemin est attendu", "en": "a path is expected"},
    "config.invalid.prefix": {
        "fr": "un préfixe fait 1 à 3 signes, sans lettre ni chiffre (ex. ? ou //)",
        "en": "a prefix is 1 to 3 symbols, no letters or digits (e.g. ? or //)",
    },
    "config.invalid.weekly": {
        "fr": "un jour et une heure sont attendus (ex. lundi 08:00), ou off",
        "en": "a weekday and a time are expected (e.g. monday 08:00), or off",
    },
    "config.invalid.timezone": {
        "fr": "fuseau horaire inconnu « {value} » (ex. Europe/Paris)",
        "en": "unknown time zone “{value}” (e.g. Europe/Paris)",
    },
    "config.lockout": {
        "fr": "Refusé : avec un niveau requis de {level}, vous ne pourriez plus administrer "
              "ce salon vous-même.",
        "en": "Refused: with a required level of {level}, you could no longer administer "
              "this room yourself.",
    },
    "config.changed": {
        "fr": "{who} a réglé {key} sur {value} (avant : {before}).",
        "en": "{who} set {key} to {value} (was: {before}).",
    },
    "config.reset": {
        "fr": "{who} a rétabli {key} : {value} ({source}).",
        "en": "{who} reset {key}: {value} ({source}).",
    },
    "config.not_set": {
        "fr": "{key} n’est pas réglé dans ce salon : {value} ({source}).",
        "en": "{key} is not set in this room: {value} ({source}).",
    },
    "admin.refused": {
        "fr": "Désolé, seuls les membres de niveau {level} ou plus dans ce salon "
              "(modérateurs) et les administrateurs du bot peuvent faire cela.",
        "en": "Sorry, only members with power level {level} or more in this room "
              "(moderators) and the bot's administrators can do that.",
    },
}
