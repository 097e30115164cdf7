"""``auditviewer verify-pack DIR``: checks an evidence pack's files, signature and entries."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from auditviewer.cli.common import fail, printable

NAME = "verify-pack"


def add_parser(subparsers: Any) -> None:
    """Registers ``verify-pack`` on the main parser's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        NAME,
        help="check an evidence pack: every file, the signature and every entry; exit 1 if not",
        description=(
            "Check an evidence pack written by export --evidence: every file against "
            "SHA256SUMS and the signed manifest, the manifest's Ed25519 signature, and "
            "entries.json entry by entry. Names each altered, missing or extra file and each "
            "entry whose SHA-256 differs or that moved. Without --key or --fingerprint the "
            "signature is checked with the key included in the pack, whose fingerprint is "
            "printed for you to compare with the sender's. A .zip of the pack is checked as "
            "it is: unpacked into a private temporary folder, where no member can reach "
            "outside it, and removed afterwards. Exits with 0 only when all holds. "
            "Needs no store."
        ),
    )
    parser.add_argument(
        "folder", metavar="PACK", help="the pack's folder, or the .zip holding it (--zip)"
    )
    pin = parser.add_mutually_exclusive_group()
    pin.add_argument(
        "--key",
        metavar="PUBKEY.pem",
        type=Path,
        help="the expected signer's public key (PEM); a pack signed with another key is refused",
    )
    pin.add_argument(
        "--fingerprint",
        metavar="HEX",
        help="the expected signer's key fingerprint (as auditviewer key prints it)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """0 when the pack holds, 1 with every problem listed."""
    from auditviewer.core.packs.pack_zip import check_folder_or_zip

    expected_key = None
    if args.key is not None:
        try:
            expected_key = args.key.read_bytes()
        except OSError as exc:
            return fail(f"{args.key}: cannot read the key ({exc.strerror or exc})")
    report = check_folder_or_zip(
        args.folder, expected_key=expected_key, expected_fingerprint=args.fingerprint
    )
    if report.ok:
        print(printable(report.summary()))
        return 0
    for problem in report.problems:
        print(printable(f"{report.folder}: {problem}"))
    if report.fingerprint is not None and report.signature_valid and not report.signer_pinned:
        print(f"The signature is valid for the included key, fingerprint {report.fingerprint}")
    more = len(report.problems) - 1
    others = f" ({more} more listed above)" if more else ""
    return fail(f"{report.folder}: {report.problems[0]}{others}; the pack does not hold")
