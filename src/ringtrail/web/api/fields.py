"""Typed field and parameter kinds shared by the tracking, member and key request models."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AfterValidator, Field, StringConstraints

MAX_ID = 2**63 - 1  # the largest BIGINT: bigger ids are a 422, not a database error


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


ProjectId = Annotated[int, Path(ge=1, le=MAX_ID, description="The project's id")]
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]
IdFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]
RefId = Annotated[int, Field(ge=1, le=MAX_ID)]

Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_no_nul)]
Text40 = Annotated[str, Field(max_length=40), AfterValidator(_no_nul)]
Text100 = Annotated[str, Field(max_length=100), AfterValidator(_no_nul)]
Text200 = Annotated[str, Field(max_length=200), AfterValidator(_no_nul)]
Text500 = Annotated[str, Field(max_length=500), AfterValidator(_no_nul)]
Phone = Annotated[
    str,
    Field(min_length=1, max_length=40, examples=["(044) 123-45-67", "+380441234567"]),
    AfterValidator(_no_nul),
]
Email = Annotated[str, Field(min_length=3, max_length=254), AfterValidator(_no_nul)]
Password = Annotated[
    str, StringConstraints(strip_whitespace=False, max_length=1024), AfterValidator(_no_nul)
]
Minutes = Annotated[int, Field(ge=0, le=24 * 60)]
Priority = Annotated[int, Field(ge=-1_000_000, le=1_000_000)]


def reject_nulls(value: Any) -> Any:
    """Before-validator for PATCH fields that may be left out but never set to null."""
    if value is None:
        raise ValueError("may be left out but not null")
    return value
