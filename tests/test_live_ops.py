"""Operating the bot on the real Synapse: back up a running bot, wipe it, restore it, run it
again; metrics and /healthz over HTTP from `casebot run`; `casebot doctor` on a live bot."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import aiohttp

from bot.homeserver import free_port
from tests.support.live import REPO, Live, bot_process, stop_process

PASSPHRASE = "a long backup passphrase"


def cli(*args: str, config: Path) -> subprocess.CompletedProcess[str]:
    """`casebot <args> -c config` as the operator runs it (secrets from config's .env)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "CASEBOT_BACKUP_PASSPHRASE": PASSPHRASE}
    return subprocess.run([sys.executable, "-m", "bot", *args, "-c", str(config)],
                           cwd=config.parent, env=env, capture_output=True, text=True,
                           timeout=120)


async def http_get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, await resp.text()


async def until_healthy(url: str, timeout: float = 30) -> str:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            status, text = await http_get(url)
            if status == 200:
                return text
        except aiohttp.ClientError:
            pass
        assert asyncio.get_running_loop().time() < deadline, "never healthy"
        await asyncio.sleep(0.5)


async def test_backup_wipe_restore_resumes_same_device_once(live: Live, tmp_path: Path) -> None:
    bot = live.bot_config(plugins=["specialties", "cases"])
    port = free_port()
    config = bot.write_config(tmp_path / "bot.yaml",
                              metrics={"listen": f"127.0.0.1:{port}"})
    alice = await live.physician("alice")
    proc = bot_process(config, tmp_path / "bot.log")
    base = f"http://127.0.0.1:{port}"
    try:
        room = await live.room_with(alice, bot)
        first = await alice.say(room, "!case Toux chronique depuis 3 mois #pneumo")
        card = await alice.wait_for(lambda e: e.sender == bot.user_id and e.thread_root == first)
        assert card.body.startswith("Cas #1")
        # Metrics and health, over HTTP, from `casebot run`.
        assert (await until_healthy(f"{base}/healthz")).startswith("ok: last sync completed")
        status, metrics = await http_get(f"{base}/metrics")
        assert status == 200
        assert 'casebot_commands_total{command="case"} 1.0' in metrics
        assert "casebot_cases_opened_total 1.0" in metrics
        assert "casebot_sync_age_seconds" in metrics and "casebot_timers_overdue 0.0" in metrics
        assert alice.user_id not in metrics and room not in metrics
        await asyncio.sleep(2)  # the sync token of the batch that held the case is written
        device = json.loads((bot.config.data_dir / "credentials.json").read_text())["device_id"]
        made = cli("backup", str(tmp_path / "bot.backup"), config=config)
        assert made.returncode == 0, made.stderr
        assert f"device {device}" in made.stdout
    finally:
        assert stop_process(proc) == 0
    shutil.rmtree(bot.config.data_dir)
    restored = cli("restore", str(tmp_path / "bot.backup"), config=config)
    assert restored.returncode == 0, restored.stderr
    assert restored.stderr == ""
    assert json.loads((bot.config.data_dir / "credentials.json").read_text())["device_id"] \
        == device
    proc = bot_process(config, tmp_path / "bot.log")
    try:
        second = await alice.say(room, "!case Douleur thoracique atypique #cardio")
        reply = await alice.wait_for(
            lambda e: e.sender == bot.user_id and e.thread_root == second, timeout=60)
        assert reply.decrypted and reply.body.startswith("Cas #2")  # the cases survived
        await asyncio.sleep(3)  # time for a second answer to the first case to show up
        assert sum(e.sender == bot.user_id and e.thread_root == first
                   and e.body.startswith("Cas #") for e in alice.seen) == 1
        log = (tmp_path / "bot.log").read_text()
        assert log.count(f"device {device} restored") == 2
        assert "logged in as" in log and log.count("logged in as") == 1  # no second device
    finally:
        stop_process(proc)
