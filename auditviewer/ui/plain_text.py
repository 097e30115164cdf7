"""Makes untrusted entry text safe to show: visible escapes, plain-text widgets, safe tooltips.

Entries are untrusted input. Every widget that shows entry text goes through this module:
control, bidi-override and other invisible characters are shown as ``\\u202e``-style escapes,
very long text is cut, and labels and message boxes are forced to ``Qt.PlainText`` (on AutoText
a label holding ``<img src="/dev/zero">`` takes the whole process down).
"""

from __future__ import annotations

import html
import re
import textwrap

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

# Characters that are invisible or change how the text around them is drawn: C0/C1 controls,
# format characters (bidi overrides and isolates, zero-width marks, soft hyphen, tag
# characters), surrogates and line/paragraph separators (Unicode categories Cc, Cf, Cs, Zl,
# Zp). A test checks this class against ``unicodedata`` over every code point.
_OTHER_INVISIBLE = (
    "\x7f-\x9f\xad"
    "\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f"
    "\ud800-\udfff\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_INVISIBLE = re.compile(f"[\x00-\x1f{_OTHER_INVISIBLE}]")
# The same, less line feed and tab, for multi-line views.
_INVISIBLE_KEEPING_LINES = re.compile(f"[\x00-\x08\x0b-\x1f{_OTHER_INVISIBLE}]")
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

ELLIPSIS = "…"
# Longest text put into a single-line cell, label or menu; the full value stays copyable.
LINE_LIMIT = 500
# Longest text put into a tooltip, and the longest line of one (about 60 em wide).
TOOLTIP_LIMIT = 600
TOOLTIP_LINE = 80


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    short = _SHORT_ESCAPES.get(char)
    if short is not None:
        return short
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def visible(text: object, limit: int | None = LINE_LIMIT) -> str:
    """The text as one line with invisible characters escaped, cut to ``limit`` characters."""
    value = "" if text is None else str(text)
    if limit is not None and len(value) > limit:
        value = value[:limit]
        escaped = _INVISIBLE.sub(_escape, value)
        return escaped + ELLIPSIS
    if _INVISIBLE.search(value) is None:
        return value
    return _INVISIBLE.sub(_escape, value)


def visible_multiline(text: object) -> str:
    """Like :func:`visible`, but keeps line breaks and tabs, and never cuts the text."""
    value = "" if text is None else str(text)
    if _INVISIBLE_KEEPING_LINES.search(value) is None:
        return value
    return _INVISIBLE_KEEPING_LINES.sub(_escape, value)


def menu_text(text: object, limit: int = 60) -> str:
    """Entry text for a menu or button label: escaped, short, and with ``&`` not a mnemonic."""
    return visible(text, limit).replace("&", "&&")


def tooltip_lines(text: object, limit: int = TOOLTIP_LIMIT) -> list[str]:
    """The lines a tooltip shows for ``text``: escaped, cut to ``limit`` characters (then ``…``)
    and wrapped at :data:`TOOLTIP_LINE` characters, breaking words that are longer."""
    value = "" if text is None else str(text)
    cut = len(value) > limit
    if cut:
        value = value[:limit]
    lines: list[str] = []
    for line in value.split("\n"):
        shown = visible(line, None)
        lines.extend(
            textwrap.wrap(shown, TOOLTIP_LINE, break_on_hyphens=False, replace_whitespace=False)
            or [""]
        )
    if cut:
        lines[-1] += ELLIPSIS
    return lines


def safe_tooltip(text: object, limit: int = TOOLTIP_LIMIT) -> str:
    """A tooltip that shows ``text`` literally, wrapped and at most ``limit`` characters long.

    Qt guesses whether a tooltip is rich text and offers no plain-text switch, so the text is
    HTML-escaped inside an explicit rich-text wrapper: tags in it are shown, never interpreted.
    The lines are broken here: a tooltip does not wrap a long word, and would run across the
    screen.
    """
    escaped = "<br>".join(html.escape(line, quote=True) for line in tooltip_lines(text, limit))
    return f"<qt><span style='white-space:pre'>{escaped}</span></qt>"


def plain_label(
    text: object = "", parent: QWidget | None = None, *, limit: int | None = None
) -> QLabel:
    """A QLabel that can never interpret its text as rich text."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(visible(text, limit) if limit is not None else str(text))
    return label


def plain_message_box(
    parent: QWidget | None,
    icon: QMessageBox.Icon,
    title: str,
    text: str,
) -> QMessageBox:
    """A message box forced to plain text.

    Everything goes into the main text: the informative and detailed texts have no format
    switch of their own, so untrusted text never goes there.
    """
    box = QMessageBox(parent)
    box.setIcon(icon)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setWindowTitle(visible(title, 120))
    box.setText(text)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    return box
