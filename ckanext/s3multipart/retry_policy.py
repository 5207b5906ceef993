"""When a request to S3 is tried again, and how often: the one policy of the server, the
publisher's client and the browser (assets/src/retry.js reads the same
retry_policy.json). No CKAN import: the publisher's client uses it without CKAN.

A part's PUT is tried `ATTEMPTS` times in all, waiting `backoff` between tries; a
request refused because its credentials or presigned URL expired gets fresh ones instead
of a wait (the browser at most `REFRESHES` times besides its `ATTEMPTS`; the publisher's
client counts each new URL among its `ATTEMPTS`). The server tries its own S3 calls
`SERVER_ATTEMPTS` times: they run inside a web request, which holds a worker while it waits.
boto3 clients (the server, the client's STS mode) retry through botocore's standard mode
with these counts; its list of retryable errors covers `STATUSES` and `CODES` but 408 and
429, statuses S3 does not answer (it says RequestTimeout with 400 and SlowDown with 503).
"""
from __future__ import annotations

import json
import pathlib
import random
from typing import Any

_POLICY = json.loads(pathlib.Path(__file__).with_name("retry_policy.json").read_text())

ATTEMPTS: int = _POLICY["attempts"]
SERVER_ATTEMPTS: int = _POLICY["server_attempts"]
REFRESHES: int = _POLICY["refreshes"]
STATUSES: frozenset[int] = frozenset(_POLICY["statuses"])
CODES: frozenset[str] = frozenset(_POLICY["codes"])
REFRESH_CODES: frozenset[str] = frozenset(_POLICY["refresh_codes"])
# The store refused a part whose bytes are not those its Content-MD5 names (BadDigest), or
# not those the request's signature covers (XAmzContentSHA256Mismatch: boto3 signs the
# payload's SHA-256 over plain HTTP): read the part again and send it again, `ATTEMPTS`
# times; a part that keeps failing means the file changed on disk or the disk (or memory)
# is failing.
DIGEST_CODES: frozenset[str] = frozenset(_POLICY["digest_codes"])
_BASE: float = _POLICY["backoff_base_seconds"]
_CAP: float = _POLICY["backoff_cap_seconds"]


def backoff(retry: int) -> float:
    """Seconds to wait before retry number `retry` (1-based): exponential with full
    jitter (AWS's recommendation), capped; the browser's `backoffDelay` is the same."""
    return random.uniform(0, min(_CAP, _BASE * 2 ** (retry - 1)))


def retryable(status: int, code: str = "") -> bool:
    """Whether a request S3 answered with `status` (and error `code`) is worth another try."""
    return status in STATUSES or code in CODES


def digest_refused(code: str) -> bool:
    """Whether S3 refused a part's bytes as not those its Content-MD5 names."""
    return code in DIGEST_CODES


def needs_refresh(status: int, code: str = "", message: str = "") -> bool:
    """Whether the credentials or presigned URL expired: fresh ones, then the request again.
    S3 says "Request has expired" with a 403; Ceph RGW answers a bare 403 AccessDenied to
    an expired URL and to an expired session token alike. The browser's `classify` is
    the same."""
    return code in REFRESH_CODES or status == 403 and (
        code == "AccessDenied" or "expired" in message.lower())


def botocore_retries(attempts: int = ATTEMPTS) -> dict[str, Any]:
    """`retries` for a botocore Config: standard mode, `attempts` tries in all."""
    return {"mode": "standard", "max_attempts": attempts}
