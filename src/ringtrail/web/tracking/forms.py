"""Form tracking on the site: GET /f.js (the forms script) and POST /t/v1/form (a form post).

`/f.js` is loaded by `/t.js` only for projects that track forms (services.feature_scripts);
it is served like `/t.js` (same caching, ETag and gzip; readable source `static/f.js`,
served `static/f.min.js`, made with `python -m rjsmin -b < f.js > f.min.js`).

POST /t/v1/form takes `{"key", "visitor", "id", "url", "form", "fields": {...}, "hp"}` as a
CORS simple request (or JSON with a preflight), checks the origin as visit starts do,
counts the address's and the visitor's rate windows and records the lead
(services.form_leads). Answers `{"ok": true, "outcome": ...}`; a honeypot hit looks like a
success to the bot that filled it in.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from ringtrail.domain.form_fields import MAX_FIELDS, MAX_NAME_LENGTH, MAX_VALUE_LENGTH
from ringtrail.services.form_leads import (
    FormsDisabled,
    FormSubmission,
    RateLimited,
    check_rate,
    hash_address,
    submit_form,
)
from ringtrail.services.visit_tokens import TokenSigner
from ringtrail.storage.models import Project
from ringtrail.web.deps import get_runtime
from ringtrail.web.tracking.api import BadBody, _error, _json, _parse, tracking_service
from ringtrail.web.tracking.static_scripts import serve_script

router = APIRouter(tags=["tracking"])

FORMS_SCRIPT_FILE = "f.min.js"


class FormBody(BaseModel):
    """POST /t/v1/form."""

    model_config = ConfigDict(extra="ignore")

    key: str = Field(min_length=1, max_length=100)
    visitor: str | None = Field(default=None, max_length=200)
    id: str | None = Field(default=None, max_length=64)
    url: str = Field(default="", max_length=4096)
    form: str | None = Field(default=None, max_length=200)
    fields: dict[str, str] = Field(default_factory=dict, max_length=MAX_FIELDS * 2)
    hp: str | None = Field(default=None, max_length=MAX_VALUE_LENGTH)


@router.api_route("/f.js", methods=["GET", "HEAD"], include_in_schema=False)
async def forms_script(request: Request) -> Response:
    """The forms script `/t.js` loads for projects that track forms."""
    return serve_script(request, FORMS_SCRIPT_FILE)


@router.post("/t/v1/form")
async def post_form(request: Request) -> Response:
    """A form submitted on the site: one lead attributed to the visitor's visit."""
    origin = request.headers.get("origin")
    try:
        body = _parse(await request.body(), FormBody)
    except BadBody as exc:
        return _error(exc.status, exc.detail, origin, reason=exc.reason)
    fields = {
        str(name)[:MAX_NAME_LENGTH]: str(value)[:MAX_VALUE_LENGTH]
        for name, value in body.fields.items()
    }
    service = tracking_service(request)
    allowed = await run_in_threadpool(service.allowed_origin, body.key, origin)
    if allowed is None:
        return _error(403, "this page's origin may not post forms", origin, "origin_not_allowed")
    address = request.client.host if request.client else ""
    return await run_in_threadpool(_record, request, body, fields, address, allowed)


def _record(
    request: Request, body: FormBody, fields: dict[str, str], address: str, origin: str
) -> Response:
    runtime = get_runtime(request)
    secret = runtime.settings.resolved_secret_key()
    now = datetime.now(UTC)
    with runtime.sessions() as session:
        project = session.scalar(select(Project).where(Project.public_key == body.key))
        if project is None:
            return _error(404, "unknown project key", origin, "unknown_project")
        try:
            check_rate(tracking_service(request).limiter, hash_address(address, secret),
                       body.visitor, now)  # fmt: skip
            result = submit_form(
                session,
                project,
                FormSubmission(
                    fields=fields,
                    visitor_token=body.visitor,
                    submit_id=body.id,
                    page=body.url,
                    form=body.form,
                    honeypot=body.hp,
                ),
                signer=TokenSigner(secret),
                now=now,
            )
        except FormsDisabled:
            return _error(403, "this project does not track forms", origin, "forms_disabled")
        except RateLimited as limited:
            response = _error(429, str(limited), origin, "rate_limited")
            response.headers["Retry-After"] = str(max(1, math.ceil(limited.retry_after)))
            return response
        session.commit()
    content: dict[str, Any] = {"ok": True, "outcome": result.outcome.value}
    if result.outcome.value == "honeypot":
        content["outcome"] = "created"
    return _json(200, content, origin)
