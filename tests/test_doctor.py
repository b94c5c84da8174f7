"""`casebot doctor` without a homeserver: configuration, data directory and database checks,
the exit status and the JSON (the Matrix checks run live in tests/test_live_ops.py)."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.doctor import Report, check_data_dir, check_database
from bot.homeserver import free_port
from bot.loading import known_schemas
from bot.testing import START, Harness
from plugins.cases import Cases
from plugins.specialties import Specialties

KNOWN = known_schemas([Specialties, Cases])
CASES = KNOWN["cases"]


async def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    async with Harness([Specialties, Cases], db_path=data / "casebot.db") as h:
        h.add_room("!r:test", members=["@alice:test"])
        await h.say("@alice:test", "!case Toux chronique #pneumo", room="!r:test")
    return data


def levels(report: Report, check: str) -> list[str]:
    return [f.level for f in report.findings if f.check == check]


async def test_a_healthy_data_dir_and_database(tmp_path: Path) -> None:
    data = await data_dir(tmp_path)
    report = Report()
    check_data_dir(data, report)
    check_database(data, KNOWN, report, START)
    assert not report.failed
    assert [f.level for f in report.findings] == ["ok"] * 5, report.text()
    assert f"cases {CASES}, core 1" in report.text()


async def test_overdue_timers_pending_events_and_loose_permissions_are_warnings(
        tmp_path: Path) -> None:
    data = await data_dir(tmp_path)
    conn = sqlite3.connect(data / "casebot.db")
    conn.execute("INSERT INTO kv VALUES ('undecryptable_pending', ?)",
                 (json.dumps([["!r:test", "$a", START], ["!r:test", "$b", START]]),))
    conn.execute("UPDATE timers SET attempts = 2 WHERE key LIKE 'autoclose:%'")
    conn.commit()
    conn.close()
    os.chmod(data / "casebot.db", 0o644)
    report = Report()
    check_data_dir(data, report)
    check_database(data, KNOWN, report, START + 5 * 3600)
    assert not report.failed
    text = report.text()
    assert "WARNING data dir: 1 path(s) readable by others: casebot.db" in text
    assert f"→ chmod -R go-rwx {data}" in text
    assert "WARNING decryption: 2 event(s) wait for their room keys" in text
    assert "WARNING timers: 1 timer(s) more than 5 min overdue" in text
    assert "WARNING timers: 1 timer(s) failed and will be retried" in text


async def test_a_newer_schema_or_a_damaged_database_is_an_error(tmp_path: Path) -> None:
    data = await data_dir(tmp_path)
    report = Report()
    check_database(data, {**KNOWN, "cases": CASES - 1}, report, START)
    assert report.failed and levels(report, "schema") == ["error"]
    assert f"cases {CASES} (this casebot knows {CASES - 1})" in report.text()
    older = Report()
    check_database(data, {**KNOWN, "cases": CASES + 2}, older, START)
    assert not older.failed
    assert f"migrated at the next start: cases {CASES} → {CASES + 2}" in older.text()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "casebot.db").write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    damaged = Report()
    check_database(broken, KNOWN, damaged, START)
    assert damaged.failed and levels(damaged, "database") == ["error"]


def write_config(tmp_path: Path, homeserver: str, extra: str = "") -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"matrix: {{homeserver: '{homeserver}', user_id: '@bot:test'}}\n"
                    f"data_dir: data\n{extra}")
    return path


def test_cli_unreachable_homeserver_is_an_error_exit_1(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(data_dir(tmp_path))
    monkeypatch.setenv("CASEBOT_PICKLE_KEY", "k")
    config = write_config(tmp_path, f"http://127.0.0.1:{free_port()}")
    assert main(["doctor", "-c", str(config), "--json"]) == 1
    found = json.loads(capsys.readouterr().out)
    assert found["ok"] is False
    assert found["findings"][0] == {"check": "config", "level": "ok",
                                    "message": f"{config} is valid", "fix": ""}
    homeserver = found["findings"][1]
    assert homeserver["level"] == "error" and "does not answer" in homeserver["message"]
    assert "matrix.homeserver" in homeserver["fix"]
    assert [f["check"] for f in found["findings"][2:]][:2] == ["data dir", "database"]


def test_cli_bad_config_and_missing_pickle_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("CASEBOT_PICKLE_KEY", raising=False)
    config = write_config(tmp_path, "ftp://nowhere", "metrics: {listen: 'everywhere'}\n")
    assert main(["doctor", "-c", str(config)]) == 1
    out = capsys.readouterr().out
    assert "ERROR   config: matrix.homeserver: must start with http:// or https://" in out
    assert "ERROR   config: metrics.listen: expected host:port" in out
    config = write_config(tmp_path, f"http://127.0.0.1:{free_port()}")
    assert main(["doctor", "-c", str(config)]) == 1
    out = capsys.readouterr().out
    assert "ERROR   secrets: CASEBOT_PICKLE_KEY is not set" in out
    assert "ERROR   data dir:" in out


async def test_a_homeserver_that_stops_answering_mid_check_is_an_error_not_a_crash(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`/versions` answers, then the connection drops (a proxy restarting, a flaky link):
    the doctor still reports, in JSON too, instead of dying with a traceback."""
    from aiohttp import web

    from bot.doctor import diagnose

    async def versions(request: web.Request) -> web.Response:
        return web.json_response({"versions": ["v1.11"]})

    async def drop(request: web.Request) -> web.Response:
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    app = web.Application()
    app.router.add_get("/_matrix/client/versions", versions)
    app.router.add_route("*", "/{tail:.*}", drop)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        data = await data_dir(tmp_path)
        (data / "credentials.json").write_text(json.dumps(
            {"homeserver": f"http://127.0.0.1:{port}", "user_id": "@bot:test",
             "device_id": "BOTDEVICE", "access_token": "syt_x"}))
        monkeypatch.setenv("CASEBOT_PICKLE_KEY", "k")
        report = await diagnose(write_config(tmp_path, f"http://127.0.0.1:{port}"))
    finally:
        await runner.cleanup()
    assert report.failed
    [stopped] = [f for f in report.findings if "stopped answering" in f.message]
    assert stopped.check == "homeserver" and stopped.level == "error"
    assert [f.check for f in report.findings][-5:-3] == ["data dir", "database"]
    json.loads(report.json())
