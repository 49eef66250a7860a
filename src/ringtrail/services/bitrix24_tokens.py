"""Renewed Bitrix24 app tokens, kept with the destination so a restart does not lose them.

Bitrix24 replaces the refresh token on every renewal (the old one stops working), so a
renewed pair kept only in memory would leave the stored settings with a dead refresh token
after a restart. `DatabaseTokenStore` writes the new pair into the secrets (encrypted at
rest) of every Bitrix24 destination of that app and portal, in its own short transaction.
The delivery worker installs it: `bitrix24.DESTINATION.token_store = DatabaseTokenStore(
runtime.sessions)`.
"""

from __future__ import annotations

import json
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ringtrail.integrations.bitrix24_api import MemoryTokenStore, OAuthTokens
from ringtrail.storage.models import IntegrationDestination
from ringtrail.storage.models.base import utcnow

log = logging.getLogger(__name__)


def store_key(config: dict[str, object]) -> str:
    """The key `Connection.store_key` gives a destination's settings."""
    return f"{config.get('client_id')}@{config.get('client_endpoint')}"


def save_tokens(db: Session, key: str, tokens: OAuthTokens) -> int:
    """Write `tokens` into every Bitrix24 app destination with `key`; how many were."""
    saved = 0
    rows = db.scalars(
        select(IntegrationDestination).where(IntegrationDestination.kind == "bitrix24")
    )
    for row in rows:
        if (row.config or {}).get("connection") != "oauth" or store_key(row.config) != key:
            continue
        secrets = json.loads(row.secrets) if row.secrets else {}
        secrets.update(access_token=tokens.access_token, refresh_token=tokens.refresh_token)
        row.secrets = json.dumps(secrets, sort_keys=True)
        row.updated_at = utcnow()
        saved += 1
    return saved


class DatabaseTokenStore(MemoryTokenStore):
    """The newest pair in memory, and written to the destinations' stored secrets."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        super().__init__()
        self.sessions = sessions

    def put(self, key: str, tokens: OAuthTokens) -> None:
        super().put(key, tokens)
        try:
            with self.sessions() as db:
                save_tokens(db, key, tokens)
                db.commit()
        except Exception:  # the pair still serves this process; say so rather than fail a send
            log.warning("could not store renewed Bitrix24 tokens for %s", key, exc_info=True)
