"""``billdrift listen``: parse the options, then hand over to :mod:`billdrift.listen`."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from billdrift.cli.exits import run_command
from billdrift.cli.options import config_file, config_option
from billdrift.errors import ConfigError
from billdrift.infra.runtime import loading

if TYPE_CHECKING:
    from billdrift.config import Config

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


#: The listener's network and tuning options, one declaration each: name, default,
#: type, help. Their values go to ``billdrift.listen.server.Settings`` by name.
_SERVING: tuple[tuple[str, Any, click.ParamType[Any], str], ...] = (
    ("host", "127.0.0.1", click.STRING, "Address to listen on."),
    ("port", 8787, click.IntRange(0, 65535), "Port to listen on."),
    (
        "window",
        5.0,
        click.FloatRange(0, 3600),
        "Seconds events for one customer are gathered into one check.",
    ),
    (
        "tolerance",
        300.0,
        click.FloatRange(1, 86400),
        "Seconds a signed webhook timestamp may be from now.",
    ),
    (
        "threads",
        4,
        click.IntRange(1, 64),
        "Checks run at once (they share the provider's rate limit).",
    ),
    (
        "receivers",
        1,
        click.IntRange(1, 16),
        "Processes receiving webhooks on the port (each is one more share of a busy "
        "machine's CPU).",
    ),
    (
        "batch",
        50,
        click.IntRange(1, 1000),
        "Most customers checked together in one run (one app query, one history write).",
    ),
)


def _serving_options(command: Callable[..., None]) -> Callable[..., None]:
    for name, default, kind, text in reversed(_SERVING):
        command = click.option(
            f"--{name}", name, default=default, show_default=True, type=kind, help=text
        )(command)
    return command


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
@click.option(
    "--queue",
    "queue",
    metavar="PATH",
    help="The queue's SQLite file [beside the history file, else " + DEFAULT_QUEUE + "].",
)
@_serving_options
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
            with loading():  # here: --help and argument errors load none of it (issue 17)
                from billdrift.listen.server import Settings, serve
        except ImportError as error:
            raise ConfigError(
                f"billdrift listen needs its web server ({error.name} is missing): "
                "pip install 'billdrift[listen]'"
            ) from None
        from billdrift.config import load_config
        from billdrift.usecases.overrides import with_overrides
        from billdrift.usecases.receiving import webhook_secrets

        secrets = webhook_secrets(os.environ)
        queue = flags.pop("queue")
        network = {name: flags.pop(name) for name, *_ in _SERVING}
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
