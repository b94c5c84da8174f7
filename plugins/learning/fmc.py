"""The personal learning log for FMC/DPC: a CSV a French spreadsheet opens as it is.

UTF-8 with a byte-order mark, `;` between fields, one row per case and role. A field that
a spreadsheet would read as a formula (a room named `=HYPERLINK(…)`) is prefixed with `'`.
Call `to_csv` off the event loop.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def cell(value: str) -> str:
    """`value` as a spreadsheet shows it, never run as a formula."""
    return f"'{value}" if value.startswith(FORMULA_START) else value


def to_csv(header: str, rows: Sequence[Sequence[str]]) -> bytes:
    """The log as bytes: `header` (the column names, `;`-separated) then `rows`."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header.split(";"))
    writer.writerows([cell(v) for v in row] for row in rows)
    return out.getvalue().encode("utf-8-sig")
