"""REST API v1: JSON resources under /api/v1, authenticated by project or organisation API keys."""
