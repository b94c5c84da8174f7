"""Photos for the secrecy tests and the bench, made here or taken from packages' own files.

Nothing is downloaded and nothing is a real patient. Clinical-looking pictures without faces
are drawn (skin, rash, wound, X-ray, ECG, dermoscopy, clinical documents); documents with
identifiers are rendered text (labels, prescriptions, wristbands, screenshots in French, with
made-up names, NIRs and birth dates). Faces come from public-domain portraits that ship inside
test-only packages: NASA's portrait of Eileen Collins (scikit-image's `astronaut`), the U.S.
Navy's portrait of Grace Hopper (matplotlib's sample data) and the `camera` picture
(scikit-image, the photographer's release). They are pasted, scaled and turned, on drawn
backgrounds. The text is drawn with Pillow's built-in font (no system font needed).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

GPS = {1: "N", 2: (48.0, 51.0, 29.5), 3: "E", 4: (2.0, 21.0, 7.9)}
"""A GPS position (a Paris street corner), as Pillow writes a GPS IFD."""


@dataclass
class Sample:
    """One evaluation picture and what a good checker says of it."""

    name: str
    image: Image.Image
    faces: int = 0
    written: frozenset[str] = field(default_factory=frozenset)
    """Text-scanner kinds written on it (empty: its text, if any, identifies no one)."""


# ---- metadata ----------------------------------------------------------------------------------
def exif(*, gps: bool = False, serial: bool = False, owner: bool = False,
         shot_date: bool = False, orientation: int = 0) -> Image.Exif:
    out = Image.Exif()
    out[0x010F] = "Camera maker"
    if orientation:
        out[0x0112] = orientation
    if gps:
        out[0x8825] = dict(GPS)
    sub: dict[int, object] = {}
    if serial:
        sub[0xA431] = "SN-4815162342"
    if owner:
        sub[0xA430] = "Jeanne Dupont"
    if shot_date:
        sub[0x9003] = "2026:03:12 09:41:00"
    if sub:
        out[0x8769] = sub
    return out


HEIF_OPTIONS: dict[str, object] = {}
"""Options of every HEIF encoding. The test suite sets x265's `ultrafast` preset (tests/
conftest.py: 8× less processor time for a 2-MP picture, the same picture a little less finely
compressed); `make bench` keeps x265's default, closer to what a phone's photo is."""


def encode(image: Image.Image, fmt: str, metadata: Image.Exif | None = None,
           **options: object) -> bytes:
    """`image` in `fmt` (JPEG, PNG, WEBP, TIFF, HEIF), with the given EXIF."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    out = io.BytesIO()
    extra = dict(options)
    if metadata is not None:
        extra["exif"] = metadata.tobytes()
    if fmt in ("JPEG", "HEIF", "WEBP"):
        extra.setdefault("quality", 85)
    if fmt == "HEIF":
        extra = {**HEIF_OPTIONS, **extra}
    image.save(out, fmt, **extra)
    return out.getvalue()


# ---- faces -------------------------------------------------------------------------------------
@cache
def portraits() -> dict[str, Image.Image]:
    """The three public-domain portraits (see the module's docstring), RGB."""
    import matplotlib
    import skimage

    skdata = Path(skimage.__file__).parent / "data"
    mpl = Path(matplotlib.get_data_path()) / "sample_data"
    return {
        "astronaut": Image.open(skdata / "astronaut.png").convert("RGB"),
        "hopper": Image.open(mpl / "grace_hopper.jpg").convert("RGB"),
        "camera": Image.open(skdata / "camera.png").convert("RGB"),
    }


@cache
def package_pictures() -> dict[str, Image.Image]:
    """Pictures without a human face that scikit-image ships: microscopy, a retina, textures,
    objects, a page of text, a cat."""
    import skimage

    skdata = Path(skimage.__file__).parent / "data"
    names = ("retina.jpg", "ihc.png", "cell.png", "microaneurysms.png", "phantom.png",
             "brick.png", "grass.png", "gravel.png", "coins.png", "moon.png", "page.png",
             "text.png", "coffee.png", "chelsea.png", "rocket.jpg", "hubble_deep_field.jpg",
             "motorcycle_left.png", "horse.png", "logo.png", "clock_motion.png")
    return {Path(n).stem: Image.open(skdata / n).convert("RGB") for n in names}


# ---- drawn clinical pictures -------------------------------------------------------------------
def _noise(rng: np.random.Generator, size: tuple[int, int], base: tuple[int, int, int],
           spread: float, blur: float) -> Image.Image:
    w, h = size
    field_ = rng.normal(0, spread, (h // 4 + 1, w // 4 + 1, 1))
    small = np.clip(np.array(base, dtype=float) + field_ * np.array([1.0, 0.8, 0.7]), 0, 255)
    image = Image.fromarray(small.astype(np.uint8)).resize((w, h), Image.Resampling.BICUBIC)
    fine = rng.normal(0, spread / 3, (h, w, 1))
    arr = np.clip(np.asarray(image, dtype=float) + fine, 0, 255).astype(np.uint8)
    return Image.fromarray(arr).filter(ImageFilter.GaussianBlur(blur))


def skin(rng: np.random.Generator, size: tuple[int, int], lesions: int = 0,
         colour: tuple[int, int, int] = (150, 40, 40)) -> Image.Image:
    tones = [(224, 172, 140), (198, 134, 100), (141, 85, 60), (240, 200, 170)]
    image = _noise(rng, size, tones[rng.integers(len(tones))], 10, 1.2)
    overlay = Image.new("L", size, 0)
    draw = ImageDraw.Draw(overlay)
    w, h = size
    for _ in range(lesions):
        x, y = rng.integers(0, w), rng.integers(0, h)
        r = int(rng.integers(w // 60 + 2, w // 12 + 3))
        draw.ellipse((x - r, y - int(r * rng.uniform(0.6, 1.4)), x + r, y + r), fill=170)
    overlay = overlay.filter(ImageFilter.GaussianBlur(w / 150))
    return Image.composite(Image.new("RGB", size, colour), image, overlay)


def wound(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    image = skin(rng, size)
    draw = ImageDraw.Draw(image)
    w, h = size
    cx, cy = w // 2 + rng.integers(-w // 8, w // 8), h // 2
    draw.ellipse((cx - w // 6, cy - h // 10, cx + w // 6, cy + h // 10), fill=(120, 20, 25))
    draw.ellipse((cx - w // 10, cy - h // 18, cx + w // 10, cy + h // 18), fill=(200, 170, 90))
    return image.filter(ImageFilter.GaussianBlur(2))


def xray(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    w, h = size
    image = Image.new("L", size, 15)
    draw = ImageDraw.Draw(image)
    draw.ellipse((w * 0.15, h * 0.1, w * 0.85, h * 0.95), fill=60)  # soft tissue
    for i in range(int(rng.integers(5, 10))):  # ribs
        y = h * (0.2 + 0.07 * i)
        draw.arc((w * 0.1, y, w * 0.5, y + h * 0.25), 180, 330, fill=190, width=max(3, w // 90))
        draw.arc((w * 0.5, y, w * 0.9, y + h * 0.25), 210, 360, fill=190, width=max(3, w // 90))
    draw.rectangle((w * 0.47, h * 0.05, w * 0.53, h * 0.95), fill=210)  # spine
    image = image.filter(ImageFilter.GaussianBlur(w / 120))
    arr = np.clip(np.asarray(image, dtype=float) + rng.normal(0, 8, (h, w)), 0, 255)
    return Image.fromarray(arr.astype(np.uint8)).convert("RGB")


def ecg(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    w, h = size
    image = Image.new("RGB", size, (255, 240, 240))
    draw = ImageDraw.Draw(image)
    step = max(4, w // 250)
    for x in range(0, w, step):
        draw.line((x, 0, x, h), fill=(250, 190, 190) if x % (5 * step) else (230, 120, 120))
    for y in range(0, h, step):
        draw.line((0, y, w, y), fill=(250, 190, 190) if y % (5 * step) else (230, 120, 120))
    beat = np.array([0, 0, .1, .15, .1, 0, 0, -.1, 1.0, -.3, 0, 0, .05, .2, .3, .2, .05, 0, 0, 0])
    for lead in range(4):
        base = h * (lead + 0.6) / 4.5
        period = int(rng.integers(w // 9, w // 6))
        xs = np.arange(0, w, 2)
        phase = (xs % period) / period * (len(beat) - 1)
        ys = base - np.interp(phase, np.arange(len(beat)), beat) * h / 10
        ys += rng.normal(0, 1.0, len(xs))
        draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=(20, 20, 20), width=3)
    return image


def dermoscopy(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    w, h = size
    image = skin(rng, size, lesions=1, colour=(90, 55, 40))
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).ellipse((w * 0.05, h * 0.02, w * 0.95, h * 0.98), fill=255)
    return Image.composite(image, Image.new("RGB", size, (0, 0, 0)), mask)


# ---- rendered text -----------------------------------------------------------------------------
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def text_card(lines: list[str], size: tuple[int, int], *, paper: tuple[int, int, int] =
              (250, 250, 245), ink: tuple[int, int, int] = (20, 20, 30), text_size: int = 0,
              at: tuple[float, float] = (0.06, 0.08)) -> Image.Image:
    w, h = size
    text_size = text_size or max(14, h // (len(lines) * 2 + 2))
    image = Image.new("RGB", size, paper)
    draw = ImageDraw.Draw(image)
    y = h * at[1]
    for line in lines:
        draw.text((w * at[0], y), line, font=font(text_size), fill=ink)
        y += text_size * 1.5
    return image


CLEAN_DOCUMENTS = (
    ["Ordonnance", "Amoxicilline 1 g : 1 cp matin, midi et soir", "pendant 7 jours",
     "Paracétamol 1 g si douleur, 4 g/j maximum"],
    ["Compte rendu d'échographie", "Foie de taille normale, homogène.",
     "Pas de dilatation des voies biliaires.", "Conclusion : examen normal."],
    ["ECG : rythme sinusal, 72 bpm", "PR 160 ms, QRS 90 ms, QTc 420 ms",
     "Pas de trouble de la repolarisation"],
    ["Bilan biologique", "Hémoglobine 12,1 g/dL", "Plaquettes 245 G/L",
     "Créatinine 78 µmol/L", "CRP 4 mg/L"],
)
"""Clinical text that identifies no one (false alarms are counted on it)."""

WRITTEN = (
    (["Nom : DUPONT", "Prénom : Jeanne", "Né(e) le : 12/03/1956", "IPP 004512398"],
     {"name", "birth_date"}),
    (["Patient : M. Bernard MARTIN", "NIR 1 85 05 75 123 456 97", "Service de cardiologie"],
     {"name", "nir"}),
    (["Mme Lefèvre Ginette", "née le 03/03/1957", "Chambre 12, lit B"], {"name", "birth_date"}),
    (["Ordonnance du Dr Morel", "Pour : Mme Sophie LAURENT", "Amoxicilline 1 g x 3/j, 7 jours"],
     {"name"}),
    (["Dossier patient", "Nom de naissance : PETIT", "Prénom : Lucas",
      "Date de naissance : 21/07/1954", "N° SS : 1 54 07 69 123 456 21"],
     {"name", "birth_date", "nir"}),
    (["Mr Jean-Pierre ROUSSEAU", "06 12 34 56 78", "Urgences adultes"], {"name", "phone"}),
)
"""Rendered identifiers: the lines, and the text kinds that a good reading finds in them."""


def _fix_nir(lines: list[str]) -> list[str]:
    """The NIRs in `lines` with their right key (the scanner validates it)."""
    out = []
    for line in lines:
        digits = "".join(c for c in line if c.isdigit())
        if ("NIR" in line or "SS" in line) and len(digits) == 15:
            key = 97 - int(digits[:13]) % 97
            line = line[: line.rfind(" ") + 1] + f"{key:02d}"
        out.append(line)
    return out


def label(lines: list[str], size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """A sticker on a tube or a box, photographed on a table."""
    w, h = size
    image = _noise(rng, size, (120, 110, 100), 12, 1.5)
    card = text_card(lines, (w * 3 // 5, h * 2 // 5))
    image.paste(card, (w // 5, h // 4))
    return image


def wristband(lines: list[str], size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """A white band on a forearm, two lines of text."""
    w, h = size
    image = skin(rng, size)
    band = text_card(lines[:2], (w * 4 // 5, h // 5), paper=(245, 245, 250), text_size=h // 14,
                     at=(0.04, 0.1))
    image.paste(band, (w // 10, h * 2 // 5))
    return image


def screenshot(lines: list[str], size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """A patient record program, a title bar and a form."""
    w, h = size
    image = Image.new("RGB", size, (236, 240, 245))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, w, h // 12), fill=(40, 80, 140))
    draw.text((w // 40, h // 48), "Logiciel médical — Fiche patient", font=font(h // 30),
              fill=(255, 255, 255))
    panel = text_card(lines, (w * 2 // 3, h * 2 // 3), paper=(255, 255, 255),
                      text_size=h // 24)
    image.paste(panel, (w // 12, h // 6))
    return image


def prescription(lines: list[str], size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """A page, photographed slightly turned on a desk."""
    w, h = size
    page = text_card(lines, (w * 3 // 4, h * 3 // 4), text_size=h // 22)
    desk = _noise(rng, size, (90, 70, 50), 8, 1.0)
    page = page.rotate(float(rng.uniform(-4, 4)), expand=True, fillcolor=(90, 70, 50))
    desk.paste(page, ((w - page.width) // 2, (h - page.height) // 2))
    return desk


# ---- the evaluation set ------------------------------------------------------------------------
def _paste_face(rng: np.random.Generator, background: Image.Image, face: Image.Image,
                share: float, where: tuple[float, float]) -> None:
    """`face` scaled so its height is `share` of the background's, turned a little."""
    h = int(background.height * share)
    scaled = face.resize((h * face.width // face.height, h))
    scaled = scaled.rotate(float(rng.uniform(-10, 10)), expand=False, fillcolor=(128, 128, 128))
    background.paste(scaled, (int((background.width - scaled.width) * where[0]),
                              int((background.height - scaled.height) * where[1])))


def evaluation_set(size: tuple[int, int] = (1600, 1200), seed: int = 7) -> Iterator[Sample]:
    """The pictures on which recall and false alarms are measured (README: Photos)."""
    rng = np.random.default_rng(seed)
    drawn = {"skin": lambda: skin(rng, size), "rash": lambda: skin(rng, size, lesions=25),
             "wound": lambda: wound(rng, size), "xray": lambda: xray(rng, size),
             "ecg": lambda: ecg(rng, size), "dermoscopy": lambda: dermoscopy(rng, size)}
    for round_ in range(3):
        for name, make in drawn.items():
            yield Sample(f"{name}-{round_}", make())
    for name, picture in package_pictures().items():
        yield Sample(f"package-{name}", picture)
    for i, lines in enumerate(CLEAN_DOCUMENTS):
        yield Sample(f"document-{i}", prescription(lines, size, rng))
    for i, (lines, kinds) in enumerate(WRITTEN):
        lines = _fix_nir(lines)
        for maker in (label, wristband, screenshot, prescription):
            shown = lines[:2] if maker is wristband else lines
            expected = frozenset(k for k in kinds if maker is not wristband or k in
                                 _kinds_of_first_two(i))
            yield Sample(f"{maker.__name__}-{i}", maker(shown, size, rng), written=expected)
    faces = portraits()
    for name, face in faces.items():
        yield Sample(f"portrait-{name}", face, faces=1)
        for share in (0.25, 0.45, 0.7):
            background = skin(rng, size) if share < 0.5 else _noise(rng, size, (200, 200, 190),
                                                                    15, 2)
            _paste_face(rng, background, face, share, (rng.uniform(0.1, 0.9), 0.5))
            yield Sample(f"face-{name}-{int(share * 100)}", background, faces=1)
    group = _noise(rng, size, (180, 190, 200), 10, 2)
    for i, face in enumerate(faces.values()):
        _paste_face(rng, group, face, 0.4, (0.05 + 0.45 * i, 0.4))
    yield Sample("group-of-three", group, faces=3)


_FIRST_TWO = {0: {"name"}, 1: {"name", "nir"}, 2: {"name", "birth_date"}, 3: {"name"},
              4: {"name"}, 5: {"name", "phone"}}


def _kinds_of_first_two(index: int) -> set[str]:
    """What the first two lines of `WRITTEN[index]` (a wristband's) identify."""
    return _FIRST_TWO[index]


# ---- the held-out set --------------------------------------------------------------------------
HELD_OUT_WRITTEN = (
    (["Mme Catherine BLANC", "Née le 14/09/1948", "Service de gériatrie"],
     {"name", "birth_date"}, {"name", "birth_date"}),
    (["Nom : GARNIER", "Prénom : Thierry", "Tél : 07 81 23 45 69"],
     {"name", "phone"}, {"name"}),
    (["Patiente : Mme Nadia Haddad", "NIR 2 62 11 13 055 214 00", "Consultation du 12/05"],
     {"name", "nir"}, {"name", "nir"}),
    (["M. Olivier FAURE", "Date de naissance : 02/11/1971", "Chambre 4"],
     {"name", "birth_date"}, {"name", "birth_date"}),
    (["Étiquette laboratoire", "Monsieur Paul RENAUD", "NIR 1 71 02 33 063 128 00"],
     {"name", "nir"}, {"name"}),
    (["Urgences pédiatriques", "Enfant : Léa MERCIER", "DDN 23/06/2019"],
     {"name", "birth_date"}, {"name"}),
)
"""Identifiers written after the detectors were tuned, never used to tune them: the lines, the
kinds a good reading finds, and those of the first two lines (what a wristband shows)."""

HELD_OUT_DOCUMENTS = (
    ["Compte rendu de radiographie", "Thorax de face : pas de foyer", "Culs-de-sac libres",
     "Conclusion : examen normal"],
    ["Prescription", "Ibuprofène 400 mg : 1 cp x 3/j", "pendant 5 jours", "au cours des repas"],
    ["Glycémie à jeun 1,05 g/L", "HbA1c 6,4 %", "LDL-cholestérol 1,30 g/L"],
)


def held_out_set(size: tuple[int, int] = (1600, 1200), seed: int = 2027) -> Iterator[Sample]:
    """Pictures the detectors were not tuned on (README: Photos): new drawings, new text, and
    the same three faces rendered anew (other sizes, places and turns: no other public-domain
    face ships in a package, so the identities are not new)."""
    rng = np.random.default_rng(seed)
    for name, make in {"skin": lambda: skin(rng, size, lesions=8),
                       "wound": lambda: wound(rng, size), "xray": lambda: xray(rng, size),
                       "ecg": lambda: ecg(rng, size),
                       "dermoscopy": lambda: dermoscopy(rng, size)}.items():
        for round_ in range(2):
            yield Sample(f"held-{name}-{round_}", make())
    for i, lines in enumerate(HELD_OUT_DOCUMENTS):
        for maker in (prescription, label):
            yield Sample(f"held-document-{maker.__name__}-{i}", maker(lines, size, rng))
    for i, (lines, kinds, first_two) in enumerate(HELD_OUT_WRITTEN):
        lines = _fix_nir(lines)
        for maker in (label, wristband, screenshot, prescription):
            shown, expected = (lines[:2], first_two) if maker is wristband else (lines, kinds)
            yield Sample(f"held-{maker.__name__}-{i}", maker(shown, size, rng),
                         written=frozenset(expected))
    for name, face in portraits().items():
        for share in (0.3, 0.55, 0.85):
            background = (wound(rng, size) if share < 0.5
                          else _noise(rng, size, (170, 185, 160), 12, 2))
            _paste_face(rng, background, face, share, (rng.uniform(0.05, 0.95),
                                                      rng.uniform(0.3, 0.7)))
            yield Sample(f"held-face-{name}-{int(share * 100)}", background, faces=1)
