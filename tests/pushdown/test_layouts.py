"""Each warehouse layout (Fivetran, in history mode too, Airbyte, Stripe Data Pipeline,
Stripe's hosted Postgres), built on the real PostgreSQL server from its documented shape,
gives the findings a Stripe CSV export of the same subscriptions gives: in-process and
pushed down (``--engine postgres``) alike, row for row. Rows a loader marks deleted are
left out and reported as skips; a sync older than ``billing.max_sync_age_hours`` at the
as-of instant is an ERROR, on both sides of the bound, for every layout."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from billdrift.cli import app as cli
from billdrift.config import BillingConfig
from billdrift.core.model import Finding
from billdrift.core.policy import from_config
from billdrift.core.report import Report
from billdrift.errors import EXIT_ERROR, SourceError
from billdrift.infra.db.urls import resolve
from billdrift.sources.pushdown import postgres as pushdown
from billdrift.usecases.check import check
from tests.pushdown.test_mirrors import app_table, both, config
from tests.pushdown.warehouse_shapes import AS_OF, DELETED, LAYOUTS, csv_export
from tests.sources.billing import test_stripe_mirror as mirror_tests
from tests.sources.billing.test_stripe_mirror import Mirror, dj_stripe, sync_engine

reader = mirror_tests.reader
mirror = mirror_tests.mirror

#: Layouts whose loader marks deleted rows (the others have no such marker).
MARKS_DELETIONS = {"fivetran", "fivetran-history", "airbyte"}


def _without_sources(value: Any) -> Any:
    """Evidence without the ``source`` references, which name the file or table read."""
    if isinstance(value, dict):
        return {k: _without_sources(v) for k, v in value.items() if k != "source"}
    if isinstance(value, list):
        return [_without_sources(v) for v in value]
    return value


def essentials(findings: tuple[Finding, ...]) -> list[tuple[Any, ...]]:
    return [
        (f.kind, f.severity, f.confidence, f.account_id, f.customer_id, f.subscription_id,
         f.exposure, f.message, _without_sources(f.evidence))
        for f in findings
    ]  # fmt: skip


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_each_layout_finds_what_the_csv_export_finds_in_process_and_pushed_down(
    mirror: Mirror, tmp_path: Path, name: str
) -> None:
    build, table, column = LAYOUTS[name]
    build(mirror)
    app_table(mirror, "boolean")
    url = mirror.url
    export = csv_export(tmp_path / "subscriptions.csv")
    exported = check(billing=str(export), app=url, as_of=AS_OF, app_table="public.users")

    in_process, pushed = both(url)

    kinds = {finding.kind.value for finding in exported.findings}
    assert {"paid_but_blocked", "unpaid_but_active", "stale_billing_link"} <= kinds
    assert {"orphaned_subscription", "duplicate_customer"} <= kinds
    assert essentials(in_process.findings) == essentials(exported.findings)
    assert pushed.findings == in_process.findings
    assert pushed.counts == in_process.counts == exported.counts
    assert pushed.classification == in_process.classification == exported.classification
    assert pushed.skips == in_process.skips
    said = f"; newest sync 2.0 h before --as-of ({column})"
    for report in (in_process, pushed):
        assert report.sources[0].description.startswith(f"stripe-mirror {table} in ")
        assert report.sources[0].description.endswith(said)
    if name in MARKS_DELETIONS:
        (gone,) = in_process.skips
        assert gone.location == f"{table} id={DELETED.id}"
        assert gone.reason.startswith("deleted at the source (")
        assert gone.customer_id is None
        assert gone.left_out  # not counted as unreadable: no max_skipped_ratio ERROR
        assert DELETED.id not in {f.subscription_id for f in in_process.findings}
    else:
        assert in_process.skips == ()


#: The app-kept mirrors too: their sync times, timestamptz.
SYNCED_COPIES = {
    **LAYOUTS,
    "sync-engine": (sync_engine, "stripe.subscriptions", "updated_at"),
    "dj-stripe": (dj_stripe, "public.djstripe_subscription", "djstripe_updated"),
}


def _set_sync(mirror: Mirror, name: str, when: datetime) -> None:
    _, table, column = SYNCED_COPIES[name]
    aware = name not in ("fivetran", "fivetran-history", "data-pipeline")  # timestamp there
    mirror.run(f"UPDATE {table} SET {column} = %s", [when if aware else when.replace(tzinfo=None)])


def _pushed(url: str) -> Report:
    settings = config(url)
    return pushdown.run(resolve(url), settings.app, settings.billing, from_config(settings), AS_OF)


@pytest.mark.parametrize("name", list(SYNCED_COPIES))
def test_a_sync_just_within_the_bound_passes_and_just_past_it_is_an_error(
    mirror: Mirror, name: str
) -> None:
    build, table, _ = SYNCED_COPIES[name]
    build(mirror)
    app_table(mirror, "boolean")
    url = mirror.url
    _set_sync(mirror, name, AS_OF - timedelta(hours=24))
    in_process, pushed = both(url)  # exactly 24 h old: within the default bound
    assert pushed.findings == in_process.findings != ()

    _set_sync(mirror, name, AS_OF - timedelta(hours=24, seconds=1))
    old = rf"{table} \(.*\): the newest sync is 24\.0 h old, more than billing.max_sync_age"
    with pytest.raises(SourceError, match=old) as error:
        check(billing=url, app=url, as_of=AS_OF, app_table="public.users")
    assert error.value.exit_code == EXIT_ERROR
    with pytest.raises(SourceError, match=old):
        _pushed(url)


def test_the_cli_exits_2_naming_the_stale_table_and_its_age(mirror: Mirror) -> None:
    LAYOUTS["fivetran"][0](mirror)
    app_table(mirror, "boolean")
    mirror.run("UPDATE stripe.subscription SET _fivetran_synced = '2026-11-19 12:00'")
    for engine in ((), ("--engine", "postgres")):
        result = CliRunner().invoke(
            cli.main,
            ["check", "--app", mirror.url, "--app-table", "public.users", "--billing",
             mirror.url, "--as-of", AS_OF.isoformat(), "--format", "json", *engine],
        )  # fmt: skip
        assert result.exit_code == 2, result.output
        assert "stripe.subscription (Fivetran, _fivetran_synced)" in result.stderr
        assert "the newest sync is 60.0 h old" in result.stderr
        report = json.loads(result.stdout)  # an ERROR report: no verdict on stale data
        assert report["verdict"] == "ERROR"
        assert report["findings"] == []


def test_the_bound_is_configurable(mirror: Mirror) -> None:
    LAYOUTS["airbyte"][0](mirror)
    _set_sync(mirror, "airbyte", AS_OF - timedelta(hours=30))
    app_table(mirror, "boolean")
    loose = config(mirror.url)
    loose = loose.model_copy(
        update={"billing": BillingConfig(sources=loose.billing.sources, max_sync_age_hours=30)}
    )
    report = check(billing=mirror.url, app=mirror.url, config=loose, as_of=AS_OF,
                   app_table="public.users")  # fmt: skip
    assert report.sources[0].description.endswith("newest sync 30.0 h before --as-of "
                                                  "(_airbyte_extracted_at)")  # fmt: skip


def test_no_sync_time_in_a_synced_table_is_an_error_not_a_guess(mirror: Mirror) -> None:
    LAYOUTS["data-pipeline"][0](mirror)
    mirror.run("UPDATE stripe_data.subscriptions SET batch_timestamp = NULL")
    app_table(mirror, "boolean")
    with pytest.raises(SourceError, match="no sync time found"):
        check(billing=mirror.url, app=mirror.url, as_of=AS_OF, app_table="public.users")


def test_a_layout_missing_a_table_is_an_error_naming_it(mirror: Mirror) -> None:
    LAYOUTS["fivetran"][0](mirror)
    mirror.run("DROP TABLE stripe.subscription_item")
    with pytest.raises(SourceError) as error:
        check(billing=mirror.url, app=mirror.url, as_of=AS_OF, app_table="public.users")
    message = str(error.value)
    assert "stripe.subscription in postgresql://" in message
    assert "looks like a Fivetran Stripe schema, but there is no stripe.subscription_item " in (
        message
    )
    assert "tables in stripe: customer, price, subscription" in message


def test_a_layout_missing_a_column_is_an_error_naming_it(mirror: Mirror) -> None:
    LAYOUTS["data-pipeline"][0](mirror)
    mirror.run("ALTER TABLE stripe_data.subscriptions DROP COLUMN status")
    with pytest.raises(SourceError, match=r"stripe_data.subscriptions in .* has no status column, "
                       r"which Stripe Data Pipeline tables always has"):  # fmt: skip
        check(billing=mirror.url, app=mirror.url, as_of=AS_OF, app_table="public.users")


def test_explain_shows_the_layout_sql_and_reads_no_rows(mirror: Mirror) -> None:
    LAYOUTS["fivetran"][0](mirror)
    app_table(mirror, "boolean")
    mirror.run("UPDATE stripe.subscription SET _fivetran_synced = '2020-01-01'")  # stale
    result = CliRunner().invoke(
        cli.main,
        ["check", "--app", mirror.url, "--app-table", "public.users", "--billing", mirror.url,
         "--as-of", AS_OF.isoformat(), "--engine", "postgres", "--explain"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert '"stripe"."subscription_item" AS i' in result.stdout
    assert '"_fivetran_deleted" IS NOT TRUE' in result.stdout
    assert json.dumps("findings") not in result.stdout
