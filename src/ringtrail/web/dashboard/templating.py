"""Renders dashboard templates in the request's language, with what every page's layout needs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

from ringtrail.web.dashboard.csrf import FIELD_NAME, csrf_token
from ringtrail.web.dashboard.formatting import install_formatting
from ringtrail.web.dashboard.i18n import LANGUAGE_NAMES, Catalogs, choose_locale
from ringtrail.web.dashboard.identity import signed_in_user
from ringtrail.web.dashboard.redirects import current_path
from ringtrail.web.dashboard.security import secure
from ringtrail.web.dashboard.sessions import session_locale
from ringtrail.web.dashboard.sorting import sort_value

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_ROUTE = "dashboard-static"


def make_environment(catalogs: Catalogs, locale: str, directory: Path) -> Environment:
    """A Jinja environment speaking `locale`: autoescaped, strict about unknown variables."""
    environment = Environment(
        loader=FileSystemLoader(directory),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        auto_reload=False,
    )
    environment.policies["ext.i18n.trimmed"] = True
    environment.install_gettext_translations(  # type: ignore[attr-defined]
        catalogs.get(locale), newstyle=True
    )
    install_formatting(environment, locale, catalogs.get(locale).gettext)
    environment.globals["sort_value"] = sort_value
    return environment


def request_locale(request: Request, default: str) -> str:
    """The language this request's page is shown in."""
    user = signed_in_user(request)
    return choose_locale(
        query=request.query_params.get("lang"),
        user_locale=user.locale if user else None,
        session_locale=session_locale(request),
        accept_language=request.headers.get("accept-language"),
        default=default,
    )


class Templates:
    """One environment per language (compiled once), so concurrent requests never share state."""

    def __init__(self, catalogs: Catalogs, directory: Path = TEMPLATES_DIR) -> None:
        self.catalogs = catalogs
        self.environments = {
            locale: make_environment(catalogs, locale, directory)
            for locale in catalogs.translations
        }

    def template(self, locale: str, name: str) -> Template:
        """The template `name` in `locale`."""
        environment = (
            self.environments.get(locale) or self.environments[self.catalogs.default_locale]
        )
        return environment.get_template(name)

    def render(
        self,
        request: Request,
        name: str,
        context: Mapping[str, Any] | None = None,
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        """The page `name` as a secured HTML response in the request's language."""
        locale = request_locale(request, self.catalogs.default_locale)
        page: dict[str, Any] = {
            "request": request,
            "locale": locale,
            "languages": LANGUAGE_NAMES,
            "user": signed_in_user(request),
            "csrf_field_name": FIELD_NAME,
            "csrf_token": csrf_token(request),
            "current_path": current_path(request),
            "static": lambda path: request.app.url_path_for(STATIC_ROUTE, path=path),
            **(context or {}),
        }
        html = self.template(locale, name).render(page)
        response = HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))
        response.headers["Content-Language"] = locale
        response.headers["Cache-Control"] = "no-store"
        return secure(response)
