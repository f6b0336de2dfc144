"""Notifications: mentions, replies, follows, likes and reposts, on the recipient's shard."""
