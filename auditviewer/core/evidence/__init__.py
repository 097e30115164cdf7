"""Proving what the store holds: the hash chain, SQLite's own checks, the agreement of the
store's parts, and the index repair."""
