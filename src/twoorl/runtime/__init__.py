"""What every way into Twoorl shares: the running services (databases, caches, broker, job
worker), the use cases that a person's action sets off (``actions``), and the helpers HTTP
surfaces need (``http``). Pages (``web``), the Mastodon API (``api``), the command line and
the workers use this layer; none of them imports another."""
