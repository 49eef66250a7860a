"""What can stop a dashboard request short: each carries the HTTP status the page is shown with."""

from __future__ import annotations


class DashboardError(Exception):
    """A request the dashboard answers with an error page instead of the page asked for."""

    status_code = 400
    kind = "bad_request"


class CsrfRejected(DashboardError):
    """An unsafe request without this session's CSRF token (forged, or from a stale page)."""

    status_code = 403
    kind = "csrf"


class PageNotFound(DashboardError):
    """Nothing here, or nothing this user may see (the two look the same on purpose)."""

    status_code = 404
    kind = "not_found"


class PageForbidden(DashboardError):
    """The user may see the project but their role does not allow this page or change."""

    status_code = 403
    kind = "forbidden"


class LoginRequired(DashboardError):
    """The page needs a signed-in user; answered by a redirect to the login form."""

    status_code = 303
    kind = "login"

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path
