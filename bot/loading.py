"""Loading: which plugins exist, their config sections checked, the ones they require added,
and the schema version this code brings each component's tables to."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

from bot.config import Config, ConfigError, build
from bot.plugin import Plugin
from bot.scheduler import MIGRATIONS as TIMER_MIGRATIONS
from bot.settings import MIGRATIONS as SETTINGS_MIGRATIONS
from bot.storage import Migration

CORE_MIGRATIONS = (
    Migration("key-value store, handled event ids, room settings", """
    CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE handled_events (event_id TEXT PRIMARY KEY, handled_at REAL NOT NULL);
    CREATE INDEX handled_events_at ON handled_events (handled_at);
    CREATE TABLE room_settings (
        room_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
        PRIMARY KEY (room_id, key)
    )
    """),
)
"""(`room_settings` is `bot.settings`'s now; it was created here first, so the step stays.)"""


def known_plugins() -> tuple[str, ...]:
    from plugins import DEFAULT_PLUGINS

    return DEFAULT_PLUGINS


def configure(cls: type[Plugin], section: Any, problems: list[str]) -> Any:
    """Build and check a plugin's config section, appending `path: reason` problems."""
    if cls.Config is None:
        if section:
            problems.append(f"{cls.name}: this plugin takes no settings")
        return None
    before = len(problems)
    cfg = build(cls.Config, section, cls.name, problems)
    if len(problems) == before:
        problems.extend(cls.check(cfg))
    return cfg


def with_required(classes: Iterable[type[Plugin]]) -> list[type[Plugin]]:
    """`classes` and the plugins they require, each required one before its first user."""
    ordered: list[type[Plugin]] = []

    def add(cls: type[Plugin]) -> None:
        if cls not in ordered:
            for needed in cls.requires:
                add(needed)
            ordered.append(cls)

    for cls in classes:
        add(cls)
    return ordered


def load_plugin_classes(config: Config) -> list[tuple[type[Plugin], Any]]:
    """Import the enabled plugins (and the ones they require) and validate their config
    sections (ConfigError if bad)."""
    problems: list[str] = []
    classes: list[type[Plugin]] = []
    for name in config.plugins if config.plugins is not None else known_plugins():
        try:
            classes.append(importlib.import_module(f"plugins.{name}").PLUGIN)
        except (ImportError, AttributeError):
            problems.append(f"plugins: unknown plugin {name!r}")
    found = [(cls, configure(cls, config.sections.get(cls.name), problems))
             for cls in with_required(classes)]
    if problems:
        raise ConfigError(problems)
    return found


def known_schemas(plugins: Iterable[type[Plugin]]) -> dict[str, int]:
    """The schema version of each component this code brings a database to (its number of
    migration steps): what a database, a backup or `casebot doctor` is compared with."""
    return {"core": len(CORE_MIGRATIONS), "timers": len(TIMER_MIGRATIONS),
            "settings": len(SETTINGS_MIGRATIONS),
            **{cls.name: len(cls.migrations) for cls in plugins}}
