"""1. Command latency: `!case` → the first threaded reply of casebot, received and decrypted
by the poster's client, one command at a time in an encrypted room; baseline: the echo bot's
`!ping` → threaded "pong" in the same kind of room, measured interleaved (blocks of 10) so
that both see the same homeserver and machine conditions."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bench.report import BenchResult, Figure, Target, percentile
from bench.world import BotProcess, answers, card_numbers, world
from bot.homeserver import LocalSynapse

BLOCK = 10
WARMUP = 3
REPLY_TIMEOUT = 30.0
SETTLE = 2.0


async def run(hs: LocalSynapse, base: Path, quick: bool = False,
              cases: int | None = None) -> BenchResult:
    count = cases or (30 if quick else 200)
    res = BenchResult(
        "latency", f"!case → first threaded reply decrypted by the poster, {count} sequential "
        "commands, encrypted room", "echo bot, !ping → threaded pong, same kind of room",
        params={"commands": count})
    async with world(hs, base) as w:
        casebot, echo = w.casebot(), w.echo()
        casebot.start()
        echo.start()
        poster = await w.physician("poster")
        rooms = {bot.kind: await w.live.room_with(poster, bot.user_id) for bot in (casebot, echo)}
        samples: dict[str, list[float]] = {casebot.kind: [], echo.kind: []}
        roots: dict[str, list[str]] = {casebot.kind: [], echo.kind: []}
        cpu: dict[str, float] = {}

        async def one(bot: BotProcess, i: int, keep: bool) -> None:
            began = time.monotonic()
            root = await poster.say(rooms[bot.kind], bot.command(i))
            await poster.wait_for(bot.replied(root), timeout=REPLY_TIMEOUT)
            roots[bot.kind].append(root)
            if keep:
                samples[bot.kind].append(time.monotonic() - began)

        for i in range(WARMUP):
            for bot in (echo, casebot):
                await one(bot, i, keep=False)
        for bot in (echo, casebot):
            cpu[bot.kind] = -bot.cpu_seconds()
        i = WARMUP
        while len(samples[casebot.kind]) < count:
            pair = (echo, casebot) if (i // BLOCK) % 2 else (casebot, echo)
            size = min(BLOCK, count - len(samples[casebot.kind]))
            for bot in pair:
                for k in range(size):
                    await one(bot, i + k, keep=True)
            i += size
        for bot in (echo, casebot):
            cpu[bot.kind] += bot.cpu_seconds()
        await asyncio.sleep(SETTLE)

        for bot in (casebot, echo):
            counts = answers(poster, bot, roots[bot.kind])
            wrong = {r: n for r, n in counts.items() if n != 1}
            res.check(f"{bot.kind}: every command answered exactly once", not wrong,
                      f"{len(wrong)} commands with 0 or 2+ answers")
        numbers = card_numbers(poster, casebot, rooms[casebot.kind])
        res.check("casebot: case numbers 1…N, each once",
                  sorted(numbers) == list(range(1, len(roots[casebot.kind]) + 1)),
                  f"{len(numbers)} cards for {len(roots[casebot.kind])} cases")

    ms = {k: [s * 1000 for s in v] for k, v in samples.items()}
    for pct, target in ((50, Target("ratio", "<=", 1.15)), (95, None),
                        (99, Target("ratio", "<=", 1.5))):
        res.add(Figure(f"p{pct} latency", "ms", percentile(ms[casebot.kind], pct),
                       percentile(ms[echo.kind], pct), target))
    res.add(Figure("bot CPU per command", "ms", cpu[casebot.kind] * 1000 / count,
                   cpu[echo.kind] * 1000 / count,
                   note="user+system time of the bot process during the measured commands"))
    return res
