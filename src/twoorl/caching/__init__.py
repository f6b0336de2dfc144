"""Per-process caches of what the read model loads, kept right by a change feed."""
