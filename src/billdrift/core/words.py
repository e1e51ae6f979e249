"""Finding text that knows which of its parts are identifiers and emails.

A finding's message names accounts, customers, subscriptions and emails. To mask
them (``--mask``, alerts) billdrift must replace exactly those values and nothing
else: searching the finished text for them would also hit a count that happens to
equal an account id ("linked from 2 accounts" when account "2" exists). So a rule's
words are :data:`Words`, plain text with :class:`Ref` parts (evaluated from its
declared template, :mod:`billdrift.core.rules.wording`), and a masker re-renders
them with each Ref replaced (:func:`render`).
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


def _raw(ref: Ref) -> str:
    return ref.value


def render(parts: Words, show: Callable[[Ref], str] = _raw) -> str:
    """The text, each Ref shown as `show` says (by default its value)."""
    if show is _raw:  # every finding's text, once: no call per part
        return "".join([part.value if part.__class__ is Ref else part for part in parts])  # type: ignore[misc]
    return "".join(part if isinstance(part, str) else show(part) for part in parts)
