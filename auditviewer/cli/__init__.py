"""The command line: ``auditviewer [--store PATH] COMMAND ...``; without a command, the viewer.

Each command is a module with ``add_parser(subparsers)`` (registers its subparser with
``handler=run``) and ``run(args) -> int``. The modules only turn arguments into calls of
:mod:`auditviewer.core` and the core's errors into one-line messages; the logic lives in core.
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from auditviewer import __version__
from auditviewer.cli.common import PROGRAM, fail
from auditviewer.core.errors import AuditViewerError
from auditviewer.core.paths import (
    STORE_ENV,
    default_store_path,
    named_store_path,
    view_cache_folder,
)

# The commands, in the order ``--help`` lists them: ``<name>_command`` modules of this package
# (``-`` in a name is ``_`` in its module's).
# They are imported only when the parser is built, so that starting the viewer does not pay for
# the commands' imports (SQLAlchemy, httpx) before its window is shown.
COMMAND_NAMES: tuple[str, ...] = (
    "import",
    "query",
    "export",
    "stats",
    "actions",
    "verify",
    "sync",
    "verify-pack",
    "key",
    "log",
    "coverage",
    "review",
    "view",
)


def command_modules() -> tuple[ModuleType, ...]:
    """The command modules, imported now."""
    return tuple(
        importlib.import_module(f"auditviewer.cli.{name.replace('-', '_')}_command")
        for name in COMMAND_NAMES
    )


EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

EPILOG = f"""\
Without a command the viewer opens the archive. With only file paths (auditviewer
export.json ...) it shows the files in a view of their own, kept in the user cache folder:
nothing is added to the archive until you choose "Add to Archive" (the import command adds
files to it directly). Several files open as one view of all of them.

The store (the archive) is --store PATH, else ${STORE_ENV}, else store.sqlite in the user
data folder; the viewer opens the store last chosen in its File menu when none is named.

exit codes:
  {EXIT_OK}    success
  {EXIT_REJECTED}    rejected input: a file that is not a valid export, a malformed query, an
       export that could not be written, a store that cannot be used; verify or verify-pack
       found a mismatch
  {EXIT_USAGE}    usage error: unknown command or option, missing argument
  {EXIT_INTERRUPTED}  interrupted (Ctrl+C); nothing half-done is kept
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command of :data:`COMMAND_NAMES` registered."""
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description="Archive, search and export Memfault organization audit logs offline.",
        epilog=f"{EPILOG}\nViews of opened files are kept in {view_cache_folder()}; "
        "deleting them is safe.\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--store",
        type=Path,
        metavar="PATH",
        help=f"the store file (default: ${STORE_ENV}, else the user data folder)",
    )
    parser.add_argument("--version", action="version", version=f"{PROGRAM} {__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation headless (import, view, filter, export), then exit",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for command in command_modules():
        command.add_parser(subparsers)
    return parser


@dataclass(frozen=True, slots=True)
class GuiRequest:
    """The viewer was asked for: which store is the archive, and which files to view."""

    store: Path | None
    files: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class ViewerStart:
    """What the viewer starts with: the archive named (if any), the files to show in a view
    (never imported into the archive) and the folder views are kept in."""

    archive: Path | None
    view_files: tuple[Path, ...]
    view_folder: Path


def viewer_start(request: GuiRequest) -> ViewerStart:
    """Resolves the paths of a viewer request: ``--store``, else ``$AUDITVIEWER_STORE``."""
    archive = request.store if request.store is not None else named_store_path()
    return ViewerStart(archive, request.files, view_cache_folder())


def gui_request(argv: Sequence[str]) -> GuiRequest | None:
    """The viewer request ``argv`` makes, or None when it names a command (or is malformed).

    ``argv`` asks for the viewer when, besides ``--store PATH``, it is empty or starts with
    the path of an existing file; a command name always wins over a file of the same name.
    """
    store: Path | None = None
    positionals: list[str] = []
    items = iter(argv)
    for item in items:
        if item == "--store":
            value = next(items, None)
            if value is None:
                return None
            store = Path(value)
        elif item.startswith("--store="):
            store = Path(item.removeprefix("--store="))
        elif item.startswith("-") and item != "-" and not positionals:
            return None
        else:
            positionals.append(item)
    if positionals and (positionals[0] in COMMAND_NAMES or not Path(positionals[0]).is_file()):
        return None
    return GuiRequest(store, tuple(Path(p) for p in positionals))


def run_viewer(request: GuiRequest) -> int:
    """Starts the viewer (imported only now: the commands never load Qt)."""
    missing = [str(path) for path in request.files if not path.is_file()]
    if missing:
        return fail(f"{missing[0]}: no such file")
    from auditviewer.ui.display_check import display_problem

    problem = display_problem()
    if problem is not None:
        print(
            f"{PROGRAM}: the viewer cannot start: {problem}; the commands work without a "
            f"display, see {PROGRAM} --help",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        from auditviewer.ui.app import run_gui
    except ImportError as exc:
        print(
            f"{PROGRAM}: the viewer cannot start ({exc}); the commands work without it, "
            f"see {PROGRAM} --help",
            file=sys.stderr,
        )
        return EXIT_USAGE
    start = viewer_start(request)
    return int(run_gui(start.archive, list(start.view_files), start.view_folder))


def query_words_last(parser: argparse.ArgumentParser, argv: Sequence[str]) -> list[str]:
    """``argv`` with the QUERY words of a command that takes them moved behind ``--``.

    argparse takes every word that starts with ``-`` for an option, so a negated term such as
    ``-action:release.update`` would be refused as an unknown option. For ``query``, ``export``
    and any command with a QUERY, a word is an option only when it is one of the command's
    option names (``--format``, ``-o``; a long name may be shortened or carry ``=VALUE``) or
    starts with ``--``; every other word, with or without ``-``, is part of the query, in the
    order given. Words after a ``--`` of the user's stay query words.
    """
    arguments = list(argv)
    at = _command_index(arguments)
    if at is None:
        return arguments
    command = _command_parser(parser, arguments[at])
    if command is None or not any(action.dest == "query" for action in command._actions):
        return arguments
    options: list[str] = []
    words: list[str] = []
    rest = iter(arguments[at + 1 :])
    for item in rest:
        if item == "--":
            words.extend(rest)
        elif item.startswith("--") or item in command._option_string_actions:
            options.append(item)
            if "=" not in item and _takes_value(command, item):
                options.extend(itertools.islice(rest, 1))
        else:
            words.append(item)
    return [*arguments[: at + 1], *options, *(["--", *words] if words else [])]


def query_values_joined(argv: Sequence[str]) -> list[str]:
    """``argv`` with a ``--query`` value that starts with ``-`` joined to it (``--query=-x``).

    A query may begin with a negated term (``--query -action:release.update``), which argparse
    would take for an option and leave ``--query`` without its value. Words after a ``--`` of
    the user's are left alone.
    """
    arguments = list(argv)
    joined: list[str] = []
    index = 0
    while index < len(arguments):
        item = arguments[index]
        if item == "--":
            joined.extend(arguments[index:])
            break
        following = arguments[index + 1] if index + 1 < len(arguments) else None
        if item == "--query" and following is not None and _negated_term(following):
            joined.append(f"--query={following}")
            index += 2
            continue
        joined.append(item)
        index += 1
    return joined


def _negated_term(word: str) -> bool:
    """Whether ``word`` reads as a negated query term (``-action:x``), not an option."""
    return len(word) > 1 and word[0] == "-" and word[1] != "-"


def _command_index(arguments: list[str]) -> int | None:
    """Where the command name is in ``arguments`` (after the main options), if anywhere."""
    index = 0
    while index < len(arguments):
        item = arguments[index]
        if item in COMMAND_NAMES:
            return index
        if item == "--store":
            index += 1
        elif not item.startswith("-") or item == "--":
            return None
        index += 1
    return None


def _command_parser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found: argparse.ArgumentParser | None = action.choices.get(name)
            return found
    return None


def _takes_value(parser: argparse.ArgumentParser, option: str) -> bool:
    """Whether ``option`` (a name of ``parser``'s, or the start of a single one) has a value."""
    known = parser._option_string_actions
    action = known.get(option)
    if action is None:
        starting = {known[name] for name in known if name.startswith(option)}
        if len(starting) != 1:
            return False
        (action,) = starting
    return action.nargs != 0


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line and returns the exit code (see :data:`EPILOG`)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        if arguments[:1] == ["--self-test"]:
            from auditviewer.selftest import run_self_test

            return run_self_test()
        request = gui_request(arguments)
        if request is not None:
            return run_viewer(request)
        parser = build_parser()
        try:
            args = parser.parse_args(query_words_last(parser, query_values_joined(arguments)))
        except SystemExit as exc:  # --help, --version and usage errors
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE
        if args.command is None:
            return run_viewer(GuiRequest(args.store, ()))
        if args.store is None:
            args.store = default_store_path()
        return int(args.handler(args))
    except KeyboardInterrupt:
        print(f"{PROGRAM}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``| head``); what it wanted was written.
        _silence_stdout()
        return EXIT_OK
    except AuditViewerError as exc:
        return fail(str(exc))
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        return fail(f"{where}{exc.strerror or exc}")


def _silence_stdout() -> None:
    """Points stdout at the null device, so the interpreter's final flush cannot fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)
