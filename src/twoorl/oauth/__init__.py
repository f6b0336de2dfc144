"""OAuth2 for API clients: registered apps, authorization codes and bearer tokens."""
