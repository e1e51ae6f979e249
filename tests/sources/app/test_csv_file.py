"""CsvAppSource on real files: canonical rows, skips with exact physical line numbers.

"line N" is the physical line (header = line 1) on which a row *starts*; a
record whose quoted value spans several lines is reported at its first line.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from pydantic import ValidationError

from billdrift.config import AppConfig
from billdrift.core.model import APP_ACCESS_SIGNALS, APP_ACCOUNTS
from billdrift.errors import ConfigError, SourceError
from billdrift.sources.app.booleans import ACCEPTED, FALSE_SPELLINGS, TRUE_SPELLINGS
from billdrift.sources.app.csv_file import CsvAppSource
from tests.sources.app.helpers import LOCATED, accounts, signals, skips
from tests.sources.conftest import ReadCsv, WriteCsv

ACCOUNT_COLUMNS = ("account_id", "customer_id", "subscription_id", "email", "plan", "source_ref")
ENCODING_ERROR = (
    "app file users.csv is not valid utf-8 text (line 2). If it was saved by Excel or another "
    'tool in a legacy encoding, set app.encoding = "latin-1" (or the file\'s real encoding) '
    "in the config file"
)

USERS = """\
id,email,stripe_customer_id,has_paid_access,plan,subscription_status
u1,Ann@Example.com,cus_1,true,pro,active
u2,bob@example.com,,false,free,
u3,,cus_3,,pro, Past_Due
"""


def refs(data_lines: list[int]) -> list[str]:
    return [f"users.csv:line {line}" for line in data_lines]


def test_users_export_becomes_canonical_relations(read_csv: ReadCsv) -> None:
    data = read_csv(USERS)
    assert data.accounts.schema == LOCATED
    assert data.signals.schema == APP_ACCESS_SIGNALS
    assert accounts(data, *ACCOUNT_COLUMNS) == [
        ("u1", "cus_1", None, "Ann@Example.com", "pro", "users.csv:line 2"),
        ("u2", None, None, "bob@example.com", "free", "users.csv:line 3"),
        ("u3", "cus_3", None, None, "pro", "users.csv:line 4"),
    ]
    assert signals(data) == [
        ("u1", "has_paid_access", "flag", "true", True, True),
        ("u2", "has_paid_access", "flag", "false", False, True),
        ("u3", "has_paid_access", "flag", None, None, True),
        ("u1", "subscription_status", "status", "active", None, False),
        ("u2", "subscription_status", "status", None, None, False),
        ("u3", "subscription_status", "status", "past_due", None, False),
    ]
    assert data.skips == ()
    assert data.mapping["account_id"] == "id"
    assert data.mapping["primary_access_field"] == "has_paid_access"
    assert data.notes[0].startswith("users.csv: auto-detected columns: account_id <- id;")
    assert data.description == (
        "users.csv (CSV, comma-delimited, utf-8): 3 rows, 3 accounts, 0 skipped"
    )


def test_workspaces_with_several_access_fields_all_read(read_csv: ReadCsv) -> None:
    data = read_csv(
        "workspace_id,Billing Email,isPro,Access-Enabled,billing_status\n"
        "w1,a@x.io,yes,no,active\n"
        "w2,b@x.io,0,1,CANCELED\n",
        name="workspaces.csv",
    )
    assert accounts(data, "account_id", "email", "source_ref") == [
        ("w1", "a@x.io", "workspaces.csv:line 2"),
        ("w2", "b@x.io", "workspaces.csv:line 3"),
    ]
    assert signals(data) == [
        ("w1", "Access-Enabled", "flag", "no", False, True),
        ("w2", "Access-Enabled", "flag", "1", True, True),
        ("w1", "isPro", "flag", "yes", True, False),
        ("w2", "isPro", "flag", "0", False, False),
        ("w1", "billing_status", "status", "active", None, False),
        ("w2", "billing_status", "status", "canceled", None, False),
    ]


def test_every_spelling_is_read_by_the_vectorized_path(read_csv: ReadCsv) -> None:
    cases = [(word, True) for word in TRUE_SPELLINGS] + [(word, False) for word in FALSE_SPELLINGS]
    variants = [
        (text, meaning)
        for word, meaning in cases
        for text in (word, word.upper(), word.title(), f"  {word} ")
    ]
    lines = [f"a{index},{text}" for index, (text, _) in enumerate(variants)]
    data = read_csv("id,paid\n" + "\n".join(lines) + "\n")
    assert data.skips == ()
    assert [(row[0], row[3], row[4]) for row in signals(data)] == [
        (f"a{index}", text, meaning) for index, (text, meaning) in enumerate(variants)
    ]


def test_text_false_never_counts_as_true(read_csv: ReadCsv) -> None:
    falses = ["false", "FALSE", " False ", '"false"', "0", "no", "off", "disabled", "f", "N"]
    data = read_csv("id,has_paid_access\n" + "".join(f"a{i},{v}\n" for i, v in enumerate(falses)))
    assert [row[4] for row in signals(data)] == [False] * len(falses)


def test_ids_are_trimmed_blank_text_is_null_emails_kept_as_given(read_csv: ReadCsv) -> None:
    data = read_csv(
        'id,email,customer_id,plan,paid\n a1 , Ann@X.io ,"  ", ,t\n"a2",  ,cus_2 ,"Pro Plan",f\n'
    )
    assert accounts(data, "account_id", "email", "customer_id", "plan") == [
        ("a1", " Ann@X.io ", None, None),
        ("a2", None, "cus_2", "Pro Plan"),
    ]


def test_skips_have_exact_lines_and_reasons(read_csv: ReadCsv) -> None:
    data = read_csv(
        "id,email,has_paid_access\n"  # 1
        "a1,a@x,true\n"  # 2
        "a2,b@x,false,extra\n"  # 3 rejected by the parser: too many columns
        'a3,"c@x",maybe\n'  # 4 unrecognized boolean (after a rejected row)
        "a4\n"  # 5 rejected: too few columns
        ",e@x,1\n"  # 6 empty id
        "a1,dup@x,0\n"  # 7 duplicate of line 2
        'a5,"bad"quote,1\n'  # 8 rejected: bad quoting
        "a6,f@x,no\n"  # 9
    )
    assert accounts(data, "account_id", "source_ref") == [("a6", "users.csv:line 9")]
    repeated = "account id 'a1' appears 2 times (line 2, line 7); every copy is skipped, "
    repeated += "since which one holds cannot be told"
    assert skips(data) == [
        ("line 2", "id", repeated),
        ("line 3", None, "expected 3 columns as in the header, found 4"),
        (
            "line 4",
            "has_paid_access",
            f"'maybe' in 'has_paid_access' is not a recognized boolean; accepted: {ACCEPTED}",
        ),
        ("line 5", None, "expected 3 columns as in the header, found 1"),
        ("line 6", "id", "the account id is empty"),
        ("line 7", "id", repeated),
        (
            "line 8",
            None,
            "a quoted value is not closed properly (unterminated quote, or text after it)",
        ),
    ]
    assert all(skip.side == "app" and skip.source == "users.csv" for skip in data.skips)
    assert data.description.endswith("8 rows, 1 accounts, 7 skipped")


def test_a_copy_skipped_for_its_own_reason_still_makes_the_id_repeat(read_csv: ReadCsv) -> None:
    data = read_csv("id,paid,is_pro\na1,maybe,nope\na1,true,true\n")
    assert data.accounts.num_rows == 0
    assert skips(data) == [
        (
            "line 2",
            "is_pro",  # is_pro outranks paid as an access field, so it is named first
            f"'nope' in 'is_pro' is not a recognized boolean; accepted: "
            f"{ACCEPTED} (also unrecognized: paid='maybe')",
        ),
        (
            "line 3",
            "id",
            "account id 'a1' appears 2 times (line 2, line 3); every copy is skipped, "
            "since which one holds cannot be told",
        ),
    ]


LATIN1 = "id,email,paid\n1,zoë@example.com,true\n2,bob@example.com,false\n"


def test_latin1_without_encoding_is_an_error_that_says_set_encoding(write_csv: WriteCsv) -> None:
    path = write_csv(LATIN1, encoding="latin-1")
    with pytest.raises(SourceError) as error:
        CsvAppSource(str(path), AppConfig()).read()
    assert str(error.value) == ENCODING_ERROR


def test_latin1_with_encoding_reads_everything(write_csv: WriteCsv) -> None:
    path = write_csv(LATIN1, encoding="latin-1")
    data = CsvAppSource(str(path), AppConfig(encoding="latin-1")).read()
    assert accounts(data, "account_id", "email") == [
        ("1", "zoë@example.com"),
        ("2", "bob@example.com"),
    ]
    assert data.skips == ()
    assert "latin-1" in data.description


def test_unknown_encoding_is_a_config_error(write_csv: WriteCsv) -> None:
    """Refused when the settings are read (the config file's error names file and key);
    a setting that got past them (model_construct) is still refused by the reader."""
    with pytest.raises(ValidationError, match=r"unknown text encoding 'klingon'"):
        AppConfig(encoding="klingon")
    path = write_csv(USERS)
    with pytest.raises(ConfigError, match=r"app.encoding: unknown encoding 'klingon'"):
        CsvAppSource(str(path), AppConfig.model_construct(encoding="klingon")).read()


@pytest.mark.parametrize("text", ["", "  \n\n", "\ufeff"])
def test_an_empty_file_reads_as_zero_accounts(read_csv: ReadCsv, text: str) -> None:
    data = read_csv(text)
    assert data.accounts.num_rows == 0
    assert data.signals.num_rows == 0
    assert data.accounts.schema == APP_ACCOUNTS
    assert data.notes == ("users.csv is empty: no header and no accounts",)


def test_a_header_only_file_reads_as_zero_accounts(read_csv: ReadCsv) -> None:
    data = read_csv("id,email,has_paid_access\n")
    assert data.accounts.num_rows == 0
    assert data.skips == ()
    assert data.mapping["account_id"] == "id"


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"app file not found"):
        CsvAppSource(str(tmp_path / "nope.csv"), AppConfig()).read()
    with pytest.raises(SourceError, match=r"is a directory"):
        CsvAppSource(str(tmp_path), AppConfig()).read()


def test_missing_columns_are_reported(read_csv: ReadCsv) -> None:
    with pytest.raises(ConfigError, match=r"app.columns.email names column 'mail'"):
        read_csv(USERS, columns={"email": "mail"})
    with pytest.raises(SourceError, match=r"app.columns.account_id"):
        read_csv("email,paid\na@x,1\n")
    with pytest.raises(SourceError, match=r"app.access_fields"):
        read_csv("id,email\n1,a@x\n")


def test_overrides_choose_the_columns(read_csv: ReadCsv) -> None:
    data = read_csv(
        "uid,id,contact,flag_a,flag_b\nx1,9,c@x,yes,no\n",
        columns={"account_id": "uid", "email": "contact"},
        access_fields=("flag_b", "flag_a"),
    )
    assert accounts(data, "account_id", "email") == [("x1", "c@x")]
    assert [row[1:] for row in signals(data)] == [
        ("flag_b", "flag", "no", False, True),
        ("flag_a", "flag", "yes", True, False),
    ]
    assert data.mapping["auto_detected"] == ["primary_access_field"]


def test_accepts(tmp_path: Path) -> None:
    plain = tmp_path / "export"
    plain.write_text("id,paid\n1,1\n")
    database = tmp_path / "app"
    sqlite3.connect(database).execute("CREATE TABLE t (x)").connection.close()
    assert CsvAppSource.accepts("users.csv")
    assert CsvAppSource.accepts("USERS.TSV")
    assert CsvAppSource.accepts("users.txt")
    assert CsvAppSource.accepts(str(plain))
    assert not CsvAppSource.accepts(str(database))
    assert not CsvAppSource.accepts("sqlite:///app.db")
    assert not CsvAppSource.accepts("postgresql://db/app")
    assert not CsvAppSource.accepts(str(tmp_path / "missing"))


def test_clean_columns_taken_as_read_stay_on_their_rows(read_csv: ReadCsv) -> None:
    """Columns no value of which needs trimming are taken from the scan as they are,
    beside columns DuckDB cleaned: across a large parallel read every row must keep
    its own values (DuckDB may hand the cleaned rows back in another order)."""
    rows = [f"a{i},cus_{i},u{i}@x.io,{'t' if i % 3 else 'f'},plan{i % 7}" for i in range(150_000)]
    rows[123_456] = "a123456, cus_123456 ,u123456@x.io,t,plan4"  # only this value is padded
    data = read_csv("id,customer_id,email,paid,plan\n" + "\n".join(rows) + "\n")
    found = accounts(data, "account_id", "customer_id", "email", "plan")
    assert len(found) == 150_000
    assert all(
        (customer, email, plan) == (f"cus_{a[1:]}", f"u{a[1:]}@x.io", f"plan{int(a[1:]) % 7}")
        for a, customer, email, plan in found
    )
    flags = {row[0]: (row[3], row[4]) for row in signals(data)}
    assert flags["a3"] == ("f", False) and flags["a4"] == ("t", True)
