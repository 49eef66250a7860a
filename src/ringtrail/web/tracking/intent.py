"""Allocation on intent, the browser side: GET /i.js.

`/t.js` loads `/i.js` when a visit answer says `awaiting_intent` (the project takes a pool
number only when a phone number comes into view or is touched; services.visits). The script
watches the elements showing a phone number and, on the first intent, repeats the visit start
with `intent: true` and swaps the number it gets (docs/tracking.md, "Allocation on intent").
It is served like `/t.js` (same caching, ETag and gzip; readable source `static/i.js`, served
`static/i.min.js`, made with `python -m rjsmin -b < i.js > i.min.js`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ringtrail.web.tracking.static_scripts import serve_script

router = APIRouter(tags=["tracking"])
INTENT_SCRIPT_FILE = "i.min.js"


@router.api_route("/i.js", methods=["GET", "HEAD"], include_in_schema=False)
async def intent_script(request: Request) -> Response:
    """The intent script `/t.js` loads for projects that take a pool number on intent."""
    return serve_script(request, INTENT_SCRIPT_FILE)
