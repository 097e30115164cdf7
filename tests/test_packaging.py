"""Fast checks of what the standalone build is made from: the spec, desktop files, the self-test.

The build itself (scripts/build, a minute or more) and the frozen app (scripts/check-frozen) run
in CI after the tests, not here.
"""

from __future__ import annotations

import ast
import configparser
import importlib.util
import io
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from auditviewer.selftest import CHECKS, run_self_test

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ROOT / "resources"
SPEC = ROOT / "build.spec"
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"
AUDIT_LOG_TYPE = "application/x-memfault-audit-log"


def spec_constant(name: str) -> Any:
    """The literal value the spec assigns to a top-level ``name``."""
    for node in ast.parse(SPEC.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"build.spec assigns no {name}")


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(RESOURCES / "auditviewer.desktop", encoding="utf-8")
    return parser["Desktop Entry"]


def test_spec_bundles_the_resources_folder_and_the_entry_script() -> None:
    text = SPEC.read_text(encoding="utf-8")
    ast.parse(text)
    assert '(str(ROOT / "resources"), "resources")' in text
    assert '"packaging" / "auditviewer_entry.py"' in text
    assert (ROOT / "packaging" / "auditviewer_entry.py").is_file()
    for name in (
        "actions.json",
        "sample-export.json",
        "icons/auditviewer.svg",
        "icons/auditviewer.png",
        "auditviewer.desktop",
        "auditviewer-mime.xml",
    ):
        assert (RESOURCES / name).is_file(), name


def test_spec_keeps_the_qt_plugins_the_app_needs() -> None:
    plugins = spec_constant("QT_PLUGINS")
    assert {"libqxcb.so", "libqwayland.so", "libqoffscreen.so"} <= plugins["platforms"]
    assert "libqsvg.so" in plugins["imageformats"]
    assert "libqsvgicon.so" in plugins["iconengines"]


def test_entry_script_calls_freeze_support_first() -> None:
    tree = ast.parse((ROOT / "packaging" / "auditviewer_entry.py").read_text(encoding="utf-8"))
    guard = next(node for node in tree.body if isinstance(node, ast.If))
    first = guard.body[0]
    assert isinstance(first, ast.Expr)
    assert ast.unparse(first.value) == "multiprocessing.freeze_support()"


def test_entry_script_hands_other_arguments_to_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location(
        "auditviewer_entry", ROOT / "packaging" / "auditviewer_entry.py"
    )
    assert spec is not None
    assert spec.loader is not None
    entry = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(entry)
    assert entry.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("auditviewer ")


def test_desktop_file_is_valid() -> None:
    validate = shutil.which("desktop-file-validate")
    if validate is None:
        pytest.skip("desktop-file-validate is not installed (Debian: desktop-file-utils)")
    result = subprocess.run(
        [validate, str(RESOURCES / "auditviewer.desktop")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_desktop_file_opens_audit_log_exports_with_the_icon() -> None:
    entry = desktop_entry()
    assert entry["Exec"] == "auditviewer %F"
    assert (RESOURCES / "icons" / f"{entry['Icon']}.svg").is_file()
    mime_types = entry["MimeType"].rstrip(";").split(";")
    assert AUDIT_LOG_TYPE in mime_types
    assert "application/json" in mime_types


def test_mime_type_is_a_kind_of_json_matched_by_name_and_content() -> None:
    root = ET.parse(RESOURCES / "auditviewer-mime.xml").getroot()
    (mime_type,) = root.findall(f"{MIME_NS}mime-type")
    assert mime_type.get("type") == AUDIT_LOG_TYPE
    assert mime_type.find(f"{MIME_NS}sub-class-of").get("type") == "application/json"  # type: ignore[union-attr]
    globs = {glob.get("pattern") for glob in mime_type.findall(f"{MIME_NS}glob")}
    assert "*audit-log*.json" in globs
    assert mime_type.find(f"{MIME_NS}magic") is not None


def test_icons_are_an_svg_and_a_256_pixel_png() -> None:
    svg = ET.parse(RESOURCES / "icons" / "auditviewer.svg").getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    png = (RESOURCES / "icons" / "auditviewer.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (256, 256)


@pytest.mark.qt_log_ignore("This plugin does not support")
def test_self_test_passes_against_the_source_tree(qapp: Any) -> None:
    del qapp  # the self-test uses the running QApplication
    out = io.StringIO()
    code = run_self_test(out)
    lines = out.getvalue().splitlines()
    assert code == 0, out.getvalue()
    assert len(lines) == len(CHECKS) + 1
    assert all(line.startswith("ok    ") for line in lines[:-1]), out.getvalue()
    assert lines[-1].startswith("self-test passed")


def test_pyproject_lists_every_package_of_the_source_tree() -> None:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "auditviewer").rglob("__init__.py")
    }
    assert found <= listed
    assert config["tool"]["setuptools"]["package-dir"]["auditviewer.resources"] == "resources"


def test_the_shipped_package_holds_no_test_code() -> None:
    """Nothing under auditviewer/ imports the tests or the benchmarks; the emulator is not in it."""
    offenders = []
    for path in (ROOT / "auditviewer").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [
                f"{path.relative_to(ROOT)}: {name}"
                for name in names
                if name.split(".")[0] in {"tests", "bench"}
            ]
    assert offenders == []
    assert not list((ROOT / "auditviewer").rglob("*emulator*"))
    assert importlib.util.find_spec("auditviewer.core.sync.emulator") is None
    assert importlib.util.find_spec("tests.support.emulator") is not None


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from the source tree, as ``pip wheel .`` builds it."""
    wheels = tmp_path_factory.mktemp("wheels")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
         "-w", str(wheels), str(ROOT)],
        check=True, capture_output=True, cwd=wheels,
    )  # fmt: skip
    (built,) = wheels.glob("auditviewer-*.whl")
    return built


@pytest.mark.slow
def test_an_installed_wheel_carries_its_resources(tmp_path: Path, wheel: Path) -> None:
    """The wheel, installed on its own (not the source tree), imports and exports."""
    python = sys.executable
    site = tmp_path / "site"
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    sample = site / "auditviewer" / "resources" / "sample-export.json"
    assert sample.is_file()
    script = (
        "import sys, auditviewer\n"
        f"assert auditviewer.__file__.startswith({str(site)!r}), auditviewer.__file__\n"
        "from auditviewer.cli import main\n"
        "store = sys.argv[1]\n"
        "codes = [main(['actions']), main(['--store', store, 'import', sys.argv[2]]),\n"
        "         main(['--store', store, 'query', '--format', 'json', 'unknown:yes']),\n"
        "         main(['--store', store, 'export', '--format', 'csv', '-o', store + '.csv'])]\n"
        "sys.exit(max(codes))\n"
    )
    result = subprocess.run(
        [python, "-c", script, str(tmp_path / "s.sqlite"), str(sample)],
        capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "artifact.create" in result.stdout
    assert '"unknown-action' in result.stdout
    assert (tmp_path / "s.sqlite.csv").read_text(encoding="utf-8").startswith("seq,id,time_utc")


def fresh_venv(folder: Path, wheel: Path) -> Path:
    """A new venv holding the wheel (its ``auditviewer`` command included); returns its bin.

    The tests run offline, so the venv borrows the dependencies (PySide6, SQLAlchemy, numpy,
    platformdirs) from the running environment's site-packages, read as a plain folder: the
    source tree's own editable install there is not picked up.
    """
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(folder)],
        check=True, capture_output=True,
    )  # fmt: skip
    python = folder / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    )  # fmt: skip
    dependencies = Path(importlib.util.find_spec("PySide6").origin).parents[1]  # type: ignore[arg-type,union-attr]
    (site / "borrowed-dependencies.pth").write_text(f"{dependencies}\n", encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    installed = subprocess.run(
        [str(python), "-c", "import auditviewer; print(auditviewer.__file__)"],
        check=True, capture_output=True, text=True, cwd=folder,
    ).stdout  # fmt: skip
    assert installed.startswith(str(site)), installed
    return folder / "bin"


def wait_for(condition: Any, seconds: float) -> bool:
    """Polls ``condition`` until it holds or ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return bool(condition())


@pytest.mark.slow
def test_quick_start_opens_the_sample_in_a_view_from_a_fresh_venv(
    tmp_path: Path, wheel: Path
) -> None:
    """README ▸ Quick start, as a newcomer runs it, with the wheel instead of the source tree:
    ``auditviewer resources/sample-export.json`` shows the sample in a view kept in the cache
    folder, adds nothing to the archive, and ends cleanly when asked to."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert ".venv/bin/auditviewer resources/sample-export.json" in quick_start
    bin_folder = fresh_venv(tmp_path / "venv", wheel)
    home = tmp_path / "home"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("XDG_", "AUDITVIEWER_", "PYTHON", "QT_"))
    }
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_RUNTIME_DIR=str(tmp_path),
        QT_QPA_PLATFORM="offscreen",
    )
    views = home / "cache" / "auditviewer" / "views"
    viewer = subprocess.Popen(
        [str(bin_folder / "auditviewer"), "resources/sample-export.json"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        shown = wait_for(
            lambda: viewer.poll() is not None or any(views.glob("*.sqlite")), seconds=60
        )
        time.sleep(1.5)  # the view opens in the window once its store is in place
        assert viewer.poll() is None, viewer.communicate()
        viewer.send_signal(signal.SIGTERM)
        _out, err = viewer.communicate(timeout=30)
    finally:
        if viewer.poll() is None:
            viewer.kill()
            viewer.communicate()
    assert shown
    assert viewer.returncode == 0, err
    assert "Traceback" not in err
    # The view is in the cache folder; the archive in the data folder was never created.
    assert len(list(views.glob("*.sqlite"))) == 1
    assert not (home / "data" / "auditviewer" / "store.sqlite").exists()
    # The window showed the entries (their table's layout was saved on close) and recorded the
    # sample as a recent file: it was the installed viewer's window, not a bare command.
    settings = (home / "config" / "auditviewer" / "auditviewer.conf").read_text(encoding="utf-8")
    assert "sample-export.json" in settings
    assert "columns" in settings.lower()
