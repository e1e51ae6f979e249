"""One page of findings from the history store: filters, sort, offset and limit in;
the page's rows and the total out.

The one function front-ends (the web app's findings page) call to list findings;
the query is SQL over the store (:mod:`billdrift.history.browse`), so a page of a
100,000-finding store costs one indexed statement, not a pass over every finding in
Python. Opens the store as the review commands do: never creating it, waiting a
person's lock timeout at most.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from billdrift.history.browse import Facets, FindingFilter, FindingList, facets, list_findings
from billdrift.usecases.review import open_history

#: Findings per page unless asked otherwise.
PAGE_SIZE = 50


@dataclass(frozen=True)
class FindingsPage:
    listing: FindingList
    facets: Facets
    shown: str  # the store, as messages name it (passwords redacted)


def findings_page(
    location: str, wanted: FindingFilter, offset: int = 0, limit: int = PAGE_SIZE
) -> FindingsPage:
    """The findings `wanted` selects, `limit` of them from `offset`, with the total
    and the values the filters can offer."""
    with open_history(location) as store:
        listing = list_findings(store, wanted, datetime.now(UTC), offset, limit)
        return FindingsPage(listing, facets(store), store.shown)
