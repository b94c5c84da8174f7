"""Photos in case threads: metadata in every format, faces, written identifiers, the cleaned copy.

Pictures are drawn or rendered here, faces are public-domain portraits shipped by test-only
packages (tests/support/photos.py). Recall and false alarms over the whole evaluation set are
measured by `python -m bench photos`, not here: these tests pin one outcome per format and kind.
"""

from __future__ import annotations

import asyncio
import io
import re
import struct
import subprocess
import sys
import threading

import numpy as np
import pytest
from PIL import Image, ImageFile

from bot import lane as core_lane
from bot.events import Unavailable
from bot.storage import StorageUnavailable
from bot.testing import BOT, Harness
from plugins.secrecy import photo, photos, vision
from plugins.secrecy.photo import clean, inspect, worth_reading
from plugins.secrecy.plugin import Secrecy
from tests.support.photos import (
    WRITTEN,
    _fix_nir,
    encode,
    exif,
    label,
    portraits,
    screenshot,
    skin,
    xray,
)
from tests.test_secrecy_plugin import CLEAN, DOC, MOD, POSTER, ROOM, harness, photos_checked

FORMATS = ("JPEG", "PNG", "WEBP", "TIFF", "HEIF")
MIMETYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp",
             "TIFF": "image/tiff", "HEIF": "image/heic"}
METADATA = {"gps", "serial", "owner", "shot_date"}


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(3)


@pytest.fixture
async def h():
    async with harness() as hh:
        hh.add_room(ROOM, members=[POSTER, DOC, MOD], powers={MOD: 50, BOT: 100})
        yield hh


def plain(size: tuple[int, int] = (320, 240)) -> Image.Image:
    return Image.new("RGB", size, (180, 150, 130))


def with_face(rng: np.random.Generator, size: tuple[int, int] = (1600, 1200)) -> Image.Image:
    """Skin with the astronaut's portrait pasted, half the height, in the middle."""
    background = skin(rng, size)
    face = portraits()["astronaut"].resize((size[1] // 2, size[1] // 2))
    background.paste(face, ((size[0] - face.width) // 2, size[1] // 4))
    return background


def thumbnail_exif() -> bytes:
    """EXIF whose IFD1 carries a JPEG thumbnail (as every phone writes), hand-made: Pillow
    does not write one."""
    thumb = encode(plain((40, 30)), "JPEG")
    ifd0 = 8
    ifd1 = ifd0 + 2 + 12 + 4
    data = ifd1 + 2 + 2 * 12 + 4
    tiff = b"II" + struct.pack("<HI", 42, ifd0)
    tiff += struct.pack("<H", 1) + struct.pack("<HHI", 0x010F, 2, 4) + b"Cam\0"
    tiff += struct.pack("<I", ifd1)
    tiff += struct.pack("<H", 2) + struct.pack("<HHII", 0x0201, 4, 1, data)
    tiff += struct.pack("<HHII", 0x0202, 4, 1, len(thumb)) + struct.pack("<I", 0)
    return b"Exif\0\0" + tiff + thumb


# ---- metadata, per format ----------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_metadata_kinds_in_every_format(fmt: str) -> None:
    full = encode(plain(), fmt, exif(gps=True, serial=True, owner=True, shot_date=True))
    assert inspect(full).kinds == METADATA
    assert inspect(encode(plain(), fmt, exif(gps=True))).kinds == {"gps"}
    assert inspect(encode(plain(), fmt, exif(shot_date=True))).kinds == {"shot_date"}
    assert inspect(encode(plain(), fmt)).kinds == set()
    assert worth_reading_as(MIMETYPES[fmt], len(full))


def worth_reading_as(mimetype: str, size: int) -> bool:
    from bot.events import Attachment

    return worth_reading(Attachment(ROOM, "$e", POSTER, 0, "m.image", mimetype, size,
                                    "mxc://x/y", None, None))


def test_thumbnails_and_xmp() -> None:
    out = io.BytesIO()
    plain().save(out, "JPEG", exif=thumbnail_exif())
    assert inspect(out.getvalue()).kinds == {"thumbnail"}
    heif = encode(plain(), "HEIF", thumbnails=[64])
    assert inspect(heif).kinds == {"thumbnail"}
    xmp = b'<x:xmpmeta><rdf:Description exif:GPSLatitude="48,51.5N"/></x:xmpmeta>'
    assert inspect(encode(plain(), "WEBP", xmp=xmp)).kinds == {"gps"}
    assert inspect(encode(plain(), "JPEG", xmp=xmp)).kinds == {"gps"}


def test_what_is_not_read() -> None:
    assert not worth_reading_as("image/gif", 1000)
    assert not worth_reading_as("video/mp4", 1000)
    assert not worth_reading_as("image/jpeg", photo.MAX_PHOTO + 1)
    gif = io.BytesIO()
    plain().save(gif, "GIF")
    assert inspect(gif.getvalue()) == photo.PhotoFindings()
    assert clean(gif.getvalue()) is None
    full = encode(plain(), "JPEG", exif(gps=True))
    for broken in (b"", b"not an image", full[:40], full[: len(full) // 2]):
        assert inspect(broken).kinds <= {"gps"}


def test_a_decompression_bomb_is_read_for_its_metadata_only(monkeypatch) -> None:
    """A PNG of 60 megapixels (a few kB of zeros): its metadata read, its pixels never
    decoded (not even to look for an EXIF after them)."""
    bomb = encode(Image.new("L", (10_000, 6_000)), "PNG", exif(gps=True))
    assert len(bomb) < 200_000

    def fail(*args: object) -> None:
        raise AssertionError("the pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", fail)
    assert inspect(bomb).kinds == {"gps"}
    assert clean(bomb) is None
    huge = encode(Image.new("1", (15_000, 15_000)), "PNG")  # 225 MP: Pillow refuses to open it
    assert inspect(huge) == photo.PhotoFindings() and clean(huge) is None


# ---- pixels ------------------------------------------------------------------------------------
def test_faces_found_and_none_on_clinical_pictures(rng: np.random.Generator) -> None:
    assert vision.available()
    for fmt in FORMATS:
        assert "face" in inspect(encode(with_face(rng), fmt)).kinds, fmt
    assert inspect(encode(portraits()["hopper"], "JPEG")).kinds == {"face"}
    for picture in (skin(rng, (1600, 1200), lesions=20), xray(rng, (1200, 1600))):
        assert inspect(encode(picture, "JPEG")).kinds == set()


def test_written_identifiers_are_found(rng: np.random.Generator) -> None:
    lines = _fix_nir(WRITTEN[1][0])  # a name and a NIR
    kinds = inspect(encode(label(lines, (4000, 3000), rng), "JPEG")).kinds
    assert {"written_name", "written_nir"} <= kinds
    form = inspect(encode(screenshot(_fix_nir(WRITTEN[0][0]), (1920, 1080), rng), "PNG")).kinds
    assert "written_name" in form
    clinical = ["Amoxicilline 1 g : 1 cp matin, midi et soir", "pendant 7 jours"]
    assert inspect(encode(label(clinical, (1600, 1200), rng), "JPEG")).kinds == set()


def test_orientation_is_applied_before_looking(rng: np.random.Generator) -> None:
    """A portrait shot turned sideways, with EXIF orientation 6 (turn 90° to show): the face is
    found, and the cleaned copy is upright (portrait size)."""
    upright = with_face(rng, (1200, 1600))
    sideways = upright.transpose(Image.Transpose.ROTATE_90)
    data = encode(sideways, "JPEG", exif(orientation=6))
    assert "face" in inspect(data).kinds
    cleaned = clean(data)
    assert cleaned is not None and (cleaned.width, cleaned.height) == (1200, 1600)


# ---- the cleaned copy --------------------------------------------------------------------------
def spread(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    """How much detail a region holds: the standard deviation of its grey levels' gradient."""
    grey = np.asarray(image.convert("L").crop(box), dtype=float)
    return float(np.abs(np.diff(grey, axis=1)).mean())


@pytest.mark.parametrize("fmt", ["JPEG", "HEIF"])
def test_clean_strips_metadata_and_blurs_the_face(rng: np.random.Generator, fmt: str) -> None:
    original = with_face(rng)
    data = encode(original, fmt, exif(gps=True, serial=True, owner=True, shot_date=True))
    cleaned = clean(data)
    assert cleaned is not None and cleaned.blurred >= 1 and cleaned.mimetype == "image/jpeg"
    out = Image.open(io.BytesIO(cleaned.data))
    assert out.format == "JPEG" and out.size == original.size
    assert not out.getexif() and "xmp" not in out.info and "icc_profile" not in out.info
    assert inspect(cleaned.data).kinds == set()
    face = (720, 390, 810, 480)  # the astronaut’s face (pasted at 500, 300, 600 px high)
    assert spread(out, face) < spread(original, face) / 3
    corner = (0, 0, 300, 300)  # skin far from the face: kept
    assert abs(spread(out, corner) - spread(original, corner)) < 1.5


def test_clean_blurs_the_written_name(rng: np.random.Generator) -> None:
    lines = _fix_nir(WRITTEN[1][0])
    data = encode(label(lines, (1600, 1200), rng), "JPEG")
    cleaned = clean(data)
    assert cleaned is not None and cleaned.blurred >= 2
    assert not {"written_name", "written_nir"} & inspect(cleaned.data).kinds


# ---- in a case thread --------------------------------------------------------------------------
async def test_a_photo_with_a_face_and_gps_is_warned_without_values(
        h: Harness, rng: np.random.Generator) -> None:
    root = await h.say(POSTER, CLEAN)
    h.clear()
    data = encode(with_face(rng), "HEIF", exif(gps=True))
    photo_id = await h.attach(DOC, data, mimetype="image/heic", thread_root=root)
    await photos_checked(h)
    warning = h.last()
    assert warning.thread_root == root and warning.mentions == [DOC]
    assert "un visage et la position GPS" in warning.body
    assert "48" not in warning.body and "clean" in warning.body
    rows = await h.db.fetchall("SELECT kind, count FROM secrecy_counts ORDER BY kind")
    assert [tuple(r) for r in rows] == [("face", 1), ("gps", 1)]
    await h.say(DOC, "!redact", thread_root=root)
    assert h.transport.redacted == [photo_id]


async def test_written_identifiers_warn_like_text(h: Harness, rng: np.random.Generator) -> None:
    root = await h.say(POSTER, CLEAN)
    h.clear()
    lines = _fix_nir(WRITTEN[1][0])
    await h.attach(DOC, encode(label(lines, (1600, 1200), rng), "WEBP"), mimetype="image/webp",
                   thread_root=root)
    await photos_checked(h)
    body = h.last().body
    assert "un nom écrit sur l’image" in body and "(NIR) écrit sur l’image" in body
    assert "MARTIN" not in body and "Bernard" not in body
    h.clear()
    await h.attach(DOC, encode(xray(rng, (1200, 1600)), "PNG"), mimetype="image/png",
                   thread_root=root)
    await photos_checked(h)
    assert h.sent == []


async def test_english_room_names_photo_kinds(h: Harness, rng: np.random.Generator) -> None:
    await h.app.set_room_setting(ROOM, "language", "en")
    root = await h.say(POSTER, CLEAN)
    h.clear()
    await h.attach(DOC, encode(with_face(rng), "JPEG", exif(owner=True)), thread_root=root)
    await photos_checked(h)
    assert "a face and the camera owner’s name" in h.last().body


def test_secrecy_kinds_have_words() -> None:
    for kind in photo.PHOTO_KINDS:
        assert f"secrecy.kind.{kind}" in Secrecy.strings


# ---- !clean ------------------------------------------------------------------------------------
async def test_clean_posts_a_cleaned_copy_in_the_thread(
        h: Harness, rng: np.random.Generator) -> None:
    root = await h.say(POSTER, CLEAN)
    await h.attach(DOC, encode(xray(rng, (800, 600)), "JPEG", exif(gps=True)), thread_root=root)
    await photos_checked(h)
    original = with_face(rng)
    flagged = await h.attach(DOC, encode(original, "JPEG", exif(gps=True, serial=True)),
                             thread_root=root)
    await photos_checked(h)
    h.clear()
    await h.say(POSTER, "!nettoyer", thread_root=root)
    assert "aucune photo que vous puissiez nettoyer" in h.last().body  # not the poster's
    h.clear()
    await h.say(DOC, "!clean", thread_root=root)
    await photos_checked(h)
    image, notice = h.sent
    assert image.content["msgtype"] == "m.image" and image.thread_root == root
    assert image.content["info"]["w"] == 1600 and "url" not in image.content
    upload = h.transport.uploads[-1]
    assert upload.url == image.file_url and upload.mimetype == "image/jpeg"
    out = Image.open(io.BytesIO(upload.data))
    assert not out.getexif() and inspect(upload.data).kinds == set()
    face = (720, 390, 810, 480)
    assert spread(out, face) < spread(original, face) / 3
    assert "copie nettoyée" in notice.body and "1 zone(s)" in notice.body
    assert notice.mentions == [DOC] and "!redact" in notice.body
    assert h.transport.redacted == []  # the poster deletes the original (or !redact)
    await h.say(DOC, "!redact", thread_root=root)
    assert h.transport.redacted == [flagged]


async def test_clean_where_there_is_nothing_to_clean(h: Harness,
                                                     rng: np.random.Generator) -> None:
    await h.say(DOC, "!clean")
    assert "aucune photo" in h.last().body
    root = await h.say(POSTER, "!case Mme Dupont, 45 ans, douleur thoracique")
    await h.say(POSTER, "!clean", thread_root=root)  # a flagged text is not a photo
    assert "aucune photo" in h.last().body
    data = encode(with_face(rng), "JPEG")
    await h.attach(POSTER, data, thread_root=root)
    await photos_checked(h)
    gone = h.transport.files.popitem()[0]  # the photo vanished from the media repository
    assert gone.startswith("mxc://")
    await h.say(POSTER, "!clean", thread_root=root)
    await photos_checked(h)
    assert "pas pu nettoyer" in h.last().body and h.transport.uploads == []


def test_ocr_lines_are_repaired_before_scanning() -> None:
    """The recognizer reads "é" as a stray symbol and loses spaces between words of different
    shapes; the repair gives the scanner the words back, and leaves clinical terms alone."""
    assert photo.repaired("N×(e) le : 12/03/1956") == "Né(e) le : 12/03/1956"
    assert photo.repaired("nαe le 03/03/1957") == "née le 03/03/1957"
    assert photo.repaired("MrJean-PierreROUSSEAU") == "Mr Jean-Pierre ROUSSEAU"
    assert photo.repaired("NIR185057512345673") == "NIR 185057512345673"
    for kept in ("HbA1c 7,2 %", "T4 12 pmol/L", "QTc 420 ms", "Créatinine 78 µmol/L"):
        assert photo.repaired(kept) == kept


def test_form_fields_name_a_person() -> None:
    """Labels and record screens write names as form fields; the text scanner knows them."""
    from plugins.secrecy.detector import scan

    def names(text: str) -> list[str]:
        return [text[f.start:f.end] for f in scan(text) if f.kind == "name"]

    assert names("Nom : DUPONT\nPrénom : Jeanne") == ["DUPONT", "Jeanne"]
    assert names("Nom: Dupont") == ["Dupont"] and names("Prnom: Jeanne") == ["Jeanne"]
    assert names("Nom du médicament : Doliprane") == []
    assert names("le nom: Paris") == []


def test_without_the_photos_extra_metadata_only(monkeypatch, rng: np.random.Generator) -> None:
    """`pip install casebot` without `[photos]`: metadata found, pixels not looked at, and a
    cleaned copy still has no metadata."""
    monkeypatch.setattr(vision, "available", lambda: False)
    data = encode(with_face(rng), "JPEG", exif(gps=True))
    assert inspect(data).kinds == {"gps"}
    cleaned = clean(data)
    assert cleaned is not None and cleaned.blurred == 0
    assert not Image.open(io.BytesIO(cleaned.data)).getexif()


# ---- review: hostile bytes ---------------------------------------------------------------------
def test_a_corrupt_heic_is_still_warned_for_its_metadata() -> None:
    """A HEIC whose coded picture is broken (its first NAL length rewritten): libheif raises
    EOFError while decoding. Its GPS position is still reported, and `clean` gives up."""
    data = bytearray(encode(plain((160, 120)), "HEIF", exif(gps=True)))
    data[data.find(b"mdat") + 4] = 0x25
    assert inspect(bytes(data)).kinds == {"gps"}
    assert clean(bytes(data)) is None


def test_the_cleaned_copy_keeps_no_comment_nor_text() -> None:
    """A JPEG comment (COM), a PNG text chunk and an ICC profile may carry a name: Pillow
    copies `info` through conversions and writes a JPEG's comment back by default."""
    from PIL import ImageCms
    from PIL.PngImagePlugin import PngInfo

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    text = PngInfo()
    text.add_text("Author", "Jeanne DUPONT")
    for fmt, options in (("JPEG", {"comment": b"Jeanne DUPONT", "icc_profile": icc}),
                         ("PNG", {"pnginfo": text, "icc_profile": icc}),
                         ("WEBP", {"icc_profile": icc})):
        for mode in ("RGB", "CMYK") if fmt == "JPEG" else ("RGB",):
            out = io.BytesIO()
            plain().convert(mode).save(out, fmt, **options)
            cleaned = clean(out.getvalue())
            assert cleaned is not None
            copy = Image.open(io.BytesIO(cleaned.data))
            assert [name for name, _ in copy.applist] == ["APP0"], (fmt, mode)  # JFIF only
            assert b"DUPONT" not in cleaned.data and "icc_profile" not in copy.info


class Blocked:
    """`inspect` replaced: each call waits for `release` (in its worker thread), records its
    photo's bytes, and finds a GPS position."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.release = threading.Event()
        self.seen: list[bytes] = []
        monkeypatch.setattr(photos, "inspect", self)

    def __call__(self, data: bytes) -> photo.PhotoFindings:
        assert self.release.wait(10)
        self.seen.append(data)
        return photo.PhotoFindings(frozenset({"gps"}))


async def test_a_photo_being_checked_holds_up_no_event(h: Harness, monkeypatch) -> None:
    """A check takes up to a second: it runs behind the handlers, so the room's next events
    (and the sync batch every room waits for) are not held while it runs."""
    blocked = Blocked(monkeypatch)
    root = await h.say(POSTER, CLEAN)
    h.clear()
    try:
        await asyncio.wait_for(h.attach(DOC, b"photo", thread_root=root), 5)
        await asyncio.wait_for(h.say(DOC, "!rules"), 5)
        assert "secret" in h.last().body.lower()
    finally:
        blocked.release.set()
    await photos_checked(h)
    assert "position GPS" in h.last().body and blocked.seen == [b"photo"]


async def test_a_burst_of_photos_is_bounded_and_others_go_first(h: Harness,
                                                                 monkeypatch) -> None:
    """A member posting 30 photos at once: `PER_MEMBER` wait (and the one being checked), the
    rest are not checked and the poster is told once; another member's photo is checked
    next but one, not after the whole burst."""
    blocked = Blocked(monkeypatch)
    root = await h.say(POSTER, CLEAN)
    h.clear()
    try:
        for i in range(30):
            await h.attach(DOC, f"doc-{i}".encode(), thread_root=root)
        await h.attach(POSTER, b"poster", thread_root=root)
        assert h.app.lane.waiting(DOC) == core_lane.PER_MEMBER
        busy = [s for s in h.sent if "trop de photos attendent" in s.body]
        assert len(busy) == 1 and busy[0].mentions == [DOC] and busy[0].thread_root == root
    finally:
        blocked.release.set()
    await photos_checked(h)
    assert len(blocked.seen) == core_lane.PER_MEMBER + 2
    assert blocked.seen.index(b"poster") <= 2
    assert h.app.lane.waiting(DOC) == 0


@pytest.mark.parametrize(("fmt", "factor"), [("PNG", 257), ("TIFF", 16)])
def test_sixteen_bit_greys_are_looked_at(rng: np.random.Generator, fmt: str,
                                         factor: int) -> None:
    """A 16-bit grey picture (an X-ray or a scan exported from a viewer; 12 bits used, or 16):
    Pillow's RGB conversion clips every level over 255 to white, and neither the face nor
    the blur would be seen."""
    grey = np.asarray(with_face(rng).convert("L")).astype(np.uint16) * factor
    data = encode(Image.fromarray(grey), fmt, exif(gps=True))
    assert Image.open(io.BytesIO(data)).mode.startswith("I;16")
    assert inspect(data).kinds == {"face", "gps"}
    cleaned = clean(data)
    assert cleaned is not None and cleaned.blurred >= 1


async def test_clean_holds_up_no_event(h: Harness, rng: np.random.Generator,
                                       monkeypatch) -> None:
    """Cleaning a 50-MP photo takes seconds: it runs in the lane, not in the handler."""
    root = await h.say(POSTER, CLEAN)
    await h.attach(DOC, encode(with_face(rng, (320, 240)), "JPEG", exif(gps=True)),
                   thread_root=root)
    await photos_checked(h)
    release, real = threading.Event(), photos.clean

    def slow(data: bytes) -> photo.CleanPhoto | None:
        assert release.wait(10)
        return real(data)

    monkeypatch.setattr(photos, "clean", slow)
    h.clear()
    try:
        await asyncio.wait_for(h.say(DOC, "!clean", thread_root=root), 5)
        await asyncio.wait_for(h.say(DOC, "!rules"), 5)
        assert h.sent and "secret" in h.last().body.lower()
    finally:
        release.set()
    await photos_checked(h)
    assert [s.content["msgtype"] for s in h.sent[-2:]] == ["m.image", "m.notice"]


def test_an_animated_webp_with_a_huge_canvas_is_not_decoded(monkeypatch) -> None:
    """Three 64-px frames on a 48-MP canvas (the VP8X chunk rewritten): libwebp allocates two
    canvases of 4 bytes a pixel to decode any WebP (1 GB to check this one): metadata only."""
    frames = [Image.new("RGB", (64, 64), (80 * i, 100, 100)) for i in range(3)]
    data = bytearray(encode(frames[0], "WEBP", exif(gps=True), save_all=True,
                            append_images=frames[1:], duration=100))
    at = data.find(b"VP8X") + 12
    data[at:at + 6] = (7999).to_bytes(3, "little") + (5999).to_bytes(3, "little")

    def fail(*args: object) -> None:
        raise AssertionError("the pixels were decoded")

    monkeypatch.setattr(photo, "_oriented_rgb", fail)
    assert inspect(bytes(data)).kinds == {"gps"}
    assert clean(bytes(data)) is None


async def test_a_photo_deleted_while_it_waits_is_not_checked(h: Harness, monkeypatch) -> None:
    """Checks run behind the handlers: a photo its poster deleted meanwhile is neither
    downloaded and checked, nor warned about (nor cleanable); another member's redaction
    without the power does not count."""
    blocked = Blocked(monkeypatch)
    root = await h.say(POSTER, CLEAN)
    h.clear()
    try:
        await h.attach(DOC, b"first", thread_root=root)
        deleted = await h.attach(DOC, b"deleted", thread_root=root)
        kept = await h.attach(DOC, b"kept", thread_root=root)
        await h.redact(DOC, deleted)
        await h.redact(POSTER, kept)  # not theirs, no power: the homeserver refuses it
    finally:
        blocked.release.set()
    await photos_checked(h)
    assert blocked.seen == [b"first", b"kept"]
    assert len([s for s in h.sent if "position GPS" in s.body]) == 2


async def test_clean_is_refused_while_the_member_has_too_many_waiting(
        h: Harness, monkeypatch) -> None:
    root = await h.say(POSTER, CLEAN)
    await h.attach(DOC, encode(plain(), "JPEG", exif(gps=True)), thread_root=root)
    await photos_checked(h)
    blocked = Blocked(monkeypatch)
    try:
        for i in range(core_lane.PER_MEMBER + 1):
            await h.attach(DOC, f"doc-{i}".encode(), thread_root=root)
        await h.say(DOC, "!nettoyer", thread_root=root)
        assert "refaites !clean dans une minute" in h.last().body
    finally:
        blocked.release.set()
    await photos_checked(h)
    assert h.transport.uploads == []


def test_identifiers_in_the_description_fields_are_found() -> None:
    """Clinical photo apps and exporters write the patient in the photo's description: EXIF
    ImageDescription / UserComment / XPComment, a JPEG comment, a PNG text chunk. The text
    scanner reads them; a camera's own description is no finding."""
    def with_tags(**tags: object) -> bytes:
        ex = Image.Exif()
        for tag, value in tags.items():
            ex[int(tag.removeprefix("t"), 16)] = value
        return encode(plain(), "JPEG", ex)

    assert inspect(with_tags(t010E="Patient : Mme Jeanne DUPONT")).kinds == {"description"}
    assert inspect(with_tags(t9C9C="née le 03/03/1957".encode("utf-16-le"))).kinds == {
        "description"}
    assert inspect(with_tags(t010E="OLYMPUS DIGITAL CAMERA")).kinds == set()
    assert inspect(encode(plain(), "JPEG", comment="Mme Jeanne DUPONT")).kinds == {"description"}
    from PIL.PngImagePlugin import PngInfo

    text = PngInfo()
    text.add_itxt("Description", "Monsieur Paul RENAUD, plaie du genou")
    assert inspect(encode(plain(), "PNG", pnginfo=text)).kinds == {"description"}
    text = PngInfo()
    text.add_text("Software", "GIMP 2.10")
    assert inspect(encode(plain(), "PNG", pnginfo=text)).kinds == set()


@pytest.mark.parametrize("size", [(30_000, 1), (1, 30_000), (5_000, 40)])
def test_a_thin_strip_costs_no_more_than_a_photo(monkeypatch, size: tuple[int, int]) -> None:
    """A few hundred bytes of PNG, 30,000 × 1 px: RapidOCR scales a strip's short side up to
    736 px (and pads one past 8:1), so the OCR asked for 4 GB (the process was killed); the
    strip is padded to 4:1 before it. `!clean` of it failed in OpenCV (an image 0 px high)."""
    shapes: list[tuple[int, ...]] = []
    engine = vision._ocr()

    def recording(bgr: np.ndarray, **options: object) -> object:
        shapes.append(bgr.shape)
        return engine(bgr, **options)

    monkeypatch.setattr(vision, "_ocr", lambda: recording)
    data = encode(Image.new("RGB", size, (200, 180, 160)), "PNG", exif(gps=True))
    assert inspect(data).kinds == {"gps"}
    (height, width, _), = shapes
    assert max(height, width) <= vision.MAX_ASPECT * min(height, width) + vision.MAX_ASPECT
    cleaned = clean(data)
    assert cleaned is not None and (cleaned.width, cleaned.height) == size


def test_pillow_is_imported_on_the_first_photo_heic_included(tmp_path) -> None:
    """Loading the secrecy plugin imports neither Pillow nor pillow-heif (the bot's start);
    the first photo does, HEIC read included (a fresh interpreter: this one has both)."""
    heic = tmp_path / "photo.heic"
    heic.write_bytes(encode(plain(), "HEIF", thumbnails=[64]))
    script = (
        "import sys\n"
        "import plugins.secrecy.plugin\n"
        "from plugins.secrecy.photo import inspect\n"
        "assert 'PIL' not in sys.modules and 'pillow_heif' not in sys.modules\n"
        f"print(sorted(inspect(open({str(heic)!r}, 'rb').read()).kinds))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "['thumbnail']"


# ---- the lane's guard ---------------------------------------------------------------------------
def failing_downloads(h: Harness, monkeypatch: pytest.MonkeyPatch, error: Exception,
                      times: int) -> None:
    """The first `times` downloads raise `error`; then the homeserver answers again."""
    real, left = h.transport.download, [times]

    async def download(attachment: object, limit: int = 0) -> bytes:
        if left[0]:
            left[0] -= 1
            raise error
        return await real(attachment, limit)  # type: ignore[arg-type]

    monkeypatch.setattr(h.transport, "download", download)


async def test_a_photo_check_that_fails_tells_the_thread_a_reference(
        h: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    root = await h.say(POSTER, CLEAN)
    failing_downloads(h, monkeypatch, RuntimeError("a bug in the check"), 1)
    await h.attach(DOC, encode(plain(), "JPEG", exif(gps=True)), thread_root=root)
    await photos_checked(h)
    [notice] = [s for s in h.in_thread(root) if "référence" in s.body]
    [ref] = re.findall(r"\(ref ([0-9A-F]{6})\)", caplog.text)
    assert f"référence {ref}" in notice.body
    assert not any("position GPS" in s.body for s in h.sent)


async def test_a_photo_check_met_by_an_outage_is_retried(
        h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """The homeserver does not answer the download (or the warning's send): the lane waits
    and checks the same photo again, once it answers; nothing is swallowed or told twice."""
    monkeypatch.setattr(core_lane, "RETRY_FIRST", 0.0)
    root = await h.say(POSTER, CLEAN)
    failing_downloads(h, monkeypatch, Unavailable("the homeserver did not answer"), 2)
    await h.attach(DOC, encode(plain(), "JPEG", exif(gps=True)), thread_root=root)
    await photos_checked(h)
    warnings = [s for s in h.in_thread(root) if "position GPS" in s.body]
    assert len(warnings) == 1 and warnings[0].mentions == [DOC]
    assert not any("référence" in s.body for s in h.sent)


async def test_a_photo_check_whose_count_meets_an_outage_warns_and_counts_once(
        h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """The database fails after the warning was sent: the check runs again, its warning
    reuses its transaction id (shown once) and the kind is counted once."""
    monkeypatch.setattr(core_lane, "RETRY_FIRST", 0.0)
    root = await h.say(POSTER, CLEAN)
    store = h.app.plugins["secrecy"].store  # type: ignore[attr-defined]
    real, left = store.count, [1]

    async def count(*args: object) -> None:
        if left[0]:
            left[0] -= 1
            raise StorageUnavailable("the database cannot be used (read-only)")
        await real(*args)

    monkeypatch.setattr(store, "count", count)
    await h.attach(DOC, encode(plain(), "JPEG", exif(gps=True)), thread_root=root)
    await photos_checked(h)
    assert len([s for s in h.sent if "position GPS" in s.body]) == 1
    rows = await h.db.fetchall("SELECT kind, count FROM secrecy_counts")
    assert [tuple(r) for r in rows] == [("gps", 1)]
