"""Request-scoped dependencies shared by the API and the dashboard: runtime and DB session."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from ringtrail.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    """The process runtime the app was built with."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_db(request: Request) -> Iterator[Session]:
    """A session for one request: committed if the handler returns, rolled back if it raises."""
    session = get_runtime(request).sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
