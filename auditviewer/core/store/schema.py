"""The store's tables as typed SQLAlchemy models, for ordinary queries.

The tables themselves are created by the migrations in :mod:`.migrations`; a test
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
    """One stored entry's narrow row: time, flags, source and one term id per dimension."""

    __tablename__ = "entries"

    seq: Mapped[int] = mapped_column(primary_key=True)
    created_utc: Mapped[int | None]
    flags: Mapped[int]
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    action_term: Mapped[int | None]
    actor_term: Mapped[int | None]
    actor_key_term: Mapped[int | None]
    actor_type_term: Mapped[int | None]
    project_term: Mapped[int | None]
    entity_type_term: Mapped[int | None]
    entity_key_term: Mapped[int | None]
    ip_term: Mapped[int | None]
    user_agent_term: Mapped[int | None]


class EntryText(Base):
    """One stored entry's exact original text, hashes, chain link and rarely read fields."""

    __tablename__ = "entry_texts"

    seq: Mapped[int] = mapped_column(primary_key=True)
    entry_key: Mapped[str]
    source_index: Mapped[int]
    source_line: Mapped[int | None]
    raw_sha256: Mapped[bytes] = mapped_column(LargeBinary)
    content_sha256: Mapped[bytes] = mapped_column(LargeBinary)
    chain_sha256: Mapped[bytes] = mapped_column(LargeBinary)
    entity_name: Mapped[str | None]
    quarantine_reason: Mapped[str | None]
    raw: Mapped[str]


class Term(Base):
    """One value of a dimension and its id (the dictionary of the entries' columns)."""

    __tablename__ = "terms"

    dimension: Mapped[str] = mapped_column(primary_key=True)
    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[str]


class ColumnBlock(Base):
    """The narrow columns of the entries one transaction added, as one blob."""

    __tablename__ = "column_blocks"

    first_seq: Mapped[int] = mapped_column(primary_key=True)
    count: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)


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
