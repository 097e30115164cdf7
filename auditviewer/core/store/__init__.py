"""The local SQLite store: the connection and its pragmas, the schema and its migrations, the
entry writer that every import and sync goes through, file imports, the text index's upkeep, and
the translation of SQLite's environment errors into sentences."""
