"""Each billing file is recognised by the right source; anything else gets a clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from billdrift.config import BillingConfig
from billdrift.errors import SourceError
from billdrift.sources.billing.interface import BillingSource
from billdrift.sources.billing.paddle_json import PaddleJsonSource
from billdrift.sources.billing.stripe_csv import StripeCsvSource
from billdrift.sources.billing.stripe_json import StripeJsonSource
from billdrift.sources.registry import open_billing

from .helpers import FIXTURES, write


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("stripe_subscriptions.json", StripeJsonSource),
        ("stripe_subscriptions.jsonl", StripeJsonSource),
        ("paddle_subscriptions.json", PaddleJsonSource),
        ("stripe_dashboard.csv", StripeCsvSource),
        ("other_tool.csv", StripeCsvSource),
    ],
)
def test_fixtures_are_detected_by_content(name: str, expected: type[BillingSource]) -> None:
    source = open_billing(str(FIXTURES / name), BillingConfig())
    assert type(source) is expected
    assert source.read().subscriptions.num_rows > 0


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"object": "list", "data": [], "has_more": false}', StripeJsonSource),
        ('\ufeff[{"id": "sub_1", "customer": "cus_1", "status": "active"}]', StripeJsonSource),
        ('{"data": [], "meta": {"pagination": {"per_page": 50}}}', PaddleJsonSource),
        (
            '[{"id": "sub_01hv8x29kz0t586xy6zn1a62ny", '
            '"customer_id": "ctm_01hv8wt8nffez4p2t6typn4a5j", "status": "active"}]',
            PaddleJsonSource,
        ),
        # "pro_monthly" is a Stripe lookup key, not a Paddle product id.
        (
            '[{"id": "sub_1", "items": {"data": [{"price": {"lookup_key": "pro_monthly"}}]}}]',
            StripeJsonSource,
        ),
        ("Subscription ID,Status\nsub_1,active\n", StripeCsvSource),
    ],
)
def test_minimal_files_are_detected(
    tmp_path: Path, content: str, expected: type[BillingSource]
) -> None:
    path = write(tmp_path, "input", content)
    assert type(open_billing(str(path), BillingConfig())) is expected


@pytest.mark.parametrize(
    "content",
    [
        json.dumps({"users": [{"name": "Ann", "plan": "pro"}]}),
        "name,age,city\nAnn,31,Oslo\n",
    ],
)
def test_unrelated_json_or_csv_is_rejected_with_what_was_expected(
    tmp_path: Path, content: str
) -> None:
    path = write(tmp_path, "random.txt", content)
    with pytest.raises(SourceError) as error:
        open_billing(str(path), BillingConfig())
    message = str(error.value)
    assert f"cannot tell what {path} is" in message
    assert "Stripe subscriptions JSON" in message
    assert "stripe-csv" in message


def test_kind_prefix_skips_sniffing(tmp_path: Path) -> None:
    path = write(tmp_path, "subs.txt", "Subscription ID,Customer ID,Status\nsub_1,cus_1,active\n")
    source = open_billing(f"stripe-csv:{path}", BillingConfig())
    assert type(source) is StripeCsvSource
    assert source.read().subscriptions.column("subscription_id").to_pylist() == ["sub_1"]


def test_each_source_rejects_the_others_files() -> None:
    for path in sorted(FIXTURES.iterdir()):
        head = path.read_bytes()[: 64 * 1024]
        accepted = [
            s.kind
            for s in (PaddleJsonSource, StripeJsonSource, StripeCsvSource)
            if s.sniff(path, head)
        ]
        assert len(accepted) == 1, (path.name, accepted)
