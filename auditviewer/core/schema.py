"""The store's tables as typed SQLAlchemy models, for ordinary queries.

The tables themselves are created by the migrations in :mod:`auditviewer.core.migrations`; a test
checks that these models and the migrated schema agree.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, LargeBinary
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Base of the store's models."""


class Source(Base):
    """One import of a file, or one sync run: where entries came from."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str]
    location: Mapped[str]
    sha256: Mapped[str | None]
    size_bytes: Mapped[int | None]
    started_utc: Mapped[int]
    finished_utc: Mapped[int | None]
    parsed: Mapped[int]
    imported: Mapped[int]
    duplicates: Mapped[int]
    conflicts: Mapped[int]
    quarantined: Mapped[int]
    first_created_utc: Mapped[int | None]
    last_created_utc: Mapped[int | None]
    detail: Mapped[str | None]


class Entry(Base):
    """One stored entry: its exact original text, its hashes and its normalised columns."""

    __tablename__ = "entries"

    seq: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    source_index: Mapped[int]
    source_line: Mapped[int | None]
    entry_key: Mapped[str]
    raw: Mapped[str]
    raw_sha256: Mapped[bytes] = mapped_column(LargeBinary)
    content_sha256: Mapped[bytes] = mapped_column(LargeBinary)
    chain_sha256: Mapped[bytes] = mapped_column(LargeBinary)
    created_utc: Mapped[int | None]
    time_naive: Mapped[int]
    action: Mapped[str | None]
    action_group: Mapped[str | None]
    actor_type: Mapped[str]
    actor_label: Mapped[str | None]
    actor_id: Mapped[str | None]
    project: Mapped[str | None]
    entity_type: Mapped[str | None]
    entity_id: Mapped[str | None]
    entity_name: Mapped[str | None]
    ip: Mapped[str | None]
    user_agent: Mapped[str | None]
    quarantine_reason: Mapped[str | None]


class ConflictKey(Base):
    """A source id that arrived with more than one content."""

    __tablename__ = "conflict_keys"

    entry_key: Mapped[str] = mapped_column(primary_key=True)
    first_source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))


class Meta(Base):
    """Small mutable facts about the store (how far the full-text index has got)."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(primary_key=True)
    value: Mapped[str]


# Insert order of the entries columns, shared by every writer.
ENTRY_COLUMNS: tuple[str, ...] = tuple(column.name for column in Entry.__table__.columns)
