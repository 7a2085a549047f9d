"""Read a survey CSV for a spec, with one clear line for every way the file can be wrong.

The file is parsed with Python's ``csv`` module (nothing in it is evaluated), as
text, and each of the spec's item columns is converted to numbers here so that
an error can name the column, the line and the cell. What the file must look like:

- a header row naming the columns (other columns, e.g. a respondent id, are ignored);
  every name once, every item of the spec present;
- one row per respondent, each with as many fields as the header;
- answers written as numbers (``4``, ``4.0``); an empty cell or ``NA``/``N/A``/``NaN``/
  ``null`` is a missing answer (refused unless ``missing="listwise"``).

The value checks (scale, constant items, enough rows) are those of
:func:`ccframe.sem.fit.prepare_data`, which :func:`ccframe.sem.fit.fit` applies.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

import polars as pl

from ccframe.sem.fit import DataError
from ccframe.sem.spec import SemSpec, load_spec

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null"})
"""Cells (case-insensitive, stripped) read as a missing answer."""
OTHER_DELIMITERS = (";", "\t", "|", ",")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def read_survey(path: str | Path, spec: SemSpec | str | dict, *, delimiter: str = ",") -> pl.DataFrame:
    """The spec's item columns of the CSV at ``path`` as Float64 (null = missing), or a DataError.

    Every item the model uses must be there; the spec's other declared items (such as
    the ones the pre-analysis dropped) are read too when the file has them.
    """
    spec = load_spec(spec)
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\"\r\n":
        raise DataError(f"delimiter: expected one character such as ',' or ';', got {delimiter!r}")
    rows = _rows(Path(path), delimiter)
    header = [name.strip() for name in rows[0]]
    _check_header(header, spec, delimiter, path)
    body = rows[1:]
    if not body:
        raise DataError(f"data {path}: the file has a header but no rows of answers")
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise DataError(f"data {path}: line {number} has {len(row)} fields, the header has {len(header)} "
                            f"(delimiter {delimiter!r})")
    wanted = [item for item in spec.items if item in header]
    columns = {}
    for item in wanted:
        k = header.index(item)
        columns[item] = [_number(row[k], item, line, path) for line, row in enumerate(body, start=2)]
    return pl.DataFrame(columns, schema=dict.fromkeys(wanted, pl.Float64))


def _rows(path: Path, delimiter: str) -> list[list[str]]:
    if not path.is_file():
        raise DataError(f"data {path}: no such file")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataError(f"data {path}: not UTF-8 text (byte {err.start}); save the CSV as UTF-8") from None
    if "\x00" in text:
        raise DataError(f"data {path}: contains NUL bytes; expected a CSV text file")
    try:
        rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter, strict=True) if row]
    except csv.Error as err:
        raise DataError(f"data {path}: not a readable CSV ({err})") from None
    if not rows:
        raise DataError(f"data {path}: the file is empty")
    return rows


def _check_header(header: list[str], spec: SemSpec, delimiter: str, path: str | Path) -> None:
    seen: dict[str, int] = {}
    for k, name in enumerate(header, start=1):
        if name in seen:
            raise DataError(f"data {path}: column {name!r} appears twice in the header (columns {seen[name]} and {k})")
        seen[name] = k
    absent = [item for item in spec.observed if item not in seen]
    if not absent:
        return
    if len(header) == 1:
        for other in OTHER_DELIMITERS:
            if other != delimiter and other in header[0]:
                raise DataError(f"data {path}: the header is one column {header[0][:40]!r}...; the file looks "
                                f"separated by {other!r}, not {delimiter!r} (set the delimiter to {other!r})")
    shown = ", ".join(absent[:8]) + (" ..." if len(absent) > 8 else "")
    raise DataError(f"data {path}: item column(s) {shown} missing from the header "
                    f"(header: {', '.join(header[:10])}{' ...' if len(header) > 10 else ''})")


def _number(cell: str, item: str, line: int, path: str | Path) -> float | None:
    text = cell.strip()
    if text.lower() in MISSING_TOKENS:
        return None
    if not _NUMBER.match(text):
        raise DataError(f"data {path}: column {item} line {line}: {cell[:30]!r} is not a number")
    value = float(text)
    if not math.isfinite(value):
        raise DataError(f"data {path}: column {item} line {line}: {cell[:30]!r} is too large to be an answer")
    return value
