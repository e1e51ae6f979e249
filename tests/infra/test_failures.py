"""One scrubber for every front-end: a failure's message, a traceback and a log record
never show a secret, whether the environment holds it (under any name), it has a
provider key's shape, or it is a URL's password."""

from __future__ import annotations

import io
import logging

import pytest

from billdrift.errors import SourceError
from billdrift.infra.failures import (
    describe_failure,
    exit_code_of,
    scrub_log_records,
    scrubbed_traceback,
)
from billdrift.infra.secrets import Scrubber, scrubber_for

#: Each key by its published prefix; none is in the environment.
PASTED = {
    "sk_test_51PastedQ7xStripe": "sk_test_***",
    "sk_live_51PastedQ7xStripe": "sk_live_***",
    "rk_live_51PastedQ7xRestricted": "rk_live_***",
    "whsec_PastedQ7xSigning": "whsec_***",
    "pdl_live_apikey_01PastedQ7x_Paddle": "pdl_live_apikey_***",
    "pdl_sdbx_apikey_01PastedQ7x_Paddle": "pdl_sdbx_apikey_***",
    "pdl_ntfset_01PastedQ7xNotify": "pdl_ntfset_***",
}


@pytest.mark.parametrize("key", sorted(PASTED))
def test_a_pasted_key_is_masked_by_its_shape_keeping_its_prefix(key: str) -> None:
    said = describe_failure(SourceError(f"billing file not found: {key}"), secret_names=())
    assert said == f"billing file not found: {PASTED[key]}"


def test_the_shape_boundary_eight_characters_after_the_prefix() -> None:
    scrub = Scrubber([]).text
    assert scrub("sk_test_1234567 x") == "sk_test_1234567 x"  # seven: an id, not a key
    assert scrub("sk_test_12345678 x") == "sk_test_*** x"
    # a prefix inside a longer word is no key (desk_test_..., a column name)
    assert scrub("desk_test_12345678") == "desk_test_12345678"
    assert scrub("risk_live_12345678") == "risk_live_12345678"


def test_a_secret_in_a_variable_named_by_the_user_is_masked_when_named() -> None:
    environ = {"ACME_BILLING": "opaque-Q7x-value"}
    error = SourceError("cannot read opaque-Q7x-value")
    assert "Q7x" in scrubber_for((), environ).text(str(error))  # a harmless name
    assert "Q7x" not in scrubber_for(("ACME_BILLING",), environ).text(str(error))


def test_the_password_of_a_url_in_any_variable_is_masked_alone() -> None:
    # a driver that names only the password ("password authentication failed for ...")
    environ = {"ACME_APP": "postgresql://app:Pw/Q7x?leak@db/app"}
    assert scrubber_for((), environ).text("bad password Pw/Q7x?leak") == "bad password ***"


def test_an_environment_key_internal_error_and_its_traceback_are_scrubbed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", "opaque-stripe-Q7x-key")
    try:
        raise ValueError("header Bearer opaque-stripe-Q7x-key refused")
    except ValueError as error:
        said = describe_failure(error)
        shown = scrubbed_traceback(error)
    assert said == "internal error: ValueError: header Bearer *** refused"
    assert describe_failure(ValueError("x"), detail=False) == "internal error: ValueError"
    assert "Q7x" not in shown and "Traceback" in shown
    assert exit_code_of(ValueError()) == 2 and exit_code_of(SourceError()) == 2


def test_log_records_are_scrubbed_message_arguments_and_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACME_SERVICE_TOKEN", "opaque-token-Q7x-value")
    before = logging.getLogRecordFactory()
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    logger = logging.getLogger("billdrift.test_failures")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        scrub_log_records()
        scrub_log_records()  # idempotent: one wrapper
        logger.warning("read %s failed", "sk_live_51LoggedQ7xKey")
        try:
            raise RuntimeError("token opaque-token-Q7x-value rejected")
        except RuntimeError:
            logger.exception("crashed on %s", "postgresql://u:PwQ7x@h/db")
    finally:
        logger.removeHandler(handler)
        logging.setLogRecordFactory(before)
    text = out.getvalue()
    assert "Q7x" not in text, text
    assert "read sk_live_*** failed" in text and "RuntimeError: token *** rejected" in text
