"""Hostile members and odd input against the features (issue 12, plugin side) on the fake
transport: forged edits and redactions, templates in admin text, numbers and dates out of
range, attachments, identifiers only in the HTML, the scanner off the event loop."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from bot.content import Pill, fill
from bot.events import Attachment, MemberChange
from bot.i18n import echo
from bot.testing import BOT, Harness
from plugins.cases import Cases
from plugins.secrecy import text as secrecy_text
from plugins.secrecy.detector import MAX_SCAN
from plugins.secrecy.plugin import Secrecy
from plugins.secrecy.text import visible_text
from plugins.specialties import Specialties
from plugins.volunteers import Volunteers
from tests.test_secrecy_plugin import jpeg, photos_checked

POSTER = "@alice:test"
DOC = "@bob:test"
MALLORY = "@mallory:test"
MOD = "@mod:test"
V1, V2 = "@v1:test", "@v2:test"
ROOM = "!room:test"
CLEAN = "!case Femme 45 ans, plaques érythémato-squameuses des coudes, psoriasis ? traitement"
DERMATO = "!case F 45 ans, plaques squameuses des coudes #dermato"
PHONE = "tél 06 12 34 56 78"


@pytest.fixture
async def h():
    async with Harness([Specialties, Cases, Secrecy, Volunteers]) as hh:
        hh.add_room(ROOM, members=[POSTER, DOC, MALLORY, MOD, V1, V2],
                    powers={MOD: 50, BOT: 100})
        yield hh


async def status(h: Harness, number: int = 1) -> str:
    return await h.db.fetchval("SELECT status FROM cases WHERE room_id = ? AND number = ?",
                               (ROOM, number))


def internal_errors(h: Harness) -> list[str]:
    return [s.body for s in h.sent if "Erreur interne" in s.body]


# ---- item 4: an edit counts only from the original's sender ------------------------------------
async def test_forged_edit_of_a_reply_is_ignored_and_cannot_redact_it(h: Harness) -> None:
    root = await h.say(POSTER, CLEAN)
    reply = await h.say(DOC, "psoriasis probable, dermocorticoïdes forts", thread_root=root)
    h.clear()
    await h.edit(MALLORY, reply, f"psoriasis, {PHONE}", thread_root=root)
    assert h.sent == []  # no warning: the edit is not Bob's
    await h.say(MALLORY, "!redact", thread_root=root)
    assert h.transport.redacted == []
    assert "rien signalé" in h.last().body


async def test_forged_edit_of_a_case_root_is_ignored_in_redact_mode(h: Harness) -> None:
    await h.app.set_room_setting(ROOM, "secrecy.mode", "redact")
    root = await h.say(POSTER, CLEAN)
    await h.edit(MALLORY, root, "!case contact jean.martin@gmail.com")
    assert h.transport.redacted == []
    assert await status(h) == "open"


async def test_the_authors_own_edit_still_counts(h: Harness) -> None:
    root = await h.say(POSTER, CLEAN)
    reply = await h.say(DOC, "à revoir", thread_root=root)
    await h.edit(DOC, reply, f"à revoir, {PHONE}", thread_root=root)
    assert "un numéro de téléphone" in h.last().body and h.last().mentions == [DOC]


# ---- items 5 and 6: redactions that the homeserver applies ---------------------------------------
async def test_redaction_by_a_member_without_power_does_not_withdraw(h: Harness) -> None:
    root = await h.say(POSTER, CLEAN)
    h.clear()
    await h.redact(MALLORY, root)
    assert await status(h) == "open"
    assert h.sent == []


async def test_redaction_by_a_moderator_withdraws(h: Harness) -> None:
    root = await h.say(POSTER, CLEAN)
    await h.redact(MOD, root)
    assert await status(h) == "withdrawn"


async def test_redact_mode_leaves_no_case_behind_the_deleted_post(h: Harness) -> None:
    await h.app.set_room_setting(ROOM, "secrecy.mode", "redact")
    await h.say(V1, "!volunteer dermato")
    root = await h.say(POSTER, "!case F 40 ans, contact jean.martin@gmail.com, #dermato")
    assert h.transport.redacted == [root]
    [notice] = h.answers(root)  # no card, no reminder, no page: there is no case
    assert "j’ai masqué votre message" in notice.body and notice.mentions == [POSTER]
    await h.redact(BOT, root)  # the homeserver echoes the bot's own redaction
    assert await status(h) is None
    assert internal_errors(h) == []


async def test_the_bots_own_redaction_of_a_case_root_withdraws_it(h: Harness) -> None:
    root = await h.say(POSTER, CLEAN)
    await h.app.set_room_setting(ROOM, "secrecy.mode", "redact")
    await h.edit(POSTER, root, "!case homme 40 ans, contact jean.martin@gmail.com, douleur")
    assert h.transport.redacted == [root]
    await h.redact(BOT, root)  # the homeserver echoes the bot's own redaction
    assert await status(h) == "withdrawn"


async def test_unapplied_redaction_keeps_the_flag_for_redact(h: Harness) -> None:
    root = await h.say(POSTER, CLEAN)
    reply = await h.say(DOC, f"rappeler au {PHONE}", thread_root=root)
    await h.redact(MALLORY, reply)  # not applied by the homeserver: Mallory has no power
    await h.say(DOC, "!redact", thread_root=root)
    assert h.transport.redacted == [reply]


async def test_membership_acts_only_on_the_member_who_is_gone(h: Harness) -> None:
    await h.say(V1, "!volunteer dermato")
    await h.say(V2, "!volunteer dermato")
    # A late leave of V1, who is a member (the room's state says so): nothing changes.
    await h.deliver(MemberChange(ROOM, "$late", V1, 0, V1, "leave", "join"))
    # V2 is kicked by a moderator: unregistered.
    h.update_room(ROOM, members=h.transport.rooms[ROOM].members - {V2})
    await h.deliver(MemberChange(ROOM, "$kick", MOD, 0, V2, "leave", "join"))
    rows = await h.db.fetchall("SELECT user_id FROM volunteers ORDER BY user_id")
    assert [r["user_id"] for r in rows] == [V1]


# ---- item 7: user and admin text is never a template ---------------------------------------------
def test_fill_never_reads_a_value_as_a_template() -> None:
    pill = Pill(V1, "V1", notify=True)
    assert fill("{name} : {who}", name="{who} {", who=pill) == ("{who} { : ", pill)
    assert fill("{who}, {who}", who=[pill, " et ", pill]) == (pill, " et ", pill, ", ", pill,
                                                               " et ", pill)
    assert fill("n°{number} {unknown}", number=3) == ("n°3 {unknown}",)
    assert fill("{x}", x="a" * 10_000)[0].endswith("…")


@pytest.mark.parametrize("name", ["Derma {", "Derma {who}"])
async def test_page_with_a_specialty_named_like_a_template(h: Harness, name: str) -> None:
    await h.say(MOD, f'!specialty rename dermato "{name}"')
    await h.say(V1, "!volunteer dermato")
    root = await h.say(POSTER, DERMATO)
    page = next(s for s in h.in_thread(root) if "un avis ?" in s.body)
    assert page.mentions == [V1]
    assert page.html.count("https://matrix.to/#/@v1:test") == 1
    assert f"Cas #1 ({name}) : @v1:test, un avis ?" in page.body


# ---- item 12: numbers, dates and sizes out of range --------------------------------------------
@pytest.mark.parametrize("command", ["!case ²", "!case #٣", "!case 99999999999999999999",
                                     "!case " + "9" * 5000])
async def test_case_numbers_out_of_range_get_a_clear_answer(h: Harness, command: str) -> None:
    await h.say(POSTER, command)
    assert h.last().body.splitlines() == [
        "Numéro de cas non valable : écrivez-le en chiffres (au plus 9).",
        "Utilisation : !case <n°>"]
    assert await status(h) is None


async def test_reopen_and_resolve_with_odd_numbers(h: Harness) -> None:
    await h.say(POSTER, CLEAN)
    await h.say(POSTER, "!reopen ³")
    assert h.last().body.endswith("Utilisation : !reopen <n°>")
    await h.say(POSTER, "!resolve 123456789012 fini")
    assert "non valable" in h.last().body
    await h.app.set_room_setting(ROOM, "language", "en")
    await h.say(POSTER, "!tag ² cardio")
    assert h.last().body.splitlines() == [
        "Not a valid case number: write it in digits (at most 9).",
        "Usage: !tag <number> <specialty>…"]
    assert internal_errors(h) == []


@pytest.mark.parametrize("when", ["9999-12-31", "99999999999999999999d", "9" * 400 + "s"])
async def test_away_too_far_is_refused_clearly(h: Harness, when: str) -> None:
    await h.say(V1, f"!away {when}")
    reason, usage = h.last().body.splitlines()
    # A date too far is refused as such; a number too big is no duration at all (and is
    # quoted back cut short).
    assert reason in ("Au plus 5 ans à l’avance ; sans date de retour, la commande seule.",
                      f"« {echo(when)} » n’est ni une durée ni une date "
                      "(ex. 4h, 3j, 15/08, 2027-08-15).")
    assert usage == "Utilisation : !away [durée|date]"
    assert await h.db.fetchval("SELECT away_until FROM volunteer_prefs") is None


class Downloads:
    """Counts what the bot downloads."""

    def __init__(self, h: Harness) -> None:
        self.urls: list[str] = []
        real = h.transport.download

        async def download(attachment: Attachment, limit: int) -> bytes:
            self.urls.append(attachment.url)
            return await real(attachment, limit)

        h.transport.download = download  # type: ignore[method-assign]


async def attach(h: Harness, data: bytes, root: str, mimetype: str, size: int) -> None:
    url = f"mxc://test/{len(h.transport.files)}"
    h.transport.files[url] = data
    await h.deliver(Attachment(ROOM, f"$photo{url}", DOC, h._ts(), "m.image", mimetype, size,
                               url, None, root))
    await photos_checked(h)


async def test_only_jpeg_photos_of_a_reasonable_size_are_read(h: Harness) -> None:
    root = await h.say(POSTER, CLEAN)
    downloads = Downloads(h)
    h.clear()
    await attach(h, jpeg(), root, "", 1000)  # no mimetype: not downloaded
    await attach(h, jpeg(), root, "video/mp4", 1000)
    await attach(h, jpeg(), root, "image/jpeg", 2_000_000_000)  # announced 2 GB
    assert downloads.urls == [] and h.sent == []
    big = jpeg() + b"\0" * (20 * 1024 * 1024)
    await attach(h, big, root, "image/jpeg", 0)  # no size announced, too big once read
    assert h.sent == []
    await attach(h, jpeg(), root, "IMAGE/JPEG", 0)
    assert "position GPS" in h.last().body


# ---- item 12: identifiers only in formatted_body; the scanner off the loop ----------------------
def test_visible_text_is_linear_and_leaves_the_quoted_reply_out() -> None:
    assert visible_text("<p>tél <b>06 12 34 56 78</b></p>").split() == ["tél", "06", "12",
                                                                          "34", "56", "78"]
    assert visible_text("<mx-reply><blockquote>Mme Dupont</blockquote></mx-reply>ok") == "ok"
    assert visible_text("a <3 b &amp; c<br/>d <!-- x --> e") == "a <3 b & c\nd  e"
    assert len(visible_text("<a b='" * 100_000)) <= MAX_SCAN


async def test_identifier_only_in_the_html_is_warned(h: Harness) -> None:
    root = await h.say(POSTER, CLEAN)
    await h.say(DOC, "voir le numéro", thread_root=root,
                formatted_body=f"voir le numéro <span data-x='1'>{PHONE}</span>")
    assert "un numéro de téléphone" in h.last().body and h.last().mentions == [DOC]
    h.clear()
    await h.say(DOC, "ok", thread_root=root,
                formatted_body=f"<mx-reply><blockquote>{PHONE}</blockquote></mx-reply>ok")
    assert h.sent == []


async def test_long_texts_are_scanned_in_a_worker_thread(
        h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    on_main: list[bool] = []
    real = secrecy_text.scan

    def spy(text: str) -> Any:
        on_main.append(threading.current_thread() is threading.main_thread())
        return real(text)

    monkeypatch.setattr(secrecy_text, "scan", spy)
    root = await h.say(POSTER, CLEAN)
    assert on_main == [True]  # a short post: scanned at once, cheaper than a thread hand-off
    on_main.clear()
    await h.say(DOC, f"{PHONE} " * 10_000, thread_root=root,
                formatted_body=f"<b>{PHONE}</b> " * 10_000)
    assert on_main and not any(on_main)
    assert "un numéro de téléphone" in h.last().body


# ---- item 11: !rules pin keeps the pins others added since the last sync ----------------------
async def test_rules_pin_reads_the_current_pins_before_writing(h: Harness) -> None:
    h.update_room(ROOM, pinned_events=("$old",))  # the bot's copy, a sync behind
    h.transport.state.append((ROOM, "m.room.pinned_events", {"pinned": ["$old", "$new"]}))
    await h.say(MOD, "!rules pin")
    room, kind, content = h.transport.state[-1]
    assert (room, kind) == (ROOM, "m.room.pinned_events")
    assert content["pinned"][:2] == ["$old", "$new"] and len(content["pinned"]) == 3
