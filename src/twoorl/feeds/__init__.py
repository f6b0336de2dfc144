"""Timelines as feeds: RSS 2.0 and Atom 1.0 (through feedgen) and JSON Feed 1.1.

``service`` gathers the entries of a feed from the timelines, ``render`` writes them in each
format, ``conditional`` answers "has it changed?" for conditional GET.

Feeds carry posts, never reposts: a person's feed is their own words, and a repost's words
are in the original author's feed already. The friends feed of @alice holds the posts of the
people alice follows (her home timeline without her own posts and without reposts).
"""

from twoorl.feeds.models import FORMATS, Feed, FeedEntry, FeedFormat

__all__ = ["FORMATS", "Feed", "FeedEntry", "FeedFormat"]
