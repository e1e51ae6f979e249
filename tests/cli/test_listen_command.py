"""`billdrift listen`'s options reach the listener's settings, each by its own name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from billdrift.cli.app import main
from billdrift.listen import server


def test_each_serving_option_reaches_the_settings_and_defaults_match_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[server.Settings] = []

    def serve(config: Any, settings: server.Settings, secrets: Any, **_: Any) -> int:
        seen.append(settings)
        return 0

    monkeypatch.setattr(server, "serve", serve)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_x")
    monkeypatch.chdir(tmp_path)
    queue = str(tmp_path / "q.sqlite")
    given = ["--queue", queue, "--host", "0.0.0.0", "--port", "9001", "--window", "2.5"]
    given += ["--tolerance", "60", "--threads", "3", "--batch", "7", "--receivers", "2"]
    for argv in (["listen", "--queue", queue], ["listen", *given]):
        result = CliRunner().invoke(main, argv)
        assert result.exit_code == 0, result.output
    defaults, chosen = seen
    assert defaults == server.Settings(queue=Path(queue))  # the CLI's defaults are the library's
    assert chosen == server.Settings(
        queue=Path(queue),
        host="0.0.0.0",
        port=9001,
        window=2.5,
        tolerance=60,
        threads=3,
        batch=7,
        receivers=2,
    )
