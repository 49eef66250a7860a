"""Tracking entrypoint: the public script (/t.js) and the endpoints it calls from browsers."""
