"""Serving the feature scripts (`/f.js`, `/w.js`, `/i.js`) the way `/t.js` is served.

Each is a committed minified file in `static/`, read once per process and served with the
same caching (`public, max-age=300`), strong ETag, gzip and CORS headers as `/t.js`
(web.tracking.script).
"""

from __future__ import annotations

from fastapi import Request, Response

from ringtrail.web.tracking.script import Script, load_static, respond


def load_static_script(filename: str) -> Script:
    """The committed file `static/<filename>`, plain and gzipped, read once per process."""
    return load_static(filename)


def serve_script(request: Request, filename: str) -> Response:
    """`static/<filename>` as a cacheable public script (304 on a matching ETag)."""
    return respond(request, load_static(filename))
