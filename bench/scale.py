"""3. Scale: the bot in many rooms (1,000 by default: 5 members each, one in ten encrypted
with a history of messages and threads). Measured for casebot and, as the baseline, for the
echo bot in the same rooms (one bot runs at a time):

- first start after being joined to all the rooms (catch-up), then a restart: the time from
  spawning the process to the first answered command, posted right after the spawn;
- resident memory after the restart and a series of syncs, and its peak;
- CPU per sync: one new encrypted message per sync, CPU time of the bot process / syncs.

Rooms are created and joined through the client-server API, concurrently, by the physicians
and by the bots' own devices (their access tokens), while the bots are stopped; nothing is
cached across runs.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.report import BenchResult, Figure, Target
from bench.world import BotProcess, World, answers, world
from bot.homeserver import LocalSynapse
from bot.matrix import UserClient
from tests.support.live import PASSWORD, unique

CONCURRENCY = 8
HISTORY = 10
"""Messages in each encrypted room's history (a case-like root, then a thread and chat)."""
SYNCS = 40
SYNC_GAP = 0.3
IDLE = 2.0
"""Seconds left to the restarted bot before its CPU is measured (it may still be settling)."""
ANSWER_TIMEOUT = 600.0
ENCRYPTION = {"type": "m.room.encryption", "state_key": "",
              "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


class Api:
    """Just enough of the client-server API to build rooms in bulk (retrying 429 and 5xx)."""

    def __init__(self, session: aiohttp.ClientSession, url: str, concurrency: int) -> None:
        self.session = session
        self.url = url
        self._slots = asyncio.Semaphore(concurrency)

    async def call(self, method: str, path: str, token: str | None = None,
                   body: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for attempt in range(8):
            async with self._slots, self.session.request(
                    method, f"{self.url}/_matrix/client/v3{path}", json=body or {},
                    headers=headers) as resp:
                data: dict[str, Any] = await resp.json(content_type=None) or {}
                if resp.status == 200:
                    return data
                if resp.status != 429 and resp.status < 500:
                    raise RuntimeError(f"{method} {path}: {resp.status} {data}")
            await asyncio.sleep(min(5.0, data.get("retry_after_ms", 200 * 2**attempt) / 1000))
        raise RuntimeError(f"{method} {path}: still refused after retries")

    async def login(self, user_id: str, password: str) -> str:
        data = await self.call("POST", "/login", body={
            "type": "m.login.password", "password": password,
            "identifier": {"type": "m.id.user", "user": user_id}})
        return str(data["access_token"])

    async def create_room(self, token: str, name: str, invite: list[str],
                          encrypted: bool) -> str:
        data = await self.call("POST", "/createRoom", token, {
            "name": name, "preset": "private_chat", "invite": invite,
            "initial_state": [ENCRYPTION] if encrypted else []})
        return str(data["room_id"])

    async def join(self, token: str, room_id: str) -> None:
        await self.call("POST", f"/join/{room_id}", token)


async def build_rooms(api: Api, owner_token: str, members: dict[str, str], count: int,
                      every: int) -> tuple[list[str], list[str]]:
    """`count` rooms made by the owner (its token), every member (user id: token) invited
    and joined; every `every`-th one encrypted. Returns (all rooms, encrypted rooms)."""

    async def one(i: int) -> tuple[str, bool]:
        encrypted = i % every == 0
        room = await api.create_room(owner_token, f"salle {i}", list(members), encrypted)
        await asyncio.gather(*(api.join(token, room) for token in members.values()))
        return room, encrypted

    made = await asyncio.gather(*(one(i) for i in range(count)))
    return [r for r, _ in made], [r for r, e in made if e]


async def wait_members(client: UserClient, rooms: list[str], users: list[str],
                       timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for room in rooms:
        for user in users:
            await client.wait_joined(room, user, timeout=max(1.0, deadline - time.monotonic()))


async def post_history(rooms: list[str], writers: list[UserClient], per_room: int) -> int:
    """`per_room` messages per room, alternating writers; from the third on, in a thread."""
    sent = 0
    for room in rooms:
        root = ""
        for k in range(per_room):
            writer = writers[k % len(writers)]
            text = f"message {k} : avis sur le traitement, à revoir en consultation"
            event = await writer.say(room, text, thread_root=root if k >= 2 else None)
            root = root or event
            sent += 1
    return sent


async def answered_after(bot: BotProcess, poster: UserClient, room: str, i: int,
                         roots: list[str]) -> float:
    """Spawn the bot, post a command at once; seconds until its reply reached the poster."""
    began = bot.start()
    root = await poster.say(room, bot.command(i))
    roots.append(root)
    await poster.wait_for(bot.replied(root), timeout=ANSWER_TIMEOUT)
    return time.monotonic() - began


async def measure(bot: BotProcess, poster: UserClient, room: str, busy: list[str],
                  syncs: int, res: BenchResult) -> dict[str, float]:
    """First start (catch-up) and restart of one bot; memory and CPU per sync after it."""
    out: dict[str, float] = {}
    roots: list[str] = []
    out["first"] = await answered_after(bot, poster, room, 1, roots)
    out["first_peak"] = bot.peak_rss_mib()
    bot.stop()
    out["restart"] = await answered_after(bot, poster, room, 2, roots)
    out["restart_cpu"] = bot.cpu_seconds()
    await asyncio.sleep(IDLE)
    cpu = bot.cpu_seconds()
    for k in range(syncs):
        await poster.say(busy[k % len(busy)], f"message de passage {k}, rien à signaler")
        await asyncio.sleep(SYNC_GAP)
    await asyncio.sleep(IDLE)
    out["cpu_per_sync"] = (bot.cpu_seconds() - cpu) / syncs
    out["rss"] = bot.rss_mib()
    out["peak"] = bot.peak_rss_mib()
    res.check(f"{bot.kind}: still running after the syncs", bot.alive(), bot.log_tail(5))
    bot.stop()
    counts = answers(poster, bot, roots)
    res.check(f"{bot.kind}: both commands answered exactly once",
              all(n == 1 for n in counts.values()), f"answers: {sorted(counts.values())}")
    return out


async def _ready(w: World, bot: BotProcess, poster: UserClient) -> None:
    """Start the bot once (device, keys, sync token) and check it answers; then stop it."""
    bot.start()
    room = await w.live.room_with(poster, bot.user_id)
    root = await poster.say(room, bot.command(0))
    await poster.wait_for(bot.replied(root), timeout=60)
    bot.stop()


async def run(hs: LocalSynapse, base: Path, quick: bool = False, rooms: int | None = None,
              every: int = 10, history: int = HISTORY, syncs: int = SYNCS) -> BenchResult:
    count = rooms or (40 if quick else 1000)
    res = BenchResult("scale", f"the bot in {count} rooms (5 members, "
                      f"{len(range(0, count, every))} encrypted with {history} messages of "
                      "history)", "echo bot in the same rooms",
                      params={"rooms": count, "syncs measured": syncs})
    async with world(hs, base) as w:
        casebot, echo = w.casebot(), w.echo()
        probe = await w.physician("probe")
        for bot in (casebot, echo):
            await _ready(w, bot, probe)
        alice, bob, carol = (hs.register(unique(name), PASSWORD)
                             for name in ("alice", "bob", "carol"))
        began = time.monotonic()
        async with aiohttp.ClientSession() as session:
            api = Api(session, hs.url, CONCURRENCY)
            members = {casebot.user_id: casebot.access_token(),
                       echo.user_id: echo.access_token(),
                       bob: await api.login(bob, PASSWORD),
                       carol: await api.login(carol, PASSWORD)}
            _, encrypted = await build_rooms(api, await api.login(alice, PASSWORD), members,
                                             count, every)
        res.params["room creation seconds"] = round(time.monotonic() - began, 1)
        # The physicians' clients start once the rooms are there: one initial sync each,
        # rather than following (and making Synapse serve) every step of the creation.
        began = time.monotonic()
        writer_a, writer_b = await w.client_of(alice), await w.client_of(bob)
        await wait_members(writer_a, encrypted, list(members), timeout=600)
        await wait_members(writer_b, encrypted, list(members), timeout=600)
        res.params["history messages"] = await post_history(encrypted, [writer_a, writer_b],
                                                         history)
        res.params["history seconds"] = round(time.monotonic() - began, 1)
        target_room, busy = encrypted[0], encrypted[1:] or encrypted
        numbers = {bot.kind: await measure(bot, writer_a, target_room, busy, syncs, res)
                   for bot in (echo, casebot)}
    cb, floor = numbers[casebot.kind], numbers[echo.kind]
    res.add(
        Figure("start-up to first answer, restart", "s", cb["restart"], floor["restart"],
               Target("ratio", "<=", 1.5)),
        Figure("start-up to first answer, first start (catch-up)", "s", cb["first"],
               floor["first"], Target("ratio", "<=", 1.5)),
        Figure("CPU until first answer, restart", "s", cb["restart_cpu"],
               floor["restart_cpu"]),
        Figure("resident memory after restart + syncs", "MiB", cb["rss"], floor["rss"],
               Target("ratio", "<=", 1.5)),
        Figure("peak resident memory, restart", "MiB", cb["peak"], floor["peak"]),
        Figure("peak resident memory, first start", "MiB", cb["first_peak"],
               floor["first_peak"]),
        Figure("CPU per sync (one new encrypted message)", "ms", cb["cpu_per_sync"] * 1000,
               floor["cpu_per_sync"] * 1000),
    )
    return res
