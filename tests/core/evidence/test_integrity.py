"""Verification recomputes every raw hash and the chain, and names the first entry that fails."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from auditviewer.core.evidence.hash_chain import VerifyCancelled, verify_store
from auditviewer.core.records import CancelToken, Progress
from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
from tests.conftest import make_entry, write_json


@pytest.fixture
def filled(store: Store, tmp_path: Path) -> Store:
    import_file(store, write_json(tmp_path / "a.json", [make_entry(n) for n in range(6)]))
    import_file(store, write_json(tmp_path / "b.json", [make_entry(n) for n in range(6, 10)]))
    return store


def _tamper(store: Store, *statements: str) -> None:
    """Edits the store file behind the app's back, as someone with a SQLite shell could."""
    connection = sqlite3.connect(store.path)
    try:
        for table in ("entries", "entry_texts"):
            connection.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_update")
            connection.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_delete")
        for statement in statements:
            connection.execute(statement)
        connection.commit()
    finally:
        connection.close()


def test_intact_store_verifies_with_its_chain_head(filled: Store) -> None:
    report = verify_store(filled)
    assert report.ok
    assert (report.entries, report.last_seq) == (10, 10)
    with filled.raw() as connection:
        (head,) = connection.execute(
            "SELECT chain_sha256 FROM entry_texts WHERE seq = 10"
        ).fetchone()
    assert report.chain_head == bytes(head).hex()


def test_empty_store_verifies(store: Store) -> None:
    report = verify_store(store)
    assert report.ok
    assert (report.entries, report.chain_head) == (0, None)


def test_edited_text_is_found(filled: Store) -> None:
    _tamper(filled, "UPDATE entry_texts SET raw = replace(raw, 'Jane', 'Joan') WHERE seq = 4")
    report = verify_store(filled)
    assert not report.ok
    assert report.problem is not None
    assert report.problem.seq == 4
    assert "does not match its SHA-256" in str(report.problem)
    assert report.entries == 3


def test_text_and_hash_edited_together_break_the_chain(filled: Store) -> None:
    _tamper(
        filled,
        "UPDATE entry_texts SET raw = '{}', raw_sha256 = "
        "X'44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a' WHERE seq = 7",
    )
    report = verify_store(filled)
    assert report.problem is not None
    assert report.problem.seq == 7
    assert "chain hash" in report.problem.reason


def test_removed_entry_is_found(filled: Store) -> None:
    _tamper(filled, "DELETE FROM entries WHERE seq = 5", "DELETE FROM entry_texts WHERE seq = 5")
    report = verify_store(filled)
    assert report.problem is not None
    assert report.problem.seq == 6
    assert "seq 5 missing" in report.problem.reason


def test_a_text_gone_while_its_entry_stays_is_damage_not_removal(filled: Store) -> None:
    _tamper(filled, "DELETE FROM entry_texts WHERE seq = 5")
    report = verify_store(filled)
    assert report.problem is not None
    assert report.problem.seq == 5
    assert "cannot be read" in report.problem.reason
    assert "entries table holds the seqs between" in report.problem.reason
    assert report.entries == 4


def test_progress_and_cancel(filled: Store) -> None:
    seen: list[Progress] = []
    verify_store(filled, progress=seen.append)
    assert seen[-1].done == seen[-1].total == 10
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(VerifyCancelled):
        verify_store(filled, cancel=cancel)
