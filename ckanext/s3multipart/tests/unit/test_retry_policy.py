"""The retry policy: one file (retry_policy.json) read by the server, the publisher's
client and the browser, which classify the same answers the same way."""
from __future__ import annotations

import pytest

from ckanext.s3multipart import retry_policy

from ..devsupport import in_node

ANSWERS = [
    (503, "SlowDown", "Please reduce your request rate."),
    (500, "InternalError", ""),
    (408, "", ""),
    (429, "", ""),
    (400, "RequestTimeout", "Your socket connection to the server was not read from"),
    (403, "RequestTimeTooSkewed", "The difference between the request time and now is large"),
    (400, "ExpiredToken", "The provided token has expired."),
    (403, "AccessDenied", "Request has expired"),
    (403, "AccessDenied", ""),
    (403, "SignatureDoesNotMatch", "The request signature we calculated does not match"),
    (404, "NoSuchUpload", "The specified upload does not exist."),
    (400, "InvalidPart", ""),
    (400, "EntityTooSmall", ""),
]


def python_kind(status: int, code: str, message: str) -> str:
    if retry_policy.needs_refresh(status, code, message):
        return "refresh"
    return "retry" if retry_policy.retryable(status, code) else "fatal"


def test_the_browser_and_the_client_classify_every_answer_alike():
    browser = in_node("retry.js", "return input.map(([status, code, message]) =>"
                      " m.classify({ status, code, message }))", ANSWERS)
    assert browser == [python_kind(*answer) for answer in ANSWERS]
    assert browser[:6] == ["retry"] * 6 and browser[6:9] == ["refresh"] * 3
    assert set(browser[9:]) == {"fatal"}


def test_the_browser_tries_as_often_and_waits_as_long():
    js = in_node("retry.js", "return input.map((n) =>"
                 " m.backoffDelay(n - 1, { random: () => 1 }) / 1000)", list(range(1, 12)))
    ceilings = [min(20.0, 0.5 * 2 ** (n - 1)) for n in range(1, 12)]
    assert js == ceilings
    for n, ceiling in enumerate(ceilings, start=1):
        assert all(0 <= retry_policy.backoff(n) <= ceiling for _ in range(50))


def test_a_retry_after_many_failures_waits_at_most_the_cap():
    assert max(retry_policy.backoff(40) for _ in range(200)) <= 20.0


@pytest.mark.parametrize("attempts", [retry_policy.ATTEMPTS, retry_policy.SERVER_ATTEMPTS])
def test_boto3_clients_try_as_often(attempts):
    assert retry_policy.botocore_retries(attempts) == {"mode": "standard",
                                                       "max_attempts": attempts}


def test_the_browser_gives_up_after_the_policys_attempts():
    tries = in_node("retry.js", "let n = 0;"
                    " return m.withRetry(async () => { n += 1; throw Object.assign("
                    "new Error('busy'), { status: 503 }) }, { wait: async () => {} })"
                    ".catch(() => n)", None)
    assert tries == retry_policy.ATTEMPTS
