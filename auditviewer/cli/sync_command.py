"""``auditviewer sync``: fetches the organization's audit log from the vendor's API into the store.

The token comes from ``--token-env VAR``, else from the OS keyring, else from a hidden prompt (a
prompted token is then saved in the keyring once the server has accepted it). It is never echoed,
logged or put in a message.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from auditviewer.cli.common import ProgressLine, fail
from auditviewer.core.errors import AuditViewerError
from auditviewer.core.paths import default_store_path
from auditviewer.core.store.connection import Store
from auditviewer.core.sync import (
    DEFAULT_BASE_URL,
    DEFAULT_PATH_TEMPLATE,
    DEFAULT_PER_PAGE,
    SyncConfig,
    SyncError,
    SyncProgress,
    SyncReport,
    sync,
)
from auditviewer.core.sync.config import MAX_PER_PAGE
from auditviewer.core.sync.network import parse_proxy_url, resolve_proxy
from auditviewer.core.sync.token_store import TokenStore, account_name
from auditviewer.core.wording import counted

NAME = "sync"


def add_parser(subparsers: Any) -> None:
    """Registers ``sync`` on the main parser's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        NAME,
        help="fetch new audit-log entries from the Memfault API into the store",
        description=(
            "Fetch the organization's audit log from the Memfault API into the store. Only "
            "entries not yet stored are fetched; an interrupted sync resumes where it stopped. "
            "The Organization Auth Token is read from --token-env, else from the system keyring, "
            "else asked for (hidden) and then kept in the keyring."
        ),
    )
    parser.add_argument("--org", required=True, metavar="SLUG", help="organization slug")
    parser.add_argument("--project", metavar="SLUG", help="only this project's entries")
    parser.add_argument(
        "--base-url", default=DEFAULT_BASE_URL, metavar="URL", help=f"default {DEFAULT_BASE_URL}"
    )
    parser.add_argument(
        "--path",
        default=DEFAULT_PATH_TEMPLATE,
        metavar="TEMPLATE",
        help="endpoint path with {org} (default %(default)s)",
    )
    parser.add_argument(
        "--per-page",
        type=int,
        default=DEFAULT_PER_PAGE,
        metavar="N",
        help=f"entries per request, 1-{MAX_PER_PAGE} (default %(default)s)",
    )
    parser.add_argument(
        "--token-env",
        metavar="VAR",
        help="read the token from this environment variable (it is not saved)",
    )
    parser.add_argument(
        "--proxy",
        metavar="URL",
        help=(
            "the HTTP proxy, http://[USER@]HOST:PORT (default: $HTTPS_PROXY, else $ALL_PROXY, "
            "unless $NO_PROXY lists the host); a password in the URL is used, never saved"
        ),
    )
    parser.add_argument(
        "--ca-file",
        metavar="FILE",
        help=(
            "also trust the certificate authorities in this PEM file (a company's TLS "
            "inspection CA); the system's trust store is always used"
        ),
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="give up on an unanswered request after this long (default %(default)s)",
    )
    parser.set_defaults(handler=run)


class _SyncProgress:
    """A sync's progress on the shared progress line: pages on a terminal, waits everywhere."""

    def __init__(self, line: ProgressLine) -> None:
        self.line = line

    def __call__(self, progress: SyncProgress) -> None:
        if progress.phase == "waiting":
            self.line.show(progress.message, permanent=not self.line.enabled)
        elif progress.phase == "stored":
            self.line.show(
                f"page {progress.page}: {progress.parsed:,} received, {progress.imported:,} new, "
                f"{progress.duplicates:,} already stored"
            )

    def end(self) -> None:
        self.line.clear()


def _summary(report: SyncReport) -> str:
    return (
        f"{report.imported:,} new, {counted(report.duplicates, 'duplicate')}, "
        f"{counted(report.conflicts, 'conflict')}, {report.quarantined:,} quarantined; "
        f"{counted(report.pages, 'page')}, {counted(report.retries, 'retry', 'retries')}"
    )


def _token(args: argparse.Namespace, tokens: TokenStore, account: str) -> tuple[str | None, bool]:
    """The token and whether it was typed in (so it may be saved); (None, False) if none."""
    if args.token_env:
        value = os.environ.get(args.token_env, "")
        if not value:
            raise SyncError(f"the environment variable {args.token_env} is not set or empty")
        return value.strip(), False
    stored = tokens.load(account)
    if stored:
        return stored, False
    if not sys.stdin.isatty():
        raise SyncError(
            "no token: pass --token-env VAR, or run once in a terminal to type it in "
            "(it is then kept in the system keyring)"
        )
    typed = getpass.getpass(f"Organization Auth Token for {args.org} (input hidden): ")
    return (typed.strip() or None), True


def run(args: argparse.Namespace) -> int:
    """Runs ``auditviewer sync``; 0 on success, 1 on an error (one line on stderr)."""
    store_path = Path(getattr(args, "store", None) or default_store_path())
    config = SyncConfig(
        org=args.org,
        project=args.project,
        base_url=args.base_url,
        path_template=args.path,
        per_page=args.per_page,
        overlap=args.per_page,
        read_timeout=args.timeout,
        proxy=None,
        ca_file=args.ca_file,
    )
    progress = _SyncProgress(ProgressLine("sync"))
    try:
        proxy = None
        if args.proxy:
            proxy = parse_proxy_url(args.proxy, "--proxy")
            config = replace(config, proxy=proxy.setting_url())
        config = config.validated()
        proxy = resolve_proxy(config, password=None if proxy is None else proxy.password)
        if proxy.url is not None:
            print(f"auditviewer: connecting through the {proxy.describe()}", file=sys.stderr)
        tokens = TokenStore()
        account = account_name(config.base_url, config.org)
        token, typed = _token(args, tokens, account)
        if token is None:
            return fail("no token given")
        with Store.open(store_path) as store:
            try:
                report = sync(store, config, token, progress=progress, proxy=proxy)
            except SyncError as exc:
                progress.end()
                if typed and exc.report is not None and exc.report.accepted:
                    _save(tokens, account, token)
                fail(str(exc))
                if exc.report is not None and exc.report.pages:
                    print(
                        f"auditviewer: kept what was fetched ({_summary(exc.report)}); "
                        "run the same command again to resume",
                        file=sys.stderr,
                    )
                return 1
        progress.end()
        if typed and report.accepted:
            _save(tokens, account, token)
    except KeyboardInterrupt:
        progress.end()
        return fail("sync interrupted; every page stored so far is kept, run it again to resume")
    except (AuditViewerError, OSError) as exc:
        progress.end()
        return fail(str(exc))
    print(f"Synced {config.location} into {store_path}: {_summary(report)}")
    return 0


def _save(tokens: TokenStore, account: str, token: str) -> None:
    saved = tokens.save(account, token)
    print(f"auditviewer: {saved.message}", file=sys.stderr)
