"""The review report for the audit file: one record, written as JSON or CSV (the PDF is the
window's: :mod:`auditviewer.ui.reports.review_pdf`).

The report holds the review's scope as a query, the reviewer, the times, the statement, the
counts by disposition, every flagged and follow-up entry (time, action, actor, entity, note,
tags) and the hashes that tie it to the store: the entries' chain head and count and the review
events' chain head — those recorded at signing for a signed review, the current ones otherwise.
Files are written atomically; every text is written as the plain text it is (CSV cells a
spreadsheet would run as formulas are neutralised, as in the entry export).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson

from auditviewer.core.entry_labels import actor_text, entity_text
from auditviewer.core.errors import ExportFailed
from auditviewer.core.exporting.atomic import atomic_write
from auditviewer.core.exporting.export import neutralize_cell
from auditviewer.core.querying.columns import columns
from auditviewer.core.querying.filter import Filter, Sort
from auditviewer.core.querying.window import EntryQuery
from auditviewer.core.records import now_micros
from auditviewer.core.reviewing.marks import review_marks
from auditviewer.core.reviewing.reviews import (
    DispositionCounts,
    Review,
    chain_heads,
    count_dispositions,
    read_review,
)
from auditviewer.core.store.connection import Store
from auditviewer.core.timestamps import iso_utc

REPORT_FORMATS: Final = ("pdf", "json", "csv")
EXCEPTIONS: Final = ("flagged", "follow-up")
OLDEST_FIRST: Final = Sort("time", descending=False)
ENTRY_COLUMNS: Final = (
    "seq",
    "time_utc",
    "action",
    "actor",
    "entity",
    "disposition",
    "note",
    "tags",
    "marked_by",
    "marked_utc",
)


@dataclass(frozen=True, slots=True)
class ReportEntry:
    """One flagged or follow-up entry of the report."""

    seq: int
    time_utc: int | None
    action: str
    actor: str
    entity: str
    disposition: str
    note: str
    tags: tuple[str, ...]
    marked_by: str
    marked_utc: int


@dataclass(frozen=True, slots=True)
class ReviewReport:
    """Everything a review report says."""

    review: Review
    counts: DispositionCounts
    entries: tuple[ReportEntry, ...]
    store: str
    entries_count: int
    entries_last_seq: int
    entries_head: str | None
    events_count: int
    events_head: str | None
    generated_utc: int

    @property
    def signed(self) -> bool:
        """Whether the review was signed (the hashes are then those recorded at signing)."""
        return self.review.signature is not None

    def status(self) -> str:
        """One line: signed by whom and when, or not signed yet."""
        signature = self.review.signature
        if signature is None:
            return "not signed: the review is still open and its counts may change"
        return f"signed by {signature.signed_by} on {_when(signature.signed_utc)}"


def _when(micros: int | None) -> str:
    text = iso_utc(micros)
    return text[:19].replace("T", " ") + " UTC" if text else ""


def build_report(store: Store, review_id: int) -> ReviewReport:
    """The report of a review as it stands (as it was signed, for a signed review)."""
    snapshot = columns(store)
    with store.snapshot() as connection:
        review = read_review(connection, store.path, review_id)
        signature = review.signature
        if signature is None:
            counts = count_dispositions(connection, snapshot, review)
            hashes = chain_heads(connection)
        else:
            counts = signature.counts
            hashes = (
                signature.entries_count,
                signature.entries_last_seq,
                signature.entries_head,
                signature.events_count,
                signature.events_head,
            )
    marks = {m.seq: m for m in review_marks(store, review_id, EXCEPTIONS)}
    entries: list[ReportEntry] = []
    if marks:
        with EntryQuery(store, Filter(seqs=tuple(marks)), OLDEST_FIRST) as query:
            for row in query.window(0, len(marks)):
                mark = marks[row.seq]
                entries.append(
                    ReportEntry(
                        seq=row.seq,
                        time_utc=row.created_utc,
                        action=row.action or "",
                        actor=actor_text(row),
                        entity=entity_text(row),
                        disposition=mark.disposition,
                        note=mark.note,
                        tags=mark.tags,
                        marked_by=mark.reviewer,
                        marked_utc=mark.created_utc,
                    )
                )
    return ReviewReport(review, counts, tuple(entries), str(store.path), *hashes, now_micros())


def report_record(report: ReviewReport) -> dict[str, Any]:
    """The report as plain JSON values."""
    review = report.review
    signature = review.signature
    return {
        "report": "auditviewer review report",
        "review": {
            "id": review.id,
            "name": review.name,
            "reviewer": review.reviewer,
            "os_user": review.os_user,
            "started_utc": iso_utc(review.started_utc),
            "status": report.status(),
        },
        "scope": {
            "query": review.query,
            "after_utc": iso_utc(review.after_utc) or None,
            "before_utc": iso_utc(review.before_utc) or None,
            "first_seq": review.first_seq,
            "last_seq": review.last_seq,
            "description": review.scope_text(),
        },
        "signature": None
        if signature is None
        else {
            "signed_by": signature.signed_by,
            "signed_utc": iso_utc(signature.signed_utc),
            "statement": signature.statement,
        },
        "counts": {"entries": report.counts.total, **report.counts.by_disposition()},
        "store": {
            "path": report.store,
            "entries_count": report.entries_count,
            "entries_last_seq": report.entries_last_seq,
            "entries_chain_head": report.entries_head,
            "review_events_count": report.events_count,
            "review_events_chain_head": report.events_head,
        },
        "generated_utc": iso_utc(report.generated_utc),
        "entries": [
            {
                "seq": e.seq,
                "time_utc": iso_utc(e.time_utc) or None,
                "action": e.action,
                "actor": e.actor,
                "entity": e.entity,
                "disposition": e.disposition,
                "note": e.note,
                "tags": list(e.tags),
                "marked_by": e.marked_by,
                "marked_utc": iso_utc(e.marked_utc),
            }
            for e in report.entries
        ],
    }


def _write(path: Path, data: bytes) -> None:
    try:
        with atomic_write(path) as out:
            out.write(data)
    except OSError as exc:
        raise ExportFailed(
            f"{path}: the report cannot be written ({exc.strerror or exc}); nothing was written"
        ) from None


def write_report_json(report: ReviewReport, path: Path | str) -> int:
    """Writes the report as JSON (UTF-8, indented); returns the bytes written."""
    data = orjson.dumps(report_record(report), option=orjson.OPT_INDENT_2) + b"\n"
    _write(Path(path), data)
    return len(data)


def report_csv_text(report: ReviewReport) -> str:
    """The report as CSV: ``field,value`` rows about the review, a blank row, then one row per
    flagged or follow-up entry under :data:`ENTRY_COLUMNS`."""
    record = report_record(report)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["field", "value"])
    for section in ("review", "scope", "signature", "counts", "store"):
        values = record[section] or {}
        for key, value in values.items():
            cell = "" if value is None else str(value)
            writer.writerow([f"{section}.{key}", neutralize_cell(cell)])
    writer.writerow(["generated_utc", record["generated_utc"]])
    writer.writerow([])
    writer.writerow(ENTRY_COLUMNS)
    for entry in record["entries"]:
        cells = [entry[name] for name in ENTRY_COLUMNS]
        cells[ENTRY_COLUMNS.index("tags")] = "; ".join(entry["tags"])
        writer.writerow(
            [neutralize_cell(c) if isinstance(c, str) else ("" if c is None else c) for c in cells]
        )
    return buffer.getvalue()


def write_report_csv(report: ReviewReport, path: Path | str) -> int:
    """Writes the report as CSV (UTF-8 with a byte order mark, for spreadsheets); returns the
    bytes written."""
    data = report_csv_text(report).encode("utf-8-sig")
    _write(Path(path), data)
    return len(data)


def report_format(path: Path | str) -> str:
    """The report format a file name asks for by its suffix; ValueError naming the allowed
    suffixes otherwise."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in REPORT_FORMATS:
        allowed = ", ".join(f".{name}" for name in REPORT_FORMATS)
        raise ValueError(f"{path}: a report is written as {allowed}; name the file accordingly")
    return suffix
