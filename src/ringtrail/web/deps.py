"""Request-scoped dependencies shared by the API and the dashboard: runtime and DB session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from ringtrail.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    """The process runtime the app was built with."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_db(request: Request) -> Iterator[Session]:
    """A session for one request: committed if the handler returns, rolled back if it raises.

    Use it through `DbSession`, which commits before the response is sent."""
    session = get_runtime(request).sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


DbSession = Annotated[Session, Depends(get_db, scope="function")]
"""The request's database session. Scoped to the handler, so the commit happens before the
response leaves: a client that follows a redirect or reads back what it just wrote finds it
saved, and a failed commit is an error response rather than a success that was not kept."""
