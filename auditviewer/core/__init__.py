"""The Qt-free core: entries, the action reference, the store, import, queries, export."""
