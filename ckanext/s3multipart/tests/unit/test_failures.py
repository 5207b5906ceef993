"""CKAN's and S3's errors as one line: the operator's commands, the publisher's client and
the browser (errors.js) say the same."""
from __future__ import annotations

import pytest

from ckanext.s3multipart import failures

from ..devsupport import in_node

CKAN_ERRORS = [
    {"__type": "Authorization Error", "message": "Access denied: Log in first"},
    {"__type": "Validation Error", "size": ["Must be 0 or more"]},
    {"__type": "Validation Error", "key": ["Key 'x' is not inside dataset 'd'"],
     "parts": ["Give the uploaded parts as a list"]},
    {"__type": "Validation Error", "resources": [{}, {"s3_key": ["No object 'k' in bucket"]}]},
    {"__type": "Validation Error", "name": "That URL is already in use."},
    {"__type": "Validation Error"},
    {},
]


def test_the_browser_describes_ckans_errors_as_the_client_does():
    browser = in_node("errors.js", "return input.map((e) => m.ckanError(e))", CKAN_ERRORS)
    assert browser == [failures.ckan_error(e) for e in CKAN_ERRORS]
    assert browser[3] == "s3_key: No object 'k' in bucket"
    assert browser[5:] == ["Validation Error", "unknown error"]


@pytest.mark.parametrize("answer, said", [
    ((503, "SlowDown", "Please reduce your request rate."),
     "S3 answered 503 SlowDown: Please reduce your request rate."),
    ((403, "AccessDenied", ""), "S3 answered 403 AccessDenied"),
    ((500, "", ""), "S3 answered 500"),
])
def test_the_browser_describes_s3s_errors_as_the_client_does(answer, said):
    assert failures.s3_error(*answer) == said
    assert in_node("errors.js", "return m.s3Error(...input)", list(answer)) == said
