"""What a prune removed (or would remove), as text and JSON."""

from __future__ import annotations

from typing import Any

from billdrift.history.retention import Pruned
from billdrift.outputs.review import iso, when


def _size(value: int) -> str:
    return f"{value / 1_000_000:.1f} MB"


def _counted(count: int, noun: str, nouns: str) -> str:
    return f"{count:,} {noun if count == 1 else nouns}"


def pruned_text(pruned: Pruned, shown: str) -> str:
    verb = "would remove" if pruned.dry_run else "removed"
    what = ", ".join(
        [
            _counted(pruned.runs, "run", "runs"),
            _counted(pruned.findings, "resolved finding", "resolved findings"),
            _counted(pruned.spans, "timeline entry", "timeline entries"),
        ]
    )
    limits = []
    if pruned.runs_before is not None:
        limits.append(f"runs before {when(pruned.runs_before)}")
    if pruned.resolved_before is not None:
        limits.append(f"findings resolved before {when(pruned.resolved_before)}, never reviewed")
    lines = [
        f"billdrift history prune: {verb} {what} from {shown} ({'; '.join(limits)}).",
        "Kept: every review (decisions and notes), each finding's latest timeline entry, "
        "and the runs they refer to.",
    ]
    if pruned.size_before is not None and pruned.size_after is not None:
        if pruned.size_before != pruned.size_after:
            lines.append(f"Compacted: {_size(pruned.size_before)} -> {_size(pruned.size_after)}.")
        else:
            lines.append(
                f"Size {_size(pruned.size_after)}; on PostgreSQL autovacuum makes the freed "
                "space reusable (files do not shrink)."
            )
    if pruned.dry_run:
        lines.append("Nothing was changed (--dry-run).")
    return "\n".join(lines)


def pruned_json(pruned: Pruned, shown: str) -> dict[str, Any]:
    return {
        "history": shown,
        "dry_run": pruned.dry_run,
        "runs_before": iso(pruned.runs_before),
        "resolved_before": iso(pruned.resolved_before),
        "removed": {"runs": pruned.runs, "findings": pruned.findings, "spans": pruned.spans},
        "size_before": pruned.size_before,
        "size_after": pruned.size_after,
    }
