"""Plain helpers for the billing-source tests: real files, real config, exact rows."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from billdrift.config import BillingConfig
from billdrift.core.model import BILLING_ITEMS, BILLING_SUBSCRIPTIONS, BillingData
from billdrift.core.refs import ref_schema
from billdrift.sources.billing.interface import BillingSource
from tests.builders import as_text

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "billing"


def utc(text: str) -> datetime:
    """`2024-05-01 12:00` (or any ISO form) as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def write(folder: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def read(source: type[BillingSource], path: Path | str, **config: Any) -> BillingData:
    """Read `path` with `source` and check the result carries the canonical schemas
    (places in either form); returned with its places as text (:func:`as_text`)."""
    data = source(str(path), BillingConfig(**config)).read()
    subscriptions = data.subscriptions
    assert subscriptions.schema.equals(ref_schema(BILLING_SUBSCRIPTIONS, subscriptions))
    assert data.items.schema.equals(BILLING_ITEMS)
    return replace(data, subscriptions=as_text(subscriptions))


def sub_row(subscription_id: str, source_ref: str, **values: Any) -> dict[str, Any]:
    """A full BILLING_SUBSCRIPTIONS row: everything not given is null (provider stripe)."""
    row: dict[str, Any] = {field.name: None for field in BILLING_SUBSCRIPTIONS}
    row.update(provider="stripe", subscription_id=subscription_id, source_ref=source_ref)
    row.update(values)
    return row


def item_row(subscription_id: str, **values: Any) -> dict[str, Any]:
    """A full BILLING_ITEMS row: quantity and interval_count default to 1, the rest null."""
    row: dict[str, Any] = {field.name: None for field in BILLING_ITEMS}
    row.update(subscription_id=subscription_id, quantity=1, interval_count=1)
    row.update(values)
    return row


def skips(data: BillingData) -> list[tuple[str, str | None]]:
    """(location, field) of every skip, the part tests pin down exactly."""
    return [(skip.location, skip.field) for skip in data.skips]


HEADER = "id,Customer ID,Status,Amount,Currency,Current Period End (UTC),Cancel At Period End\n"


def csv(tmp_path: Path, body: str, header: str = HEADER, name: str = "subs.csv") -> Path:
    return write(tmp_path, name, header + body)
