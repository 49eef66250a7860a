"""A destination kind's settings described for people: the fields of its `config_model` in
declared order, each with its input (text, number, checkbox, a list of choices, a list, or a
password for a secret field), so the dashboard's form, the API and the CLI show the same."""

from __future__ import annotations

import types
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

FieldInput = Literal["text", "number", "checkbox", "select", "list", "password"]


@dataclass(frozen=True)
class KindField:
    """One setting of a destination kind."""

    name: str
    title: str
    description: str
    input: FieldInput
    required: bool
    default: str | int | float | bool | None
    choices: tuple[str, ...] = ()

    @property
    def secret(self) -> bool:
        return self.input == "password"


def _without_none(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [arg for arg in get_args(annotation) if arg is not type(None)]
        return rest[0] if len(rest) == 1 else annotation
    return annotation


def _input_of(annotation: Any) -> tuple[FieldInput, tuple[str, ...]]:
    annotation = _without_none(annotation)
    origin = get_origin(annotation)
    if origin is Literal:
        return "select", tuple(str(arg) for arg in get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "select", tuple(str(member.value) for member in annotation)
    if annotation is bool:
        return "checkbox", ()
    if annotation in (int, float, Decimal):
        return "number", ()
    if origin in (list, tuple, set, frozenset):
        return "list", ()
    return "text", ()


def kind_fields(config_model: type[BaseModel], secret_fields: frozenset[str]) -> list[KindField]:
    """The kind's settings in their declared order, secret ones as passwords."""
    fields = []
    for name, info in config_model.model_fields.items():
        form_input, choices = _input_of(info.annotation)
        if name in secret_fields:
            form_input, choices = "password", ()
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        if isinstance(default, Enum):
            default = default.value
        fields.append(
            KindField(
                name=name,
                title=info.title or name.replace("_", " ").capitalize(),
                description=info.description or "",
                input=form_input,
                required=info.is_required(),
                default=default if isinstance(default, str | int | float | bool) else None,
                choices=choices,
            )
        )
    return fields


def parse_form_value(field: KindField, raw: str) -> Any:
    """A form's or a command line's text as the value the config model takes: a list split
    on commas and lines, a checkbox as a yes or no, the rest as text pydantic converts; an
    empty optional field is left out (None)."""
    if field.input == "checkbox":
        return raw.strip().lower() in ("1", "true", "yes", "on")
    text = raw.strip()
    if field.input == "list":
        return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]
    if not text:
        return None
    return text
