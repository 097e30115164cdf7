"""Checks an evidence pack (:mod:`.pack`): every file, the signature, and every entry.

The check names each file that is altered, missing or not part of a pack, and checks the
signature of ``manifest.json`` with the included public key, or refuses a key other than the
one expected (``expected_key`` / ``expected_fingerprint``). A pack handed over as a .zip is
unpacked and checked here by :mod:`.pack_zip`. The signed manifest holds the
SHA-256 of ``entries.json``: when the file matches it, every entry is as signed; when it does
not, the entries are compared one by one with the manifest's list to name each entry that was
altered, moved (two entries swapped), removed or added.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, NamedTuple

import orjson

from auditviewer.core.errors import AuditViewerError
from auditviewer.core.packs.pack import (
    ENTRIES,
    ENTRY_LIST,
    MANIFEST,
    PUBLIC_KEY,
    SIGNATURE,
    SUMMED,
    SUMS,
)
from auditviewer.core.packs.signing import (
    SigningKeyError,
    fingerprint,
    load_public_key,
    normalize_fingerprint,
    signature_holds,
)
from auditviewer.core.records import CancelToken
from auditviewer.core.wording import counted

READ_BYTES: Final = 1 << 20
# Named one by one up to this many; the rest are counted.
MAX_NAMED: Final = 50
_SUM_LINE: Final = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")
_TOKENS: Final = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{},]')
_BLANKS: Final = re.compile(rb"[ \t\r\n]*")


class PackUnreadable(AuditViewerError):
    """The folder to check is not there or cannot be read."""


class PackCheckCancelled(AuditViewerError):
    """The user cancelled the check."""


@dataclass(frozen=True, slots=True)
class PackCheck:
    """What :func:`check_pack` found."""

    folder: Path
    problems: tuple[str, ...]
    entries: int
    fingerprint: str | None
    signature_valid: bool
    signer_pinned: bool
    byte_exact: bool | None

    @property
    def ok(self) -> bool:
        """Whether every file, the signature and every entry hold."""
        return not self.problems

    def summary(self) -> str:
        """One line on the outcome."""
        if not self.ok:
            found = len(self.problems)
            return f"{self.folder}: {found} problem{'s' if found != 1 else ''} found"
        kind = "original texts" if self.byte_exact else "redacted texts, not the originals"
        signer = (
            f"the expected key (fingerprint {self.fingerprint})"
            if self.signer_pinned
            else f"the included key, whose fingerprint is {self.fingerprint}; compare it with "
            "the one the sender gave you, or pin it with --fingerprint"
        )
        return (
            f"OK: {self.folder}: every file matches SHA256SUMS and the signed manifest, "
            f"{counted(self.entries, 'entry')} ({kind}) in order, each matching its SHA-256; "
            f"the signature is valid for {signer}"
        )


class _Expected(NamedTuple):
    seq: int
    sha256: str
    length: int = -1


def check_pack(
    folder: Path | str,
    *,
    expected_key: bytes | None = None,
    expected_fingerprint: str | None = None,
    cancel: CancelToken | None = None,
) -> PackCheck:
    """Checks the pack in ``folder``; raises :class:`PackUnreadable` when there is none (a
    .zip of a pack is checked by :func:`.pack_zip.check_pack_zip`)."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        if root.suffix.lower() == ".zip" and root.is_file():
            raise PackUnreadable(f"{root}: a .zip, not a folder; check it as a zip")
        what = "a file, not a folder" if root.exists() else "no such folder"
        raise PackUnreadable(f"{root}: {what}; name the folder of an evidence pack")
    problems: list[str] = []
    present = _files(root)
    required = (*SUMMED, SUMS)
    problems.extend(f"{name}: missing" for name in required if name not in present)
    problems.extend(
        f"{name}: extra file, not part of the pack" for name in sorted(present - set(required))
    )
    sums = _read_sums(root, present, problems)
    hashes: dict[str, str] = {}
    differing: dict[str, str] = {}  # name -> the SHA-256 that SHA256SUMS lists for it
    for name in SUMMED:
        if name in present:
            _check_cancel(cancel, root)
            hashes[name] = _sha256(root / name)
            listed = sums.get(name)
            if listed is None and SUMS in present:
                problems.append(f"{name}: not listed in {SUMS}")
            elif listed is not None and listed != hashes[name]:
                differing[name] = listed
    header = _manifest(root, present, problems, header_only=True)
    key_fingerprint, valid, pinned = _signature(
        root, present, header, problems, expected_key, expected_fingerprint
    )
    for name, listed in differing.items():
        # A file the signature or the signed manifest vouches for is intact: the list lies.
        vouched = valid and (
            name in (MANIFEST, SIGNATURE)
            or (header is not None and _signed_hash(header, name) == hashes[name])
        )
        problems.append(
            f"{SUMS}: altered: it lists {listed} for {name}, whose SHA-256 is {hashes[name]} "
            "as signed"
            if vouched
            else f"{name}: altered: its SHA-256 is {hashes[name]}, {SUMS} says {listed}"
        )
    entries = 0
    byte_exact: bool | None = None
    if header is not None:
        byte_exact = header.get("byte_exact") is True
        count = header.get("count")
        entries = count if isinstance(count, int) else 0
        _check_against_manifest(header, hashes, problems)
        signed_entries = _signed_hash(header, ENTRIES)
        if not valid or (ENTRIES in hashes and hashes[ENTRIES] != signed_entries):
            # The entry list is read only when it is needed to name what differs.
            _check_cancel(cancel, root)
            manifest = _manifest(root, present, problems, header_only=False)
            expected = [] if manifest is None else _expected_entries(manifest, problems)
            if manifest is not None and len(expected) != count:
                problems.append(f"{MANIFEST}: says {count} entries but lists {len(expected)}")
            if ENTRIES in hashes and hashes[ENTRIES] != signed_entries:
                problems.extend(entry_problems((root / ENTRIES).read_bytes(), expected))
    return PackCheck(root, tuple(problems), entries, key_fingerprint, valid, pinned, byte_exact)


def _check_cancel(cancel: CancelToken | None, root: Path) -> None:
    if cancel is not None and cancel.cancelled:
        raise PackCheckCancelled(f"{root}: check cancelled")


def _files(root: Path) -> set[str]:
    try:
        return {
            path.relative_to(root).as_posix()
            for path in root.rglob("*")
            if path.is_file() or path.is_symlink()
        }
    except OSError as exc:
        raise PackUnreadable(f"{root}: cannot read the folder ({exc.strerror or exc})") from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb", buffering=0) as handle:
            while block := handle.read(READ_BYTES):
                digest.update(block)
    except OSError as exc:
        raise PackUnreadable(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    return digest.hexdigest()


def _read_sums(root: Path, present: set[str], problems: list[str]) -> dict[str, str]:
    if SUMS not in present:
        return {}
    sums: dict[str, str] = {}
    text = (root / SUMS).read_bytes().decode("utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        match = _SUM_LINE.match(line)
        if match is None:
            problems.append(f"{SUMS}: line {number} is not a SHA-256 line")
            continue
        name = match.group(2)
        if name not in SUMMED:
            problems.append(f"{SUMS}: line {number} lists {name}, which is not part of the pack")
        sums[name] = match.group(1).lower()
    return sums


def _manifest(
    root: Path, present: set[str], problems: list[str], *, header_only: bool
) -> dict[str, Any] | None:
    """The manifest; with ``header_only`` without its entry list when the manifest is laid out
    as :mod:`.pack` writes it (the list last), which spares parsing a line per entry."""
    if MANIFEST not in present:
        return None
    data = (root / MANIFEST).read_bytes()
    if header_only:
        at = data.rfind(ENTRY_LIST)
        if at > 0:
            with contextlib.suppress(orjson.JSONDecodeError):
                value = orjson.loads(data[:at] + b"}")
                if isinstance(value, dict) and "entries" not in value:
                    return value
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        problems.append(f"{MANIFEST}: not valid JSON ({exc}); the entries cannot be checked")
        return None
    if not isinstance(value, dict):
        problems.append(f"{MANIFEST}: not a manifest; the entries cannot be checked")
        return None
    return value


def _signature(
    root: Path,
    present: set[str],
    manifest: dict[str, Any] | None,
    problems: list[str],
    expected_key: bytes | None,
    expected_fingerprint: str | None,
) -> tuple[str | None, bool, bool]:
    """Checks manifest.sig; returns the included key's fingerprint, validity, pinning."""
    pinned = expected_key is not None or expected_fingerprint is not None
    if PUBLIC_KEY not in present or SIGNATURE not in present or MANIFEST not in present:
        problems.append("the signature cannot be checked: a file it needs is missing")
        return None, False, pinned
    try:
        key = load_public_key((root / PUBLIC_KEY).read_bytes(), PUBLIC_KEY)
    except SigningKeyError as exc:
        problems.append(f"{exc}; the signature cannot be checked")
        return None, False, pinned
    included = fingerprint(key)
    wanted: str | None = None
    if expected_key is not None:
        wanted = fingerprint(load_public_key(expected_key, "the expected key"))
    elif expected_fingerprint is not None:
        wanted = normalize_fingerprint(expected_fingerprint)
    if wanted is not None and wanted != included:
        problems.append(
            f"{SIGNATURE}: the pack was signed with another key: the included key's "
            f"fingerprint is {included}, the expected signer's is {wanted}"
        )
    valid = signature_holds(key, (root / SIGNATURE).read_bytes(), (root / MANIFEST).read_bytes())
    if not valid:
        problems.append(
            f"{SIGNATURE}: the signature does not match {MANIFEST} with the included key "
            f"(fingerprint {included}): the manifest or the signature was altered"
        )
    stated = (manifest or {}).get("signature", {})
    if isinstance(stated, dict) and stated.get("fingerprint") not in (None, included):
        problems.append(
            f"{MANIFEST}: names the signing key {stated.get('fingerprint')}, but {PUBLIC_KEY} "
            f"is {included}"
        )
    return included, valid and (wanted is None or wanted == included), pinned


def _signed_hash(manifest: dict[str, Any], name: str) -> str | None:
    files = manifest.get("files")
    if not isinstance(files, dict) or not isinstance(files.get(name), dict):
        return None
    value = files[name].get("sha256")
    return value if isinstance(value, str) else None


def _check_against_manifest(
    manifest: dict[str, Any], hashes: dict[str, str], problems: list[str]
) -> None:
    files = manifest.get("files")
    if not isinstance(files, dict):
        problems.append(f"{MANIFEST}: lists no files")
        return
    for name in files:
        signed = _signed_hash(manifest, name)
        if name in hashes and signed != hashes[name]:
            problems.append(f"{name}: does not match the SHA-256 in the signed {MANIFEST}")


def _expected_entries(manifest: dict[str, Any], problems: list[str]) -> list[_Expected]:
    listed = manifest.get("entries")
    if not isinstance(listed, list):
        problems.append(f"{MANIFEST}: lists no entries")
        return []
    expected = []
    for item in listed:
        if isinstance(item, dict) and isinstance(item.get("seq"), int):
            length = item.get("bytes")
            expected.append(
                _Expected(
                    item["seq"],
                    str(item.get("sha256", "")),
                    length if isinstance(length, int) else -1,
                )
            )
        else:
            problems.append(f"{MANIFEST}: an entry record cannot be read ({item!r:.60})")
    return expected


# --- entries, one by one -------------------------------------------------------------------------


def entry_problems(data: bytes, expected: list[_Expected]) -> list[str]:
    """Names each entry of ``data`` (an entries.json) that differs from ``expected``."""
    spans = guided_spans(data, expected)
    if spans is None:
        return [f"{ENTRIES}: not a JSON array; no entry can be checked"]
    got = [hashlib.sha256(data[start:end]).hexdigest() for start, end in spans]
    want = [item.sha256 for item in expected]
    where = {digest: position for position, digest in enumerate(want)}
    held = {digest: position for position, digest in enumerate(got)}
    problems: list[str] = []
    matcher = difflib.SequenceMatcher(None, want, got, autojunk=False)
    for tag, want_from, want_to, got_from, got_to in matcher.get_opcodes():
        if tag == "equal":
            continue
        for offset, position in enumerate(range(got_from, got_to)):
            moved = where.get(got[position])
            if moved is not None:
                problems.append(
                    f"{ENTRIES}: entry seq {expected[moved].seq} is at position {position + 1}, "
                    f"the manifest puts it at {moved + 1} (entries moved or swapped)"
                )
            elif tag == "replace" and want_from + offset < want_to:
                item = expected[want_from + offset]
                problems.append(
                    f"{ENTRIES}: entry seq {item.seq} (position {position + 1}) was altered: "
                    "its SHA-256 differs from the manifest's"
                )
            else:
                problems.append(
                    f"{ENTRIES}: position {position + 1} holds an entry the manifest does not list"
                )
        replaced = got_to - got_from if tag == "replace" else 0
        for position in range(want_from + replaced, want_to):
            if want[position] not in held:
                problems.append(f"{ENTRIES}: entry seq {expected[position].seq} is missing")
    if len(got) != len(expected):
        problems.append(
            f"{ENTRIES}: holds {len(got):,} entries, the manifest lists {len(expected):,}"
        )
    if len(problems) > MAX_NAMED:
        more = len(problems) - MAX_NAMED
        problems = [*problems[:MAX_NAMED], f"{ENTRIES}: and {more:,} more problems with entries"]
    return problems


def guided_spans(data: bytes, expected: list[_Expected]) -> list[tuple[int, int]] | None:
    """The spans of the top-level elements of ``data``, laid out as the JSON export writes it.

    The manifest's lengths find each element directly while the layout holds (an entry with a
    byte flipped keeps its length); where an element is not where its length says, that one is
    found by scanning its strings and brackets, and the walk goes on from the manifest entry it
    matches.
    """
    if data.startswith(b"[]"):
        return []
    if not data.startswith(b"[\n"):
        return element_spans(data)
    where = {item.sha256: index for index, item in enumerate(expected)}
    spans: list[tuple[int, int]] = []
    position, index, size = 2, 0, len(data)
    while position < size:
        length = expected[index].length if index < len(expected) else -1
        end = position + length
        if length >= 0 and (data[end : end + 2] == b",\n" or data[end:] == b"\n]\n"):
            spans.append((position, end))
            index += 1
        else:
            found = _scan_element(data, position)
            if found is None:
                break
            start, end = found
            spans.append((start, end))
            digest = hashlib.sha256(data[start:end]).hexdigest()
            index = where.get(digest, index) + 1
        if data[end : end + 2] == b",\n":
            position = end + 2
            continue
        after = _next_element(data, end)
        if after is None:
            break
        position = after
    return spans


def _next_element(data: bytes, end: int) -> int | None:
    """Where the element after the one ending at ``end`` starts; None at the array's end."""
    at = _skip_blanks(data, end)
    if data[at : at + 1] != b",":
        return None
    return _skip_blanks(data, at + 1)


def _skip_blanks(data: bytes, at: int) -> int:
    match = _BLANKS.match(data, at)
    return at if match is None else match.end()


def _scan_element(data: bytes, position: int) -> tuple[int, int] | None:
    """The element starting at ``position`` (blanks skipped) up to its top-level ``,``/``]``."""
    depth = 0
    start: int | None = None
    for match in _TOKENS.finditer(data, position):
        first = data[match.start()]
        if start is None:
            start = (
                position
                + len(data[position : match.start()])
                - len(data[position : match.start()].lstrip(b" \t\r\n"))
            )
        if first in b"[{":
            depth += 1
        elif first in b"]}":
            if depth == 0:
                return _stripped(data, start, match.start())
            depth -= 1
        elif first == ord(",") and depth == 0:
            return _stripped(data, start, match.start())
    return None if start is None else _stripped(data, start, len(data))


def _stripped(data: bytes, start: int, end: int) -> tuple[int, int] | None:
    text = data[start:end]
    trimmed = text.rstrip(b" \t\r\n")
    return (start, start + len(trimmed)) if trimmed else None


def element_spans(data: bytes) -> list[tuple[int, int]] | None:
    """The byte spans of the top-level elements of a JSON array (without the whitespace around
    them), found from its strings and brackets; None when ``data`` is not an array."""
    start = len(data) - len(data.lstrip())
    if data[start : start + 1] != b"[":
        return None
    spans: list[tuple[int, int]] = []
    depth = 0
    element_start: int | None = None
    for match in _TOKENS.finditer(data, start):
        token = match.group()
        if token[0:1] == b'"':
            if depth == 1 and element_start is None:
                element_start = match.start()
            continue
        if token in (b"[", b"{"):
            depth += 1
            if depth == 2 and element_start is None:
                element_start = match.start()
        elif token in (b"]", b"}"):
            if depth == 1 and token == b"]":
                _close(data, spans, element_start, match.start())
                return spans
            depth -= 1
        elif token == b"," and depth == 1:
            _close(data, spans, element_start, match.start())
            element_start = None
    # Unterminated: take what was found.
    _close(data, spans, element_start, len(data))
    return spans


def _close(data: bytes, spans: list[tuple[int, int]], start: int | None, end: int) -> None:
    """Adds the element from ``start`` (or the first non-blank byte before ``end``) to ``end``."""
    previous_end = spans[-1][1] if spans else None
    if start is None:
        # An element without strings or brackets (a number, true, ...): from after the comma.
        begin = data.rfind(b",", 0, end) + 1 if previous_end is not None else data.find(b"[") + 1
        begin = max(begin, previous_end + 1 if previous_end is not None else 0)
        start = begin
    text = data[start:end]
    stripped = text.strip(b" \t\r\n")
    if not stripped:
        return
    offset = start + (len(text) - len(text.lstrip(b" \t\r\n")))
    spans.append((offset, offset + len(stripped)))
