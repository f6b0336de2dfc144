"""The HTML site: thin routers over the domain services, Jinja2 templates, static files."""
