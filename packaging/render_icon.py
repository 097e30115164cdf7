"""Renders resources/icons/auditviewer.svg to the PNG beside it (run after editing the SVG).

The PNG is for what cannot read SVG: the window icon on some desktops, icon themes' fixed sizes.

    .venv/bin/python packaging/render_icon.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
SIZE = 256


def main() -> int:
    """Writes auditviewer.png (SIZE x SIZE) from auditviewer.svg."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(ICONS / "auditviewer.svg"))
    if not renderer.isValid():
        print("auditviewer.svg is not a valid SVG", file=sys.stderr)
        return 1
    image = QImage(SIZE, SIZE, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    saved = image.save(str(ICONS / "auditviewer.png"))
    del app
    return 0 if saved else 1


if __name__ == "__main__":
    raise SystemExit(main())
