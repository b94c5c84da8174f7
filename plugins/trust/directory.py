"""The professional directory: the Annuaire Santé's public "personne-activité" extract.

The file (`PS_LibreAcces_Personne_activite_<date>.txt`, about 760 MB for the country) is
pipe-separated UTF-8 text, one row per activity of a professional, a header line first.
Its header, as published in 2026 (column names as the Agence du numérique en santé writes
them; a trailing `|` ends every line):

    Type d'identifiant PP|Identifiant PP|Identification nationale PP|Code civilité d'exercice|
    Libellé civilité exercice|Code civilité|Libellé civilité|Nom d'exercice|Prénom d'exercice|
    Code profession|Libellé profession|Code catégorie professionnelle|…|Code savoir-faire|
    Libellé savoir-faire|…|Code département (coord. structure)|…|Libellé genre d'activité|

Found (2026-11-30) in public code that reads the September 2026 extract
(`PS_LibreAcces_Personne_activite_202609230000.txt`, 56 columns: `HEADER` below) and in an
older reader whose department column was `Code Département (structure)`; the ANS describes
the extract in its FAQ (https://esante.gouv.fr/foire-aux-questions/produits-services/
annuaire-sante). Columns are found by name, so the older header and a file without the
savoir-faire columns (newer extracts may move them to their own file) import too.

Kept: physicians only (`Code profession` 10), one row per RPPS number: exercise name and
first name, profession and specialty labels, department. Public professional data, no patient
data. The import streams the file into a new table, one short transaction per batch, and
swaps it in at the end (the old directory stays readable until the new one is complete, and
the bot's own writes are never held longer than a batch): memory does not grow with the file.
"""

from __future__ import annotations

import fcntl
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from bot.text import fold
from plugins.trust.rpps import is_rpps

HEADER: tuple[str, ...] = (
    "Type d'identifiant PP", "Identifiant PP", "Identification nationale PP",
    "Code civilité d'exercice", "Libellé civilité exercice", "Code civilité",
    "Libellé civilité", "Nom d'exercice", "Prénom d'exercice", "Code profession",
    "Libellé profession", "Code catégorie professionnelle",
    "Libellé catégorie professionnelle", "Code type savoir-faire",
    "Libellé type savoir-faire", "Code savoir-faire", "Libellé savoir-faire",
    "Code mode exercice", "Libellé mode exercice", "Numéro SIRET site", "Numéro SIREN site",
    "Numéro FINESS site", "Numéro FINESS établissement juridique",
    "Identifiant technique de la structure", "Raison sociale site",
    "Enseigne commerciale site", "Complément destinataire (coord. structure)",
    "Complément point géographique (coord. structure)", "Numéro Voie (coord. structure)",
    "Indice répétition voie (coord. Structure)", "Code type de voie (coord. structure)",
    "Libellé type de voie (coord. structure)", "Libellé Voie (coord. structure)",
    "Mention distribution (coord. structure)", "Bureau cedex (coord. structure)",
    "Code postal (coord. structure)", "Code commune (coord. structure)",
    "Libellé commune (coord. structure)", "Code pays (coord. structure)",
    "Libellé pays (coord. structure)", "Téléphone (coord. structure)",
    "Téléphone 2 (coord. structure)", "Télécopie (coord. structure)",
    "Adresse e-mail (coord. structure)", "Code département (coord. structure)",
    "Libellé département (coord. structure)", "Ancien identifiant de la structure",
    "Autorité d'enregistrement", "Code secteur d'activité", "Libellé secteur d'activité",
    "Code section tableau pharmaciens", "Libellé section tableau pharmaciens",
    "Code fonction", "Libellé fonction", "Code genre d'activité", "Libellé genre d'activité",
)
"""The 2026 extract's columns, in order (the generated test and bench files use it)."""

PHYSICIAN = "10"
"""`Code profession` of physicians (`Médecin`)."""
BATCH = 5000
"""Rows written per transaction: the memory an import holds, whatever the file size, and
the longest the bot's own writes wait for it (about 50 ms)."""
MAX_LINE = 64 * 1024
"""A row is about 1 KB; a longer line (a wrong file, a binary one) is skipped, read in
pieces of this size so that memory stays bounded whatever the file holds."""

REQUIRED = {
    "rpps": ("Identifiant PP",),
    "last_name": ("Nom d'exercice",),
    "first_name": ("Prénom d'exercice",),
    "profession_code": ("Code profession",),
    "profession": ("Libellé profession",),
}
OPTIONAL = {
    "specialty": ("Libellé savoir-faire",),
    "department": ("Code département (coord. structure)", "Code Département (structure)"),
}
_TABLE_NAME = re.compile(r"CREATE\s+TABLE\s+\"?trust_directory\"?\s*", re.IGNORECASE)
_INDEX_HEAD = re.compile(r"CREATE\s+(UNIQUE\s+)?INDEX\s+\S+\s+ON\s+\"?trust_directory\"?\s*",
                         re.IGNORECASE)
_WORDS = re.compile(r"[^\W_]+")
TITLES = frozenset({"dr", "docteur", "doctor", "pr", "professeur", "prof", "md"})
"""Titles people put in their display names; never part of a name compared."""

STAGING = "trust_directory_import"
"""The table an import fills before it replaces `trust_directory`."""
RETIRED = "trust_directory_retired"
"""The replaced directory, emptied in batches then dropped after the swap."""
UPSERT = f"""
    INSERT INTO {STAGING} (rpps, last_name, first_name, name_key, profession, specialty,
                           department)
    VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (rpps) DO UPDATE SET
        specialty = CASE WHEN {STAGING}.specialty = '' THEN excluded.specialty
                         ELSE {STAGING}.specialty END,
        department = CASE WHEN {STAGING}.department = '' THEN excluded.department
                          ELSE {STAGING}.department END
"""


class DirectoryError(ValueError):
    """The file is not a personne-activité extract (the message says which columns lack)."""


@dataclass(frozen=True, slots=True)
class ImportResult:
    rows: int
    """Activity rows read (header excluded)."""
    physicians: int
    """Distinct physicians kept."""
    skipped: int
    """Physician rows without a valid RPPS number or a name."""


def name_words(text: str) -> list[str]:
    """A name's words, folded (accents, case), split on hyphens and apostrophes, titles
    dropped: `Dr Marie-Hélène D'Aubigné` -> ['marie', 'helene', 'd', 'aubigne']."""
    return [w for w in _WORDS.findall(fold(text)) if w not in TITLES]


def name_key(text: str) -> str:
    """The words of a name in sorted order: how names are compared, whatever their order."""
    return " ".join(sorted(name_words(text)))


def names_match(display_name: str, first_name: str, last_name: str) -> bool:
    """Whether a display name carries every word of the directory's name (accents, case,
    order, hyphens and titles ignored; extra words such as a specialty are allowed)."""
    wanted = name_words(f"{first_name} {last_name}")
    shown = name_words(display_name)
    return bool(wanted) and all(shown.count(w) >= wanted.count(w) for w in set(wanted))


def _columns(header: list[str]) -> dict[str, int]:
    where = {name.strip(): i for i, name in enumerate(header)}
    found: dict[str, int] = {}
    missing: list[str] = []
    for field, names in (*REQUIRED.items(), *OPTIONAL.items()):
        index = next((where[n] for n in names if n in where), None)
        if index is not None:
            found[field] = index
        elif field in REQUIRED:
            missing.append(names[0])
    if missing:
        raise DirectoryError("not a personne-activité extract: no column "
                             + ", ".join(repr(m) for m in missing))
    return found


def _lines(stream: BinaryIO) -> Iterator[bytes]:
    """The file's lines; a line longer than `MAX_LINE` comes as an empty one (skipped)."""
    while line := stream.readline(MAX_LINE):
        if len(line) == MAX_LINE and not line.endswith(b"\n"):
            while (rest := stream.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                pass
            line = b""
        yield line


def _rows(lines: Iterator[bytes], columns: dict[str, int],
          counts: list[int]) -> Iterator[tuple[str, ...]]:
    """The physicians' rows to store; `counts` gets [rows read, rows skipped]."""
    width = max(columns.values()) + 1
    for raw in lines:
        counts[0] += 1
        cells = raw.decode("utf-8", "replace").rstrip("\r\n").split("|")
        if len(cells) < width or cells[columns["profession_code"]].strip() != PHYSICIAN:
            continue
        rpps = cells[columns["rpps"]].strip()
        last, first = cells[columns["last_name"]].strip(), cells[columns["first_name"]].strip()
        if not is_rpps(rpps) or not last:
            counts[1] += 1
            continue
        specialty = cells[columns["specialty"]].strip() if "specialty" in columns else ""
        department = cells[columns["department"]].strip() if "department" in columns else ""
        yield (rpps, last[:100], first[:100], name_key(f"{first} {last}")[:200],
               cells[columns["profession"]].strip()[:100], specialty[:200], department[:3])


def import_directory(path: Path, db_path: Path,
                     progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Replace the directory in the database at `db_path` with the physicians of `path`.

    Blocking (a CLI, or `asyncio.to_thread`). The bot runs meanwhile: the file is streamed
    into a new table (`STAGING`), `BATCH` rows per transaction, so the bot's own writes wait
    one batch at most; the new table replaces the old one in one short transaction (two
    renames) at the end, and the old one is then emptied in batches and dropped. Until the
    swap the bot reads the previous directory, whole; a failed import leaves it as it was,
    and importing the same file twice gives the same table. `progress(bytes_read, total)` is
    called after each batch, outside any transaction. The trust tables must exist (the
    plugin's migrations).
    """
    total = path.stat().st_size
    conn = sqlite3.connect(db_path, isolation_level=None, timeout=30)
    try:
        conn.execute("PRAGMA synchronous = NORMAL")  # as the bot: WAL, no fsync per batch
        with _alone(db_path), path.open("rb") as stream:
            first = next(_lines(stream), b"").decode("utf-8-sig", "replace").rstrip("\r\n")
            if "\ufffd" in first:
                raise DirectoryError("not UTF-8 text (the extract is UTF-8): convert it first, "
                                     "for instance with iconv -f WINDOWS-1252 -t UTF-8")
            columns = _columns(first.split("|"))
            counts = [0, 0]
            for leftover in (STAGING, RETIRED):  # of an interrupted import
                _drop(conn, leftover)
            _create_staging(conn)
            try:
                batch: list[tuple[str, ...]] = []
                for row in _rows(_lines(stream), columns, counts):
                    batch.append(row)
                    if len(batch) >= BATCH:
                        with _write(conn):
                            conn.executemany(UPSERT, batch)
                        batch.clear()
                        if progress:
                            progress(stream.tell(), total)
                with _write(conn):
                    conn.executemany(UPSERT, batch)
                physicians = conn.execute(f"SELECT COUNT(*) FROM {STAGING}").fetchone()[0]
                with _write(conn):  # the swap: names only, whatever the sizes
                    conn.execute(f"ALTER TABLE trust_directory RENAME TO {RETIRED}")
                    conn.execute(f"ALTER TABLE {STAGING} RENAME TO trust_directory")
                    conn.executemany(
                        "INSERT INTO trust_directory_meta (key, value) VALUES (?, ?) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        [("file", path.name[:200]), ("physicians", str(physicians)),
                         ("imported_at", str(int(time.time())))])
            except BaseException:
                _drop(conn, STAGING)
                raise
            _drop(conn, RETIRED)
        if progress:
            progress(total, total)
        return ImportResult(counts[0], int(physicians), counts[1])
    finally:
        conn.close()


@contextmanager
def _alone(db_path: Path) -> Iterator[None]:
    """One import at a time on a database (two would fill the same `STAGING` table): an
    advisory lock on the database file, apart from SQLite's own locks, released by the
    system if the import dies."""
    with db_path.open("rb") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DirectoryError("another directory import is running on this database: "
                                 "wait for it to end") from None
        yield


@contextmanager
def _write(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction (committed, or rolled back on any exception)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _drop(conn: sqlite3.Connection, table: str) -> None:
    """Drop `table` (`STAGING` or `RETIRED`) if it exists, emptied `BATCH` rows per
    transaction first: dropping 700,000 rows at once held the write lock for 0.8 s."""
    exists = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    if conn.execute(exists, (table,)).fetchone() is None:
        return
    deleted = BATCH
    while deleted:
        with _write(conn):
            deleted = conn.execute(f"DELETE FROM {table} WHERE rpps IN "
                                   f"(SELECT rpps FROM {table} LIMIT {BATCH})").rowcount
    with _write(conn):
        conn.execute(f"DROP TABLE {table}")


def _create_staging(conn: sqlite3.Connection) -> None:
    """An empty `STAGING` table shaped as `trust_directory` is now (whatever the plugin's
    migrations made of it), with the same indexes. An index's name must be unique in the
    database, so each index of the new table takes the other of two names (`x`, `x_b`): the
    directory's name index is `trust_directory_name` or `trust_directory_name_b`."""
    with _write(conn):
        schema = conn.execute("SELECT type, name, sql FROM sqlite_master "
                              "WHERE tbl_name = 'trust_directory' AND sql IS NOT NULL "
                              "ORDER BY type = 'index'").fetchall()
        for kind, name, sql in schema:
            if kind == "table":
                conn.execute(_TABLE_NAME.sub(f"CREATE TABLE {STAGING} ", sql, count=1))
            elif kind == "index":
                other = name[:-2] if name.endswith("_b") else f"{name}_b"
                conn.execute(_INDEX_HEAD.sub(f"CREATE \\1INDEX {other} ON {STAGING} ", sql,
                                             count=1))
