"""What a telephony adapter raises when a provider's message cannot be used."""

from __future__ import annotations


class InvalidPayload(ValueError):
    """The message is malformed or incomplete; the text says what is wrong (sent as the reason)."""


class BadSignature(PermissionError):
    """The message's signature is missing, wrong or too old: refused, never processed."""
