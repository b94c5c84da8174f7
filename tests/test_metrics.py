"""Metrics and /healthz over HTTP, on the Harness (the live run is in tests/test_live_ops.py)."""

from __future__ import annotations

import re

import aiohttp
import pytest

from bot.homeserver import free_port
from bot.metrics import HEALTHY_WITHIN, SyncProbe, serve_metrics
from bot.testing import Harness
from plugins.cases import Cases
from plugins.specialties import Specialties
from plugins.volunteers import Volunteers

ROOM = "!room:test"


class FakeSync:
    def __init__(self) -> None:
        self.last: float | None = None
        self.pending = 0
        self.undecryptable = 0

    def probe(self) -> SyncProbe:
        return SyncProbe(lambda: self.last, lambda: self.pending, lambda: self.undecryptable)


def value(text: str, name: str, labels: str = "") -> float:
    """A sample's value in the Prometheus text format (0 when absent)."""
    pattern = re.escape(name + (f"{{{labels}}}" if labels else "")) + r" (\S+)"
    found = re.search(f"^{pattern}$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


@pytest.fixture
async def served():
    async with Harness([Specialties, Cases, Volunteers]) as h:
        h.add_room(ROOM, members=["@alice:test", "@bob:test", "@vol:test"])
        sync = FakeSync()
        h.app.metrics.watch(sync.probe())
        port = free_port()
        runner = await serve_metrics(h.app.metrics, f"127.0.0.1:{port}", h.app.refresh_metrics)
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            yield h, sync, http, port
        await runner.cleanup()


async def get(http: aiohttp.ClientSession, path: str) -> tuple[int, str]:
    async with http.get(path) as resp:
        return resp.status, await resp.text()


async def test_a_case_is_counted_opened_once_stored_before_its_card_is_sent(served) -> None:
    """A member who sees the card can read the case in the metrics (the live backup test read
    them between the card and the count, under load); a card whose sending fails leaves the
    case opened, and counted."""
    h, _sync, http, _port = served
    h.transport.fail_sends = 1
    await h.say("@alice:test", "!case Plaques des coudes, psoriasis ? #dermato", room=ROOM)
    assert await h.db.fetchval("SELECT COUNT(*) FROM cases") == 1
    _status, text = await get(http, "/metrics")
    assert value(text, "casebot_cases_opened_total") == 1


async def test_metrics_count_events_commands_replies_cases_and_pages(served) -> None:
    h, sync, http, _port = served
    await h.say("@vol:test", "!volunteer dermato", room=ROOM)
    root = await h.say("@alice:test", "!case Plaques des coudes, psoriasis ? #dermato", room=ROOM)
    await h.say("@alice:test", "!resolve", room=ROOM, thread_root=root)
    await h.say("@bob:test", "!nosuchcommand", room=ROOM)
    await h.say("@bob:test", "bonjour", room=ROOM)
    sync.pending, sync.undecryptable = 2, 5
    status, text = await get(http, "/metrics")
    assert status == 200
    assert value(text, "casebot_events_handled_total", 'kind="Message"') == 5
    assert value(text, "casebot_commands_total", 'command="case"') == 1
    assert value(text, "casebot_commands_total", 'command="resolve"') == 1
    assert value(text, "casebot_commands_total", 'command="volunteer"') == 1
    assert value(text, "casebot_cases_opened_total") == 1
    assert value(text, "casebot_cases_resolved_total") == 1
    assert value(text, "casebot_volunteers_pages_sent_total") == 1
    assert value(text, "casebot_replies_sent_total") == len(h.sent)
    assert value(text, "casebot_replies_failed_total") == 0
    assert value(text, "casebot_events_pending_decryption") == 2
    assert value(text, "casebot_decryption_failures_total") == 5
    assert value(text, "casebot_handler_seconds_count", 'handler="cases.case"') == 1
    assert value(text, "casebot_event_lag_seconds_count") == 5
    # Labels are bounded: no user, room or text ever appears.
    for secret in ("@alice", "@bob", "!room", "psoriasis", "nosuchcommand", "bonjour"):
        assert secret not in text


async def test_overdue_timers_are_read_at_scrape(served) -> None:
    h, _sync, http, _port = served
    await h.say("@alice:test", "!case Toux chronique #pneumo", room=ROOM)
    assert value((await get(http, "/metrics"))[1], "casebot_timers_overdue") == 0
    h.clock.value += 5 * 3600  # past the 4 h reminder, and nobody ran the timers
    assert value((await get(http, "/metrics"))[1], "casebot_timers_overdue") == 1
    await h.advance(0)
    assert value((await get(http, "/metrics"))[1], "casebot_timers_overdue") == 0


async def test_failed_sends_are_counted(served) -> None:
    h, _sync, http, _port = served

    async def refuse(*args: object) -> str:
        raise RuntimeError("homeserver said no")

    h.transport.send = refuse
    await h.say("@alice:test", "!help", room=ROOM)
    text = (await get(http, "/metrics"))[1]
    assert value(text, "casebot_replies_failed_total") >= 1


async def test_healthz_follows_the_sync_loop(served) -> None:
    h, sync, http, _port = served
    assert await get(http, "/healthz") == (503, "starting: no sync completed yet\n")
    sync.last = h.clock() - 5
    status, text = await get(http, "/healthz")
    assert (status, text) == (200, "ok: last sync completed 5 s ago\n")
    assert value((await get(http, "/metrics"))[1], "casebot_sync_age_seconds") == 5
    sync.last = h.clock() - HEALTHY_WITHIN - 1
    status, text = await get(http, "/healthz")
    assert status == 503 and text.startswith("stalled: last sync completed 121 s ago")


async def test_a_busy_port_is_a_config_error(served) -> None:
    from bot.config import ConfigError

    h, _sync, _http, port = served
    with pytest.raises(ConfigError, match=f"metrics.listen: cannot listen on 127.0.0.1:{port}"):
        await serve_metrics(h.app.metrics, f"127.0.0.1:{port}", h.app.refresh_metrics)


def test_metric_names_from_plugins_are_checked() -> None:
    from bot.metrics import Metrics

    metrics = Metrics()
    metrics.count("cases", "opened")
    with pytest.raises(ValueError):
        metrics.count("cases", "opened by @alice")


def test_a_long_poll_longer_than_the_health_window_is_a_config_error(tmp_path) -> None:
    """With `sync_timeout: 5m` a quiet homeserver holds each sync for 5 min: /healthz would
    say "stalled" every night and the health timer restart a bot that works."""
    from bot.config import ConfigError, load

    path = tmp_path / "config.yaml"
    base = "matrix: {homeserver: 'http://hs', user_id: '@bot:test', sync_timeout: %s}\n"
    path.write_text(base % "5m" + "metrics: {listen: '127.0.0.1:9464'}\n")
    with pytest.raises(ConfigError, match=r"matrix\.sync_timeout: at most 90 s"):
        load(path, environ={})
    path.write_text(base % "5m")  # no /healthz: any long-poll
    assert load(path, environ={})[0].matrix.sync_timeout == 300
    path.write_text(base % "90s" + "metrics: {listen: '127.0.0.1:9464'}\n")
    assert load(path, environ={})[0].metrics.listen == "127.0.0.1:9464"
