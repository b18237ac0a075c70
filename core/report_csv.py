"""Read a bulk-report CSV file: ``IP,Category,Protocol,Comment`` rows.

As SikkerAPI's bulk report: a header row is detected (the first record is
skipped when its first field is not an IP address), the delimiter is a comma
or a semicolon (whichever the first line uses first), fields may be quoted.
A comment holding unquoted delimiters keeps them (extra fields are joined
back). Malformed records (an unterminated quote, a field longer than the
csv module's limit) are errors of their row, never of the whole file.
"""

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sikker.core import ipcore
from sikker.errors import InvalidAddressError, InvalidReportError

COLUMNS = ("ip", "category", "protocol", "comment")


@dataclass
class CsvRows:
    """The records of a file: ``(row, fields by column)`` and row errors.

    ``row`` is the line of the file where the record starts (1-based).
    """

    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # row, ip, error
    header: bool = False
    delimiter: str = ","


def decode(data: bytes) -> str:
    """Return the text of a CSV file (UTF-8, with or without a BOM).

    Raises:
        InvalidReportError: the file is not UTF-8.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as ex:
        raise InvalidReportError(
            "file", f"is not UTF-8 text (byte {ex.start}); save it as UTF-8 CSV"
        ) from None


def sniff_delimiter(text: str) -> str:
    """Return ``;`` when the first line uses it before any comma, else ``,``."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    comma, semicolon = first.find(","), first.find(";")
    if semicolon >= 0 and (comma < 0 or semicolon < comma):
        return ";"
    return ","


def read_rows(text: str, max_rows: int) -> CsvRows:
    """Return the data rows of a CSV text.

    Raises:
        InvalidReportError: more than ``max_rows`` data rows (field ``file``).
    """
    out = CsvRows(delimiter=sniff_delimiter(text))
    first = True
    for row, fields, error in _records(text, out.delimiter):
        if error is not None:
            out.errors.append((row, "", error))
        elif fields and any(f.strip() for f in fields):
            if first and not _is_address(fields[0]):
                out.header = True
            else:
                out.rows.append((row, _columns(fields, out.delimiter)))
        else:
            continue  # a blank line
        first = False
        if len(out.rows) + len(out.errors) > max_rows:
            raise InvalidReportError(
                "file",
                f"more than {max_rows:,} rows; split the file into smaller ones",
            )
    return out


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str], str | None]]:
    """Yield ``(row, fields, error)`` for each record, continuing past errors."""
    lines = iter(text.splitlines(keepends=True))
    reader = csv.reader(lines, delimiter=delimiter, quotechar='"', strict=True)
    while True:
        row = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as ex:
            yield row, [], f"malformed CSV: {ex}"
            continue
        yield row, fields, None


def _columns(fields: list[str], delimiter: str) -> dict[str, Any]:
    values = [f.strip() for f in fields[:3]]
    if len(fields) > 3:
        values.append(delimiter.join(fields[3:]).strip())
    return dict(zip(COLUMNS, values, strict=False))


def _is_address(text: str) -> bool:
    try:
        ipcore.parse_ip(text.strip())
    except InvalidAddressError:
        return False
    return True
