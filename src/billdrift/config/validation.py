"""Validation helpers shared by every config table: errors in the file's own terms.

Where pydantic's wording would be its own ("Input should be a valid integer"),
:func:`expect` says it in the file's terms ("expected an integer from 0 to 10,
got -1"), leaving the value out where a secret may have been pasted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError, ValidatorFunctionWrapHandler, WrapValidator
from pydantic_core import ErrorDetails, PydanticCustomError

#: The type of every error billdrift's validators raise (pydantic's own keep theirs).
ERROR_TYPE = "billdrift_config"


def problem(message: str, key: str | None = None) -> PydanticCustomError:
    """An error saying `message`; `key` names a key inside the table being validated
    (an unknown key, or one another key makes required), added to the error's location."""
    # Without a context pydantic leaves the message as it is (no "{...}" formatting).
    return PydanticCustomError(ERROR_TYPE, message, {"key": key} if key else None)


def expect(what: str, *, echo: bool = True, missing: str | None = None) -> WrapValidator:
    """Replace any error of the wrapped type with "expected `what`, got <value>".

    `echo=False` leaves the value out (a secret may have been pasted there);
    `missing` is the message for a required key left out (validated as None).
    """

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if value is None and missing is not None:
            raise problem(missing)
        try:
            return handler(value)
        except ValidationError:
            shown = f", got {value!r}" if echo else ""
            raise problem(f"expected {what}{shown}") from None

    return WrapValidator(check)


def problem_line(details: ErrorDetails, prefix: Sequence[str] = ()) -> str:
    """``key: message`` for one pydantic error; pydantic's own messages also show the
    value given (the messages of :func:`problem` say it themselves, or must not)."""
    parts = [*prefix, *(str(part) for part in details["loc"])]
    if details["type"] == ERROR_TYPE:
        named = (details.get("ctx") or {}).get("key")
        key = ".".join([*parts, named] if named else parts)
        return f"{key}: {details['msg']}"
    key = ".".join(parts) or "(top level)"
    given = details.get("input")
    shown = "" if isinstance(given, dict) else f" (got {given!r})"
    return f"{key}: {details['msg']}{shown}"
