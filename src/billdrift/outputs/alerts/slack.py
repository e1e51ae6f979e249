"""Slack incoming webhook: a Block Kit message with a plain-text fallback.

Layout (what a person sees in the channel, top to bottom):

1. header: ``billdrift URGENT: 3 paying customers locked out``
2. section: verdict and date, counts per kind (new / reopened), money at stake
   per currency
3. one section per listed finding: kind, severity, status, ids and emails (as
   ``alerts.mask`` says), monthly amount, the message, its fix, the fingerprint
   and a link to the customer in the provider's dashboard
4. context: how many more findings there are, and the link to the full report

The webhook URL is a credential (its path is the token), so it is read from the
environment variable named by ``alerts.slack.webhook_env``, and scrubbed from
every error; :attr:`SlackSink.target` shows only the host.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

import orjson

from billdrift._version import __version__
from billdrift.infra.retry import RetryPolicy
from billdrift.outputs.alerts.delivery import deliver, post
from billdrift.outputs.alerts.interface import (
    Alert,
    AlertFinding,
    AlertSink,
    Delivery,
    check_http_url,
    secret_from_env,
)
from billdrift.outputs.alerts.settings import TIERS, AlertSettings, Tier
from billdrift.outputs.render.common import money

if TYPE_CHECKING:
    import httpx

#: Slack's limits: header text 150 characters, section text 3000, 50 blocks.
HEADER_LIMIT = 150
SECTION_LIMIT = 3000


class SlackSink(AlertSink):
    name = "slack"

    def __init__(
        self,
        webhook_url: str,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 10.0,
        tiers: tuple[Tier, ...] = TIERS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._url = webhook_url
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.tiers = tiers
        self._transport = transport

    @classmethod
    def from_settings(cls, settings: AlertSettings, environ: Mapping[str, str]) -> Self:
        slack = settings.slack
        if slack is None:
            raise ValueError("alerts.slack is not configured")
        key = "alerts.slack.webhook_env"
        url = secret_from_env(environ, slack.webhook_env, key)
        check_http_url(url, f"{key} ({slack.webhook_env})")
        return cls(
            url,
            retry=RetryPolicy(retries=settings.retries, backoff=settings.backoff_seconds),
            timeout=settings.timeout_seconds,
            tiers=slack.tiers,
        )

    @property
    def target(self) -> str:
        return f"slack ({urlsplit(self._url).hostname})"

    def secrets(self) -> tuple[str, ...]:
        parts = urlsplit(self._url)
        return tuple(s for s in (self._url, parts.path, parts.query) if len(s) > 1)

    def send(self, alert: Alert) -> Delivery:
        body = orjson.dumps(slack_payload(alert))
        headers = {"Content-Type": "application/json", "User-Agent": f"billdrift/{__version__}"}
        return deliver(
            self,
            alert,
            lambda: post(self._url, body, headers, self.timeout, self._transport),
            self.retry,
        )


def slack_payload(alert: Alert) -> dict[str, Any]:
    """The JSON body: ``text`` (notifications, old clients) plus ``blocks``."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _cut(f"billdrift {alert.tier.upper()}: {alert.headline}", HEADER_LIMIT),
            },
        },
        _section(_summary(alert)),
        {"type": "divider"},
    ]
    blocks += [_section(_finding(f)) for f in alert.findings]
    context = []
    if alert.more:
        context.append(f"…and {alert.more} more in the full report.")
    context.append(f"Full report: {_link(alert.report_link)}")
    blocks.append({"type": "context", "elements": [_mrkdwn(" ".join(context))]})
    fallback = f"{alert.subject} (verdict {alert.verdict.value}, as of {alert.as_of_text})"
    return {"text": _escape(fallback), "blocks": blocks}


def _summary(alert: Alert) -> str:
    statuses = ", ".join(f"{n} {status}" for status, n in alert.by_status.items())
    lines = [
        f"*Verdict:* {alert.verdict.value} · as of {alert.as_of_text}",
        f"*Findings:* {alert.total} ({statuses})",
        f"*Monthly amount at stake:* {_escape(money(alert.exposure))}",
    ]
    for kind, counts in alert.counts.items():
        detail = ", ".join(f"{n} {status}" for status, n in counts.items())
        lines.append(f"• `{kind}`: {detail}")
    return "\n".join(lines)


def _finding(finding: AlertFinding) -> str:
    head = [f"*{finding.kind.value}* [{finding.severity.label}, {finding.status}]"]
    if finding.ids:
        head.append(f"`{_escape(finding.ids)}`")
    if finding.emails:
        head.append(_escape(", ".join(finding.emails)))
    if finding.exposure_text:
        head.append(finding.exposure_text)
    lines = [" · ".join(head), _escape(finding.message), f"*Fix:* {_escape(finding.fix)}"]
    tail = [f"fingerprint `{finding.short_fingerprint}`"] if finding.fingerprint else []
    if finding.dashboard_url:
        tail.append(f"<{_escape(finding.dashboard_url)}|open the customer in the dashboard>")
    if tail:
        lines.append(" · ".join(tail))
    return "\n".join(lines)


def _link(link: str | None) -> str:
    if not link:
        return "not published (see the run's output)"
    if urlsplit(link).scheme in ("http", "https"):
        return f"<{_escape(link)}|open>"
    return f"`{_escape(link)}`"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text)}


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": _cut(text, SECTION_LIMIT)}


def _escape(text: str) -> str:
    """Slack's three control characters; anything else would turn data into markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
