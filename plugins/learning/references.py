"""Links to reference sources: found in a post in one linear pass, normalised, allow-listed.

Only links to a recognised source are kept, and only what identifies the document: the
scheme is https, the host lower case, no user info, port, fragment, path
parameters (`;jsessionid=…`) or query string — except the query keys a source needs to name
its document (`id_article` on the CRAT, `specid` in the public drug database…), when their
value looks like a document id. Tokens, tracking and session parameters are never kept: a
link whose path hides an address, encoded parameters, a session, a token or a social security
number is not kept at all.

A message keeps its references only when the secrecy detector finds nothing identifying in it
(`cited`): not in its text, nor in the words of its links (`words`: a link's path decoded and
split as the detector reads prose, so `Mme-Jeanne-DUPONT-nee-12-03-1950` is a name and a birth
date). Only a date or a number in a link is a document's own (its publication date, a PubMed
id).
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, unquote_plus, urlencode, urlsplit

from plugins.secrecy.detector import scan
from plugins.secrecy.text import visible_text

SOURCES: Mapping[str, frozenset[str]] = {
    "has-sante.fr": frozenset(),
    "ansm.sante.fr": frozenset(),
    "vidal.fr": frozenset(),
    "lecrat.fr": frozenset({"page", "id_article", "id_rubrique"}),
    "antibioclic.com": frozenset(),
    "legifrance.gouv.fr": frozenset({"cidTexte", "idArticle"}),
    "ameli.fr": frozenset(),
    "santepubliquefrance.fr": frozenset(),
    "base-donnees-publique.medicaments.gouv.fr": frozenset({"specid"}),
    "solidarites-sante.gouv.fr": frozenset(),
    "sante.gouv.fr": frozenset(),
    "mesvaccins.net": frozenset(),
    "infovac.fr": frozenset(),
    "cngof.fr": frozenset(),
    "sfmu.org": frozenset(),
    "prescrire.org": frozenset(),
    "pubmed.ncbi.nlm.nih.gov": frozenset(),
    "ncbi.nlm.nih.gov": frozenset(),
    "doi.org": frozenset(),
    "cochranelibrary.com": frozenset(),
    "nice.org.uk": frozenset(),
    "who.int": frozenset(),
    "cdc.gov": frozenset(),
    "ecdc.europa.eu": frozenset(),
    "ema.europa.eu": frozenset(),
    "bmj.com": frozenset(),
    "thelancet.com": frozenset(),
    "nejm.org": frozenset({"doi"}),
    "jamanetwork.com": frozenset(),
}
"""The default allow-list: domain (a subdomain matches too) → the query keys it needs."""

_LINK = re.compile(r"https?://[^\s<>\"'`\]\[]{1,2000}", re.IGNORECASE)
"""A link: no nested repetition, so a scan is linear in the text's length."""
_TRAILING = ".,;:!?»"
"""Punctuation that ends a sentence, not a link."""
_VALUE = re.compile(r"[A-Za-z0-9._/-]{1,100}")
"""A kept query value names a document (`123`, `LEGITEXT000006072665`, a DOI): anything
else (`123;sid=…`, an address, an encoded `&token=…`) is dropped with its key."""
_SMUGGLED = re.compile(
    r"[@;?=&#]"  # an address, or parameters hidden from the split (`%3Bjsessionid=…`)
    r"|/\([A-Z]\("  # an ASP.NET session (`/(S(lit3py55t21z5v55vlm25s55))/`)
    r"|(?<![0-9])[12][0-9]{12}(?:[0-9]{2})?(?![0-9])")  # a social security number (NIR)
"""What a decoded path may not hold: no document address needs it."""
_TOKEN = re.compile(r"[A-Za-z0-9]{32,}")
"""A run this long mixing letters and digits is a token or a session, not a document id."""
MAX_HOST = 253
"""No DNS name is longer (and `source_of` costs the square of a host's labels)."""
MAX_URL = 500
"""A longer normalised link is not kept (no document address needs more)."""
MAX_PER_POST = 20
"""At most this many references are taken from one post."""


@dataclass(frozen=True, slots=True)
class Reference:
    url: str
    domain: str
    """The allow-list entry it matched (what `!biblio` and the digest show)."""


def source_of(host: str, extra: Iterable[str]) -> tuple[str, frozenset[str]] | None:
    """The allow-list entry `host` belongs to (itself or a parent domain), with its kept
    query keys; a room's own entries keep no query (a frozenset of them: already lower case,
    without `www.`)."""
    labels = host.split(".")
    extras = extra if isinstance(extra, frozenset) else domains(extra)
    for start in range(len(labels) - 1):
        domain = ".".join(labels[start:])
        if domain in SOURCES:
            return domain, SOURCES[domain]
        if domain in extras:
            return domain, frozenset()
    return None


def domains(extra: Iterable[str]) -> frozenset[str]:
    """A room's own entries as `source_of` compares them."""
    return frozenset(d.lower().removeprefix("www.") for d in extra)


def normalise(raw: str, extra: Iterable[str] = ()) -> Reference | None:
    """The reference `raw` points to, or None when it is not an allow-listed source."""
    try:
        parts = urlsplit(raw.rstrip(_TRAILING))
        host = (parts.hostname or "").lower().rstrip(".")
    except ValueError:
        return None
    if not host or len(host) > MAX_HOST or not re.fullmatch(r"[a-z0-9.-]+", host):
        return None
    if host == "dx.doi.org":
        host = "doi.org"
    found = source_of(host.removeprefix("www."), extra)
    if found is None:
        return None
    domain, keep = found
    path = ";".join(parts.path.split(";")[:1]) or "/"
    plain = unquote(path)
    if _SMUGGLED.search(plain) or any(
            not (run.isalpha() or run.isdigit()) for run in _TOKEN.findall(plain)):
        return None
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query)
                       if k in keep and _VALUE.fullmatch(v)])
    url = f"https://{host}{path}" + (f"?{query}" if query else "")
    if len(url) > MAX_URL or (path == "/" and not query):
        return None  # a site's home page is not a reference
    return Reference(url, domain)


def _trim(raw: str) -> str:
    """A link as prose ends it: without trailing punctuation, nor a `)` it did not open
    (`(voir https://…)`, but `https://doi.org/10.1016/S0140-6736(20)30183-5` whole)."""
    end, unopened = len(raw), raw.count(")") - raw.count("(")
    while end:
        if raw[end - 1] in _TRAILING:
            end -= 1
        elif raw[end - 1] == ")" and unopened > 0:
            end, unopened = end - 1, unopened - 1
        else:
            break
    return raw[:end]


def references(texts: Iterable[str | None], extra: Iterable[str] = ()) -> list[Reference]:
    """The allow-listed references in `texts` (a body and its HTML, entities decoded: an
    `href` says `&amp;`), each once, in order."""
    extra = domains(extra)  # once, not per link
    found: dict[str, Reference] = {}
    for text in texts:
        for match in _LINK.finditer(html.unescape(text or "")):
            ref = normalise(_trim(match.group(0)), extra)
            if ref is not None:
                found.setdefault(ref.url, ref)
                if len(found) >= MAX_PER_POST:
                    return list(found.values())
    return list(found.values())


# ---- what a message may keep -------------------------------------------------------------------
DOCUMENT_KINDS = frozenset({"date", "record_number"})
"""What the detector finds in a link's words that is the document's own, not a patient's:
a publication date (`/news/item/13-02-2024-…`), a number (`pubmed…/12345678/`). A date with
its context (`nee-12-03-1950`) is a birth date, and counts."""
_GAP = re.compile(r"(?:[^\w+]|_)+")
"""What separates the words of a decoded path: `/`, `-`, `_`, `.`, a space (`%20`, `+`)…"""


def _gap(match: re.Match[str]) -> str:
    """A space, or `-` for one `-`, `_`, `.`, `/` or space between two digits: `12_03_1950`,
    `12/03/1950` and `06.12.34.56.78` stay a date and a phone number (`6736(20)30183`, a
    DOI's, does not become one)."""
    text, start, end = match.string, match.start(), match.end()
    if end - start == 1 and text[start] in "-_./ " and start > 0 and end < len(text) \
            and text[start - 1].isdigit() and text[end].isdigit():
        return "-"
    return " "


def words(link: str) -> str:
    """What a link's path, query and fragment say, as the secrecy detector reads prose:
    percent-escapes decoded, `+` a space, each run of separators one space (`link` is one
    `normalise` accepted, so it splits)."""
    parts = urlsplit(link)
    tail = unquote_plus(f"{parts.path} {parts.query} {parts.fragment}")
    return _GAP.sub(_gap, tail).strip()


@dataclass(frozen=True, slots=True)
class _Reading:
    """A text as the detector is given it, and where the words of its kept links are."""

    text: str
    links: tuple[tuple[int, int], ...]


def _read(text: str, extra: frozenset[str], prose: bool = True) -> _Reading:
    """`text` with each allow-listed link in it replaced by its `words` (other links stay as
    they are: the detector judges them); only those words when not `prose`."""
    pieces: list[str] = []
    links: list[tuple[int, int]] = []
    size = last = 0
    for match in _LINK.finditer(text):
        raw = _trim(match.group(0))
        if normalise(raw, extra) is None:
            continue
        said = words(raw)
        if prose:
            pieces.append(text[last:match.start()])
            size += match.start() - last
            last = match.start() + len(raw)
        elif pieces:
            pieces.append("\n")
            size += 1
        pieces.append(said)
        links.append((size, size + len(said)))
        size += len(said)
    if prose:
        pieces.append(text[last:])
    return _Reading("".join(pieces), tuple(links))


def _identifies(reading: _Reading) -> bool:
    """Whether the detector finds anything in `reading` but a document's own date or number
    in a link's words."""
    starts = [start for start, _ in reading.links]
    for finding in scan(reading.text):
        index = bisect.bisect_right(starts, finding.start) - 1
        in_link = index >= 0 and finding.end <= reading.links[index][1]
        if not (in_link and finding.kind in DOCUMENT_KINDS):
            return True
    return False


def link_identifies(url: str) -> bool:
    """Whether a (stored) link's words hold anything identifying."""
    said = words(url)
    return _identifies(_Reading(said, ((0, len(said)),)))


def cited(body: str | None, formatted: str | None = None,
          extra: Iterable[str] = ()) -> list[Reference]:
    """The references a message keeps (`references` of its body and HTML), or none when the
    secrecy detector finds anything identifying in it: in its text, with each allow-listed link
    read as its words, in the text its HTML shows, or in the words of the links of its HTML.
    CPU work (a scan of up to 64 KB, three times): run a long message in a worker thread."""
    extra = domains(extra)
    found = references((body, formatted), extra)
    if not found:
        return []
    body = body or ""
    readings = [_read(html.unescape(body), extra)]  # the links `references` read
    if formatted:
        shown = visible_text(formatted)
        if shown.split() != body.split():
            readings.append(_read(shown, extra))
        readings.append(_read(html.unescape(formatted), extra, prose=False))
    return [] if any(_identifies(r) for r in readings) else found
