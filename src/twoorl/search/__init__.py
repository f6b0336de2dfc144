"""Finding people, posts and hashtags across every shard."""
