"""CKAN's action API over plain HTTP, with CKAN's errors turned into one readable line."""
from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ..failures import ckan_error

TIMEOUT = (10, 120)


class ApiError(Exception):
    """CKAN refused an action (`str()` says so with the server's message), or CKAN could
    not be asked at all (status 0, or an answer that is not CKAN's)."""

    def __init__(self, action: str, status: int, error: dict[str, Any],
                 refused: bool = True) -> None:
        self.action, self.status, self.error, self.refused = action, status, error, refused
        message = ckan_error(error)
        if refused and status in (401, 403) and "log in" in message.lower():
            # CKAN treats an unknown token as no token at all.
            message += " (is the API token valid for this site?)"
        super().__init__(f"CKAN refused {action}: {message}" if refused else message)


class Ckan:
    """One CKAN site, called with an API token."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.http = requests.Session()
        self.http.headers["User-Agent"] = "ckanext-s3multipart client"
        # Only failed connections are retried: an action that reached CKAN may have acted.
        retry = Retry(total=3, connect=3, read=0, status=0, backoff_factor=0.5)
        self.http.mount("http://", HTTPAdapter(max_retries=retry))
        self.http.mount("https://", HTTPAdapter(max_retries=retry))

    def call(self, action: str, **data: Any) -> Any:
        try:
            answer = self.http.post(f"{self.url}/api/3/action/{action}", json=data,
                                    headers={"Authorization": self.token}, timeout=TIMEOUT)
        except requests.RequestException as e:
            raise ApiError(action, 0, {"message": f"cannot reach CKAN at {self.url} "
                                                  f"({type(e).__name__})"},
                           refused=False) from None
        try:
            body = answer.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "success" not in body:
            raise ApiError(action, answer.status_code, {"message": (
                f"{self.url} answered {answer.status_code} to {action} without CKAN's JSON; "
                "is --ckan-url the site's root URL?")}, refused=False)
        if not body["success"]:
            raise ApiError(action, answer.status_code, body.get("error") or {})
        return body["result"]

    def same_site(self, url: str) -> bool:
        """True if `url` is on this CKAN site (the token may be sent there)."""
        base = requests.utils.urlparse(self.url)
        other = requests.utils.urlparse(url)
        return (other.scheme, other.netloc) == (base.scheme, base.netloc)
