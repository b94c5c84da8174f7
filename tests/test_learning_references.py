"""No reference carries a patient (issue #25, item 3): a link whose words name a patient, or a
message that does, keeps nothing — not in the table, `!biblio`, the `!fmc` CSV or the digest;
an edit replaces its message's references; a migration purges what earlier versions kept.
And `!fmc` sends its file before the note about it (item 10)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.storage import Database
from bot.testing import Harness
from plugins.cases import Cases
from plugins.learning import Learning
from plugins.learning.references import cited, words
from plugins.learning.store import MIGRATIONS
from plugins.specialties import Specialties

POSTER = "@alice:test"
DOC = "@bob:test"
ROOM = "!room:test"
CASE = "!case Femme 45 ans, plaques squameuses des coudes, psoriasis ? #dermato"
PLUGINS = [Specialties, Cases, Learning]
NAMED = ("https://www.has-sante.fr/jcms/p_3191108/"
         "Mme-Jeanne-DUPONT-nee-12-03-1950-tel-0612345678")
CLEAN = "https://www.has-sante.fr/jcms/p_3191108/fr/prise-en-charge-du-psoriasis-de-type-2"
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
async def h():
    async with Harness(PLUGINS) as harness:
        harness.add_room(ROOM, name="Cas cliniques", members=[POSTER, DOC])
        yield harness


async def urls(h: Harness) -> list[str]:
    return [r["url"] for r in await h.db.fetchall("SELECT url FROM learning_refs ORDER BY url")]


# ---- what a link says --------------------------------------------------------------------------
def test_a_links_words_are_its_decoded_path_split_on_separators() -> None:
    assert words(NAMED) == "jcms p 3191108 Mme Jeanne DUPONT nee 12-03-1950 tel 0612345678"
    assert words("https://ansm.sante.fr/a/Jeanne%20Dupont+n%C3%A9e_12_03_1950?x=06.12.34.56.78"
                 "#t%C3%A9l%2B33612345678") == (
        "a Jeanne Dupont née 12-03-1950 x 06-12-34-56-78 tél+33612345678")
    assert words("https://doi.org/10.1016/S0140-6736(20)30183-5") == (
        "10-1016 S0140-6736 20 30183-5")  # a DOI's parentheses join no digits


@pytest.mark.parametrize("link", [
    NAMED,
    "https://www.has-sante.fr/jcms/p_1/fr/Jeanne_DUPONT",
    "https://www.has-sante.fr/jcms/p_1/fr/patient%20Martin%20Pierre",
    "https://www.has-sante.fr/jcms/p_1/fr/reco+Jeanne+Dupont",
    "https://www.has-sante.fr/jcms/p_1/fr/nee-le-12/03/1950",
    "https://www.has-sante.fr/jcms/p_1/fr/tel-06-12-34-56-78",
    "https://www.has-sante.fr/jcms/p_1/fr/x%2B33612345678",
    "https://www.has-sante.fr/jcms/p_1/fr/reco#Mme-DUPONT",
    "https://www.has-sante.fr/jcms/p_1/fr/reco?utm_content=Jeanne-Dupont",
    "https://www.has-sante.fr/jcms/p_1/fr/Jeanne&#45;DUPONT",  # read as `references` reads it
])
def test_a_link_naming_a_patient_is_not_cited(link: str) -> None:
    assert cited(f"cf {link}") == []


@pytest.mark.parametrize("link", [
    CLEAN,
    "https://pubmed.ncbi.nlm.nih.gov/32109013/",  # a number: the document's
    "https://www.who.int/news/item/13-02-2024-who-releases-new-guidance",  # its date
    "https://www.thelancet.com/journals/lancet/article/PIIS0140-6736(20)30211-7/fulltext",
    "https://www.has-sante.fr/jcms/c_1011451/fr/syndrome-de-Guillain-Barre",
    "https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000006686797",
    "https://base-donnees-publique.medicaments.gouv.fr/extrait.php?specid=60234100",
])
def test_a_documents_own_words_dates_and_numbers_are_cited(link: str) -> None:
    assert [r.url for r in cited(f"Voir {link} (reco)")] != []


def test_the_message_around_the_link_counts_too() -> None:
    assert cited(f"Mme Jeanne DUPONT, née le 12/03/1950 : voir {CLEAN}") == []
    assert cited(f"voir {CLEAN}, rappeler au 06 12 34 56 78") == []
    assert cited(f"voir {CLEAN} et https://pacs.example.org/view?patient=DUPONT12345") == []
    # in the HTML only: the link behind a label, a name the plain body does not show
    assert cited("voir la reco", f'voir <a href="{NAMED}">la reco</a>') == []
    assert cited(f"voir {CLEAN}", f"voir {CLEAN} pour <b>Mme Jeanne DUPONT</b>") == []
    assert cited(f"voir {CLEAN}", f'voir <a href="{CLEAN}">{CLEAN}</a>') != []


# ---- the table, !biblio, the !fmc CSV, the digest -------------------------------------------
async def share(h: Harness) -> None:
    """A case whose thread holds a link naming a patient, a clean link in a message naming
    one, and a clean link."""
    root = await h.say(POSTER, CASE)
    await h.say(DOC, f"cf {NAMED}", thread_root=root)
    await h.say(DOC, "Mme Jeanne DUPONT (06 12 34 56 78) : https://www.ansm.sante.fr/x/y",
                thread_root=root)
    await h.say(DOC, f"reco : {CLEAN}", thread_root=root)


async def test_a_link_naming_a_patient_is_not_stored(h: Harness) -> None:
    await share(h)
    assert await urls(h) == [CLEAN]


async def test_biblio_does_not_list_it(h: Harness) -> None:
    await share(h)
    await h.say(DOC, "!biblio")
    listing = h.last()
    assert listing.body.startswith("Références partagées sur 30 jours (1) :")
    assert CLEAN in listing.html and "DUPONT" not in listing.html + listing.body
    assert "ansm" not in listing.html


async def test_the_fmc_csv_does_not_hold_it(h: Harness) -> None:
    await share(h)
    await h.say(DOC, "!fmc")
    [data] = [h.file(s) for s in h.sent if s.room_id == h.transport.direct[DOC] and s.file_url]
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert [r[6] for r in rows[1:]] == [CLEAN]


async def test_the_digest_does_not_link_it(h: Harness) -> None:
    await share(h)
    monday = datetime(2027, 1, 18, 8, 0, tzinfo=PARIS).timestamp()
    await h.advance(monday - h.clock.value)
    digest = h.last()
    assert digest.body.startswith("Bilan de la semaine")
    assert CLEAN in digest.html and "DUPONT" not in digest.html + digest.body
    assert "ansm" not in digest.html


async def test_an_edit_replaces_its_messages_references(h: Harness) -> None:
    root = await h.say(POSTER, f"{CASE} {CLEAN}")
    reply = await h.say(DOC, "cf https://www.nice.org.uk/guidance/ng153", thread_root=root)
    cited_at = await h.db.fetchval("SELECT at FROM learning_refs WHERE event_id = ?", (reply,))
    h.clock.value += 3600
    await h.edit(POSTER, reply, "rien", thread_root=root)  # not hers: counts for nothing
    assert await urls(h) == [CLEAN, "https://www.nice.org.uk/guidance/ng153"]
    await h.edit(DOC, reply, "cf https://www.nice.org.uk/guidance/ng153 et "
                 "https://www.ansm.sante.fr/x/y", thread_root=root)
    assert await urls(h) == ["https://www.ansm.sante.fr/x/y", CLEAN,
                             "https://www.nice.org.uk/guidance/ng153"]
    assert {r["at"] for r in await h.db.fetchall(
        "SELECT at FROM learning_refs WHERE event_id = ?", (reply,))} == {cited_at}
    await h.edit(DOC, reply, "cf https://www.ansm.sante.fr/x/y", thread_root=root)
    assert await urls(h) == ["https://www.ansm.sante.fr/x/y", CLEAN]  # the link it removed
    await h.edit(DOC, reply, "https://www.ansm.sante.fr/x/y pour Mme Jeanne DUPONT",
                 thread_root=root)
    assert await urls(h) == [CLEAN]  # a name added: the message keeps nothing
    await h.edit(POSTER, root, f"{CASE} {NAMED}")
    assert await urls(h) == []


async def test_a_redacted_case_post_takes_its_references_with_it(h: Harness) -> None:
    root = await h.say(POSTER, f"{CASE} {CLEAN}")
    assert await urls(h) == [CLEAN]
    await h.redact(POSTER, root)
    assert await urls(h) == []


# ---- references kept by earlier versions -----------------------------------------------------
async def test_a_migration_purges_the_stored_links_that_name_a_patient(tmp_path: Path) -> None:
    path = tmp_path / "casebot.db"
    db = await Database.open(path)
    await db.migrate("learning", MIGRATIONS[:2])  # the tables as the last release left them
    rows = [(1, NAMED, "$a"), (1, CLEAN, "$a"),  # one message: it keeps nothing
            (1, "https://pubmed.ncbi.nlm.nih.gov/32109013/", "$b"),
            (2, "https://www.has-sante.fr/jcms/p_1/fr/patient-Martin-Pierre", "$c")]
    await db.executemany(
        "INSERT INTO learning_refs (room_id, number, url, domain, event_id, sender, at) "
        "VALUES (?, ?, ?, 'x', ?, ?, 0)", [(ROOM, n, u, e, DOC) for n, u, e in rows])
    await db.close()
    async with Harness(PLUGINS, db_path=path) as h:
        assert await urls(h) == ["https://pubmed.ncbi.nlm.nih.gov/32109013/"]


# ---- !fmc: the file, then the note about it ---------------------------------------------------
async def test_fmc_sends_the_file_before_the_note_about_it(h: Harness) -> None:
    await h.say(DOC, "!case #cardio palpitations")
    await h.say(DOC, "!fmc")
    direct = [s for s in h.sent if s.room_id == h.transport.direct[DOC]]
    assert [s.content["msgtype"] for s in direct] == ["m.file", "m.notice"]
    assert direct[1].body.startswith("Journal FMC/DPC casebot")
