"""Database URLs: parsing, env:NAME, and passwords that never show."""

from __future__ import annotations

from pathlib import Path

import pytest

from billdrift.errors import ConfigError
from billdrift.infra.db.urls import is_database_url, redact, resolve, scrub_urls


def test_sqlalchemy_style_url_is_parsed_and_driver_suffix_ignored() -> None:
    url = resolve("postgresql+psycopg://app:s3cr%40t@db.internal:6543/prod?sslmode=require")
    assert (url.dialect, url.host, url.port, url.user, url.password, url.database) == (
        "postgresql",
        "db.internal",
        6543,
        "app",
        "s3cr@t",
        "prod",
    )
    assert url.query == (("sslmode", "require"),)


@pytest.mark.parametrize(
    ("given", "dialect", "port"),
    [
        ("postgres://u@h/d", "postgresql", 5432),
        ("mysql://u@h/d", "mysql", 3306),
        ("mariadb+pymysql://u@h:3307/d", "mysql", 3307),
    ],
)
def test_schemes_and_default_ports(given: str, dialect: str, port: int) -> None:
    url = resolve(given)
    assert (url.dialect, url.port) == (dialect, port)


def test_password_never_appears_in_str_repr_or_redacted_form() -> None:
    url = resolve("postgresql://app:hunter2@h:5432/d")
    for text in (str(url), repr(url), url.redacted, url.shown):
        assert "hunter2" not in text
    assert url.redacted == "postgresql://app:***@h:5432/d"


def test_scrub_removes_the_password_and_the_raw_url_from_driver_messages() -> None:
    url = resolve("postgresql://app:p%40ss@h/d")
    message = f"could not connect to {url.raw} with password p@ss (p%40ss)"
    scrubbed = url.scrub(message)
    assert "p@ss" not in scrubbed and "p%40ss" not in scrubbed
    assert "postgresql://app:***@h/d" in scrubbed


def test_secret_query_parameters_are_redacted() -> None:
    assert redact("postgresql://h/d?sslpassword=x&sslmode=require") == (
        "postgresql://h/d?sslpassword=***&sslmode=require"
    )


@pytest.mark.parametrize(
    "key", ["password", "PassWD", "client_secret", "auth_token", "sslkey", "API_KEY"]
)
def test_every_secret_word_in_a_query_key_redacts_its_value(key: str) -> None:
    """Each word that marks a secret (password, passwd, secret, token, key), in any case and
    inside a longer key, hides the value in what redact() shows and in scrub_urls()."""
    url = f"mysql://u@h/d?{key}=s3cr3tvalue&charset=utf8mb4"
    assert redact(url) == f"mysql://u@h/d?{key}=***&charset=utf8mb4"
    assert scrub_urls(f"failed: {url}") == f"failed: mysql://u@h/d?{key}=***&charset=utf8mb4"


def test_paths_are_left_alone_by_redact() -> None:
    assert redact("exports/app.csv") == "exports/app.csv"


def test_env_reference_reads_the_variable_and_reports_its_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BILLDRIFT_TEST_DB", "mysql://ro:topsecret@10.0.0.5/app")
    url = resolve("env:BILLDRIFT_TEST_DB")
    assert (url.dialect, url.host, url.password) == ("mysql", "10.0.0.5", "topsecret")
    assert url.shown == "env:BILLDRIFT_TEST_DB (mysql://ro:***@10.0.0.5/app)"


def test_unset_env_variable_is_a_config_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BILLDRIFT_NOT_SET", raising=False)
    with pytest.raises(ConfigError, match="BILLDRIFT_NOT_SET is not set"):
        resolve("env:BILLDRIFT_NOT_SET")


def test_env_variable_holding_something_else_does_not_echo_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BILLDRIFT_TEST_DB", "hunter2")
    with pytest.raises(ConfigError) as caught:
        resolve("env:BILLDRIFT_TEST_DB")
    assert "hunter2" not in str(caught.value)
    assert "BILLDRIFT_TEST_DB" in str(caught.value)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("oracle://u:pw@h/d", None),
        ("postgresql://u:pw@h:notaport/d", "port is not a number"),
        ("postgresql:///d", "no host"),
    ],
)
def test_malformed_urls_are_config_errors_without_the_password(
    given: str, expected: str | None
) -> None:
    if not is_database_url(given):
        assert expected is None
        return
    with pytest.raises(ConfigError) as caught:
        resolve(given)
    assert expected is not None and expected in str(caught.value)
    assert "pw" not in str(caught.value).replace("postgresql", "")


def test_is_database_url() -> None:
    assert is_database_url("env:DATABASE_URL")
    assert is_database_url("postgresql://h/d")
    assert not is_database_url("users.csv")
    assert not is_database_url("https://example.com/x")


#: Every character RFC 3986 reserves, left unencoded in a pasted password.
_RESERVED = ":/?#[]@!$&'()*+,;=%"


@pytest.mark.parametrize("char", list(_RESERVED))
def test_an_unencoded_reserved_character_never_reveals_the_password(char: str) -> None:
    """The user information runs to the last @: a `?`, `/` or `#` in a password used
    to end the authority early, and the password was shown as a path or query."""
    password = f"Pw{char}Leak{char}9"
    for url in (
        f"postgresql://admin:{password}@127.0.0.1:5432/appdb",
        f"postgresql://admin:{password}@127.0.0.1:54x2/appdb",  # and a broken port
        f"mysql://admin:{password}@db.internal/app?sslmode=require",
    ):
        assert "Leak" not in redact(url)
        assert "Leak" not in scrub_urls(f"error: cannot reach {url}, retrying")
        try:
            parsed = resolve(url)
        except ConfigError as error:
            assert "Leak" not in str(error)
            assert "port" in str(error)
            continue
        assert "Leak" not in f"{parsed} {parsed!r} {parsed.redacted}"
        assert parsed.password == password
        assert parsed.user == "admin" and parsed.host in {"127.0.0.1", "db.internal"}


@pytest.mark.parametrize("option", ["--app", "--billing", "--history"])
def test_a_malformed_url_in_any_option_is_shown_redacted(option: str, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from billdrift.cli import app as cli
    from billdrift.usecases.demo import demo_paths

    paths = demo_paths()
    given = {"--app": str(paths.app), "--billing": str(paths.billing)}
    given[option] = "postgresql://admin:Leak?Quest/x#y@127.0.0.1:9x/appdb"
    args = ["check", "--app", given["--app"], "--billing", given["--billing"]]
    if option == "--history":
        args += ["--history", given[option]]
    output = tmp_path / "report.json"
    result = CliRunner().invoke(cli.main, [*args, "--format", "json", "--output", str(output)])
    assert result.exit_code == 2
    shown = result.output + (output.read_text() if output.exists() else "")
    assert "postgresql://admin:***@127.0.0.1:9x/appdb" in shown
    assert "Leak" not in shown and "Quest" not in shown
