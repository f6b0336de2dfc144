"""Demo data: many people, posts and follows written in bulk, exactly as the app would have
written them (``twoorl demo-data``; benchmarks call ``populate`` and ``bulk_follow``)."""

from twoorl.demo.service import bulk_follow, populate
from twoorl.demo.spec import DEMO_PASSWORD, DemoError, DemoSpec, DemoSummary, UsernamesTaken

__all__ = [
    "DEMO_PASSWORD",
    "DemoError",
    "DemoSpec",
    "DemoSummary",
    "UsernamesTaken",
    "bulk_follow",
    "populate",
]
