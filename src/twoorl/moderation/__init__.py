"""Roles, suspension, spam flags and the audit log of what moderators did."""
