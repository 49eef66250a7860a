"""Test helper: the route walk's map of the app: public routes and why, what the rest need.

Every route of the app is either public (PUBLIC_PATHS, PUBLIC_PREFIXES: each with the reason it
needs no credentials) or classified here: its surface (API or dashboard), what it reaches (a
project named in the path or the query, or only the caller's own organisation or account) and
the permission of `domain/roles.py` its method needs, found from the resource it serves. A
route under a known resource is covered without another line; a new resource, path parameter
or top-level path must be added here before the walk passes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import fastapi.routing
from fastapi import FastAPI
from starlette.routing import Mount

from ringtrail.domain.roles import Permission
from ringtrail.web.dashboard.routing import DashboardRoute

P = Permission


class Surface(StrEnum):
    """Who a route answers: API keys, or signed-in browsers."""

    API = "api"
    DASHBOARD = "dashboard"


class Scope(StrEnum):
    """What a route reaches, which decides what another tenant must get."""

    PROJECT = "a project named in the path"
    PROJECT_QUERY = "a project named in the query"
    OWN = "the caller's own organisation or account"


@dataclass(frozen=True)
class Rule:
    """The permissions a resource's routes need: to read, to write and, when stronger, to delete.

    `subpaths` says whether routes below the resource (`/numbers/{id}/...`) follow the same
    rule; `org_key` whether writes need an organisation-wide API key.
    """

    read: Permission
    write: Permission | None = None
    delete: Permission | None = None
    scope: Scope = Scope.PROJECT
    subpaths: bool = True

    def needs(self, method: str) -> Permission | None:
        """The permission `method` needs here (None: the resource takes no such method)."""
        if method == "GET":
            return self.read
        if method == "DELETE" and self.delete is not None:
            return self.delete
        return self.write


PUBLIC_PATHS: dict[str, str] = {
    "/openapi.json": "the API's schema; describes routes, holds no tenant data",
    "/docs": "the API's documentation page",
    "/docs/oauth2-redirect": "part of the API's documentation page",
    "/redoc": "the API's documentation page",
    "/docs/assets": "the API documentation page's scripts and styles",
    "/t.js": "the tracking script every visitor's browser loads",
    "/f.js": "the forms script /t.js loads for projects that track forms",
    "/w.js": "the callback widget script /t.js loads for projects that switched it on",
    "/i.js": "the intent script /t.js loads for projects that take a pool number on intent",
    "/healthz": "the load balancer's probe; names no tenant",
    "/metrics": "Prometheus scrapes: the operator's RINGTRAIL_METRICS_TOKEN, not a user's "
    "credentials, opens it (404 while unset); counts and ids only, no tenant data",
    "/recordings/{token}": "a signed, expiring link: the token is the credential",
    "/static": "the dashboard's CSS, scripts and images",
    "/login": "the sign-in form and its post",
    "/logout": "ending a session needs no session (CSRF-checked)",
    "/language": "choosing the dashboard's language before signing in (CSRF-checked)",
}
PUBLIC_PREFIXES: dict[str, str] = {
    "/t/": "tracking endpoints for visitors' browsers: the project's public key and allowed "
    "domains, never a user's credentials",
    "/hooks/": "provider webhooks: each authenticated by the provider's signature or secret",
    "/w/": "the callback widget's endpoints for visitors' browsers: the project's public key "
    "and allowed domains, never a user's credentials",
}

API_PREFIX = "/api/v1"
API_PROJECT = "/api/v1/projects/{project_id}"
DASHBOARD_PROJECT = "/p/{project_id}"

# Routes under /api/v1/projects/{project_id}, by the literal path segments after it.
API_PROJECT_RULES: dict[tuple[str, ...], Rule] = {
    (): Rule(P.VIEW_REPORTS, P.MANAGE_PROJECT, P.DELETE_PROJECT, subpaths=False),
    ("numbers",): Rule(P.VIEW_REPORTS, P.MANAGE_TRACKING),
    ("pools",): Rule(P.VIEW_REPORTS, P.MANAGE_TRACKING),
    ("source-rules",): Rule(P.VIEW_REPORTS, P.MANAGE_TRACKING),
    # Call quality rules: every member may read them and why one did nothing; marketers up
    # change them and apply them to past calls, like source rules.
    ("quality-rules",): Rule(P.VIEW_REPORTS, P.MANAGE_TRACKING),
    # docs/api.md: every member may see who else is a member; only keys are kept from them.
    ("members",): Rule(P.VIEW_REPORTS, P.MANAGE_MEMBERS),
    ("api-keys",): Rule(P.MANAGE_MEMBERS, P.MANAGE_MEMBERS),
    ("calls",): Rule(P.VIEW_CALLS, P.MARK_CALLS),
    # Leads (forms, callbacks) are read and marked like calls; a site's backend posting its
    # forms is an integration's job, like the numbers it tracks.
    ("leads",): Rule(P.VIEW_CALLS, P.MARK_CALLS),
    ("leads", "forms"): Rule(P.VIEW_CALLS, P.MANAGE_TRACKING),
    # Uploading audio is an integration's job, like the numbers it tracks.
    ("calls", "recording"): Rule(P.VIEW_CALLS, P.MANAGE_TRACKING),
    # A provider's transcript is imported by an integration, like audio; asking for another
    # try of the local transcription is a mark's business.
    ("calls", "transcript"): Rule(P.VIEW_CALLS, P.MANAGE_TRACKING),
    ("calls", "transcript", "retry"): Rule(P.VIEW_CALLS, P.MARK_CALLS),
    # Connecting a provider account is a project setting.
    ("telephony",): Rule(P.VIEW_REPORTS, P.MANAGE_PROJECT),
    # The generic webhook's signing secret: admins and owners only, even to read.
    ("webhook-secret",): Rule(P.MANAGE_PROJECT, P.MANAGE_PROJECT),
    # The bot allow-list and deny-list: every member may read them, admins change them.
    ("bots",): Rule(P.VIEW_REPORTS, P.MANAGE_PROJECT),
    # The target-call classifier: whoever sees calls sees its figures and suggestions; its
    # marks move every report, so training, switching and rollback are admins'.
    ("scoring",): Rule(P.VIEW_CALLS, P.MANAGE_PROJECT),
    ("costs",): Rule(P.VIEW_REPORTS, P.MANAGE_MONEY),
    ("deals",): Rule(P.VIEW_REPORTS, P.MANAGE_MONEY),
    # Erasing a caller's data and reading who changed what: admins and owners.
    ("erasures",): Rule(P.MANAGE_PROJECT, P.MANAGE_PROJECT),
    ("audit-log",): Rule(P.MANAGE_PROJECT),
    # A destination's import file (Google Ads, Metrica) for hand upload: whoever sets up
    # tracking; it is read-only.
    ("integrations", "conversions"): Rule(P.MANAGE_TRACKING),
    # Destinations hold the ad accounts' secrets: marketers up see them (masked), admins
    # change, test, validate and remove them, like the telephony accounts.
    ("integrations",): Rule(P.MANAGE_TRACKING, P.MANAGE_PROJECT),
    # The delivery log: every member may read it (payloads masked); replaying is an admin's.
    ("deliveries",): Rule(P.VIEW_REPORTS, P.MANAGE_PROJECT),
}
# Other /api/v1 routes, by their literal path segments.
API_TOP_RULES: dict[tuple[str, ...], Rule] = {
    ("projects",): Rule(P.VIEW_REPORTS, P.MANAGE_PROJECT, scope=Scope.OWN, subpaths=False),
    ("reports",): Rule(P.VIEW_REPORTS, scope=Scope.PROJECT_QUERY),
}
# Dashboard pages under /p/{project_id}, by the literal path segments after it.
DASHBOARD_PROJECT_RULES: dict[tuple[str, ...], Rule] = {
    (): Rule(P.VIEW_REPORTS, subpaths=False),
    ("reports",): Rule(P.VIEW_REPORTS),
    ("calls",): Rule(P.VIEW_CALLS, P.MARK_CALLS),
    ("money",): Rule(P.MANAGE_MONEY, P.MANAGE_MONEY),
    ("settings",): Rule(P.MANAGE_TRACKING, P.MANAGE_PROJECT, subpaths=False),
    ("settings", "numbers"): Rule(P.MANAGE_TRACKING, P.MANAGE_TRACKING),
    ("settings", "pools"): Rule(P.MANAGE_TRACKING, P.MANAGE_TRACKING),
    ("settings", "rules"): Rule(P.MANAGE_TRACKING, P.MANAGE_TRACKING),
    ("settings", "quality-rules"): Rule(P.MANAGE_TRACKING, P.MANAGE_TRACKING),
    ("settings", "forms"): Rule(P.MANAGE_TRACKING, P.MANAGE_TRACKING),
    # Lead quality → Classifier, as in the API; labelling a suggested call is a mark.
    ("lead-quality", "classifier"): Rule(P.VIEW_CALLS, P.MANAGE_PROJECT),
    ("lead-quality", "classifier", "label"): Rule(P.VIEW_CALLS, P.MARK_CALLS),
    ("leads",): Rule(P.VIEW_CALLS, P.MARK_CALLS),
    # The callbacks worklist: seen like calls; ringing one now or marking it done like a mark.
    ("callbacks",): Rule(P.VIEW_CALLS, P.MARK_CALLS),
    ("settings", "callback-widget"): Rule(P.MANAGE_TRACKING, P.MANAGE_TRACKING),
    ("settings", "users"): Rule(P.MANAGE_MEMBERS, P.MANAGE_MEMBERS),
    ("settings", "api-keys"): Rule(P.MANAGE_MEMBERS, P.MANAGE_MEMBERS),
    ("settings", "privacy"): Rule(P.MANAGE_PROJECT, P.MANAGE_PROJECT),
    # Webhook URLs and accounts for marketers up; revealing or rotating the secret: admins.
    ("settings", "telephony"): Rule(P.MANAGE_TRACKING, P.MANAGE_PROJECT),
    # Why visits got no number: every member may look, to answer "it does not work".
    ("settings", "refusals"): Rule(P.VIEW_REPORTS),
    # The bot lists and signals: every member may look (why the default number); admins change.
    ("settings", "bots"): Rule(P.VIEW_REPORTS, P.MANAGE_PROJECT),
    ("setup",): Rule(P.MANAGE_TRACKING, P.MANAGE_TRACKING),
    ("settings", "integrations", "conversions"): Rule(P.MANAGE_TRACKING),
    # As in the API: marketers up see the destinations, admins change and test them.
    ("settings", "integrations"): Rule(P.MANAGE_TRACKING, P.MANAGE_PROJECT),
    # The delivery log: every member may look (like refused visits); admins replay.
    ("settings", "deliveries"): Rule(P.VIEW_REPORTS, P.MANAGE_PROJECT),
}
# Other dashboard pages, by their literal path segments.
DASHBOARD_TOP_RULES: dict[tuple[str, ...], Rule] = {
    (): Rule(P.VIEW_REPORTS, scope=Scope.OWN, subpaths=False),
}

_PARAM = re.compile(r"{(\w+)(?::\w+)?}")
SKIPPED_METHODS = frozenset({"HEAD", "OPTIONS"})  # HEAD runs GET's handler; OPTIONS: CORS only


@dataclass(frozen=True)
class WalkedRoute:
    """One method of one non-public route, with what it reaches and the permission it needs."""

    surface: Surface
    method: str
    path: str
    scope: Scope
    permission: Permission
    params: tuple[str, ...]

    @property
    def is_write(self) -> bool:
        return self.method != "GET"

    @property
    def deletes_the_project(self) -> bool:
        return self.method == "DELETE" and self.path == API_PROJECT

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def flat_routes(app: FastAPI) -> list[Any]:
    """Every route of `app`, with included routers opened up (newer FastAPI nests them)."""
    opened = getattr(fastapi.routing, "iter_route_contexts", None)
    return list(opened(app.routes)) if opened is not None else list(app.routes)


def path_params(path: str) -> tuple[str, ...]:
    """The names of the parameters in a path template."""
    return tuple(match.group(1) for match in _PARAM.finditer(path))


def fill(path: str, values: dict[str, str]) -> str:
    """The path template with each parameter replaced by its value."""
    return _PARAM.sub(lambda match: values[match.group(1)], path)


def public_reason(path: str) -> str | None:
    """Why `path` needs no credentials, or None when it does."""
    if path in PUBLIC_PATHS:
        return PUBLIC_PATHS[path]
    return next((why for prefix, why in PUBLIC_PREFIXES.items() if path.startswith(prefix)), None)


def _literals(path: str) -> tuple[str, ...]:
    """The path's fixed segments, without parameters or a file extension (`calls.csv`)."""
    return tuple(
        part.split(".")[0] for part in path.strip("/").split("/") if part and "{" not in part
    )


def _rule_for(rules: dict[tuple[str, ...], Rule], literals: tuple[str, ...]) -> Rule | None:
    """The rule of the longest resource `literals` starts with, if it covers them."""
    for size in range(len(literals), -1, -1):
        rule = rules.get(literals[:size])
        if rule is not None and (size == len(literals) or rule.subpaths):
            return rule
    return None


def _surface_and_rule(path: str, route: Any) -> tuple[Surface, Rule | None] | None:
    if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
        if path == API_PROJECT or path.startswith(API_PROJECT + "/"):
            found = _rule_for(API_PROJECT_RULES, _literals(path[len(API_PROJECT) :]))
        else:
            found = _rule_for(API_TOP_RULES, _literals(path[len(API_PREFIX) :]))
        return Surface.API, found
    if not isinstance(route, DashboardRoute):
        return None
    if path == DASHBOARD_PROJECT or path.startswith(DASHBOARD_PROJECT + "/"):
        found = _rule_for(DASHBOARD_PROJECT_RULES, _literals(path[len(DASHBOARD_PROJECT) :]))
    else:
        found = _rule_for(DASHBOARD_TOP_RULES, _literals(path))
    return Surface.DASHBOARD, found


def classify(
    app: FastAPI, known_params: Iterable[str]
) -> tuple[list[WalkedRoute], dict[str, str], list[str]]:
    """The routes to walk, the public ones with their reasons, and what could not be classified."""
    known = frozenset(known_params)
    walked: list[WalkedRoute] = []
    public: dict[str, str] = {}
    problems: list[str] = []
    for context in flat_routes(app):
        route = getattr(context, "original_route", context)
        path: str = context.path
        methods = sorted(set(context.methods or ()) - SKIPPED_METHODS)
        reason = public_reason(path)
        if reason is not None:
            public[path] = reason
            continue
        if isinstance(route, Mount):
            problems.append(f"mount {path}: neither public nor walkable")
            continue
        found = _surface_and_rule(path, route)
        if found is None:
            problems.append(f"{path}: not public, not under {API_PREFIX}, not a dashboard page")
            continue
        surface, rule = found
        unknown = [name for name in path_params(path) if name not in known]
        if rule is None or unknown:
            why = f"unknown path parameters {unknown}" if unknown else "no rule for its resource"
            problems.append(f"{','.join(methods)} {path}: {why}")
            continue
        for method in methods:
            permission = rule.needs(method)
            if permission is None:
                problems.append(f"{method} {path}: its resource takes no {method}")
                continue
            walked.append(
                WalkedRoute(surface, method, path, rule.scope, permission, path_params(path))
            )
    return walked, public, problems


@dataclass(frozen=True)
class Body:
    """What a write sends: JSON, raw content with its type, or dashboard form fields."""

    json: Any = None
    content: bytes | None = None
    content_type: str | None = None
    form: dict[str, str] | None = None


BodyFor = Callable[[int], Body]
# People of our organisation who are not yet members of the walked project: one to add through
# the API, one through the dashboard (the first role that may add them does; the next gets 409).
COLLEAGUES = ("colleague-api@acme-realty.example", "colleague-page@acme-realty.example")
CSV = "text/csv"


def _json(value: Any) -> BodyFor:
    return lambda _n: Body(json=value)


def _csv(text: str) -> BodyFor:
    return lambda _n: Body(content=text.encode(), content_type=CSV)


def _form(fields: dict[str, str]) -> BodyFor:
    return lambda _n: Body(form=fields)


def number(n: int) -> str:
    """A Kyiv number no one tracks yet, the `n`th of the walk."""
    return f"+3804470{n:05d}"


# The smallest valid body of each API write: a role's 403 must not hide behind a 422 for the
# body, so a write without an entry here fails for the roles it refuses.
API_BODIES: dict[tuple[str, str], BodyFor] = {
    ("POST", "/api/v1/projects"): lambda n: Body(json={"name": f"Walk {n}"}),
    ("PATCH", API_PROJECT): _json({}),
    ("POST", f"{API_PROJECT}/numbers"): lambda n: Body(json={"number": number(n)}),
    ("PATCH", f"{API_PROJECT}/numbers/{{number_id}}"): _json({"label": "walked"}),
    ("POST", f"{API_PROJECT}/pools"): lambda n: Body(json={"name": f"Walk pool {n}"}),
    ("PATCH", f"{API_PROJECT}/pools/{{pool_id}}"): _json({"name": "Walked pool"}),
    ("POST", f"{API_PROJECT}/source-rules"): lambda n: Body(
        json={"name": f"Walk rule {n}", "source": "walk"}
    ),
    ("PATCH", f"{API_PROJECT}/source-rules/{{rule_id}}"): _json({"name": "Walked rule"}),
    ("POST", f"{API_PROJECT}/quality-rules"): lambda n: Body(
        json={"name": f"Walk quality rule {n}", "add_tags": ["walked"]}
    ),
    ("PUT", f"{API_PROJECT}/quality-rules/{{quality_rule_id}}"): _json(
        {"name": "Walked quality rule", "mark": "target"}
    ),
    ("POST", f"{API_PROJECT}/quality-rules/{{quality_rule_id}}/move"): _json({"position": 1}),
    ("POST", f"{API_PROJECT}/quality-rules/apply"): _json(
        {"from": "2025-03-01", "to": "2025-03-01"}
    ),
    ("POST", f"{API_PROJECT}/members"): _json({"email": COLLEAGUES[0], "role": "viewer"}),
    ("PATCH", f"{API_PROJECT}/members/{{user_id}}"): _json({"role": "viewer"}),
    ("PATCH", f"{API_PROJECT}/bots"): _json({"allow": ["WalkMonitor"]}),
    ("PUT", f"{API_PROJECT}/scoring/threshold"): _json({"threshold": 0.9}),
    ("POST", f"{API_PROJECT}/scoring/activate"): _json({}),
    ("POST", f"{API_PROJECT}/api-keys"): _json({"name": "walk", "role": "viewer"}),
    ("PUT", f"{API_PROJECT}/calls/{{call_id}}/recording"): lambda _n: Body(
        content=b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)), content_type="audio/mpeg"
    ),
    ("PATCH", f"{API_PROJECT}/calls/{{call_id}}"): _json({}),
    ("PUT", f"{API_PROJECT}/calls/{{call_id}}/transcript"): _json(
        {"segments": [{"speaker": "caller", "start": 0, "end": 1, "text": "walked"}]}
    ),
    ("PUT", f"{API_PROJECT}/calls/{{call_id}}/tags"): _json({"tags": ["walked"]}),
    ("POST", f"{API_PROJECT}/calls/{{call_id}}/comments"): _json({"body": "walked"}),
    ("PATCH", f"{API_PROJECT}/leads/{{lead_id}}"): _json({}),
    ("POST", f"{API_PROJECT}/leads/forms"): lambda n: Body(json={"phone": number(n)}),
    ("PUT", f"{API_PROJECT}/telephony/{{provider}}"): _json({"is_active": True}),
    ("PUT", f"{API_PROJECT}/costs"): _json([]),
    ("POST", f"{API_PROJECT}/costs/csv"): _csv("date,source,cost\n2025-03-01,walk,1\n"),
    ("PUT", f"{API_PROJECT}/deals"): _json([]),
    ("POST", f"{API_PROJECT}/erasures"): lambda n: Body(json={"phone": number(n)}),
    ("POST", f"{API_PROJECT}/deals/csv"): _csv("deal_id,phone,status\nWALK-1,+380671234567,open\n"),
    ("POST", f"{API_PROJECT}/integrations"): lambda n: Body(
        json={"kind": "google_ads", "name": f"Walk {n}", "config": {"upload": "file"}}
    ),
    ("PATCH", f"{API_PROJECT}/integrations/{{destination_id}}"): _json({"name": "Walked"}),
    ("PUT", f"{API_PROJECT}/integrations/{{destination_id}}/rule"): _json({}),
    ("PUT", f"{API_PROJECT}/integrations/consent"): _json({"consent_mode": "ignore"}),
}
# Dashboard forms that need fields to succeed (the rest post the CSRF token alone and, for a
# role that may write, get the page back with the reason: 400, past authorisation).
DASHBOARD_FORMS: dict[tuple[str, str], BodyFor] = {
    ("POST", "/p/{project_id}/calls/{call_id}/target"): _form({"target": "true"}),
    ("POST", "/p/{project_id}/calls/{call_id}/comments"): _form({"body": "walked"}),
    ("POST", "/p/{project_id}/leads/{lead_id}/target"): _form({"target": "true"}),
    ("POST", "/p/{project_id}/lead-quality/classifier/label/{call_id}"): _form({"target": "true"}),
    ("POST", "/p/{project_id}/money/model"): _form({"attribution_model": "linear"}),
    ("POST", "/p/{project_id}/settings"): _form(
        {
            "name": "Acme Realty site",
            "timezone": "Europe/Kyiv",
            "currency": "UAH",
            "unique_call_window_days": "30",
            "grace_minutes": "15",
            "cooldown_minutes": "10",
            "target_call_goal_percent": "50",
        }
    ),
    ("POST", "/p/{project_id}/settings/pools"): lambda n: Body(form={"name": f"Walk pool {n}"}),
    ("POST", "/p/{project_id}/settings/rules"): lambda n: Body(
        form={"name": f"Walk rule {n}", "source": "walk"}
    ),
    ("POST", "/p/{project_id}/settings/rules/{rule_id}/move"): _form({"direction": "down"}),
    ("POST", "/p/{project_id}/settings/quality-rules"): lambda n: Body(
        form={"name": f"Walk quality rule {n}", "add_tags": "walked"}
    ),
    ("POST", "/p/{project_id}/settings/quality-rules/{quality_rule_id}/move"): _form(
        {"direction": "up"}
    ),
    ("POST", "/p/{project_id}/settings/quality-rules/apply"): _form(
        {"from": "2025-03-01", "to": "2025-03-01"}
    ),
    ("POST", "/p/{project_id}/settings/numbers"): lambda n: Body(form={"number": number(n)}),
    ("POST", "/p/{project_id}/settings/pools/{pool_id}/numbers"): lambda n: Body(
        form={"numbers": number(n)}
    ),
    ("POST", "/p/{project_id}/settings/users"): _form({"email": COLLEAGUES[1], "role": "viewer"}),
    ("POST", "/p/{project_id}/settings/api-keys"): _form({"name": "walk", "role": "viewer"}),
    ("POST", "/p/{project_id}/settings/users/{user_id}/role"): _form({"role": "sales"}),
    ("POST", "/p/{project_id}/settings/privacy"): _form({"call_retention_days": "400"}),
    ("POST", "/p/{project_id}/settings/bots"): _form({"allow": "WalkMonitor", "behaviour": "1"}),
    ("POST", "/p/{project_id}/settings/privacy/erase"): lambda n: Body(form={"phone": number(n)}),
    # a host no project allows: the check answers without fetching anything
    ("POST", "/p/{project_id}/setup/check"): _form({"url": "http://walk.invalid/"}),
}


def body_for(route: WalkedRoute, n: int) -> Body | None:
    """The body the walk sends with `route` (None: nothing beyond the CSRF token, if any)."""
    table = API_BODIES if route.surface is Surface.API else DASHBOARD_FORMS
    make = table.get((route.method, route.path))
    return make(n) if make is not None else None
