"""Site statistics: per-day aggregates kept in the same transaction as the events they count."""
