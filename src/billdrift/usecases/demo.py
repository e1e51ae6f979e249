"""Where the bundled sample data lives. The demo is `check` on these files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

#: The sample data is dated around this instant; a fixed as-of keeps the demo stable.
DEMO_AS_OF = datetime(2026, 11, 22, tzinfo=UTC)


@dataclass(frozen=True)
class DemoPaths:
    directory: Path
    billing: Path
    app: Path
    config: Path


def demo_paths() -> DemoPaths:
    directory = Path(str(resources.files("billdrift") / "demo_data"))
    return DemoPaths(
        directory=directory,
        billing=directory / "stripe_subscriptions.json",
        app=directory / "app.sqlite",
        config=directory / "billdrift.toml",
    )
