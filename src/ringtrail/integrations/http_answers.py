"""One destination's HTTP answer as a send result: 2xx accepted, 429 and 5xx and no answer at
all retried, any other status refused for good, each in words a marketer understands."""

from __future__ import annotations

import json
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from ringtrail.integrations.base import SendResult

MAX_TEXT = 2000
"""A non-JSON answer is kept in the log up to this many characters."""


def http_base_url(value: str) -> str:
    """A destination's base URL as configured: http(s), no trailing slash; ValueError else."""
    value = value.strip().rstrip("/")
    if not value.lower().startswith(("https://", "http://")) or "?" in value or "#" in value:
        raise ValueError("must be an http(s) URL without a query")
    return value


def read_body(answer: httpx.Response) -> Any:
    """The answer's JSON, else its text (shortened), else None when empty."""
    text = answer.text
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text[:MAX_TEXT]


def status_result(service: str, answer: httpx.Response, body: Any) -> SendResult:
    """The outcome its status alone says."""
    status = answer.status_code
    response = {"status": status, "body": body}
    if 200 <= status < 300:
        return SendResult("accepted", status, response)
    if status == 429:
        return SendResult(
            "retry",
            status,
            response,
            f"{service} asked Ringtrail to slow down (HTTP 429); trying again later",
            retry_after(answer),
        )
    if status >= 500:
        return SendResult(
            "retry",
            status,
            response,
            f"{service} had a server error (HTTP {status}); trying again later",
            retry_after(answer),
        )
    return SendResult(
        "rejected", status, response, f"{service} refused the request (HTTP {status})"
    )


def network_failure(service: str, error: httpx.HTTPError) -> SendResult:
    """No answer at all: a timeout or a connection that failed. Always worth another try."""
    if isinstance(error, httpx.TimeoutException):
        reason = f"{service} did not answer in time; trying again later"
    else:
        reason = f"could not reach {service} ({type(error).__name__}); trying again later"
    return SendResult("retry", None, {"error": type(error).__name__}, reason)


def retry_after(answer: httpx.Response) -> float | None:
    """The Retry-After header in seconds (a number or an HTTP date), when given and sane."""
    value = answer.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        date = answer.headers.get("Date")
        try:
            base = parsedate_to_datetime(date) if date else None
        except (TypeError, ValueError):
            base = None
        if base is None or moment.tzinfo is None or base.tzinfo is None:
            return None
        seconds = (moment - base).total_seconds()
    return seconds if 0 <= seconds <= 86_400 else None
