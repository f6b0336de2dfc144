"""People: registration, login sessions, passwords, profiles and settings."""
