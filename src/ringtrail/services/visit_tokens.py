"""Signed tokens the tracking script keeps: the visitor id and the current visit's hold.

Visitor token: `<random id>.<signature>`; the random id is the visitor's public id. Visit
token: `<project>.<visit>.<visitor>.<pool or 0>.<signature>`, so a heartbeat needs no database
read to know whose hold to extend. Signatures are HMAC-SHA256 under a key derived from the
instance secret per purpose; a forged or garbled token is rejected, never trusted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

_ID = re.compile(r"^[A-Za-z0-9_-]{16,43}$")
_NUMBER = re.compile(r"^[0-9]{1,18}$")
MAX_TOKEN_LENGTH = 200


class BadToken(ValueError):
    """The token is malformed or its signature does not match."""


@dataclass(frozen=True)
class VisitClaim:
    """What a visit token vouches for."""

    project_id: int
    visit_id: int
    visitor_id: int
    pool_id: int | None


class TokenSigner:
    """Issues and checks tracking tokens with one instance secret."""

    def __init__(self, secret: str) -> None:
        self._visitor_key = self._derive(secret, "visitor")
        self._visit_key = self._derive(secret, "visit")

    @staticmethod
    def _derive(secret: str, purpose: str) -> bytes:
        return hmac.new(
            secret.encode(), f"ringtrail.tracking.{purpose}".encode(), "sha256"
        ).digest()

    @staticmethod
    def _sign(key: bytes, payload: str) -> str:
        digest = hmac.new(key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def new_visitor_id(self) -> str:
        """A fresh random public visitor id (128 bits)."""
        return secrets.token_urlsafe(16)

    def visitor_token(self, public_id: str) -> str:
        """The token the script stores for `public_id`."""
        return f"{public_id}.{self._sign(self._visitor_key, public_id)}"

    def read_visitor_token(self, token: str) -> str:
        """The public visitor id inside a genuine token, else BadToken."""
        if len(token) > MAX_TOKEN_LENGTH:
            raise BadToken("visitor token too long")
        public_id, _, signature = token.rpartition(".")
        if not _ID.match(public_id) or not signature:
            raise BadToken("visitor token is malformed")
        if not hmac.compare_digest(signature, self._sign(self._visitor_key, public_id)):
            raise BadToken("visitor token signature does not match")
        return public_id

    def visit_token(self, claim: VisitClaim) -> str:
        """The token the script sends with each heartbeat of this visit."""
        payload = f"{claim.project_id}.{claim.visit_id}.{claim.visitor_id}.{claim.pool_id or 0}"
        return f"{payload}.{self._sign(self._visit_key, payload)}"

    def read_visit_token(self, token: str) -> VisitClaim:
        """The claim inside a genuine visit token, else BadToken."""
        if len(token) > MAX_TOKEN_LENGTH:
            raise BadToken("visit token too long")
        payload, _, signature = token.rpartition(".")
        parts = payload.split(".")
        if len(parts) != 4 or not all(_NUMBER.match(part) for part in parts):
            raise BadToken("visit token is malformed")
        if not hmac.compare_digest(signature, self._sign(self._visit_key, payload)):
            raise BadToken("visit token signature does not match")
        project_id, visit_id, visitor_id, pool_id = (int(part) for part in parts)
        return VisitClaim(project_id, visit_id, visitor_id, pool_id or None)
