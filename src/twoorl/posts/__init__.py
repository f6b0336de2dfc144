"""Posts: creating and deleting them, text rendering, permalinks and threads."""
