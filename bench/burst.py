"""2. Burst: physicians in encrypted rooms (two per room) all post their commands as fast as
they can; measured: the time from the first post until every command has its reply at its
poster, and replies lost or duplicated (both must be 0). Baseline: the echo bot, same burst
in its own rooms with the same physicians."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bench.report import BenchResult, Figure, Target
from bench.world import BotProcess, World, answers, card_numbers, world
from bot.homeserver import LocalSynapse
from bot.matrix import UserClient

TIMEOUT = 300.0
SETTLE = 3.0


async def _rooms(w: World, bot: BotProcess, groups: list[list[UserClient]]) -> list[str]:
    """One room per group (each made by its first physician, so concurrently)."""
    return list(await asyncio.gather(*(w.live.room_with(group[0], bot.user_id,
                                                         others=group[1:])
                                       for group in groups)))


async def _burst(bot: BotProcess, posters: list[tuple[UserClient, str, int]],
                 res: BenchResult) -> dict[str, float]:
    """Every physician posts its share at once; wait for all answers; check them."""
    sent: list[list[str]] = [[] for _ in posters]
    began = time.monotonic()

    async def post(n: int, client: UserClient, room: str, count: int) -> None:
        for k in range(count):
            sent[n].append(await client.say(room, bot.command(n * 1000 + k)))

    await asyncio.gather(*(post(n, c, r, k) for n, (c, r, k) in enumerate(posters)))
    posted = time.monotonic() - began

    async def collect(n: int, client: UserClient) -> None:
        for root in sent[n]:
            await client.wait_for(bot.replied(root), timeout=max(0.1, deadline - time.monotonic()))

    deadline = began + TIMEOUT
    missing = ""
    try:
        await asyncio.gather(*(collect(n, c) for n, (c, _, _) in enumerate(posters)))
    except TimeoutError as exc:
        missing = str(exc)
    done = time.monotonic() - began
    await asyncio.sleep(SETTLE)
    lost = duplicated = 0
    for n, (client, _, _) in enumerate(posters):
        for count in answers(client, bot, sent[n]).values():
            lost += count == 0
            duplicated += max(0, count - 1)
    total = sum(len(s) for s in sent)
    res.check(f"{bot.kind}: every command answered exactly once", not (lost or duplicated),
              f"{lost} lost, {duplicated} duplicated of {total}{'; ' + missing if missing else ''}")
    return {"seconds": done, "posted": posted, "lost": lost, "duplicated": duplicated,
            "total": total}


async def run(hs: LocalSynapse, base: Path, quick: bool = False, cases: int | None = None,
              clients: int | None = None, rooms: int | None = None) -> BenchResult:
    cases = cases or (60 if quick else 500)
    clients = clients or (6 if quick else 20)
    rooms = rooms or (3 if quick else 10)
    res = BenchResult("burst", f"{clients} physicians in {rooms} encrypted rooms post {cases} "
                      "!case at once; time until every case has its reply",
                      "echo bot, same burst of !ping", params={
                          "cases": cases, "physicians": clients, "rooms": rooms})
    async with world(hs, base) as w:
        casebot, echo = w.casebot(), w.echo()
        casebot.start()
        echo.start()
        doctors = list(await asyncio.gather(*(w.physician(f"dr{i}-") for i in range(clients))))
        groups = [doctors[r::rooms] for r in range(rooms)]
        numbers: dict[str, dict[str, float]] = {}
        for bot in (echo, casebot):
            room_ids = await _rooms(w, bot, groups)
            posters = [(doc, room_ids[n % rooms], cases // clients + (n < cases % clients))
                       for n, doc in enumerate(doctors)]
            numbers[bot.kind] = await _burst(bot, posters, res)
            if bot is casebot:
                dupes = sum(len(nums) - len(set(nums)) for nums in (
                    card_numbers(group[0], casebot, room) for group, room in zip(
                        groups, room_ids, strict=True)))
                res.check("casebot: no case number given twice in a room", dupes == 0,
                          f"{dupes} repeated numbers")
    cb, floor = numbers[casebot.kind], numbers[echo.kind]
    res.add(
        Figure("time until every reply", "s", cb["seconds"], floor["seconds"],
               Target("ratio", "<=", 1.3)),
        Figure("throughput", "commands/s", cb["total"] / cb["seconds"],
               floor["total"] / floor["seconds"]),
        Figure("time to post the burst", "s", cb["posted"], floor["posted"]),
        Figure("replies lost", "", cb["lost"], floor["lost"], Target("value", "<=", 0)),
        Figure("replies duplicated", "", cb["duplicated"], floor["duplicated"],
               Target("value", "<=", 0)),
    )
    return res
