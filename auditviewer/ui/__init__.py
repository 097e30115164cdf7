"""The Qt user interface over the core."""
