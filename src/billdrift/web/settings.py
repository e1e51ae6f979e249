"""What the web app was started with: one immutable value the app factory reads.

Kept apart from the command line so tests (and any other launcher) build an app
without click, and so the app never reads the environment behind its settings' back.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from billdrift.outputs.mask import MaskMode

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 8765
#: The largest upload the app accepts (bytes): a million-row export is ~100-300 MB.
DEFAULT_MAX_UPLOAD: Final = 2 * 1024**3


def is_loopback(host: str) -> bool:
    """True for a host name or address that only this machine can reach."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, kw_only=True)
class WebSettings:
    """The server's settings.

    `history` is the store's location (a path, ``postgresql://`` URL or ``env:NAME``);
    None means no store is configured, and the history pages say how to set one.
    `config_path` is the config file a check (and ``expect``) uses, found by the one
    discovery rule; `token`, when set, is required of every request (see
    :mod:`billdrift.web.security`).
    """

    history: str | None = None
    config_path: Path | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str | None = None
    mask: MaskMode = "none"
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)
