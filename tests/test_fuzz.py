"""Fuzz suites (hypothesis): hostile event sources and hostile command lines.

1. Event sources of every type the bot reads, with wrong JSON types, missing fields, huge
   strings and odd Unicode, go through `bot.matrix.convert.convert(source, room_id,
   decrypted)`: nothing escapes, and the result is None or a well-typed bot event. Room state
   and redactions come only from what the homeserver vouches for (GUIDE §7): never from a
   decrypted payload, state only from events carrying a `state_key`.
2. Command lines (`!` + every command name and alias of the default plugins, then random
   arguments: Unicode digits, huge numbers, quotes, pills, 5,000-character words) go through
   the Harness: nothing escapes, no handler fails (no "internal error" reply, no error
   logged), and every reply fits in a Matrix event (under 65,536 bytes of JSON).
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import functools
import json
import logging
import types
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import events as ev
from bot.config import Config, RateLimitConfig
from bot.i18n import CORE_STRINGS
from bot.loading import load_plugin_classes
from bot.testing import Harness

ROOM = "!room:test"
FUZZ = settings(deadline=None, suppress_health_check=list(HealthCheck))


# ---- JSON values of any type ------------------------------------------------------------
ODD_TEXT = st.sampled_from([
    "", " ", "\x00", "\u202e", "\u200b", "\ufeff", "\ud800", "\udfff", "é", "e\u0301",
    "𝟗", "٣", "²", "Ⅻ", "\n\n", "\t", "null", "true", "0", "-1", "1e309", "NaN",
    "$event:test", "@user:test", "!room:test", "mxc://test/abc", "mxc://", "m.thread",
    "m.replace", "m.annotation", "{who}", "{0}", "%s", "<b>x</b>", "\\", '"',
    "\U0001f600" * 3, "ﷺ", "A" * 70_000, "é" * 40_000, "\u0301" * 10_000,
])
TEXT = st.one_of(st.text(max_size=40), ODD_TEXT)
NUMBER = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**53 - 1, 2**53, 2**63 - 1, 2**63, -(2**63), 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
)
SCALAR = st.one_of(st.none(), st.booleans(), NUMBER, TEXT)
JSON = st.recursive(
    SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=12,
)


def obj(required: dict[str, st.SearchStrategy[Any]] | None = None,
        **optional: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A well-typed JSON object: `required` fields always there, the others now and then.
    Wrong types and missing fields come from `mutated`, applied to the whole event."""
    return st.fixed_dictionaries(required or {}, optional=optional)


EVENT_ID = st.one_of(st.sampled_from(["$a:test", "$b:test", "$root:test"]),
                     st.text("abcXYZ019_-", min_size=1, max_size=20).map(lambda t: f"${t}"))
USER_ID = st.sampled_from(["@alice:test", "@bob:test", "@casebot:test", "@m:test"])
BODY = st.one_of(st.text(max_size=40), ODD_TEXT)
MSGTYPE = st.one_of(st.just("m.text"), st.sampled_from(["m.image", "m.file"]), st.sampled_from(
    ["m.text", "m.notice", "m.emote", "m.image", "m.file", "m.video", "m.audio", "m.location",
     "m.key.verification.request", "m.bad.encrypted", "org.example.custom"]))
MENTIONS = obj(user_ids=st.lists(USER_ID, max_size=3), room=st.booleans())
IN_REPLY_TO = obj({"event_id": EVENT_ID})
RELATION = st.one_of(
    obj({"rel_type": st.just("m.thread"), "event_id": EVENT_ID},
        is_falling_back=st.booleans(), **{"m.in_reply_to": IN_REPLY_TO}),
    obj({"m.in_reply_to": IN_REPLY_TO}),
    obj({"rel_type": st.just("m.replace"), "event_id": EVENT_ID}),
    obj({"rel_type": st.just("m.annotation"), "event_id": EVENT_ID, "key": BODY}),
    obj({"rel_type": TEXT, "event_id": EVENT_ID}, key=TEXT),
)
INFO = obj(mimetype=st.sampled_from(["image/jpeg", "image/png", "video/mp4", "", "x/y"]),
           size=st.integers(0, 2**40), w=st.integers(0, 10**4), h=st.integers(0, 10**4),
           thumbnail_info=obj(mimetype=TEXT, size=st.integers(0, 10**6)))
FILE = obj({"url": st.just("mxc://test/abc"), "iv": TEXT,
            "key": obj({"k": TEXT}, alg=TEXT, kty=TEXT, ext=st.booleans(),
                       key_ops=st.lists(TEXT, max_size=2)),
            "hashes": obj({"sha256": TEXT})}, v=st.sampled_from(["v2", "v1"]))
NEW_CONTENT = obj({"msgtype": MSGTYPE, "body": BODY}, format=TEXT, formatted_body=BODY,
                  **{"m.mentions": MENTIONS})
MESSAGE = obj({"msgtype": MSGTYPE, "body": BODY},
              format=st.just("org.matrix.custom.html"), formatted_body=BODY,
              url=st.sampled_from(["mxc://test/abc", ""]), info=INFO, file=FILE,
              filename=TEXT, **{"m.mentions": MENTIONS, "m.relates_to": RELATION,
                                "m.new_content": NEW_CONTENT})
LEVEL = st.one_of(st.integers(-100, 100), st.sampled_from([2**53 - 1, -(2**53) + 1]))
POWER_MAP = st.dictionaries(st.one_of(USER_ID, TEXT), LEVEL, max_size=4)
CONTENTS: dict[str, st.SearchStrategy[Any]] = {
    "m.room.message": MESSAGE,
    "m.sticker": MESSAGE,
    "m.reaction": obj({"m.relates_to": RELATION}),
    "m.room.redaction": obj(redacts=EVENT_ID, reason=TEXT),
    "m.room.member": obj({"membership": st.sampled_from(["join", "leave", "invite", "ban",
                                                          "knock", "JOIN"])},
                         displayname=TEXT, avatar_url=TEXT, is_direct=st.booleans()),
    "m.room.power_levels": obj(users=POWER_MAP, users_default=LEVEL, events=POWER_MAP,
                               events_default=LEVEL, state_default=LEVEL, redact=LEVEL,
                               ban=LEVEL, kick=LEVEL, invite=LEVEL,
                               notifications=obj(room=LEVEL)),
    "m.room.join_rules": obj({"join_rule": st.sampled_from(["public", "invite", "knock",
                                                            "restricted", "private"])},
                             allow=st.lists(obj(type=TEXT, room_id=TEXT), max_size=2)),
    "m.room.history_visibility": obj({"history_visibility": st.sampled_from(
        ["world_readable", "shared", "invited", "joined"])}),
    "m.room.encryption": obj({"algorithm": st.sampled_from(["m.megolm.v1.aes-sha2", ""])},
                             rotation_period_ms=st.integers(0, 10**9)),
    "m.room.pinned_events": obj({"pinned": st.lists(EVENT_ID, max_size=3)}),
    "m.room.create": obj(creator=USER_ID, room_version=st.sampled_from(
        ["1", "10", "11", "12", "org.x", "99", "١٢"]),
        additional_creators=st.lists(USER_ID, max_size=3),
        predecessor=obj(room_id=TEXT, event_id=EVENT_ID)),
    "m.room.name": obj({"name": TEXT}),
    "m.room.topic": obj({"topic": TEXT}),
    "m.room.canonical_alias": obj(alias=TEXT, alt_aliases=st.lists(TEXT, max_size=2)),
    "m.room.encrypted": obj({"algorithm": st.just("m.megolm.v1.aes-sha2"), "ciphertext": TEXT,
                             "sender_key": TEXT, "session_id": TEXT, "device_id": TEXT},
                            **{"m.relates_to": RELATION}),
    "org.example.unknown": obj(body=TEXT),
}
STATE_TYPES = frozenset({"m.room.member", "m.room.power_levels", "m.room.join_rules",
                         "m.room.history_visibility", "m.room.encryption",
                         "m.room.pinned_events", "m.room.create", "m.room.name",
                         "m.room.topic", "m.room.canonical_alias"})


@st.composite
def well_formed(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    """An event of type `kind` as a homeserver would send it (before any mutation)."""
    required: dict[str, st.SearchStrategy[Any]] = {
        "type": st.just(kind), "event_id": EVENT_ID, "sender": USER_ID,
        "origin_server_ts": st.integers(0, 2**45), "content": CONTENTS[kind]}
    optional: dict[str, st.SearchStrategy[Any]] = {
        "unsigned": obj(age=st.integers(0, 10**9), transaction_id=TEXT,
                        prev_content=CONTENTS[kind]),
        "room_id": st.just(ROOM)}
    if kind in STATE_TYPES:
        required["state_key"] = USER_ID if kind == "m.room.member" else st.just("")
        optional["prev_content"] = CONTENTS[kind]
    if kind == "m.room.redaction":
        optional["redacts"] = EVENT_ID
    return draw(st.fixed_dictionaries(required, optional=optional))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if prefix:
        yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[Any]) -> Any:
    """`base`'s value with a few fields, at any depth, deleted or replaced by any JSON (a
    wrong type, a huge string, odd Unicode, a number out of range), or added."""
    value = copy.deepcopy(draw(base))
    for _ in range(draw(st.integers(0, 3))):
        paths = list(_paths(value))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = value
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["delete", "replace", "replace", "add"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "replace":
            parent[path[-1]] = draw(JSON)
        elif isinstance(parent, dict):
            parent[draw(TEXT)] = draw(JSON)
    return value


@st.composite
def sources(draw: st.DrawFn) -> Any:
    """A raw event as a sync (or a decryption) could hand it over: mostly well formed, with
    a few fields wrong or missing; now and then not even an object."""
    if draw(st.integers(0, 19)) == 0:
        return draw(JSON)
    kind = draw(st.one_of(st.just("m.room.message"), st.just("m.room.message"),
                          st.just("m.reaction"), st.sampled_from(sorted(CONTENTS))))
    return draw(mutated(well_formed(kind)))


# ---- "a well-typed bot event" -----------------------------------------------------------
def _conforms(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if hint is Any or hint is object:
        return True
    if hint is type(None):
        return value is None
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, h) for h in typing.get_args(hint))
    if origin is tuple:
        args = typing.get_args(hint)
        return isinstance(value, tuple) and all(_conforms(v, args[0]) for v in value)
    if origin in (Mapping, dict) or hint is Mapping:
        if not isinstance(value, Mapping):
            return False
        args = typing.get_args(hint)
        return not args or all(_conforms(k, args[0]) for k in value)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


def assert_well_typed(event: Any, room_id: str) -> None:
    assert isinstance(event, ev.Event), type(event)
    assert type(event) in (ev.Message, ev.Edit, ev.Reaction, ev.Redaction, ev.MemberChange,
                           ev.StateChange, ev.Attachment, ev.Undecryptable), type(event)
    hints = typing.get_type_hints(type(event))
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        assert _conforms(value, hints[f.name]), (type(event).__name__, f.name, type(value))
    assert event.room_id == room_id
    assert 0 <= event.timestamp < 2**63, "a timestamp SQLite and the clock can hold"
    if isinstance(event, ev.Attachment):
        assert 0 <= event.size < 2**63


def _convert() -> Any:
    from bot.matrix.convert import convert

    return convert


class _Logged(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _texts(value: Any) -> list[str]:
    """The longer strings anywhere in a JSON value (what a log line must never repeat)."""
    if isinstance(value, str):
        return [value] if len(value) >= 12 and value.strip() else []
    if isinstance(value, Mapping):
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


@settings(FUZZ, max_examples=800)
@given(source=sources(), decrypted=st.booleans())
def test_convert_never_raises_and_returns_a_well_typed_event(source: Any,
                                                             decrypted: bool) -> None:
    logged = _Logged()
    logger = logging.getLogger("bot.matrix")
    logger.addHandler(logged)
    try:
        event = _convert()(source, ROOM, decrypted)
    finally:
        logger.removeHandler(logged)
    if not isinstance(source, Mapping):  # outside the signature: no event, nothing raised
        assert event is None
        return
    # `convert` has a last-resort guard; validating every field means it is never needed.
    assert not [m for m in logged.messages if "malformed" in m], logged.messages
    assert not [t for t in _texts(source.get("content")) for m in logged.messages if t in m], \
        "a log line repeats event content"
    if event is None:
        return
    assert_well_typed(event, ROOM)
    # Trust only what the homeserver vouches for (GUIDE §7).
    if isinstance(event, ev.MemberChange | ev.StateChange | ev.Redaction):
        assert not decrypted, f"{type(event).__name__} taken from a decrypted payload"
    if isinstance(event, ev.MemberChange | ev.StateChange):
        assert isinstance(source.get("state_key"), str), "state from an event without a state_key"


@settings(FUZZ, max_examples=150)
@given(kind=st.sampled_from(sorted(STATE_TYPES | {"m.room.redaction"})), data=st.data())
def test_decrypted_state_and_redactions_are_ignored(kind: str, data: st.DataObject) -> None:
    """A member can encrypt any `type`: a decrypted state or redaction event is a forgery."""
    source = {"type": kind, "event_id": "$forged:test", "sender": "@mallory:test",
              "origin_server_ts": 1_800_000_000_000, "state_key": "",
              "content": data.draw(mutated(CONTENTS[kind])), "redacts": "$victim:test"}
    if kind == "m.room.member":
        source["state_key"] = "@victim:test"
    event = _convert()(source, ROOM, True)
    assert event is None or isinstance(event, ev.Message | ev.Edit | ev.Reaction
                                       | ev.Attachment), event


# The fuzz above would pass if convert returned None for everything: well-formed events must
# still come through.
WELL_FORMED: list[tuple[dict[str, Any], bool, type[ev.Event], dict[str, Any]]] = [
    ({"type": "m.room.message", "content": {"msgtype": "m.text", "body": "!help",
                                            "m.mentions": {"user_ids": ["@bob:test"]}}},
     True, ev.Message, {"body": "!help", "mentions": ("@bob:test",)}),
    ({"type": "m.room.message", "content": {
        "msgtype": "m.text", "body": "ok", "m.relates_to": {
            "rel_type": "m.thread", "event_id": "$root:test", "is_falling_back": True,
            "m.in_reply_to": {"event_id": "$root:test"}}}},
     True, ev.Message, {"thread_root": "$root:test"}),
    ({"type": "m.room.message", "content": {
        "msgtype": "m.text", "body": "> quoted\n\nreply",
        "m.relates_to": {"m.in_reply_to": {"event_id": "$q:test"}}}},
     True, ev.Message, {"in_reply_to": "$q:test", "thread_root": None}),
    ({"type": "m.room.message", "content": {
        "msgtype": "m.text", "body": "* new", "m.new_content": {"msgtype": "m.text",
                                                                "body": "new"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": "$orig:test"}}},
     True, ev.Edit, {"original": "$orig:test", "body": "new"}),
    ({"type": "m.room.message", "content": {
        "msgtype": "m.image", "body": "photo.jpg", "info": {"mimetype": "image/jpeg",
                                                             "size": 1234},
        "file": {"url": "mxc://test/abc", "key": {"k": "x"}, "iv": "y",
                 "hashes": {"sha256": "z"}, "v": "v2"}}},
     True, ev.Attachment, {"mimetype": "image/jpeg", "size": 1234, "url": "mxc://test/abc"}),
    ({"type": "m.room.message", "content": {
        "msgtype": "m.file", "body": "a.pdf", "url": "mxc://test/pdf",
        "info": {"mimetype": "application/pdf", "size": 10}}},
     False, ev.Attachment, {"url": "mxc://test/pdf", "size": 10}),
    ({"type": "m.reaction", "content": {"m.relates_to": {
        "rel_type": "m.annotation", "event_id": "$case:test", "key": "✅"}}},
     True, ev.Reaction, {"relates_to": "$case:test", "key": "✅"}),
    ({"type": "m.room.redaction", "redacts": "$case:test", "content": {}},
     False, ev.Redaction, {"redacts": "$case:test"}),
    ({"type": "m.room.redaction", "content": {"redacts": "$case:test"}},
     False, ev.Redaction, {"redacts": "$case:test"}),
    ({"type": "m.room.member", "state_key": "@bob:test", "content": {"membership": "leave"},
      "unsigned": {"prev_content": {"membership": "join"}}},
     False, ev.MemberChange, {"user_id": "@bob:test", "membership": "leave"}),
    ({"type": "m.room.power_levels", "state_key": "", "content": {"users": {"@a:test": 100}}},
     False, ev.StateChange, {"event_type": "m.room.power_levels"}),
    ({"type": "m.room.join_rules", "state_key": "", "content": {"join_rule": "public"}},
     False, ev.StateChange, {"event_type": "m.room.join_rules"}),
]


@pytest.mark.parametrize(("content", "decrypted", "kind", "expected"), WELL_FORMED,
                         ids=[f"{w[0]['type']}-{w[2].__name__}-{i}"
                              for i, w in enumerate(WELL_FORMED)])
def test_well_formed_events_still_convert(content: dict[str, Any], decrypted: bool,
                                          kind: type[ev.Event],
                                          expected: dict[str, Any]) -> None:
    source = {"event_id": "$ev:test", "sender": "@alice:test",
              "origin_server_ts": 1_800_000_000_000, **content}
    event = _convert()(source, ROOM, decrypted)
    assert isinstance(event, kind), event
    assert_well_typed(event, ROOM)
    assert (event.event_id, event.sender, event.timestamp) == (
        "$ev:test", "@alice:test", 1_800_000_000_000)
    for name, value in expected.items():
        assert getattr(event, name) == value, name


# ---- command lines through the Harness --------------------------------------------------
POSTER, MOD, OTHER = "@alice:test", "@mod:test", "@carol:test"
INTERNAL = tuple(CORE_STRINGS["internal_error"][lang].split(",")[0] for lang in ("fr", "en"))
MAX_CONTENT = 48_000
"""A homeserver refuses an event over 65,536 bytes of JSON. In an encrypted room the reply's
content travels as base64 Megolm ciphertext (4/3 of its size, plus the padding, MAC and
signature) inside an event that also carries ids, hashes and signatures: the content itself
must stay under about 48,000 bytes to be sendable."""
LONG = 1_000
"""A reply may quote a word of the command, cut: never a word this long, whole."""


@functools.cache
def _command_names() -> list[str]:
    """Every command name and alias of the default plugins (loaded when first needed, so
    the event fuzz runs even when a plugin does not load)."""

    async def collect() -> list[str]:
        async with Harness(_plugins()) as h:
            return sorted({n for s in h.app.commands for n in (s.name, *s.aliases)})

    return asyncio.run(collect())


def _plugins() -> list[Any]:
    return [cls for cls, _ in load_plugin_classes(Config(data_dir=Path("/nonexistent")))]


NAMES = st.deferred(lambda: st.sampled_from(_command_names()))
EXTRA_NAMES = ["règles", "bénévole", "bénévoles", "spécialité", "spécialités", "résolu",
               "réglages", "specialty", "specialite", "config", "HELP", "Case", "CAS",
               "zzz", "x" * 5000]
WORD = st.one_of(
    st.sampled_from([
        # Unicode digits and numbers too big for SQLite, int() or a float
        "²", "³", "٣", "൬", "𝟗", "①", "1²", "-0", "+3", "0x10", "1_000", "1e3", "NaN", "inf",
        "#1", "#²", "9" * 25, str(2**63), str(-(2**63) - 1), "9" * 5000, "-" + "9" * 400,
        # durations, dates, clocks
        "30m", "4h", "14d", "14j", "0s", "-5m", "99999999999999999999d", "1e309h", "9999-12-31",
        "0000-00-00", "15/08", "31/02", "29/02/2100", "25:99", "23:00-07:00", "off", "on",
        "Europe/Paris", "../../etc/passwd", "UTC+25",
        # quotes, pills, mentions, HTML
        '"', '""', '"unterminated', '"Nom avec espace"', "'", "«", "»", "@alice:test",
        "@mod:test", "@", "@:", "https://matrix.to/#/@alice:test",
        '<a href="https://matrix.to/#/@mod:test">Mod</a>', "@room", "{who}", "{0}", "%s",
        # words the commands know
        "add", "remove", "rename", "keywords", "reset", "set", "unset", "pin", "mine", "stats",
        "language", "en", "fr", "prefix_aliases", "?", "//", "timezone", "admin_power_level",
        "cases.auto_close", "secrecy.mode", "redact", "warn", "volunteers.per_round",
        "cardio", "#dermato", "mg", "urgent", "#urgent", "dermatologie", "Dermatologie",
        # odd characters
        "\u202e", "\u200b", "\x00", "\ufeff", "e\u0301", "\U0001f600", "\n", "\t",
        "x" * 5000, "é" * 5000, "#" + "a" * 5000, "\ud800",
    ]),
    st.text(min_size=1, max_size=12),
    st.integers(-(2**70), 2**70).map(str),
)
LINE = st.builds(
    lambda name, words, sep: f"!{name}" + "".join(sep + w for w in words),
    st.one_of(NAMES, NAMES, st.sampled_from(EXTRA_NAMES)),
    st.lists(WORD, max_size=5),
    st.sampled_from([" ", " ", "  ", "\n", "\u00a0"]),
)
STEP = st.tuples(LINE, st.sampled_from([POSTER, MOD, OTHER]), st.booleans())


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())


async def _run_lines(steps: list[tuple[str, str, bool]]
                     ) -> tuple[Harness, list[str], list[int]]:
    """Run the lines (after a case is opened, in its thread or not); return the harness, the
    errors logged and how many messages the bot sent for each line."""
    config = Config(data_dir=Path("/nonexistent"),
                    rate_limit=RateLimitConfig(commands=10_000))
    errors = _Errors()
    logging.getLogger().addHandler(errors)
    try:
        async with Harness(_plugins(), config=config) as h:
            h.add_room(ROOM, members=[POSTER, MOD, OTHER], powers={MOD: 100})
            root = await h.say(POSTER, "!case Homme 60 ans, douleur thoracique #cardio")
            answers = []
            for line, sender, in_thread in steps:
                before = len(h.sent)
                await h.say(sender, line, thread_root=root if in_thread else None)
                answers.append(len(h.sent) - before)
            await h.advance(15 * 86400)  # every reminder, escalation and auto-close fires
            return h, errors.records, answers
    finally:
        logging.getLogger().removeHandler(errors)


def _check(h: Harness, errors: list[str], lines: list[str]) -> None:
    assert not errors, errors[0].splitlines()[:8]
    long_words = {w for line in lines for w in line.split() if len(w) >= LONG}
    for sent in h.sent:
        text = json.dumps(sent.content, ensure_ascii=False).encode("utf-8", "surrogatepass")
        assert len(text) < MAX_CONTENT, (sent.body[:80], len(text))
        assert not any(marker in sent.body for marker in INTERNAL), sent.body
        echoed = [w for w in long_words if w in sent.body]
        assert not echoed, f"a {len(echoed[0])}-character word echoed whole: {sent.body[:80]}"


def _known_first_words() -> set[str]:
    return {name.split()[0] for name in _command_names()}


@settings(FUZZ, max_examples=300)
@given(steps=st.lists(STEP, min_size=1, max_size=4))
def test_command_lines_never_fail(steps: list[tuple[str, str, bool]]) -> None:
    h, errors, answers = asyncio.run(_run_lines(steps))
    _check(h, errors, [line for line, _, _ in steps])
    # Answered or ignored by rule: a known command always gets an answer (a result, a usage
    # line or a refusal), whatever its arguments.
    known = _known_first_words()
    for (line, _, _), sent in zip(steps, answers, strict=True):
        words = line[1:].split()
        if words and words[0] in known:
            assert sent, f"no answer to {line[:60]!r}"


HOSTILE = [
    # issue 12, item 12: Unicode digits, numbers beyond SQLite's INTEGER, far dates, echoes
    ("!case ²", False), ("!case #³", False), ("!reopen ³", False), ("!resolve ²", False),
    ("!case 99999999999999999999", False), ("!reopen 9223372036854775808", False),
    ("!resolve -9223372036854775809", False), ("!case " + "9" * 5000, False),
    ("!stats 99999999999999999999", False), ("!stats ²", False),
    ("!away 9999-12-31", False), ("!away 99999999999999999999d", False),
    ("!away 1e309h", False), ("!quiet 25:99-99:00", False), ("!mytz " + "x" * 5000, False),
    ("!" + "z" * 30_000, False), ("!help " + "z" * 30_000, False),
    ("!tag " + " ".join(["#" + "a" * 100] * 300), True),
    ("!volunteer " + "cardio " * 2000, False),
    ('!specialty add x "' + "N" * 30_000 + '"', False),
    ("!config set language " + "e" * 30_000, False),
    ("!config set " + "k" * 30_000 + " 1", False),
    ("!cases " + "é" * 30_000, False),
]


@pytest.mark.parametrize(("line", "in_thread"), HOSTILE,
                         ids=[line[:40] for line, _ in HOSTILE])
def test_known_hostile_lines(line: str, in_thread: bool) -> None:
    """The inputs the review reported, one by one, by the poster and by a moderator."""
    h, errors, _ = asyncio.run(_run_lines([(line, POSTER, in_thread), (line, MOD, in_thread)]))
    _check(h, errors, [line])
