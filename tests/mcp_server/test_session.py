"""``billdrift mcp`` end to end: an MCP client session (the SDK's ``ClientSession``
over ``stdio_client``) against ``python -m billdrift mcp`` started as a subprocess,
on the bundled sample data and a history store the test creates by recording
checks. Values are compared with what the library itself reports on the same
data, so a tool that drops, reorders or misstates a finding fails."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from billdrift.core.model import Kind, Severity
from billdrift.history import fingerprint
from billdrift.mcp_server.shapes import SCHEMA_VERSION
from billdrift.usecases.check import check as library_check
from billdrift.usecases.review import decide, queue
from tests.mcp_server.helpers import Agent, sample_dir, session

AS_OF = "2026-11-22"
TOOLS = {"check", "doctor", "list_findings", "explain_finding", "fix_sql"}


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return sample_dir(tmp_path)


def _expected(data: Path) -> Any:
    return library_check(config=data / "billdrift.toml", as_of=AS_OF)


def test_tools_are_listed_with_their_schemas(data: Path) -> None:
    async def scenario(agent: Agent) -> Any:
        return (await agent.session.list_tools()).tools

    tools = session(data, scenario)
    assert {tool.name for tool in tools} == TOOLS
    for tool in tools:
        assert tool.description, tool.name
        assert tool.output_schema is not None, tool.name
        assert {"schema_version", "tool"} <= set(tool.output_schema["properties"]), tool.name
    explain = next(tool for tool in tools if tool.name == "explain_finding")
    assert explain.input_schema["required"] == ["fingerprint"]
    # the kinds an agent may filter by are the report's, every one (derived, not copied)
    listing = next(tool for tool in tools if tool.name == "list_findings")
    assert "Kind" in json.dumps(listing.input_schema)
    offered = next(
        spec["enum"]
        for spec in listing.input_schema.get("$defs", {}).values()
        if "enum" in spec and "plan_drift" in spec["enum"]
    )
    assert offered == [kind.value for kind in Kind]


def test_check_reports_what_the_library_reports_and_records_only_when_asked(
    data: Path,
) -> None:
    expected = _expected(data)

    async def scenario(agent: Agent) -> tuple[dict[str, Any], ...]:
        plain = await agent.ok("check", as_of=AS_OF, limit=3)
        everything = await agent.ok("check", as_of=AS_OF, limit=1000)
        unrecorded = (data / "history.sqlite").exists()
        first = await agent.ok("check", as_of=AS_OF, record=True)
        second = await agent.ok("check", as_of=AS_OF, record=True, fail_on="new")
        assert not unrecorded, "a check without record=true wrote the history store"
        return plain, everything, first, second

    plain, everything, first, second = session(data, scenario)
    assert plain["schema_version"] == SCHEMA_VERSION and plain["tool"] == "check"
    assert (plain["verdict"], plain["exit_code"]) == (expected.verdict.value, 1)
    assert plain["as_of"] == "2026-11-22T00:00:00Z"
    assert plain["config"] == "billdrift.toml"
    assert plain["counts"] == {
        "accounts": expected.counts["accounts"],
        "subscriptions": expected.counts["subscriptions"],
        "customers": expected.counts["customers"],
        "findings": len(expected.findings),
        "suppressed": len(expected.suppressed),
        "skipped": 0,
    }
    assert plain["by_kind"] == expected.by_kind
    assert plain["exposure"] == expected.exposure_by_currency
    assert plain["recorded"] is False and plain["changes"] is None
    # limit: the first findings in report order, and it says more were left out
    assert len(plain["findings"]) == 3 and plain["findings_truncated"] is True
    assert everything["findings_truncated"] is False
    assert [f["fingerprint"] for f in everything["findings"]] == [
        fingerprint(f) for f in expected.findings
    ]
    bob = everything["findings"][0]
    assert (bob["kind"], bob["account_id"], bob["severity"]) == ("paid_but_blocked", "2", "high")
    assert bob["exposure"] == {"monthly_amount": "19.00", "currency": "USD"}
    assert bob["lifecycle"] is None
    # recorded: the first run makes every finding new, the second keeps them ongoing
    assert first["recorded"] is True
    assert first["changes"] == {
        "new": len(expected.findings),
        "reopened": 0,
        "ongoing": 0,
        "resolved": 0,
    }
    assert {f["lifecycle"] for f in first["findings"]} == {"new"}
    assert second["changes"]["ongoing"] == len(expected.findings)
    assert second["changes"]["new"] == 0
    assert (second["fail_on"], second["verdict"], second["exit_code"]) == ("new:high", "WARN", 0)


def test_doctor_reports_each_check(data: Path) -> None:
    async def scenario(agent: Agent) -> dict[str, Any]:
        return await agent.ok("doctor")

    result = session(data, scenario)
    assert result["tool"] == "doctor" and result["schema_version"] == SCHEMA_VERSION
    assert (result["status"], result["exit_code"]) == ("ok", 0)
    names = [check["name"] for check in result["checks"]]
    assert names[0] == "config" and "app table" in names
    assert "billdrift.toml" in result["checks"][0]["detail"]


def _fix_account_2(data: Path) -> None:
    """Give account 2 (paid but blocked) its access back, as a fix would."""
    with sqlite3.connect(data / "app.sqlite") as db:
        db.execute(
            "UPDATE users SET has_paid_access = 1, subscription_status = 'active', plan = 'basic' "
            "WHERE id = '2'"
        )


def test_list_and_explain_findings_from_the_history(data: Path) -> None:
    expected = _expected(data)
    kinds = Counter(str(f.kind) for f in expected.findings)
    at_least_medium = sum(1 for f in expected.findings if f.severity >= Severity.MEDIUM)
    lows = sum(1 for f in expected.findings if f.severity == Severity.LOW)
    assert lows and at_least_medium < len(expected.findings)  # both sides of the boundary
    bob = fingerprint(expected.findings[0])
    history = str(data / "history.sqlite")

    async def scenario(agent: Agent) -> dict[str, Any]:
        out: dict[str, Any] = {}
        await agent.ok("check", as_of=AS_OF, record=True)
        out["all"] = await agent.ok("list_findings", limit=1000)
        out["queue"] = [item.state.fingerprint for item in queue(history).items]
        out["two"] = await agent.ok("list_findings", limit=2)
        out["blocked"] = await agent.ok("list_findings", kind="paid_but_blocked")
        out["medium"] = await agent.ok("list_findings", min_severity="medium", limit=1000)
        out["high"] = await agent.ok("list_findings", min_severity="high", limit=1000)
        out["new"] = await agent.ok("list_findings", lifecycle="new", limit=1000)
        decide(history, bob[:12], "acknowledged", "restoring access")
        out["needs"] = await agent.ok("list_findings", review="needs_review", limit=1000)
        out["acked"] = await agent.ok("list_findings", review="acknowledged")
        out["snoozed"] = await agent.ok("list_findings", review="snoozed")
        _fix_account_2(data)
        await agent.ok("check", as_of=AS_OF, record=True)
        out["ongoing"] = await agent.ok("list_findings", lifecycle="ongoing", limit=1000)
        out["new_after"] = await agent.ok("list_findings", lifecycle="new")
        out["resolved"] = await agent.ok("list_findings", lifecycle="resolved")
        out["explained"] = await agent.ok("explain_finding", fingerprint=bob[:12])
        other = out["ongoing"]["findings"][0]["fingerprint"]
        out["other"] = await agent.ok("explain_finding", fingerprint=other)
        return out

    out = session(data, scenario)
    every = out["all"]
    assert every["tool"] == "list_findings" and every["history"] == "history.sqlite"
    assert every["total"] == every["returned"] == len(expected.findings)
    # the order of `billdrift review`: urgent first, then severity and money
    assert [f["fingerprint"] for f in every["findings"]] == out["queue"]
    assert every["findings"][0]["urgent"] is True
    assert {f["state"] for f in every["findings"]} == {"open"}
    assert (out["two"]["returned"], out["two"]["total"], out["two"]["truncated"]) == (
        2,
        len(expected.findings),
        True,
    )
    blocked = out["blocked"]["findings"]
    assert len(blocked) == kinds["paid_but_blocked"]
    assert {f["kind"] for f in blocked} == {"paid_but_blocked"}
    # min_severity: medium keeps medium and high, drops low; high drops medium
    assert out["medium"]["total"] == at_least_medium
    assert {f["severity"] for f in out["medium"]["findings"]} == {"high", "medium"}
    assert {f["severity"] for f in out["high"]["findings"]} == {"high"}
    assert out["new"]["total"] == len(expected.findings)
    # review state: the acknowledged finding leaves "needs_review" and is the only one acked
    assert out["needs"]["total"] == len(expected.findings) - 1
    assert bob not in {f["fingerprint"] for f in out["needs"]["findings"]}
    assert [f["fingerprint"] for f in out["acked"]["findings"]] == [bob]
    assert out["acked"]["findings"][0]["decision"]["note"] == "restoring access"
    assert out["snoozed"]["total"] == 0
    # after the fix: account 2's finding resolved, the others ongoing, none new
    assert [f["fingerprint"] for f in out["resolved"]["findings"]] == [bob]
    assert out["resolved"]["findings"][0]["state"] == "resolved"
    assert out["ongoing"]["total"] == len(expected.findings) - 1
    assert out["new_after"]["total"] == 0

    explained = out["explained"]
    assert explained["tool"] == "explain_finding" and explained["fingerprint"] == bob
    assert (explained["state"], explained["status"]) == ("resolved", "resolved")
    assert explained["billing"]["status"] == "active"
    assert explained["billing"]["subscription_id"] == "sub_bob"
    assert explained["app"]["access"] is False
    assert explained["app"]["fields"]["has_paid_access"] == "0"
    assert explained["match"]["method"] == "customer_id"
    assert explained["fix"].startswith("Restore access now")
    assert explained["dashboard_url"] == "https://dashboard.stripe.com/customers/cus_bob"
    assert [(e["first_run"], e["last_run"], e["runs"]) for e in explained["timeline"]] == [
        (1, 1, 1)
    ]
    assert [r["action"] for r in explained["reviews"]] == ["acknowledged"]
    assert explained["resolved_at"] is not None
    # an ongoing finding: two runs folded into one timeline entry
    other = out["other"]
    assert other["state"] == "open"
    assert [(e["first_run"], e["last_run"], e["runs"]) for e in other["timeline"]] == [(1, 2, 2)]


def test_failures_are_tool_errors_with_a_clear_message(data: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()

    async def scenario(agent: Agent) -> dict[str, Any]:
        return {
            "unknown": await agent.call("explain_finding", fingerprint="abcdef012345"),
            "no_history": await agent.call("list_findings"),
            "limit": await agent.call("list_findings", limit=0),
            "kind": await agent.call("list_findings", kind="nonsense"),
            "no_inputs": await agent.call("check"),
            "fail_on_new": await agent.call("check", fail_on="new"),
            "fix": await agent.call("fix_sql"),
            "still_serving": await agent.call("doctor"),
        }

    out = session(empty, scenario)
    for name, reply in out.items():
        if name != "still_serving":
            assert reply.is_error, name
    assert "no history store at .billdrift/history.sqlite" in out["no_history"].text
    assert "no history store" in out["unknown"].text
    assert "limit" in out["limit"].text and "nonsense" in out["kind"].text
    assert "no billing input" in out["no_inputs"].text
    assert "record=true" in out["fail_on_new"].text
    assert "app.columns.account_id" in out["fix"].text
    assert not out["still_serving"].is_error

    async def unknown(agent: Agent) -> tuple[Any, Any]:
        await agent.ok("check", as_of=AS_OF, record=True)
        return (
            await agent.call("explain_finding", fingerprint="abcdef012345"),
            await agent.call("explain_finding", fingerprint="zz"),
        )

    missing, not_hex = session(data, unknown)
    assert missing.is_error and "no finding with fingerprint abcdef012345" in missing.text
    assert not_hex.is_error and "'zz' is not a fingerprint" in not_hex.text


def test_fix_sql_shows_the_plan_fix_would_write_and_runs_nothing(data: Path) -> None:
    from billdrift.config import load_config
    from billdrift.usecases import fix

    expected = _expected(data)
    bob = fingerprint(expected.findings[0])
    before = (data / "app.sqlite").read_bytes()

    async def scenario(agent: Agent) -> dict[str, Any]:
        await agent.ok("check", as_of=AS_OF, record=True)
        return {
            "all": await agent.ok("fix_sql"),
            "bob": await agent.ok("fix_sql", fingerprints=[bob[:12]]),
            "orphans": await agent.ok("fix_sql", kinds=["orphaned_subscription"]),
            "bad_kind": await agent.call("fix_sql", kinds=["nonsense"]),
        }

    out = session(data, scenario)
    with contextlib.chdir(data):  # as the server ran: paths relative to its directory
        library = fix.plan(load_config("billdrift.toml"), fix.Selection(), history="history.sqlite")
    everything = out["all"]
    assert everything["tool"] == "fix_sql" and everything["schema_version"] == SCHEMA_VERSION
    assert (everything["dialect"], everything["table"]) == ("sqlite", ["users"])
    assert everything["sql"] == fix.render_sql(library)
    assert everything["digest"] == library.digest
    assert len(everything["statements"]) == len(library.statements) > 0
    assert len(everything["not_fixable"]) == len(library.not_fixable) > 0
    # one finding named: one guarded statement for its account, granting access
    (statement,) = out["bob"]["statements"]
    assert statement["account_id"] == "2" and statement["key_column"] == "id"
    assert {"column": "has_paid_access", "before": "0", "after": "1"} in statement["changes"]
    assert {"column": "has_paid_access", "observed": "0", "how": "exact"} in statement["guards"]
    assert [f["fingerprint"] for f in statement["findings"]] == [bob]
    assert 'UPDATE "users" SET "has_paid_access"' in out["bob"]["sql"]
    # a finding the app cannot fix: no statement, and what to do instead
    orphans = out["orphans"]
    assert orphans["statements"] == []
    assert {f["finding"]["kind"] for f in orphans["not_fixable"]} == {"orphaned_subscription"}
    assert all(f["instead"] for f in orphans["not_fixable"])
    assert out["bad_kind"].is_error
    assert (data / "app.sqlite").read_bytes() == before  # shown, never run
