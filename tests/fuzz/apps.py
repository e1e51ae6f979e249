"""Fixed, valid inputs for the side that is not being fuzzed."""

from __future__ import annotations

from pathlib import Path

#: Accounts for customers cus_0..cus_4 and ctm_0..ctm_4, all granted access.
APP_CSV = "id,email,stripe_customer_id,has_paid_access\n" + "".join(
    f"u{n},user{n}@example.com,{prefix}_{n},t\n" for prefix in ("cus", "ctm") for n in range(5)
)

BILLING_CSV = (
    "id,Customer ID,Customer Email,Status,Amount,Currency,Interval,"
    "Current Period End (UTC),Cancel At Period End\n"
    + "".join(
        f"sub_{n},cus_{n},user{n}@example.com,active,29.00,usd,month,2026-12-01 00:00,false\n"
        for n in range(5)
    )
)


def app_file(folder: Path) -> Path:
    path = folder / "users.csv"
    if not path.exists():
        path.write_text(APP_CSV)
    return path


def billing_file(folder: Path) -> Path:
    path = folder / "subscriptions.csv"
    if not path.exists():
        path.write_text(BILLING_CSV)
    return path


def app_for(folder: Path, customers: list[str]) -> Path:
    """An app export granting access to exactly `customers`: in sync with a billing side
    where each of them has one live subscription."""
    path = folder / "users.csv"
    rows = "".join(f"u{n},user{n}@example.com,{c},t\n" for n, c in enumerate(customers))
    path.write_text("id,email,stripe_customer_id,has_paid_access\n" + rows)
    return path
