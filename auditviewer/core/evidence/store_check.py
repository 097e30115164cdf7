"""The whole check of a store, as ``auditviewer verify`` and the viewer run it, and its repair.

In one read snapshot: SQLite's check of the file (:mod:`.sqlite_check`), the entries' hashes and
hash chain (:mod:`.hash_chain`), and the agreement of the store's parts (:mod:`.parts_check`);
then FTS5's check of the full-text index.
When only indexes are damaged, :func:`rebuild_store_indexes` repairs them.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from typing import Final

from auditviewer.core.errors import StoreError
from auditviewer.core.evidence.custody_check import CustodyCheck, check_custody
from auditviewer.core.evidence.hash_chain import VerifyCancelled, VerifyReport, verify_chain
from auditviewer.core.evidence.parts_check import PartsCancelled, parts_disagreement
from auditviewer.core.evidence.review_chain import ReviewChainReport, verify_review_chain
from auditviewer.core.evidence.sqlite_check import (
    CUSTODY_ADVICE,
    DAMAGE_ADVICE,
    REBUILD_ADVICE,
    Finding,
    Part,
    fts_finding,
    index_findings,
    rebuild_indexes,
    sqlite_findings,
)
from auditviewer.core.records import CancelToken, Progress, ProgressCallback
from auditviewer.core.store.connection import Store
from auditviewer.core.store.custody import append_custody
from auditviewer.core.store.custody_log import VERIFY
from auditviewer.core.store.text_index import build_fulltext

# The index on entry_texts (entry_key): see auditviewer.core.store.schema_v2.
KEY_INDEX: Final = "entry_texts_key"


@dataclass(frozen=True, slots=True)
class StoreCheckReport:
    """What :func:`check_store` found.

    ``chain`` is None when the texts could not be read at all (a finding says why);
    ``text_index_skipped`` says why the full-text index was not checked, if it was not.
    """

    full: bool
    findings: tuple[Finding, ...]
    chain: VerifyReport | None
    disagreement: str | None
    text_index_skipped: str | None = None
    # The custody log's chain and the entry heads it recorded (checkpoints).
    custody: CustodyCheck | None = None
    # Whether this check was recorded in the custody log (None: not asked to be).
    logged: bool | None = None
    # The review events' chain and the current marks (None when they could not be read).
    reviews: ReviewChainReport | None = None

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return (
            not self.findings
            and self.chain is not None
            and self.chain.ok
            and self.disagreement is None
            and (self.custody is None or self.custody.ok)
            and (self.reviews is None or self.reviews.ok)
        )

    @property
    def only_indexes_damaged(self) -> bool:
        """Whether everything wrong is in indexes, which :func:`rebuild_store_indexes` repairs."""
        return (
            bool(self.findings)
            and all(finding.part.repairable for finding in self.findings)
            and self.chain is not None
            and self.chain.ok
            and self.disagreement is None
            and (self.reviews is None or self.reviews.ok)
            and (self.custody is None or self.custody.ok)
        )

    @property
    def only_custody_findings(self) -> bool:
        """Whether only the custody log shows a change (a rewritten record, entries cut off the
        end, an expected head missing) while the entries that remain are intact."""
        return (
            self.custody is not None
            and not self.custody.ok
            and not self.findings
            and self.chain is not None
            and self.chain.ok
            and self.disagreement is None
        )

    @property
    def text_index_damaged(self) -> bool:
        """Whether the full-text index failed its check."""
        return any(finding.part is Part.TEXT_INDEX for finding in self.findings)

    def problems(self) -> list[str]:
        """Every problem found, one sentence each, SQLite's first."""
        lines = [str(finding) for finding in self.findings]
        if self.chain is not None and self.chain.problem is not None:
            lines.append(f"{self.chain.problem} ({self.chain.entries:,} entries checked before it)")
        if self.disagreement is not None:
            lines.append(f"the store's parts disagree: {self.disagreement}")
        if self.custody is not None:
            lines.extend(self.custody.problems)
        if self.reviews is not None and self.reviews.problem is not None:
            lines.append(
                f"{self.reviews.problem} ({self.reviews.events:,} review events checked before it)"
            )
        return lines

    def advice(self) -> str:
        """What to do about what was found, as one sentence ("" when the store is intact)."""
        if self.ok:
            return ""
        if self.only_indexes_damaged:
            return REBUILD_ADVICE
        if self.only_custody_findings:
            return CUSTODY_ADVICE
        return DAMAGE_ADVICE

    def summary(self) -> str:
        """One line on what was checked and the outcome."""
        checks = "SQLite's full integrity check" if self.full else "SQLite's quick check"
        if self.text_index_skipped is None:
            checks += " and the full-text index's check"
        if not self.ok:
            found = len(self.problems())
            return f"{found} problem{'s' if found != 1 else ''} found"
        chain = self.chain
        assert chain is not None
        custody = self._custody_summary()
        if chain.chain_head is None:
            return f"OK: the store is empty ({checks} passed{custody})"
        return (
            f"OK: {chain.entries:,} {'entry' if chain.entries == 1 else 'entries'}, every text "
            "matches its SHA-256 and the hash chain "
            f"is intact; the entries, texts and column blocks agree; {checks} passed{custody}; "
            f"chain head seq {chain.last_seq:,} sha256 {chain.chain_head}{self._reviews_summary()}"
        )

    def _reviews_summary(self) -> str:
        reviews = self.reviews
        if reviews is None or not reviews.events:
            return ""
        return (
            f"; {reviews.events:,} review events, their chain intact and the current marks "
            f"agreeing, head sha256 {reviews.chain_head}"
        )

    def _custody_summary(self) -> str:
        custody = self.custody
        if custody is None or not custody.records:
            return ""
        text = (
            f"; the custody log's {custody.records:,} records are intact and the "
            f"{custody.checkpoints:,} entry heads they recorded are all in the chain"
        )
        if custody.expected_head_found:
            text += f"; {custody.expected_head_found}"
        return text


def check_store(
    store: Store,
    *,
    full: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    expect_head: str | None = None,
    log: bool = True,
) -> StoreCheckReport:
    """Runs every check; raises :class:`VerifyCancelled` when ``cancel`` is set meanwhile.

    The custody log's chain and the entry heads it recorded are checked too, and
    ``expect_head`` (a chain head noted elsewhere, hex) must be in the chain. With ``log`` the
    check and its outcome are recorded in the custody log (:attr:`StoreCheckReport.logged`).
    """
    location = str(store.path)
    try:
        with store.snapshot() as connection:
            if progress is not None:
                progress(Progress(0, 0, 0, phase="sqlite"))
            findings = _sqlite_findings(connection, location, full, cancel)
            chain, disagreement = _chain_and_parts(connection, location, progress, cancel)
            if not full and not findings:
                if progress is not None:
                    progress(Progress(0, 0, 0, phase="indexes"))
                findings = _index_findings(connection, location, chain, cancel)
            if chain is None:
                findings.append(Finding(Part.FILE, "", "the entries' texts cannot be read"))
            custody = _custody(connection, expect_head)
            reviews = _review_chain(connection)
        text_index = _text_index_finding(store)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{location}: cannot read the store ({exc})") from None
    if isinstance(text_index, Finding):
        findings.append(text_index)
    report = StoreCheckReport(
        full=full,
        findings=tuple(findings),
        chain=chain,
        disagreement=disagreement,
        text_index_skipped=text_index if isinstance(text_index, str) else None,
        custody=custody,
        reviews=reviews,
    )
    return _logged(store, report) if log else report


def _custody(connection: sqlite3.Connection, expect_head: str | None) -> CustodyCheck | None:
    try:
        return check_custody(connection, expect_head=expect_head)
    except sqlite3.DatabaseError as exc:
        return CustodyCheck(0, 0, (f"the custody log cannot be read ({exc})",))


def _logged(store: Store, report: StoreCheckReport) -> StoreCheckReport:
    """Records the check and its outcome in the custody log."""
    chain = report.chain
    detail = {
        "ok": report.ok,
        "full": report.full,
        "problems": report.problems()[:5],
        "entries_checked": 0 if chain is None else chain.entries,
        "chain_head": None if chain is None else chain.chain_head,
    }
    if report.custody is not None and report.custody.expected_head is not None:
        detail["expected_head"] = report.custody.expected_head
    return replace(report, logged=append_custody(store, VERIFY, detail) is not None)


def rebuild_store_indexes(
    store: Store,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> int:
    """Rebuilds every index from its table, under the write lock; returns entries re-indexed.

    The full-text index is rebuilt too when it fails its check: emptied in the same
    transaction, then filled again in committed chunks (a cancelled build keeps what it did,
    and the next one continues). The WAL is checkpointed at the end. Raises
    :class:`StoreError` when a table cannot be read to rebuild its indexes (nothing changes).
    """
    try:
        with store.write() as connection:
            text_index = fts_finding(connection)
            rebuild_indexes(connection, text_index=text_index is not None)
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"{store.path}: the indexes cannot be rebuilt ({exc}); nothing was changed; "
            f"{DAMAGE_ADVICE}"
        ) from None
    indexed = 0
    if text_index is not None:
        indexed = build_fulltext(store, progress=progress, cancel=cancel)
    store.checkpoint()
    return indexed


def _sqlite_findings(
    connection: sqlite3.Connection, location: str, full: bool, cancel: CancelToken | None
) -> list[Finding]:
    try:
        return sqlite_findings(connection, full=full, cancel=cancel)
    except sqlite3.OperationalError as exc:
        raise _cancelled_or(exc, location, cancel) from None


def _index_findings(
    connection: sqlite3.Connection,
    location: str,
    chain: VerifyReport | None,
    cancel: CancelToken | None,
) -> list[Finding]:
    # The hash check read every (entry_key, seq) of entry_texts already: its digest spares
    # reading the whole table again.
    known = {KEY_INDEX: chain.key_digest} if chain is not None and chain.key_digest else {}
    try:
        return index_findings(connection, cancel=cancel, known=known)
    except sqlite3.OperationalError as exc:
        raise _cancelled_or(exc, location, cancel) from None


def _cancelled_or(
    exc: sqlite3.OperationalError, location: str, cancel: CancelToken | None
) -> BaseException:
    """A cancel interrupts SQLite's check (``interrupted``); any other error stays itself."""
    if cancel is not None and cancel.cancelled:
        return VerifyCancelled(f"{location}: verification cancelled")
    return exc


def _chain_and_parts(
    connection: sqlite3.Connection,
    location: str,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> tuple[VerifyReport | None, str | None]:
    try:
        chain = verify_chain(connection, location, progress=progress, cancel=cancel)
    except sqlite3.DatabaseError:
        return None, None
    # Texts 1..N when the chain checks out; otherwise the parts check reads their seqs.
    texts_upto = chain.entries if chain.ok else None
    try:
        return chain, parts_disagreement(connection, texts_upto, progress=progress, cancel=cancel)
    except PartsCancelled:
        raise VerifyCancelled(f"{location}: verification cancelled") from None
    except sqlite3.DatabaseError as exc:
        return chain, f"the entries cannot be compared with their texts ({exc})"


def _review_chain(connection: sqlite3.Connection) -> ReviewChainReport | None:
    """The review events' check; None when SQLite cannot read them (its own check says why)."""
    try:
        return verify_review_chain(connection)
    except sqlite3.DatabaseError:
        return None


def _text_index_finding(store: Store) -> Finding | str | None:
    """The full-text index's finding, None when it passes, or why it could not be checked."""
    if store.read_only:
        return (
            "the full-text index was not checked: its check needs write access to the store, "
            "though it changes nothing, and the store is read-only"
        )
    with store.raw() as connection:
        try:
            return fts_finding(connection)
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                why = "another program is writing to the store; check again when it has finished"
            elif "readonly" in str(exc) or "read-only" in str(exc):
                why = "its check needs write access to the store, though it changes nothing"
            else:
                why = str(exc)
            return f"the full-text index was not checked: {why}"
