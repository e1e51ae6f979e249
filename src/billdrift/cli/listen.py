"""``billdrift listen``: parse the options, then hand over to :mod:`billdrift.listen`."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import click

from billdrift.cli.exits import run_command
from billdrift.cli.options import config_file, config_option
from billdrift.config import Config, load_config
from billdrift.errors import ConfigError
from billdrift.usecases.overrides import with_overrides

#: The queue file when neither --queue nor a history file says where.
DEFAULT_QUEUE = ".billdrift/listen-queue.sqlite"


def _queue_path(given: str | None, config: Config) -> Path:
    """--queue, else beside a history file, else DEFAULT_QUEUE."""
    if given:
        return Path(given)
    history = config.history.location
    if history and "://" not in history and not history.startswith("env:"):
        return Path(history).parent / "listen-queue.sqlite"
    return Path(DEFAULT_QUEUE)


@click.command()
@click.option(
    "--app",
    "app",
    metavar="URL",
    help="The app database (postgresql://, mysql://, mariadb://, a SQLite file or env:NAME); "
    "only the triggering customer's accounts are read.",
)
@click.option("--app-table", "app_table", metavar="TABLE", help="The accounts table.")
@config_option
@click.option(
    "--history",
    "history",
    metavar="PATH_OR_URL",
    help="Record each targeted run in this history store (SQLite file, postgresql:// URL or "
    "env:NAME).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8787,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on.",
)
@click.option(
    "--queue",
    "queue",
    metavar="PATH",
    help="The queue's SQLite file [beside the history file, else " + DEFAULT_QUEUE + "].",
)
@click.option(
    "--window",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0, 3600),
    help="Seconds events for one customer are gathered into one check.",
)
@click.option(
    "--tolerance",
    default=300.0,
    show_default=True,
    type=click.FloatRange(1, 86400),
    help="Seconds a signed webhook timestamp may be from now.",
)
@click.option(
    "--threads",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Checks run at once (they share the provider's rate limit).",
)
@click.option(
    "--batch",
    default=50,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="Most customers checked together in one run (one app query, one history write).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks and log every check.")
def listen(config_path: str | None, debug: bool, **flags: Any) -> None:
    """Take Stripe and Paddle webhooks as triggers: check the customer an event names.

    Endpoints: POST /webhooks/stripe and /webhooks/paddle (signing secrets from
    $STRIPE_WEBHOOK_SECRET / $PADDLE_WEBHOOK_SECRET, API keys as for --billing stripe
    or paddle). Events are stored on disk and answered at once; the customer's
    subscriptions are re-fetched from the API and their accounts checked with the
    same rules as `check`. Never writes to the app. SIGTERM stops cleanly.
    """

    def body() -> int:
        try:
            from billdrift.listen.server import Settings, serve
        except ImportError as error:
            raise ConfigError(
                f"billdrift listen needs its web server ({error.name} is missing): "
                "pip install 'billdrift[listen]'"
            ) from None
        from billdrift.usecases.listening import webhook_secrets

        secrets = webhook_secrets(os.environ)
        queue = flags.pop("queue")
        network = {
            key: flags.pop(key)
            for key in ("host", "port", "window", "tolerance", "threads", "batch")
        }
        config = with_overrides(load_config(config_file(config_path)), **flags)
        settings = Settings(queue=_queue_path(queue, config), **network)
        logging.basicConfig(
            level=logging.INFO if debug else logging.WARNING,
            format="billdrift listen: %(message)s",
        )

        def ready(address: str) -> None:
            names = ", ".join(f"{address}/webhooks/{provider}" for provider in secrets)
            click.echo(f"billdrift listen: accepting {names}; queue {settings.queue}", err=True)

        return serve(config, settings, secrets, on_ready=ready)

    run_command(body, debug)
