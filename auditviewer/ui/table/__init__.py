"""The entry table: its model (windows of rows read through the core), its view, and how a
row's values are shown."""

# One name for one action: the Edit menu and the table's context menu say the same.
COPY_AS_JSON = "&Copy as JSON"
COPY_AS_JSON_TIP = "The selected entries' original texts, as a JSON array"
