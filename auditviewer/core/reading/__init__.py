"""Bytes to entries: the streaming JSON reader, strict decoding, field names, normalising and
hashing, and the parsing process. Knows nothing of the store."""
