"""Reading an instant a person typed: ``2026-11-22``, ``2026-11-22T09:30:00Z``...

A date means midnight UTC that day, no zone means UTC; anything else is a
ConfigError naming the option and showing what was expected.
"""

from __future__ import annotations

from datetime import UTC, datetime

from billdrift.errors import ConfigError


def parse_instant(text: str, option: str, expected: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{option}: expected {expected}; got {text!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
