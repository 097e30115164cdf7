"""The review report as a PDF for the audit file, written by Qt (no browser, no display).

The document is built with :class:`QTextCursor` calls only: every text of the report — names,
queries, notes, tags, the entries' fields — is inserted as plain text, never read as HTML. It is
laid out on A4 with 15 mm margins and 9-point body text, each page headed with the review's
name and numbered "page N of M", and written atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QIODevice,
    QMarginsF,
    QPointF,
    QRectF,
    QSizeF,
    Qt,
)
from PySide6.QtGui import (
    QFont,
    QGuiApplication,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextLength,
    QTextTableFormat,
)
from PySide6.QtWidgets import QApplication

from auditviewer.core.errors import ExportFailed
from auditviewer.core.exporting.atomic import atomic_write
from auditviewer.core.reviewing.report import ReviewReport, report_record
from auditviewer.ui.plain_text import visible_multiline

RESOLUTION: Final = 300
BODY_POINTS: Final = 9.0
TITLE_POINTS: Final = 15.0
HEADING_POINTS: Final = 11.0
MARGIN_MM: Final = 15.0
_application: QApplication | None = None


def ensure_application() -> None:
    """Starts a Qt application on the offscreen platform when none runs (the command line).

    A widgets application, so that the process can still show a window afterwards.
    """
    global _application
    if QGuiApplication.instance() is None:
        _application = QApplication(["auditviewer", "-platform", "offscreen"])


class _Writer:
    """Plain-text insertion into a document, in a few styles; invisible and direction-changing
    characters (a note can hold U+202E to reverse what follows) are shown as escapes."""

    def __init__(self, document: QTextDocument) -> None:
        self.cursor = QTextCursor(document)
        self.first = True

    def style(self, points: float, *, bold: bool = False, mono: bool = False) -> QTextCharFormat:
        text_format = QTextCharFormat()
        text_format.setFontPointSize(points)
        text_format.setFontWeight(QFont.Weight.Bold if bold else QFont.Weight.Normal)
        if mono:
            text_format.setFontFamilies(["DejaVu Sans Mono", "Liberation Mono", "monospace"])
        return text_format

    def paragraph(
        self, text: str, points: float = BODY_POINTS, *, bold: bool = False, space: float = 2
    ) -> None:
        block = QTextBlockFormat()
        block.setTopMargin(space)
        if self.first:
            self.cursor.setBlockFormat(block)
            self.first = False
        else:
            self.cursor.insertBlock(block)
        self.cursor.setCharFormat(self.style(points, bold=bold))
        self.cursor.insertText(visible_multiline(text), self.style(points, bold=bold))

    def labelled(self, label: str, value: str, *, mono: bool = False) -> None:
        self.paragraph("")
        self.cursor.insertText(f"{label}: ", self.style(BODY_POINTS, bold=True))
        self.cursor.insertText(visible_multiline(value), self.style(BODY_POINTS, mono=mono))

    def table(self, rows: list[tuple[str, str]]) -> None:
        table_format = QTextTableFormat()
        table_format.setCellPadding(3)
        table_format.setCellSpacing(0)
        table_format.setBorder(0.5)
        table_format.setWidth(QTextLength(QTextLength.Type.PercentageLength, 60))
        table = self.cursor.insertTable(len(rows), 2, table_format)
        for row, (label, value) in enumerate(rows):
            table.cellAt(row, 0).firstCursorPosition().insertText(
                label, self.style(BODY_POINTS, bold=True)
            )
            table.cellAt(row, 1).firstCursorPosition().insertText(
                visible_multiline(value), self.style(BODY_POINTS)
            )
        self.cursor.movePosition(QTextCursor.MoveOperation.End)


def report_document(report: ReviewReport) -> QTextDocument:
    """The report as a text document (every text inserted as plain text)."""
    record = report_record(report)
    review = report.review
    document = QTextDocument()
    document.setDocumentMargin(0)
    font = QFont()
    font.setPointSizeF(BODY_POINTS)
    document.setDefaultFont(font)
    out = _Writer(document)
    out.paragraph(f"Review report: {review.name}", TITLE_POINTS, bold=True, space=0)
    out.labelled("Status", report.status())
    out.labelled("Scope", review.scope_text())
    out.labelled("Query", review.query or "(every entry)", mono=True)
    out.labelled("Reviewer", f"{review.reviewer} (operating system user {review.os_user})")
    out.labelled("Started", record["review"]["started_utc"])
    signature = review.signature
    if signature is not None:
        out.labelled("Signed", record["signature"]["signed_utc"])
        out.labelled("Signed by", signature.signed_by)
        out.labelled("Statement", signature.statement)
    out.paragraph("Counts", HEADING_POINTS, bold=True, space=10)
    counts = report.counts
    out.table(
        [
            ("Entries in scope", f"{counts.total:,}"),
            ("Reviewed", f"{counts.reviewed:,}"),
            ("OK", f"{counts.ok:,}"),
            ("Flagged", f"{counts.flagged:,}"),
            ("Follow-up", f"{counts.follow_up:,}"),
            ("Unreviewed", f"{counts.unreviewed:,}"),
        ]
    )
    out.paragraph("Store", HEADING_POINTS, bold=True, space=10)
    out.labelled("File", report.store)
    out.labelled("Entries", f"{report.entries_count:,} (last seq {report.entries_last_seq:,})")
    out.labelled("Entries' chain head (SHA-256)", report.entries_head or "-", mono=True)
    out.labelled("Review events", f"{report.events_count:,}")
    out.labelled("Review events' chain head (SHA-256)", report.events_head or "-", mono=True)
    out.labelled("Report written", record["generated_utc"])
    out.paragraph(
        f"Flagged and follow-up entries ({len(report.entries):,})",
        HEADING_POINTS,
        bold=True,
        space=10,
    )
    if not report.entries:
        out.paragraph("None.")
    for entry in record["entries"]:
        out.paragraph(
            f"Seq {entry['seq']} · {entry['disposition']} · {entry['time_utc'] or 'no time'}",
            BODY_POINTS + 1,
            bold=True,
            space=8,
        )
        out.labelled("Action", entry["action"] or "-")
        out.labelled("Actor", entry["actor"] or "-")
        out.labelled("Entity", entry["entity"] or "-")
        out.labelled("Tags", ", ".join(entry["tags"]) or "-")
        out.labelled("Marked by", f"{entry['marked_by']} at {entry['marked_utc']}")
        out.labelled("Note", entry["note"] or "-")
    return document


def _pdf_bytes(report: ReviewReport) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setResolution(RESOLUTION)
    writer.setTitle(f"Review report: {report.review.name}")
    writer.setCreator("auditviewer")
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM),
            QPageLayout.Unit.Millimeter,
        )
    )
    document = report_document(report)
    document.documentLayout().setPaintDevice(writer)
    page = writer.pageLayout().paintRectPixels(RESOLUTION)
    band = RESOLUTION * 0.35  # header and footer bands, a third of an inch each
    body = QSizeF(page.width(), page.height() - 2 * band)
    document.setPageSize(body)
    pages = document.pageCount()
    painter = QPainter(writer)
    try:
        small = QFont()
        small.setPointSizeF(BODY_POINTS - 1)
        for number in range(pages):
            if number:
                writer.newPage()
            painter.setFont(small)
            header = QRectF(0, 0, page.width(), band * 0.8)
            painter.drawText(
                header,
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
                f"auditviewer review report — review {report.review.id}: {report.review.name}",
            )
            painter.drawText(
                QRectF(0, page.height() - band * 0.8, page.width(), band * 0.8),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom,
                f"page {number + 1} of {pages}",
            )
            painter.save()
            painter.translate(QPointF(0, band - number * body.height()))
            shown = QRectF(0, number * body.height(), body.width(), body.height())
            document.drawContents(painter, shown)
            painter.restore()
    finally:
        painter.end()
    buffer.close()
    return bytes(data.data())


def write_report_pdf(report: ReviewReport, path: Path | str) -> int:
    """Writes the report as an A4 PDF, atomically; returns the bytes written."""
    ensure_application()
    data = _pdf_bytes(report)
    target = Path(path)
    try:
        with atomic_write(target) as out:
            out.write(data)
    except OSError as exc:
        raise ExportFailed(
            f"{target}: the report cannot be written ({exc.strerror or exc}); nothing was written"
        ) from None
    return len(data)
