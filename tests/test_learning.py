"""The learning feature on the fake transport: references, digest timing, the FMC log and
the `!stats` chart."""

from __future__ import annotations

import csv
import io
import struct
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.testing import FakeClock, FakeTransport, Harness
from plugins.cases import Cases
from plugins.learning import Learning
from plugins.learning.charts import ChartData, render
from plugins.learning.digest import next_due
from plugins.learning.fmc import to_csv
from plugins.learning.references import normalise, references
from plugins.specialties import Specialties
from tests.support.charts import kept_charts

POSTER = "@alice:test"
DOC = "@bob:test"
MOD = "@mod:test"
ROOM = "!room:test"
CASE = "!case Femme 45 ans, plaques squameuses des coudes, psoriasis ? #dermato"
PARIS = ZoneInfo("Europe/Paris")
PLUGINS = [Specialties, Cases, Learning]


def at(text: str) -> float:
    """A Paris wall-clock time as a timestamp."""
    return datetime.fromisoformat(text).replace(tzinfo=PARIS).timestamp()


@pytest.fixture
async def h():
    async with Harness(PLUGINS) as harness:
        harness.add_room(ROOM, name="Cas cliniques", members=[POSTER, DOC, MOD],
                         powers={MOD: 50})
        yield harness


async def dump(h: Harness, table: str) -> list[dict]:
    return [dict(r) for r in await h.db.fetchall(f"SELECT * FROM {table}")]


async def digest_due(h: Harness) -> float | None:
    return await h.db.fetchval("SELECT due FROM timers WHERE component = 'learning'")


def digests(h: Harness) -> list:
    return [s for s in h.sent if s.body.startswith("Bilan de la semaine")]


# ---- references ------------------------------------------------------------------------------
def test_links_are_normalised_and_only_allow_listed_sources_kept() -> None:
    text = ("voir https://www.has-sante.fr/jcms/p_3191108/fr/reco?utm_source=x&token=abc#s2, "
            "le CRAT https://lecrat.fr/spip.php?page=article&id_article=123&sid=zz "
            "https://example.com/article https://PubMed.ncbi.nlm.nih.gov/12345678/. "
            "https://user:pw@ansm.sante.fr:8443/page;jsessionid=1?x=2 "
            "https://www.vidal.fr/ https://has-sante.fr.attacker.net/jcms/x")
    found = [(r.url, r.domain) for r in references([text])]
    assert found == [
        ("https://www.has-sante.fr/jcms/p_3191108/fr/reco", "has-sante.fr"),
        ("https://lecrat.fr/spip.php?page=article&id_article=123", "lecrat.fr"),
        ("https://pubmed.ncbi.nlm.nih.gov/12345678/", "pubmed.ncbi.nlm.nih.gov"),
        ("https://ansm.sante.fr/page", "ansm.sante.fr"),
    ]
    assert normalise("http://dx.doi.org/10.1000/XYZ#x").url == "https://doi.org/10.1000/XYZ"
    assert normalise("https://sfdermato.org/reco/psoriasis") is None
    assert normalise("https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000006686797")
    assert normalise("https://www.cochranelibrary.com/cdsr/doi/10.1002/14651858.CD001234.pub2/"
                     "full")
    assert normalise("https://sfdermato.org/reco/psoriasis?s=1",
                     ["sfdermato.org"]).url == "https://sfdermato.org/reco/psoriasis"
    assert [r.domain for r in references(["https://www.SFDermato.org/reco/x"],
                                         ["WWW.sfdermato.org"])] == ["sfdermato.org"]


def test_a_64_kb_post_of_links_is_read_in_one_pass() -> None:
    post = " ".join(["https://www.has-sante.fr/jcms/p_1/fr/x?token=t"] * 1400)
    assert len(post) > 64_000
    assert [r.url for r in references([post])] == ["https://www.has-sante.fr/jcms/p_1/fr/x"]
    assert len(references([" ".join(f"https://doi.org/10.1/{i}" for i in range(500))])) == 20
    assert references(["https://" + "a" * 70_000]) == []


async def test_references_in_case_threads_are_collected_with_their_case(h: Harness) -> None:
    root = await h.say(POSTER, CASE + " cf https://www.has-sante.fr/jcms/p_1/fr/psoriasis")
    await h.say(DOC, "Reco : https://www.nice.org.uk/guidance/ng153?utm=1 et "
                "https://sfdermato.org/psoriasis", thread_root=root)
    await h.say(DOC, "hors fil https://www.nice.org.uk/guidance/ng999")
    rows = await dump(h, "learning_refs")
    assert sorted((r["url"], r["number"]) for r in rows) == [
        ("https://www.has-sante.fr/jcms/p_1/fr/psoriasis", 1),
        ("https://www.nice.org.uk/guidance/ng153", 1)]
    await h.app.set_room_setting(ROOM, "learning.sources", "sfdermato.org")
    late = await h.say(DOC, "et https://sfdermato.org/psoriasis", thread_root=root)
    assert "https://sfdermato.org/psoriasis" in {r["url"] for r in await dump(h, "learning_refs")}
    await h.redact(POSTER, late)  # not hers, and no redact power: the homeserver ignores it
    assert "https://sfdermato.org/psoriasis" in {r["url"] for r in await dump(h, "learning_refs")}
    await h.redact(DOC, late)
    assert "https://sfdermato.org/psoriasis" not in {
        r["url"] for r in await dump(h, "learning_refs")}
    cases = await dump(h, "learning_cases")
    stored = "\n".join(str(v) for table in (cases, rows) for row in table for v in row.values())
    assert "psoriasis" not in stored.replace("/psoriasis", "") and "Femme" not in stored


async def test_an_edit_by_its_author_may_cite_more(h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    reply = await h.say(DOC, "je regarde", thread_root=root)
    await h.edit(DOC, reply, "cf https://www.ansm.sante.fr/actualites/x", thread_root=root)
    await h.edit(POSTER, root, CASE + " https://www.vidal.fr/medicaments/y.html")
    await h.edit(POSTER, reply, "https://www.ansm.sante.fr/forged", thread_root=root)
    assert sorted((r["url"], r["event_id"]) for r in await dump(h, "learning_refs")) == [
        ("https://www.ansm.sante.fr/actualites/x", reply),
        ("https://www.vidal.fr/medicaments/y.html", root)]


async def test_english_room(h: Harness) -> None:
    await h.app.set_room_setting(ROOM, "language", "en")
    root = await h.say(POSTER, CASE)
    await h.say(DOC, "https://www.nice.org.uk/guidance/ng153", thread_root=root)
    await h.say(DOC, "!biblio")
    assert h.last().body.startswith("References shared over 30 days (1):")
    await h.advance(at("2027-01-18T08:00") - h.clock.value)
    assert h.last().body.startswith("Weekly digest, 2027-01-11 to 2027-01-18")
    await h.say(DOC, "!fmc year")
    rows = h.file(h.sent[-3]).decode("utf-8-sig").splitlines()
    assert rows[0] == "date;room;case;specialty;role;link;references"
    assert rows[1].split(";")[4] == "answered"


async def test_biblio_lists_them_by_specialty_and_period(h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    await h.say(DOC, "https://www.has-sante.fr/jcms/p_1/fr/psoriasis", thread_root=root)
    cardio = await h.say(POSTER, "!case #cardio palpitations")
    await h.say(DOC, "https://www.has-sante.fr/jcms/p_2/fr/fa", thread_root=cardio)
    await h.say(DOC, "!biblio")
    body = h.last().body
    assert body.startswith("Références partagées sur 30 jours (2) :")
    assert "p_1/fr/psoriasis" in body and "cas n° 1 (Dermatologie)" in body
    await h.say(DOC, "!biblio dermato")
    assert "(1)" in h.last().body and "p_2" not in h.last().body
    h.clock.value += 10 * 86400
    await h.say(DOC, "!biblio 7")
    assert h.last().body.startswith("Aucune référence reconnue")
    await h.say(DOC, "!biblio cardio 30")
    assert "p_2/fr/fa" in h.last().body and "p_1" not in h.last().body
    await h.say(DOC, "!biblio plombier")
    assert "Spécialité inconnue" in h.last().body
    await h.say(DOC, "!biblio 0")
    assert "Utilisation : !biblio [spécialité] [jours]" in h.last().body
    await h.say(DOC, "!biblio 99999")  # a number of days, too many: not a specialty
    assert h.last().body.startswith("jours doit être entre 1 et 3650")


# ---- the weekly digest -----------------------------------------------------------------------
def test_next_due_is_the_next_weekday_and_time_in_the_zone() -> None:
    friday = at("2027-01-15T09:00")
    assert next_due((0, 8, 0), "Europe/Paris", friday) == at("2027-01-18T08:00")
    monday = at("2027-01-18T08:00")
    assert next_due((0, 8, 0), "Europe/Paris", monday) == at("2027-01-25T08:00")
    before = at("2027-03-28T01:00")  # the night summer time starts
    assert next_due((6, 8, 0), "Europe/Paris", before) == at("2027-03-28T08:00")


async def test_one_digest_a_week_across_a_restart_and_a_downtime(tmp_path: Path) -> None:
    clock, transport = FakeClock(), FakeTransport()
    db = tmp_path / "casebot.db"
    sections = {"cases": {"auto_close": "90d"}}  # case 2 stays open, waiting for an answer
    async with Harness(PLUGINS, db_path=db, clock=clock, transport=transport,
                       sections=sections) as h:
        h.add_room(ROOM, members=[POSTER, DOC])
        root = await h.say(POSTER, CASE + " https://www.has-sante.fr/jcms/p_1/fr/x")
        h.clock.value += 1800
        await h.say(DOC, "avis", thread_root=root)
        await h.say(POSTER, "!resolve", thread_root=root)
        waiting = await h.say(POSTER, "!case #cardio palpitations")
        monday = at("2027-01-18T08:00")
        await h.advance(monday - 1 - clock.value)
        assert digests(h) == []
        await h.advance(1)
        [first] = digests(h)
        assert first.thread_root is None and first.content["msgtype"] == "m.notice"
        body = first.body
        assert "du 11/01/2027 au 18/01/2027" in body
        assert "Cas ouverts : 2 · résolus : 1" in body
        assert "• Dermatologie : 1 ouverts, 1 résolus" in body
        assert "Délai médian de première réponse : 30 min" in body
        assert f"• n° 1 (Dermatologie) — fil (https://matrix.to/#/{ROOM}/{root})" in body
        assert f"• n° 2 (Cardiologie), depuis 2 j — fil (https://matrix.to/#/{ROOM}/{waiting})" \
            in body
        assert "has-sante.fr (https://www.has-sante.fr/jcms/p_1/fr/x) — cas n° 1" in body
        assert "Femme" not in body and "palpitations" not in body
        await h.advance(3600)
        assert len(digests(h)) == 1
        await h.advance(at("2027-01-25T08:00") - clock.value)
        assert len(digests(h)) == 2  # the second week: the case still waiting
    clock.value += 3 * 7 * 86400  # the bot is down three weeks
    async with Harness(PLUGINS, db_path=db, clock=clock, transport=transport,
                       sections=sections) as h:
        await h.advance(0)
        assert len(digests(h)) == 3  # the missed one, late, once
        assert "du 25/01/2027 au 01/02/2027" in digests(h)[-1].body
        await h.advance(3600)
        await h.say(DOC, "bonjour")
        assert len(digests(h)) == 3
        assert await digest_due(h) == at("2027-02-22T08:00")
        await h.advance(at("2027-02-22T08:00") - clock.value)
        assert len(digests(h)) == 4


async def test_the_digest_follows_the_rooms_setting_and_can_be_off(h: Harness) -> None:
    await h.say(POSTER, CASE)
    await h.say(MOD, "!config set learning.digest mercredi 18h")
    assert "learning.digest" in h.last().body
    await h.say(DOC, "bonjour")
    assert await digest_due(h) == at("2027-01-20T18:00")
    await h.advance(at("2027-01-20T18:00") - h.clock.value)
    assert len(digests(h)) == 1
    await h.say(MOD, "!config set learning.digest off")
    await h.say(DOC, "bonjour")
    await h.advance(30 * 86400)
    assert len(digests(h)) == 1
    await h.say(MOD, "!config set learning.digest jeudi 25h")
    assert "un jour et une heure sont attendus" in h.last().body


async def test_no_digest_in_a_room_the_bot_left_until_it_is_back(h: Harness) -> None:
    await h.say(POSTER, CASE)
    h.update_room(ROOM, members=frozenset([POSTER, DOC, MOD]))
    await h.advance(at("2027-01-18T08:00") - h.clock.value)
    assert digests(h) == [] and await digest_due(h) is None
    h.update_room(ROOM, members=frozenset([POSTER, DOC, MOD, h.transport.user_id]))
    await h.say(DOC, "bonjour")
    assert await digest_due(h) == at("2027-01-25T08:00")


async def test_an_empty_week_posts_nothing(h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    await h.say(DOC, "avis", thread_root=root)
    await h.say(POSTER, "!resolve", thread_root=root)
    await h.advance(at("2027-01-18T08:00") - h.clock.value)
    assert len(digests(h)) == 1
    await h.advance(7 * 86400)
    assert len(digests(h)) == 1


# ---- the FMC log -----------------------------------------------------------------------------
async def test_fmc_sends_the_members_log_as_csv_in_their_direct_room(h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    h.clock.value += 600
    await h.say(DOC, "avis, cf https://www.has-sante.fr/jcms/p_1/fr/x", thread_root=root)
    await h.say(DOC, "!take", thread_root=root)
    await h.say(DOC, "!resolve", thread_root=root)  # the poster or a moderator only
    await h.say(POSTER, "!resolve", thread_root=root)
    other = await h.say(DOC, "!case #cardio palpitations")
    h.update_room(ROOM, name="=HYPERLINK(\"http://x\")")
    ask = await h.say(DOC, "!fmc")
    assert h.answers(ask)[-1].body == (
        "Votre journal (2 lignes) vous attend en message direct chiffré.")
    direct = h.transport.direct[DOC]
    [sent, note] = [s for s in h.sent if s.room_id == direct]
    assert note.body.startswith("Journal FMC/DPC casebot")
    assert sent.content["msgtype"] == "m.file" and sent.content["info"]["mimetype"] == "text/csv"
    data = h.file(sent)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["date", "salon", "cas", "spécialité", "rôle", "lien", "références"]
    link = f"https://matrix.to/#/{ROOM}/"
    assert rows[1:] == [
        ["2027-01-15", "'=HYPERLINK(\"http://x\")", "1", "Dermatologie", "a répondu",
         link + root, "https://www.has-sante.fr/jcms/p_1/fr/x"],
        ["2027-01-15", "'=HYPERLINK(\"http://x\")", "2", "Cardiologie", "a posté",
         link + other, ""],
    ]
    await h.say(POSTER, "!fmc année")
    mine = h.sent[-3]
    assert mine.room_id == h.transport.direct[POSTER] != direct
    rows = list(csv.reader(io.StringIO(h.file(mine).decode("utf-8-sig")), delimiter=";"))
    assert [r[4] for r in rows[1:]] == ["a posté", "a résolu"]
    await h.say(MOD, "!fmc 30")
    assert h.last().body.startswith("Aucun cas posté")
    await h.say(MOD, "!fmc hier")
    assert "Utilisation : !fmc [jours|année]" in h.last().body


# ---- the !stats chart ------------------------------------------------------------------------
async def test_stats_adds_a_chart_after_the_text_and_stats_text_does_not(h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    h.clock.value += 3600
    await h.say(DOC, "avis", thread_root=root)
    ask = await h.say(POSTER, "!stats")
    text, image = h.answers(ask)
    assert text.body.startswith("Statistiques sur 30 jours")
    assert image.content["msgtype"] == "m.image"
    assert image.content["info"] == {"mimetype": "image/png", "size": len(h.file(image)),
                                     "w": 600, "h": 600}
    png = h.file(image)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert struct.unpack(">II", png[16:24]) == (600, 600)
    ask = await h.say(POSTER, "!stats text")
    assert [s.content["msgtype"] for s in h.answers(ask)] == ["m.notice"]
    ask = await h.say(POSTER, "!stats texte 7")
    assert h.answers(ask)[0].body.startswith("Statistiques sur 7 jours")


# ---- review: what a link may smuggle ---------------------------------------------------------
def test_kept_query_values_carry_no_token_nor_address() -> None:
    crat = "https://lecrat.fr/spip.php?page=article&id_article="
    assert normalise(crat + "123;sid=zz").url == "https://lecrat.fr/spip.php?page=article"
    assert normalise(crat + "1%26token%3Dabc").url == "https://lecrat.fr/spip.php?page=article"
    assert normalise(crat + "jean.dupont@gmail.com").url == (
        "https://lecrat.fr/spip.php?page=article")
    assert normalise("https://www.nejm.org/doi/full?doi=10.1056/NEJMoa2034577").url == (
        "https://www.nejm.org/doi/full?doi=10.1056%2FNEJMoa2034577")


@pytest.mark.parametrize("path", [
    "/jcms/x/jean.dupont@gmail.com", "/jcms/x/jean.dupont%40gmail.com",
    "/jcms/x%3Bjsessionid%3DABC", "/jcms/x%3Ftoken%3DABC", "/jcms/x%3btoken=1/y",
    "/(S(lit3py55t21z5v55vlm25s55))/jcms/x",  # an ASP.NET session in the path
    "/reset/eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0In0.x",  # a token
    "/dossier/185057800604812/x", "/p/2850578006048",  # a social security number (NIR)
])
def test_a_path_smuggling_an_address_or_a_token_is_not_kept(path: str) -> None:
    assert normalise("https://www.has-sante.fr" + path) is None


def test_a_long_host_costs_no_more_than_its_length() -> None:
    assert normalise("https://" + "a." * 125 + "has-sante.fr/x") is None  # 262 > 253
    assert normalise("https://" + "a." * 100 + "has-sante.fr/x") is not None


def test_a_link_in_the_html_body_is_read_as_the_link_it_is() -> None:
    html = ('<a href="https://lecrat.fr/spip.php?page=article&amp;id_article=123&amp;sid=zz">'
            'CRAT</a>')
    assert [r.url for r in references(
        ["https://lecrat.fr/spip.php?page=article&id_article=123&sid=zz", html])] == [
        "https://lecrat.fr/spip.php?page=article&id_article=123"]


def test_a_doi_with_parentheses_is_kept_whole() -> None:
    text = ("voir https://doi.org/10.1016/S0140-6736(20)30183-5, "
            "(https://pubmed.ncbi.nlm.nih.gov/123/) et [ici](https://www.nice.org.uk/g/ng1).")
    assert [r.url for r in references([text])] == [
        "https://doi.org/10.1016/S0140-6736(20)30183-5",
        "https://pubmed.ncbi.nlm.nih.gov/123/", "https://www.nice.org.uk/g/ng1"]
    assert references(["https://doi.org/10.1/x" + ")" * 1990]) != []


async def test_a_setting_changed_after_the_digest_does_not_post_a_second_one_that_week(
        h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    await h.say(DOC, "avis", thread_root=root)
    await h.advance(at("2027-01-18T08:00") - h.clock.value)
    assert len(digests(h)) == 1
    await h.advance(2 * 3600)
    await h.say(MOD, "!config set learning.digest mercredi 18h")
    await h.say(DOC, "bonjour")
    await h.advance(at("2027-01-20T18:00") - h.clock.value)
    assert len(digests(h)) == 1  # two days after the last one: the same cases again
    assert await digest_due(h) == at("2027-01-27T18:00")
    await h.advance(at("2027-01-27T18:00") - h.clock.value)
    assert len(await dump(h, "learning_digests")) == 2  # (an empty week: recorded, not posted)
    await h.say(MOD, "!config set learning.digest dimanche 18h")
    await h.say(DOC, "bonjour")
    assert await digest_due(h) == at("2027-02-07T18:00")  # not four days after the last
    await h.say(MOD, "!config set learning.digest mardi 20h")
    await h.say(DOC, "bonjour")
    assert await digest_due(h) == at("2027-02-02T20:00")  # six days after: a week's digest


@pytest.mark.parametrize("name", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "\n=1+1",
                                  "\r\n-1"])
def test_no_csv_cell_starts_what_a_spreadsheet_runs(name: str) -> None:
    data = to_csv("salon;cas", [(name, "1"), ("a;=1", "b\n=2")])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[1] == ["'" + name, "1"]
    assert rows[2] == ["a;=1", "b\n=2"]  # quoted: one cell each, in their column


async def test_the_chart_shows_at_most_eight_specialties_the_busiest(
        h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = kept_charts(monkeypatch)
    ids = ["mg", "cardio", "dermato", "pedia", "gyneco", "psy", "rhumato", "endocrino", "gastro",
           "pneumo", "neuro", "orl", "ophtalmo", "uro", "nephro", "infectio", "geria"]
    for spec in ids:
        for _ in range(2 if spec != "geria" else 1):
            h.clock.value += 60  # (commands in a row are limited)
            root = await h.say(POSTER, f"!case #{spec} question")
            await h.say(DOC, "avis", thread_root=root)
    await h.say(POSTER, "!stats")
    [data] = drawn
    names = [name for name, _ in data.first_answer]
    assert len(names) == 8 and "Gériatrie" not in names  # one case only: among the quietest


async def test_a_digest_that_failed_until_its_timer_was_dropped_comes_back(h: Harness) -> None:
    await h.say(POSTER, CASE)  # waiting: every week has something to say
    h.transport.fail_sends = 1000  # e.g. the bot may not post here for a while
    await h.advance(at("2027-01-18T08:00") - h.clock.value)
    for _ in range(12):
        await h.advance(6 * 3600)  # ten attempts over some 8 h, then the timer is dropped
    assert digests(h) == []
    h.transport.fail_sends = 0
    await h.say(DOC, "bonjour")
    await h.advance(0)
    [late] = digests(h)  # posted late, once
    assert "du 11/01/2027 au 18/01/2027" in late.body
    assert await digest_due(h) == at("2027-01-25T08:00")
    await h.advance(at("2027-01-25T08:00") - h.clock.value)
    assert len(digests(h)) == 2


async def test_fmc_says_so_when_the_direct_room_cannot_be_opened(
        h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    await h.say(POSTER, CASE)

    async def refused(user_id: str) -> str:
        raise RuntimeError("room creation refused: 403")

    monkeypatch.setattr(h.transport, "direct_room", refused)
    ask = await h.say(POSTER, "!fmc")
    [answer] = h.answers(ask)
    assert answer.body.startswith("Je n’ai pas pu ouvrir de message direct chiffré avec vous")
    assert h.transport.uploads == [] and not any("file" in s.content for s in h.sent)


async def test_fmc_is_never_sent_to_a_direct_room_someone_else_was_invited_to(h: Harness) -> None:
    root = await h.say(POSTER, CASE)
    await h.say(DOC, "avis", thread_root=root)
    await h.say(DOC, "!fmc")
    first = h.transport.direct[DOC]
    h.update_room(first, members=frozenset([h.transport.user_id, DOC, MOD]))  # DOC invited MOD
    await h.say(DOC, "!fmc")
    fresh = h.transport.direct[DOC]
    assert fresh != first
    assert [s.room_id for s in h.sent if "file" in s.content] == [first, fresh]


@pytest.mark.parametrize("name", ["Soins $1 et $2", "x_$^$", "a$\\frac{$b"])
def test_a_specialty_name_with_dollars_is_drawn_as_text(name: str) -> None:
    png = render(ChartData([("11/01", 2)], [(name, 1.5)], "semaines", "délai"))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


async def test_periods_years_apart_are_two_bars_not_one(
        h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = kept_charts(monkeypatch)
    now = h.clock.value
    h.clock.value = at("2021-01-13T10:00")  # the week of Monday 11/01/2021
    await h.say(POSTER, CASE)
    h.clock.value = at("2027-01-13T10:00")  # the week of Monday 11/01/2027
    await h.say(POSTER, "!case #cardio palpitations")
    h.clock.value = now
    await h.say(POSTER, "!stats 3650")
    [data] = drawn
    counts = [n for _, n in data.periods]
    assert sum(counts) == 2 and max(counts) == 1
    assert counts[-1] == 1 and len(counts) == 11  # years: 2017 to 2027


async def test_biblio_of_a_specialty_with_an_underscore_is_that_one_only(h: Harness) -> None:
    await h.say(MOD, "!specialty add soins_pal Palliatifs")
    await h.say(MOD, "!specialty add soinsxpal Autre")
    root = await h.say(POSTER, "!case #soinsxpal question")
    await h.say(DOC, "https://www.has-sante.fr/jcms/p_9/fr/x", thread_root=root)
    await h.say(DOC, "!biblio soinsxpal")
    assert "p_9" in h.last().body
    await h.say(DOC, "!biblio soins_pal")  # `_` is a LIKE wildcard: not here
    assert h.last().body.startswith("Aucune référence reconnue")
