"""`!stats`: the per-day sums against the cases themselves on random histories, the text as it
reads in a thread (short, agreed, French), and the chart's periods."""

from __future__ import annotations

import asyncio
import multiprocessing
import struct
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import Config
from bot.loading import load_plugin_classes
from bot.storage import Database
from bot.testing import Harness
from plugins.cases.model import CLOSED, MANUAL, OPEN, RESOLVED, SUGGESTED, WITHDRAWN
from plugins.cases.store import MIGRATIONS, CaseStore
from plugins.cases.sums import CHART_STEPS
from plugins.learning import charts
from plugins.learning.charts import ChartData
from tests.support.charts import kept_charts

ROOMS = ("!a:test", "!b:test")
SPECS = ("cardio", "dermato", "psy")
DAY = 86400
T0 = 1_800_000_000 // DAY * DAY - 40 * DAY  # a day's midnight (UTC), 40 days back

# ---- the oracle: the figures straight from the rows, in Python ------------------------------


def shown(delay: float) -> int:
    """`delay` rounded down to the unit `!stats` shows (minute, hour, day; 0 under a minute)."""
    delay = max(delay, 0)
    unit = 60 if delay < 3600 else 3600 if delay < DAY else DAY
    return int(delay // unit) * unit


def low_median(values: list[Any]) -> Any:
    return sorted(values)[(len(values) - 1) // 2] if values else None


def first_tag(specialties: str) -> str:
    return specialties.split(",")[0]


def oracle(cases: list[dict], retags: list[dict], room: str, since: float) -> dict[str, Any]:
    chosen = [c for c in cases if c["room_id"] == room and c["opened_at"] >= since]
    numbers = {c["number"] for c in chosen}
    per_spec: dict[str, list[int]] = {}
    for c in chosen:
        for spec in c["specialties"].split(",") if c["specialties"] else ("",):
            totals = per_spec.setdefault(spec, [0, 0])
            totals[0] += 1
            totals[1] += c["status"] == RESOLVED
    tagged = [c for c in chosen if c["auto_tag"]]
    changed = [c for c in tagged
               if c["tag_source"] == MANUAL and c["auto_tag"] != first_tag(c["specialties"])]
    proposed = [c for c in chosen if c["proposed"]]
    manual = [c for c in proposed if c["tag_source"] == MANUAL]
    moves = Counter((r["from_tag"], r["to_tag"]) for r in retags
                    if r["room_id"] == room and r["number"] in numbers
                    and r["from_tag"] != r["to_tag"])
    return {
        "by_status": dict(Counter(c["status"] for c in chosen)),
        "counted": sum(c["status"] != WITHDRAWN for c in chosen),
        "fast": sum(c["status"] != WITHDRAWN and c["first_reply_at"] is not None
                    and c["first_reply_at"] - c["opened_at"] <= 3600 for c in chosen),
        "first": shown(low_median([c["first_reply_at"] - c["opened_at"] for c in chosen
                                   if c["first_reply_at"] is not None]) or 0)
        if any(c["first_reply_at"] is not None for c in chosen) else None,
        "resolution": shown(low_median([c["resolved_at"] - c["opened_at"] for c in chosen
                                        if c["status"] == RESOLVED]) or 0)
        if any(c["status"] == RESOLVED for c in chosen) else None,
        "per_spec": {s: tuple(t) for s, t in per_spec.items()},
        "tagged": len(tagged), "changed": len(changed),
        "per_tag": {t: (sum(c["auto_tag"] == t for c in tagged),
                        sum(c["auto_tag"] == t for c in changed))
                    for t in {c["auto_tag"] for c in tagged}},
        "moves": dict(moves),
        "proposed": len(proposed),
        "as_proposed": sum(c["auto_tag"] == c["specialties"] for c in manual),
        "other": sum(c["auto_tag"] != c["specialties"] and  # (the list as it was proposed)
                     f",{c['specialties']}," in f",{c['proposed']}," for c in manual),
        "per_day": dict(Counter(int(c["opened_at"] // DAY) for c in chosen)),
    }


def chart_class(delay: float) -> int:
    return max((s for s in (0, *CHART_STEPS) if s <= delay), default=0)


# ---- random histories ----------------------------------------------------------------------
specs = st.lists(st.sampled_from(SPECS), max_size=2, unique=True)
delay = st.one_of(st.integers(0, 2 * 3600), st.integers(0, 5 * DAY))
"""Seconds after the opening: within the hour or two as often as later."""
step = st.one_of(
    st.tuples(st.just("open"), st.sampled_from(ROOMS), specs,
              st.sampled_from(("hashtag", "keywords", "none", SUGGESTED)),
              st.integers(0, 3 * DAY)),
    st.tuples(st.just("reply"), st.integers(0, 30), st.booleans(), delay),
    st.tuples(st.just("status"), st.integers(0, 30),
              st.sampled_from((RESOLVED, OPEN, WITHDRAWN, CLOSED)), delay),
    st.tuples(st.just("retag"), st.integers(0, 30), specs, st.integers(0, DAY)),
    st.tuples(st.just("delete"), st.integers(0, 30)),
)


async def play(db: Database, history: list[tuple]) -> None:
    await db.migrate("cases", MIGRATIONS)
    store = CaseStore(db)
    now = float(T0)
    live: list[tuple[str, int]] = []
    for n, (kind, *args) in enumerate(history):
        if kind == "open":
            room, chosen, source, gap = args
            now += gap + 0.25
            case = await store.open_case(room, f"$root{n}", "@poster:test", chosen, source, now)
            live.append((case.room_id, case.number))
            continue
        if not live:
            continue
        key = live[args[0] % len(live)]
        case = await store.get(*key)
        assert case is not None
        at = case.opened_at + args[-1] + 0.5
        if kind == "reply":
            await store.add_reply(case, f"$reply{n}", "@doc:test", at, counts=args[1])
        elif kind == "status":
            resolved = args[1] == RESOLVED
            await store.update(case, status=args[1], resolved_at=at if resolved else None,
                               closed_at=None if args[1] == OPEN else at)
        elif kind == "retag":
            await store.retag(case, args[1], at, "@doc:test")
        else:
            await db.execute("DELETE FROM cases WHERE room_id = ? AND number = ?", key)
            live.remove(key)
            store = CaseStore(db)  # (its cache held the row)


async def check(history: list[tuple]) -> None:
    """Every database closed whatever fails (an open one's thread would keep pytest alive)."""
    db = await Database.open(":memory:")
    fresh = await Database.open(":memory:")
    try:
        await play(db, history)
        await compare(db, fresh)
    finally:
        await fresh.close()
        await db.close()


async def compare(db: Database, fresh: Database) -> None:
    store = CaseStore(db)
    cases = [dict(r) for r in await db.fetchall("SELECT * FROM cases")]
    retags = [dict(r) for r in await db.fetchall("SELECT * FROM case_retags")]
    for room in ROOMS:
        for since in (T0 - 400 * DAY, T0 + 0.3 * DAY, T0 + 2 * DAY, T0 + 5.7 * DAY,
                      T0 + 33 * DAY + 100, T0 + 90 * DAY):
            want = oracle(cases, retags, room, since)
            got = await store.stats(room, since)
            tags = got.tagging
            assert (got.by_status, got.counted, got.answered_within_hour) == (
                want["by_status"], want["counted"], want["fast"])
            assert (got.median_first_reply, got.median_resolution) == (
                want["first"], want["resolution"])
            assert {s: (n, r) for s, n, r in got.per_specialty} == want["per_spec"]
            assert (tags.tagged, tags.changed, tags.proposed, tags.as_proposed,
                    tags.other_proposal) == (want["tagged"], want["changed"], want["proposed"],
                                             want["as_proposed"], want["other"])
            assert {t: (n, c) for t, n, c in tags.per_specialty} == want["per_tag"]
            assert {(a, b): n for a, b, n in tags.moves} == dict(
                sorted(want["moves"].items(), key=lambda i: (-i[1], i[0]))[:5])
            chart = await store.chart(room, since)
            assert dict(chart.per_day) == want["per_day"]
            delays: dict[str, list[int]] = {}
            for c in cases:
                if c["room_id"] == room and c["opened_at"] >= since and c["first_reply_at"]:
                    for spec in c["specialties"].split(","):
                        delays.setdefault(spec, []).append(
                            chart_class(c["first_reply_at"] - c["opened_at"]))
            assert {s: (chart_class(d), n) for s, d, n in chart.first_answer} == {
                s: (low_median(v), len(v)) for s, v in delays.items()}
    # the sums the triggers kept are those a fresh migration computes from the same rows
    await fresh.migrate("cases", MIGRATIONS[:-1])
    for table, rows in (("cases", cases), ("case_retags", retags)):
        for row in rows:
            await fresh.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES "
                                f"({', '.join('?' * len(row))})", tuple(row.values()))
    await fresh.migrate("cases", MIGRATIONS)
    query = "SELECT room_id, span, metric, start, key, n FROM case_sums WHERE n != 0"
    kept, computed = [sorted(map(tuple, await d.fetchall(query))) for d in (db, fresh)]
    assert kept == computed


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, max_size=40))
def test_the_sums_give_the_figures_of_the_cases_themselves(history: list[tuple]) -> None:
    asyncio.run(check(history))


def test_a_history_across_blocks_days_and_deletions() -> None:
    """One fixed long history (hypothesis's may stay short): 70 cases over ~90 days, each
    answered (or not) then given a status, retagged, some deleted (-1: the latest case)."""
    history: list[tuple] = []
    for n in range(70):
        history += [("open", ROOMS[n % 2], list(SPECS[: n % 3]), SUGGESTED if n % 4 else "none",
                     DAY + 3000 * n), ("reply", -1, n % 5 != 0, 700 * (n % 13)),
                    ("status", -1, (RESOLVED, OPEN, WITHDRAWN, CLOSED)[n % 4], 3 * DAY // (n + 1)),
                    ("retag", -1, [SPECS[n % 3]], 60)]
        if n % 9 == 0:
            history += [("status", n // 2, OPEN, 0), ("delete", n // 3)]
    asyncio.run(check(history))



# ---- the text, as it reads in a thread -----------------------------------------------------
POSTER, DOC, MOD = "@alice:test", "@bob:test", "@mod:test"
ROOM = "!room:test"
BUSY = ("cardio", "dermato", "pneumo", "psy", "rhumato", "gastro", "neuro", "uro", "orl")


@pytest.fixture
async def h():
    async with Harness([cls for cls, _ in load_plugin_classes(Config(data_dir=Path("/x")))]
                       ) as harness:
        harness.add_room(ROOM, members=[POSTER, DOC, MOD], powers={MOD: 50})
        yield harness


async def busy_month(h: Harness) -> None:
    """Nine specialties, each case answered, most retagged by a member."""
    for n, spec in enumerate(BUSY):
        h.clock.value += 120  # (commands in a row are limited)
        root = await h.say(POSTER, f"!case #{spec} question")
        await h.say(DOC, "avis", thread_root=root)
        if n % 3:
            await h.say(MOD, f"!tag {BUSY[n - 1]}", thread_root=root)


async def test_a_busy_month_fits_in_fifteen_lines_of_a_thread(h: Harness) -> None:
    await busy_month(h)
    ask = await h.say(DOC, "!stats text")
    [text] = h.answers(ask)
    lines = text.body.splitlines()
    assert len(lines) <= 15, text.body
    assert "Cas ouverts : 9" in lines[1]
    assert lines[3].endswith("Dermatologie : 1 ouvert, 0 résolu · et 2 autres")


async def test_one_case_is_counted_in_the_singular(h: Harness) -> None:
    root = await h.say(POSTER, "!case #dermato question")
    await h.say(POSTER, "!resolve", thread_root=root)
    await h.say(POSTER, "!stats text")
    assert "Dermatologie : 1 ouvert, 1 résolu" in h.last().body
    await h.app.set_room_setting(ROOM, "language", "en")
    await h.say(POSTER, "!stats text")
    assert "Dermatology: 1 opened, 1 resolved" in h.last().body


async def test_the_french_text_names_the_french_command(h: Harness) -> None:
    await busy_month(h)
    await h.say(DOC, "!stats text")
    body = h.last().body
    assert "Pour mieux étiqueter : !specialite motscles <spécialité> ajouter <mots>" in body
    assert not {"add", "keywords", "specialty", "case(s)"} & set(body.split())


# ---- the chart -------------------------------------------------------------------------------
@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[ChartData]:
    return kept_charts(monkeypatch)


async def test_long_periods_are_drawn_by_month_then_year_never_past_26_bars(
        h: Harness, drawn: list[ChartData]) -> None:
    await h.say(POSTER, "!case #cardio question")
    for days in (30, 180, 365, 730, 1000, 3650):
        await h.say(DOC, f"!stats {days}")
    assert [len(d.periods) for d in drawn] == [5, 7, 13, 25, 12, 11]
    assert [d.periods_title.split()[-1] for d in drawn] == [
        "semaine", "mois", "mois", "mois", "trimestre", "an"]  # (180 days: 27 weeks)
    assert [label for label, _ in drawn[2].periods][-2:] == ["12/26", "01/27"]
    assert drawn[4].periods[-1] == ("T1 27", 1) and drawn[5].periods[-1] == ("2027", 1)
    assert all(sum(n for _, n in d.periods) == 1 for d in drawn)


async def test_the_delay_axis_is_in_minutes_for_answers_within_minutes_in_french(
        h: Harness, drawn: list[ChartData]) -> None:
    root = await h.say(POSTER, "!case #cardio question")
    h.clock.value += 12 * 60
    await h.say(DOC, "avis", thread_root=root)
    await h.say(DOC, "!stats")
    [data] = drawn
    assert data.first_title == "Délai médian de 1re réponse (minutes)"
    [(name, minutes)] = data.first_answer
    assert name == "Cardiologie" and 10 <= minutes < 15  # its class: 10 to 15 min
    # Seen in Element: "0.2" on a French chart; the room's decimal mark is written.
    chart = charts.figure(ChartData(data.periods, [(name, 0.5)], data.periods_title,
                                    data.first_title, data.decimal))
    chart.draw_without_rendering()
    ticks = [t.get_text() for t in chart.axes[1].get_xticklabels() if t.get_text()]
    assert any("," in t for t in ticks) and not any("." in t for t in ticks), ticks


def element_thumbnail_width(w: int, h: int, panel: int = 235) -> float:
    """CSS pixels Element Web 1.12.7 gives an image's width in a thread panel at its default
    width (`suggestedSize` of settings/enums/ImageSize.ts at the "normal" size, then the
    panel's 235 px): a portrait picture (w < h) gets at most 183 × 324, others 324 × 324."""
    box_w, box_h = (183, 324) if w < h else (324, 324)
    box_w, box_h = min(box_w, w), min(box_h, h)
    shown = box_h * w / h if box_h * w / h < box_w else box_w
    return min(shown, panel)


LONGEST = ChartData([(f"{d:02d}/11", d % 4) for d in range(26)],
                    [(f"Gastro-entérolo{i}…", 60.0 * i) for i in range(8)],
                    "Cas ouverts par trimestre", "Délai médian de 1re réponse (minutes)")
DEMO = ChartData([("23/11", 0), ("30/11", 2)], [("Dermatologie", 0.4)],
                 "Cases opened per week", "Median time to first answer (minutes)")


@pytest.mark.parametrize("data", [LONGEST, DEMO], ids=["longest", "demo"])
def test_the_chart_reads_at_elements_thumbnail_size_in_a_thread(data: ChartData) -> None:
    """Seen in a real Element Web: the portrait 600 × 760 chart showed 182 px wide in the
    thread panel, its 15 pt labels ~6 px high: unreadable."""
    from matplotlib.text import Text
    shown = element_thumbnail_width(charts.WIDTH, charts.HEIGHT)
    assert shown >= 230
    figure = charts.figure(data)
    renderer = figure.canvas.get_renderer()
    texts = [t for t in figure.findobj(Text) if t.get_visible() and t.get_text()
             and t.get_window_extent(renderer).width > 0]
    drawn = {t.get_text() for t in texts}
    assert {data.periods_title, data.first_title, data.periods[-1][0],
            *(n for n, _ in data.first_answer)} <= drawn
    for text in texts:
        assert text.get_fontsize() * charts.DPI / 72 * shown / charts.WIDTH >= 9.5, text
    for axes in figure.axes:  # nothing cut at an edge: what is drawn lies within the picture
        box = axes.get_tightbbox(renderer)
        assert box.x0 >= 0 and box.x1 <= charts.WIDTH and box.y0 >= 0, axes
        assert box.y1 <= charts.HEIGHT, axes
    for title in figure.texts:
        box = title.get_window_extent(renderer)
        assert box.x0 >= 0 and box.x1 <= charts.WIDTH and box.y1 <= charts.HEIGHT, title


async def test_the_picture_is_square_and_drawn_in_another_process(h: Harness) -> None:
    root = await h.say(POSTER, "!case #cardio question")
    await h.say(DOC, "avis", thread_root=root)
    ask = await h.say(DOC, "!stats")
    image = h.answers(ask)[1]
    assert (image.content["info"]["w"], image.content["info"]["h"]) == (600, 600)
    assert struct.unpack(">II", h.file(image)[16:24]) == (600, 600)
    assert [p.pid for p in multiprocessing.active_children()] != []

