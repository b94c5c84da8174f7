"""Photos in a case thread end to end: real Synapse, encrypted room and attachments, nio clients.

A physician posts an encrypted photo showing a face, with a GPS position in its EXIF: the bot
downloads and decrypts it, warns in the thread naming both kinds (no value), and on `!clean`
posts an encrypted copy that the physician's client decrypts: no metadata, the face blurred.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from tests.support.live import Live, without_ids
from tests.support.photos import encode, exif
from tests.test_secrecy_photos import spread, with_face


async def test_a_photo_with_a_face_and_gps_is_warned_then_cleaned(live: Live) -> None:
    bot = await live.bot()
    alice = await live.physician("alice")
    room = await live.room_with(alice, bot)
    root = await alice.say(room, "!case F 45 ans, plaie de l'avant-bras, avis ?")
    await alice.wait_for(lambda e: e.sender == bot.user_id and e.answer_to == root
                         and e.body.startswith("Cas #"))
    original = with_face(np.random.default_rng(5))
    data = encode(original, "JPEG", exif(gps=True, serial=True))
    photo = await alice.send_image(room, data, thread_root=root)
    warning = await alice.wait_for(lambda e: e.sender == bot.user_id and e.answer_to == root
                                   and "cette photo semble" in e.body, timeout=60)
    assert warning.decrypted and alice.user_id in warning.mentions
    assert "un visage" in warning.body and "la position GPS" in warning.body
    assert "48" not in without_ids(warning.body, alice.user_id) and photo not in warning.body

    await alice.say(room, "!clean", thread_root=root)
    image = await alice.wait_for(lambda e: e.sender == bot.user_id and e.answer_to == root
                                 and e.content.get("msgtype") == "m.image", timeout=60)
    assert image.decrypted and "url" not in image.content
    cleaned = await alice.attachment(image.content)
    out = Image.open(io.BytesIO(cleaned))
    assert out.format == "JPEG" and out.size == original.size
    assert not out.getexif() and "xmp" not in out.info
    face = (720, 390, 810, 480)
    assert spread(out, face) < spread(original, face) / 3
    notice = await alice.wait_for(lambda e: e.sender == bot.user_id and e.answer_to == root
                                  and "copie nettoyée" in e.body)
    assert "!redact" in notice.body
