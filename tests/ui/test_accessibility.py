"""A minimum accessibility check of the window and its dialogs: every control is reached by
Tab and shows that it has the focus, every control has a name a screen reader can say, and
nothing overlaps or is cut at 200 % scale."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAccessible
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLayout,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QTabBar,
    QTextEdit,
    QWidget,
)

from auditviewer.core.store.connection import Store
from auditviewer.ui.app import create_application
from auditviewer.ui.details.value_view import ValueView
from auditviewer.ui.dialogs.export_dialog import ExportDialog
from auditviewer.ui.main_window import MainWindow
from auditviewer.ui.settings import UiSettings
from tests.conftest import make_entry, write_json
from tests.support.fake_keyring import MemoryKeyring
from tests.ui.conftest import wait_for_aggregates

ROOT = Path(__file__).resolve().parents[2]
# The controls a keyboard user operates.
INTERACTIVE = (
    QAbstractButton,
    QLineEdit,
    QComboBox,
    QAbstractSpinBox,
    QAbstractItemView,
    QTabBar,
    QTextEdit,
    QPlainTextEdit,
)


def describe(widget: QWidget) -> str:
    """A widget as a failure message names it: its class, object name and text."""
    text = ""
    for getter in ("text", "placeholderText", "windowTitle"):
        value = getattr(widget, getter, None)
        if callable(value) and isinstance(value(), str) and value():
            text = value()
            break
    parent = widget.parentWidget()
    where = type(parent).__name__ if parent is not None else "-"
    return f"{type(widget).__name__}({widget.objectName()!r}, {text[:40]!r}) in {where}"


def is_part_of_another_control(widget: QWidget) -> bool:
    """The line edit of a spin box or combo box, a header of a table, a tab bar's scroll
    button, a disabled corner button: operated through the control they belong to."""
    parent = widget.parentWidget()
    if isinstance(parent, (QAbstractSpinBox, QComboBox, QTabBar)):
        return True
    if isinstance(widget, QHeaderView):
        return True
    return isinstance(parent, QAbstractItemView) and isinstance(widget, QAbstractButton)


def controls(root: QWidget) -> list[QWidget]:
    """The enabled, visible interactive controls of ``root`` (the window or a dialog)."""
    found = []
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, INTERACTIVE) or is_part_of_another_control(widget):
            continue
        if widget.window() is not root or not widget.isVisible() or not widget.isEnabled():
            continue
        found.append(widget)
    return found


def accessible_name(widget: QWidget) -> str:
    """What a screen reader says as the control's name."""
    interface = QAccessible.queryAccessibleInterface(widget)
    return interface.text(QAccessible.Text.Name) if interface is not None else ""


def unnamed(root: QWidget) -> list[str]:
    """The controls of ``root`` without an accessible name."""
    return [describe(w) for w in controls(root) if not accessible_name(w).strip()]


def activate(qtbot: Any, root: QWidget) -> None:
    root.show()
    root.raise_()
    root.activateWindow()
    qtbot.waitUntil(root.isActiveWindow, timeout=5_000)


def tab_walk(qtbot: Any, root: QWidget, limit: int = 300) -> list[QWidget]:
    """Presses Tab from the first control until the focus comes round again; the controls
    that had the focus, in order."""
    activate(qtbot, root)
    first = controls(root)[0]
    first.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None, timeout=5_000)
    start = QApplication.focusWidget()
    reached: list[QWidget] = [start]
    for _ in range(limit):
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        now = QApplication.focusWidget()
        if now is start or now is None:
            break
        if now not in reached:
            reached.append(now)
    return reached


def reached_as_a_group(widget: QWidget, reached: list[QWidget]) -> bool:
    """Radio buttons of one group, and the values of the details, are one Tab stop: the
    arrows move within the group (tested on their own)."""
    for kind in (QRadioButton, ValueView):
        if isinstance(widget, kind):
            return any(
                isinstance(other, kind) and other.parentWidget() is widget.parentWidget()
                for other in reached
            ) or (kind is ValueView and any(isinstance(other, kind) for other in reached))
    return False


def unreached(qtbot: Any, root: QWidget) -> list[str]:
    """The controls of ``root`` that Tab never reaches."""
    reached = tab_walk(qtbot, root)
    return [
        describe(widget)
        for widget in controls(root)
        if widget not in reached and not reached_as_a_group(widget, reached)
    ]


# --- the windows and dialogs ----------------------------------------------------------------


def show_entry(qtbot: Any, window: MainWindow, row: int = 1) -> None:
    """Selects an entry, so that its details are shown."""
    browser = window.browser
    assert browser is not None
    browser.table.selectRow(row)
    browser.show_details_now()
    wait_for_aggregates(qtbot, browser)


@pytest.fixture
def shown_window(qtbot: Any, window: MainWindow) -> MainWindow:
    """The main window at 1280×800 with entries shown and one selected."""
    window.resize(1280, 800)
    show_entry(qtbot, window)
    return window


@pytest.fixture
def welcome_window(qtbot: Any, tmp_path: Path) -> Iterator[MainWindow]:
    """A main window over an empty archive: its welcome view."""
    empty = tmp_path / "empty"
    empty.mkdir()
    Store.open(empty / "store.sqlite").close()
    settings = UiSettings(QSettings(str(empty / "ui.ini"), QSettings.Format.IniFormat))
    main = MainWindow(settings, view_folder=empty / "views")
    qtbot.addWidget(main)
    main.resize(1280, 800)
    main.show()
    assert main.open_store(empty / "store.sqlite")
    assert main.welcome is not None
    qtbot.waitUntil(main.welcome.isVisible, timeout=5_000)
    yield main
    main.close()


@pytest.fixture
def memory_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    yield
    keyring.set_keyring(previous)


def sync_dialog(qtbot: Any, window: MainWindow) -> QDialog:
    window.show_sync_dialog()
    assert window.sync_controller is not None
    dialog = window.sync_controller.dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible, timeout=5_000)
    return dialog


def export_dialog(qtbot: Any, window: MainWindow) -> QDialog:
    dialog = ExportDialog(3, 120, str(Path.home()), window)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def verify_dialog(qtbot: Any, window: MainWindow) -> QDialog:
    window.show_verify_dialog()
    dialog = window.verify_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=20_000)
    return dialog


def import_report(qtbot: Any, window: MainWindow) -> QDialog:
    store = window.store
    assert store is not None
    folder = Path(store.path).parent
    good = write_json(folder / "more.json", [make_entry(901), make_entry(902)])
    bad = folder / "broken.json"
    bad.write_text("[{", encoding="utf-8")
    window.import_files([good, bad])
    qtbot.waitUntil(lambda: window.report_dialog is not None, timeout=30_000)
    dialog = window.report_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible, timeout=5_000)
    return dialog


DIALOGS = {
    "sync": sync_dialog,
    "export": export_dialog,
    "verify": verify_dialog,
    "import report": import_report,
}


def screens(qtbot: Any, window: MainWindow, welcome: MainWindow) -> Iterator[tuple[str, QWidget]]:
    """Every window and dialog the check covers, each shown in turn."""
    yield "main window", window
    yield "welcome view", welcome
    for name, opener in DIALOGS.items():
        dialog = opener(qtbot, window)
        yield f"{name} dialog", dialog
        dialog.close()


# --- Tab ------------------------------------------------------------------------------------


def test_tab_reaches_every_control_of_the_window(qtbot: Any, shown_window: MainWindow) -> None:
    missing = unreached(qtbot, shown_window)
    assert not missing, "Tab never reaches: " + "; ".join(missing)


def test_tab_follows_the_screen_and_steps_over_the_rows(
    qtbot: Any, shown_window: MainWindow
) -> None:
    browser = shown_window.browser
    assert browser is not None
    order = tab_walk(qtbot, shown_window)
    assert order[0] is browser.filter_bar.search
    # The facets, then the entries (one stop however many rows), then the side panels.
    facets, table = order.index(browser.facets.tree), order.index(browser.table)
    assert table == facets + 1
    assert order[table + 1] is browser.side.tabBar()
    assert len(order) < 30


def test_welcome_view_controls_are_reached_by_tab(qtbot: Any, welcome_window: MainWindow) -> None:
    missing = unreached(qtbot, welcome_window)
    assert not missing, "Tab never reaches: " + "; ".join(missing)


@pytest.mark.parametrize("name", DIALOGS)
def test_tab_reaches_every_control_of_the_dialog(
    qtbot: Any, shown_window: MainWindow, memory_keyring: None, name: str
) -> None:
    dialog = DIALOGS[name](qtbot, shown_window)
    missing = unreached(qtbot, dialog)
    dialog.close()
    assert not missing, f"In the {name} dialog, Tab never reaches: " + "; ".join(missing)


def test_date_fields_let_tab_move_on(qtbot: Any, shown_window: MainWindow) -> None:
    browser = shown_window.browser
    assert browser is not None
    activate(qtbot, shown_window)
    controls_ = browser.controls
    for field in (controls_.from_picker, controls_.before_picker):
        field.setFocus(Qt.FocusReason.TabFocusReason)
        qtbot.waitUntil(field.hasFocus, timeout=5_000)
        QTest.keyClick(field, Qt.Key.Key_Tab)
        assert not field.hasFocus()


def test_details_values_are_one_tab_stop_walked_with_the_arrows(
    qtbot: Any, shown_window: MainWindow
) -> None:
    browser = shown_window.browser
    assert browser is not None
    details = browser.details
    views = details.value_views()
    assert len(views) > 15
    stops = [view for view in views if view.focusPolicy() & Qt.FocusPolicy.TabFocus]
    assert stops == [details.fields["time_utc"]]
    activate(qtbot, shown_window)
    stops[0].setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(stops[0].hasFocus, timeout=5_000)
    visited = [stops[0]]
    for _ in range(200):
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Down)
        now = QApplication.focusWidget()
        if now is not visited[-1]:
            visited.append(now)
    assert visited == views
    for _ in range(200):
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Up)
    assert QApplication.focusWidget() is views[0]
    # Tab leaves the values for the next control.
    QTest.keyClick(views[0], Qt.Key.Key_Tab)
    assert not isinstance(QApplication.focusWidget(), ValueView)


# --- a visible focus ------------------------------------------------------------------------


def invisible_focus(qtbot: Any, root: QWidget) -> list[str]:
    """The Tab stops of ``root`` that look the same with and without the keyboard focus."""
    stops = tab_walk(qtbot, root)
    elsewhere = QLineEdit()  # takes the focus away within the same window
    elsewhere.setParent(root)
    elsewhere.setGeometry(0, 0, 1, 1)
    elsewhere.show()
    same = []
    for widget in stops:
        widget.setFocus(Qt.FocusReason.TabFocusReason)
        qtbot.waitUntil(widget.hasFocus, timeout=5_000)
        # As after a Tab key: styles draw the focus frame of a button only then.
        root.setAttribute(Qt.WidgetAttribute.WA_KeyboardFocusChange, True)
        focused = widget.grab().toImage()
        elsewhere.setFocus(Qt.FocusReason.TabFocusReason)
        qtbot.waitUntil(elsewhere.hasFocus, timeout=5_000)
        unfocused = widget.grab().toImage()
        if focused == unfocused:
            same.append(describe(widget))
    elsewhere.deleteLater()
    return same


@pytest.fixture
def app_style(qapp: QApplication) -> QApplication:
    """The application set up as the viewer sets it up (its style included)."""
    return create_application()


def test_the_focus_is_visible_on_every_tab_stop(
    qtbot: Any,
    app_style: QApplication,
    shown_window: MainWindow,
    welcome_window: MainWindow,
    memory_keyring: None,
) -> None:
    problems = []
    for name, root in screens(qtbot, shown_window, welcome_window):
        problems += [f"{name}: {widget}" for widget in invisible_focus(qtbot, root)]
    assert not problems, "No visible focus on: " + "; ".join(problems)


# --- names ----------------------------------------------------------------------------------


def test_every_control_has_an_accessible_name(
    qtbot: Any, shown_window: MainWindow, welcome_window: MainWindow, memory_keyring: None
) -> None:
    problems = []
    for name, root in screens(qtbot, shown_window, welcome_window):
        assert controls(root), name
        problems += [f"{name}: {widget}" for widget in unnamed(root)]
    assert not problems, "No accessible name: " + "; ".join(problems)


def test_the_name_check_finds_a_control_without_a_name(qtbot: Any) -> None:
    root = QWidget()
    qtbot.addWidget(root)
    layout = QHBoxLayout(root)
    named, anonymous = QLineEdit(), QLineEdit()
    named.setAccessibleName("Organization")
    layout.addWidget(named)
    layout.addWidget(anonymous)
    layout.addWidget(QPushButton("Export"))  # its text is its name
    root.show()
    assert unnamed(root) == ["QLineEdit('', '') in QWidget"]


def test_the_reference_tab_and_the_view_banner_are_reached_and_named(
    qtbot: Any, shown_window: MainWindow, tmp_path: Path
) -> None:
    browser = shown_window.browser
    assert browser is not None
    browser.side.setCurrentWidget(browser.reference_panel)
    missing = unreached(qtbot, shown_window)
    assert not missing, "Tab never reaches: " + "; ".join(missing)
    assert not unnamed(shown_window)
    viewed = write_json(tmp_path / "colleague-export.json", [make_entry(1), make_entry(2)])
    assert shown_window.open_files([viewed])
    qtbot.waitUntil(lambda: bool(shown_window.viewed_files), timeout=20_000)
    qtbot.waitUntil(lambda: shown_window.browser is not None, timeout=20_000)
    qtbot.waitUntil(shown_window.banner.add_button.isVisible, timeout=5_000)
    missing = unreached(qtbot, shown_window)
    assert not missing, "Tab never reaches: " + "; ".join(missing)
    assert not unnamed(shown_window)


def test_the_sync_dialog_advanced_fields_are_reached_and_named(
    qtbot: Any, shown_window: MainWindow, memory_keyring: None
) -> None:
    dialog = sync_dialog(qtbot, shown_window)
    dialog.advanced_button.setChecked(True)  # type: ignore[attr-defined]
    missing = unreached(qtbot, dialog)
    names = unnamed(dialog)
    dialog.close()
    assert not missing, "Tab never reaches: " + "; ".join(missing)
    assert not names


# --- 200 % scale ----------------------------------------------------------------------------


def layout_widgets(layout: QLayout) -> list[QWidget]:
    """The widgets a layout places, its nested layouts' included."""
    found = []
    for index in range(layout.count()):
        item = layout.itemAt(index)
        if item is None:
            continue
        if item.widget() is not None:
            found.append(item.widget())
        elif item.layout() is not None:
            found += layout_widgets(item.layout())
    return found


def scrolled(widget: QWidget) -> bool:
    """Whether the widget is the content of a scroll area (it may be larger than its view)."""
    parent = widget.parentWidget()
    grand = parent.parentWidget() if parent is not None else None
    return isinstance(grand, QAbstractScrollArea) and grand.viewport() is parent


def layout_problems(root: QWidget) -> list[str]:
    """Widgets of ``root`` that reach past their parent, siblings of a layout that overlap,
    and buttons too small for their text, one line each."""
    problems = []
    shown = [root, *(w for w in root.findChildren(QWidget) if w.isVisible())]
    for widget in shown:
        if widget.window() is not root:
            continue
        parent = widget.parentWidget()
        inside = parent is None or scrolled(widget) or parent.rect().contains(widget.geometry())
        if widget is not root and not inside:
            problems.append(f"{describe(widget)} reaches past its parent")
        if isinstance(widget, QAbstractButton) and not isinstance(widget.parentWidget(), QTabBar):
            needed = widget.minimumSizeHint()
            if widget.width() < needed.width() or widget.height() < needed.height():
                problems.append(f"{describe(widget)} is too small for its text")
        layout = widget.layout()
        if layout is None:
            continue
        siblings = [w for w in layout_widgets(layout) if w.isVisible()]
        for index, first in enumerate(siblings):
            for second in siblings[index + 1 :]:
                if first.geometry().intersects(second.geometry()):
                    problems.append(f"{describe(first)} overlaps {describe(second)}")
    return problems


def check_layouts(grabs: Path | None = None) -> int:
    """Opens the window (entries shown, one selected), the sync and the export dialog, and
    prints what :func:`layout_problems` finds; saves grabs in ``grabs`` when given."""
    import tempfile

    from auditviewer.core.store.file_import import import_file
    from tests.ui.conftest import varied_entries

    app = create_application(["auditviewer"])
    folder = Path(tempfile.mkdtemp())
    keyring.set_keyring(MemoryKeyring())
    with Store.open(folder / "store.sqlite") as store:
        import_file(store, write_json(folder / "varied.json", varied_entries()))
    settings = UiSettings(QSettings(str(folder / "ui.ini"), QSettings.Format.IniFormat))
    window = MainWindow(settings, view_folder=folder / "views")
    window.resize(1280, 800)
    window.show()
    assert window.open_store(folder / "store.sqlite")
    browser = window.browser
    assert browser is not None
    browser.aggregates.refresh_now()
    while browser.aggregates.pending:
        app.processEvents()
    browser.table.selectRow(1)
    browser.show_details_now()
    settle(app)
    screens: dict[str, QWidget] = {"main-window": window}
    if grabs is not None:
        window.grab().save(str(grabs / "main-window.png"))
    window.show_sync_dialog()
    assert window.sync_controller is not None
    assert window.sync_controller.dialog is not None
    screens["sync-dialog"] = window.sync_controller.dialog
    export = ExportDialog(3, 120, str(folder), window)
    export.show()
    screens["export-dialog"] = export
    settle(app)
    problems = []
    for name, root in screens.items():
        problems += [f"{name}: {line}" for line in layout_problems(root)]
        if grabs is not None and root is not window:
            root.grab().save(str(grabs / f"{name}.png"))
    print("\n".join(problems))
    size = window.size()
    ratio = window.devicePixelRatio()
    print(f"window {size.width()}x{size.height()} at scale {ratio:g}", file=sys.stderr)
    for root in reversed(screens.values()):
        root.close()
    return 1 if problems else 0


def settle(app: QApplication) -> None:
    """Lets layouts, timers and background reads finish."""
    for _ in range(20):
        app.processEvents()
        QTest.qWait(25)


def test_the_layout_check_finds_overlaps_cut_buttons_and_strays(qtbot: Any) -> None:
    root = QWidget()
    qtbot.addWidget(root)
    layout = QHBoxLayout(root)
    first, second = QPushButton("Verify the whole store"), QLineEdit()
    layout.addWidget(first)
    layout.addWidget(second)
    stray = QLineEdit(root)
    root.resize(400, 100)
    root.show()
    qtbot.waitExposed(root)
    assert layout_problems(root) == []
    first.setFixedWidth(20)
    second.setGeometry(first.geometry().adjusted(5, 0, 40, 0))
    stray.setGeometry(380, 10, 100, 20)
    problems = "\n".join(layout_problems(root))
    assert "QPushButton('', 'Verify the whole store') in QWidget is too small" in problems
    assert "overlaps QLineEdit" in problems
    assert "reaches past its parent" in problems


def offscreen_screen(folder: Path, width: int, height: int) -> str:
    """The offscreen platform with one screen of ``width``×``height`` device pixels (its own
    is 800×600, which would shrink the window and dialogs at 200 %)."""
    config = folder / "screen.json"
    screen = {"name": "screen", "x": 0, "y": 0, "width": width, "height": height}
    config.write_text(
        json.dumps({"screens": [{**screen, "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}),
        encoding="utf-8",
    )
    return f"offscreen:configfile={config}"


@pytest.mark.slow
@pytest.mark.parametrize("scale", [1, 2])
def test_nothing_overlaps_or_is_cut_at_100_and_200_percent(tmp_path: Path, scale: int) -> None:
    """A 1280×800 screen at 100 %, and a 2560×1600 one at 200 % (1280×800 logical)."""
    platform = offscreen_screen(tmp_path, 1280 * scale, 800 * scale)
    env = {**os.environ, "QT_QPA_PLATFORM": platform, "QT_SCALE_FACTOR": str(scale)}
    result = subprocess.run(
        [sys.executable, "-m", "tests.ui.test_accessibility"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, f"At {scale * 100} %:\n{result.stdout}{result.stderr[-2000:]}"
    # The check ran on the screen it was meant for: the window is 1280×800 logical pixels.
    assert "window 1280x800 at scale " + str(scale) in result.stderr


if __name__ == "__main__":
    sys.exit(check_layouts(Path(sys.argv[1]) if len(sys.argv) > 1 else None))


def _mnemonic(text: str) -> str | None:
    """The letter after a single ``&`` of a menu text (``&&`` is a literal ampersand)."""
    stripped = text.replace("&&", "")
    at = stripped.find("&")
    return stripped[at + 1].casefold() if 0 <= at < len(stripped) - 1 else None


def _menu_clashes(menu: Any, path: str) -> list[str]:
    menu.aboutToShow.emit()  # menus filled when opened
    seen: dict[str, str] = {}
    clashes = []
    for action in menu.actions():
        if action.isSeparator() or not action.isVisible():
            continue
        letter = _mnemonic(action.text())
        if letter is not None:
            if letter in seen:
                clashes.append(f"{path}: {seen[letter]!r} and {action.text()!r} share {letter!r}")
            seen[letter] = action.text()
        if action.menu() is not None:
            clashes += _menu_clashes(action.menu(), f"{path} > {action.text()}")
    return clashes


def test_every_menu_item_has_a_letter_of_its_own(shown_window: MainWindow) -> None:
    """Alt+V, S: a letter shared by two items of one menu only cycles between them."""
    bar = shown_window.menuBar()
    letters = [_mnemonic(action.text()) for action in bar.actions()]
    assert None not in letters
    assert len(set(letters)) == len(letters), letters
    clashes = []
    for action in bar.actions():
        clashes += _menu_clashes(action.menu(), action.text())
    assert clashes == [], "\n".join(clashes)


def test_the_letter_check_finds_a_shared_letter(qtbot: Any) -> None:
    menu = QMenu("&Test")
    qtbot.addWidget(menu)
    menu.addAction("&Save")
    menu.addAction("&Sort")
    menu.addAction("Save && &Quit")
    assert _mnemonic("Save && &Quit") == "q"
    assert _menu_clashes(menu, "Test") == ["Test: '&Save' and '&Sort' share 's'"]
