"""Likes and reposts: the reactor's own record, the post's tally, and their counters."""
