"""The entry table: its model (windows of rows read through the core), its view, and how a
row's values are shown."""
