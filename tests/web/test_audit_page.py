"""The "Audit files" page in real headless Chromium (issue 15): pick and drop files, see
what they were recognized as, fix a column mapping, run, read the findings; an upload
over the limit is refused clearly; the uploaded files are gone afterwards."""

from __future__ import annotations

import base64
import re
import shutil
import stat
import tempfile
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from billdrift.web.settings import WebSettings
from tests.web.server import served

FIXTURES = Path(__file__).parents[1] / "fixtures" / "billing"
#: The access column has a name no detector knows: the page must let a person pick it.
USERS = """\
id,email,stripe_customer_id,paying_customer,plan
1,alice@example.com,cus_QAlice,true,pro
2,bob@example.com,cus_QBob,false,pro
3,carol@example.com,cus_QCarol,true,basic
4,dave@example.jp,cus_QDave,true,pro
5,erin@example.com,,true,pro
"""


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system temporary directory, for this test alone: its upload folders can be seen."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


@pytest.fixture
def exports(tmp_path: Path) -> dict[str, Path]:
    users = tmp_path / "users.csv"
    users.write_text(USERS, encoding="utf-8")
    billing = tmp_path / "export.csv"
    shutil.copy(FIXTURES / "stripe_dashboard.csv", billing)
    return {"users": users, "billing": billing, "json": FIXTURES / "stripe_subscriptions.json"}


def _uploads(root: Path) -> list[Path]:
    return sorted(root.glob("billdrift-audit-*"))


def _drop(page: Any, selector: str, path: Path) -> None:
    """Dispatch a real drop event carrying `path` on the drop zone (as a person dragging it)."""
    data = base64.b64encode(path.read_bytes()).decode()
    handle = page.evaluate_handle(
        """([name, data]) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: "text/csv" }));
            return transfer;
        }""",
        [path.name, data],
    )
    page.dispatch_event(selector, "drop", {"dataTransfer": handle})


def test_drop_fix_a_column_run_and_read_the_findings(
    page: Any, exports: dict[str, Path], temp_root: Path
) -> None:
    with served(WebSettings(), lifespan="on") as app:
        page.goto(app.url + "/audit")
        assert "Every file stays on this machine" in page.locator(".local").inner_text()
        page.set_input_files("#billing-files", [str(exports["billing"]), str(exports["json"])])
        _drop(page, "[data-drop-for=app-file]", exports["users"])
        assert (
            page.locator("[data-drop-for=app-file] .chosen").inner_text() == "users.csv (234 bytes)"
        )
        page.fill("#as-of", "2024-06-01")
        page.click("#upload")
        page.wait_for_selector("#mapping-form")

        # the files sit in one private folder while the person checks the columns
        (folder,) = _uploads(temp_root)
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert len(list(folder.iterdir())) == 3

        cards = page.locator("section.file")
        assert "Stripe subscriptions CSV export" in cards.nth(0).inner_text()
        assert "Stripe subscriptions JSON" in cards.nth(1).inner_text()
        app_card = cards.nth(2).inner_text()
        assert "users.csv" in app_card and "app accounts CSV" in app_card
        assert "cus_QAlice" in app_card  # sample values beside each column
        warning = page.locator(".warn-line").inner_text()
        assert "choose the column that grants access" in warning
        assert page.locator("select[data-column=id]").input_value() == "account_id"
        assert page.locator("select[data-column=paying_customer]").input_value() == ""

        # running before the mapping is complete is refused, saying why
        page.click("#run")
        assert "choose at least one access column" in page.locator("#audit-error").inner_text()

        page.select_option("select[data-column=paying_customer]", "flag")
        with page.expect_download() as download:
            page.click("#save-config")
        saved = Path(download.value.path()).read_text(encoding="utf-8")
        assert 'access_fields = ["paying_customer"]' in saved
        assert 'source = "users.csv"' in saved and '"export.csv"' in saved

        page.click("#run")
        page.wait_for_selector("#verdict", timeout=60_000)
        assert page.locator("#verdict").inner_text() == "FAIL"
        rows = page.locator("#findings tbody tr")
        assert rows.count() >= 1
        text = page.locator("#findings").inner_text()
        assert "cus_QAlice" in text or "cus_QBob" in text
        first = rows.nth(0)
        first.locator("summary").click()
        assert "Fix:" in first.locator(".fix").inner_text()
        # messages and evidence name the files as the person knows them
        assert "users.csv:" in first.locator("dl.evidence").nth(1).inner_text()
        assert "billing-0" not in page.content() and "app-2" not in page.content()
        assert page.locator("#counts").inner_text().count("accounts") == 1
        # the audit ran: its files are gone, its report stays readable
        assert _uploads(temp_root) == []
        assert page.requests.outside(app.url) == []


def test_the_run_shows_progress_steps_then_the_report(
    page: Any, exports: dict[str, Path], temp_root: Path
) -> None:
    with served(WebSettings(), lifespan="on") as app:
        page.goto(app.url + "/audit")
        page.set_input_files("#billing-files", str(exports["json"]))
        page.set_input_files(
            "#app-file", str(Path(__file__).parents[2] / "src/billdrift/demo_data/app.sqlite")
        )
        page.click("#upload")
        page.wait_for_selector("#mapping-form")
        assert "app accounts SQLite database" in page.locator("section.file").nth(1).inner_text()
        page.click("#run")
        page.wait_for_selector("#verdict", timeout=60_000)
        progress = httpx.get(
            page.url.replace("/report", "/progress.json"),
            cookies={c["name"]: c["value"] for c in page.context.cookies()},
        )
        phases = [step["phase"] for step in progress.json()["steps"]]
        assert phases == ["reading", "comparing", "done"]
        assert "Took" in page.locator("main > p.muted").first.inner_text()


def test_an_upload_over_the_limit_is_refused_and_nothing_is_kept(
    page: Any, exports: dict[str, Path], temp_root: Path, tmp_path: Path
) -> None:
    big = tmp_path / "big.csv"
    big.write_bytes(exports["billing"].read_bytes() + b"x" * 300_000)
    with served(WebSettings(max_upload_bytes=200_000), lifespan="on") as app:
        page.goto(app.url + "/audit")
        assert "Up to 200.0 kB" in page.locator("#upload-form").inner_text()
        page.set_input_files("#billing-files", str(big))
        page.set_input_files("#app-file", str(exports["users"]))
        page.click("#upload")
        page.wait_for_selector("#audit-error")
        message = page.locator("#audit-error").inner_text()
        assert "over this server's limit of 200.0 kB" in message
        assert _uploads(temp_root) == []


def test_the_upload_folder_is_removed_when_the_server_stops(
    exports: dict[str, Path], temp_root: Path
) -> None:
    with served(WebSettings(), lifespan="on") as app, httpx.Client(base_url=app.url) as client:
        form = client.get("/audit").text
        csrf = form.split('name="csrf" value="')[1].split('"')[0]
        files = [
            ("billing", ("export.csv", exports["billing"].read_bytes(), "text/csv")),
            ("app", ("users.csv", exports["users"].read_bytes(), "text/csv")),
        ]
        response = client.post("/audit", data={"csrf": csrf}, files=files)
        assert response.status_code == 303, response.text
        assert len(_uploads(temp_root)) == 1  # not run: kept for the person to map and run
    assert _uploads(temp_root) == []


def test_an_upload_without_the_forms_token_is_refused_and_nothing_is_kept(
    exports: dict[str, Path], temp_root: Path
) -> None:
    with served(WebSettings(), lifespan="on") as app, httpx.Client(base_url=app.url) as client:
        client.get("/audit")
        files = [("billing", ("export.csv", exports["billing"].read_bytes(), "text/csv"))]
        response = client.post("/audit", data={"csrf": "forged"}, files=files)
        assert response.status_code == 403
        assert _uploads(temp_root) == []


def test_while_it_runs_the_page_shows_each_step_then_opens_the_report_itself(
    page: Any, exports: dict[str, Path], temp_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real run, held at its comparing step until the page has shown it."""
    import billdrift.web.audit_jobs as jobs

    release = threading.Event()
    real = jobs.run_audit

    def held(recognition: Any, as_of: Any, on_step: Any) -> Any:
        def step(value: Any) -> None:
            on_step(value)
            if value.phase == "comparing":
                assert release.wait(30)

        return real(recognition, as_of, step)

    monkeypatch.setattr(jobs, "run_audit", held)
    demo = Path(__file__).parents[2] / "src" / "billdrift" / "demo_data"
    with served(WebSettings(), lifespan="on") as app:
        page.goto(app.url + "/audit")
        page.set_input_files("#billing-files", str(demo / "stripe_subscriptions.json"))
        page.set_input_files("#app-file", str(demo / "app.sqlite"))
        page.fill("#as-of", "2026-11-22")
        page.click("#upload")
        page.click("#run")
        page.wait_for_selector("text=comparing 21 accounts with 18 subscriptions")
        assert page.locator("progress").count() == 1
        assert (
            page.locator("#steps li")
            .nth(0)
            .inner_text()
            .endswith("reading stripe_subscriptions.json (21.2 kB), app.sqlite (16.4 kB)")
        )
        release.set()
        page.wait_for_selector("#verdict", timeout=30_000)  # audit.js went to the report
        assert page.url.endswith("/report")
        assert page.locator("#findings tbody tr").count() == 15


def test_findings_are_paged(exports: dict[str, Path], temp_root: Path, tmp_path: Path) -> None:
    users = tmp_path / "many.csv"
    users.write_text(
        "id,email,stripe_customer_id,has_paid_access\n"
        + "".join(f"{n},u{n}@example.com,,true\n" for n in range(1, 121)),
        encoding="utf-8",
    )
    with served(WebSettings(), lifespan="on") as app, httpx.Client(base_url=app.url) as client:
        csrf = client.get("/audit").text.split('name="csrf" value="')[1].split('"')[0]
        files = [
            ("billing", ("export.csv", exports["billing"].read_bytes(), "text/csv")),
            ("app", ("many.csv", users.read_bytes(), "text/csv")),
        ]
        target = client.post("/audit", data={"csrf": csrf}, files=files).headers["location"]
        fields = {"csrf": csrf, "action": "run", "col-0": "account_id", "col-1": "email"}
        fields |= {"col-2": "customer_id", "col-3": "flag"}
        assert client.post(target, data=fields).status_code == 303
        for _ in range(300):
            if client.get(target + "/progress.json").json()["finished"]:
                break
            threading.Event().wait(0.1)
        first = client.get(target + "/report").text
        again = client.post(target, data=fields | {"col-3": "status"})  # ran: nothing to change
        assert again.status_code == 303 and again.headers["location"] == target + "/report"
        assert client.get(target + "/report").text == first
        last = client.get(target + "/report?page=3").text
        beyond = client.get(target + "/report?page=99").text
    assert "page 1 of 3" in first and first.count('<tr>\n    <td class="num">') == 50
    assert "page 3 of 3" in last and last.count('<tr>\n    <td class="num">') == 22
    assert '<td class="num">101</td>' in last and 'id="next-page"' not in last
    main = re.compile(r"<main.*</main>", re.S)
    assert main.findall(beyond) == main.findall(last)  # past the end: the last page


def test_an_error_run_never_reads_as_agreement(
    exports: dict[str, Path], temp_root: Path, tmp_path: Path
) -> None:
    """Every account links to a customer the export lacks: the partial-data guard makes
    the run an ERROR, and the page must not say billing and access agree."""
    users = tmp_path / "partial.csv"
    users.write_text(
        "id,stripe_customer_id,has_paid_access\n"
        + "".join(f"{n},cus_elsewhere{n},true\n" for n in range(1, 41)),
        encoding="utf-8",
    )
    with served(WebSettings(), lifespan="on") as app, httpx.Client(base_url=app.url) as client:
        csrf = client.get("/audit").text.split('name="csrf" value="')[1].split('"')[0]
        files = [
            ("billing", ("export.csv", exports["billing"].read_bytes(), "text/csv")),
            ("app", ("partial.csv", users.read_bytes(), "text/csv")),
        ]
        target = client.post("/audit", data={"csrf": csrf}, files=files).headers["location"]
        fields = {"csrf": csrf, "action": "run", "col-0": "account_id", "col-1": "customer_id"}
        assert client.post(target, data=fields | {"col-2": "flag"}).status_code == 303
        for _ in range(300):
            if client.get(target + "/progress.json").json()["finished"]:
                break
            threading.Event().wait(0.1)
        page = client.get(target + "/report").text
    assert 'id="verdict">ERROR<' in page and "looks partial" in page
    assert "agree" not in page and "could not be judged" in page
