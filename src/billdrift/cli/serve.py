"""``billdrift serve``: parse the options, check the bind is safe, start the web app.

Everything else is :mod:`billdrift.web`. The token is generated here and printed
once, to this terminal only: the server never logs it.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, cast

import click

from billdrift.cli.exits import run_command
from billdrift.cli.options import CONFIG_HELP, config_file
from billdrift.errors import BilldriftError, ConfigError
from billdrift.infra.runtime import loading

if TYPE_CHECKING:
    from billdrift.outputs.mask import MaskMode

EXTRA_MISSING = "the web app needs its optional dependencies: pip install 'billdrift[web]'"


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="Port to bind."
)
@click.option(
    "--history",
    "history",
    metavar="LOC",
    help="History store the pages read: a SQLite file, postgresql:// URL or env:NAME "
    "[else the config's [history] location].",
)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option(
    "--token",
    "use_token",
    is_flag=True,
    help="Require a generated access token (printed once here). Required for any --host "
    "other than loopback.",
)
@click.option(
    "--mask",
    type=click.Choice(["none", "emails", "all"]),
    default="none",
    show_default=True,
    help="Masking new browser sessions start with (each page can change it).",
)
@click.option(
    "--max-upload",
    "max_upload_mb",
    type=click.IntRange(1, None),
    metavar="MB",
    # No default here: the web app's own (2 GiB) applies, read only when it starts.
    help="Largest upload the audit page accepts, in MiB (the whole request counts) "
    "[default: 2048].",
)
def serve(
    host: str,
    port: int,
    history: str | None,
    config_path: str | None,
    use_token: bool,
    mask: str,
    max_upload_mb: int | None,
) -> None:
    """Start the local web app: dashboard, findings, review, runs.

    Binds 127.0.0.1 unless told otherwise; binding anywhere else needs --token,
    which generates an access token and prints it once. Stop it with Ctrl-C.
    """

    def body() -> int:
        from billdrift.web.settings import (  # no extra needed
            DEFAULT_MAX_UPLOAD,
            WebSettings,
            is_loopback,
        )

        if not is_loopback(host) and not use_token:
            raise ConfigError(
                f"--host {host} lets other machines reach billdrift (customer ids, emails, "
                "review decisions): add --token to require an access token, or bind "
                "127.0.0.1"
            )
        try:
            with loading():  # here: --help and argument errors load none of it (issue 17)
                from billdrift.web.server import serve as run_server
        except ImportError:
            raise BilldriftError(EXTRA_MISSING) from None
        from billdrift.config import load_config

        found = config_file(config_path)
        config = load_config(found)
        token = secrets.token_urlsafe(24) if use_token else None
        settings = WebSettings(
            history=history or config.history.location,
            config_path=found,
            host=host,
            port=port,
            token=token,
            mask=cast("MaskMode", mask),  # one of click.Choice's
            max_upload_bytes=DEFAULT_MAX_UPLOAD
            if max_upload_mb is None
            else max_upload_mb * 1024**2,
        )
        shown = f"[{host}]" if ":" in host else host
        click.echo(f"billdrift: serving on http://{shown}:{port}/ (Ctrl-C stops it)")
        if token is not None:
            click.echo(f"billdrift: access token (shown once, never logged): {token}")
        run_server(settings)
        return 0

    run_command(body)
