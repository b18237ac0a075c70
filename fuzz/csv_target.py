"""Harness: a bulk-report CSV file, read and validated row by row.

The input is the uploaded file's bytes. Reading it (``report_csv``) and
validating its rows (``ReportRules``) may only raise ``InvalidReportError``;
the result is the same on a second run and under either IP core twin.
"""

from functools import partial
from typing import Any

from fuzz.outcome import Outcome, agree, outcome
from fuzz.twins import implementations, using
from sikker.core.report_csv import decode, read_rows
from sikker.core.reports import ReportRules
from sikker.errors import InvalidReportError

#: Rows per file, as the server's largest plan allows.
MAX_ROWS = 10_000


def _validated(data: bytes) -> dict[str, Any]:
    """Return what the server would make of the file."""
    parsed = read_rows(decode(data), MAX_ROWS)
    rules = ReportRules(client="192.0.2.1")
    reports = [
        (row, outcome(partial(rules.parse, fields), InvalidReportError))
        for row, fields in parsed.rows
    ]
    return {
        "header": parsed.header,
        "delimiter": parsed.delimiter,
        "errors": parsed.errors,
        "reports": reports,
    }


def _run(data: bytes) -> Outcome:
    return outcome(lambda: _validated(data), InvalidReportError)


def fuzz_report_csv(data: bytes) -> None:
    """Read and validate one CSV file; assert on any finding."""
    results = []
    for impl in implementations():
        with using(impl):
            results.append(_run(data))
            results.append(_run(data))  # deterministic
    agree("report_csv", results)
