"""Writing selections out: JSON (the original texts) and CSV, atomically."""
