"""The window's jobs as small functions over core: import, export, text indexing, the check.

Each ``*_job`` function builds a :class:`Job` the runner starts; its function runs on the
job's thread and reports through the job's context.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditviewer.core.errors import AuditViewerError, ImportCancelled
from auditviewer.core.records import ImportReport, Progress
from auditviewer.core.wording import counted
from auditviewer.ui.plain_text import visible
from auditviewer.ui.tasks.job import Job, JobContext, Kind
from auditviewer.ui.tasks.task_progress import human_bytes

if TYPE_CHECKING:
    from auditviewer.core.evidence.store_check import StoreCheckReport
    from auditviewer.core.packs.pack import PackReport
    from auditviewer.core.packs.signing import SigningKey
    from auditviewer.core.querying.coverage import CoverageReport
    from auditviewer.core.querying.filter import Filter
    from auditviewer.core.reviewing.reviews import DispositionCounts, Review
    from auditviewer.core.store.connection import Store
    from auditviewer.core.store.custody_log import CustodyRecord

log = logging.getLogger(__name__)

PHASES = {
    "sqlite": "SQLite is checking the store file…",
    "verify": "Checking every entry's SHA-256 and the hash chain",
    "compare": "Checking that the entries, texts and column blocks agree",
    "indexes": "Comparing each index with its table…",
    "index": "Rebuilding the full-text index",
}

# --- import ------------------------------------------------------------------------------------


@dataclass
class ImportOutcome:
    """What an import of several files did: each file is stored whole or not at all."""

    paths: list[Path]
    reports: list[ImportReport] = field(default_factory=list)
    failures: list[tuple[Path, str]] = field(default_factory=list)
    cancelled: bool = False


def import_job(store: Store, paths: list[Path]) -> Job:
    """Imports ``paths`` one after another."""
    outcome = ImportOutcome(list(paths))

    def work(context: JobContext) -> ImportOutcome:
        _import_files(store, outcome, context)
        return outcome

    job = Job("import", Kind.WRITE, f"Importing {visible(paths[0].name, 60)}…", work)
    job.result = outcome
    return job


def _import_files(store: Store, outcome: ImportOutcome, context: JobContext) -> None:
    from auditviewer.core.store.file_import import import_file

    count = len(outcome.paths)
    for index, path in enumerate(outcome.paths):
        if context.cancelled:
            outcome.cancelled = True
            return
        name = visible(path.name, 60)
        prefix = f"File {index + 1} of {count}: " if count > 1 else ""

        def report_progress(progress: Progress, prefix: str = prefix, name: str = name) -> None:
            done, total = progress.done, progress.total
            text = f"{prefix}{name} — {human_bytes(done)} of {human_bytes(total)}, "
            context.progress(f"{text}{counted(progress.entries, 'entry')}", done, total)

        try:
            report = import_file(store, path, progress=report_progress, cancel=context.cancel_token)
        except ImportCancelled:
            outcome.cancelled = True
            return
        except AuditViewerError as exc:
            outcome.failures.append((path, str(exc)))
        except Exception as exc:  # a bug: tell the user in words, keep the trace in the log
            log.exception("import of %s failed", path)
            outcome.failures.append(
                (path, f"{path}: unexpected error ({type(exc).__name__}: {exc})")
            )
        else:
            outcome.reports.append(report)
            context.note(report)


# --- full-text index ---------------------------------------------------------------------------


def index_job(store: Store) -> Job:
    """Indexes the entries not yet in the full-text index, in committed chunks.

    Cancelling keeps what was indexed; text search stays complete meanwhile (the core scans
    the entries the index does not reach yet). The result is the number of entries indexed.
    """

    def work(context: JobContext) -> int:
        from auditviewer.core.store.text_index import build_fulltext

        def report(progress: Progress) -> None:
            done, total = progress.done, progress.total
            context.progress(f"Indexing text for search: {done:,} of {total:,}", done, total)

        return build_fulltext(store, progress=report, cancel=context.cancel_token)

    return Job("index", Kind.INDEX, "Indexing text…", work, subject=str(store.path))


# --- export ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """What the user asked to export, and where."""

    path: Path
    format: str  # "json" or "csv"
    selected_only: bool
    # Whether personal values are replaced by pseudonyms (the texts are then not original).
    redact: bool = False


@dataclass(frozen=True, slots=True)
class ExportOutcome:
    """What an export wrote, and whether the store's custody log recorded it."""

    entries: int
    logged: bool
    redacted: bool


def written_count(report: Any) -> int:
    """How many entries an export report says were written."""
    for name in ("entries", "written", "count", "exported"):
        value = getattr(report, name, None)
        if isinstance(value, int):
            return value
    return 0


def export_job(
    store: Store, request: ExportRequest, filter_: Filter | None, seqs: list[int] | None
) -> Job:
    """Exports the selected entries (``seqs``), or all that match ``filter_``, atomically.

    The result is an :class:`ExportOutcome`; a cancelled export writes no file.
    """

    def work(context: JobContext) -> ExportOutcome:
        from auditviewer.core.exporting.export import export_csv, export_json
        from auditviewer.core.exporting.redaction import Redactor

        write = export_csv if request.format == "csv" else export_json

        def report_progress(progress: Any) -> None:
            done = int(getattr(progress, "entries", 0) or getattr(progress, "done", 0))
            total = int(getattr(progress, "total", 0))
            context.progress(f"Exporting: {done:,} of {counted(total, 'entry')}", done, total)

        where: dict[str, Any] = {"seqs": seqs} if seqs is not None else {"filter": filter_}
        try:
            report = write(
                store,
                request.path,
                progress=report_progress,
                cancel=context.cancel_token,
                redactor=Redactor() if request.redact else None,
                **where,
            )
        except OSError as exc:
            raise AuditViewerError(f"{request.path}: {exc.strerror or exc}") from exc
        if context.cancelled:
            raise AuditViewerError("cancelled")
        logged = getattr(report, "logged", None) is not False
        return ExportOutcome(written_count(report), logged, request.redact)

    title = f"Exporting to {visible(request.path.name, 60)}…"
    return Job("export", Kind.READ, title, work, subject=str(request.path))


# --- the store check ---------------------------------------------------------------------------


def verify_job(store: Store, *, full: bool, rebuild: bool, expect_head: str | None = None) -> Job:
    """Checks the store (after rebuilding its indexes when ``rebuild``); ``expect_head`` is a
    chain head noted outside the store that must be in the chain.

    A rebuild writes, so it is a writer; a check only holds writers off. The result is the
    :class:`StoreCheckReport`, or None when cancelled.
    """

    def work(context: JobContext) -> StoreCheckReport | None:
        from auditviewer.core.evidence.store_check import check_store, rebuild_store_indexes

        def report(progress: Progress) -> None:
            text = PHASES.get(progress.phase, "Checking…")
            if progress.total:
                text = f"{text}: {progress.done:,} of {counted(progress.total, 'entry')}"
            context.progress(text, progress.done, progress.total)

        if rebuild:
            context.progress("Rebuilding the indexes…")
            rebuild_store_indexes(store, progress=report, cancel=context.cancel_token)
        if context.cancelled:
            return None
        return check_store(
            store,
            full=full,
            progress=report,
            cancel=context.cancel_token,
            expect_head=expect_head,
        )

    kind = Kind.WRITE if rebuild else Kind.CHECK
    title = "Rebuilding the indexes…" if rebuild else "Checking…"
    return Job("verify", kind, title, work, subject=str(store.path))


# --- evidence packs ----------------------------------------------------------------------------

EVIDENCE_JOB = "evidence pack"


@dataclass(frozen=True, slots=True)
class EvidenceRequest:
    """What the user asked to put into an evidence pack, and where."""

    folder: Path
    selected_only: bool
    make_zip: bool
    redact: bool
    reviewer: str
    review_id: int | None = None


@dataclass(frozen=True, slots=True)
class PackOutcome:
    """The pack written and the key that signed it."""

    report: PackReport
    key: SigningKey


def evidence_pack_job(
    store: Store,
    request: EvidenceRequest,
    load_key: Callable[[], SigningKey],
    filter_: Filter | None,
    seqs: list[int] | None,
) -> Job:
    """Writes the evidence pack of the selected entries (``seqs``), or of all that match
    ``filter_``, signed with the key ``load_key`` gives (made on first use).

    The result is a :class:`PackOutcome`; a cancelled pack leaves no folder.
    """

    def work(context: JobContext) -> PackOutcome:
        from auditviewer.core.exporting.redaction import Redactor
        from auditviewer.core.packs.pack import write_evidence_pack
        from auditviewer.core.reviewing.reviews import get_review, pack_reference

        def report_progress(progress: Progress) -> None:
            done, total = progress.done, progress.total
            context.progress(
                f"Writing the evidence pack: {done:,} of {counted(total, 'entry')}", done, total
            )

        review = None
        if request.review_id is not None:
            review = pack_reference(get_review(store, request.review_id), store.path)
        key = load_key()
        where: dict[str, Any] = {"seqs": seqs} if seqs is not None else {"filter": filter_}
        try:
            report = write_evidence_pack(
                store,
                request.folder,
                key=key,
                reviewer=request.reviewer or None,
                review=review,
                redactor=Redactor() if request.redact else None,
                make_zip=request.make_zip,
                progress=report_progress,
                cancel=context.cancel_token,
                **where,
            )
        except OSError as exc:
            raise AuditViewerError(f"{request.folder}: {exc.strerror or exc}") from exc
        return PackOutcome(report, key)

    title = f"Writing the evidence pack {visible(request.folder.name, 60)}…"
    return Job(EVIDENCE_JOB, Kind.READ, title, work, subject=str(request.folder))


def signing_key_job(load_key: Callable[[], SigningKey]) -> Job:
    """Reads the signing key, making it when there is none yet; the result is the key."""

    def work(context: JobContext) -> SigningKey:
        context.progress("Reading the signing key…")
        return load_key()

    return Job("signing key", Kind.READ, "Reading the signing key…", work)


def key_place_job(place: Callable[[], tuple[bool, str]]) -> Job:
    """Looks where the signing key is kept without making it (the keyring may take a moment);
    the result is whether one is kept and where, as a sentence."""

    def work(context: JobContext) -> tuple[bool, str]:
        context.progress("Looking for the signing key…")
        return place()

    return Job("signing key", Kind.READ, "Looking for the signing key…", work)


# --- the custody log and coverage --------------------------------------------------------------


def custody_job(store: Store) -> Job:
    """Reads the custody log; the result is its records, newest first."""

    def work(context: JobContext) -> list[CustodyRecord]:
        from auditviewer.core.store.custody import read_custody

        context.progress("Reading the custody log…")
        return list(reversed(read_custody(store)))

    return Job("activity", Kind.READ, "Reading the custody log…", work, subject=str(store.path))


def coverage_job(store: Store, *, gap: int, now: Callable[[], int] | None = None) -> Job:
    """Computes the coverage report with gaps of at least ``gap`` microseconds, at ``now()``
    (default: the current time); the result is the :class:`CoverageReport`."""

    def work(context: JobContext) -> CoverageReport:
        from auditviewer.core.querying.coverage import coverage

        context.progress("Reading what the archive covers…")
        return coverage(store, gap=gap, now=None if now is None else now())

    return Job(
        "coverage", Kind.READ, "Reading what the archive covers…", work, subject=str(store.path)
    )


# --- reviews -----------------------------------------------------------------------------------

REVIEW_WRITE_JOB = "review"
REVIEW_READ_JOB = "review-read"
REVIEW_REPORT_JOB = "review-report"


@dataclass(frozen=True, slots=True)
class MarkRequest:
    """Marks asked for in the window: a disposition, a note or tags for some entries."""

    review_id: int
    seqs: tuple[int, ...]
    disposition: str | None = None
    note: str | None = None
    tags: tuple[str, ...] | None = None
    reviewer: str | None = None
    # The table's filter: the review facets under it are counted again after marking.
    facet_filter: Filter | None = None
    # A tag added to each entry's own tags.
    add_tag: str | None = None


@dataclass(frozen=True, slots=True)
class MarkOutcome:
    """After marking: the review's progress, and the disposition and tag facets (None when no
    filter was given)."""

    progress: DispositionCounts
    facets: dict[str, list[Any]] | None


def review_start_job(store: Store, start: Callable[[Store], Review]) -> Job:
    """Starts a review (``start`` calls the core with the scope asked for); the result is the
    new :class:`Review` and its progress."""

    def work(context: JobContext) -> tuple[Review, DispositionCounts]:
        from auditviewer.core.reviewing.reviews import review_progress

        context.progress("Starting the review…")
        review = start(store)
        return review, review_progress(store, review.id)

    return Job(REVIEW_WRITE_JOB, Kind.WRITE, "Starting the review…", work, subject=str(store.path))


def mark_job(store: Store, request: MarkRequest) -> Job:
    """Marks entries within a review in one transaction; the result is a :class:`MarkOutcome`.
    A signed review, or an entry outside its scope, marks nothing."""

    def work(context: JobContext) -> MarkOutcome:
        from auditviewer.core.querying.aggregates import review_facets
        from auditviewer.core.reviewing.marks import mark
        from auditviewer.core.reviewing.reviews import review_progress

        context.progress(f"Marking {counted(len(request.seqs), 'entry')}…")
        mark(
            store,
            request.review_id,
            request.seqs,
            request.disposition,
            note=request.note,
            tags=request.tags,
            reviewer=request.reviewer,
            add_tag=request.add_tag,
        )
        progress = review_progress(store, request.review_id)
        if request.facet_filter is None:
            return MarkOutcome(progress, None)
        dispositions, tags = review_facets(store, request.facet_filter)
        return MarkOutcome(progress, {"review": list(dispositions), "tag": list(tags)})

    title = f"Marking {counted(len(request.seqs), 'entry')}…"
    return Job(REVIEW_WRITE_JOB, Kind.WRITE, title, work, subject=str(store.path))


def sign_job(store: Store, review_id: int, *, by: str, statement: str) -> Job:
    """Signs a review off; the result is the signed (frozen) :class:`Review`."""

    def work(context: JobContext) -> Review:
        from auditviewer.core.reviewing.reviews import sign_review

        context.progress("Signing the review off…")
        return sign_review(store, review_id, by=by, statement=statement)

    return Job(REVIEW_WRITE_JOB, Kind.WRITE, "Signing off…", work, subject=str(store.path))


def review_read_job(store: Store, read: Callable[[Store], object]) -> Job:
    """A read about the reviews (a review's progress, the next unreviewed entry): its result is
    what ``read`` returns."""

    def work(context: JobContext) -> object:
        del context
        return read(store)

    return Job(REVIEW_READ_JOB, Kind.READ, "Reading the review…", work, subject=str(store.path))


def report_job(store: Store, review_id: int, path: Path) -> Job:
    """Writes a review's report to ``path``: PDF, JSON or CSV by its suffix, atomically. The
    result is the path written."""

    def work(context: JobContext) -> Path:
        from auditviewer.core.reviewing.report import (
            build_report,
            report_format,
            write_report_csv,
            write_report_json,
        )

        context.progress("Reading the review's marks…")
        kind = report_format(path)
        report = build_report(store, review_id)
        context.progress(f"Writing {visible(path.name, 60)}…")
        if kind == "pdf":
            from auditviewer.ui.reports.review_pdf import write_report_pdf

            write_report_pdf(report, path)
        elif kind == "csv":
            write_report_csv(report, path)
        else:
            write_report_json(report, path)
        return path

    title = f"Writing {visible(path.name, 60)}…"
    return Job(REVIEW_REPORT_JOB, Kind.READ, title, work, subject=str(path))


VIEWS_JOB = "views"


def view_write_job(store: Store, title: str, write: Callable[[Store], object]) -> Job:
    """Saves or deletes a saved view (``write`` calls the core); a writer like the others."""

    def work(context: JobContext) -> object:
        context.progress(title)
        return write(store)

    return Job(VIEWS_JOB, Kind.WRITE, title, work, subject=str(store.path))
