"""The frozen app's entry script (build.spec): the ``auditviewer`` command line, plus checks.

``--self-test`` runs :func:`auditviewer.selftest.run_self_test` (headless, exit 0 if the build
works); ``--startup-probe`` times the viewer's start (packaging/measure_startup.py). Anything
else goes to :func:`auditviewer.cli.main`, so the frozen binary takes the package's CLI as is.
"""

from __future__ import annotations

import multiprocessing
import sys


def main(argv: list[str]) -> int:
    """Runs what ``argv`` (without the program name) asks for; returns the exit code."""
    if argv[:1] == ["--self-test"]:
        from auditviewer.selftest import run_self_test

        return run_self_test()
    if argv[:1] == ["--startup-probe"]:
        from auditviewer.selftest import run_startup_probe

        return run_startup_probe()
    from auditviewer.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    # First of all: in a frozen build, a process started with "spawn" (the import's parser,
    # auditviewer/core/reading/parse_process.py) is this same executable, and must run its task here
    # instead of a second copy of the app.
    multiprocessing.freeze_support()
    sys.exit(main(sys.argv[1:]))
