"""casebot with Element's own SDK (matrix-js-sdk, Rust crypto), strict mode and default mode.

In strict mode ("exclude insecure devices", MSC4153) the physician's client shares room keys
only with cross-signed devices: this proves the bot signs its own device and is trusted.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from tests.support.jsclient import JsClient
from tests.support.live import PASSWORD, BotHandle, Live, unique

pytestmark = pytest.mark.live

ELEMENT_CHECK = "\u2705\ufe0f"  # what Element Web's emoji picker and quick reactions send



async def wait(js: JsClient, room_id: str, **match: Any) -> dict[str, Any]:
    found = await js.call("wait_event", room_id=room_id, timeout_ms=30000, match=match)
    return dict(found["event"])


async def element_room(live: Live, js: JsClient, bot: BotHandle, strict: bool
                       ) -> tuple[str, str]:
    """A physician logged in with Element's SDK (cross-signed, `strict` or not) and an
    encrypted room with the bot, once the bot's device is seen signed: (user id, room id)."""
    device = json.loads((bot.config.data_dir / "credentials.json").read_text())["device_id"]
    doc = live.hs.register(unique("element"), PASSWORD)
    await js.call("login", homeserver=live.hs.url, user_id=doc, password=PASSWORD)
    await js.call("bootstrap_cross_signing", password=PASSWORD)
    await js.call("set_strict", strict=strict)
    room_id = str((await js.call("create_room", name="Cas (Element)", encrypted=True,
                                 invite=[bot.user_id]))["room_id"])
    await js.call("wait_member", room_id=room_id, user_id=bot.user_id, membership="join")
    await js.call("wait_device_signed", user_id=bot.user_id, device_id=device, timeout_ms=20000)
    return doc, room_id


@pytest.mark.parametrize("strict", [True, False], ids=["strict", "default"])
async def test_case_flow_from_element(live: Live, js: JsClient, strict: bool) -> None:
    bot = await live.bot(cases={"unanswered_reminder": "3s"})
    doc, room_id = await element_room(live, js, bot, strict)

    root = (await js.call("send_text", room_id=room_id,
                          body="!case H 52 ans, plaques squameuses des coudes #dermato"))[
        "event_id"]
    card = await wait(js, room_id, sender=bot.user_id, thread_root=root, body_contains="Cas #1")
    assert card["encryption"]["decrypt_error"] is None
    assert card["encryption"]["verified_by_owner"] is True
    assert card["encryption"]["shield_colour"] == "NONE"
    assert card["content"]["msgtype"] == "m.notice"
    assert "Dermatologie · ouvert" in card["content"]["body"]

    reminder = await wait(js, room_id, sender=bot.user_id, thread_root=root,
                          body_contains="pas encore de réponse")
    assert reminder["content"]["m.mentions"]["user_ids"] == [doc]
    assert "https://matrix.to/#/" + doc in reminder["content"]["formatted_body"]

    # Element's edit of the case (m.replace): the bot retags and edits its card in place
    await js.call("edit", room_id=room_id, event_id=root,
                  body="!case H 52 ans, plaques squameuses des coudes #rhumato")
    retagged = await wait(js, room_id, sender=bot.user_id, thread_root=root,
                          body_contains="Rhumatologie · ouvert")
    assert retagged["event_id"] == card["event_id"]
    # an Element thread reply by the poster (a precision) is tracked, not taken as an answer
    await js.call("send_text", room_id=room_id, body="précision : pas de prurit",
                  thread_root=root)

    # Element Web's ✅ is "✅️": U+2705 followed by the emoji variation selector U+FE0F
    await js.call("react", room_id=room_id, event_id=root, key=ELEMENT_CHECK, encrypted=strict)
    resolved = await wait(js, room_id, sender=bot.user_id, thread_root=root,
                          body_contains="Rhumatologie · résolu")
    assert resolved["event_id"] == card["event_id"], "the card is edited in place"
    assert "résolu" in resolved["replaced_by_content"]["body"]
    await wait(js, room_id, sender=bot.user_id, body_contains="Cas #1 résolu")


async def test_a_proposed_specialty_picked_from_element(live: Live, js: JsClient) -> None:
    """Element (strict mode) picks a proposed specialty with the keycap reaction it sends."""
    bot = await live.bot()
    _, room_id = await element_room(live, js, bot, strict=True)

    root = (await js.call("send_text", room_id=room_id,
                          body="!case Homme 62 ans, toux, dyspnée et palpitations, "
                               "ECG normal. Vous feriez quoi ?"))["event_id"]
    card = await wait(js, room_id, sender=bot.user_id, thread_root=root,
                      body_contains="Spécialité à confirmer")
    assert card["encryption"]["decrypt_error"] is None
    assert "1️⃣ Cardiologie · 2️⃣ Pneumologie" in card["content"]["body"]
    # as Element Web sends it: in the clear, the keycap with U+FE0F
    await js.call("react", room_id=room_id, event_id=card["event_id"], key="2\ufe0f\u20e3")
    picked = await wait(js, room_id, sender=bot.user_id, thread_root=root,
                        body_contains="Pneumologie · ouvert")
    assert picked["event_id"] == card["event_id"], "the card is edited in place"
    await wait(js, room_id, sender=bot.user_id, thread_root=root,
               body_contains="Cas #1 : Pneumologie.")
    # The bot withdrew the reactions it offered; Element's own 2️⃣ stays.
    deadline = time.monotonic() + 20
    while True:
        events = (await js.call("events", room_id=room_id))["events"]
        offered = [e for e in events if e["type"] == "m.reaction" and e["sender"] == bot.user_id]
        if len(offered) == 2 and all(e["redacted"] for e in offered):
            break
        assert time.monotonic() < deadline, offered
        await asyncio.sleep(0.5)
