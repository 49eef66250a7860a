"""GET /t.js: the tracking script, served cacheable with a strong ETag (gzipped when accepted).

The readable source is `static/t.js`; what is served is `static/t.min.js`, made from it with
`python -m rjsmin -b < t.js > t.min.js` and committed (a test fails when it is out of date).

`Cache-Control: public, max-age=300`: browsers and CDNs keep the script five minutes, so a
fix reaches every site within minutes; after that a conditional request answers 304 with no
body while the script is unchanged. The script is the same for every site (the site's key is
in the tag), so it is public and varies only by `Accept-Encoding`.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from fastapi import APIRouter, Request, Response

router = APIRouter(tags=["tracking"])

SCRIPT_FILE = "t.min.js"
CACHE_CONTROL = "public, max-age=300"
MEDIA_TYPE = "application/javascript; charset=utf-8"


@dataclass(frozen=True)
class Representation:
    """One encoding of the script: its bytes and its strong ETag."""

    body: bytes
    etag: str
    encoding: str | None


@dataclass(frozen=True)
class Script:
    """The script as served: plain and gzipped."""

    plain: Representation
    gzipped: Representation


def _etag(body: bytes, suffix: str = "") -> str:
    return f'"{hashlib.sha256(body).hexdigest()[:32]}{suffix}"'


@cache
def load_script() -> Script:
    """The committed minified script, read from the package once per process."""
    return load_static(SCRIPT_FILE)


@cache
def load_static(filename: str) -> Script:
    """The committed file `static/<filename>`, plain and gzipped, read once per process."""
    body = resources.files("ringtrail.web.tracking").joinpath("static", filename).read_bytes()
    packed = gzip.compress(body, compresslevel=9, mtime=0)
    return Script(
        plain=Representation(body, _etag(body), None),
        gzipped=Representation(packed, _etag(body, "-gz"), "gzip"),
    )


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header allows gzip (a `q=0` refuses it)."""
    for item in accept_encoding.lower().split(","):
        name, _, params = item.strip().partition(";")
        if name.strip() not in ("gzip", "*"):
            continue
        quality = params.strip().removeprefix("q=").strip() if params.strip() else "1"
        try:
            return float(quality) > 0
        except ValueError:
            return True
    return False


def etag_matches(if_none_match: str, etag: str) -> bool:
    """If-None-Match uses weak comparison: `W/` prefixes are ignored; `*` matches anything."""
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return any(tag == "*" or tag.removeprefix("W/") == etag for tag in tags)


@router.api_route("/t.js", methods=["GET", "HEAD"], include_in_schema=False)
async def tracking_script(request: Request) -> Response:
    """The tracking script sites include with `<script async src=".../t.js" data-key=...>`."""
    return respond(request, load_script())


def respond(request: Request, script: Script) -> Response:
    """`script` as a cacheable public script: gzip when accepted, 304 on a matching ETag."""
    chosen = (
        script.gzipped if accepts_gzip(request.headers.get("accept-encoding", "")) else script.plain
    )
    headers = {
        "ETag": chosen.etag,
        "Cache-Control": CACHE_CONTROL,
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "cross-origin",
        "Access-Control-Allow-Origin": "*",
    }
    if etag_matches(request.headers.get("if-none-match", ""), chosen.etag):
        return Response(status_code=304, headers=headers)
    if chosen.encoding:
        headers["Content-Encoding"] = chosen.encoding
    body = b"" if request.method == "HEAD" else chosen.body
    headers["Content-Length"] = str(len(chosen.body))
    return Response(body, media_type=MEDIA_TYPE, headers=headers)
