"""Timelines: fan-in reads across shards, the k-way merge, paging."""
