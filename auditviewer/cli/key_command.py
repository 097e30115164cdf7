"""``auditviewer key``: the evidence signing key's fingerprint and where it is kept."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from auditviewer.cli.common import printable

NAME = "key"


def add_parser(subparsers: Any) -> None:
    """Registers ``key`` on the main parser's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        NAME,
        help="show the fingerprint of the key that signs evidence packs (made on first use)",
        description=(
            "Print the fingerprint of the Ed25519 key that signs evidence packs (the SHA-256 "
            "of the raw public key), and where its private half is kept: the system keyring, "
            "or where none is available a file readable by you only. The key is made the "
            "first time it is needed. Give the fingerprint to the recipients of your packs "
            "another way than the packs themselves."
        ),
    )
    parser.add_argument(
        "--public",
        metavar="FILE",
        type=Path,
        help="also write the public key (PEM) to FILE",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Prints the fingerprint and where the key is kept."""
    from auditviewer.core.exporting.atomic import atomic_write
    from auditviewer.core.packs.signing import signing_key
    from auditviewer.core.paths import default_signing_key_path

    key = signing_key(default_signing_key_path())
    made = "a new key was made; " if key.created else ""
    print(f"Fingerprint: {key.fingerprint}")
    print(printable(f"Note: {made}{key.where}"))
    if args.public is not None:
        with atomic_write(args.public) as out:
            out.write(key.public_pem)
        print(printable(f"Public key written to {args.public}"))
    return 0
