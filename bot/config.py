"""Configuration: YAML plus environment into frozen dataclasses.

Every problem is reported with the key path and the reason, all at once. Secrets never come
from the YAML: they are read from the environment (or a `.env` file beside the config).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from dotenv import dotenv_values

ENV_PREFIX = "CASEBOT__"
SECRET_ENV = ("CASEBOT_PASSWORD", "CASEBOT_ACCESS_TOKEN", "CASEBOT_PICKLE_KEY",
              "CASEBOT_BACKUP_PASSPHRASE")
_DURATION = re.compile(r"^\s*([0-9]{1,12}(?:\.[0-9]{1,6})?)\s*(s|sec|m|min|h|d|j|w)?\s*$",
                       re.IGNORECASE)
MAX_DURATION = 100 * 365 * 86400.0
"""No duration the bot deals with is longer (a bigger number is a typo or a probe)."""
_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "j": 86400, "w": 604800}


class ConfigError(Exception):
    """Raised with every problem found, one `path: reason` line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Invalid(ValueError):
    """Why one value does not fit its field: a `code` and values, for localized messages."""

    REASONS: typing.ClassVar[dict[str, str]] = {
        "choice": "must be one of {choices}",
        "number": "expected a number",
        "whole": "expected a whole number",
        "range": "must be between {low} and {high}",
        "duration": "expected a duration like 30m, 4h or 14d",
        "negative": "a duration cannot be negative",
        "bool": "expected true or false",
        "text": "expected text",
        "list": "expected a list",
        "mapping": "expected a mapping",
        "path": "expected a path",
        "timezone": "unknown time zone {value} (expected e.g. Europe/Paris)",
        "prefix": "a prefix is 1 to 3 symbols, no letters or digits (e.g. ? or //)",
        "weekly": "expected a weekday and a time like monday 08:00, or off",
    }

    def __init__(self, code: str, **values: object) -> None:
        super().__init__(self.REASONS[code].format(**values))
        self.code = code
        self.values = values


class Duration(float):
    """Seconds, written in YAML as a number or as `30s`, `30m`, `4h`, `14d` (`j` for jours)."""


def parse_duration(value: object) -> Duration:
    """Parse `30m`, `4h`, `14d`, `90` (seconds); raise Invalid (a ValueError) otherwise."""
    if isinstance(value, bool):
        raise Invalid("duration")
    if isinstance(value, int | float):
        try:
            seconds = float(value)
        except OverflowError:
            raise Invalid("duration") from None
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise Invalid("duration")
        seconds = float(match.group(1)) * _UNITS[(match.group(2) or "s").lower()]
    if seconds < 0:
        raise Invalid("negative")
    if not seconds <= MAX_DURATION:  # also refuses NaN and infinity
        raise Invalid("duration")
    return Duration(seconds)


def format_duration(seconds: float) -> str:
    """The shortest exact way to write a duration: 90 -> `90s`, 1800 -> `30m`, 86400 -> `1d`."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def bounded(default: Any, low: float | None = None, high: float | None = None) -> Any:
    """A dataclass field whose value (from YAML or a room) must lie in [low, high]."""
    return field(default=default, metadata={"low": low, "high": high})


def timezone_field(default: str) -> Any:
    """A dataclass field holding an IANA time zone name (checked against the tz database)."""
    return field(default=default, metadata={"timezone": True})


WEEKDAYS = {name: day for day, names in enumerate((
    ("monday", "mon", "lundi", "lun"), ("tuesday", "tue", "mardi", "mar"),
    ("wednesday", "wed", "mercredi", "mer"), ("thursday", "thu", "jeudi", "jeu"),
    ("friday", "fri", "vendredi", "ven"), ("saturday", "sat", "samedi", "sam"),
    ("sunday", "sun", "dimanche", "dim"))) for name in names}
_WEEKLY = re.compile(r"^\s*([a-z]{3,9})\s+([0-9]{1,2})(?:[:h]([0-9]{2})?)?\s*$", re.IGNORECASE)


def parse_weekly(text: str) -> tuple[int, int, int] | None:
    """`lundi 08:00`, `monday 8h30`, `lun 8h` -> (weekday 0-6, hour, minute); `off` -> None.
    Raises Invalid otherwise."""
    if text.strip().lower() == "off":
        return None
    match = _WEEKLY.match(text)
    day = WEEKDAYS.get(match.group(1).lower()) if match else None
    if match is None or day is None:
        raise Invalid("weekly")
    hour, minute = int(match.group(2)), int(match.group(3) or 0)
    if hour > 23 or minute > 59:
        raise Invalid("weekly")
    return day, hour, minute


def weekly_field(default: str) -> Any:
    """A dataclass field holding a weekly time (`lundi 08:00`) or `off`."""
    return field(default=default, metadata={"weekly": True})


def prefixes_field() -> Any:
    """A dataclass field holding command prefixes: 1 to 3 symbols each, no letters or digits."""
    return field(default=(), metadata={"prefixes": True})


def _check_field(meta: Mapping[str, Any], value: Any) -> None:
    low, high = meta.get("low"), meta.get("high")
    if (low is not None and value < low) or (high is not None and value > high):
        if isinstance(value, Duration):
            low, high = format_duration(low or 0), format_duration(high) if high else "∞"
        raise Invalid("range", low=low, high=high)
    if meta.get("prefixes") and any(
            not 1 <= len(p) <= 3 or any(c.isalnum() or c.isspace() for c in p) for p in value):
        raise Invalid("prefix")
    if meta.get("weekly"):
        parse_weekly(value)
    if meta.get("timezone"):
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
            raise Invalid("timezone", value=value) from None


@dataclass(frozen=True, slots=True)
class MatrixConfig:
    homeserver: str = "http://127.0.0.1:8008"
    user_id: str = "@casebot:localhost"
    device_name: str = "casebot"
    allowed_inviters: tuple[str, ...] = ()
    undecryptable_grace: Duration = Duration(60)
    max_catch_up: Duration = Duration(3600)
    sync_timeout: Duration = Duration(30)


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


@dataclass(frozen=True, slots=True)
class RateLimitConfig:
    commands: int = 20
    per: Duration = Duration(60)


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    listen: str = ""
    """host:port of the Prometheus /metrics and /healthz listener (empty: off); e.g.
    `127.0.0.1:9464`."""


@dataclass(frozen=True, slots=True)
class Config:
    matrix: MatrixConfig = field(default_factory=MatrixConfig)
    data_dir: Path = Path("data")
    command_prefix: str = "!"
    language: Literal["fr", "en"] = "fr"
    prefix_aliases: tuple[str, ...] = prefixes_field()
    """Other prefixes that also start commands (`command_prefix` stays the one shown)."""
    timezone: str = timezone_field("Europe/Paris")
    admin_power_level: int = bounded(50, 0, 100)
    """Power level needed for room administration commands (or being listed in `admins`)."""
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    rate_limit: RateLimitConfig = field(default_factory=RateLimitConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    admins: tuple[str, ...] = ()
    plugins: tuple[str, ...] | None = None
    sections: Mapping[str, Any] = field(default_factory=dict)
    """Raw plugin sections, validated by each plugin against its own dataclass."""


@dataclass(frozen=True, slots=True)
class Secrets:
    password: str | None = None
    access_token: str | None = None
    pickle_key: str | None = None
    backup_passphrase: str | None = None
    """Encrypts `casebot backup` archives (asked for when unset)."""

    def masked(self) -> dict[str, str]:
        return {
            name: ("***" if value else "(unset)")
            for name, value in (
                ("CASEBOT_PASSWORD", self.password),
                ("CASEBOT_ACCESS_TOKEN", self.access_token),
                ("CASEBOT_PICKLE_KEY", self.pickle_key),
                ("CASEBOT_BACKUP_PASSPHRASE", self.backup_passphrase),
            )
        }


def convert(tp: Any, value: Any) -> Any:
    """`value` (from YAML) as type `tp`; raises Invalid when it does not fit."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return convert(inner[0], value)
    if origin is Literal:
        if value not in args:
            raise Invalid("choice", choices=", ".join(map(str, args)))
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise Invalid("list")
        return tuple(convert(args[0], v) for v in value)
    if origin in (dict, Mapping) or tp is Mapping:
        if not isinstance(value, dict):
            raise Invalid("mapping")
        return dict(value)
    if tp is Duration:
        return parse_duration(value)
    if tp is Path:
        if not isinstance(value, str | Path):
            raise Invalid("path")
        return Path(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise Invalid("bool")
        return value
    if tp in (int, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Invalid("number")
        if tp is int and not float(value).is_integer():
            raise Invalid("whole")
        return tp(value)
    if tp is str:
        if not isinstance(value, str):
            raise Invalid("text")
        return value
    return value


def build(cls: type[Any], data: Any, path: str, problems: list[str]) -> Any:
    """Build dataclass `cls` from a mapping, appending `path: reason` lines to `problems`."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problems.append(f"{path or '(top)'}: expected a mapping")
        return cls()
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    where = f"{path}." if path else ""
    for key in data:
        if key not in fields:
            problems.append(f"{where}{key}: unknown key")
    values = {}
    for name, info in fields.items():
        if name not in data:
            continue
        tp = hints[name]
        if dataclasses.is_dataclass(tp):
            values[name] = build(tp, data[name], f"{where}{name}", problems)
            continue
        try:
            values[name] = convert(tp, data[name])
            _check_field(info.metadata, values[name])
        except Invalid as exc:
            values.pop(name, None)
            problems.append(f"{where}{name}: {exc}")
    return cls(**values)


@functools.lru_cache(maxsize=4096)
def parse_setting(cls: type[Any], name: str, raw: str) -> Any:
    """Convert a room setting typed as text to the type of field `name` of dataclass `cls`.

    Lists are written as words separated by spaces or commas. Raises Invalid when the text
    does not fit the field (type, choices, range). Cached: rooms' values are read per event.
    """
    hints = typing.get_type_hints(cls)
    tp = hints[name]
    origin = typing.get_origin(tp)
    value: Any
    if tp in (str, Duration) or origin is Literal:
        value = raw.strip()
    elif origin is tuple:
        value = [w for w in re.split(r"[\s,]+", raw.strip()) if w]
    else:
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
    converted = convert(tp, value)
    _check_field(next(f for f in dataclasses.fields(cls) if f.name == name).metadata,
                 converted)
    return converted


def _apply_env(data: dict[str, Any], environ: Mapping[str, str]) -> None:
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        keys = [k.lower() for k in name[len(ENV_PREFIX):].split("__") if k]
        target = data
        for key in keys[:-1]:
            target = target.setdefault(key, {})
            if not isinstance(target, dict):
                break
        else:
            target[keys[-1]] = yaml.safe_load(raw) if raw else raw


def load(path: Path | None, environ: Mapping[str, str] | None = None,
         plugin_sections: frozenset[str] = frozenset()) -> tuple[Config, Secrets]:
    """Read the YAML file (if any), apply `CASEBOT__A__B` overrides and read the secrets.

    A `.env` file beside the configuration is read first; the real environment wins over it.
    """
    env: dict[str, str] = {}
    if path is not None:
        dotenv = path.parent / ".env"
        if dotenv.is_file():
            env.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
    env.update(os.environ if environ is None else environ)
    problems: list[str] = []
    data: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError([f"{path}: cannot read ({exc.strerror})"]) from exc
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark else ""
            raise ConfigError([f"{path}:{where} not valid YAML"]) from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError([f"{path}: the top level must be a mapping"])
        data = loaded or {}
    _apply_env(data, env)
    for secret in ("password", "access_token", "pickle_key", "backup_passphrase"):
        for key in (secret, f"matrix.{secret}"):
            parent, _, leaf = key.rpartition(".")
            holder = data.get(parent) if parent else data
            if isinstance(holder, dict) and leaf in holder:
                problems.append(f"{key}: secrets are not read from YAML; set "
                                f"CASEBOT_{secret.upper()} in the environment or .env")
                del holder[leaf]
    sections = {k: data.pop(k) for k in list(data) if k in plugin_sections}
    config = build(Config, data, "", problems)
    config = dataclasses.replace(config, sections=sections)
    if config.command_prefix.strip() == "" or " " in config.command_prefix:
        problems.append("command_prefix: must be non-empty and without spaces")
    if not config.matrix.homeserver.startswith(("http://", "https://")):
        problems.append("matrix.homeserver: must start with http:// or https://")
    if not re.fullmatch(r"@[^:\s]+:\S+", config.matrix.user_id):
        problems.append("matrix.user_id: must look like @name:server")
    if config.metrics.listen and not re.fullmatch(r"(\[[0-9a-fA-F:.]+\]|[\w.-]+):[0-9]{1,5}",
                                                  config.metrics.listen):
        problems.append("metrics.listen: expected host:port, like 127.0.0.1:9464")
    if config.metrics.listen and config.matrix.sync_timeout > 90:
        # /healthz wants a completed sync every 2 min; a quiet room holds each one this long.
        problems.append("matrix.sync_timeout: at most 90 s when metrics.listen is set "
                        "(/healthz would report a quiet bot as stalled)")
    if problems:
        raise ConfigError(problems)
    if path is not None and not config.data_dir.is_absolute():
        config = dataclasses.replace(config, data_dir=path.parent / config.data_dir)
    secrets = Secrets(
        password=env.get("CASEBOT_PASSWORD") or None,
        access_token=env.get("CASEBOT_ACCESS_TOKEN") or None,
        pickle_key=env.get("CASEBOT_PICKLE_KEY") or None,
        backup_passphrase=env.get("CASEBOT_BACKUP_PASSPHRASE") or None,
    )
    return config, secrets


def as_dict(obj: Any) -> Any:
    """A dataclass tree as plain YAML-friendly values (durations written back as `30m`)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: as_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Duration):
        return format_duration(obj)
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, tuple | list):
        return [as_dict(v) for v in obj]
    if isinstance(obj, Mapping):
        return {k: as_dict(v) for k, v in obj.items()}
    return obj
