"""The language switcher: remembers the choice in the session and on the user's account."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request, Response

from ringtrail.web.dashboard.errors import DashboardError
from ringtrail.web.dashboard.i18n import supported
from ringtrail.web.dashboard.identity import CurrentUser
from ringtrail.web.dashboard.redirects import safe_next_path, see_other
from ringtrail.web.dashboard.routing import dashboard_router
from ringtrail.web.dashboard.sessions import remember_locale

router = dashboard_router()


@router.post("/language")
def choose_language(
    request: Request,
    user: CurrentUser,
    locale: Annotated[str, Form()] = "",
    next_path: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    """Switch the dashboard's language and go back to the page the switch was made on."""
    chosen = supported(locale)
    if chosen is None:
        raise DashboardError("unknown language")
    remember_locale(request, chosen)
    if user is not None:
        user.locale = chosen
    return see_other(safe_next_path(next_path))
