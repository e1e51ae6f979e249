"""Finding text that knows which of its parts are identifiers and emails.

A finding's message names accounts, customers, subscriptions and emails. To mask
them (``--mask``, alerts) billdrift must replace exactly those values and nothing
else: searching the finished text for them would also hit a count that happens to
equal an account id ("linked from 2 accounts" when account "2" exists). So the
rules build their words as :data:`Words`, plain text with :class:`Ref` parts, and
a masker re-renders them with each Ref replaced (:func:`render`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

RefKind = Literal["id", "email"]


@dataclass(frozen=True, slots=True)
class Ref:
    """An identifier or email named in a finding's text."""

    kind: RefKind
    value: str


#: Text as parts: literal text and the values it names.
Words = tuple[str | Ref, ...]

Part = str | Ref | Words | None | object


def ident(value: object) -> Ref | str:
    """An id named in the text (None reads "None", as an f-string would show it)."""
    return Ref("id", value) if isinstance(value, str) and value else str(value)


def email(value: object) -> Ref | str:
    return Ref("email", value) if isinstance(value, str) and value else str(value)


def words(*parts: Part) -> Words:
    """Join parts into Words: nested Words are flattened, anything else becomes text.

    Called a few times for each of tens of thousands of findings: the common parts
    (exactly ``str`` or ``Ref``) are recognized by their class before any
    ``isinstance`` test."""
    out: list[str | Ref] = []
    for part in parts:
        cls = part.__class__
        if cls is str or cls is Ref:
            out.append(part)  # type: ignore[arg-type]
        elif isinstance(part, tuple):
            out.extend(part)
        elif isinstance(part, Ref | str):
            out.append(part)
        else:
            out.append(str(part))
    return tuple(out)


def _raw(ref: Ref) -> str:
    return ref.value


def render(parts: Words, show: Callable[[Ref], str] = _raw) -> str:
    """The text, each Ref shown as `show` says (by default its value)."""
    if show is _raw:  # every finding's text, once: no call per part
        return "".join([part.value if part.__class__ is Ref else part for part in parts])  # type: ignore[misc]
    return "".join(part if isinstance(part, str) else show(part) for part in parts)


def capitalized(parts: Words) -> Words:
    """`parts` with its first letter upper-cased (only that letter: ids keep their case)."""
    if parts and isinstance(parts[0], str) and parts[0]:
        return (parts[0][:1].upper() + parts[0][1:], *parts[1:])
    return parts
