"""Errors a use case raises; each entrypoint maps them to its own form (HTTP status, CLI line)."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of the errors below."""


class NotFound(ServiceError):
    """The thing does not exist, or the caller may not know that it does."""


class Conflict(ServiceError):
    """The change clashes with existing data (a duplicate number, a taken e-mail)."""


class QuotaExceeded(Conflict):
    """The organisation holds as many projects or keys as its quota allows."""


class PermissionDenied(ServiceError):
    """The caller's role does not allow this."""


class InvalidInput(ServiceError):
    """A value is well-formed but not acceptable; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
