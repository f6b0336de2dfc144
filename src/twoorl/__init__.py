"""Twoorl: an open-source microblogging service."""

__version__ = "0.1.0"
