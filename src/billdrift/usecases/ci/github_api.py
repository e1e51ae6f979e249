"""The few GitHub REST API calls the action makes, with the job's token.

GitHub Actions hands every job ``GITHUB_API_URL``, ``GITHUB_REPOSITORY`` and (to the
action, as an input) a token; tests point ``api_url`` at a local fake. Each request
ends by a deadline (:mod:`billdrift.infra.http`). Redirects are followed only where
GitHub sends one (an artifact's archive lives on blob storage): httpx drops the
``Authorization`` header when a redirect leaves the API's origin, so the token never
goes there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import httpx

from billdrift.errors import BilldriftError
from billdrift.infra.http import Client, deadline

#: Seconds one request may take, connect to last byte.
REQUEST_SECONDS: Final = 60.0
#: Items per page GitHub allows at most.
PAGE: Final = 100
#: Pages read at most when listing (100 x 100 comments or artifacts is plenty).
MAX_PAGES: Final = 100


class GitHubError(BilldriftError):
    """GitHub's API refused or failed a request (the message says which and why)."""


@dataclass
class GitHubApi:
    """A client for one repository's REST API."""

    api_url: str
    repository: str
    token: str

    def __post_init__(self) -> None:
        if not self.token:
            raise GitHubError("no GitHub token: pass the action's github-token input")
        self._http = Client(
            base_url=self.api_url.rstrip("/"),
            headers={
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "billdrift-action",
            },
            timeout=REQUEST_SECONDS,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GitHubApi:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(
        self, method: str, path: str, *, follow: bool = False, **kwargs: Any
    ) -> httpx.Response:
        """One request; any answer but 2xx is a :class:`GitHubError` naming the status
        and GitHub's message (the token is never in it)."""
        try:
            with deadline(REQUEST_SECONDS):
                response = self._http.request(method, path, follow_redirects=follow, **kwargs)
        except httpx.HTTPError as error:
            raise GitHubError(f"GitHub API {method} {path}: {error}") from None
        if not response.is_success:
            try:
                message = str(response.json().get("message", ""))
            except ValueError:
                message = response.text[:200]
            hint = (
                " (does the workflow grant the permission?)"
                if response.status_code
                in (
                    403,
                    404,
                )
                else ""
            )
            raise GitHubError(f"GitHub API {method} {path}: {response.status_code} {message}{hint}")
        return response

    def pages(self, path: str, key: str | None = None, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a paginated listing (`key` names the list in an object answer)."""
        for page in range(1, MAX_PAGES + 1):
            answer = self.request(
                "GET", path, params={**params, "per_page": PAGE, "page": page}
            ).json()
            items = answer.get(key, []) if key is not None else answer
            yield from items
            if len(items) < PAGE:
                return
