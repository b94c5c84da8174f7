"""Operating the bot on the real Synapse: back up a running bot, wipe it, restore it, run it
again; metrics and /healthz over HTTP from `casebot run`; `casebot doctor` on a live bot; a
bot kicked or banned from a room forgets it; an identifier only in an edit's HTML is warned."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest

from bot.events import NotInRoom
from bot.homeserver import free_port
from bot.matrix import UserClient
from tests.support.live import PASSWORD, REPO, Live, bot_process, stop_process, unique
from tests.test_live_attachments import running, until

PASSPHRASE = "a long backup passphrase"


async def cli(*args: str, config: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`casebot <args> -c config` as the operator runs it (secrets from config's .env, which
    `env` overrides)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "CASEBOT_BACKUP_PASSPHRASE": PASSPHRASE,
           **env}
    return await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "bot", *args, "-c", str(config)],
        cwd=config.parent, env=env, capture_output=True, text=True, timeout=120)


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


def timer_keys(data_dir: Path) -> set[str]:
    conn = sqlite3.connect(f"file:{data_dir / 'casebot.db'}?mode=ro", uri=True)
    try:
        return {key for (key,) in conn.execute("SELECT key FROM timers")}
    finally:
        conn.close()


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
        card = await alice.wait_for(lambda e: e.sender == bot.user_id and e.answer_to == first)
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
        timers = timer_keys(bot.config.data_dir)
        assert any(key.startswith("unanswered:") for key in timers)  # case 1's reminders
        made = await cli("backup", str(tmp_path / "bot.backup"), config=config)
        assert made.returncode == 0, made.stderr
        assert f"device {device}" in made.stdout
    finally:
        assert stop_process(proc) == 0
    shutil.rmtree(bot.config.data_dir)
    restored = await cli("restore", str(tmp_path / "bot.backup"), config=config)
    assert restored.returncode == 0, restored.stderr
    assert restored.stderr == ""
    assert json.loads((bot.config.data_dir / "credentials.json").read_text())["device_id"] \
        == device
    assert timer_keys(bot.config.data_dir) == timers
    proc = bot_process(config, tmp_path / "bot.log")
    try:
        second = await alice.say(room, "!case Douleur thoracique atypique #cardio")
        reply = await alice.wait_for(
            lambda e: e.sender == bot.user_id and e.answer_to == second, timeout=60)
        assert reply.decrypted and reply.body.startswith("Cas #2")  # the cases survived
        await asyncio.sleep(3)  # time for a second answer to the first case to show up
        assert sum(e.sender == bot.user_id and e.answer_to == first
                   and e.body.startswith("Cas #") for e in alice.seen) == 1
        log = (tmp_path / "bot.log").read_text()
        assert log.count(f"device {device} restored") == 2
        assert "logged in as" in log and log.count("logged in as") == 1  # no second device
    finally:
        stop_process(proc)


def findings(result: subprocess.CompletedProcess[str]) -> dict[str, list[dict[str, str]]]:
    by_check: dict[str, list[dict[str, str]]] = {}
    for finding in json.loads(result.stdout)["findings"]:
        by_check.setdefault(finding["check"], []).append(finding)
    return by_check


async def devices_of(homeserver: str, token: str) -> set[str]:
    async with aiohttp.ClientSession() as http, http.get(
            f"{homeserver}/_matrix/client/v3/devices",
            headers={"Authorization": f"Bearer {token}"}) as resp:
        return {d["device_id"] for d in (await resp.json())["devices"]}


async def member_without_encryption(live: Live, inviter: UserClient, room: str) -> str:
    """A member whose only device never uploaded encryption keys (a plain HTTP client)."""
    user = live.hs.register(unique("plain"), PASSWORD)
    async with aiohttp.ClientSession(live.hs.url) as http:
        async with http.post("/_matrix/client/v3/login", json={
                "type": "m.login.password", "password": PASSWORD,
                "identifier": {"type": "m.id.user", "user": user}}) as resp:
            token = (await resp.json())["access_token"]
        assert inviter.client is not None
        await inviter.client.room_invite(room, user)
        async with http.post(f"/_matrix/client/v3/join/{quote(room)}", json={},
                             headers={"Authorization": f"Bearer {token}"}) as resp:
            assert resp.status == 200
    await inviter.wait_joined(room, user)
    return user


async def test_doctor_beside_the_running_bot(live: Live, tmp_path: Path) -> None:
    bot = live.bot_config(plugins=["specialties", "cases"])
    config = bot.write_config(tmp_path / "bot.yaml")
    alice = await live.physician("alice")
    proc = bot_process(config, tmp_path / "bot.log")
    try:
        good = await live.room_with(alice, bot, bot_power=50)
        plain = await live.room_with(alice, bot, encrypted=False)
        bob = await member_without_encryption(live, alice, good)
        root = await alice.say(good, "!help")
        await alice.wait_for(lambda e: e.sender == bot.user_id and e.answer_to == root)
        creds = json.loads((bot.config.data_dir / "credentials.json").read_text())
        before = await devices_of(bot.config.matrix.homeserver, creds["access_token"])
        assert creds["device_id"] in before
        result = await cli("doctor", "--json", config=config)
        assert result.returncode == 0, result.stdout + result.stderr
        found = findings(result)
        assert [f["level"] for f in found["homeserver"]] == ["ok"]
        assert "answers (Synapse 1." in found["homeserver"][0]["message"]
        assert found["credentials"][0]["level"] == "ok"
        assert [f["level"] for f in found["cross-signing"]] == ["ok"]
        assert "cross-signed by the bot's master key" in found["cross-signing"][0]["message"]
        assert found["crypto store"][0]["level"] == "ok"
        rooms = {f["message"].split(" ")[0].rstrip(":"): f for f in found["room"]
                 if f["level"] == "ok"}
        assert good not in rooms and plain not in rooms
        room_name = alice.client.rooms[good].display_name
        warnings = [f["message"] for f in found["room"] if f["level"] == "warning"]
        assert any(m.startswith(plain) and "not end-to-end encrypted" in m for m in warnings)
        assert any(m.startswith(plain) and "cannot redact" in m for m in warnings)
        assert [m for m in warnings if m.startswith(good)] == [
            f"{good} ({room_name}): {bob} has no device the bot can encrypt for: they cannot "
            "read its answers"]
        assert [f["level"] for f in found["database"]] == ["ok"]
        assert found["data dir"][0]["level"] == "ok"
        # Plain text for people, and the bot still has one device and keeps answering.
        text = await cli("doctor", config=config)
        assert text.returncode == 0 and "0 error(s)" in text.stdout
        assert "WARNING room" in text.stdout and "→ " in text.stdout
        second = await alice.say(good, "!aide")
        await alice.wait_for(lambda e: e.sender == bot.user_id and e.answer_to == second)
        assert await devices_of(bot.config.matrix.homeserver, creds["access_token"]) == before
        # A wrong pickle key is an error: exit 1, in words.
        wrong = await cli("doctor", config=config, CASEBOT_PICKLE_KEY="not-it")
        assert wrong.returncode == 1
        assert "ERROR   crypto store: the crypto store does not open" in wrong.stdout
        assert "cross_signing.keys does not open with CASEBOT_PICKLE_KEY" in wrong.stdout
        # A refused token (the device logged out) is an error, and nothing is checked after
        # it on the Matrix side.
        copy = tmp_path / "copy"
        shutil.copytree(bot.config.data_dir, copy / "data")
        (copy / "data" / "credentials.json").write_text(json.dumps(
            {**creds, "access_token": "syt_not_a_token"}))
        (copy / "bot.yaml").write_text(config.read_text().replace(
            str(bot.config.data_dir), str(copy / "data")))
        shutil.copy(tmp_path / ".env", copy / ".env")
        refused = await cli("doctor", "--json", config=copy / "bot.yaml")
        assert refused.returncode == 1
        found = findings(refused)
        assert found["credentials"][0]["level"] == "error"
        assert "the access token was refused" in found["credentials"][0]["message"]
        assert "room" not in found and "crypto store" not in found
    finally:
        assert stop_process(proc) == 0


async def test_a_kicked_or_banned_bot_forgets_the_room(live: Live) -> None:
    """nio ignores the sync's `leave` section: the bot kept a room it was removed from, with
    its members and powers as they were, and tried to send there."""
    handle = live.bot_config(plugins=[])
    alice = await live.physician("alice")
    async with running(handle) as transport:
        kicked = await live.room_with(alice, handle.user_id)
        banned = await live.room_with(alice, handle.user_id)
        await until(lambda: {kicked, banned} <= set(transport.room_ids()))
        assert alice.user_id in transport.room(kicked).members
        assert alice.client is not None
        await alice.client.room_kick(kicked, handle.user_id, "test")
        await alice.client.room_ban(banned, handle.user_id, "test")
        await until(lambda: not {kicked, banned} & set(transport.room_ids()))
        assert transport.room(kicked) is None and transport.room(banned) is None
        for room in (kicked, banned):
            with pytest.raises(NotInRoom):
                await transport.send(room, "m.room.message",
                                     {"msgtype": "m.notice", "body": "toujours là ?"},
                                     f"txn-gone-{room}")
        # Invited again after the kick: the bot joins and knows the room again, whole.
        await alice.client.room_invite(kicked, handle.user_id)
        await until(lambda: (info := transport.room(kicked)) is not None
                    and alice.user_id in info.members)
        await transport.send(kicked, "m.room.message",
                             {"msgtype": "m.notice", "body": "de retour"}, "txn-back")
        back = await alice.wait_for(lambda e: e.room_id == kicked and e.sender ==
                                    handle.user_id and e.type != "m.room.member")
        assert back.decrypted and back.content.get("body") == "de retour"
        assert banned not in transport.room_ids()


async def test_an_identifier_only_in_an_edits_html_is_warned_without_echo(live: Live) -> None:
    bot = await live.bot(plugins=["specialties", "cases", "secrecy"])
    alice = await live.physician("alice")
    room = await live.room_with(alice, bot)
    root = await alice.say(room, "!case Femme 45 ans, plaques des coudes, psoriasis ? avis")
    await alice.wait_for(lambda e: e.sender == bot.user_id and e.thread_root == root)
    reply = await alice.say(room, "Je peux la voir cette semaine", thread_root=root)
    # What Element shows of the edit is its HTML: the phone number is there only.
    await alice.send(room, {
        "msgtype": "m.text", "body": "* Je peux la voir, appelez-la",
        "m.new_content": {"msgtype": "m.text", "body": "Je peux la voir, appelez-la",
                          "format": "org.matrix.custom.html",
                          "formatted_body": "Je peux la voir, appelez-la au "
                                            "<b>06 12 34 56 78</b>"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": reply}})
    warning = await alice.wait_for(lambda e: e.sender == bot.user_id and e.thread_root == root
                                   and "R.4127-73" in e.body)
    assert warning.decrypted and alice.user_id in warning.mentions
    assert "un numéro de téléphone" in warning.body
    for value in ("06 12", "34 56", "56 78"):
        assert value not in warning.body and value not in warning.content["formatted_body"]
