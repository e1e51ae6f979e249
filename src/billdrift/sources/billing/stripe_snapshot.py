"""Incremental Stripe reads: a local snapshot plus the Events API.

A full fetch of a large account costs one request per 100 subscriptions. After
one, the canonical rows are kept on disk (Parquet, one directory per key and API
base, never the key itself: its SHA-256 names the directory). The next run asks
``/v1/events`` only for subscription and customer changes since the snapshot
(with a five-minute overlap, because events become visible a little late),
takes the newest object of each changed subscription from its event, and
replaces those rows. A customer's email comes from the event, the snapshot, or
one ``/v1/customers/{id}`` request for a customer never seen.

Falls back to a full fetch, and says why, when there is no snapshot, when it is
older than 29 days (Stripe keeps events for 30: a day in hand), when it was written
by another billdrift format or for another API version, when its files do not
belong together, or when the key may not read events.

A snapshot holds customer emails, so it is kept like the history store: its
directories 0700 and files 0600, tightened if found wider (see
:mod:`billdrift.infra.private`). A directory that cannot be made private, or
belongs to another user, is neither read nor written: the run fetches
everything and its notes say why.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from billdrift.config import StripeApiConfig
from billdrift.core.model import BILLING_ITEMS, BILLING_SUBSCRIPTIONS, Skip
from billdrift.core.refs import canonical_refs
from billdrift.infra.api.client import ApiClient, ApiError
from billdrift.infra.private import PRIVATE_DIRECTORY, NotPrivateError, private_dir, private_tree
from billdrift.sources.billing.common import object_id
from billdrift.sources.billing.stripe_key import StripeKey
from billdrift.sources.billing.stripe_records import as_tables, parse_records
from billdrift.sources.billing.stripe_walk import PAGE_SIZE, SubscriptionWalk
from billdrift.sources.progress import Progress

FORMAT = 1
EVENTS_KEPT_DAYS = 30
#: A snapshot is used up to this age, inclusive: a day short of the events Stripe
#: keeps, so the events since it (less the overlap) are still there when asked for.
MAX_AGE_DAYS = EVENTS_KEPT_DAYS - 1
MAX_AGE_SECONDS = MAX_AGE_DAYS * 86_400
OVERLAP_SECONDS = 300
SUBSCRIPTION_EVENTS = (
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
    "customer.subscription.pending_update_applied",
    "customer.subscription.pending_update_expired",
)
CUSTOMER_EVENTS = ("customer.updated",)


@dataclass
class SyncResult:
    subscriptions: pa.Table
    items: pa.Table
    skips: list[Skip]
    notes: list[str] = field(default_factory=list)
    how: str = ""


@dataclass
class Snapshot:
    meta: dict[str, Any]
    subscriptions: pa.Table
    items: pa.Table
    skips: list[Skip]


class _Fallback(Exception):
    """Incremental reading is not possible; the message says why."""


def snapshot_dir(options: StripeApiConfig) -> Path:
    """billing.stripe.snapshot_dir, else billdrift's directory in the user's cache."""
    if options.snapshot_dir:
        return Path(options.snapshot_dir)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "billdrift"


def snapshot_path(options: StripeApiConfig, key: StripeKey) -> Path:
    digest = hashlib.sha256(f"{options.api_base}\n{key.value}".encode()).hexdigest()[:20]
    return snapshot_dir(options) / f"stripe-{digest}"


def sync(
    client: ApiClient, key: StripeKey, options: StripeApiConfig, progress: Progress
) -> SyncResult:
    name = f"stripe ({key.mode})"
    started = time.time()
    path = snapshot_path(options, key)
    notes: list[str] = []
    keep = options.incremental and _private(path, name, notes)
    if keep:
        try:
            snapshot = load(path, options, started)
            result = incremental(client, snapshot, name, progress)
            result.notes = notes + result.notes
            _save(path, result, options, started, notes)
            return result
        except _Fallback as reason:
            notes.append(f"{name}: full fetch: {reason}")
    walk = SubscriptionWalk(
        client,
        options.concurrency,
        on_page=lambda done: progress.update("subscriptions", done, client.counters.requests),
    )
    parsed = parse_records(list(walk.run().values()), name)
    subscriptions, items = as_tables(parsed)
    if parsed.truncated:
        notes.append(
            f"{name}: {parsed.truncated} subscription(s) have more than the 10 items Stripe "
            "embeds; only those were read"
        )
    result = SyncResult(subscriptions, items, parsed.skips, notes, "full fetch")
    if keep:
        _save(path, result, options, started, notes)
    return result


def _private(path: Path, name: str, notes: list[str]) -> bool:
    """Make the snapshot's directory, and the one holding it, private; False (with a
    note saying why) when they cannot be, and no snapshot may be kept there."""
    try:
        private_dir(path.parent)
        if path.exists():
            private_tree(path)
    except NotPrivateError as error:
        notes.append(
            f"{name}: full fetch, and no snapshot kept: {error} (snapshots hold customer "
            "emails; set billing.stripe.snapshot_dir to a directory of your own)"
        )
        return False
    return True


# --------------------------------------------------------------------- incremental
def incremental(client: ApiClient, snapshot: Snapshot, name: str, progress: Progress) -> SyncResult:
    since = int(snapshot.meta["fetched_at"]) - OVERLAP_SECONDS
    try:
        events = _events(client, since, progress)
    except ApiError as error:
        if error.status in (401, 403):
            raise _Fallback(
                "the key cannot read events (grant Read on Events to the restricted key for "
                "incremental runs)"
            ) from None
        raise
    latest: dict[str, dict[str, Any]] = {}
    emails: dict[str, str | None] = {}
    for event in events:  # newest first: the first object seen per id is the current one
        obj = (event.get("data") or {}).get("object")
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
            continue
        if event.get("type") in CUSTOMER_EVENTS:
            emails.setdefault(obj["id"], obj.get("email"))
        else:
            latest.setdefault(obj["id"], obj)
    known = _known_emails(snapshot.subscriptions)
    for obj in latest.values():
        customer = obj.get("customer")
        if isinstance(customer, dict):
            continue
        ident = object_id(customer)
        if ident is None:
            continue
        if ident not in emails and ident not in known:
            emails[ident] = _customer_email(client, ident)
        obj["customer"] = {"id": ident, "email": emails.get(ident, known.get(ident))}
    parsed = parse_records(list(latest.values()), name)
    changed = pa.array(sorted(latest), pa.string())
    subscriptions, items = as_tables(parsed)
    kept_subs = snapshot.subscriptions.filter(
        pc.invert(pc.is_in(snapshot.subscriptions["subscription_id"], changed))
    )
    kept_items = snapshot.items.filter(
        pc.invert(pc.is_in(snapshot.items["subscription_id"], changed))
    )
    merged = pa.concat_tables([_with_emails(kept_subs, emails), subscriptions])
    merged = merged.sort_by("subscription_id")
    merged_items = pa.concat_tables([kept_items, items]).sort_by("subscription_id")
    skips = [s for s in snapshot.skips if s.location not in latest] + parsed.skips
    how = (
        f"incremental: {len(latest):,} changed subscription(s) from {len(events):,} event(s) "
        f"since the snapshot of {time.strftime('%Y-%m-%d %H:%M', time.gmtime(since))} UTC"
    )
    return SyncResult(merged, merged_items, skips, [], how)


def _events(client: ApiClient, since: int, progress: Progress) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: list[tuple[str, str | int]] = [("limit", PAGE_SIZE), ("created[gte]", since)]
        params += [("types[]", kind) for kind in (*SUBSCRIPTION_EVENTS, *CUSTOMER_EVENTS)]
        if cursor:
            params.append(("starting_after", cursor))
        page = client.get("/v1/events", params)
        data = page.get("data") if isinstance(page, dict) else None
        if not isinstance(data, list):
            raise ApiError("Stripe returned an events page without a data array")
        events += [event for event in data if isinstance(event, dict)]
        progress.update("events", len(events), client.counters.requests)
        if not page.get("has_more") or not data:
            return events
        cursor = str(data[-1].get("id"))


def _known_emails(subscriptions: pa.Table) -> dict[str, str | None]:
    pairs = subscriptions.select(["customer_id", "customer_email"]).to_pydict()
    return dict(zip(pairs["customer_id"], pairs["customer_email"], strict=True))


def _customer_email(client: ApiClient, ident: str) -> str | None:
    try:
        customer = client.get(f"/v1/customers/{ident}", endpoint="/v1/customers/{id}")
    except ApiError as error:
        if error.status == 404:
            return None
        raise
    email = customer.get("email") if isinstance(customer, dict) else None
    return email if isinstance(email, str) else None


def _with_emails(table: pa.Table, emails: dict[str, str | None]) -> pa.Table:
    """The customer emails `customer.updated` events changed, applied to kept rows."""
    if not emails or table.num_rows == 0:
        return table
    keys = pa.array(list(emails), pa.string())
    values = pa.array(list(emails.values()), pa.string())
    where = pc.index_in(table["customer_id"], value_set=keys)
    updated = pc.if_else(pc.is_valid(where), pc.take(values, where), table["customer_email"])
    index = table.schema.get_field_index("customer_email")
    return table.set_column(index, "customer_email", updated)


# ------------------------------------------------------------------------- storage
def load(path: Path, options: StripeApiConfig, now: float) -> Snapshot:
    # Imported here, as in _save: pyarrow.parquet and the file systems it loads cost
    # about 50 ms, which every command would pay (the source registry imports this
    # module), though only a Stripe read with a snapshot needs it.
    import pyarrow.parquet as pq

    meta_file = path / "meta.json"
    if not meta_file.exists():
        raise _Fallback("no snapshot yet (the next run will be incremental)")
    try:
        meta = orjson.loads(meta_file.read_bytes())
        subscriptions = pq.read_table(path / "subscriptions.parquet")
        items = pq.read_table(path / "items.parquet")
    except (OSError, ValueError, pa.ArrowException) as error:
        raise _Fallback(f"the snapshot in {path} cannot be read ({error})") from None
    if meta.get("format") != FORMAT:
        raise _Fallback("the snapshot was written by another billdrift version")
    if meta.get("api_version") != options.api_version:
        raise _Fallback("the snapshot was taken with another Stripe API version")
    if now - float(meta.get("fetched_at", 0)) > MAX_AGE_SECONDS:
        raise _Fallback(
            f"the snapshot is older than {MAX_AGE_DAYS} days (Stripe keeps events for "
            f"{EVENTS_KEPT_DAYS}, and billdrift keeps a day in hand)"
        )
    generation = meta.get("generation", "").encode()
    for table in (subscriptions, items):
        if (table.schema.metadata or {}).get(b"billdrift_generation") != generation:
            raise _Fallback("the snapshot's files do not belong together")
    skips = [Skip(**entry) for entry in meta.get("skips", [])]
    return Snapshot(
        meta, canonical_refs(subscriptions, BILLING_SUBSCRIPTIONS), items.cast(BILLING_ITEMS), skips
    )


def _save(
    path: Path, result: SyncResult, options: StripeApiConfig, started: float, notes: list[str]
) -> None:
    """Write the snapshot atomically (a new directory, then a rename); a failure is a note."""
    import pyarrow.parquet as pq  # see load()

    generation = uuid.uuid4().hex
    staging = path.with_name(f"{path.name}.{generation}.tmp")
    try:
        staging.mkdir(mode=PRIVATE_DIRECTORY)
        tagged = {b"billdrift_generation": generation.encode()}
        pq.write_table(
            result.subscriptions.replace_schema_metadata(tagged), staging / "subscriptions.parquet"
        )
        pq.write_table(result.items.replace_schema_metadata(tagged), staging / "items.parquet")
        meta = {
            "format": FORMAT,
            "generation": generation,
            "api_version": options.api_version,
            "fetched_at": int(started),
            "subscriptions": result.subscriptions.num_rows,
            "skips": [skip.__dict__ for skip in result.skips],
        }
        (staging / "meta.json").write_bytes(orjson.dumps(meta))
        private_tree(staging)  # before it takes the snapshot's name
        old = path.with_name(f"{path.name}.{generation}.old")
        if path.exists():
            os.replace(path, old)
        os.replace(staging, path)
        shutil.rmtree(old, ignore_errors=True)
    except (OSError, NotPrivateError) as error:
        shutil.rmtree(staging, ignore_errors=True)
        why = error.strerror if isinstance(error, OSError) else str(error)
        notes.append(
            f"could not save the Stripe snapshot in {path} ({why}); the next run "
            "will fetch everything again"
        )
