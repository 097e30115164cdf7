"""Writes an evidence pack: a folder a third party can check offline with standard tools.

The folder holds:

- ``entries.json``: the selected entries exactly as the JSON export writes them (the original
  texts, byte for byte), or redacted (see :mod:`auditviewer.core.exporting.redaction`);
- ``manifest.json``: who made the pack, when, from which store and query; each entry's seq,
  SHA-256 and length in the order written; the source files with their SHA-256 and import
  times; the store's id and entry chain head; the SHA-256 of the other files;
- ``manifest.sig``: the Ed25519 signature of ``manifest.json``, and ``pubkey.pem``;
- ``README.txt``: how to check the pack with ``sha256sum`` and ``openssl`` alone;
- ``SHA256SUMS``: every other file's SHA-256, as ``sha256sum -c`` reads it.

It is built in a hidden folder beside the target and renamed into place at the end: an
interrupted pack leaves nothing under the target name. A zip of the folder can be written too.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import time
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson

from auditviewer import __version__
from auditviewer.core.errors import ExportFailed, StoreError
from auditviewer.core.exporting.atomic import atomic_write, fsync_folder
from auditviewer.core.exporting.export import ExportCancelled, export_json
from auditviewer.core.exporting.redaction import Redactor
from auditviewer.core.packs.signing import SigningKey
from auditviewer.core.querying.filter import Filter
from auditviewer.core.querying.language import format_query
from auditviewer.core.querying.window import store_failure
from auditviewer.core.records import CancelToken, ProgressCallback, now_micros
from auditviewer.core.store.connection import Store
from auditviewer.core.store.custody import append_custody
from auditviewer.core.store.custody_log import EVIDENCE_PACK, entry_head, os_user, store_id
from auditviewer.core.timestamps import iso_utc

PACK_FORMAT: Final = "auditviewer evidence pack 1"
ENTRIES: Final = "entries.json"
MANIFEST: Final = "manifest.json"
SIGNATURE: Final = "manifest.sig"
PUBLIC_KEY: Final = "pubkey.pem"
README: Final = "README.txt"
SUMS: Final = "SHA256SUMS"
# The files SHA256SUMS lists, in its order.
SUMMED: Final = (ENTRIES, MANIFEST, SIGNATURE, PUBLIC_KEY, README)
SORT_ORDER: Final = "time, newest first"
# Where the manifest's entry list starts: the list comes last, after every other field.
ENTRY_LIST: Final = b',\n  "entries": ['

OPENSSL_VERIFY: Final = (
    f"openssl pkeyutl -verify -pubin -inkey {PUBLIC_KEY} -rawin -in {MANIFEST} -sigfile {SIGNATURE}"
)
OPENSSL_FINGERPRINT: Final = (
    f"openssl pkey -pubin -in {PUBLIC_KEY} -outform DER | tail -c 32 | sha256sum"
)


@dataclass(frozen=True, slots=True)
class PackReport:
    """What one evidence pack holds and where it went."""

    folder: Path
    zip_path: Path | None
    entries: int
    redacted: bool
    fingerprint: str
    # Where the signing key is kept, as a sentence (see SigningKey.where); and whether it
    # was made for this pack.
    key_where: str
    key_created: bool
    manifest_sha256: str
    entry_chain_head: str | None
    entry_chain_seq: int
    seconds: float
    # Whether the pack was recorded in the custody log (a read-only store cannot record it).
    logged: bool


@dataclass(slots=True)
class _Collected:
    """Each entry's seq, SHA-256 and length in the order written."""

    lines: list[str]
    seqs: list[int]

    def add(self, seqs: list[int], datas: list[bytes]) -> None:
        sha256 = hashlib.sha256
        self.seqs.extend(seqs)
        self.lines.extend(
            [
                f'{{"seq":{seq},"sha256":"{sha256(data).hexdigest()}","bytes":{len(data)}}}'
                for seq, data in zip(seqs, datas, strict=True)
            ]
        )


def write_evidence_pack(
    store: Store,
    folder: Path | str,
    *,
    key: SigningKey,
    filter: Filter | None = None,
    seqs: Iterable[int] | None = None,
    reviewer: str | None = None,
    review: Mapping[str, Any] | None = None,
    redactor: Redactor | None = None,
    make_zip: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    now: int | None = None,
) -> PackReport:
    """Writes the evidence pack of the selected entries (as :func:`export_json` selects them)
    into ``folder``, which must not exist or be empty; with ``make_zip`` also ``folder.zip``.

    ``reviewer`` is the name the person exporting gave; ``review`` a reference to the signed
    review the pack belongs to (plain JSON values), both written into the manifest. Raises
    :class:`ExportFailed` naming the folder, :class:`ExportCancelled`, or a
    :class:`StoreError` naming the store; the target is then untouched.
    """
    started = time.perf_counter()
    target = _checked_folder(store, Path(folder).expanduser())
    zip_path = target.with_name(target.name + ".zip") if make_zip else None
    if zip_path is not None and zip_path.exists():
        raise ExportFailed(f"{zip_path}: exists already; name a new folder for the pack")
    moment = now_micros() if now is None else now
    collected = _Collected([], [])
    with _building(target) as work:
        exported = export_json(
            store,
            work / ENTRIES,
            filter=filter,
            seqs=seqs,
            progress=progress,
            cancel=cancel,
            redactor=redactor,
            log=False,
            on_chunk=collected.add,
        )
        facts = _store_facts(
            store, collected.seqs, target, every_entry=filter is None and seqs is None
        )
        readme = _readme(key, exported.entries, redactor is not None, moment).encode("utf-8")
        pem = key.public_pem
        header = {
            "format": PACK_FORMAT,
            "tool": {"name": "auditviewer", "version": __version__},
            "created_utc": iso_utc(moment),
            "exporter": {"os_user": os_user(), "reviewer": reviewer},
            "review": dict(review) if review is not None else None,
            "query": format_query(filter) if filter is not None else "",
            "sort": SORT_ORDER,
            "count": exported.entries,
            "time_span": facts["time_span"],
            "byte_exact": redactor is None,
            "redaction": None if redactor is None else redactor.policy(),
            "store": facts["store"],
            "sources": facts["sources"],
            "signature": {
                "algorithm": "Ed25519",
                "public_key": PUBLIC_KEY,
                "fingerprint": key.fingerprint,
            },
            "files": {
                ENTRIES: {"sha256": exported.sha256, "bytes": exported.bytes_written},
                PUBLIC_KEY: {"sha256": hashlib.sha256(pem).hexdigest(), "bytes": len(pem)},
                README: {"sha256": hashlib.sha256(readme).hexdigest(), "bytes": len(readme)},
            },
        }
        manifest = _manifest_bytes(header, collected.lines)
        signature = key.sign(manifest)
        sums = {ENTRIES: exported.sha256}
        for name, data in (
            (MANIFEST, manifest),
            (SIGNATURE, signature),
            (PUBLIC_KEY, pem),
            (README, readme),
        ):
            _write(work / name, data)
            sums[name] = hashlib.sha256(data).hexdigest()
        _write(work / SUMS, "".join(f"{sums[n]}  {n}\n" for n in SUMMED).encode("ascii"))
        if cancel is not None and cancel.cancelled:
            raise ExportCancelled(f"{target}: export cancelled; the pack was not written")
    if zip_path is not None:
        _zip(target, zip_path)
    manifest_sha256 = sums[MANIFEST]
    logged = append_custody(
        store,
        EVIDENCE_PACK,
        {
            "folder": str(target.resolve()),
            "zip": None if zip_path is None else str(zip_path.resolve()),
            "entries": exported.entries,
            "query": header["query"],
            "files": sums,
            "fingerprint": key.fingerprint,
            "redacted": redactor is not None,
            "reviewer": reviewer,
            "review": header["review"],
        },
    )
    head = facts["store"]["entry_chain_head"]
    return PackReport(
        folder=target,
        zip_path=zip_path,
        entries=exported.entries,
        redacted=redactor is not None,
        fingerprint=key.fingerprint,
        key_where=key.where,
        key_created=key.created,
        manifest_sha256=manifest_sha256,
        entry_chain_head=head["sha256"],
        entry_chain_seq=head["seq"],
        seconds=time.perf_counter() - started,
        logged=logged is not None,
    )


def _checked_folder(store: Store, target: Path) -> Path:
    if not str(target).strip():
        raise ExportFailed("a folder name is needed for the evidence pack")
    if target.resolve() == store.path.resolve():
        raise ExportFailed(f"{target}: refusing to write a pack over the store itself")
    if target.exists():
        if not target.is_dir():
            raise ExportFailed(f"{target}: is a file; name a new or empty folder for the pack")
        if any(target.iterdir()):
            raise ExportFailed(
                f"{target}: the folder is not empty; name a new or empty folder for the pack"
            )
    if not target.parent.is_dir():
        raise ExportFailed(f"{target.parent}: no such folder; create it first")
    return target


@contextmanager
def _building(target: Path) -> Iterator[Path]:
    """A hidden folder beside ``target``, renamed to it when the block ends without error."""
    work = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
    try:
        work.mkdir()
    except OSError as exc:
        raise ExportFailed(
            f"{target}: cannot write the pack ({exc.strerror or exc}); nothing was written"
        ) from None
    try:
        yield work
        fsync_folder(work)
        if target.exists():
            target.rmdir()  # empty, checked before
        os.replace(work, target)
        fsync_folder(target.parent)
    except OSError as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise ExportFailed(
            f"{target}: cannot write the pack ({exc.strerror or exc}); nothing was written"
        ) from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _write(path: Path, data: bytes) -> None:
    with open(path, "xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _manifest_bytes(header: dict[str, Any], entry_lines: list[str]) -> bytes:
    """The manifest as JSON: the header indented, then one line per entry."""
    head = orjson.dumps(header, option=orjson.OPT_INDENT_2).rstrip()
    assert head.endswith(b"}")
    body = ",\n    ".join(entry_lines)
    tail = f"\n    {body}\n  ]\n}}\n" if entry_lines else "]\n}\n"
    return head[:-1].rstrip() + ENTRY_LIST + tail.encode("ascii")


def _store_facts(
    store: Store, seqs: list[int], target: Path, *, every_entry: bool
) -> dict[str, Any]:
    """The store's id and chain head, the entries' time span and their sources.

    ``every_entry``: the pack holds every entry up to the highest seq in ``seqs`` (no query).
    """
    try:
        with store.snapshot() as connection:
            head = entry_head(connection)
            if every_entry:
                spans = connection.execute(
                    "SELECT source_id, min(created_utc), max(created_utc) FROM entries "
                    "WHERE seq <= ? GROUP BY source_id",
                    (max(seqs, default=0),),
                ).fetchall()
            else:
                spans = connection.execute(
                    "SELECT source_id, min(created_utc), max(created_utc) FROM entries "
                    "WHERE seq IN (SELECT value FROM json_each(?)) GROUP BY source_id",
                    (json.dumps(seqs),),
                ).fetchall()
            firsts = [row[1] for row in spans if row[1] is not None]
            lasts = [row[2] for row in spans if row[2] is not None]
            first = min(firsts) if firsts else None
            last = max(lasts) if lasts else None
            sources = connection.execute(
                "SELECT id, kind, location, sha256, size_bytes, started_utc, finished_utc "
                "FROM sources WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
                (json.dumps([row[0] for row in spans]),),
            ).fetchall()
            identity = store_id(connection)
    except (sqlite3.Error, StoreError) as exc:
        raise store_failure(
            store, exc, f"nothing was exported and {target} was not touched"
        ) from None
    return {
        "time_span": {"first": iso_utc(first) or None, "last": iso_utc(last) or None},
        "store": {
            "id": identity,
            "file": str(store.path.resolve()),
            "entry_chain_head": {"seq": head.seq, "sha256": head.sha256},
        },
        "sources": [
            {
                "id": row[0],
                "kind": row[1],
                "location": row[2],
                "sha256": row[3],
                "bytes": row[4],
                "imported_utc": iso_utc(row[6] if row[6] is not None else row[5]),
            }
            for row in sources
        ],
    }


def _readme(key: SigningKey, entries: int, redacted: bool, moment: int) -> str:
    indent = "\n" + " " * 17
    what = (
        f"REDACTED copies of the entries:{indent}e-mail and IP addresses, actor names and "
        f'token names are{indent}replaced by pseudonyms (see "redaction" in {MANIFEST});'
        f"{indent}not the original texts"
        if redacted
        else f"the entries' original texts,{indent}byte for byte as the service delivered them"
    )
    digits = key.fingerprint.replace(" ", "")
    return f"""Evidence pack written by auditviewer {__version__} on {iso_utc(moment)[:19]}Z.

What is here
  {ENTRIES:<14} {entries:,} audit-log entries, newest first: {what}.
  {MANIFEST:<14} who made the pack, when, from which store and query; each entry's
                 seq and SHA-256 in order; the source files with their SHA-256.
  {SIGNATURE:<14} the Ed25519 signature of {MANIFEST}.
  {PUBLIC_KEY:<14} the public key that made it. Its fingerprint (SHA-256 of the raw
                 32-byte key) is
                   {key.fingerprint}
                 Compare it with the fingerprint the sender gave you another way.
  {SUMS:<14} the SHA-256 of every file above.

How to check it with standard tools, in this folder
  1. Every file is as written:
       sha256sum -c {SUMS}
  2. The manifest was signed with this key (OpenSSL 3.0 or newer; prints
     "Signature Verified Successfully"):
       {OPENSSL_VERIFY}
  3. The key is the sender's: this prints the fingerprint's digits,
     {digits}:
       {OPENSSL_FINGERPRINT}
  4. {ENTRIES} is the file the manifest describes: its SHA-256 (from step 1) is the one
     under "files" in {MANIFEST}.

With auditviewer, all of it at once, naming any altered, missing or extra file and
any entry whose hash differs:
  auditviewer verify-pack FOLDER --fingerprint "{key.fingerprint}"
"""


def _zip(folder: Path, zip_path: Path) -> None:
    """Writes ``folder`` as a zip (its files under the folder's name), atomically."""
    try:
        with (
            atomic_write(zip_path) as out,
            zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        ):
            for name in (*SUMMED, SUMS):
                archive.write(folder / name, f"{folder.name}/{name}")
    except OSError as exc:
        raise ExportFailed(
            f"{zip_path}: cannot write the zip ({exc.strerror or exc}); the folder "
            f"{folder} was written"
        ) from None
