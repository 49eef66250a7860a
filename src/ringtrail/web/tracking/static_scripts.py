"""Serving the feature scripts (`/f.js`, `/w.js`) the way `/t.js` is served.

Each is a committed minified file in `static/`, read once per process and served with the
same caching (`public, max-age=300`), strong ETag, gzip and CORS headers as `/t.js`
(web.tracking.script).
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources

from fastapi import Request, Response

from ringtrail.web.tracking.script import (
    CACHE_CONTROL,
    MEDIA_TYPE,
    Representation,
    Script,
    _etag,
    accepts_gzip,
    etag_matches,
)


@cache
def load_static_script(filename: str) -> Script:
    """The committed file `static/<filename>`, plain and gzipped, read once per process."""
    body = resources.files("ringtrail.web.tracking").joinpath("static", filename).read_bytes()
    packed = gzip.compress(body, compresslevel=9, mtime=0)
    return Script(
        plain=Representation(body, _etag(body), None),
        gzipped=Representation(packed, _etag(body, "-gz"), "gzip"),
    )


def serve_script(request: Request, filename: str) -> Response:
    """`static/<filename>` as a cacheable public script (304 on a matching ETag)."""
    script = load_static_script(filename)
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
