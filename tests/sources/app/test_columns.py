"""Column auto-detection: what each app column means, and when to refuse to guess."""

from __future__ import annotations

from typing import Any

import pytest

from billdrift.config import AppConfig
from billdrift.errors import ConfigError, SourceError
from billdrift.infra.quoting import quote_identifier
from billdrift.sources.app.columns import (
    ColumnMapping,
    detect_columns,
    detection_note,
    normalize,
)

USERS = ["id", "email", "stripe_customer_id", "has_paid_access", "plan", "subscription_status"]
WORKSPACES = [
    "workspace_id",
    "Name",
    "Billing Email",
    "Stripe Customer ID",
    "Plan Tier",
    "isPro",
    "Access-Enabled",
    "billing_status",
    "owner_user_id",
]


def detect(header: list[str], **config: Any) -> ColumnMapping:
    return detect_columns(header, AppConfig(**config), "the header of users.csv")


def test_users_header_is_fully_detected() -> None:
    mapping = detect(USERS)
    assert mapping == ColumnMapping(
        account_id="id",
        customer_id="stripe_customer_id",
        subscription_id=None,
        email="email",
        plan="plan",
        role=None,
        access_fields=("has_paid_access",),
        status_fields=("subscription_status",),
        primary_access_field="has_paid_access",
        auto_detected=(
            "account_id",
            "customer_id",
            "email",
            "plan",
            "access_fields",
            "status_fields",
            "primary_access_field",
        ),
    )
    assert mapping.fields() == (("has_paid_access", "flag"), ("subscription_status", "status"))
    assert mapping.columns() == (
        "id",
        "stripe_customer_id",
        "email",
        "plan",
        "has_paid_access",
        "subscription_status",
    )


def test_workspaces_header_with_spaces_dashes_and_camel_case() -> None:
    mapping = detect(WORKSPACES)
    assert mapping.account_id == "workspace_id"
    assert mapping.customer_id == "Stripe Customer ID"
    assert mapping.email == "Billing Email"
    assert mapping.plan == "Plan Tier"
    # access_enabled outranks is_pro in the candidate list; both are read.
    assert mapping.access_fields == ("Access-Enabled", "isPro")
    assert mapping.status_fields == ("billing_status",)
    assert mapping.primary_access_field == "Access-Enabled"


def test_as_dict_and_describe_for_reports() -> None:
    mapping = detect(USERS)
    assert mapping.as_dict() == {
        "account_id": "id",
        "customer_id": "stripe_customer_id",
        "subscription_id": None,
        "email": "email",
        "plan": "plan",
        "role": None,
        "access_fields": ["has_paid_access"],
        "status_fields": ["subscription_status"],
        "primary_access_field": "has_paid_access",
        "auto_detected": [
            "account_id",
            "customer_id",
            "email",
            "plan",
            "access_fields",
            "status_fields",
            "primary_access_field",
        ],
    }
    assert mapping.describe() == (
        "account_id=id, customer_id=stripe_customer_id, email=email, plan=plan, "
        "access=has_paid_access (flag, primary), access=subscription_status (status)"
    )


def test_detection_note_names_every_guess_and_how_to_override() -> None:
    note = detection_note(detect(USERS), "users.csv")
    assert note == (
        "users.csv: auto-detected columns: account_id <- id; customer_id <- "
        "stripe_customer_id; email <- email; plan <- plan; access flags <- has_paid_access; "
        "status fields <- subscription_status; primary access field <- has_paid_access. "
        "Set app.columns.*, app.access_fields, app.status_fields or "
        "app.primary_access_field to override."
    )


def test_no_note_when_everything_is_configured() -> None:
    mapping = detect(
        ["uid", "paid"],
        columns={"account_id": "uid"},
        access_fields=("paid",),
        status_fields=(),
    )
    assert mapping.auto_detected == ("primary_access_field",)
    assert detection_note(mapping, "users.csv") is None


def test_explicit_config_wins_over_candidates() -> None:
    mapping = detect(
        ["id", "user_id", "email", "contact", "is_pro", "has_paid_access", "status"],
        columns={"account_id": "user_id", "email": "contact"},
        access_fields=("is_pro",),
        primary_access_field="status",
    )
    assert mapping.account_id == "user_id"
    assert mapping.email == "contact"
    assert mapping.access_fields == ("is_pro",)
    assert mapping.status_fields == ("status",)
    assert mapping.primary_access_field == "status"
    assert "account_id" not in mapping.auto_detected


def test_configured_names_match_loosely_when_unambiguous() -> None:
    mapping = detect(["User ID", "Paid"], columns={"account_id": "user_id"})
    assert mapping.account_id == "User ID"
    assert mapping.access_fields == ("Paid",)


def test_empty_access_fields_means_none_and_status_decides() -> None:
    mapping = detect(USERS, access_fields=())
    assert mapping.access_fields == ()
    assert mapping.primary_access_field == "subscription_status"


def test_a_configured_column_that_does_not_exist_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as error:
        detect(USERS, columns={"customer_id": "billing_id"})
    message = str(error.value)
    assert "app.columns.customer_id names column 'billing_id'" in message
    assert "the header of users.csv" in message
    assert "'stripe_customer_id'" in message  # the available columns are listed


def test_a_missing_access_field_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"app.access_fields names column 'is_vip'"):
        detect(USERS, access_fields=("is_vip",))


def test_no_account_id_column_tells_the_user_what_to_set() -> None:
    with pytest.raises(SourceError) as error:
        detect(["email", "has_paid_access"])
    message = str(error.value)
    assert "cannot find an account id column in the header of users.csv" in message
    assert "'email', 'has_paid_access'" in message
    assert "app.columns.account_id" in message


def test_no_access_field_explains_access_and_status_fields() -> None:
    with pytest.raises(SourceError) as error:
        detect(["id", "email", "plan"])
    message = str(error.value)
    assert "cannot find an access column" in message
    assert "app.access_fields" in message
    assert "app.status_fields" in message


def test_primary_must_be_one_of_the_fields() -> None:
    with pytest.raises(ConfigError, match=r"app.primary_access_field 'plan' is not one of"):
        detect(USERS, primary_access_field="plan")


def test_a_column_cannot_be_both_flag_and_status() -> None:
    with pytest.raises(ConfigError, match=r"both app.access_fields and app.status_fields"):
        detect(USERS, access_fields=("has_paid_access",), status_fields=("has_paid_access",))


def test_a_column_serves_one_role_only() -> None:
    # "customer" is a customer-id candidate; once configured as the email it is taken.
    mapping = detect(["id", "customer", "paid"], columns={"email": "customer"})
    assert mapping.email == "customer"
    assert mapping.customer_id is None


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Stripe Customer-ID", "stripe_customer_id"),
        ("  has paid access ", "has_paid_access"),
        ("isPro", "is_pro"),
        ("userID", "user_id"),
        ("ID", "id"),
        ("billing.email", "billing_email"),
    ],
)
def test_normalize(name: str, key: str) -> None:
    assert normalize(name) == key


def test_quote_identifier_doubles_quotes() -> None:
    assert quote_identifier('we"ird') == '"we""ird"'
    assert quote_identifier("users; DROP TABLE x") == '"users; DROP TABLE x"'


def test_partial_leaves_a_missing_account_id_and_access_column_empty() -> None:
    """The audit page lets a person choose what detection cannot find (issue 15)."""
    header = ["user_ref", "email", "paying_customer"]
    with pytest.raises(SourceError, match="account id"):
        detect(header)
    mapping = detect_columns(header, AppConfig(), "the header of users.csv", partial=True)
    assert (mapping.account_id, mapping.email) == ("", "email")
    assert (mapping.access_fields, mapping.status_fields) == ((), ())
    assert mapping.primary_access_field == ""


def test_partial_still_detects_what_is_there() -> None:
    assert detect_columns(USERS, AppConfig(), "users", partial=True) == detect(USERS)
