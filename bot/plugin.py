"""What a plugin is made of: declarations (commands, hooks, timers), made by the plugin or by
the handler objects it lists as its `parts`, and the API it may use.

A plugin never sees nio. It gets events of `bot.events`, replies through `Context`, keeps its
own tables (migrations), config section (a dataclass) and strings (French and English).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from bot import content
from bot.content import Say
from bot.events import (
    Attachment,
    Event,
    Gate,
    Message,
    PluginEvent,
    Query,
    Reaction,
    RoomInfo,
)
from bot.i18n import Catalog, Strings
from bot.lane import Lane
from bot.storage import Database, Step

if TYPE_CHECKING:
    from bot.config import Config

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
P = TypeVar("P", bound="Plugin")
R = TypeVar("R")
Check = Callable[["Context", dict[str, Any]], Awaitable[None]]
"""A command check: given the context and the parsed arguments, raises `Refusal` to refuse."""


class Refusal(Exception):
    """Raised by a hook or a check to stop the command: the message (already in the room's
    language) is the answer the member gets."""

    def __init__(self, message: Say) -> None:
        super().__init__("refused")
        self.message = message


class RoomValues(Protocol):
    """The room settings a context and a plugin read (`bot.settings.Settings`): each value
    is kept in memory until the room changes a setting."""

    def value(self, room_id: str, key: str) -> Any: ...
    def lang(self, room_id: str) -> str: ...
    def configs(self, plugin: Plugin) -> Mapping[str, Any]: ...


class Hooks(Protocol):
    """The three verbs between plugins (`bot.dispatch.Dispatcher`; see `Context.tell`)."""

    async def tell(self, ctx: Context, event: PluginEvent) -> None: ...
    async def ask(self, ctx: Context, query: Query[R]) -> list[R]: ...
    async def gate(self, ctx: Context, event: Gate) -> None: ...
    async def settle(self, ctx: Context) -> None: ...


class BotAPI(Protocol):
    """The core services a plugin may use (implemented by `bot.app.App`)."""

    db: Database
    config: Config
    user_id: str
    catalog: Catalog
    settings: RoomValues
    hooks: Hooks
    lane: Lane
    """Background work about an event, under the guard (`bot.lane`)."""

    def now(self) -> float: ...
    def room(self, room_id: str) -> RoomInfo: ...
    def room_ids(self) -> tuple[str, ...]: ...
    async def invite(self, room_id: str, user_id: str) -> bool: ...
    def timezone(self, room_id: str) -> str: ...
    def admin_level(self, room_id: str) -> int: ...
    def is_bot_admin(self, user_id: str) -> bool: ...
    async def send(self, room_id: str, body: dict[str, Any], txn_id: str,
                   event_type: str = "m.room.message") -> str: ...
    async def redact(self, room_id: str, event_id: str, reason: str, txn_id: str) -> bool: ...
    async def get_state(self, room_id: str, event_type: str,
                        state_key: str = "") -> dict[str, Any] | None: ...
    async def put_state(self, room_id: str, event_type: str, body: dict[str, Any],
                        state_key: str = "") -> bool: ...
    async def download(self, attachment: Attachment, limit: int = ...) -> bytes: ...
    async def upload(self, data: bytes, mimetype: str, filename: str) -> dict[str, Any]: ...
    async def direct_room(self, user_id: str) -> str: ...
    async def event_sender(self, room_id: str, event_id: str) -> str | None: ...
    async def message_text(self, room_id: str, event_id: str) -> str | None: ...
    async def resolve_alias(self, alias: str) -> str | None: ...
    async def schedule(self, component: str, key: str, due: float,
                       payload: Mapping[str, Any] | None = None) -> None: ...
    async def cancel(self, component: str, *keys: str) -> None: ...
    def count(self, component: str, name: str, amount: int = 1) -> None: ...


class Clock(Protocol):
    """The narrow service of a handler that only needs the time: now, and a room's time
    zone (the App is one)."""

    def now(self) -> float: ...
    def timezone(self, room_id: str) -> str: ...


class Timers(Clock, Protocol):
    """The narrow service of a handler that arms persistent timers (`@timer` fires them)."""

    async def schedule(self, component: str, key: str, due: float,
                       payload: Mapping[str, Any] | None = None) -> None: ...
    async def cancel(self, component: str, *keys: str) -> None: ...


class Rooms(Protocol):
    """The narrow service of a handler that reads the rooms the bot is in (no request)."""

    user_id: str

    def room(self, room_id: str) -> RoomInfo: ...
    def room_ids(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class Fired:
    """A persistent timer that came due."""

    component: str
    key: str
    due: float
    payload: Mapping[str, Any]

    @property
    def txn_key(self) -> str:
        return f"timer:{self.component}:{self.key}:{self.due}"


class Context:
    """Everything a handler needs to answer one event, in the room's language.

    Sends get transaction ids derived from the triggering event, so a replay after a crash
    sends nothing twice (the homeserver answers the same transaction id with the same event).
    The room's language is read once, and `t` bound to it.
    """

    def __init__(self, bot: BotAPI, room_id: str, source: Event | Fired,
                 thread_root: str | None = None, latest: str | None = None) -> None:
        self.bot = bot
        self.room_id = room_id
        self.source = source
        self.thread_root = thread_root
        self.latest = latest
        self.prefix = bot.config.command_prefix
        """The prefix commands are shown with here."""
        self._counter = itertools.count(1)
        self._after: dict[Any, Callable[[], Awaitable[None]]] = {}
        self.plugin: Plugin | None = None
        """The plugin whose command is running (set by the App before its arguments are
        converted): what a converter or a check declared with the command reaches."""
        hooks = bot.hooks
        self.tell: Callable[[PluginEvent], Awaitable[None]] = functools.partial(hooks.tell,
                                                                                self)
        """`tell(event)`: tell the plugins subscribed to `event`'s type (in plugin order). A
        failing hook is reported (a `Refusal` too: only gates refuse) and the others run."""
        self.ask = functools.partial(hooks.ask, self)
        """`ask(query)`: the subscribed plugins' answers, each of the type the query
        declares (`Query.answers`), Nones left out; a failing hook is reported, gives none;
        a hook's `Refusal` goes up to the asker (cases refusing to open a case it is asked
        to, say)."""
        self.gate: Callable[[Gate], Awaitable[None]] = functools.partial(hooks.gate, self)
        """`gate(event)`: let the subscribed plugins stop what is about to happen: a hook's
        `Refusal` goes up to the command (answered in the room's language); any other
        failure goes up too (fail closed: answered with a reference number)."""
        self.reread_language()

    def reread_language(self) -> None:
        """Read the room's language (again, after `!config set language`)."""
        self.lang = self.bot.settings.lang(self.room_id)
        self.t: Callable[..., str] = functools.partial(self.bot.catalog.t, self.lang)
        """`t(key, **values)`: the string `key` in the room's language."""

    def in_thread_of(self, root: str) -> Context:
        """The same context answering in the thread on `root` (a case's: its root).

        It shares the transaction counter, so its sends never reuse one of ours.
        """
        if root == self.thread_root:
            return self
        return self._twin(self.room_id, root)

    def _twin(self, room_id: str, thread_root: str | None) -> Context:
        """A context for the same source elsewhere, sharing our transaction counter and the
        work left for after the handlers (`after`)."""
        other = Context(self.bot, room_id, self.source, thread_root=thread_root)
        other._counter = self._counter
        other._after = self._after
        other.plugin = self.plugin
        if room_id == self.room_id and "room" in self.__dict__:
            other.room = self.room  # the same snapshot (`room` is kept once read)
        return other

    def in_room(self, room_id: str, thread_root: str | None = None) -> Context:
        """The same source answering in another room (a moderators' room, say), in the
        thread on `thread_root` if given; it shares the transaction counter too."""
        if room_id == self.room_id and thread_root == self.thread_root:
            return self
        return self._twin(room_id, thread_root)

    @classmethod
    def for_event(cls, bot: BotAPI, event: Event) -> Context:
        """Answers go in the event's thread, or as replies to it when it is in the main
        timeline: threads are for cases (a command's answer in a thread of its own would
        fill Element's threads list, and hide the answer behind a click). A reaction is
        answered as a reply to the message it was put on: no client shows a reply to a
        reaction."""
        replied = event.relates_to if isinstance(event, Reaction) else event.event_id
        return cls(bot, event.room_id, event, thread_root=getattr(event, "thread_root", None),
                   latest=replied)

    @property
    def event(self) -> Event:
        assert isinstance(self.source, Event)
        return self.source

    @functools.cached_property
    def room(self) -> RoomInfo:
        """The room as the client knew it when first asked (one snapshot per context)."""
        return self.bot.room(self.room_id)

    @functools.cached_property
    def prefixes(self) -> tuple[str, ...]:
        """Every prefix that starts a command here (the shown one first)."""
        return (self.bot.config.command_prefix,
                *self.bot.settings.value(self.room_id, "prefix_aliases"))

    def next_txn(self) -> str:
        """The next transaction id, derived from the source: a replay reuses it."""
        base = self.source.event_id if isinstance(self.source, Event) else self.source.txn_key
        return stable_id(f"{base}#{next(self._counter)}")

    async def send(self, message: Say | dict[str, Any], *,
                   thread_root: str | None = None, in_thread: bool = True,
                   event_type: str = "m.room.message") -> str:
        """Send a notice, in the context's thread (or the given one); with no thread, as a
        reply to the event answered; `in_thread=False`: in the main timeline, on its own."""
        body = message if isinstance(message, dict) else content.render(message)
        root = thread_root or self.thread_root
        if in_thread and "m.relates_to" not in body:
            if root:
                latest = self.latest if root == self.thread_root else None
                body = content.in_thread(body, root, latest)
            elif self.latest:
                body = content.reply_to(body, self.latest)
        return await self.bot.send(self.room_id, body, self.next_txn(), event_type)

    async def reply(self, message: Say) -> str:
        return await self.send(message)

    async def send_file(self, data: bytes, filename: str, mimetype: str, *,
                        image_size: tuple[int, int] | None = None,
                        in_thread: bool = True) -> str:
        """Upload `data` encrypted and send it here (in the thread unless `in_thread=False`):
        an image when its `(width, height)` is given, a file otherwise."""
        file = await self.bot.upload(data, mimetype, filename)
        body = content.attachment(file, filename, mimetype, len(data), image_size)
        return await self.send(body, in_thread=in_thread)

    async def direct(self, user_id: str | None = None) -> Context:
        """A context answering in the encrypted direct room with `user_id` (the sender by
        default), opened or reused; it shares our transaction counter."""
        return self._twin(await self.bot.direct_room(user_id or self.event.sender), None)

    def after(self, key: Any, work: Callable[[], Awaitable[None]]) -> None:
        """Run `work` once the event's handlers are done (once per `key`, the last given:
        a card marked stale by three handlers is redrawn once), under the same guard."""
        self._after[key] = work

    async def edit(self, event_id: str, message: Say) -> str:
        return await self.send(content.edit_of(event_id, content.render(message)))

    async def react(self, event_id: str, key: str) -> str:
        return await self.send(content.reaction(event_id, key), event_type="m.reaction")

    async def redact(self, event_id: str, reason: str) -> bool:
        return await self.bot.redact(self.room_id, event_id, reason, self.next_txn())

    def may(self, level: int, user_id: str | None = None, room_id: str | None = None) -> bool:
        """Whether the sender (or `user_id`) has power `level` here (or in `room_id`) or is
        a bot admin."""
        user = user_id or self.event.sender
        room = self.room if room_id is None else self.bot.room(room_id)
        return room.power_level(user) >= level or self.bot.is_bot_admin(user)

    def pill(self, user_id: str | None = None, notify: bool = False) -> content.Pill:
        """A user (the sender by default) as a pill with their name here; `notify` pings."""
        user = user_id or self.event.sender
        return content.Pill(user, self.room.display_name(user), notify)

    def is_admin(self, user_id: str | None = None) -> bool:
        """Room administration: power ≥ the room's `admin_power_level`, or a bot admin."""
        return self.may(self.bot.admin_level(self.room_id), user_id)

    def is_moderator(self, user_id: str, room_id: str | None = None) -> bool:
        """A moderator of this room (or of `room_id`): a room admin there (`is_admin`'s
        rule), never the bot itself (its power decides nothing it is asked)."""
        room = room_id or self.room_id
        return user_id != self.bot.user_id and self.may(self.bot.admin_level(room), user_id,
                                                        room)

    def moderators(self) -> list[str]:
        """This room's moderators among its members (bot admins are not members by right),
        sorted: who is told about a knock, a verification request or a report."""
        level = self.bot.admin_level(self.room_id)
        room = self.room
        return sorted(u for u in room.members
                      if u != self.bot.user_id and room.power_level(u) >= level)

    def check_admin(self) -> None:
        """Refuse (politely) anyone but a room admin."""
        if not self.is_admin():
            raise Refusal(self.t("admin.refused", level=self.bot.admin_level(self.room_id)))

    async def announce(self, message: Say, action: str) -> str:
        """Tell the whole room about an administration change (the visible audit trail) and
        log who did what (the action's name only, never a value)."""
        log.info("room admin: %s in %s by %s", action, self.room_id, self.event.sender)
        return await self.send(message, in_thread=False)



@dataclass(frozen=True, slots=True)
class Arg:
    """One word of a command; subclasses (`bot.router`'s, a plugin's) convert and check it.
    `convert` gets the command's context, so a converter can read the room (its specialties,
    its members) and answer in its language."""

    name: str
    optional: bool = False
    default: Any = None

    def convert(self, raw: str, ctx: Context) -> Any:
        return raw

    def placeholder(self, label: str) -> str:
        return f"[{label}]" if self.optional else f"<{label}>"


@dataclass(frozen=True, slots=True)
class _CommandDecl:
    name: str
    aliases: tuple[str, ...]
    args: tuple[Arg, ...]
    summary: str
    admin: bool
    checks: tuple[Check, ...]
    section: str | None = None
    order: int | None = None


@dataclass(frozen=True, slots=True)
class _HookDecl:
    kinds: tuple[type[Event] | type[PluginEvent], ...]


@dataclass(frozen=True, slots=True)
class _TimerDecl:
    name: str


def command(name: str, *aliases: str, args: Sequence[Arg] = (), summary: str = "",
            admin: bool = False, checks: Sequence[Check] = (),
            section: str | None = None, order: int | None = None) -> Callable[[F], F]:
    """Declare a command. The handler is `async def h(self, ctx, **args)`, a method of the
    plugin or of one of its `parts`.

    `summary` is the i18n key of the help line; usage is generated from `args`. `admin`
    lets only room admins run it (checked first); `checks` run after the arguments are
    parsed, before the handler, and refuse by raising `Refusal`. `section`: where `!help`
    lists it, when not where its plugin's commands go (`Plugin.help_section`); `order`: its
    place among the few everyday commands `!help` describes, in the order a physician uses
    them (the others are only named there).
    """
    def mark(func: F) -> F:
        func.__casebot_command__ = _CommandDecl(  # type: ignore[attr-defined]
            name, aliases, tuple(args), summary, admin, tuple(checks), section, order)
        return func
    return mark


def on(*kinds: type[Event] | type[PluginEvent]) -> Callable[[F], F]:
    """Declare a hook: `async def h(self, ctx, event)` for the given Matrix event types or
    plugin events (told, asked or gated: see `Context.tell`; a query's hook returns its
    answer)."""
    def mark(func: F) -> F:
        func.__casebot_hook__ = _HookDecl(kinds)  # type: ignore[attr-defined]
        return func
    return mark


def timer(name: str) -> Callable[[F], F]:
    """Declare the handler of this plugin's persistent timers whose key starts with `name:`:
    `async def h(self, ctx, fired)`, a method of the plugin or of one of its `parts`.

    Arm one with `bot.schedule(plugin, f"{name}:…", due, payload)`; the payload's `room_id`
    (and `thread_root`) say where `ctx` answers (None for a timer with no room). The App runs
    the handler under the events' guard: a `Refusal` is answered, a failure is told in the
    room with a reference (the first time) and tried again later with back-off, with the same
    transaction ids; an outage (`Unavailable`) is retried once the service is back, and a
    timer whose room the bot left is dropped.
    """
    def mark(func: F) -> F:
        func.__casebot_timer__ = _TimerDecl(name)  # type: ignore[attr-defined]
        return func
    return mark


_MARKS = ("__casebot_command__", "__casebot_hook__", "__casebot_timer__")


@dataclass
class Declarations:
    commands: list[tuple[_CommandDecl, Callable[..., Awaitable[Any]]]] = field(default_factory=list)
    hooks: list[tuple[tuple[type[Event] | type[PluginEvent], ...],
                      Callable[..., Awaitable[Any]]]] = field(default_factory=list)
    timers: dict[str, Callable[..., Awaitable[Any]]] = field(default_factory=dict)


def _declared(owner: object) -> list[tuple[str, Callable[..., Awaitable[Any]]]]:
    """`owner`'s methods marked by `command`, `on` or `timer`: (name, bound method). Read on
    the class, so no property of the instance runs."""
    cls = type(owner)
    return [(attr, getattr(owner, attr)) for attr in dir(cls)
            if any(hasattr(getattr(cls, attr, None), mark) for mark in _MARKS)]


class Plugin:
    """Base class of a feature. Subclasses set the class attributes they need."""

    name: ClassVar[str] = ""
    Config: ClassVar[type | None] = None
    """A frozen dataclass for this plugin's config section (defaults for every field)."""
    strings: ClassVar[Strings] = {}
    migrations: ClassVar[Sequence[Step]] = ()
    room_settings: ClassVar[tuple[str, ...]] = ()
    """Fields of `Config` a room admin may change with `!config set <plugin>.<field>`."""
    help_section: ClassVar[str] = "everyday"
    """Where `!help` lists this plugin's commands: `everyday`, `volunteers`, `moderation` or
    `admin`."""
    requires: ClassVar[tuple[type[Plugin], ...]] = ()
    """Plugins this one uses directly (imported): loaded before it, whatever the config
    lists, and reached with `self.required(TheClass)`."""

    def __init__(self, bot: BotAPI, config: Any) -> None:
        self.bot = bot
        self.config = config
        self._required: dict[type[Plugin], Plugin] = {}
        self.config_for: Callable[[str], Any] = bot.settings.configs(self).__getitem__
        """`config_for(room_id)`: this plugin's config (its `Config` dataclass) with the
        room's own values applied."""
        self.parts: tuple[object, ...] = ()
        """The handler objects this plugin is made of (set in `__init__`): their `@command`,
        `@on` and `@timer` methods are declared as the plugin's own."""

    def bind(self, loaded: Sequence[Plugin]) -> None:
        """Called by the App once every plugin exists: keep the ones this one requires."""
        for cls in self.requires:
            self._required[cls] = next(p for p in loaded if isinstance(p, cls))

    def required(self, cls: type[P]) -> P:
        """The loaded instance of a plugin class listed in `requires`."""
        found = self._required[cls]
        assert isinstance(found, cls)
        return found

    @classmethod
    def check(cls, config: Any) -> list[str]:
        """Problems (`path: reason`) in a built config section that its types cannot show."""
        return []

    async def start(self) -> None:
        """Called once tables are migrated, before events flow."""

    async def stop(self) -> None:
        """Called on shutdown, before the database closes."""

    def declarations(self) -> Declarations:
        """What this plugin and its `parts` declare, by method name (the order `!help` lists
        commands in). A command name, alias or timer declared twice is refused."""
        found = Declarations()
        where: dict[str, str] = {}
        declared = sorted(((type(owner).__name__, attr, func)
                           for owner in (self, *self.parts) for attr, func in _declared(owner)),
                          key=lambda item: item[1])
        for owner, attr, func in declared:
            place = f"{owner}.{attr}"
            if decl := getattr(func, "__casebot_command__", None):
                for name in (decl.name, *decl.aliases):
                    self._claim(where, f"command {name!r}", place)
                found.commands.append((decl, func))
            if decl := getattr(func, "__casebot_hook__", None):
                found.hooks.append((decl.kinds, func))
            if decl := getattr(func, "__casebot_timer__", None):
                self._claim(where, f"timer {decl.name!r}", place)
                found.timers[decl.name] = func
        return found

    def _claim(self, where: dict[str, str], what: str, place: str) -> None:
        if what in where:
            raise RuntimeError(f"plugin {self.name}: {what} declared twice, by {where[what]} "
                               f"and by {place}")
        where[what] = place


def stable_id(*parts: str) -> str:
    """A short deterministic id (used for transaction ids and error references)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


__all__ = ["Arg", "BotAPI", "Check", "Clock", "Context", "Declarations", "Fired", "Message",
           "Plugin", "PluginEvent", "Refusal", "command", "on", "timer"]
