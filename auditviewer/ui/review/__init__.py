"""The window's review parts: the review bar, its dialogs, the Review menu's controller."""
