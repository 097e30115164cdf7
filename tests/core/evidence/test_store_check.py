"""The whole store check: SQLite's checks, damaged indexes and their rebuild, the parts' agreement.

Damage is made as it happens to real files: bytes flipped inside a page of a closed,
checkpointed store, or rows edited behind the app's back with a SQLite shell.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from auditviewer.core.errors import StoreError
from auditviewer.core.evidence.custody_check import CustodyCheck
from auditviewer.core.evidence.hash_chain import VerifyCancelled
from auditviewer.core.evidence.sqlite_check import Finding, Part
from auditviewer.core.evidence.store_check import check_store, rebuild_store_indexes
from auditviewer.core.records import CancelToken, Progress
from auditviewer.core.store.column_blocks import COLUMNS, decode, encode
from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_import import import_file
from tests.conftest import make_entry, write_json

ENTRIES = 3000


def _entry(number: int) -> dict[str, object]:
    group = ("cohort", "release", "project")[number % 3]
    return make_entry(
        number, action=f"{group}.update", ip_address=f"10.0.{number % 250}.{number % 7}"
    )


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed, checkpointed store whose index spans many pages (built once, copied per test)."""
    folder = tmp_path_factory.mktemp("pristine")
    store = Store.open(folder / "store.sqlite")
    try:
        import_file(store, write_json(folder / "a.json", [_entry(n) for n in range(ENTRIES)]))
    finally:
        store.close()
    return folder / "store.sqlite"


@pytest.fixture
def store_file(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "store.sqlite"
    copy.write_bytes(pristine.read_bytes())
    return copy


@pytest.fixture
def opened(store_file: Path) -> Iterator[Store]:
    store = Store.open(store_file)
    yield store
    store.close()


def flip_index_byte(path: Path, name: str) -> int:
    """Flips one byte inside a cell of a leaf page of ``name``; returns the page number."""
    connection = sqlite3.connect(path)
    try:
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        leaves = [
            row[0]
            for row in connection.execute(
                "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno",
                (name,),
            )
        ]
    finally:
        connection.close()
    assert len(leaves) > 3, f"{name} should span several pages"
    page = leaves[len(leaves) // 2]
    with path.open("r+b") as file:
        file.seek((page - 1) * page_size)
        data = bytearray(file.read(page_size))
        cell = int.from_bytes(data[12:14], "big")  # the third cell of the leaf
        data[cell + 6] ^= 0x01  # inside the cell's key, past its header
        file.seek((page - 1) * page_size)
        file.write(data)
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    return page


def _count(store: Store, sql: str) -> int:
    with store.raw() as connection:
        return int(connection.execute(sql).fetchone()[0])


def _tamper(path: Path, *statements: str) -> None:
    connection = sqlite3.connect(path)
    try:
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'trigger'"
        ).fetchall():
            connection.execute(f"DROP TRIGGER {name}")
        for statement in statements:
            connection.execute(statement)
        connection.commit()
    finally:
        connection.close()


def test_intact_store_passes_every_check(opened: Store) -> None:
    for full in (False, True):
        report = check_store(opened, full=full)
        assert report.ok, report.problems()
        assert report.text_index_skipped is None
        assert report.summary().startswith(f"OK: {ENTRIES:,} entries")


def test_empty_store_passes(store: Store) -> None:
    report = check_store(store, full=True)
    assert report.ok
    assert report.summary().startswith("OK: the store is empty")


def test_damaged_index_is_named_and_rebuilt(store_file: Path) -> None:
    key_lookup = "SELECT count(*) FROM entry_texts INDEXED BY entry_texts_key WHERE entry_key = ?"
    store = Store.open(store_file)
    with store.raw() as connection:
        keys = [row[0] for row in connection.execute("SELECT entry_key FROM entry_texts")]
    store.close()
    flip_index_byte(store_file, "entry_texts_key")
    store = Store.open(store_file)
    try:
        with store.raw() as connection:
            found = sum(connection.execute(key_lookup, (key,)).fetchone()[0] == 1 for key in keys)
        assert found < ENTRIES  # the damaged index gives wrong answers

        quick = check_store(store)
        assert not quick.ok
        assert quick.only_indexes_damaged
        assert [(f.part, f.name) for f in quick.findings] == [(Part.INDEX, "entry_texts_key")]
        assert "--rebuild-indexes" in quick.problems()[0]

        full = check_store(store, full=True)
        assert full.only_indexes_damaged
        assert {f.name for f in full.findings} == {"entry_texts_key"}
        assert any("missing from the index" in str(f) for f in full.findings)

        with store.raw() as connection:
            triggers = connection.execute(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'"
            ).fetchone()[0]
        assert triggers >= 8  # the append-only triggers do not stand in REINDEX's way
        rebuild_store_indexes(store)
        assert check_store(store, full=True).ok
        with store.raw() as connection:
            found = sum(connection.execute(key_lookup, (key,)).fetchone()[0] == 1 for key in keys)
        assert found == ENTRIES
    finally:
        store.close()


def test_damaged_term_index_is_named(store_file: Path) -> None:
    flip_index_byte(store_file, "sqlite_autoindex_terms_2")
    with Store.open(store_file) as store:
        report = check_store(store, full=True)
        assert report.only_indexes_damaged
        assert {f.name for f in report.findings} == {"sqlite_autoindex_terms_2"}
        rebuild_store_indexes(store)
        assert check_store(store, full=True).ok


def test_damaged_text_index_is_rebuilt_and_search_still_finds(opened: Store) -> None:
    with opened.raw() as connection:
        connection.execute(
            "UPDATE entries_fts_data SET block = substr(block, 1, length(block) / 2) "
            "WHERE id = (SELECT id FROM entries_fts_data WHERE id > 10 ORDER BY id LIMIT 1)"
        )
    report = check_store(opened)
    assert report.only_indexes_damaged
    assert report.text_index_damaged
    assert [(f.part, f.name) for f in report.findings] == [(Part.TEXT_INDEX, "entries_fts")]
    assert rebuild_store_indexes(opened) == ENTRIES
    assert check_store(opened).ok
    assert _count(opened, "SELECT count(*) FROM entries_fts WHERE entries_fts MATCH 'jane'") == (
        ENTRIES
    )


def test_page_damage_in_a_table_is_not_offered_a_rebuild(store_file: Path) -> None:
    connection = sqlite3.connect(store_file)
    page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    (root,) = connection.execute(
        "SELECT rootpage FROM sqlite_schema WHERE name = 'entries'"
    ).fetchone()
    connection.close()
    with store_file.open("r+b") as file:
        # The first cell pointer of the table's root page, pointed past the page's end.
        file.seek((root - 1) * page_size + 12)
        pointer = int.from_bytes(file.read(2), "big")
        file.seek((root - 1) * page_size + 12)
        file.write((pointer + page_size).to_bytes(2, "big"))
    with Store.open(store_file) as store:
        report = check_store(store)
    assert not report.ok
    assert not report.only_indexes_damaged
    first = report.findings[0]
    assert (first.part, first.name) == (Part.TABLE, "entries")
    assert str(first).startswith("table entries: page ")
    assert "backup" in report.advice()
    assert "hashes" in report.advice()


def test_entry_row_without_text_is_named(store_file: Path) -> None:
    _tamper(store_file, "DELETE FROM entries WHERE seq = 1234")
    with Store.open(store_file) as store:
        report = check_store(store)
    assert not report.ok
    assert report.disagreement == (
        "entry seq 1234 has its text but no row in the entries table (the only such entry)"
    )


def test_extra_entry_row_is_named(store_file: Path) -> None:
    _tamper(
        store_file,
        f"INSERT INTO entries (seq, created_utc, flags, source_id) VALUES ({ENTRIES + 1}, 0, 0, 1)",
    )
    with Store.open(store_file) as store:
        report = check_store(store)
    assert report.disagreement is not None
    assert report.disagreement.startswith(f"entry seq {ENTRIES + 1} has a row")


def test_row_that_differs_from_its_column_block_is_named(store_file: Path) -> None:
    _tamper(store_file, "UPDATE entries SET action_term = action_term + 1 WHERE seq = 2077")
    with Store.open(store_file) as store:
        report = check_store(store)
    assert not report.ok
    assert report.disagreement is not None
    assert report.disagreement.startswith("entry seq 2,077: its column block holds action '")


def test_edited_column_block_is_named(store_file: Path) -> None:
    connection = sqlite3.connect(store_file)
    first, count, blob = connection.execute(
        "SELECT first_seq, count, data FROM column_blocks ORDER BY first_seq DESC LIMIT 1"
    ).fetchone()
    connection.close()
    arrays = {name: array.copy() for name, array in decode(blob, count).items()}
    arrays[COLUMNS[1][0]][5] ^= 1  # flags of the block's sixth entry
    _tamper(
        store_file,
        f"UPDATE column_blocks SET data = X'{encode(arrays).hex()}' WHERE first_seq = {first}",
    )
    with Store.open(store_file) as store:
        report = check_store(store)
    assert report.disagreement is not None
    assert report.disagreement.startswith(f"entry seq {first + 5:,}: its column block holds flags")


def test_missing_column_block_is_named(store_file: Path) -> None:
    connection = sqlite3.connect(store_file)
    first, count = connection.execute(
        "SELECT first_seq, count FROM column_blocks ORDER BY first_seq LIMIT 1"
    ).fetchone()
    connection.close()
    _tamper(store_file, f"DELETE FROM column_blocks WHERE first_seq = {first}")
    with Store.open(store_file) as store:
        report = check_store(store)
    assert report.disagreement is not None
    assert report.disagreement.startswith(f"entries seq 1..{count:,} are in no column block")


def test_progress_and_cancel(opened: Store) -> None:
    seen: list[Progress] = []
    check_store(opened, progress=seen.append)
    assert seen[0].phase == "sqlite"
    assert {p.phase for p in seen} == {"sqlite", "verify", "compare", "indexes"}
    compared = [p for p in seen if p.phase == "compare"]
    assert compared[-1].done == compared[-1].total == ENTRIES
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(VerifyCancelled):
        check_store(opened, full=True, cancel=cancel)


def test_unreadable_texts_are_checked_up_to_the_damage(store_file: Path) -> None:
    connection = sqlite3.connect(store_file)
    page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    (page,) = connection.execute(
        "SELECT pageno FROM dbstat WHERE name = 'entry_texts' AND pagetype = 'leaf' "
        "ORDER BY pageno LIMIT 1 OFFSET 100"
    ).fetchone()
    connection.close()
    with store_file.open("r+b") as file:
        file.seek((page - 1) * page_size + 8)
        file.write(b"\xff\xff")  # the leaf's first cell now points outside the page
    with Store.open(store_file) as store:
        report = check_store(store)
    assert not report.ok
    assert not report.only_indexes_damaged
    assert report.chain is not None
    assert report.chain.problem is not None
    assert "cannot be read" in report.chain.problem.reason
    assert report.chain.entries == report.chain.problem.seq - 1 > 100
    assert "backup" in report.advice()


@pytest.mark.slow
def test_text_index_check_is_skipped_while_another_program_writes(opened: Store) -> None:
    writer = sqlite3.connect(opened.path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        report = check_store(opened)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert report.ok
    assert report.text_index_skipped is not None
    assert "another program is writing" in report.text_index_skipped
    assert "full-text index's check" not in report.summary()


def test_every_kind_of_problem_is_reported_not_only_the_first(store_file: Path) -> None:
    _tamper(
        store_file,
        "UPDATE entry_texts SET raw = raw || ' ' WHERE seq = 10",
        "DELETE FROM entry_texts WHERE seq = 11",
        "UPDATE entries SET created_utc = NULL WHERE seq = 20",
    )
    with Store.open(store_file) as store:
        report = check_store(store)
    problems = report.problems()
    assert len(problems) == 2
    assert problems[0].startswith("entry seq 10 ")
    assert problems[1] == (
        "the store's parts disagree: entry seq 11 has a row in the entries table but no text "
        "(the only such entry)"
    )


def test_values_swapped_between_two_entries_are_found(store_file: Path) -> None:
    connection = sqlite3.connect(store_file)
    seq, first, second = connection.execute(
        "SELECT a.seq, a.ip_term, b.ip_term FROM entries AS a JOIN entries AS b "
        "ON b.seq = a.seq + 1 WHERE a.seq >= 100 AND a.ip_term != b.ip_term LIMIT 1"
    ).fetchone()
    connection.close()
    _tamper(
        store_file,
        f"UPDATE entries SET ip_term = {second} WHERE seq = {seq}",
        f"UPDATE entries SET ip_term = {first} WHERE seq = {seq + 1}",
    )
    with Store.open(store_file) as store:
        report = check_store(store)
    assert report.disagreement is not None
    assert report.disagreement.startswith(f"entry seq {seq:,}: its column block holds ip address '")


@pytest.mark.slow
def test_rebuild_waits_for_another_writer_then_says_so(opened: Store) -> None:
    writer = sqlite3.connect(opened.path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreError, match="another program is writing to the store"):
            rebuild_store_indexes(opened)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert check_store(opened).ok


def test_index_damage_with_a_custody_finding_is_not_only_index_damage(opened: Store) -> None:
    intact = check_store(opened, log=False)
    broken_log = CustodyCheck(3, 2, ("custody record 2 was rewritten",))
    index_damage = Finding(Part.INDEX, "entries_created", "an entry is missing from it")
    assert replace(intact, findings=(index_damage,)).only_indexes_damaged
    both = replace(intact, findings=(index_damage,), custody=broken_log)
    assert not both.only_indexes_damaged
    assert not both.only_custody_findings
    only_log = replace(intact, custody=broken_log)
    assert only_log.only_custody_findings
    assert not only_log.ok
