"""What identifies a patient in a photo: its metadata, the faces it shows, what is written on it.

Formats: JPEG, HEIC/HEIF, PNG, WebP and TIFF, read by Pillow (with `pillow-heif` for HEIC), in
memory only. Metadata kinds: a GPS position, the camera's serial number, its owner's name, the
date the photo was taken, an embedded thumbnail (it may show what a crop removed). Pixel kinds
(`vision`, the `photos` extra): faces, and identifiers written on the photo (its text read by
OCR, then run through the text scanner: `written_name`, `written_nir`, …).

Cost: `inspect` decodes the photo at most once, reduced to `ANALYSIS_SIDE` (a JPEG is decoded
at that scale directly); images over `MAX_PIXELS`, or whose decoding would hold more than
`MAX_DECODING` bytes (counted by bytes per pixel: 16-bit, float), are read for their metadata
only. The caller runs it in a worker thread, one photo at a time, so memory stays bounded by
one decoded photo. `clean` decodes the full photo once more, blurs faces and written
identifiers, and encodes a JPEG without any metadata.
"""

from __future__ import annotations

import functools
import io
import re
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.events import Attachment
from plugins.secrecy import vision
from plugins.secrecy.detector import KINDS, scan
from plugins.secrecy.vision import Box

if TYPE_CHECKING:
    from PIL import Image

METADATA_KINDS = ("gps", "serial", "owner", "shot_date", "thumbnail", "description")
WRITTEN_KINDS = tuple(f"written_{kind}" for kind in KINDS)
PHOTO_KINDS = ("face", *WRITTEN_KINDS, *METADATA_KINDS)
PHOTO_TYPES = frozenset({
    "image/jpeg", "image/jpg", "image/pjpeg", "image/heic", "image/heif", "image/heic-sequence",
    "image/heif-sequence", "image/png", "image/webp", "image/tiff",
})
"""The attachments downloaded and read (by announced mimetype; the bytes decide the format)."""
FORMATS = frozenset({"JPEG", "MPO", "HEIF", "PNG", "WEBP", "TIFF"})
"""What Pillow must recognise in the bytes: anything else is not read."""
MAX_PHOTO = 20 * 1024 * 1024
"""Bigger attachments are not downloaded (by their announced size) nor read."""
MAX_PIXELS = 50_000_000
"""Bigger images (decompression bombs, panoramas) are read for their metadata only."""
MAX_DECODING = 8 * MAX_PIXELS
"""Bytes the pixels of one photo may hold at once, from decoding to the RGB copy (see
`decoding_cost`): a 50-MP CMYK or RGBA image; a 16-bit grey one (15 bytes a pixel) stops at
26 MP, a WebP at 25, a float one at 23. Images that would cost more are read for their
metadata only, as those over `MAX_PIXELS`."""
_STORED = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}
"""Bytes Pillow stores a pixel in, by mode (every other mode: 4, multi-band ones included)."""
WEBP_BYTES = 16
"""Pillow decodes every WebP through libwebp's animation decoder, which holds two canvases of
4 bytes a pixel beside the frame and its RGB copy (a 48-MP WebP took 700 MB to check, 1 GB
with tiny frames on its canvas)."""
ANALYSIS_SIDE = 1280
"""Faces and text are looked for on the photo reduced to this long side."""
CLEAN_QUALITY = 88

_GPS_IFD, _EXIF_IFD, _IFD1 = 0x8825, 0x8769, -1
_SERIALS = {_EXIF_IFD: (0xA431, 0xA435), 0: (0xC62F,)}
"""BodySerialNumber, LensSerialNumber (Exif IFD); CameraSerialNumber (IFD0, DNG)."""
_OWNERS = {_EXIF_IFD: (0xA430,), 0: (0x013B, 0x9C9D)}
"""CameraOwnerName (Exif IFD); Artist, XPAuthor (IFD0)."""
_SHOT_DATES = {_EXIF_IFD: (0x9003, 0x9004)}
"""DateTimeOriginal, DateTimeDigitized."""
_UNDECODABLE = (OSError, ValueError, SyntaxError, MemoryError, EOFError, RuntimeError)
"""What decoding hostile or broken pixels raises (libheif: EOFError, RuntimeError)."""
_DESCRIPTIONS = {0: (0x010E, 0x9C9B, 0x9C9C, 0x9C9F), _EXIF_IFD: (0x9286,)}
"""ImageDescription, XPTitle, XPComment, XPSubject (IFD0); UserComment (Exif IFD)."""
_DESCRIPTION_CHARS = 4096
"""Of each description field, this much is scanned."""
_XMP_WINDOW = 256 * 1024
_XMP_KINDS = ((b"GPSLatitude", "gps"), (b"GPSLongitude", "gps"), (b"SerialNumber", "serial"),
              (b"DateTimeOriginal", "shot_date"), (b"dc:creator", "owner"))


_MISREAD_ACCENT = re.compile(r"(?<=[A-Za-z])[^\x00-\x7fÀ-ÖØ-öø-ÿ](?=[a-z(])")
_LETTERS_NUMBER = re.compile(r"(?<=[A-Za-z]{2})(?=\d{6})")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z][A-Za-z])")


def repaired(line: str) -> str:
    """An OCR line as it was likely written. The recognition model reads Latin letters without
    accents: an "é" comes back as a stray symbol ("N×(e) le", "nαe le") and the spaces between
    words of different shapes are often lost ("MrJean-PierreROUSSEAU", "NIR185057…"). One
    linear pass per repair."""
    line = _MISREAD_ACCENT.sub("é", line)
    line = _LETTERS_NUMBER.sub(" ", line)
    return _CAMEL.sub(" ", line)


@dataclass(frozen=True, slots=True)
class PhotoFindings:
    """The kinds found, and the regions a cleaned copy blurs (faces, lines with identifiers)."""

    kinds: frozenset[str] = frozenset()
    regions: tuple[Box, ...] = ()
    size: tuple[int, int] | None = None
    """(width, height) from its header, when it is an image we read."""


@dataclass(frozen=True, slots=True)
class CleanPhoto:
    data: bytes
    width: int
    height: int
    blurred: int
    """How many regions were blurred."""
    mimetype: str = "image/jpeg"


def worth_reading(attachment: Attachment) -> bool:
    """Whether `attachment` is a photo we read: an image type we know, not announced bigger
    than `MAX_PHOTO` (the download is capped too, whatever it announced)."""
    return attachment.mimetype.lower() in PHOTO_TYPES and attachment.size <= MAX_PHOTO


@functools.cache
def _heif_registered() -> None:
    """Pillow reads HEIC once `pillow-heif` registered it: done on the first photo, as Pillow
    itself is imported then (imports cost the bot's start ~17 ms; most rooms post no photo)."""
    from pillow_heif import register_heif_opener

    register_heif_opener()


def _open(data: bytes) -> Image.Image | None:
    """The image in `data` when it is one of `FORMATS`, header read, pixels not yet decoded."""
    from PIL import Image, UnidentifiedImageError

    _heif_registered()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError,
            Image.DecompressionBombError):  # over 178 megapixels: not even opened
        return None
    if image.format not in FORMATS:
        return None
    return image


def decoding_cost(image: Image.Image) -> int:
    """The bytes `_oriented_rgb` holds at once for the opened `image` at full size: the
    decoded pixels (`_STORED`), a 16- or 32-bit grey image's 32-bit copy, its stretched copy
    and 8-bit one (4 + 4 + 1), the RGB copy (4) unless it is RGB already; a WebP's canvases."""
    if image.format == "WEBP":
        per_pixel = WEBP_BYTES
    else:
        per_pixel = _STORED.get(image.mode, 4)
        if image.mode.startswith(("I", "F")):
            per_pixel += 4 + 4 + 1
        if image.mode != "RGB":
            per_pixel += 4
    return image.size[0] * image.size[1] * per_pixel


def _too_big(image: Image.Image) -> bool:
    """Whether decoding `image` would cost more memory than one photo may: more pixels than
    `MAX_PIXELS`, or more bytes than `MAX_DECODING` (16-bit, float, WebP images)."""
    return (image.size[0] * image.size[1] > MAX_PIXELS
            or decoding_cost(image) > MAX_DECODING)


def _meaningful(value: object) -> bool:
    if isinstance(value, bytes):
        return bool(value.strip(b"\x00 "))
    if isinstance(value, str):
        return bool(value.strip("\x00 "))
    return value is not None


def _has(ifds: dict[int, dict], tags: dict[int, tuple[int, ...]]) -> bool:
    return any(_meaningful(ifds.get(where, {}).get(tag)) for where, some in tags.items()
               for tag in some)


def _exif(image: Image.Image, may_decode: bool) -> Image.Exif:
    """The image's EXIF. A PNG's may follow its pixels, and Pillow decodes them to find it:
    not for an image too big to decode (only the EXIF before the pixels is read)."""
    from PIL import Image

    if image.format == "PNG" and not may_decode:
        exif = Image.Exif()
        raw = image.info.get("exif")
        if isinstance(raw, bytes):
            exif.load(raw)
        return exif
    return image.getexif()


def _text(value: object, tag: int = 0) -> str:
    """A description field as text: XP tags are UTF-16, a UserComment starts with its
    8-byte character code."""
    if isinstance(value, str):
        return value[:_DESCRIPTION_CHARS]
    if not isinstance(value, bytes):
        return ""
    value = value[:2 * _DESCRIPTION_CHARS + 8]
    if tag == 0x9286:
        code, value = value[:8], value[8:]
        return value.decode("utf-16" if code.startswith(b"UNICODE") else "utf-8", "replace")
    return value.decode("utf-16-le" if 0x9C9B <= tag <= 0x9C9F else "utf-8", "replace")


def _descriptions(image: Image.Image, ifds: dict[int, dict]) -> str:
    """What the photo's description fields say: EXIF's, a JPEG's comment, a PNG's text."""
    texts = [_text(ifds.get(where, {}).get(tag), tag) for where, tags in _DESCRIPTIONS.items()
             for tag in tags]
    texts.append(_text(image.info.get("comment")))
    if image.format == "PNG":
        texts.extend(_text(value) for key, value in image.info.items()
                     if isinstance(value, str) and key != "XML:com.adobe.xmp")
    return "\n".join(text.replace("\x00", " ") for text in texts if text.strip("\x00 "))


def metadata_kinds(image: Image.Image, may_decode: bool = True) -> set[str]:
    """Identifying metadata of an opened image: EXIF (or a TIFF's own tags) and XMP."""
    kinds: set[str] = set()
    try:
        exif = _exif(image, may_decode)
        ifds: dict[int, dict] = {0: dict(exif)}
        for where in (_EXIF_IFD, _GPS_IFD, _IFD1):
            ifds[where] = dict(exif.get_ifd(where))
    except (OSError, ValueError, SyntaxError, KeyError, TypeError):
        ifds = {}
    gps = ifds.get(_GPS_IFD, {})
    if any(_meaningful(gps.get(tag)) for tag in (2, 4)):  # GPSLatitude, GPSLongitude
        kinds.add("gps")
    for kind, tags in (("serial", _SERIALS), ("owner", _OWNERS), ("shot_date", _SHOT_DATES)):
        if _has(ifds, tags):
            kinds.add(kind)
    if ifds.get(_IFD1, {}).get(0x0201) or image.info.get("thumbnails"):
        kinds.add("thumbnail")
    if scan(_descriptions(image, ifds)):
        kinds.add("description")
    xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp") or b""
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8", "replace")
    xmp = xmp[:_XMP_WINDOW]
    kinds.update(kind for marker, kind in _XMP_KINDS if marker in xmp)
    return kinds


def _oriented_rgb(image: Image.Image, side: int | None) -> Image.Image:
    """The decoded image, turned as its EXIF orientation says, in RGB, its long side reduced
    to `side` (None: full size). A JPEG is decoded at the reduced scale directly."""
    from PIL import Image, ImageOps

    if side is not None and image.format in ("JPEG", "MPO"):
        image.draft("RGB", (side, side))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ImageOps.exif_transpose(image, in_place=True)  # a copy of the full image otherwise
    oriented = image
    if oriented.mode.startswith(("I", "F")):  # 16- or 32-bit greys: RGB would clip at 255
        wide = oriented.convert("I") if oriented.mode.startswith("I;16") else oriented
        low, high = wide.getextrema()
        scale = 255 / max(1, high - low)
        oriented = wide.point(lambda v: (v - low) * scale).convert("L")
    if oriented.mode != "RGB":
        oriented = oriented.convert("RGB")
    if side is not None and max(oriented.size) > side:
        oriented.thumbnail((side, side), Image.Resampling.BILINEAR)
    return oriented


def pixel_findings(rgb: Image.Image, every_face: bool = True) -> PhotoFindings:
    """Faces and written identifiers in an RGB image (nothing without the `photos` extra);
    `every_face=False` when only the kinds matter (`vision.faces`)."""
    if not vision.available():
        return PhotoFindings()
    import numpy as np

    array = np.asarray(rgb)
    kinds: set[str] = set()
    regions = vision.faces(array, every=every_face)
    if regions:
        kinds.add("face")
    lines = vision.text_lines(array)
    read = [repaired(line.text) for line in lines]
    text, starts = "", []
    for line in read:
        starts.append(len(text))
        text += line + "\n"
    for finding in scan(text):
        kinds.add(f"written_{finding.kind}")
        regions.extend(line.box for line, shown, start in zip(lines, read, starts, strict=True)
                       if start < finding.end and finding.start < start + len(shown))
    return PhotoFindings(frozenset(kinds), tuple(dict.fromkeys(regions)))


def inspect(data: bytes) -> PhotoFindings:
    """Everything identifying in a photo's bytes (CPU work: run it in a worker thread). Its
    regions may leave out profiles beside a frontal face: `clean` looks for every face."""
    image = _open(data)
    if image is None:
        return PhotoFindings()
    with image:
        size = image.size
        kinds = metadata_kinds(image, may_decode=not _too_big(image))
        if _too_big(image):
            return PhotoFindings(frozenset(kinds), size=size)
        try:
            pixels = pixel_findings(_oriented_rgb(image, ANALYSIS_SIDE), every_face=False)
        except _UNDECODABLE:  # truncated or corrupt pixels
            return PhotoFindings(frozenset(kinds), size=size)
    return PhotoFindings(frozenset(kinds | pixels.kinds), pixels.regions, size)


def _blur(image: Image.Image, box: Box) -> None:
    """Make the region unreadable for good: pixelate (cells a third of its smaller side, so
    a line of text is three cells high), then blur the cells' edges."""
    from PIL import Image, ImageFilter

    left, top, right, bottom = box.pixels(*image.size, margin=0.25)
    width, height = right - left, bottom - top
    if width < 2 or height < 2:
        return
    cell = max(2, min(width, height) // 3)
    region = image.crop((left, top, right, bottom))
    region = region.resize((max(1, width // cell), max(1, height // cell)),
                           Image.Resampling.BOX).resize(region.size, Image.Resampling.NEAREST)
    radius = max(2, cell // 3)
    image.paste(region.filter(ImageFilter.GaussianBlur(radius)), (left, top))


def clean(data: bytes) -> CleanPhoto | None:
    """A copy of the photo without metadata, faces and written identifiers blurred, as a JPEG
    (None: not an image we read). CPU work: run it in a worker thread."""
    from PIL import Image

    image = _open(data)
    if image is None:
        return None
    with image:
        if _too_big(image):
            return None
        try:
            full = _oriented_rgb(image, None)
        except _UNDECODABLE:
            return None
    full.info = {}  # Pillow writes `info`'s comment back into a JPEG
    scale = min(1.0, ANALYSIS_SIDE / max(full.size))
    reduced = full.resize((max(1, round(full.width * scale)), max(1, round(full.height * scale))),
                          Image.Resampling.BILINEAR)
    regions = pixel_findings(reduced).regions
    for box in regions:
        _blur(full, box)
    out = io.BytesIO()
    full.save(out, "JPEG", quality=CLEAN_QUALITY)  # no exif, xmp nor icc passed: none written
    return CleanPhoto(out.getvalue(), full.width, full.height, len(regions))
