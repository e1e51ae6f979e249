"""Which findings a plan covers: from the history store or from a JSON report.

A finding is taken as it was last observed (its latest evidence is what the
guards hold the row to). Without a fingerprint or a review state named, the
selection is the review queue: open findings no decision covers. Findings picked
out by fingerprint, or whose kind is named, count as explicitly selected (see
:mod:`billdrift.usecases.fix.decide`: only those may lose access).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from billdrift.core.model import Exposure, Finding, Kind, Severity
from billdrift.errors import BilldriftError, ConfigError
from billdrift.history.fingerprint import fingerprint_of
from billdrift.history.queue import review_queue
from billdrift.history.review import resolve_fingerprint
from billdrift.usecases.fix.decide import Selected
from billdrift.usecases.review import open_history

#: ``--review`` values: a decision in force, none (``unreviewed``), or ``any``.
REVIEW_STATES: Final = ("unreviewed", "acknowledged", "snoozed", "expected", "any")


@dataclass(frozen=True)
class Selection:
    """What to fix: fingerprints (or unique prefixes), kinds, review states."""

    fingerprints: tuple[str, ...] = ()
    kinds: tuple[Kind, ...] = ()
    #: Default: ``unreviewed`` unless fingerprints are given (then any state).
    review: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = [state for state in self.review if state not in REVIEW_STATES]
        if unknown:
            raise ConfigError(
                f"unknown review state {unknown[0]!r}; expected one of {', '.join(REVIEW_STATES)}"
            )

    def wants(self, kind: Kind, review: str | None, named: bool) -> bool:
        if self.kinds and kind not in self.kinds:
            return False
        states = self.review or (("any",) if self.fingerprints else ("unreviewed",))
        state = review or "unreviewed"
        return named or "any" in states or state in states

    def explicit(self, kind: Kind, named: bool) -> bool:
        return named or kind in self.kinds


@dataclass(frozen=True)
class Picked:
    """The findings selected, where from, and how many the review filter left out."""

    origin: str
    selected: tuple[Selected, ...]
    left_out_reviewed: int = 0


def from_history(location: str, selection: Selection) -> Picked:
    """Open findings of the store at `location` (never created here)."""
    with open_history(location) as store:
        named = {
            resolve_fingerprint(store, prefix).fingerprint for prefix in selection.fingerprints
        }
        items = review_queue(store, datetime.now(UTC), include_decided=True)
        open_ones = {item.state.fingerprint for item in items}
        missing = sorted(named - open_ones)
        if missing:
            raise BilldriftError(
                f"finding {missing[0][:12]} is not open in history store {store.shown} "
                "(resolved, or excused by a config exception): nothing to fix"
            )
        chosen: list[Selected] = []
        left_out = 0
        for item in items:
            fp = item.state.fingerprint
            if selection.fingerprints and fp not in named:
                continue
            review = item.decision.action if item.decision else None
            if not selection.wants(item.state.kind, review, fp in named):
                left_out += review is not None
                continue
            observations = store.observations(fp)
            if not observations:
                continue
            finding = observations[-1].finding
            chosen.append(
                Selected(fp, finding, review, selection.explicit(finding.kind, fp in named))
            )
        return Picked(f"history {store.shown}", tuple(chosen), left_out)


def from_report(path: str | Path, selection: Selection) -> Picked:
    """Findings of a JSON report (schema 2.x) written by ``billdrift check --format json``."""
    name = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise BilldriftError(f"cannot read report {name}: {error.strerror or error}") from None
    except ValueError as error:
        raise BilldriftError(f"{name} is not a JSON report ({error})") from None
    version = str(data.get("schema_version", "")) if isinstance(data, dict) else ""
    if not version.startswith("2."):
        raise BilldriftError(
            f"{name} is not a billdrift JSON report of schema 2.x (got {version or 'none'}); "
            "write one with `billdrift check --format json --output FILE`"
        )
    findings = [(_fingerprint(item), item) for item in data.get("findings") or []]
    named = {
        _resolve(prefix, [fp for fp, _ in findings], name) for prefix in selection.fingerprints
    }
    chosen: list[Selected] = []
    left_out = 0
    for fp, item in findings:
        if selection.fingerprints and fp not in named:
            continue
        finding = _finding(item)
        review = ((item.get("lifecycle") or {}).get("review") or {}).get("decision")
        if not selection.wants(finding.kind, review, fp in named):
            left_out += review is not None
            continue
        chosen.append(Selected(fp, finding, review, selection.explicit(finding.kind, fp in named)))
    return Picked(f"report {name} (as of {data.get('as_of')})", tuple(chosen), left_out)


def _fingerprint(item: dict[str, Any]) -> str:
    lifecycle = item.get("lifecycle") or {}
    given = lifecycle.get("fingerprint")
    if isinstance(given, str) and given:
        return given
    return fingerprint_of(
        str(item["kind"]),
        item.get("account_id"),
        item.get("customer_id"),
        item.get("subscription_id"),
    )


def _resolve(prefix: str, fingerprints: Iterable[str], name: str) -> str:
    wanted = prefix.strip().lower()
    matches = sorted({fp for fp in fingerprints if wanted and fp.startswith(wanted)})
    if len(matches) != 1:
        problem = "no finding" if not matches else "more than one finding"
        raise BilldriftError(f"{problem} in {name} has a fingerprint starting {wanted!r}")
    return matches[0]


def _finding(item: dict[str, Any]) -> Finding:
    exposure = item.get("exposure")
    return Finding(
        kind=Kind(item["kind"]),
        severity=Severity.parse(str(item.get("severity", "low"))),
        confidence=float(item.get("confidence", 0.0)),
        account_id=item.get("account_id"),
        customer_id=item.get("customer_id"),
        subscription_id=item.get("subscription_id"),
        exposure=Exposure(**exposure) if isinstance(exposure, dict) else None,
        message=str(item.get("message", "")),
        fix=str(item.get("fix", "")),
        evidence=item.get("evidence") or {},
    )


def kinds_of(names: Sequence[str]) -> tuple[Kind, ...]:
    """Kinds from their names; ConfigError naming the valid ones otherwise."""
    try:
        return tuple(Kind(name) for name in names)
    except ValueError:
        bad = next(name for name in names if name not in {k.value for k in Kind})
        raise ConfigError(
            f"unknown finding kind {bad!r}; expected one of {', '.join(k.value for k in Kind)}"
        ) from None
