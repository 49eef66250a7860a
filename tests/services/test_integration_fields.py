"""A destination kind's settings as a form, the API and the CLI describe them, and form text
read back as the values its config model takes."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from ringtrail.services.integration_fields import KindField, kind_fields, parse_form_value


class Mode(StrEnum):
    LIVE = "live"
    TEST = "test"


class Settings(BaseModel):
    account: str = Field(description="The account.")
    token: str
    upload: Literal["api", "file"] = "api"
    mode: Mode = Mode.LIVE
    region: Literal["eu", "us"] | None = None
    days: int = Field(default=90, title="Click window")
    hosts: list[str] = Field(default_factory=list)
    strict: bool = False


def test_each_field_gets_its_input_in_declared_order() -> None:
    fields = kind_fields(Settings, frozenset({"token"}))
    assert [f.name for f in fields] == list(Settings.model_fields)
    by_name = {f.name: f for f in fields}
    assert by_name["account"].required and by_name["account"].description == "The account."
    assert by_name["token"].input == "password" and by_name["token"].secret
    assert (by_name["upload"].input, by_name["upload"].choices) == ("select", ("api", "file"))
    assert (by_name["mode"].choices, by_name["mode"].default) == (("live", "test"), "live")
    assert by_name["region"].choices == ("eu", "us") and by_name["region"].default is None
    assert (by_name["days"].input, by_name["days"].title) == ("number", "Click window")
    assert by_name["hosts"].input == "list" and by_name["hosts"].default is None
    assert by_name["strict"].input == "checkbox" and by_name["strict"].default is False


def _field(input_: str) -> KindField:
    return KindField("x", "X", "", input_, False, None)  # type: ignore[arg-type]


def test_form_text_becomes_the_value_the_model_takes() -> None:
    assert parse_form_value(_field("checkbox"), "1") is True
    assert parse_form_value(_field("checkbox"), "") is False
    assert parse_form_value(_field("list"), "a.example, b.example\nc.example") == [
        "a.example",
        "b.example",
        "c.example",
    ]
    assert parse_form_value(_field("text"), "  ") is None
    assert parse_form_value(_field("number"), " 30 ") == "30"


@given(st.lists(st.text(alphabet="abcxyz.-", min_size=1, max_size=8), max_size=6))
def test_a_list_written_one_per_line_reads_back_as_written(items: list[str]) -> None:
    assert parse_form_value(_field("list"), "\n".join(items)) == items
