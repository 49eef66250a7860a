"""Access-log redaction: signed recording links are logged without the token that opens them."""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
REDACTED = "<redacted>"
# The token is the whole authorisation of a /recordings/{token} link (web.recordings), so a
# log line holding it is a working link to a caller's voice for anyone who reads the log.
_RECORDING_LINK = re.compile(r"(/recordings/)[^/?#\s\"]+(\?[^\s\"]*)?")


def redact_path(text: str) -> str:
    """`text` with every recording token (and that link's query) replaced by a placeholder."""
    return _RECORDING_LINK.sub(rf"\g<1>{REDACTED}", text)


class RedactRecordingTokens(logging.Filter):
    """Rewrites a record's arguments (uvicorn passes the path as one) and message text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_path(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        if isinstance(record.msg, str):
            record.msg = redact_path(record.msg)
        return True


def redact_access_log() -> None:
    """Install the filter on uvicorn's access logger, once per process."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactRecordingTokens) for f in logger.filters):
        logger.addFilter(RedactRecordingTokens())
