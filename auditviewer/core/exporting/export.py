"""Exports entries: their original texts as a re-importable JSON array, or their columns as CSV.

Both formats stream the selection in chunks (memory stays bounded whatever its size), newest
first, and are written through :func:`.atomic.atomic_write`: an export that
fails or is cancelled leaves no file under the target name and an existing target unchanged.

The JSON export is the entries' exact original texts, one per element of an array; importing
it into an empty store gives the same entries with the same raw texts and raw hashes.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import os
import sqlite3
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO, Final

from sqlalchemy.exc import DBAPIError

from auditviewer.core.errors import AuditViewerError, ExportFailed, StoreError
from auditviewer.core.exporting.atomic import atomic_write
from auditviewer.core.exporting.redaction import Redactor
from auditviewer.core.querying.filter import Filter, Sort
from auditviewer.core.querying.language import format_query
from auditviewer.core.querying.window import EntryQuery, EntryRow, list_sources, store_failure
from auditviewer.core.records import CancelToken, Progress, ProgressCallback
from auditviewer.core.store.connection import Store
from auditviewer.core.store.custody import append_custody
from auditviewer.core.store.custody_log import EXPORT
from auditviewer.core.timestamps import iso_utc
from auditviewer.core.vocabulary import flags_of

CHUNK_ENTRIES: Final = 1000
FORMATS: Final = ("json", "csv")
NEWEST_FIRST: Final = Sort("time", descending=True)
CSV_COLUMNS: Final = (
    "seq",
    "id",
    "time_utc",
    "action",
    "actor_type",
    "actor_label",
    "actor_id",
    "project",
    "entity_type",
    "entity_id",
    "entity_name",
    "ip",
    "user_agent",
    "flags",
    "quarantine_reason",
    "source",
)
# A spreadsheet reads a cell starting with one of these as a formula (or a DDE command).
FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r")


_FORMULA_STARTS: Final = frozenset(FORMULA_PREFIXES)
_STORE_SUFFIXES: Final = ("", "-wal", "-shm", "-journal")


class ExportCancelled(AuditViewerError):
    """The user cancelled an export; the target file was not touched."""


class ExportTargetReadOnly(ExportFailed):
    """The file to export to exists and is read-only; it was left as it is."""

    def __init__(self, target: Path) -> None:
        self.target = target
        super().__init__(
            f"{target}: the file is read-only and was left as it is; export to another file"
        )


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What one export wrote."""

    path: Path
    format: str
    entries: int
    bytes_written: int
    seconds: float
    # The SHA-256 of the file written (hex).
    sha256: str = ""
    # Whether the export was recorded in the store's custody log (None: not asked to be); a
    # read-only store cannot record it.
    logged: bool | None = None
    # The fields in which a redacted export replaced values (None: not redacted).
    redacted_fields: tuple[str, ...] | None = None

    @property
    def redacted(self) -> bool:
        """Whether personal values were replaced by pseudonyms (the texts are not original)."""
        return self.redacted_fields is not None


# Called with each chunk's seqs and the exact bytes written for each of those entries.
ChunkSink = Callable[[list[int], list[bytes]], None]


def entry_flags(row: EntryRow) -> tuple[str, ...]:
    """The names of what is noteworthy about an entry, most serious first."""
    return tuple(flag.key for flag in flags_of(row.flags))


def entry_record(row: EntryRow, source: str) -> dict[str, str | int | None]:
    """An entry's normalised columns under the names of :data:`CSV_COLUMNS`."""
    return {
        "seq": row.seq,
        "id": row.entry_key or None,
        "time_utc": iso_utc(row.created_utc) or None,
        "action": row.action,
        "actor_type": row.actor_type,
        "actor_label": row.actor_label,
        "actor_id": row.actor_id,
        "project": row.project,
        "entity_type": row.entity_type,
        "entity_id": row.entity_id,
        "entity_name": row.entity_name,
        "ip": row.ip,
        "user_agent": row.user_agent,
        "flags": " ".join(entry_flags(row)) or None,
        "quarantine_reason": row.quarantine_reason,
        "source": source,
    }


def neutralize_cell(text: str) -> str:
    """Prefixes ``'`` to text a spreadsheet would run as a formula; other text is unchanged."""
    return "'" + text if text[:1] in _FORMULA_STARTS else text


def csv_cells(record: dict[str, str | int | None]) -> list[str | int]:
    """One CSV row of an :func:`entry_record`, its text cells neutralised against formulas."""
    return [_cell(record[name]) for name in CSV_COLUMNS]


def csv_row(row: EntryRow, source: str) -> list[str | int]:
    """The CSV cells of an entry (as :func:`csv_cells` of its :func:`entry_record`, faster)."""
    return [
        row.seq,
        _cell(row.entry_key),
        _cell(iso_utc(row.created_utc)),
        _cell(row.action),
        _cell(row.actor_type),
        _cell(row.actor_label),
        _cell(row.actor_id),
        _cell(row.project),
        _cell(row.entity_type),
        _cell(row.entity_id),
        _cell(row.entity_name),
        _cell(row.ip),
        _cell(row.user_agent),
        " ".join(entry_flags(row)),
        _cell(row.quarantine_reason),
        _cell(source),
    ]


def _cell(value: str | int | None) -> str | int:
    if value is None:
        return ""
    if isinstance(value, int):
        return value
    return "'" + value if value[:1] in _FORMULA_STARTS else value


def export_json(
    store: Store,
    path: Path | str,
    *,
    filter: Filter | None = None,
    seqs: Iterable[int] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    chunk_size: int = CHUNK_ENTRIES,
    replace_read_only: bool = False,
    redactor: Redactor | None = None,
    log: bool = True,
    on_chunk: ChunkSink | None = None,
) -> ExportReport:
    """Writes the original texts of the selected entries, newest first, as a JSON array.

    The selection is what ``filter`` matches, narrowed to ``seqs`` when given (an empty
    ``seqs`` selects nothing); with neither, every entry, quarantined ones included. An
    existing read-only target (see :func:`is_read_only`) is replaced only with
    ``replace_read_only``. Raises :class:`ExportFailed` (naming the file, and the entry where
    one is at fault), :class:`ExportTargetReadOnly`, :class:`ExportCancelled`, or a
    :class:`StoreError` naming the store when it cannot be read; the target is then untouched.

    With a ``redactor`` each text has its personal values replaced (see
    :mod:`.redaction`) and is written as compact JSON: no longer the original. ``on_chunk``
    is called with each chunk of seqs and the bytes written for each. With ``log`` the export is
    recorded in the custody log (:attr:`ExportReport.logged`).
    """
    target = _checked_target(store, path, replace_read_only)
    started = time.perf_counter()
    digest = hashlib.sha256()
    with _failures(store, target), _Selection(store, filter, seqs) as selection:
        total = selection.count()
        written = 0
        size = 0
        with store.raw() as reader, atomic_write(target) as out:
            out.write(b"[")
            digest.update(b"[")
            size += 1
            for chunk in _chunks(selection.iter_seqs(), chunk_size):
                _check(cancel, target)
                texts = _raw_texts(reader, chunk)
                if redactor is None:
                    datas = [_encoded(texts, seq, target) for seq in chunk]
                else:
                    datas = [
                        redactor.redact_json_text(_text_of(texts, seq, target)) for seq in chunk
                    ]
                if on_chunk is not None:
                    on_chunk(chunk, datas)
                block = (b",\n" if written else b"\n") + b",\n".join(datas)
                size += len(block)
                written += len(datas)
                out.write(block)
                digest.update(block)
                _report(progress, written, total)
            ending = b"\n]\n" if written else b"]\n"
            out.write(ending)
            digest.update(ending)
            size += len(ending)
            _check(cancel, target)
    report = ExportReport(
        target,
        "json",
        written,
        size,
        time.perf_counter() - started,
        sha256=digest.hexdigest(),
        redacted_fields=None if redactor is None else redactor.fields,
    )
    return _logged(store, report, filter) if log else report


def export_csv(
    store: Store,
    path: Path | str,
    *,
    filter: Filter | None = None,
    seqs: Iterable[int] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    chunk_size: int = CHUNK_ENTRIES,
    replace_read_only: bool = False,
    redactor: Redactor | None = None,
    log: bool = True,
) -> ExportReport:
    """Writes the normalised columns of the selected entries, newest first, as UTF-8 CSV.

    The header is :data:`CSV_COLUMNS`; cells that a spreadsheet would run as a formula are
    neutralised (:func:`neutralize_cell`). Selection, errors, cancellation, ``redactor`` and
    ``log`` as for :func:`export_json`.
    """
    target = _checked_target(store, path, replace_read_only)
    started = time.perf_counter()
    with _failures(store, target), _Selection(store, filter, seqs) as selection:
        sources = {source.id: source.location for source in list_sources(store)}
        total = selection.count()
        written = 0
        size = 0
        lines = _CsvLines(redactor)
        with atomic_write(target) as out:
            lines.writer.writerow(CSV_COLUMNS)
            size += lines.flush_to(out, target, ())
            for offset in range(0, total, max(1, chunk_size)):
                _check(cancel, target)
                rows = selection.window(offset, chunk_size)
                lines.writer.writerows(
                    csv_row(row, sources.get(row.source_id, str(row.source_id))) for row in rows
                )
                size += lines.flush_to(out, target, rows)
                written += len(rows)
                _report(progress, written, total)
                if not rows:
                    break
            _check(cancel, target)
    report = ExportReport(
        target,
        "csv",
        written,
        size,
        time.perf_counter() - started,
        sha256=lines.digest.hexdigest(),
        redacted_fields=None if redactor is None else redactor.fields,
    )
    return _logged(store, report, filter) if log else report


def _logged(store: Store, report: ExportReport, flt: Filter | None) -> ExportReport:
    """Records the export in the custody log; the report says whether it could be."""
    detail: dict[str, object] = {
        "file": str(report.path.resolve()),
        "format": report.format,
        "entries": report.entries,
        "bytes": report.bytes_written,
        "sha256": report.sha256,
        "query": format_query(flt) if flt is not None else "",
    }
    if report.redacted_fields is not None:
        detail["redacted_fields"] = list(report.redacted_fields)
    return replace(report, logged=append_custody(store, EXPORT, detail) is not None)


class _Selection:
    """The entries to export, newest first; an explicitly empty selection holds nothing."""

    def __init__(self, store: Store, flt: Filter | None, seqs: Iterable[int] | None) -> None:
        base = flt or Filter()
        self._query: EntryQuery | None = None
        if seqs is not None:
            chosen = tuple(dict.fromkeys(int(s) for s in seqs))
            if base.seqs:
                allowed = set(base.seqs)
                chosen = tuple(s for s in chosen if s in allowed)
            if not chosen:
                return
            base = replace(base, seqs=chosen)
        self._query = EntryQuery(store, base, NEWEST_FIRST)

    def __enter__(self) -> _Selection:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._query is not None:
            self._query.close()

    def count(self) -> int:
        return 0 if self._query is None else self._query.count()

    def iter_seqs(self) -> Iterator[int]:
        return iter(()) if self._query is None else self._query.iter_seqs()

    def window(self, offset: int, limit: int) -> list[EntryRow]:
        return [] if self._query is None else self._query.window(offset, limit)


class _CsvLines:
    """Collects the lines a ``csv.writer`` writes (RFC 4180 quoting, CRLF), one per row."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        self.parts: list[str] = []
        self.writer = csv.writer(self) if redactor is None else _RedactingWriter(self, redactor)
        self.digest = hashlib.sha256()

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def flush_to(self, out: BinaryIO, target: Path, rows: Sequence[EntryRow]) -> int:
        """Writes the collected lines (one per row of ``rows``) as UTF-8; returns the bytes."""
        try:
            data = "".join(self.parts).encode("utf-8")
        except UnicodeEncodeError:
            for part, row in zip(self.parts, rows, strict=False):
                try:
                    part.encode("utf-8")
                except UnicodeEncodeError:
                    raise ExportFailed(
                        f"{target}: entry seq {row.seq} holds text that cannot be written as UTF-8"
                    ) from None
            raise ExportFailed(f"{target}: text that cannot be written as UTF-8") from None
        finally:
            self.parts.clear()
        out.write(data)
        self.digest.update(data)
        return len(data)


class _RedactingWriter:
    """A ``csv.writer`` whose text cells pass through a :class:`Redactor` first."""

    def __init__(self, lines: _CsvLines, redactor: Redactor) -> None:
        self._writer = csv.writer(lines)
        self._redactor = redactor
        self._header = True

    def writerow(self, row: Sequence[str | int]) -> None:
        if self._header:
            self._header = False
            self._writer.writerow(row)
            return
        entity_type = str(row[CSV_COLUMNS.index("entity_type")])
        self._writer.writerow(
            [
                self._redactor.redact_cell(name, cell, entity_type=entity_type)
                if isinstance(cell, str)
                else cell
                for name, cell in zip(CSV_COLUMNS, row, strict=True)
            ]
        )

    def writerows(self, rows: Iterable[Sequence[str | int]]) -> None:
        for row in rows:
            self.writerow(row)


def is_read_only(path: Path) -> bool:
    """Whether the existing file at ``path`` is read-only: its mode has no write permission bit
    for anyone (as ``chmod 444`` leaves it), or this process may not write to it.

    The mode bits count even where the permission check would let the write through (for the
    administrator, root), so a file the user protected is not replaced unasked.
    """
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK)


def _checked_target(store: Store, path: Path | str, replace_read_only: bool) -> Path:
    if not str(path).strip():
        raise ExportFailed("a file name is needed to export to")
    target = Path(path).expanduser()
    resolved = target.resolve()
    store_file = store.path.resolve()
    for suffix in _STORE_SUFFIXES:
        if resolved == store_file.with_name(store_file.name + suffix):
            raise ExportFailed(f"{target}: refusing to write an export over the store itself")
    if target.is_dir():
        raise ExportFailed(f"{target}: is a folder; name a file to export to")
    if not replace_read_only and is_read_only(target):
        raise ExportTargetReadOnly(target)
    return target


@contextmanager
def _failures(store: Store, target: Path) -> Iterator[None]:
    """Turns the errors of writing the file into :class:`ExportFailed` naming it, and those of
    reading the store into a :class:`StoreError` naming the store; both say the file was not
    touched."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ExportFailed(f"{target}: cannot write the export ({reason})") from None
    except (sqlite3.Error, DBAPIError, StoreError) as exc:
        outcome = f"nothing was exported and {target} was not touched"
        raise store_failure(store, exc, outcome) from None


def _check(cancel: CancelToken | None, target: Path) -> None:
    if cancel is not None and cancel.cancelled:
        raise ExportCancelled(f"{target}: export cancelled; the file was not written")


def _report(progress: ProgressCallback | None, written: int, total: int) -> None:
    if progress is not None:
        progress(Progress(written, total, written, phase="export"))


def _chunks(seqs: Iterator[int], size: int) -> Iterator[list[int]]:
    while chunk := list(itertools.islice(seqs, max(1, size))):
        yield chunk


def _raw_texts(connection: sqlite3.Connection, seqs: list[int]) -> dict[int, str]:
    rows = connection.execute(
        "SELECT seq, raw FROM entry_texts WHERE seq IN (SELECT value FROM json_each(?))",
        (json.dumps(seqs),),
    ).fetchall()
    return {int(seq): str(raw) for seq, raw in rows}


def _text_of(texts: dict[int, str], seq: int, target: Path) -> str:
    try:
        return texts[seq]
    except KeyError:
        raise ExportFailed(f"{target}: entry seq {seq} vanished from the store") from None


def _encoded(texts: dict[int, str], seq: int, target: Path) -> bytes:
    try:
        return texts[seq].encode("utf-8")
    except KeyError:
        raise ExportFailed(f"{target}: entry seq {seq} vanished from the store") from None
    except UnicodeEncodeError:
        raise ExportFailed(
            f"{target}: entry seq {seq} holds text that cannot be written as UTF-8"
        ) from None
