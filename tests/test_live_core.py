"""The core against a real Synapse, in real encrypted rooms, with real nio clients."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bot.config import Duration
from bot.syncstore import HELD_KEY
from tests.support.live import Live, bot_process, stop_process


async def test_help_in_encrypted_room_is_a_notice_replying_to_it(live: Live) -> None:
    bot = await live.bot(plugins=[])
    alice = await live.physician("alice")
    room = await live.room_with(alice, bot)
    root = await alice.say(room, "!help")
    reply = await alice.wait_for(lambda e: e.sender == bot.user_id and e.answer_to == root)
    assert reply.decrypted and reply.thread_root is None  # a reply: threads are for cases
    assert reply.content["msgtype"] == "m.notice"
    assert "Commandes courantes" in reply.body
    assert "!help" in reply.body


async def test_restart_keeps_device_and_still_decrypts(live: Live, tmp_path: Path) -> None:
    bot = live.bot_config(plugins=[])
    config_path = bot.write_config(tmp_path / "bot.yaml")
    alice = await live.physician("alice")
    proc = bot_process(config_path, tmp_path / "bot.log")
    try:
        room = await live.room_with(alice, bot)
        first = await alice.say(room, "!help")
        await alice.wait_for(lambda e: e.sender == bot.user_id and e.answer_to == first)
        device = json.loads((bot.config.data_dir / "credentials.json").read_text())["device_id"]
    finally:
        assert stop_process(proc) == 0
    mode = stat.S_IMODE((bot.config.data_dir / "credentials.json").stat().st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(bot.config.data_dir.stat().st_mode) == 0o700
    proc = bot_process(config_path, tmp_path / "bot.log")
    try:
        second = await alice.say(room, "!aide")
        reply = await alice.wait_for(
            lambda e: e.sender == bot.user_id and e.answer_to == second, timeout=40)
        assert reply.decrypted and "Commandes courantes" in reply.body
        again = json.loads((bot.config.data_dir / "credentials.json").read_text())["device_id"]
        assert again == device
    finally:
        stop_process(proc)


async def test_kill_9_during_burst_answers_every_command_once(live: Live, tmp_path: Path) -> None:
    bot = live.bot_config(plugins=[])
    config_path = bot.write_config(tmp_path / "bot.yaml", rate_limit={"commands": 1000})
    alice = await live.physician("alice")
    proc = bot_process(config_path, tmp_path / "bot.log")
    roots: list[str] = []
    try:
        room = await live.room_with(alice, bot)
        for i in range(30):
            roots.append(await alice.say(room, "!help" if i % 2 else "!aide"))
            if i == 2:
                await alice.wait_for(lambda e: e.sender == bot.user_id and e.answer_to)
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    finally:
        stop_process(proc)
    proc = bot_process(config_path, tmp_path / "bot.log")
    try:
        for root in roots:
            await alice.wait_for(
                lambda e, r=root: e.sender == bot.user_id and e.answer_to == r, timeout=60)
        await asyncio.sleep(3)  # give a duplicate the time to show up
        replies = Counter(e.answer_to for e in alice.seen
                          if e.sender == bot.user_id and e.answer_to in roots)
        assert all(replies[r] == 1 for r in roots), replies
    finally:
        stop_process(proc)


async def test_invite_from_stranger_is_declined(live: Live) -> None:
    bot = await live.bot(plugins=[])
    mallory = await live.physician("mallory")
    bot_cfg = dataclasses.replace(bot.config.matrix, allowed_inviters=("@alice*:localhost",))
    await bot.stop()
    bot.config = dataclasses.replace(bot.config, matrix=bot_cfg)
    await bot.start()
    room = await mallory.create_room("pas pour toi", invite=[bot.user_id])
    left = await mallory.wait_for(lambda e: e.room_id == room and e.type == "m.room.member"
                                  and e.state_key == bot.user_id
                                  and e.content.get("membership") == "leave")
    assert left.sender == bot.user_id


async def test_undecryptable_message_gets_a_thread_notice(live: Live) -> None:
    bot = await live.bot(plugins=[])
    alice = await live.physician("alice")
    room = await live.room_with(alice, bot)
    await alice.withhold_keys_from(bot.user_id)
    root = await alice.say(room, "!help")
    reply = await alice.wait_for(
        lambda e: e.sender == bot.user_id and e.answer_to == root, timeout=30)
    assert "pas pu déchiffrer" in reply.body


def test_demo_script_only_plays_the_encrypted_exchange() -> None:
    repo = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-m", "bot", "demo", "--script-only"],
                            cwd=repo, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "chiffré de bout en bout" in result.stdout
    assert "casebot : Commandes courantes" in result.stdout
    assert "[non déchiffré]" not in result.stdout
    assert "casebot : Cas #1 · Dermatologie" in result.stdout
    assert "casebot : Cas #2 · Cardiologie · ouvert" in result.stdout  # proposed, then picked
    assert "casebot : Cas #2 : Cardiologie." in result.stdout


async def held_in_database(data_dir: Path, event_id: str, timeout: float = 30.0) -> None:
    """Wait until the bot has saved `event_id` among the events waiting for their keys."""
    for _ in range(int(timeout * 10)):
        conn = sqlite3.connect(f"file:{data_dir / 'casebot.db'}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM kv WHERE key = ?", (HELD_KEY,)).fetchone()
        finally:
            conn.close()
        if row is not None and any(held[1] == event_id for held in json.loads(row[0])):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{event_id} was never held for its key")


async def test_an_event_waiting_for_its_key_survives_a_restart(live: Live) -> None:
    """Held undecryptable events are kept in the database: the notice still comes after a
    restart (before, the held event lived in memory and was lost with it)."""
    handle = live.bot_config(plugins=[])
    handle.config = dataclasses.replace(handle.config, matrix=dataclasses.replace(
        handle.config.matrix, undecryptable_grace=Duration(5)))
    await handle.start()
    alice = await live.physician("alice")
    room = await live.room_with(alice, handle)
    await alice.withhold_keys_from(handle.user_id)
    root = await alice.say(room, "!help")
    await held_in_database(handle.config.data_dir, root)  # held; the grace runs on
    await handle.stop()
    await handle.start()
    reply = await alice.wait_for(
        lambda e: e.sender == handle.user_id and e.answer_to == root, timeout=40)
    assert "pas pu déchiffrer" in reply.body
    await asyncio.sleep(2)
    assert sum(e.sender == handle.user_id and e.answer_to == root for e in alice.seen) == 1
