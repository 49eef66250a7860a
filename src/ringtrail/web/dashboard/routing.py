"""The dashboard's route class and router: CSRF on every write, error pages, security headers."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from ringtrail.web.dashboard.csrf import verify_csrf
from ringtrail.web.dashboard.errors import DashboardError, LoginRequired, PageNotFound
from ringtrail.web.dashboard.redirects import login_url, see_other
from ringtrail.web.dashboard.security import secure
from ringtrail.web.dashboard.state import dashboard_of

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def error_page(request: Request, error: DashboardError) -> Response:
    """The page shown for `error`: a redirect to the login form, or an error page."""
    if isinstance(error, LoginRequired):
        return secure(see_other(login_url(error.next_path)))
    return dashboard_of(request).templates.render(
        request,
        "error.html",
        {"kind": error.kind, "status_code": error.status_code},
        status_code=error.status_code,
    )


class DashboardRoute(APIRoute):
    """A route whose answers, error pages included, carry the dashboard's security headers."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def dashboard_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except DashboardError as error:
                response = error_page(request, error)
            except RequestValidationError as error:
                in_path = any(item.get("loc", ("",))[0] == "path" for item in error.errors())
                response = error_page(request, PageNotFound() if in_path else DashboardError())
            return secure(response)

        return dashboard_handler


def dashboard_router() -> APIRouter:
    """A router for dashboard pages: hidden from the API schema, CSRF checked on writes."""
    return APIRouter(
        route_class=DashboardRoute,
        include_in_schema=False,
        dependencies=[Depends(verify_csrf)],
    )
