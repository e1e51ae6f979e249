"""Provider API payloads: generated subscription objects served by the local fake Stripe
and fake Paddle (127.0.0.1), read through ``--billing stripe`` and ``--billing paddle``.

The objects keep what the fakes themselves need to page (a string id, an integer
``created`` for Stripe); everything else is fuzzed. The API keys are planted secrets.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fakes.paddle_fake import FakePaddle, PaddleStore
from tests.fakes.stripe_fake import FakeStripe, make_customer
from tests.fuzz.apps import app_file
from tests.fuzz.invariants import check, write
from tests.fuzz.settings import share
from tests.fuzz.test_paddle_json import record as paddle_record
from tests.fuzz.test_stripe_json import record as stripe_record
from tests.fuzz.values import evil_text, unix_seconds

pytestmark = pytest.mark.fuzz
#: Inputs for this parser are shared by its 1 test(s).
FUZZ = share(1)


@pytest.fixture(scope="module")
def stripe() -> Iterator[FakeStripe]:
    with FakeStripe() as server:
        yield server


@pytest.fixture(scope="module")
def paddle() -> Iterator[FakePaddle]:
    with FakePaddle() as server:
        yield server


def config(folder: Path, table: str, base: str) -> Path:
    extra = (
        'incremental = false\nconcurrency = 1\nsnapshot_dir = "snapshots"\n'
        "max_requests_per_second_per_endpoint = 1000.0\n"
    )
    return write(
        folder / "billdrift.toml",
        f'[billing.{table}]\napi_base = "{base}"\nmax_requests_per_second = 1000.0\n'
        f"retries = 0\n{extra if table == 'stripe' else ''}",
    )


@FUZZ
@given(data=st.data())
def test_generated_stripe_api_payloads(
    stripe: FakeStripe, tmp_path: Path, data: st.DataObject
) -> None:
    stripe.store.clear()
    for number in range(data.draw(st.integers(1, 4))):
        found: dict[str, Any] = data.draw(stripe_record(number))
        found.update(id=f"sub_{number}", customer=f"cus_{number}")
        found["created"] = data.draw(unix_seconds())
        stripe.store.add_subscription(found)
        email = data.draw(st.one_of(st.just(f"user{number}@example.com"), evil_text()))
        stripe.store.add_customer(make_customer(f"cus_{number}", email, created=found["created"]))
    settings = config(tmp_path, "stripe", stripe.url)
    check(
        ["--billing", "stripe", "--app", str(app_file(tmp_path)), "--config", str(settings)],
        named=["Stripe", "stripe"],
        secrets=[FakeStripe.DEFAULT_KEY],
        env={"STRIPE_API_KEY": FakeStripe.DEFAULT_KEY},
    )


@FUZZ
@given(data=st.data())
def test_generated_paddle_api_payloads(
    paddle: FakePaddle, tmp_path: Path, data: st.DataObject
) -> None:
    paddle.store = PaddleStore()
    for number in range(data.draw(st.integers(1, 4))):
        found: dict[str, Any] = data.draw(paddle_record(number))
        found["id"] = f"sub_{number}"
        paddle.store.add_subscription(found)
    settings = config(tmp_path, "paddle", paddle.url)
    check(
        ["--billing", "paddle", "--app", str(app_file(tmp_path)), "--config", str(settings)],
        named=["Paddle", "paddle"],
        secrets=[FakePaddle.DEFAULT_KEY],
        env={"PADDLE_API_KEY": FakePaddle.DEFAULT_KEY},
    )
