"""Every background job of the window: the runner, and the small job functions over core."""
