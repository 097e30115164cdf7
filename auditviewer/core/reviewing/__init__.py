"""Reviews of the log: marks on entries (disposition, note, tags), reviews with a scope and a
sign-off, saved views, the context around an entry and the review report.

Everything here takes a :class:`~auditviewer.core.store.connection.Store` and returns plain
frozen records, for the command line and the window alike. Marks are stored beside the entries
(see :mod:`auditviewer.core.store.schema_reviews`), never in them.
"""
