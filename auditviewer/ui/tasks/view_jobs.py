"""The jobs behind opening files as a view and adding a viewed file to the archive."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from auditviewer.core.records import Progress
from auditviewer.ui.plain_text import visible
from auditviewer.ui.tasks.job import Job, JobContext, Kind
from auditviewer.ui.tasks.jobs import import_job
from auditviewer.ui.tasks.task_progress import human_bytes

if TYPE_CHECKING:
    from auditviewer.core.store.connection import Store
    from auditviewer.core.store.file_views import FileView

VIEW_JOB = "view"
ARCHIVE_JOB = "archive"


def view_job(folder: Path, files: list[Path]) -> Job:
    """Opens ``files`` as one view kept in ``folder`` (reused when it exists); the result is
    the :class:`~auditviewer.core.store.file_views.FileView`. The archive is not touched."""

    def work(context: JobContext) -> FileView:
        from auditviewer.core.store.file_views import ViewCache

        def report(file: Path, progress: Progress) -> None:
            done, total = progress.done, progress.total
            text = f"{visible(file.name, 60)} — {human_bytes(done)} of {human_bytes(total)}"
            context.progress(f"{text}, {progress.entries:,} entries", done, total)

        context.progress(f"Reading {visible(files[0].name, 60)}…")
        return ViewCache(folder).open_view(files, progress=report, cancel=context.cancel_token)

    title = f"Opening {visible(files[0].name, 60)}…"
    return Job(VIEW_JOB, Kind.READ, title, work, subject=str(files[0]))


def archive_job(archive: Store, files: list[Path]) -> Job:
    """Imports the viewed ``files`` into the archive (another store than the one shown)."""
    job = import_job(archive, files)
    job.name = ARCHIVE_JOB
    job.title = f"Adding {visible(files[0].name, 60)} to the archive…"
    return job
