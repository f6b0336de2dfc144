"""Background work: a transactional outbox per shard, workers and the handler registry."""
