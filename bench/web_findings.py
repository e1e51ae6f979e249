"""Benchmark the web app's findings list over a history store of 100,000 findings.

Usage::

    PYTHONPATH=src python bench/web_findings.py [--findings 100000] [--repeat 5]
        [--store DIR]

A SQLite history store is filled with one recorded run of N findings (mixed
kinds, severities and currencies; built directly, not by a check, so only the
store's size matters), the app is served by uvicorn on 127.0.0.1 in this process,
and each page is fetched `--repeat` times over HTTP with httpx. Reported per page:
the best and median time to first byte (request sent to the first byte of the
response: what a person waits for before the browser starts drawing) and the
page's size. Pages: the first page of open findings (the default sort, urgency),
a filtered page (one kind, one currency, a minimum amount, sorted by amount), a
search by email (which reads the latest evidence of every candidate), and page
1,000 (an offset deep in the list).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.web.server import served  # noqa: E402

from billdrift.core.model import Exposure, Finding, Kind, Severity  # noqa: E402
from billdrift.core.report import Report, decide_verdict  # noqa: E402
from billdrift.history import open_store, record_run  # noqa: E402
from billdrift.web.settings import WebSettings  # noqa: E402

KINDS = (Kind.PAID_BUT_BLOCKED, Kind.UNPAID_BUT_ACTIVE, Kind.PLAN_DRIFT, Kind.ORPHANED_SUBSCRIPTION)
CURRENCIES = ("USD", "USD", "USD", "EUR", "GBP")
AS_OF = datetime(2026, 11, 22, tzinfo=UTC)


def build_store(path: Path, n: int) -> float:
    findings = tuple(
        Finding(
            kind=KINDS[i % len(KINDS)],
            severity=Severity(1 + i % 3),
            confidence=1.0,
            account_id=f"u{i}",
            customer_id=f"cus_{i:07d}",
            subscription_id=f"sub_{i:07d}",
            exposure=Exposure(f"{(i * 7919) % 50000 / 100:.2f}", CURRENCIES[i % len(CURRENCIES)]),
            message=f"finding {i}",
            fix="fix it",
            evidence={"app": {"email": f"user{i}@example.com"}, "billing": {"status": "active"}},
        )
        for i in range(n)
    )
    ordered = tuple(sorted(findings, key=lambda f: -f.severity))
    report = Report(
        verdict=decide_verdict(ordered, (), (), Severity.HIGH),
        as_of=AS_OF,
        fail_on=Severity.HIGH,
        findings=ordered,
        counts={"accounts": n, "subscriptions": n, "customers": n},
    )
    started = time.perf_counter()
    with open_store(path) as store:
        record_run(store, report, AS_OF, AS_OF + timedelta(seconds=5))
    return time.perf_counter() - started


def ttfb(client: httpx.Client, path: str) -> tuple[float, int]:
    started = time.perf_counter()
    with client.stream("GET", path) as response:
        chunks = response.iter_raw()
        first = next(chunks)
        waited = time.perf_counter() - started
        size = len(first) + sum(len(chunk) for chunk in chunks)
        assert response.status_code == 200, response.status_code
    return waited, size


PAGES = (
    ("page 1, open findings by urgency", "/findings"),
    (
        "filtered: unpaid_but_active, EUR, >= 100, by amount",
        "/findings?kind=unpaid_but_active&currency=EUR&min=100&sort=amount",
    ),
    ("search by email", "/findings?q=user4242%40example.com"),
    ("page 1,000 (offset 49,950)", "/findings?offset=49950"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--store", type=Path, default=None)
    args = parser.parse_args()
    directory = args.store or Path(tempfile.mkdtemp(prefix="billdrift-web-bench-"))
    path = directory / "history.sqlite"
    if not path.exists():
        seconds = build_store(path, args.findings)
        print(f"recorded {args.findings:,} findings in {seconds:.1f} s ({path})")
    with served(WebSettings(history=str(path))) as app, httpx.Client(base_url=app.url) as client:
        client.get("/")  # a session cookie, as a browser has
        print("| page | TTFB best (ms) | TTFB median (ms) | size (KB) |")
        print("|---|---:|---:|---:|")
        for label, url in PAGES:
            times, size = [], 0
            for _ in range(args.repeat):
                waited, size = ttfb(client, url)
                times.append(waited * 1000)
            best, median = min(times), statistics.median(times)
            print(f"| {label} | {best:.0f} | {median:.0f} | {size / 1024:.0f} |")


if __name__ == "__main__":
    main()
