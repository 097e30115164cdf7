"""Errors the core raises, named after the condition that caused them."""

from __future__ import annotations


class AuditViewerError(Exception):
    """Base class of every error the core reports to a user."""


class ImportRejected(AuditViewerError):
    """A whole file was refused; the store was left exactly as it was."""

    def __init__(
        self,
        source: str,
        reason: str,
        *,
        line: int | None = None,
        column: int | None = None,
        offset: int | None = None,
    ) -> None:
        self.source = source
        self.reason = reason
        self.line = line
        self.column = column
        self.offset = offset
        super().__init__(self._message())

    def _message(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
            if self.column is not None:
                where.append(f"column {self.column}")
        if self.offset is not None:
            where.append(f"byte {self.offset}")
        position = f" ({', '.join(where)})" if where else ""
        return f"{self.source}{position}: {self.reason}"


class ImportCancelled(AuditViewerError):
    """The user cancelled an import; nothing of it was stored."""


class QueryError(AuditViewerError):
    """A query string could not be parsed; ``position`` points at the bad token."""

    def __init__(self, query: str, position: int, reason: str) -> None:
        self.query = query
        self.position = position
        self.reason = reason
        super().__init__(
            f"{reason} at position {position + 1}: {query[position : position + 30]!r}"
        )

    def pointer(self) -> str:
        """The query with a caret line under the bad token, for terminals and tooltips."""
        return f"{self.query}\n{' ' * self.position}^"


class StoreError(AuditViewerError):
    """The store file cannot be used (locked, corrupt, newer than this program, not a store)."""


class StoreLocked(StoreError):
    """Another process holds the write lock for longer than the busy timeout."""


class StoreFull(StoreError):
    """The disk (or the store's size limit) has no room for what was being written."""


class StoreReadOnly(StoreError):
    """The store can be read but not written: its file, folder or file system is read-only."""


class StoreDamaged(StoreError):
    """SQLite found the store file damaged (corrupt pages, not a database any more)."""


class ExportFailed(AuditViewerError):
    """An export could not be written; the target file was not touched."""
