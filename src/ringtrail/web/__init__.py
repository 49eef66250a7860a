"""Web entrypoint: the ASGI app serving the REST API, the dashboard and health checks."""
