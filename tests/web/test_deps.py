"""A request's database session is committed before its response leaves.

A client that follows a redirect, or reads back what it has just written, must find it saved:
the sign-in redirect is followed at once by the browser, whose next request needs the session.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ringtrail.runtime import Runtime
from ringtrail.storage.models import UserSession
from ringtrail.web.app import create_app
from tests.conftest import World
from tests.web.dashboard.browser import log_in


def test_a_sign_in_is_saved_before_its_redirect_is_sent(runtime: Runtime, world: World) -> None:
    app = create_app(runtime)
    seen_at_response: list[int] = []

    async def watching(scope: Any, receive: Any, send: Any) -> None:
        async def send_watched(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and scope["method"] == "POST":
                with runtime.sessions() as other:  # another connection sees only what is committed
                    seen_at_response.append(other.scalar(select(func.count(UserSession.id))) or 0)
            await send(message)

        await app(scope, receive, send_watched)

    with TestClient(watching) as client:
        response = log_in(client)
    assert response.status_code == 303
    assert seen_at_response == [1]
