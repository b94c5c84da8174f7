"""What a photo shows: faces (OpenCV's Haar cascades) and written text (RapidOCR), on the CPU.

Both models ship inside their PyPI packages (`opencv-python` carries the cascades,
`rapidocr-onnxruntime`, or `rapidocr` 3.x on Python ≥ 3.13, its ONNX detection and recognition
models): nothing is downloaded at run time. They are the `photos` extra; without it
`available()` is false and photos are checked for their metadata only. Models load once per
process, on first use. Callers run one image at a time, in a worker thread (see
`photo.inspect`).
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

log = logging.getLogger(__name__)

FACE_SIDE = 800
"""Faces are looked for on the photo scaled to this long side (a face of 3 % of it, 24 px,
is still found; a smaller one is a crowd in the background, not the patient)."""
MIN_FACE = 24
"""Smallest face searched, in pixels of the `FACE_SIDE` image."""
SCALE_STEP = 1.1
"""Each scale searched is this much larger than the last (1.15 halves the time but misses a
face in ten of the evaluation set's; see bench/photos.py)."""
TEXT_SIDE = 1024
"""Text is read on the photo scaled to this long side: text detection costs as the pixels
(1280 px costs 1.6 × more, for one identifier more in 24 on the evaluation set)."""
MAX_ASPECT = 4
"""A strip longer than this many times its width is padded (blank) before the OCR: RapidOCR
scales a strip's short side up, and pads one past 8:1 further (a 1280 × 1 strip asked it for
4 GB; a 1280 × 10 one took 3.6 s and 940 MB)."""
MIN_TEXT_SCORE = 0.6
"""Lines the recognizer is less sure of are left out (noise read as letters)."""


@dataclass(frozen=True, slots=True)
class Box:
    """A region as fractions of the oriented image's width and height (scale-free, so a box
    found on the reduced image applies to the full one)."""

    left: float
    top: float
    right: float
    bottom: float

    def pixels(self, width: int, height: int, margin: float = 0.0) -> tuple[int, int, int, int]:
        """The box in pixels of a `width` × `height` image, grown by `margin` of its size."""
        dx, dy = (self.right - self.left) * margin, (self.bottom - self.top) * margin
        return (max(0, int((self.left - dx) * width)), max(0, int((self.top - dy) * height)),
                min(width, int((self.right + dx) * width) + 1),
                min(height, int((self.bottom + dy) * height) + 1))


@dataclass(frozen=True, slots=True)
class TextLine:
    box: Box
    text: str


@cache
def available() -> bool:
    """Whether faces and text can be looked for (the `photos` extra is installed). Found
    without importing it: OpenCV and numpy load on the first photo (~50 MiB, 0.2 s), not
    when the bot starts."""
    return importlib.util.find_spec("cv2") is not None


@cache
def _cv() -> Any:
    import cv2

    return cv2


@cache
def _cascades() -> tuple[Any, Any]:
    cv2 = _cv()
    root = cv2.data.haarcascades
    return (cv2.CascadeClassifier(root + "haarcascade_frontalface_alt2.xml"),
            cv2.CascadeClassifier(root + "haarcascade_profileface.xml"))


@cache
def _ocr() -> Callable[[Any], Iterable[tuple[Any, str, float]]] | None:
    """A reader of (corner points, text, score) in a BGR array, or None without an OCR package.

    `rapidocr-onnxruntime` (frozen, Python < 3.13) where it is installed: the OCR repairs and
    the figures in the README are its. Else the maintained `rapidocr` (3.x, PP-OCRv6 models in
    the wheel, every Python): on the held-out photos it warns as often, with no more false
    alarms, but names fewer of the kinds (bench/RESULTS.md, Photos). One ONNX thread: its
    pool's threads spin while they wait, ~200 ms of processor time per photo taken from the
    event loop's core for ~30 ms of wall time saved (`python -m bench photos`)."""
    try:
        from rapidocr_onnxruntime import RapidOCR as FrozenOCR
    except ImportError:
        pass
    else:
        logging.getLogger("RapidOCR").setLevel(logging.WARNING)
        frozen = FrozenOCR(intra_op_num_threads=1)
        return lambda bgr: frozen(bgr, use_cls=False)[0] or ()
    try:
        from rapidocr import RapidOCR
    except ImportError:
        return None
    engine = RapidOCR(params={"Global.use_cls": False, "Global.log_level": "warning",
                              "EngineConfig.onnxruntime.intra_op_num_threads": 1})

    def read(bgr: Any) -> Iterable[tuple[Any, str, float]]:
        out = engine(bgr, use_cls=False)
        return () if out.boxes is None else zip(out.boxes, out.txts, out.scores, strict=True)

    return read


def _overlaps(a: Box, b: Box) -> bool:
    """Whether the two boxes share more than half of the smaller one."""
    w = min(a.right, b.right) - max(a.left, b.left)
    h = min(a.bottom, b.bottom) - max(a.top, b.top)
    if w <= 0 or h <= 0:
        return False
    smaller = min((a.right - a.left) * (a.bottom - a.top), (b.right - b.left) * (b.bottom - b.top))
    return w * h > smaller / 2


def faces(rgb: Any, every: bool = True) -> list[Box]:
    """The faces in an RGB array (frontal, and profiles facing either way); with
    `every=False`, the frontal ones alone when there are some (whether there is a face is
    all a warning needs: the profile searches cost two thirds of the time)."""
    cv2 = _cv()
    height, width = rgb.shape[:2]
    scale = min(1.0, FACE_SIDE / max(width, height))
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if scale < 1.0:
        gray = cv2.resize(gray, (round(width * scale), round(height * scale)),
                          interpolation=cv2.INTER_AREA)
    h, w = gray.shape
    frontal, profile = _cascades()
    found: list[Box] = []

    def add(rects: Any, flipped: bool = False) -> None:
        for x, y, fw, fh in rects:
            left = (w - x - fw) if flipped else x
            box = Box(float(left / w), float(y / h), float((left + fw) / w),
                      float((y + fh) / h))
            if not any(_overlaps(box, other) for other in found):
                found.append(box)

    size = (MIN_FACE, MIN_FACE)
    add(frontal.detectMultiScale(gray, scaleFactor=SCALE_STEP, minNeighbors=4, minSize=size))
    if found and not every:
        return found
    add(profile.detectMultiScale(gray, scaleFactor=SCALE_STEP, minNeighbors=5, minSize=size))
    add(profile.detectMultiScale(cv2.flip(gray, 1), scaleFactor=SCALE_STEP, minNeighbors=5,
                                 minSize=size), flipped=True)
    return found


def text_lines(rgb: Any) -> list[TextLine]:
    """The lines of text read in an RGB array, top to bottom (empty without an OCR engine)."""
    read = _ocr()
    if read is None:
        return []
    import numpy as np

    cv2 = _cv()
    height, width = rgb.shape[:2]
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    scale = TEXT_SIDE / max(width, height)
    if scale < 1.0:
        width, height = round(width * scale), round(height * scale)
        bgr = cv2.resize(bgr, (width, height), interpolation=cv2.INTER_AREA)
    pad = max(width, height) // MAX_ASPECT - min(width, height)
    if pad > 0:
        bgr = cv2.copyMakeBorder(bgr, 0, pad if height < width else 0, 0,
                                 pad if width <= height else 0, cv2.BORDER_CONSTANT,
                                 value=(255, 255, 255))
    lines: list[TextLine] = []
    for points, text, score in read(bgr):
        if float(score) < MIN_TEXT_SCORE or not str(text).strip():
            continue
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        box = Box(max(0.0, float(min(xs)) / width), max(0.0, float(min(ys)) / height),
                  min(1.0, float(max(xs)) / width), min(1.0, float(max(ys)) / height))
        lines.append(TextLine(box, str(text)))
    lines.sort(key=lambda line: (round(line.box.top, 2), line.box.left))
    return lines
