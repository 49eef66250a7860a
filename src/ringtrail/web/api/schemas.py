"""Shared pieces of the API's request and response models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set):
        return any(_holds_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    return False


class StrictInput(BaseModel):
    """Base of request bodies: unknown fields and wrong types are a 422, never ignored.

    NUL characters are refused in every text field: PostgreSQL cannot store them, so they
    would otherwise fail at the database instead of at the door.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        if _holds_nul(value):
            raise ValueError("must not contain NUL characters")
        return value


class Output(BaseModel):
    """Base of response bodies, built from ORM rows."""

    model_config = ConfigDict(from_attributes=True)
