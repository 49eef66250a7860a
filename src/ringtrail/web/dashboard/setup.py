"""Mounts the dashboard on the app: session middleware, static files and page routes."""

from __future__ import annotations

from fastapi import FastAPI

from ringtrail.runtime import Runtime


def install_dashboard(app: FastAPI, runtime: Runtime) -> None:
    """Add the dashboard's middleware and routes to `app`."""
