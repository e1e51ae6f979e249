"""SMTP email: a plain-text message, from the standard library only.

Plain text on purpose: it reads the same in every client, in a terminal mail
reader and in a ticket system that ingests mail, and it has no markup to escape.

Transport security follows ``[alerts.email]``: ``starttls = true`` (the default,
port 587) upgrades the connection before logging in, ``ssl = true`` (port 465)
is TLS from the first byte. Certificates are verified against the system's
trust store. The password comes from the environment variable named by
``password_env`` and is scrubbed from every error.

Deadline: ``alerts.timeout_seconds`` bounds each socket wait and, through a
watchdog that shuts the socket down when it passes, the whole attempt, so a
server sending its replies one byte a second cannot hold the run.

Retries: connection failures and SMTP 4xx replies (greylisting, "try again
later") are retried; 5xx replies (bad recipient, authentication refused) are
final, since retrying them only delays the error.
"""

from __future__ import annotations

import smtplib
import ssl
import textwrap
import time
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Self

from billdrift.infra.retry import RetryPolicy
from billdrift.infra.secrets import basic_credentials
from billdrift.infra.watchdog import shut, watchdog
from billdrift.outputs.alerts.delivery import Attempt, deliver
from billdrift.outputs.alerts.interface import Alert, AlertSink, Delivery, secret_from_env
from billdrift.outputs.alerts.settings import TIERS, AlertSettings, Tier
from billdrift.outputs.render.common import money

WIDTH = 78


class EmailSink(AlertSink):
    name = "email"

    def __init__(
        self,
        host: str,
        from_address: str,
        to: tuple[str, ...],
        *,
        port: int = 587,
        starttls: bool = True,
        use_ssl: bool = False,
        username: str | None = None,
        password: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 10.0,
        tiers: tuple[Tier, ...] = TIERS,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.from_address = from_address
        self.to = to
        self.starttls = starttls
        self.use_ssl = use_ssl
        self.username = username
        self._password = password
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.tiers = tiers
        self._ssl_context = ssl_context

    @classmethod
    def from_settings(cls, settings: AlertSettings, environ: Mapping[str, str]) -> Self:
        mail = settings.email
        if mail is None:
            raise ValueError("alerts.email is not configured")
        password = None
        if mail.password_env is not None:
            password = secret_from_env(
                environ, mail.password_env, "alerts.email.password_env", spaces=True
            )
        return cls(
            mail.host,
            mail.from_address,
            mail.to,
            port=mail.port,
            starttls=mail.starttls,
            use_ssl=mail.ssl,
            username=mail.username,
            password=password,
            retry=RetryPolicy(retries=settings.retries, backoff=settings.backoff_seconds),
            timeout=settings.timeout_seconds,
            tiers=mail.tiers,
        )

    @property
    def target(self) -> str:
        plural = "" if len(self.to) == 1 else "s"
        return f"email ({self.host}:{self.port} to {len(self.to)} recipient{plural})"

    def secrets(self) -> tuple[str, ...]:
        """The password, and the base64 forms AUTH PLAIN and LOGIN send it in (a server
        may quote what it was sent back in its reply)."""
        if not self._password:
            return ()
        return (self._password, *basic_credentials(self.username or "", self._password))

    def message(self, alert: Alert) -> EmailMessage:
        """The message as it will be sent (also what tests inspect)."""
        message = EmailMessage()
        message["Subject"] = alert.subject
        message["From"] = self.from_address
        message["To"] = ", ".join(self.to)
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = make_msgid("billdrift", self.from_address.rpartition("@")[2])
        message["X-Billdrift-Tier"] = alert.tier
        message.set_content(email_text(alert))
        return message

    def send(self, alert: Alert) -> Delivery:
        message = self.message(alert)
        return deliver(self, alert, lambda: self._attempt(message), self.retry)

    def _attempt(self, message: EmailMessage) -> Attempt:
        """One conversation, ended by the watchdog if it outlasts the timeout (each
        socket wait is bounded by it too)."""
        context = self._ssl_context or ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.use_ssl:
            smtp = _SmtpSsl(timeout=self.timeout, context=context)
        else:
            smtp = _Smtp(timeout=self.timeout)
        started = time.monotonic()
        with watchdog(self.timeout, lambda: shut(smtp.sock)) as watch:
            attempt = self._converse(smtp, context, message)
        # A socket wait bounded by the same timeout can end the attempt just before the
        # watchdog does (a busy machine schedules its thread late): the deadline's either way.
        out_of_time = watch.fired or time.monotonic() - started >= self.timeout
        if out_of_time and not attempt.ok:
            return Attempt(
                ok=False,
                error=f"the SMTP server did not finish within {self.timeout:g} s (the deadline "
                "for one attempt; alerts.timeout_seconds sets it)",
                retryable=True,
            )
        return attempt

    def _converse(
        self, smtp: smtplib.SMTP, context: ssl.SSLContext, message: EmailMessage
    ) -> Attempt:
        try:
            with smtp:
                code, banner = smtp.connect(self.host, self.port)
                if code != 220:
                    raise smtplib.SMTPConnectError(code, banner)
                if self.starttls and not self.use_ssl:
                    smtp.starttls(context=context)
                if self.username:
                    smtp.login(self.username, self._password or "")
                refused = smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            return Attempt(
                ok=False,
                error=f"every recipient was refused (SMTP {', '.join(map(str, codes))})",
                retryable=all(400 <= code < 500 for code in codes),
            )
        except smtplib.SMTPNotSupportedError as error:
            return Attempt(ok=False, error=f"the SMTP server does not support it: {error}")
        except smtplib.SMTPResponseException as error:
            # Auth failures (535), sender refused, data refused, unwelcoming banners.
            reply = _reply(error.smtp_error)
            what = type(error).__name__.removeprefix("SMTP")
            return Attempt(
                ok=False,
                status=error.smtp_code,
                error=f"SMTP {error.smtp_code} ({what}): {reply}",
                retryable=400 <= error.smtp_code < 500,
            )
        except ssl.SSLCertVerificationError as error:
            return Attempt(ok=False, error=f"TLS certificate not trusted: {error.verify_message}")
        except (smtplib.SMTPException, OSError) as error:
            detail = str(error) or "no detail"
            return Attempt(ok=False, error=f"{type(error).__name__}: {detail}", retryable=True)
        if refused:
            return Attempt(
                ok=True, status=250, error=f"refused by the server: {', '.join(sorted(refused))}"
            )
        return Attempt(ok=True, status=250)


class _Smtp(smtplib.SMTP):
    """An SMTP client made before it connects, so the watchdog holds it from the first
    byte (the constructor given a host would connect and read the banner unwatched)."""

    def connect(
        self, host: str = "localhost", port: int = 0, source_address: Any = None
    ) -> tuple[int, bytes]:
        # What the constructor sets when it connects: TLS checks the certificate against it.
        self._host = host
        return super().connect(host, port, source_address)


class _SmtpSsl(_Smtp, smtplib.SMTP_SSL):
    """:class:`_Smtp` over implicit TLS (port 465)."""


def email_text(alert: Alert) -> str:
    """The plain-text body: summary, listed findings with their fixes, the report link."""
    statuses = ", ".join(f"{n} {status}" for status, n in alert.by_status.items())
    out = [
        f"billdrift {alert.tier.upper()}: {alert.headline}",
        f"Verdict {alert.verdict.value}, as of {alert.as_of_text}.",
        "",
        f"Findings: {alert.total} ({statuses})",
        f"Monthly amount at stake: {money(alert.exposure)}",
    ]
    for kind, counts in alert.counts.items():
        detail = ", ".join(f"{n} {status}" for status, n in counts.items())
        out.append(f"  {kind}: {detail}")
    for finding in alert.findings:
        out.append("")
        money_part = f", {finding.exposure_text}" if finding.exposure_text else ""
        out.append(
            f"[{finding.severity.label}] {finding.kind.value} ({finding.status}){money_part}"
        )
        who = " · ".join(part for part in (finding.ids, *finding.emails) if part)
        if who:
            out += _wrap(who, "    ")
        out += _wrap(finding.message, "    ")
        out += _wrap(f"fix: {finding.fix}", "    ")
        if finding.fingerprint:
            out.append(f"    fingerprint: {finding.short_fingerprint}")
        if finding.dashboard_url:
            out.append(f"    dashboard: {finding.dashboard_url}")
    if alert.more:
        out += ["", f"... and {alert.more} more in the full report."]
    out += ["", f"Full report: {alert.report_link or 'not published (see the run output)'}"]
    return "\n".join(out) + "\n"


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=indent,
        subsequent_indent=indent,
        break_on_hyphens=False,
        break_long_words=False,
    ) or [indent]


def _reply(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return " ".join(text.split())[:200]
