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

from bench.report import BenchResult, Figure, Target, median
from bench.world import BotProcess, Casebot, World, answers, world
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


async def restart_rounds(bots: list[BotProcess], poster: UserClient, room: str, rounds: int,
                   roots: dict[str, list[str]]) -> dict[str, list[dict[str, Any]]]:
    """`rounds` restarts of each bot, alternated (the order turns each round, so the
    machine's drift falls on each alike): time to the first answer, processor time until
    then and, for casebot, the phases of its start."""
    out: dict[str, list[dict[str, Any]]] = {b.user_id: [] for b in bots}
    for r in range(rounds):
        for bot in bots[r % len(bots):] + bots[:r % len(bots)]:
            seconds = await answered_after(bot, poster, room, 2 + r, roots[bot.user_id])
            cpu = bot.cpu_seconds()
            phases = await bot.start_phases(bot.spawned_at)
            out[bot.user_id].append({"seconds": seconds, "cpu": cpu, "phases": phases})
            bot.stop()
    return out


async def after_restart(bot: BotProcess, poster: UserClient, busy: list[str], syncs: int,
                        res: BenchResult) -> dict[str, float]:
    """Restart the bot once more (not timed); memory and CPU per sync after it."""
    out: dict[str, float] = {}
    bot.start()
    await asyncio.sleep(IDLE * 3)
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
    return out


def phase_notes(label: str, runs: list[dict[str, Any]]) -> list[str]:
    """The median of each phase of casebot's start over `runs`, as printed lines."""
    names = [name for name, _, _ in runs[0]["phases"]] if runs and runs[0]["phases"] else []
    if not names:
        return [f"{label}: no phases written"]
    lines = [f"{label}, median of {len(runs)} (wall time since the spawn, processor time of "
             "the phase):"]
    for i, name in enumerate(names):
        walls = [run["phases"][i][1] for run in runs if len(run["phases"]) > i]
        cpus = [run["phases"][i][2] for run in runs if len(run["phases"]) > i]
        lines.append(f"  {name:<48} at {median(walls):6.2f} s   cpu {median(cpus) * 1000:6.0f} ms")
    lines.append(f"  {'first answer received':<48} at "
                 f"{median([run['seconds'] for run in runs]):6.2f} s   cpu total "
                 f"{median([run['cpu'] for run in runs]) * 1000:6.0f} ms")
    return lines


async def _ready(w: World, bot: BotProcess, poster: UserClient) -> None:
    """Start the bot once (device, keys, sync token) and check it answers; then stop it."""
    bot.start()
    room = await w.live.room_with(poster, bot.user_id)
    root = await poster.say(room, bot.command(0))
    await poster.wait_for(bot.replied(root), timeout=60)
    bot.stop()


async def run(hs: LocalSynapse, base: Path, quick: bool = False, rooms: int | None = None,
              every: int = 10, history: int = HISTORY, syncs: int = SYNCS,
              restarts: int | None = None, before: Path | None = None) -> BenchResult:
    count = rooms or (40 if quick else 1000)
    rounds = restarts or (1 if quick else 3)
    res = BenchResult("scale", f"the bot in {count} rooms (5 members, "
                      f"{len(range(0, count, every))} encrypted with {history} messages of "
                      "history)", "echo bot in the same rooms",
                      params={"rooms": count, "syncs measured": syncs})
    async with world(hs, base) as w:
        casebot, echo = w.casebot(), w.echo()
        old = w.casebot(before) if before is not None else None
        bots: list[BotProcess] = [echo, casebot] + ([old] if old is not None else [])
        probe = await w.physician("probe")
        for bot in bots:
            await _ready(w, bot, probe)
        alice, bob, carol = (hs.register(unique(name), PASSWORD)
                             for name in ("alice", "bob", "carol"))
        began = time.monotonic()
        async with aiohttp.ClientSession() as session:
            api = Api(session, hs.url, CONCURRENCY)
            members = {bot.user_id: bot.access_token() for bot in bots}
            members |= {bob: await api.login(bob, PASSWORD),
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
        roots: dict[str, list[str]] = {b.user_id: [] for b in bots}
        first: dict[str, float] = {}
        peaks: dict[str, float] = {}
        for bot in bots:
            first[bot.user_id] = await answered_after(bot, writer_a, target_room, 1,
                                                            roots[bot.user_id])
            peaks[bot.user_id] = bot.peak_rss_mib()
            if isinstance(bot, Casebot):
                tree = "the --before tree" if bot is old else "this tree"
                res.notes.extend(phase_notes(f"casebot first start ({tree})", [{
                    "seconds": first[bot.user_id], "cpu": bot.cpu_seconds(),
                    "phases": await bot.start_phases(bot.spawned_at)}]))
            bot.stop()
        runs = await restart_rounds(bots, writer_a, target_room, rounds, roots)
        after = {b.user_id: await after_restart(b, writer_a, busy, syncs, res)
                 for b in (echo, casebot)}
        for bot in bots:
            counts = answers(writer_a, bot, roots[bot.user_id])
            res.check(f"{bot.kind}: every command answered exactly once",
                      all(n == 1 for n in counts.values()), f"answers: {sorted(counts.values())}")
    cb, floor = casebot.user_id, echo.user_id
    res.params["restarts of each bot"] = rounds
    for bot in bots:
        tree = "casebot --before" if bot is old else bot.kind
        res.params[f"{tree}: restart seconds, CPU seconds"] = [
            (round(run["seconds"], 2), round(run["cpu"], 2)) for run in runs[bot.user_id]]
    restart = {k: median([run["seconds"] for run in v]) for k, v in runs.items()}
    cpu = {k: median([run["cpu"] for run in v]) for k, v in runs.items()}
    res.notes.extend(phase_notes("casebot restart", runs[cb]))
    res.notes.extend(phase_notes("echo bot restart", runs[floor]))
    if old is not None:
        res.notes.extend(phase_notes(f"casebot restart from {before}", runs[old.user_id]))
    res.add(
        Figure("start-up to first answer, restart", "s", restart[cb], restart[floor],
               Target("ratio", "<=", 1.3)),
        Figure("start-up to first answer, first start (catch-up)", "s", first[cb],
               first[floor], Target("ratio", "<=", 1.5)),
        Figure("CPU until first answer, restart", "s", cpu[cb], cpu[floor]),
        Figure("resident memory after restart + syncs", "MiB", after[cb]["rss"],
               after[floor]["rss"], Target("ratio", "<=", 1.5)),
        Figure("peak resident memory, restart", "MiB", after[cb]["peak"],
               after[floor]["peak"]),
        Figure("peak resident memory, first start", "MiB", peaks[casebot.user_id],
               peaks[echo.user_id]),
        Figure("CPU per sync (one new encrypted message)", "ms",
               after[cb]["cpu_per_sync"] * 1000, after[floor]["cpu_per_sync"] * 1000),
    )
    if old is not None:
        key = old.user_id
        res.add(Figure("restart to first answer, the --before tree", "s", restart[key],
                       restart[floor]),
                Figure("CPU until first answer, restart, the --before tree", "s", cpu[key],
                       cpu[floor]))
    return res
