"""The transport's room-state cache: one `RoomInfo` per room, rebuilt only when its state
changed, on real nio sync responses applied by the guarded client (no homeserver)."""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from nio import (
    JoinedMembersResponse,
    LocalProtocolError,
    MegolmEvent,
    RoomGetEventResponse,
    RoomMember,
    SyncResponse,
)

import bot.matrix.rooms as rooms_module
from bot.config import Config, MatrixConfig, Secrets
from bot.events import Undecryptable
from bot.loading import CORE_MIGRATIONS
from bot.matrix import MatrixTransport
from bot.matrix.sync import SYNC_FILTER
from bot.storage import Database
from bot.syncstore import HELD_KEY, Held, SyncStore

BOT, ALICE, BOB, CAROL = "@bot:test", "@alice:test", "@bob:test", "@carol:test"
ROOM = "!room:test"
_ids = itertools.count(1)


def ev(kind: str, content: dict[str, Any], sender: str = ALICE,
       state_key: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {"type": kind, "content": content, "sender": sender,
                             "event_id": f"$e{next(_ids)}", "origin_server_ts": 1_000}
    if state_key is not None:
        event["state_key"] = state_key
    return event


def member(user: str, name: str | None = None, membership: str = "join") -> dict[str, Any]:
    content = {"membership": membership, **({"displayname": name} if name else {})}
    return ev("m.room.member", content, sender=user, state_key=user)


def sync(batch: str, timeline: list[dict[str, Any]] = (),
         state: list[dict[str, Any]] = ()) -> SyncResponse:
    return SyncResponse.from_dict({
        "next_batch": batch,
        "rooms": {"join": {ROOM: {
            "state": {"events": list(state)},
            "timeline": {"events": list(timeline), "limited": False, "prev_batch": "p"},
            "ephemeral": {"events": []}, "account_data": {"events": []},
            "summary": {}, "unread_notifications": {},
        }}, "invite": {}, "leave": {}},
        "to_device": {"events": []}, "presence": {"events": []},
        "account_data": {"events": []}, "device_lists": {"changed": [], "left": []},
        "device_one_time_keys_count": {},
    })


INITIAL = [
    ev("m.room.create", {"room_version": "10"}, state_key=""),
    member(ALICE, "Alice"), member(BOT, "Bot"), member(BOB, "Bob"),
    ev("m.room.power_levels", {"users": {ALICE: 100}, "users_default": 0,
                               "events": {}, "events_default": 0, "redact": 50},
       state_key=""),
    ev("m.room.join_rules", {"join_rule": "invite"}, state_key=""),
    ev("m.room.name", {"name": "Cas cliniques"}, state_key=""),
]


@pytest.fixture
async def transport(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    config = Config(matrix=MatrixConfig(homeserver="http://127.0.0.1:9", user_id=BOT),
                    data_dir=tmp_path / "bot")
    transport = MatrixTransport(config, Secrets(pickle_key="k"))
    client = transport.session.new_client("BOTDEVICE")
    client.restore_login(BOT, "BOTDEVICE", "token")
    transport.session.client = client
    builds: list[str] = []
    real = rooms_module.room_info

    def counting(room: Any, *args: Any) -> Any:
        builds.append(room.room_id)
        return real(room, *args)

    monkeypatch.setattr(rooms_module, "room_info", counting)
    transport.builds = builds  # type: ignore[attr-defined]
    await client.receive_response(sync("s1", state=INITIAL))
    yield transport
    await transport.close()


async def test_room_is_built_once_and_shared_until_its_state_changes(transport) -> None:
    first = transport.room(ROOM)
    assert first.power_level(ALICE) == 100 and first.name == "Cas cliniques"
    for _ in range(8):  # every ctx.room of one !case
        assert transport.room(ROOM) is first
    assert transport.builds == [ROOM]

    # a batch of messages (and a reaction) changes no state: no rebuild
    await transport.client.receive_response(sync("s2", timeline=[
        ev("m.room.message", {"msgtype": "m.text", "body": "!case douleur thoracique"}),
        ev("m.reaction", {"m.relates_to": {"rel_type": "m.annotation",
                                           "event_id": "$x", "key": "✅"}}, sender=BOB),
    ]))
    assert transport.room(ROOM) is first
    assert transport.builds == [ROOM]
    assert transport.room("!unknown:test") is None


async def test_real_state_changes_show_on_the_next_read(transport) -> None:
    first = transport.room(ROOM)
    await transport.client.receive_response(sync("s2", timeline=[
        ev("m.room.power_levels", {"users": {ALICE: 100, BOB: 50}, "users_default": 0,
                                   "redact": 50}, state_key=""),
    ]))
    second = transport.room(ROOM)
    assert second is not first and second.power_level(BOB) == 50
    assert transport.room(ROOM) is second

    await transport.client.receive_response(sync("s3", timeline=[
        member(CAROL, "Carol"), member(BOB, "Robert"),
        ev("m.room.join_rules", {"join_rule": "public"}, state_key=""),
    ]))
    third = transport.room(ROOM)
    assert CAROL in third.members and third.display_name(CAROL) == "Carol"
    assert third.display_name(BOB) == "Robert" and third.join_rule == "public"

    await transport.client.receive_response(sync("s4", timeline=[
        member(CAROL, membership="leave"),
        ev("m.room.pinned_events", {"pinned": ["$rules"]}, state_key=""),
    ]))
    fourth = transport.room(ROOM)
    assert CAROL not in fourth.members and fourth.pinned_events == ("$rules",)
    assert len(transport.builds) == 4


async def test_state_from_the_state_section_and_creators(transport) -> None:
    transport.room(ROOM)
    await transport.client.receive_response(sync("s2", state=[
        ev("m.room.create", {"room_version": "12", "additional_creators": [BOB]},
           sender=ALICE, state_key=""),
    ]))
    info = transport.room(ROOM)
    assert info.power_level(BOB) == 2**53 - 1 and info.power_level(ALICE) == 2**53 - 1


async def test_forged_state_changes_nothing(transport) -> None:
    first = transport.room(ROOM)
    await transport.client.receive_response(sync("s2", timeline=[
        # message events that merely bear state types (no state_key): nio must not apply them
        ev("m.room.power_levels", {"users": {BOB: 100}, "users_default": 100}, sender=BOB),
        ev("m.room.join_rules", {"join_rule": "public"}, sender=BOB),
        ev("m.room.pinned_events", {"pinned": ["$forged"]}, sender=BOB),
        ev("m.room.member", {"membership": "join", "displayname": "Alice"}, sender=BOB),
    ]))
    info = transport.room(ROOM)
    assert info is first
    assert info.power_level(BOB) == 0 and info.join_rule == "invite"
    assert info.pinned_events == () and info.display_name(BOB) == "Bob"


async def test_own_pins_and_member_lists_rebuild(transport) -> None:
    first = transport.room(ROOM)

    async def put_state(*_args: Any, **_kw: Any) -> Any:
        return SimpleNamespace(event_id="$pin")

    transport.client.room_put_state = put_state
    assert await transport.put_state(ROOM, "m.room.pinned_events",
                                     {"pinned": ["$a", "$b"]}, "")
    pinned = transport.room(ROOM)
    assert pinned is not first and pinned.pinned_events == ("$a", "$b")
    assert transport.room(ROOM) is pinned

    # nio fetches the member list before an encrypted send: that changes membership too
    await transport.client.receive_response(JoinedMembersResponse(
        [RoomMember(ALICE, "Alice", ""), RoomMember(BOT, "Bot", ""),
         RoomMember(BOB, "Bob", ""), RoomMember(CAROL, "Carol", "")], ROOM))
    assert CAROL in transport.room(ROOM).members
    assert len(transport.builds) == 3


@pytest.mark.live
async def test_one_case_live_reads_the_room_without_rebuilding(
        live: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """On the real Synapse: once the room is known, a `!case` reads `ctx.room` several
    times and builds no `RoomInfo`; a power change made after it shows on the next read."""
    import bot.app

    bot_handle = await live.bot()
    alice = await live.physician("alice")
    room = await live.room_with(alice, bot_handle)
    # Two cases first: the first one's encrypted card makes the bot fetch the members (the
    # room is rebuilt after that, while the card's follow-ups may still be going out); the
    # second one is read after it, so the room is known whatever the machine's load.
    for warm_up in ("!case premier cas, pour que le salon soit connu", "!case deuxième cas"):
        warm = await alice.say(room, warm_up)
        await alice.wait_for(lambda e, w=warm: e.sender == bot_handle.user_id
                             and e.thread_root == w)

    builds: list[str] = []
    reads: list[str] = []
    real_build, real_read = rooms_module.room_info, bot.app.App.room

    def counting_build(nio_room: Any, *args: Any) -> Any:
        builds.append(nio_room.room_id)
        return real_build(nio_room, *args)

    def counting_read(self: Any, room_id: str) -> Any:
        reads.append(room_id)
        return real_read(self, room_id)

    monkeypatch.setattr(rooms_module, "room_info", counting_build)
    monkeypatch.setattr(bot.app.App, "room", counting_read)
    root = await alice.say(room, "!case Homme 60 ans, dyspnée d'effort, quel bilan ?")
    await alice.wait_for(lambda e: e.sender == bot_handle.user_id and e.thread_root == root
                         and "Cas #3" in e.body)
    print(f"one !case: {len(reads)} room reads, {len(builds)} RoomInfo builds")
    assert reads and builds == []


# ---- the sync loop's parts: held events, their store, invites ---------------------------------
def megolm(event_id: str, ts: int = 1_000) -> Any:
    return MegolmEvent.from_dict({
        "type": "m.room.encrypted", "event_id": event_id, "sender": ALICE,
        "origin_server_ts": ts, "room_id": ROOM,
        "content": {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AAAA",
                    "sender_key": "curve", "session_id": "unknown-session",
                    "device_id": "ALICEDEV",
                    "m.relates_to": {"rel_type": "m.thread", "event_id": "$root"}}})


async def test_sync_store_keeps_the_token_and_held_ids_in_the_kv_rows(tmp_path: Path) -> None:
    """The rows and keys of earlier versions (an upgrade keeps both; the doctor reads one)."""
    db = await Database.open(tmp_path / "casebot.db")
    try:
        await db.migrate("core", CORE_MIGRATIONS)
        store = SyncStore(db)
        assert await store.token() is None and await store.held() == []
        await store.save_token("s9")
        await store.save_held([Held(ROOM, "$a", 12.5)])
        assert await store.token() == "s9"
        assert await store.held() == [(ROOM, "$a", 12.5)]
        rows = dict(await db.fetchall("SELECT key, value FROM kv"))
        assert rows == {"sync_token": "s9", HELD_KEY: json.dumps([[ROOM, "$a", 12.5]])}
        await db.execute("UPDATE kv SET value = ? WHERE key = ?",
                         ('[["!r:test", "$b"], 3, {"x": 1}, null', HELD_KEY))
        assert await store.held() == []  # damaged JSON
        await db.execute("UPDATE kv SET value = ? WHERE key = ?",
                         ('[["!r:test", "$b"], 3, ["!r:test", "$c", 4]]', HELD_KEY))
        assert await store.held() == [("!r:test", "$c", 4.0)]  # malformed items skipped
    finally:
        await db.close()


class MemoryStore:
    def __init__(self, held: list[Held]) -> None:
        self.saved: list[list[Held]] = []
        self._held = held

    async def held(self) -> list[Held]:
        return self._held

    async def save_held(self, held: Any) -> None:
        self.saved.append(list(held))


async def retry(work: Any, *args: Any) -> Any:
    return await work(*args)


async def test_held_events_restored_then_noticed_after_the_grace(
        transport, monkeypatch: pytest.MonkeyPatch) -> None:
    """A held event saved by a previous run is fetched again, held with its first time, and
    becomes an `Undecryptable` (in its thread) once the grace has passed."""
    client = transport.client
    requested: list[str] = []

    async def request_room_key(event: Any) -> None:
        requested.append(event.event_id)

    async def room_get_event(room_id: str, event_id: str) -> Any:
        resp = RoomGetEventResponse()
        resp.event = megolm(event_id)
        return resp

    monkeypatch.setattr(client, "request_room_key", request_room_key)
    monkeypatch.setattr(client, "room_get_event", room_get_event)
    held = transport.sync.held
    now = time.time()
    store = MemoryStore([Held(ROOM, "$old", now - 10), Held(ROOM, "$new", now)])
    await held.restore(store, retry)
    await asyncio.sleep(0)  # the key requests run in the background
    assert transport.sync.pending == 2 and sorted(requested) == ["$new", "$old"]
    assert transport.sync.undecryptable == 0  # not new: counted by the run that saw them
    await held.save(store, retry)
    assert store.saved == []  # unchanged since restored: nothing written

    grace = transport.config.matrix.undecryptable_grace
    monkeypatch.setattr(time, "time", lambda: now - 10 + grace + 1)
    out = held.ready(lambda event, room_id: None)
    assert out == [Undecryptable(ROOM, "$old", ALICE, 1_000, thread_root="$root")]
    await held.save(store, retry)
    assert store.saved == [[Held(ROOM, "$new", now)]]
    assert transport.sync.pending == 1


async def test_a_key_already_requested_leaves_no_failed_task(
        transport, monkeypatch: pytest.MonkeyPatch) -> None:
    """nio refuses a second key request for the same session by raising from the coroutine
    (seen in the restart benchmark's log as "Task exception was never retrieved"): the held
    event stays held and nothing unhandled reaches the event loop."""
    async def request_room_key(event: Any) -> None:
        raise LocalProtocolError("A key sharing request is already sent out for this session id.")

    monkeypatch.setattr(transport.client, "request_room_key", request_room_key)
    loop = asyncio.get_running_loop()
    unhandled: list[dict[str, Any]] = []
    monkeypatch.setattr(loop, "call_exception_handler", unhandled.append)
    transport.sync.held.hold(megolm("$again"), ROOM)
    for _ in range(3):
        await asyncio.sleep(0)
    gc.collect()  # an unretrieved task exception is reported when the task is collected
    assert unhandled == [] and transport.sync.pending == 1


def test_invites_from_the_bots_homeserver_only_by_default(transport) -> None:
    assert transport.sync.invites.allowed("@alice:test")
    assert not transport.sync.invites.allowed("@alice:test.evil")
    assert not transport.sync.invites.allowed("@mallory:elsewhere")


class RecordingSink:
    """The App's side of the sync loop: records each batch and token, stops after `batches`."""

    def __init__(self, transport: Any, token: str | None, batches: int = 1) -> None:
        self.transport, self.token, self.left = transport, token, batches
        self.batches: list[list[str]] = []
        self.saved: list[str] = []

    async def load_sync_token(self) -> str | None:
        return self.token

    async def save_sync_token(self, token: str) -> None:
        self.saved.append(token)
        self.left -= 1
        if not self.left:
            self.transport.stop()

    async def handle_batch(self, events: Any) -> None:
        self.batches.append([e.event_id for e in events])


@pytest.fixture
def syncs(transport, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The sync requests sent (their arguments); each answers the next of `transport.answers`
    (a response, applied like nio does, or an exception raised)."""
    client = transport.client
    sent: list[dict[str, Any]] = []
    transport.answers = []  # type: ignore[attr-defined]

    async def fake_sync(**kwargs: Any) -> Any:
        sent.append(kwargs)
        answer = transport.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        await client.receive_response(answer)
        return answer

    async def no_upkeep() -> None:
        pass

    monkeypatch.setattr(client, "sync", fake_sync)
    monkeypatch.setattr(transport.session, "keys_upkeep", no_upkeep)
    return sent


def command(body: str) -> dict[str, Any]:
    """A message sent now (older ones are not caught up with)."""
    return {**ev("m.room.message", {"msgtype": "m.text", "body": body}),
            "origin_server_ts": int(time.time() * 1000)}


async def test_prepared_first_sync_is_handed_over_only_by_run(transport, syncs) -> None:
    """`prepare` sends the first sync at once, with the stored token; its answer waits for
    `run()` (started only once the App has) and is its first batch: no second request."""
    message = command("!case early")
    transport.answers = [sync("s3", timeline=[message])]
    transport.prepare("s2")
    for _ in range(5):
        await asyncio.sleep(0)
    assert syncs == [{"timeout": 0, "since": "s2", "full_state": True,
                      "sync_filter": SYNC_FILTER}]
    assert transport.answers == []  # answered and applied to the room model already
    sink = RecordingSink(transport, "s2")
    assert sink.batches == []
    await asyncio.wait_for(transport.run(sink, MemoryStore([])), timeout=10)
    assert sink.batches == [[message["event_id"]]] and sink.saved == ["s3"]
    assert len(syncs) == 1


async def test_failed_prepared_sync_is_retried_like_any_sync(transport, syncs) -> None:
    message = command("!case retried")
    transport.answers = [aiohttp.ClientConnectionError("down"), sync("s3", timeline=[message])]
    transport.prepare("s2")
    sink = RecordingSink(transport, "s2")
    await asyncio.wait_for(transport.run(sink, MemoryStore([])), timeout=10)
    assert [s["since"] for s in syncs] == ["s2", "s2"]
    assert [s["full_state"] for s in syncs] == [True, True]  # still the first sync
    assert sink.batches == [[message["event_id"]]] and sink.saved == ["s3"]


async def test_prepared_sync_with_another_token_is_dropped(transport, syncs) -> None:
    """Should the token `run()` loads differ from the one `prepare` was given, the early
    answer is not used: the batch after the loaded token is fetched and handled."""
    early, current = command("!case early"), command("!case current")
    transport.answers = [sync("s3", timeline=[early]), sync("s4", timeline=[current])]
    transport.prepare("s1")
    await asyncio.sleep(0)
    sink = RecordingSink(transport, "s2")
    await asyncio.wait_for(transport.run(sink, MemoryStore([])), timeout=10)
    assert [s["since"] for s in syncs] == ["s1", "s2"]
    assert sink.batches == [[current["event_id"]]] and sink.saved == ["s4"]


async def test_a_join_refused_at_first_is_tried_again_off_the_loop(monkeypatch) -> None:
    """Seen live across two homeservers: the bot's join of a room on the other server was
    refused ("You are not invited to this room") seconds after the invite came; the invite
    is not in the next syncs again, so one refusal lost the room for good."""
    from nio import InviteMemberEvent, JoinError, JoinResponse

    import bot.matrix.invites as invites_module

    monkeypatch.setattr(invites_module, "JOIN_RETRIES", (0.0, 0.0, 0.0))
    answers = [JoinError("You are not invited to this room."),
               JoinError("You are not invited to this room."), JoinResponse(ROOM)]
    joins: list[str] = []

    async def join(room_id: str) -> Any:
        joins.append(room_id)
        return answers.pop(0)

    session = SimpleNamespace(user_id="@casebot:test", client=SimpleNamespace(join=join))
    policy = invites_module.InvitePolicy(Config(), session)  # type: ignore[arg-type]
    invite = InviteMemberEvent({}, "@alice:test", "@casebot:test", "invite", "leave", {})
    resp = SimpleNamespace(rooms=SimpleNamespace(invite={
        ROOM: SimpleNamespace(invite_state=[invite])}))
    await policy.answer(resp)  # type: ignore[arg-type]
    assert joins == [ROOM]  # the sync loop goes on at once
    await asyncio.gather(*policy._retrying)
    assert joins == [ROOM, ROOM, ROOM] and not answers
