"""How a project's calls reach Ringtrail: its accounts with telephony providers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ringtrail.storage.encryption import EncryptedText
from ringtrail.storage.models.base import Base, CreatedMixin, IdMixin, IdType


class TelephonyAccount(IdMixin, CreatedMixin, Base):
    """A project's connection to one provider (twilio, zadarma, binotel, sip).

    `account_ref` is the provider's id of the account where webhooks carry one (Twilio's
    AccountSid), so a webhook finds its project; `secret` checks the webhook's signature
    (Twilio's auth token, Zadarma's API secret), stored encrypted (storage.encryption).
    `config` holds provider options, such as the addresses Binotel calls from.
    """

    __tablename__ = "telephony_accounts"
    __table_args__ = (
        UniqueConstraint("project_id", "provider"),
        # Not unique: an AccountSid is no secret, so its webhooks go to the project whose
        # stored token signs them (web.hooks.twilio), not to whoever typed it first.
        Index("ix_telephony_accounts_provider_ref", "provider", "account_ref"),
    )

    project_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(40))
    account_ref: Mapped[str | None] = mapped_column(String(200))
    secret: Mapped[str | None] = mapped_column(EncryptedText)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
