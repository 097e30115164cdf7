"""The window's dialogs and pages: welcome, import report, export, sync (and the controller
that runs it), verify."""
