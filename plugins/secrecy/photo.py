"""Identifying metadata in photos: a small EXIF reader for JPEG bytes, in memory only.

It looks for three kinds and nothing else: a GPS position (`gps`), the camera's serial number
(`serial`) and the original date the photo was taken (`shot_date`). It reads only what it
needs (the JPEG segments before the image data, at most `EXIF_WINDOW` bytes of them), never
follows an offset outside the bytes it was given, and stops at the first malformed piece.
"""

from __future__ import annotations

import struct

from bot.events import Attachment

PHOTO_KINDS = ("gps", "serial", "shot_date")
PHOTO_TYPES = frozenset({"image/jpeg", "image/jpg", "image/pjpeg"})
"""The only attachments downloaded: the images whose EXIF we read. No mimetype: not read."""
MAX_PHOTO = 20 * 1024 * 1024
"""Bigger attachments are not downloaded (by their announced size) nor read."""
EXIF_WINDOW = 256 * 1024
"""Bytes of a photo read for its metadata (EXIF sits in the first segments)."""

_GPS_IFD, _EXIF_IFD = 0x8825, 0x8769
_SERIAL, _DATE_ORIGINAL = 0xA431, 0x9003
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
_MAX_ENTRIES = 512


def worth_reading(attachment: Attachment) -> bool:
    """Whether `attachment` is a photo we read: a JPEG by its mimetype, not announced bigger
    than `MAX_PHOTO` (the download is capped too, whatever it announced)."""
    return attachment.mimetype.lower() in PHOTO_TYPES and attachment.size <= MAX_PHOTO


def _ifd(tiff: bytes, offset: int, order: str) -> dict[int, bytes | int]:
    """The entries of the IFD at `offset`: tag -> value bytes (or offset for LONG pointers)."""
    out: dict[int, bytes | int] = {}
    if offset <= 0 or offset + 2 > len(tiff):
        return out
    (count,) = struct.unpack_from(order + "H", tiff, offset)
    for i in range(min(count, _MAX_ENTRIES)):
        pos = offset + 2 + 12 * i
        if pos + 12 > len(tiff):
            break
        tag, typ, n = struct.unpack_from(order + "HHI", tiff, pos)
        size = _TYPE_SIZES.get(typ, 1) * n
        if tag in (_GPS_IFD, _EXIF_IFD) and typ in (4, 13):
            out[tag] = struct.unpack_from(order + "I", tiff, pos + 8)[0]
            continue
        if size <= 4:
            out[tag] = tiff[pos + 8 : pos + 8 + size]
        else:
            (where,) = struct.unpack_from(order + "I", tiff, pos + 8)
            out[tag] = tiff[where : where + size] if where + size <= len(tiff) else b""
    return out


def _meaningful(value: bytes | int | None) -> bool:
    return isinstance(value, bytes) and bool(value.strip(b"\x00 "))


def _tiff_kinds(tiff: bytes) -> set[str]:
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return set()
    order = "<" if tiff[:2] == b"II" else ">"
    (magic, first) = struct.unpack_from(order + "HI", tiff, 2)
    if magic != 42:
        return set()
    kinds: set[str] = set()
    ifd0 = _ifd(tiff, first, order)
    gps = ifd0.get(_GPS_IFD)
    if isinstance(gps, int):
        entries = _ifd(tiff, gps, order)
        if any(tag in entries for tag in (2, 4)):  # GPSLatitude, GPSLongitude
            kinds.add("gps")
    exif = ifd0.get(_EXIF_IFD)
    sub = _ifd(tiff, exif, order) if isinstance(exif, int) else {}
    for tag, kind in ((_SERIAL, "serial"), (_DATE_ORIGINAL, "shot_date")):
        if _meaningful(sub.get(tag)) or _meaningful(ifd0.get(tag)):
            kinds.add(kind)
    return kinds


def photo_metadata(data: bytes) -> set[str]:
    """Identifying EXIF kinds in JPEG bytes: `gps`, `serial`, `shot_date` (in memory only).

    Only the first `EXIF_WINDOW` bytes are parsed."""
    data = data[:EXIF_WINDOW]
    if data[:2] != b"\xff\xd8":
        return set()
    kinds: set[str] = set()
    pos = 2
    try:
        while pos + 4 <= len(data):
            if data[pos] != 0xFF:
                break
            marker = data[pos + 1]
            if marker in (0xD9, 0xDA):  # end of image, start of scan: no more metadata
                break
            if marker == 0xFF or 0xD0 <= marker <= 0xD7 or marker == 0x01:
                pos += 1 if marker == 0xFF else 2
                continue
            (length,) = struct.unpack_from(">H", data, pos + 2)
            segment = data[pos + 4 : pos + 2 + length]
            if marker == 0xE1 and segment[:6] == b"Exif\x00\x00":
                kinds |= _tiff_kinds(segment[6:])
            pos += 2 + length
    except (struct.error, IndexError, ValueError):
        pass
    return kinds
