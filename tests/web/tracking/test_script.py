"""GET /t.js: served as cacheable JavaScript, small, up to date with its readable source."""

from __future__ import annotations

import gzip
import re
import tomllib
from pathlib import Path

import rjsmin
from fastapi.testclient import TestClient

from ringtrail.web.tracking.script import accepts_gzip, etag_matches, load_script

STATIC = Path(__file__).parents[3] / "src" / "ringtrail" / "web" / "tracking" / "static"
SOURCE = STATIC / "t.js"
MINIFIED = STATIC / "t.min.js"
BUDGET_GZIPPED = 5 * 1024
PLAIN = {"Accept-Encoding": "identity"}


def test_script_is_served_as_javascript_with_a_short_public_cache(client: TestClient) -> None:
    response = client.get("/t.js", headers=PLAIN)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-encoding" not in response.headers
    assert response.content == MINIFIED.read_bytes()


def test_etag_is_strong_and_changes_with_the_content(client: TestClient) -> None:
    etag = client.get("/t.js", headers=PLAIN).headers["etag"]

    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert client.get("/t.js", headers=PLAIN).headers["etag"] == etag
    assert client.get("/t.js", headers={"Accept-Encoding": "gzip"}).headers["etag"] != etag


def test_a_matching_if_none_match_answers_304_with_no_body(client: TestClient) -> None:
    etag = client.get("/t.js", headers=PLAIN).headers["etag"]

    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = client.get("/t.js", headers={**PLAIN, "If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert response.headers["cache-control"] == "public, max-age=300"


def test_a_stale_if_none_match_gets_the_script(client: TestClient) -> None:
    response = client.get("/t.js", headers={**PLAIN, "If-None-Match": '"0123456789abcdef"'})

    assert response.status_code == 200
    assert response.content == MINIFIED.read_bytes()


def test_gzip_is_sent_when_accepted_and_decodes_to_the_same_script(client: TestClient) -> None:
    response = client.get("/t.js", headers={"Accept-Encoding": "gzip, deflate, br"})

    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.content == MINIFIED.read_bytes()  # the client decoded it


def test_head_answers_the_headers_without_the_body(client: TestClient) -> None:
    response = client.head("/t.js", headers=PLAIN)

    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(MINIFIED.read_bytes()))


def test_accept_encoding_with_q_zero_refuses_gzip() -> None:
    assert accepts_gzip("gzip")
    assert accepts_gzip("br;q=1.0, gzip;q=0.8")
    assert accepts_gzip("*")
    assert not accepts_gzip("gzip;q=0")
    assert not accepts_gzip("identity")
    assert not accepts_gzip("")


def test_if_none_match_ignores_weak_prefixes_and_other_tags() -> None:
    assert etag_matches('W/"abc"', '"abc"')
    assert etag_matches('"x", "abc"', '"abc"')
    assert not etag_matches('"abcd"', '"abc"')
    assert not etag_matches("", '"abc"')


def test_served_script_is_at_most_5_kb_gzipped() -> None:
    script = load_script()

    assert len(script.gzipped.body) <= BUDGET_GZIPPED
    assert gzip.decompress(script.gzipped.body) == script.plain.body


def test_committed_minified_script_is_up_to_date_with_its_source() -> None:
    expected = rjsmin.jsmin(SOURCE.read_text(encoding="utf-8"), keep_bang_comments=True)

    assert MINIFIED.read_text(encoding="utf-8") == expected, (
        "t.min.js is stale: run `python -m rjsmin -b < t.js > t.min.js` in its folder"
    )


def test_script_never_writes_html_evaluates_code_or_logs_outside_debug() -> None:
    source = SOURCE.read_text(encoding="utf-8")

    for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert forbidden not in source, forbidden
    assert re.findall(r"console\.\w+", source) == ["console.debug"]


def test_static_folder_ships_in_the_package() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text())

    assert "web/tracking/static/*" in pyproject["tool"]["setuptools"]["package-data"]["ringtrail"]
