"""The review report's PDF: hostile notes and tags print as the plain text they are, on
numbered A4 pages headed with the review."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSizeF
from PySide6.QtGui import QPageSize
from PySide6.QtPdf import QPdfDocument

from auditviewer.core.querying.language import parse_query
from auditviewer.core.querying.window import EntryQuery
from auditviewer.core.reviewing.marks import mark
from auditviewer.core.reviewing.report import build_report
from auditviewer.core.reviewing.reviews import sign_review, start_review
from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
from auditviewer.ui.reports.review_pdf import report_document, write_report_pdf
from tests.conftest import make_entry, write_json

HOSTILE = (
    "<b>bold</b><script>alert(1)</script>",
    '<img src="/dev/zero"> &amp; &lt;',
    "first line\nsecond line",
    "\u202eevil\u202c عربي עברית",
)
LONG_NOTE = "long note " * 500  # 5,000 characters


@pytest.fixture
def report_store(tmp_path: Path) -> Store:
    store = Store.open(tmp_path / "s.sqlite")
    import_file(store, write_json(tmp_path / "e.json", [make_entry(n) for n in range(60, 0, -1)]))
    review = start_review(store, "Quarterly <i>access</i>", reviewer="Ann <Lee>")
    with EntryQuery(store, parse_query("")) as query:
        seqs = query.seqs(0, 60)
    for index, note in enumerate(HOSTILE):
        mark(store, review.id, [seqs[index]], "flagged", note=note, tags=[f"<t{index}>", "=x"])
    mark(store, review.id, [seqs[10]], "follow-up", note=LONG_NOTE)
    mark(store, review.id, seqs[11:50], "follow-up", note="ask the owner")
    sign_review(store, review.id, by="Ann <Lee>", statement="Reviewed <all> entries.")
    return store


def test_hostile_text_is_plain_text_in_the_document(report_store: Store) -> None:
    report = build_report(report_store, 1)
    text = report_document(report).toPlainText()
    for note in HOSTILE[:3]:
        assert note in text
    # A direction override would reverse what follows it on paper: it is printed as an escape.
    assert "\\u202eevil\\u202c عربي עברית" in text
    assert "\u202e" not in text
    assert LONG_NOTE in text
    for tag in ("<t0>", "<t3>", "=x"):
        assert tag in text
    assert "Quarterly <i>access</i>" in text
    assert "Reviewed <all> entries." in text
    assert report.entries_head is not None
    assert report.entries_head in text
    report_store.close()


def test_the_pdf_is_a4_numbered_and_holds_the_text(
    report_store: Store, tmp_path: Path, qapp: object
) -> None:
    target = tmp_path / "report.pdf"
    written = write_report_pdf(build_report(report_store, 1), target)
    report_store.close()
    assert written == target.stat().st_size > 20_000
    document = QPdfDocument()
    document.load(str(target))
    pages = document.pageCount()
    assert pages >= 3
    a4 = QPageSize(QPageSize.PageSizeId.A4).size(QPageSize.Unit.Point)
    size: QSizeF = document.pagePointSize(0)
    assert abs(size.width() - a4.width()) < 1
    assert abs(size.height() - a4.height()) < 1
    # The extracted text breaks lines where the layout placed glyphs: compared without spaces.
    every = _squeezed("".join(document.getAllText(page).text() for page in range(pages)))
    for number in range(1, pages + 1):
        assert _squeezed(f"page {number} of {pages}") in every
    assert every.count(_squeezed("review 1: Quarterly <i>access</i>")) == pages
    for text in (*HOSTILE[:2], "Reviewed <all> entries.", "<t0>, =x"):
        assert _squeezed(text) in every
    document.close()


def _squeezed(text: str) -> str:
    return "".join(text.split())
