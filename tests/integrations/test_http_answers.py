"""An HTTP answer's outcome by its status, and the Retry-After header in both its forms."""

from __future__ import annotations

import httpx
import pytest

from ringtrail.integrations.http_answers import http_base_url, retry_after, status_result


def answer(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, "accepted"),
        (204, "accepted"),
        (400, "rejected"),
        (404, "rejected"),
        (429, "retry"),
        (500, "retry"),
        (503, "retry"),
    ],
)
def test_the_outcome_follows_the_status(status: int, outcome: str) -> None:
    assert status_result("GA4", answer(status), None).outcome == outcome


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after(answer(503, **{"Retry-After": "120"})) == 120
    dated = answer(
        503,
        **{"Retry-After": "Wed, 21 Oct 2026 07:28:30 GMT", "Date": "Wed, 21 Oct 2026 07:28:00 GMT"},
    )
    assert retry_after(dated) == 30
    assert retry_after(answer(503, **{"Retry-After": "soon"})) is None
    assert retry_after(answer(503, **{"Retry-After": "-5"})) is None
    assert retry_after(answer(503)) is None


def test_a_base_url_must_be_http() -> None:
    assert http_base_url(" https://graph.facebook.com/ ") == "https://graph.facebook.com"
    for bad in ("graph.facebook.com", "ftp://x", "https://x/?a=1"):
        with pytest.raises(ValueError, match="http"):
            http_base_url(bad)
